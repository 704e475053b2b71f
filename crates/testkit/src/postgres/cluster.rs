//! The throwaway PostgreSQL cluster that the tests of one process share when
//! `MYBNB_TEST_DATABASE_URL` names no server: made by `initdb` in a temporary directory, served
//! by `postgres` on a free 127.0.0.1 port with its socket in that directory, started by the
//! first test that asks for it and gone with the test process.
//!
//! How it goes with the process: the cluster lives in a static, which is never dropped, and a
//! test process may also end by a signal or an abort, so no destructor could stop it. Nor does
//! `PR_SET_PDEATHSIG`: it fires when the spawning *thread* ends (a test's, long before the
//! process) and would not remove the directory. So the server is the child of a small `sh`
//! watchdog ([`WATCHDOG`]) whose stdin is a pipe that only this process holds open and never
//! writes. The kernel closes it when this process ends, however it ends; the watchdog then
//! stops the server (fast shutdown) and removes the directory. The watchdog runs in a process
//! group of its own, so that Ctrl-C in a terminal, which signals the whole foreground group,
//! stops the tests but not the watchdog before it has cleaned up.
//!
//! PostgreSQL refuses to run as root; as root, the watchdog and the server run as the
//! `postgres` user (Debian's package makes it), else as `nobody`, who then owns the directory.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use nix::unistd::User;

/// How long `initdb` and the server's start may take together (a loaded machine is slow).
const READY_WITHIN: Duration = Duration::from_secs(90);

/// Starts tried when the free port chosen was taken before the server bound it.
const START_ATTEMPTS: u32 = 3;

/// The line the server logs once it accepts connections (`lc_messages` is C: in English).
const READY_LINE: &str = "database system is ready to accept connections";

/// Log lines kept to explain a server that would not start.
const LOG_TAIL: usize = 40;

/// Where Debian installs each major version's programs (`<version>/bin`), not on `PATH`.
const DEBIAN_VERSIONS: &str = "/usr/lib/postgresql";

/// Creates the cluster and serves it until its stdin ends or the server stops; then removes the
/// directory. Arguments: the directory, `initdb`, `postgres`, the port. Everything it and the
/// server log goes to its stderr. fsync is off: the data is thrown away. The connections allowed
/// are twice PostgreSQL's default, for tests that run many applications at once. (An
/// asynchronous command's stdin is /dev/null, so the lifeline reaches `cat` as fd 3.)
const WATCHDOG: &str = r#"
set -u
directory=$1 initdb=$2 postgres=$3 port=$4
exec 3<&0 1>&2
if ! "$initdb" --pgdata="$directory/data" --username=postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >/dev/null; then
  rm -rf "$directory"
  exit 1
fi
"$postgres" -D "$directory/data" -p "$port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories="$directory" -c fsync=off -c synchronous_commit=off \
  -c full_page_writes=off -c max_connections=200 3<&- &
server=$!
{ cat <&3 >/dev/null; kill -INT "$server"; } >/dev/null 2>&1 &
watcher=$!
exec 3<&-
wait "$server"
status=$?
kill "$watcher" 2>/dev/null
rm -rf "$directory"
exit "$status"
"#;

/// A running cluster, for as long as this process lives.
pub(super) struct Cluster {
    port: u16,
    directory: PathBuf,
    /// Never waited for: it ends only after this process has.
    _watchdog: Child,
    /// The write end of the watchdog's stdin, never written: see the module's documentation.
    _lifeline: ChildStdin,
}

