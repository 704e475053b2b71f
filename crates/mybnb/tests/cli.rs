//! The real `mybnb` binary: its help and version, the settings it refuses (exit code 2,
//! nothing created), how its settings layer, and a graceful shutdown with a request in flight.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A bound on anything the binary is waited for: exiting, becoming ready, answering.
const WITHIN: Duration = Duration::from_secs(30);

/// `mybnb` run in `directory`, with none of this process's `MYBNB_*` variables.
fn mybnb(directory: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mybnb"));
    command.current_dir(directory).env("RUST_LOG", "info");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MYBNB_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs a command that must exit by itself within [`WITHIN`]; kills it and fails otherwise.
fn run_to_exit(mut command: Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mybnb starts");
    let pid = child_pid(&child);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output()));
    match receiver.recv_timeout(WITHIN) {
        Ok(output) => output.expect("mybnb's output"),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!("mybnb did not exit within {WITHIN:?}");
        }
    }
}

fn child_pid(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).expect("a pid fits in i32"))
}

/// A port nothing listens on at the moment, never handed out before.
fn free_port() -> u16 {
    mybnb::topology::free_port().expect("a free port")
}

#[test]
fn help_describes_the_serve_command() {
    let directory = TempDir::new().expect("a directory");
    let mut command = mybnb(directory.path());
    command.arg("--help");
    let output = run_to_exit(command);
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("serve"),
        "{output:?}"
    );

    let mut command = mybnb(directory.path());
    command.args(["serve", "--help"]);
    let output = run_to_exit(command);
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--listen", "--data-dir", "--services", "--config"] {
        assert!(help.contains(flag), "serve --help mentions {flag}: {help}");
    }
}

#[test]
fn version_prints_the_version() {
    let directory = TempDir::new().expect("a directory");
    let mut command = mybnb(directory.path());
    command.arg("--version");
    let output = run_to_exit(command);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")), "{stdout}");
}

