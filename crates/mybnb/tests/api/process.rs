//! The real `mybnb` binary as a child process, for what only a process can undergo: being
//! killed mid-request.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::helpers::ApiClient;
use crate::storage::Storage;

/// How long a started process may take to become ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A running `mybnb serve`, killed when dropped; speaks its API through `Deref`.
pub struct MybnbProcess {
    child: Child,
    api: ApiClient,
    log: PathBuf,
    /// Kept for as long as the process may use it.
    _storage: Arc<Storage>,
}

impl Deref for MybnbProcess {
    type Target = ApiClient;

    fn deref(&self) -> &ApiClient {
        &self.api
    }
}

/// A port nothing listens on at the moment, never handed out before.
fn free_port() -> u16 {
    mybnb::topology::free_port().expect("a free port")
}

impl MybnbProcess {
    /// Starts `mybnb serve` on `storage` and its secrets, on a free port, with none of this
    /// process's `MYBNB_*` variables but those in `variables`; waits until it is ready.
    pub async fn start(storage: &Arc<Storage>, variables: &[(&str, &str)]) -> MybnbProcess {
        let address = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = storage
            .data_dir()
            .join(format!("mybnb-{}.log", Uuid::new_v4().simple()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_mybnb"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("MYBNB_") {
                command.env_remove(name);
            }
        }
        command
            .args(["serve", "--listen", &address.to_string(), "--data-dir"])
            .arg(storage.data_dir())
            .env("RUST_LOG", "info")
            .env("MYBNB_JWT_SECRET", &storage.jwt_secret)
            .env("MYBNB_SERVICE_TOKEN", &storage.service_token)
            .envs(variables.iter().copied());
        if let Some(url) = storage.database_url() {
            command.env("MYBNB_DATABASE_URL", url.expose_secret());
        }
        if let Some(url) = storage.nats_url() {
            command.env("MYBNB_NATS_URL", url);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("mybnb starts");
        let mut process = MybnbProcess {
            child,
            api: ApiClient::new(address, storage),
            log,
            _storage: storage.clone(),
        };
        process.wait_until_ready().await;
        process
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_until_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        let mut poll = tokio::time::interval(Duration::from_millis(20));
        loop {
            poll.tick().await;
            if let Some(exit) = self.child.try_wait().expect("the child's state") {
                panic!("mybnb exited ({exit}) before it was ready:\n{}", self.log());
            }
            if self.api.api.is_ready().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "mybnb was not ready within {READY_WITHIN:?}:\n{}",
                self.log()
            );
        }
    }

    /// SIGKILL: the process gets no chance to finish anything. Returns its log.
    pub fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().expect("the killed process is reaped");
        self.log()
    }
}

impl Drop for MybnbProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the log of mybnb at {}:\n{}", self.address, self.log());
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
