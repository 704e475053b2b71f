//! The system under test: the real `mybnb` binary, started on a free port and a fresh data
//! directory, seeded with a host, rooms and guests.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::api::Api;

pub struct Server {
    child: Child,
    data_dir: tempfile::TempDir,
    pub base_url: String,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start(mybnb: &Path, settings: &[(&str, String)]) -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let port = mybnb::topology::free_port()?;
        let mut command = Command::new(mybnb);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir.path())
            .env("RUST_LOG", "warn")
            .env("MYBNB_AUTH_RATE_LIMIT_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(
                data_dir.path().join("server.log"),
            )?))
            .kill_on_drop(true);
        for (key, value) in settings {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| {
            format!(
                "starting {} (build it with cargo build --release)",
                mybnb.display()
            )
        })?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .timeout(Duration::from_secs(10))
            .build()?;
        let server = Server {
            child,
            data_dir,
            base_url: format!("http://127.0.0.1:{port}"),
            client,
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        for _ in 0..300 {
            let ready = self.client.get(self.url("/health/ready")).send().await;
            if ready.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("mybnb did not become ready within 30 s")
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Where the server keeps its databases (`<context>.db`, `events.db`).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The API this server answers.
    pub fn api(&self) -> Api {
        Api {
            base_url: self.base_url.clone(),
            client: self.client.clone(),
        }
    }

    /// Signs up a user and returns their access token.
    pub async fn user(&self, username: &str) -> anyhow::Result<String> {
        self.api().user(username).await
    }

    /// Registers `count` rooms as one host and returns their ids.
    pub async fn rooms(&self, host_token: &str, count: usize) -> anyhow::Result<Vec<String>> {
        self.api().rooms(host_token, count).await
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            // SIGTERM, as an operator would; the server drains and exits 0.
            let status = Command::new("kill").arg(pid.to_string()).status().await?;
            if !status.success() {
                bail!("could not signal mybnb");
            }
        }
        let exit = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await??;
        if !exit.success() {
            bail!("mybnb exited with {exit}");
        }
        Ok(())
    }
}