/// Runs `mybnb` changed by `configure` in an empty directory, with `MYBNB_DATA_DIR` pointing
/// into it: it must exit with code 2, say what is wrong (every piece of `expected`, ignoring
/// case), never print `secret`, and create nothing.
fn assert_refused(
    configure: impl FnOnce(&mut Command, &Path),
    expected: &[&str],
    secret: Option<&str>,
) {
    let directory = TempDir::new().expect("a directory");
    let data_dir = directory.path().join("data");
    let mut command = mybnb(directory.path());
    command.env("MYBNB_DATA_DIR", &data_dir);
    configure(&mut command, directory.path());
    let output = run_to_exit(command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    let message = stderr.to_lowercase();
    for fragment in expected {
        assert!(
            message.contains(&fragment.to_lowercase()),
            "the message names {fragment}: {stderr}"
        );
    }
    if let Some(secret) = secret {
        assert!(
            !stderr.contains(secret),
            "the message does not show the secret: {stderr}"
        );
    }
    assert!(!data_dir.exists(), "the data directory was not created");
    assert!(
        !directory.path().join("mybnb-data").exists(),
        "no default data directory either"
    );
}

const REFUSED: &str = "mybnb: invalid settings:";

#[test]
fn a_listen_address_that_is_no_address_is_refused() {
    assert_refused(
        |command, _| {
            command.args(["serve", "--listen", "nonsense"]);
        },
        &[REFUSED, "listen", "nonsense"],
        None,
    );
}

#[test]
fn an_unknown_service_is_refused() {
    assert_refused(
        |command, _| {
            command.env("MYBNB_SERVICES", "kitchen");
        },
        &[REFUSED, "services", "kitchen"],
        None,
    );
}

#[test]
fn the_gateway_runs_alone() {
    assert_refused(
        |command, _| {
            command.args(["serve", "--services", "gateway,room"]);
        },
        &[REFUSED, "services", "the gateway runs alone"],
        None,
    );
}

#[test]
fn a_gateway_without_instances_to_send_to_is_refused() {
    assert_refused(
        |command, _| {
            command
                .args(["serve", "--services", "gateway"])
                .env("MYBNB_GATEWAY_ROOM_URLS", "http://127.0.0.1:9001")
                .env("MYBNB_JWT_SECRET", "x".repeat(32))
                .env("MYBNB_SERVICE_TOKEN", "y".repeat(32));
        },
        &[REFUSED, "gateway_identity_urls", "identity's instances"],
        None,
    );
}

#[test]
fn a_gateway_upstream_with_a_path_is_refused() {
    assert_refused(
        |command, _| {
            command
                .args(["serve", "--services", "gateway"])
                .env("MYBNB_GATEWAY_IDENTITY_URLS", "http://127.0.0.1:9001/users");
        },
        &[
            REFUSED,
            "gateway_identity_urls",
            "without credentials or a path",
        ],
        None,
    );
}

#[test]
fn a_gateway_needs_the_secrets_it_shares() {
    let urls = "http://127.0.0.1:9001";
    assert_refused(
        |command, _| {
            command.args(["serve", "--services", "gateway"]);
            for service in [
                "IDENTITY",
                "ROOM",
                "BOOKING",
                "PAYMENT",
                "NOTIFICATION",
                "MYPAGE",
                "WEB",
            ] {
                command.env(format!("MYBNB_GATEWAY_{service}_URLS"), urls);
            }
        },
        &[REFUSED, "jwt_secret", "must be set"],
        None,
    );
}

#[test]
fn an_unknown_key_in_the_config_file_is_refused() {
    assert_refused(
        |command, directory| {
            let file = directory.join("mybnb.toml");
            std::fs::write(&file, "listen = \"127.0.0.1:0\"\nbogus_key = 1\n")
                .expect("a config file");
            command.arg("serve").arg("--config").arg(file);
        },
        &[REFUSED, "bogus_key"],
        None,
    );
}

#[test]
fn an_unknown_mybnb_variable_is_refused() {
    assert_refused(
        |command, _| {
            command.env("MYBNB_BOGUS", "1");
        },
        &[REFUSED, "bogus"],
        None,
    );
}

/// SQLite needs no URL; a URL names PostgreSQL. The password in it is never shown.
#[test]
fn a_database_url_that_is_not_postgres_is_refused() {
    assert_refused(
        |command, _| {
            command.env(
                "MYBNB_DATABASE_URL",
                "mysql://mybnb:hunter2-secret@db.internal/mybnb",
            );
        },
        &[REFUSED, "database_url"],
        Some("hunter2-secret"),
    );
}

#[test]
fn a_short_jwt_secret_is_refused() {
    assert_refused(
        |command, _| {
            command.env("MYBNB_JWT_SECRET", "only-27-bytes-of-secret-xyz");
        },
        &[REFUSED, "jwt_secret", "32"],
        Some("only-27-bytes-of-secret-xyz"),
    );
}

#[test]
fn a_missing_config_file_is_refused() {
    assert_refused(
        |command, directory| {
            command
                .arg("serve")
                .arg("--config")
                .arg(directory.join("missing.toml"));
        },
        &[REFUSED, "missing.toml"],
        None,
    );
}

#[test]
fn values_of_the_wrong_type_are_refused() {
    assert_refused(
        |command, _| {
            command.env("MYBNB_TOKEN_TTL_SECS", "soon");
        },
        &[REFUSED, "token_ttl_secs"],
        None,
    );
    assert_refused(
        |command, _| {
            command.env("MYBNB_LOG_FORMAT", "xml");
        },
        &[REFUSED, "log_format"],
        None,
    );
}

#[test]
fn an_unknown_flag_is_refused() {
    assert_refused(
        |command, _| {
            command.args(["serve", "--bogus-flag"]);
        },
        &["--bogus-flag"],
        None,
    );
}

/// A running `mybnb serve`, killed if a test ends before it exits.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
    client: reqwest::Client,
}