impl Cluster {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub(super) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// This process's cluster, started on first use (blocking until it is ready); or why there is
/// none, which every later call answers too rather than trying again.
pub(super) fn shared() -> Result<&'static Cluster, &'static str> {
    SHARED
        .get_or_init(|| start().map_err(|error| format!("{error:#}")))
        .as_ref()
        .map_err(String::as_str)
}

/// Starts a cluster (the shared one, once): finds the programs, chooses the user and
/// retries when another process took the chosen port first.
fn start() -> anyhow::Result<Cluster> {
    let programs = server_programs(&candidate_directories()).with_context(|| {
        format!(
            "PostgreSQL's server programs (initdb, postgres) are neither on PATH nor in \
             {DEBIAN_VERSIONS}/<version>/bin; install them with `scripts/ensure-postgres`, or \
             point MYBNB_TEST_DATABASE_URL at a running server"
        )
    })?;
    let owner = owner()?;
    let mut attempt = 1;
    loop {
        match launch(&programs, owner.as_ref()) {
            Ok(cluster) => {
                // Straight to stderr, past the test harness's capture: which server the tests use.
                let _ = writeln!(
                    std::io::stderr(),
                    "mybnb-testkit: PostgreSQL ({}) for this test process on 127.0.0.1:{}, in {}",
                    programs.display(),
                    cluster.port,
                    cluster.directory.display()
                );
                return Ok(cluster);
            }
            Err(error)
                if attempt < START_ATTEMPTS
                    && format!("{error:#}").contains("Address already in use") =>
            {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The directories that may hold `initdb` and `postgres`: `PATH`'s, then Debian's, newest
/// version first.
fn candidate_directories() -> Vec<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(versioned_directories(Path::new(DEBIAN_VERSIONS)))
        .collect()
}

/// `<root>/<version>/bin` for each version directory in `root`, newest first.
fn versioned_directories(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|left, right| right.0.cmp(&left.0));
    versions.into_iter().map(|(_, bin)| bin).collect()
}

/// The first of `directories` that has both `initdb` and `postgres` (of one version, then).
fn server_programs(directories: &[PathBuf]) -> Option<PathBuf> {
    directories
        .iter()
        .find(|directory| {
            ["initdb", "postgres"]
                .iter()
                .all(|program| directory.join(program).is_file())
        })
        .cloned()
}

/// Whom the server runs as: this process's user (`None`), or, as root, `postgres` or `nobody`.
fn owner() -> anyhow::Result<Option<User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Some(user) =
            User::from_name(name).with_context(|| format!("looking up the user {name}"))?
        {
            return Ok(Some(user));
        }
    }
    bail!(
        "PostgreSQL refuses to run as root, and there is neither a `postgres` nor a `nobody` \
         user to run it as"
    )
}

/// Creates a directory, starts the watchdog in it on a free port and returns once the server
/// accepts connections.
fn launch(programs: &Path, owner: Option<&User>) -> anyhow::Result<Cluster> {
    let directory = tempfile::Builder::new()
        .prefix("mybnb-postgres-")
        .tempdir()
        .context("a directory for PostgreSQL")?
        .keep();
    let spawned = spawn_watchdog(programs, owner, &directory);
    let (mut watchdog, lifeline, log, port) = match spawned {
        Ok(spawned) => spawned,
        Err(error) => {
            // Nothing else will remove it.
            let _ = std::fs::remove_dir_all(&directory);
            return Err(error);
        }
    };
    let (ready, tail) = watch_log(log)?;
    match ready.recv_timeout(READY_WITHIN) {
        Ok(true) => {}
        Ok(false) | Err(RecvTimeoutError::Disconnected) => {
            let status = watchdog
                .wait()
                .context("waiting for PostgreSQL's watchdog")?;
            bail!(
                "PostgreSQL stopped before it was ready ({status}); its log ends:\n{}",
                tail.read()
            )
        }
        Err(RecvTimeoutError::Timeout) => {
            // Cutting the lifeline stops the server and removes the directory.
            drop(lifeline);
            bail!(
                "PostgreSQL was not ready within {READY_WITHIN:?}; its log ends:\n{}",
                tail.read()
            )
        }
    }
    Ok(Cluster {
        port,
        directory,
        _watchdog: watchdog,
        _lifeline: lifeline,
    })
}

/// Starts [`WATCHDOG`] as `owner` (this process's user when `None`) on a port free a moment ago;
/// answers it, its lifeline, its log and the port.
fn spawn_watchdog(
    programs: &Path,
    owner: Option<&User>,
    directory: &Path,
) -> anyhow::Result<(Child, ChildStdin, ChildStderr, u16)> {
    if let Some(owner) = owner {
        std::os::unix::fs::chown(
            directory,
            Some(owner.uid.as_raw()),
            Some(owner.gid.as_raw()),
        )
        .with_context(|| format!("giving {} to {}", directory.display(), owner.name))?;
    }
    // PostgreSQL cannot be told to pick a port itself: take a free one, let go, and retry (in
    // `start`) when another process took it in between.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .context("a free port for PostgreSQL")?
        .port();
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", WATCHDOG, "mybnb-postgres"])
        .arg(directory)
        .arg(programs.join("initdb"))
        .arg(programs.join("postgres"))
        .arg(port.to_string())
        .current_dir(directory)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(owner) = owner {
        command.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
    }
    let mut watchdog = command.spawn().with_context(|| {
        let user = owner.map_or_else(
            || "this process's user".to_owned(),
            |owner| owner.name.clone(),
        );
        format!(
            "starting sh for PostgreSQL in {} as {user} (who must be able to reach it)",
            directory.display()
        )
    })?;
    let pipes = watchdog.stdin.take().zip(watchdog.stderr.take());
    let Some((lifeline, log)) = pipes else {
        bail!("the watchdog's stdin and stderr are not piped");
    };
    Ok((watchdog, lifeline, log, port))
}

/// The last lines of a log.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == LOG_TAIL {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn read(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Reads `log` to its end on a thread of its own (the server would block on a full pipe, and
/// no test's runtime outlives its test), keeping its tail. The receiver gets `true` once the
/// server is ready, `false` when the log ends (the watchdog has exited).
fn watch_log(log: ChildStderr) -> anyhow::Result<(mpsc::Receiver<bool>, Tail)> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let tail = Tail::default();
    let kept = tail.clone();
    std::thread::Builder::new()
        .name("postgres log".to_owned())
        .spawn(move || {
            for line in BufReader::new(log).split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line).into_owned();
                if line.contains(READY_LINE) {
                    let _ = ready_tx.send(true);
                }
                kept.push(line);
            }
            let _ = ready_tx.send(false);
        })
        .map_err(|error| anyhow!("a thread for PostgreSQL's log: {error}"))?;
    Ok((ready_rx, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("made");
        std::fs::write(path, "").expect("written");
    }

    #[test]
    fn the_newest_version_with_both_server_programs_is_chosen() {
        let root = tempfile::tempdir().expect("a directory");
        touch(&root.path().join("9.6/bin/initdb"));
        touch(&root.path().join("9.6/bin/postgres"));
        touch(&root.path().join("15/bin/initdb"));
        touch(&root.path().join("15/bin/postgres"));
        // The client package alone gives a version directory without the server.
        touch(&root.path().join("16/bin/psql"));
        touch(&root.path().join("common/bin/initdb"));
        let directories = versioned_directories(root.path());
        assert_eq!(directories.len(), 3, "{directories:?}");
        assert_eq!(
            server_programs(&directories),
            Some(root.path().join("15/bin"))
        );
        assert_eq!(server_programs(&directories[..1]), None);
    }

    /// What a test process's end does to its cluster: the lifeline closes.
    #[test]
    fn a_cluster_whose_lifeline_is_cut_stops_and_removes_its_directory() {
        let Some(programs) = server_programs(&candidate_directories()) else {
            // Tests on a server of one's own need no programs.
            if std::env::var_os("MYBNB_TEST_DATABASE_URL").is_none() {
                let test = crate::current_test();
                let _: Option<()> = crate::skip_or_fail(
                    &format!(
                        "SKIPPED: {test} needs PostgreSQL's server programs, and there are \
                         none; MYBNB_SKIP_EXTERNAL=1 skips it"
                    ),
                    &format!(
                        "{test} needs PostgreSQL's server programs: install them with \
                         `scripts/ensure-postgres`"
                    ),
                );
            }
            return;
        };
        let owner = owner().expect("a user to run PostgreSQL as");
        let Cluster {
            port,
            directory,
            _watchdog: mut watchdog,
            _lifeline: lifeline,
        } = launch(&programs, owner.as_ref()).expect("a cluster");
        assert!(directory.join("data/PG_VERSION").is_file());
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok());

        drop(lifeline);
        let status = watchdog.wait().expect("the watchdog ends");
        assert!(status.success(), "{status}");
        assert!(!directory.exists(), "{} is gone", directory.display());
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
    }
}
