//! The distributed topology under test (`mybnb::topology`): every context in its own release
//! `mybnb serve` process behind the gateway, on a PostgreSQL database and a nats-server that
//! no other run sees. The database is created for the run and dropped after it; the server is
//! `--postgres`, else the test kit's (a throwaway cluster unless `MYBNB_TEST_DATABASE_URL`).

use std::time::Duration;

use anyhow::Context;
use mybnb::services::Service;
use mybnb::topology::{Plan, Topology, free_port};
use mybnb_testkit::nats::NatsServer;
use mybnb_testkit::postgres::TestDatabase;
use uuid::Uuid;

use crate::api::Api;

/// Connections each process may open to PostgreSQL.
pub const DATABASE_CONNECTIONS: u32 = 4;

/// What the names of the databases a run creates start with.
const DATABASE_PREFIX: &str = "mybnb_bench_";

/// What the distributed scenarios run against.
pub struct Target {
    /// The `mybnb` binary.
    pub mybnb: std::path::PathBuf,
    /// The PostgreSQL server (`postgres://user@host:port`) to create databases on; the test
    /// kit's when `None` (`$MYBNB_TEST_DATABASE_URL`, else a throwaway cluster of this process).
    pub postgres: Option<String>,
    /// Keep each run's directory (every process's log, at `info`) instead of deleting it.
    pub keep_logs: bool,
}

/// A running topology with the database, the nats-server and the directory it uses.
pub struct Cluster {
    pub topology: Topology,
    pub api: Api,
    pub database: sqlx::PgPool,
    pub nats: NatsServer,
    scratch: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `instances` of each context (one where not named) with `settings` on top of what
    /// every process needs, and waits until all are ready.
    pub async fn start(
        target: &Target,
        instances: &[(Service, usize)],
        settings: &[(&str, String)],
    ) -> anyhow::Result<Cluster> {
        let nats = NatsServer::start()
            .await
            .context("no nats-server to run against (MYBNB_SKIP_EXTERNAL is set)")?;
        let server = match &target.postgres {
            Some(server) => server.clone(),
            None => mybnb_testkit::postgres::server_url().await?,
        };
        let scratch = TestDatabase::create_on(&server, DATABASE_PREFIX).await?;
        match Cluster::launch(target, instances, settings, &nats, &scratch).await {
            Ok((topology, mut data_dir)) => {
                if target.keep_logs {
                    data_dir.disable_cleanup(true);
                    eprintln!("   logs kept under {}", data_dir.path().display());
                }
                // One connection, held from now on: PostgreSQL's connections are few.
                let database = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .connect(&scratch.url())
                    .await?;
                let api = Api {
                    base_url: topology.gateway_url(),
                    client: reqwest::Client::builder()
                        .pool_max_idle_per_host(512)
                        .timeout(Duration::from_secs(60))
                        .build()?,
                };
                let cluster = Cluster {
                    topology,
                    api,
                    database,
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
            Err(error) => {
                scratch.remove().await?;
                Err(error)
            }
        }
    }

    async fn launch(
        target: &Target,
        instances: &[(Service, usize)],
        settings: &[(&str, String)],
        nats: &NatsServer,
        scratch: &TestDatabase,
    ) -> anyhow::Result<(Topology, tempfile::TempDir)> {
        let data_dir = tempfile::Builder::new()
            .prefix("mybnb-bench-cluster-")
            .tempdir()?;
        let mybnb = &target.mybnb;
        let mut plan = Plan::standard(mybnb.clone(), data_dir.path().to_owned(), free_port()?);
        for &(service, count) in instances {
            plan.instances.insert(service, count);
        }
        let secret = || format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        plan.env = vec![
            ("MYBNB_DATABASE_URL".to_owned(), scratch.url()),
            ("MYBNB_NATS_URL".to_owned(), nats.url()),
            ("MYBNB_JWT_SECRET".to_owned(), secret()),
            ("MYBNB_SERVICE_TOKEN".to_owned(), secret()),
            // Seeding signs in every client's guest.
            (
                "MYBNB_AUTH_RATE_LIMIT_PER_MINUTE".to_owned(),
                "1000000".to_owned(),
            ),
            (
                "RUST_LOG".to_owned(),
                if target.keep_logs { "info" } else { "warn" }.to_owned(),
            ),
            // A dozen processes share PostgreSQL's 100 connections with whatever else runs
            // (the default of 8 each would take 88 with 4 payment instances).
            (
                "MYBNB_DATABASE_MAX_CONNECTIONS".to_owned(),
                DATABASE_CONNECTIONS.to_string(),
            ),
        ];
        plan.env.extend(
            settings
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone())),
        );
        let topology = Topology::start(plan).await.with_context(|| {
            format!(
                "starting the topology of {} (build it with cargo build --release)",
                mybnb.display()
            )
        })?;
        Ok((topology, data_dir))
    }

    /// Waits until the gateway passes a request on to every service: each process is ready
    /// when the topology has started, but the gateway may not have put them in its balancers
    /// yet (it answers 503 until then).
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
        let deadline = started + Duration::from_secs(30);
        let mut refused = 0;
        for path in PROBES {
            loop {
                let answer = self.api.client.get(self.api.url(path)).send().await;
                match answer {
                    Ok(response)
                        if response.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE =>
                    {
                        break;
                    }
                    _ if tokio::time::Instant::now() >= deadline => {
                        anyhow::bail!("the gateway did not route {path} within 30 s")
                    }
                    _ => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
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
    pub fn pids(&self) -> Vec<(Service, u32)> {
        self.topology
            .processes()
            .into_iter()
            .filter_map(|process| Some((process.service, process.pid()?)))
            .collect()
    }

    /// The `/metrics` text of the instance on `port`.
    pub async fn metrics(&self, port: u16) -> anyhow::Result<String> {
        self.metrics_at(&format!("http://127.0.0.1:{port}")).await
    }

    /// The `/metrics` text of the process at `base_url`.
    pub async fn metrics_at(&self, base_url: &str) -> anyhow::Result<String> {
        let url = format!("{base_url}/metrics");
        Ok(self
            .api
            .client
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// Stops every process gracefully, then the nats-server, and drops the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.database.close().await;
        let stopped = self.topology.stop().await;
        self.nats.stop().await;
        let dropped = self.scratch.remove().await;
        stopped?;
        dropped
    }
}

/// The sum of the samples in `metrics` (Prometheus text) of the metric `name` whose labels
/// contain every one of `labels` (such as `route="/internal/payments"`).
pub fn metric_sum(metrics: &str, name: &str, labels: &[&str]) -> u64 {
    metrics
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::metric_sum;

    #[test]
    fn sums_matching_samples() {
        let text = "# HELP x\n\
            mybnb_events_handled_total{subscriber=\"payment\"} 7\n\
            mybnb_events_handled_total{subscriber=\"notification\"} 5\n\
            mybnb_events_handled_total_other 100\n\
            mybnb_http_requests_total{method=\"POST\",route=\"/internal/payments\",status=\"201\"} 3\n\
            mybnb_http_requests_total{method=\"POST\",route=\"/internal/payments\",status=\"503\"} 1\n";
        assert_eq!(
            metric_sum(
                text,
                "mybnb_events_handled_total",
                &["subscriber=\"payment\""]
            ),
            7
        );
        assert_eq!(metric_sum(text, "mybnb_events_handled_total", &[]), 12);
        assert_eq!(
            metric_sum(
                text,
                "mybnb_http_requests_total",
                &["route=\"/internal/payments\""]
            ),
            4
        );
    }
}