impl Server {
    /// Starts `command`, expected to listen on `address`, its log in `log`.
    fn start(mut command: Command, address: SocketAddr, log: PathBuf) -> Server {
        let log_file = std::fs::File::create(&log).expect("a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("mybnb starts");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(WITHIN)
            .build()
            .expect("an HTTP client");
        Server {
            child,
            address,
            log,
            client,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready_status(&self) -> Option<StatusCode> {
        let response = self
            .client
            .get(self.url("/health/ready"))
            .send()
            .await
            .ok()?;
        Some(response.status())
    }

    /// Polls `/health/ready` until it answers `status`; fails if the process exits first.
    async fn wait_for_readiness(&mut self, status: StatusCode) {
        let mut poll = tokio::time::interval(Duration::from_millis(20));
        let waited = tokio::time::timeout(WITHIN, async {
            loop {
                poll.tick().await;
                if let Some(exit) = self.child.try_wait().expect("the child's state") {
                    panic!(
                        "mybnb exited ({exit}) before /health/ready said {status}:\n{}",
                        self.log()
                    );
                }
                if self.ready_status().await == Some(status) {
                    return;
                }
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "/health/ready never said {status}:\n{}",
            self.log()
        );
    }

    fn terminate(&self) {
        kill(child_pid(&self.child), Signal::SIGTERM).expect("SIGTERM is sent");
    }

    async fn wait_for_exit(&mut self) -> ExitStatus {
        let mut poll = tokio::time::interval(Duration::from_millis(20));
        let exited = tokio::time::timeout(WITHIN, async {
            loop {
                poll.tick().await;
                if let Some(status) = self.child.try_wait().expect("the child's state") {
                    return status;
                }
            }
        })
        .await;
        exited.unwrap_or_else(|_| panic!("mybnb did not exit within {WITHIN:?}:\n{}", self.log()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// SIGTERM: readiness turns 503 while the listener stays open for the drain delay; then the
/// listener closes, yet a request already in flight (its body only half sent) is answered in
/// full; then the process exits 0.
#[tokio::test]
async fn sigterm_drains_and_finishes_the_request_in_flight() {
    let directory = TempDir::new().expect("a directory");
    let address = loopback(free_port());
    let mut command = mybnb(directory.path());
    command
        .args(["serve", "--listen", &address.to_string(), "--data-dir"])
        .arg(directory.path().join("data"))
        .env("MYBNB_DRAIN_DELAY_MS", "2000");
    let mut server = Server::start(command, address, directory.path().join("mybnb.log"));
    server.wait_for_readiness(StatusCode::OK).await;

    let body = r#"{"username":"in.flight","password":"correct horse battery"}"#;
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("a connection");
    let head = format!(
        "POST /users HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("the head is sent");
    stream
        .write_all(first_half.as_bytes())
        .await
        .expect("half the body is sent");
    stream.flush().await.expect("flushed");

    server.terminate();
    server
        .wait_for_readiness(StatusCode::SERVICE_UNAVAILABLE)
        .await;
    // After the drain delay the listener closes; the request is still waiting for its body.
    wait_until_refused(address).await;

    stream
        .write_all(second_half.as_bytes())
        .await
        .expect("the rest of the body is sent");
    let mut response = Vec::new();
    tokio::time::timeout(WITHIN, stream.read_to_end(&mut response))
        .await
        .expect("the response arrives in time")
        .expect("the response is read");
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the request in flight was served:\n{response}\n{}",
        server.log()
    );
    assert!(response.contains(r#""username":"in.flight""#), "{response}");

    let status = server.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "exit status:\n{}", server.log());
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "new connections are refused once it has stopped"
    );
}

/// Polls until nothing accepts connections on `address` any more.
async fn wait_until_refused(address: SocketAddr) {
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    let refused = tokio::time::timeout(WITHIN, async {
        loop {
            poll.tick().await;
            if tokio::net::TcpStream::connect(address).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(refused.is_ok(), "the listener on {address} never closed");
}

/// With no subcommand, `mybnb` serves with the defaults: here its data lands in
/// `./mybnb-data`, a SQLite file per context and an owner-only token secret.
#[tokio::test]
async fn no_subcommand_serves_with_the_default_data_directory() {
    let directory = TempDir::new().expect("a directory");
    let address = loopback(free_port());
    let mut command = mybnb(directory.path());
    command.env("MYBNB_LISTEN", address.to_string());
    let mut server = Server::start(command, address, directory.path().join("mybnb.log"));
    server.wait_for_readiness(StatusCode::OK).await;

    let data_dir = directory.path().join("mybnb-data");
    for file in ["identity.db", "room.db", "jwt-secret"] {
        assert!(data_dir.join(file).is_file(), "{file} in ./mybnb-data");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data_dir.join("jwt-secret"))
        .expect("the secret")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the secret is readable by its owner only: {mode:o}"
    );

    server.terminate();
    assert_eq!(
        server.wait_for_exit().await.code(),
        Some(0),
        "{}",
        server.log()
    );
}

/// Flags beat variables, variables beat the file, the file beats the defaults.
#[tokio::test]
async fn flags_beat_variables_which_beat_the_config_file() {
    let directory = TempDir::new().expect("a directory");
    let [from_file, from_variable, from_flag] =
        [free_port(), free_port(), free_port()].map(loopback);
    let file_data_dir = directory.path().join("data-from-file");
    let config = directory.path().join("mybnb.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{from_file}\"\ndata_dir = {:?}\nservices = \"room\"\n",
            file_data_dir
        ),
    )
    .expect("a config file");
    let mut command = mybnb(directory.path());
    command
        .args(["serve", "--listen", &from_flag.to_string(), "--config"])
        .arg(&config)
        .env("MYBNB_LISTEN", from_variable.to_string())
        .env("MYBNB_SERVICES", "identity,room");
    let mut server = Server::start(command, from_flag, directory.path().join("mybnb.log"));
    server.wait_for_readiness(StatusCode::OK).await;

    for unused in [from_file, from_variable] {
        assert!(
            tokio::net::TcpStream::connect(unused).await.is_err(),
            "nothing listens on {unused}"
        );
    }
    assert!(
        file_data_dir.join("room.db").is_file(),
        "data_dir comes from the file"
    );
    let report: serde_json::Value = server
        .client
        .get(server.url("/health/ready"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("a report");
    let mut checked: Vec<&String> = report["checks"]
        .as_object()
        .expect("checks")
        .keys()
        .collect();
    checked.sort();
    // The two services' databases, and the event log room's outbox is relayed to.
    assert_eq!(
        checked,
        ["events.database", "identity.database", "room.database"],
        "services come from the variable"
    );

    server.terminate();
    assert_eq!(
        server.wait_for_exit().await.code(),
        Some(0),
        "{}",
        server.log()
    );
}

#[test]
fn an_smtp_url_that_is_not_smtp_is_refused_without_showing_it() {
    assert_refused(
        |command, _| {
            command.env(
                "MYBNB_SMTP_URL",
                "http://mailer:hunter2-secret@mail.example",
            );
        },
        &[REFUSED, "smtp_url", "smtp://"],
        Some("hunter2-secret"),
    );
}

#[test]
fn a_nats_url_that_is_not_nats_is_refused_without_showing_it() {
    assert_refused(
        |command, _| {
            command.env(
                "MYBNB_NATS_URL",
                "postgres://bus:hunter2-secret@nats.example",
            );
        },
        &[REFUSED, "nats_url", "nats://"],
        Some("hunter2-secret"),
    );
}

/// `mybnb replay mypage` rebuilds my page from the event history in the data directory and
/// says how many events it applied; on a fresh directory, none.
#[test]
fn replay_rebuilds_my_page_from_the_history_in_the_data_directory() {
    let directory = TempDir::new().expect("a directory");
    let mut command = mybnb(directory.path());
    command.args(["replay", "mypage", "--data-dir", "data"]);
    let output = run_to_exit(command);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "exit code; stderr: {stderr}");
    assert_eq!(stdout.trim(), "replayed 0 events");
    assert!(directory.path().join("data/mypage.db").exists());
    assert!(directory.path().join("data/events.db").exists());
}

#[test]
fn replay_knows_only_its_read_models() {
    let directory = TempDir::new().expect("a directory");
    let mut command = mybnb(directory.path());
    command.args(["replay", "payments"]);
    let output = run_to_exit(command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(
        stderr.contains("mypage"),
        "the message names the read models: {stderr}"
    );
}

/// A process whose database is unreachable still stops on SIGTERM: what waits for the
/// database (relays, subscribers, the reconciler) gives up waiting, and it exits 0.
#[tokio::test]
async fn sigterm_stops_a_process_whose_database_never_came() {
    let directory = TempDir::new().expect("a directory");
    let address = loopback(free_port());
    let mut command = mybnb(directory.path());
    command
        .args(["serve", "--listen", &address.to_string(), "--data-dir"])
        .arg(directory.path().join("data"))
        .env(
            "MYBNB_DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{}/nowhere", free_port()),
        );
    let mut server = Server::start(command, address, directory.path().join("mybnb.log"));
    server
        .wait_for_readiness(StatusCode::SERVICE_UNAVAILABLE)
        .await;
    server.terminate();
    let status = server.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "exit status:\n{}", server.log());
}
