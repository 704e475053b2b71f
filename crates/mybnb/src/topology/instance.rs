//! One `mybnb serve` process of a topology: started, awaited until ready, stopped by signal.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use mybnb_platform::private::{FILE_MODE, private_dir};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::services::Service;

/// How to start an instance.
pub(super) struct Launch<'a> {
    pub(super) binary: &'a Path,
    pub(super) service: Service,
    pub(super) port: u16,
    pub(super) data_dir: PathBuf,
    pub(super) env: &'a [(String, String)],
}

/// A running instance.
pub struct Running {
    pub service: Service,
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl Running {
    pub(super) fn spawn(launch: Launch<'_>) -> anyhow::Result<Running> {
        private_dir(&launch.data_dir)
            .with_context(|| format!("creating {}", launch.data_dir.display()))?;
        let log = launch.data_dir.join("mybnb.log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(FILE_MODE)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let mut command = Command::new(launch.binary);
        command
            .arg("serve")
            .env("MYBNB_SERVICES", launch.service.name())
            .env("MYBNB_LISTEN", format!("127.0.0.1:{}", launch.port))
            .env("MYBNB_DATA_DIR", &launch.data_dir)
            .envs(launch.env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", launch.binary.display()))?;
        Ok(Running {
            service: launch.service,
            port: launch.port,
            child,
            log,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Resolves once `/health/ready` answers 200; fails if the process exits first or is not
    /// ready within `limit`.
    pub(super) async fn ready(
        &mut self,
        client: &reqwest::Client,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let url = format!("{}/health/ready", self.url());
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "{} on port {} exited ({status}); its log: {}",
                    self.service,
                    self.port,
                    self.log.display()
                );
            }
            let ready = client
                .get(&url)
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!(
                    "{} on port {} was not ready within {} s; its log: {}",
                    self.service,
                    self.port,
                    limit.as_secs(),
                    self.log.display()
                );
            }
            // Readiness is only told by asking; ask again shortly.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, as Kubernetes stops a pod: the instance drains, then exits. Killed if it has
    /// not exited within `grace`.
    pub async fn terminate(mut self, grace: Duration) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let pid = Pid::from_raw(i32::try_from(pid).context("a process id out of range")?);
            // It may have exited already; waiting below tells.
            let _ = kill(pid, Signal::SIGTERM);
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => {
                status?;
                Ok(())
            }
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!(
                    "{} on port {} did not stop within {} s and was killed",
                    self.service,
                    self.port,
                    grace.as_secs()
                )
            }
        }
    }

    /// SIGKILL: the instance vanishes mid-work, as in a crash.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Resolves when the process exits by itself.
    pub(super) async fn exited(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait().await
    }
}
