//! The systems under test, reached through `mybnb-client`: the release `mybnb` binary started
//! on a free port and a fresh data directory ([`Server`]), or the topology of `mybnb dev up` —
//! every context in its own process behind the gateway — on a PostgreSQL database and a
//! nats-server no other run sees ([`Cluster`]). The database is created for the run and
//! dropped after it; its server is `--postgres`, else the test kit's (a throwaway cluster
//! unless `MYBNB_TEST_DATABASE_URL`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use mybnb::services::Service;
use mybnb::topology::{Plan, Topology, free_port};
use mybnb_client::Client;
use mybnb_testkit::nats::NatsServer;
use mybnb_testkit::postgres::TestDatabase;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// Connections each process of a cluster may open to PostgreSQL: a dozen processes share its
/// 100 with whatever else runs (the default of 8 each would take 88 with 4 payment instances).
const DATABASE_CONNECTIONS: u32 = 4;

/// A client of the API at `base` with a pool as wide as the load, each request bounded.
pub fn client(base: &str, timeout: Duration) -> anyhow::Result<Client> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(512)
        .timeout(timeout)
        .build()?;
    Client::with_http(base, http)
}

/// A nats-server of the run's own.
pub async fn nats() -> anyhow::Result<NatsServer> {
    NatsServer::start()
        .await
        .context("no nats-server to run against (MYBNB_SKIP_EXTERNAL is set)")
}

/// Seeding signs in every client's guest: no attempt limit may turn it away.
const UNLIMITED_SIGN_IN: (&str, &str) = ("MYBNB_AUTH_RATE_LIMIT_PER_MINUTE", "1000000");

/// The all-in-one server.
pub struct Server {
    child: Child,
    data_dir: tempfile::TempDir,
    pub api: Client,
}

impl Server {
    pub async fn start(mybnb: &Path, settings: &[(&str, String)]) -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let port = free_port()?;
        let log = std::fs::File::create(data_dir.path().join("server.log"))?;
        let mut command = Command::new(mybnb);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir.path())
            .env("RUST_LOG", "warn")
            .env(UNLIMITED_SIGN_IN.0, UNLIMITED_SIGN_IN.1)
            .envs(settings.iter().map(|(key, value)| (key, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| {
            format!(
                "starting {} (build it with cargo build --release)",
                mybnb.display()
            )
        })?;
        let api = client(&format!("http://127.0.0.1:{port}"), Duration::from_secs(10))?;
        let server = Server {
            child,
            data_dir,
            api,
        };
        for _ in 0..300 {
            if server.api.is_ready().await {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("mybnb did not become ready within 30 s")
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Where the server keeps its databases; `events.db` is the embedded log.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// SIGTERM, as an operator would; the server drains and must exit 0.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
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

/// What the distributed scenarios run against.
pub struct Target {
    pub mybnb: PathBuf,
    /// The PostgreSQL server (`postgres://user@host:port`) to create databases on; the test
    /// kit's when `None`.
    pub postgres: Option<String>,
    /// Keep each run's directory (every process's log, at `info`) instead of deleting it.
    pub keep_logs: bool,
}

/// A running topology with the database, the nats-server and the directory it uses.
pub struct Cluster {
    pub topology: Topology,
    pub api: Client,
    pub nats: NatsServer,
    scratch: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `instances` of each context (one where not named) with `settings` on top of what
    /// every process needs, and waits until the gateway routes to all of them.
    pub async fn start(
        target: &Target,
        instances: &[(Service, usize)],
        settings: &[(&str, String)],
    ) -> anyhow::Result<Cluster> {
        let nats = nats().await?;
        let server = match &target.postgres {
            Some(server) => server.clone(),
            None => mybnb_testkit::postgres::server_url().await?,
        };
        let scratch = TestDatabase::create_on(&server, "mybnb_bench_").await?;
        let data_dir = tempfile::Builder::new()
            .prefix("mybnb-bench-cluster-")
            .tempdir()?;
        let mut plan = Plan::standard(
            target.mybnb.clone(),
            data_dir.path().to_owned(),
            free_port()?,
        );
        plan.instances.extend(instances.iter().copied());
        let secret = || format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let log_level = if target.keep_logs { "info" } else { "warn" };
        let env = [
            ("MYBNB_DATABASE_URL", scratch.url()),
            ("MYBNB_NATS_URL", nats.url()),
            ("MYBNB_JWT_SECRET", secret()),
            ("MYBNB_SERVICE_TOKEN", secret()),
            (UNLIMITED_SIGN_IN.0, UNLIMITED_SIGN_IN.1.to_owned()),
            ("RUST_LOG", log_level.to_owned()),
            (
                "MYBNB_DATABASE_MAX_CONNECTIONS",
                DATABASE_CONNECTIONS.to_string(),
            ),
        ];
        plan.env = env
            .into_iter()
            .chain(settings.iter().map(|(key, value)| (*key, value.clone())))
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        let topology = match Topology::start(plan).await {
            Ok(topology) => topology,
            Err(error) => {
                scratch.remove().await?;
                return Err(error.context(format!(
                    "starting the topology of {} (build it with cargo build --release)",
                    target.mybnb.display()
                )));
            }
        };
        let mut data_dir = data_dir;
        if target.keep_logs {
            data_dir.disable_cleanup(true);
            eprintln!("   logs kept under {}", data_dir.path().display());
        }
        let cluster = Cluster {
            api: client(&topology.gateway_url(), Duration::from_secs(60))?,
            topology,
            nats,
            scratch,
            _data_dir: data_dir,
        };
        match cluster.wait_until_routed().await {
            Ok(()) => Ok(cluster),
            Err(error) => {
                cluster.stop().await?;
                Err(error)
            }
        }
    }

    /// Each process is ready when the topology has started, but the gateway may not have put
    /// them in its balancers yet (it answers 503 until then).
    async fn wait_until_routed(&self) -> anyhow::Result<()> {
        const PROBES: [&str; 6] = [
            "/users/me",
            "/rooms",
            "/bookings",
            "/payments",
            "/notifications",
            "/mypage",
        ];
        let started = tokio::time::Instant::now();
        let mut refused = 0;
        for path in PROBES {
            loop {
                let answer = self
                    .api
                    .request(reqwest::Method::GET, path, None)
                    .send()
                    .await;
                if answer.is_ok_and(|response| response.status() != 503) {
                    break;
                }
                if started.elapsed() > Duration::from_secs(30) {
                    bail!("the gateway did not route {path} within 30 s")
                }
                refused += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if refused > 0 {
            eprintln!(
                "   every process ready, yet the gateway answered 503 {refused} times over {} ms \
                 before it routed every service",
                started.elapsed().as_millis()
            );
        }
        Ok(())
    }

    /// The process ids of the instances of each service, the gateway included.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.topology
            .processes()
            .into_iter()
            .filter_map(|process| Some((process.service.name().to_owned(), process.pid()?)))
            .collect()
    }

    /// The `/metrics` text of each instance of `service`.
    pub async fn metrics(&self, service: Service) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for port in self.topology.ports(service) {
            let instance =
                Client::with_http(&format!("http://127.0.0.1:{port}"), self.api.http().clone())?;
            texts.push(instance.metrics().await?);
        }
        Ok(texts)
    }

    /// Stops every process gracefully, then the nats-server, and drops the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let stopped = self.topology.stop().await;
        self.nats.stop().await;
        let dropped = self.scratch.remove().await;
        stopped?;
        dropped
    }
}
