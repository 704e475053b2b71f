//! A real nats-server with JetStream for one test: its own loopback port and store directory,
//! stopped and restarted on the same port and store so that streams outlive a restart.
//!
//! The binary is `$MYBNB_NATS_SERVER`, else `nats-server` on `PATH`, else
//! `/usr/sbin/nats-server` (`scripts/ensure-nats-server` installs Debian's). Without one, a
//! test fails saying how to install it, or is skipped loudly when `MYBNB_SKIP_EXTERNAL=1`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// How long a server may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// How long a stopping server may take to shut down cleanly before it is killed.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// Attempts to start on the same port again while its last owner lets go of it.
const RESTART_ATTEMPTS: u32 = 50;
const RESTART_PAUSE: Duration = Duration::from_millis(100);

/// Log lines kept to explain a server that would not start.
const LOG_TAIL: usize = 40;

const FALLBACK_BINARY: &str = "/usr/sbin/nats-server";

/// A running nats-server (or one stopped by [`NatsServer::stop`]); killed when dropped.
pub struct NatsServer {
    binary: PathBuf,
    /// Extra arguments, kept across restarts (e.g. credentials clients must give).
    arguments: Vec<String>,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free 127.0.0.1 port and returns once it accepts
    /// connections. `None` only when there is no nats-server and `MYBNB_SKIP_EXTERNAL=1` (a
    /// `SKIPPED:` line says so); without it a missing server is a failure.
    pub async fn start() -> Option<NatsServer> {
        NatsServer::start_with(&[]).await
    }

    /// [`NatsServer::start`] with more of nats-server's arguments, such as
    /// `["--user", "alice", "--pass", "secret"]`.
    pub async fn start_with(arguments: &[&str]) -> Option<NatsServer> {
        let arguments: Vec<String> = arguments
            .iter()
            .map(|&argument| argument.to_owned())
            .collect();
        let Some(binary) = find_binary() else {
            return skip_or_fail();
        };
        let store = tempfile::Builder::new()
            .prefix("mybnb-nats-")
            .tempdir()
            .unwrap_or_else(|error| panic!("a store directory for nats-server: {error}"));
        // Port -1: the server picks a free port itself, so no other process can take it between
        // our choosing it and the server binding it.
        let (child, port) = launch(&binary, &arguments, store.path(), None)
            .await
            .unwrap_or_else(|error| panic!("starting {}: {error:#}", binary.display()));
        Some(NatsServer {
            binary,
            arguments,
            port,
            store,
            child: Some(child),
        })
    }

    /// `nats://127.0.0.1:<port>`, the same across restarts.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the server keeps its streams.
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// Shuts the server down (cleanly, so that it writes its state; killed if it takes too
    /// long) and waits until it has exited. Does nothing if it is stopped already.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
            // Fails only when the process is gone already, which `wait` below sees.
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            if tokio::time::timeout(STOP_WITHIN, child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        // Only fails when it has exited already.
        let _ = child.kill().await;
    }

    /// Stops the server if it runs, then starts it again on the same port with the same store,
    /// and returns once it accepts connections.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut attempt = 1;
        loop {
            match launch(
                &self.binary,
                &self.arguments,
                self.store.path(),
                Some(self.port),
            )
            .await
            {
                Ok((child, _)) => {
                    self.child = Some(child);
                    return;
                }
                // The port may stay taken by the old process's sockets for a moment.
                Err(error)
                    if attempt < RESTART_ATTEMPTS
                        && format!("{error:#}").contains("address already in use") =>
                {
                    attempt += 1;
                    tokio::time::sleep(RESTART_PAUSE).await;
                }
                Err(error) => panic!(
                    "restarting {} on port {}: {error:#}",
                    self.binary.display(),
                    self.port
                ),
            }
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // Fails only when it has exited already; `kill_on_drop` reaps it.
            let _ = child.start_kill();
        }
    }
}

/// `$MYBNB_NATS_SERVER`, else `nats-server` on `PATH`, else Debian's path; `None` if none is
/// a file.
fn find_binary() -> Option<PathBuf> {
    if let Some(configured) = std::env::var_os("MYBNB_NATS_SERVER") {
        let configured = PathBuf::from(configured);
        return configured.is_file().then_some(configured);
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|directory| directory.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let fallback = PathBuf::from(FALLBACK_BINARY);
        fallback.is_file().then_some(fallback)
    })
}

fn skip_or_fail() -> Option<NatsServer> {
    let test = crate::current_test();
    let looked_at = match std::env::var_os("MYBNB_NATS_SERVER") {
        Some(configured) => format!(
            "$MYBNB_NATS_SERVER ({})",
            PathBuf::from(configured).display()
        ),
        None => format!("nats-server on PATH, {FALLBACK_BINARY}"),
    };
    crate::skip_or_fail(
        &format!(
            "SKIPPED: {test} needs a nats-server with JetStream, and none was found \
             (looked at {looked_at}); MYBNB_SKIP_EXTERNAL=1 lets it pass untested"
        ),
        &format!(
            "{test} needs a nats-server with JetStream, and none was found (looked at \
             {looked_at}). Install it with `scripts/ensure-nats-server`, point MYBNB_NATS_SERVER at \
             a binary, or set MYBNB_SKIP_EXTERNAL=1 to skip such tests"
        ),
    )
}

/// Starts `binary` with JetStream in `store` on `port` (a free one when `None`); returns the
/// child and its port once the server says it is ready.
async fn launch(
    binary: &Path,
    arguments: &[String],
    store: &Path,
    port: Option<u16>,
) -> anyhow::Result<(Child, u16)> {
    let port_argument = port.map_or_else(|| "-1".to_owned(), |port| port.to_string());
    let mut child = Command::new(binary)
        .args(["--jetstream", "--addr", "127.0.0.1", "--port"])
        .arg(&port_argument)
        .arg("--store_dir")
        .arg(store)
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("spawning nats-server")?;
    let stderr = child
        .stderr
        .take()
        .context("nats-server's log is not piped")?;

    // The log is read to its end (else the server would block on a full pipe); its readiness
    // line and its port are passed on, and its last lines kept to explain a failure.
    let (ready_tx, mut ready_rx) = watch::channel(None::<u16>);
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL)));
    let kept = tail.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut listening = None;
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(address) = line.split("Listening for client connections on ").nth(1) {
                listening = address
                    .trim()
                    .rsplit(':')
                    .next()
                    .and_then(|port| port.parse().ok());
            }
            if line.contains("Server is ready") {
                let _ = ready_tx.send(listening);
            }
            if let Ok(mut kept) = kept.lock() {
                if kept.len() == LOG_TAIL {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        }
    });

    let outcome = tokio::time::timeout(READY_WITHIN, async {
        tokio::select! {
            ready = ready_rx.wait_for(Option::is_some) => {
                ready.ok().and_then(|port| *port).context("nats-server stopped logging")
            }
            status = child.wait() => match status {
                Ok(status) => Err(anyhow::anyhow!("nats-server exited ({status})")),
                Err(error) => Err(anyhow::Error::new(error).context("waiting for nats-server")),
            },
        }
    })
    .await;
    let failure = match outcome {
        Ok(Ok(ready_port)) => return Ok((child, ready_port)),
        Ok(Err(error)) => error,
        Err(_) => anyhow::anyhow!("nats-server was not ready within {READY_WITHIN:?}"),
    };
    let _ = child.kill().await;
    let log = tail
        .lock()
        .map(|lines| lines.iter().cloned().collect::<Vec<_>>().join("\n"))
        .unwrap_or_default();
    bail!("{failure:#}; its log ends:\n{log}")
}
