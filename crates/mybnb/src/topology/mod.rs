//! The distributed deployment on one machine: every context in its own `mybnb serve` process
//! (several instances where asked), the gateway in front, all sharing one PostgreSQL and one
//! NATS. `mybnb dev up` runs it; the cross-process tests and the scale-out benchmark drive it.
//!
//! Each context has one port more than it has instances: the spare, where a replacement
//! starts before the instance it replaces stops (as a rolling update with a surge of one). The
//! gateway knows every port and sends requests to those whose readiness check passes.

mod instance;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use instance::Launch;
pub use instance::Running;

use crate::services::Service;

/// How long an instance may take to become ready (first start migrates its schema).
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a stopping instance may take to drain and exit.
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// What to run.
pub struct Plan {
    /// The `mybnb` binary.
    pub binary: PathBuf,
    /// Instances of each context.
    pub instances: BTreeMap<Service, usize>,
    pub gateway_port: u16,
    /// Each instance keeps its generated files and its log in a directory under this one.
    pub data_dir: PathBuf,
    /// Settings every process gets, as `MYBNB_*` variables: the database and NATS URLs, the
    /// shared secrets, and anything else to override. They win over the topology's defaults.
    pub env: Vec<(String, String)>,
}

impl Plan {
    /// Two booking and two payment instances, one of each other context.
    pub fn standard(binary: PathBuf, data_dir: PathBuf, gateway_port: u16) -> Plan {
        let instances = Service::ALL_IN_ONE
            .into_iter()
            .map(|service| {
                let count = match service {
                    Service::Booking | Service::Payment => 2,
                    _ => 1,
                };
                (service, count)
            })
            .collect();
        Plan {
            binary,
            instances,
            gateway_port,
            data_dir,
            env: Vec::new(),
        }
    }
}

/// The running topology. Dropping it kills every process; [`Topology::stop`] stops them
/// gracefully.
pub struct Topology {
    binary: PathBuf,
    data_dir: PathBuf,
    context_env: Vec<(String, String)>,
    gateway: Option<Running>,
    gateway_port: u16,
    /// Each context's ports, and the instance on each (the spare has none).
    slots: BTreeMap<Service, Vec<(u16, Option<Running>)>>,
    client: reqwest::Client,
}

impl Topology {
    /// Starts every instance and the gateway, and waits until all are ready.
    pub async fn start(plan: Plan) -> anyhow::Result<Topology> {
        let gateway_url = format!("http://127.0.0.1:{}", plan.gateway_port);
        let mut slots = BTreeMap::new();
        let mut gateway_env = vec![
            (
                "MYBNB_GATEWAY_HEALTH_INTERVAL_MS".to_owned(),
                "200".to_owned(),
            ),
            // Streams it passes on (the notification stream) do not end by themselves: the
            // gateway cuts them off this long after it stops listening, well within
            // `STOP_WITHIN`.
            ("MYBNB_SHUTDOWN_TIMEOUT_MS".to_owned(), "5000".to_owned()),
        ];
        for service in Service::ALL_IN_ONE {
            let count = plan.instances.get(&service).copied().unwrap_or(1).max(1);
            let ports = (0..=count)
                .map(|_| free_port())
                .collect::<anyhow::Result<Vec<u16>>>()?;
            let urls: Vec<String> = ports
                .iter()
                .map(|port| format!("http://127.0.0.1:{port}"))
                .collect();
            gateway_env.push((
                format!("MYBNB_GATEWAY_{}_URLS", service.name().to_uppercase()),
                urls.join(","),
            ));
            slots.insert(
                service,
                ports
                    .into_iter()
                    .map(|port| (port, None))
                    .collect::<Vec<_>>(),
            );
        }
        gateway_env.extend(plan.env.iter().cloned());
        // Booking reaches room and payment through the gateway, which balances them.
        let mut context_env = vec![
            ("MYBNB_PAYMENT_SERVICE_URL".to_owned(), gateway_url.clone()),
            ("MYBNB_ROOM_SERVICE_URL".to_owned(), gateway_url.clone()),
            // The web pages call the public API through the gateway, as any client does.
            ("MYBNB_WEB_API_URL".to_owned(), gateway_url),
            // Longer than the gateway takes to notice a draining instance.
            ("MYBNB_DRAIN_DELAY_MS".to_owned(), "1000".to_owned()),
            // One context per process: a small pool each keeps a dozen processes well within
            // PostgreSQL's default 100 connections.
            ("MYBNB_DATABASE_MAX_CONNECTIONS".to_owned(), "4".to_owned()),
        ];
        context_env.extend(plan.env.iter().cloned());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the HTTP client")?;
        let mut topology = Topology {
            binary: plan.binary,
            data_dir: plan.data_dir,
            context_env,
            gateway: None,
            gateway_port: plan.gateway_port,
            slots,
            client,
        };
        for service in Service::ALL_IN_ONE {
            let count = plan.instances.get(&service).copied().unwrap_or(1).max(1);
            for slot in 0..count {
                topology.spawn(service, slot)?;
            }
        }
        let gateway = Running::spawn(Launch {
            binary: &topology.binary,
            service: Service::Gateway,
            port: topology.gateway_port,
            data_dir: topology.data_dir.join("gateway"),
            env: &gateway_env,
        })?;
        topology.gateway = Some(gateway);
        let client = topology.client.clone();
        for running in topology.running_mut() {
            running.ready(&client, READY_WITHIN).await?;
        }
        topology.routable().await?;
        Ok(topology)
    }

    /// Waits until the gateway has an instance of every context to send requests to (its
    /// readiness says `ready`, not `degraded`).
    async fn routable(&self) -> anyhow::Result<()> {
        let url = format!("{}/health/ready", self.gateway_url());
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            let report = match self.client.get(&url).send().await {
                Ok(response) => response.json::<serde_json::Value>().await.ok(),
                Err(_) => None,
            };
            if report
                .as_ref()
                .is_some_and(|report| report["status"] == "ready")
            {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!(
                    "the gateway did not reach every context within {} s: {}",
                    READY_WITHIN.as_secs(),
                    report.map_or("no answer".to_owned(), |report| report.to_string())
                );
            }
            // The gateway's readiness is only told by asking; ask again shortly.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn gateway_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.gateway_port)
    }

    /// Every running process, the gateway last.
    pub fn processes(&self) -> Vec<&Running> {
        let contexts = self
            .slots
            .values()
            .flat_map(|slots| slots.iter().filter_map(|(_, running)| running.as_ref()));
        contexts.chain(self.gateway.iter()).collect()
    }

    /// The ports of a context's running instances.
    pub fn ports(&self, service: Service) -> Vec<u16> {
        self.slots
            .get(&service)
            .into_iter()
            .flatten()
            .filter(|(_, running)| running.is_some())
            .map(|(port, _)| *port)
            .collect()
    }

    /// Kills (SIGKILL) the instance on `port`, as a crash would.
    pub async fn kill(&mut self, port: u16) -> anyhow::Result<()> {
        self.take(port)?.kill().await
    }

    /// Stops (SIGTERM) the instance on `port` and waits until it has drained and exited.
    pub async fn terminate(&mut self, port: u16) -> anyhow::Result<()> {
        self.take(port)?.terminate(STOP_WITHIN).await
    }

    /// Starts an instance of `service` on a free port and waits until it is ready; its port.
    pub async fn start_instance(&mut self, service: Service) -> anyhow::Result<u16> {
        let slot = self
            .slots
            .get(&service)
            .and_then(|slots| slots.iter().position(|(_, running)| running.is_none()))
            .with_context(|| format!("{service} has no free port"))?;
        self.spawn(service, slot)?;
        let client = self.client.clone();
        let running = self
            .slots
            .get_mut(&service)
            .and_then(|slots| slots.get_mut(slot))
            .and_then(|(_, running)| running.as_mut())
            .context("the instance just started is missing")?;
        running.ready(&client, READY_WITHIN).await?;
        Ok(running.port)
    }

    /// Replaces every instance of every context, one at a time, as a rolling update does: a new
    /// instance starts and becomes ready, then the old one is stopped and drains.
    pub async fn redeploy(&mut self) -> anyhow::Result<()> {
        for service in Service::ALL_IN_ONE {
            for port in self.ports(service) {
                self.start_instance(service).await?;
                self.terminate(port).await?;
            }
        }
        Ok(())
    }

    /// Stops the gateway, then every instance, gracefully; each is stopped even if one before
    /// it failed to, and the first failure is reported.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let mut outcomes = Vec::new();
        if let Some(gateway) = self.gateway.take() {
            outcomes.push(gateway.terminate(STOP_WITHIN).await);
        }
        let mut stopping = Vec::new();
        for slots in self.slots.values_mut() {
            for (_, running) in slots.iter_mut() {
                if let Some(running) = running.take() {
                    stopping.push(running.terminate(STOP_WITHIN));
                }
            }
        }
        outcomes.extend(futures_util::future::join_all(stopping).await);
        outcomes.into_iter().collect()
    }

    /// Resolves when some process exits without being asked to: its service and status.
    pub async fn exited(&mut self) -> (Service, u16, std::io::Result<std::process::ExitStatus>) {
        let waits = self.running_mut().into_iter().map(|running| {
            Box::pin(async move {
                let status = running.exited().await;
                (running.service, running.port, status)
            })
        });
        let waits: Vec<_> = waits.collect();
        if waits.is_empty() {
            return std::future::pending().await;
        }
        futures_util::future::select_all(waits).await.0
    }

    fn running_mut(&mut self) -> Vec<&mut Running> {
        let contexts = self
            .slots
            .values_mut()
            .flat_map(|slots| slots.iter_mut().filter_map(|(_, running)| running.as_mut()));
        contexts.chain(self.gateway.iter_mut()).collect()
    }

    fn spawn(&mut self, service: Service, slot: usize) -> anyhow::Result<()> {
        let (port, running) = self
            .slots
            .get_mut(&service)
            .and_then(|slots| slots.get_mut(slot))
            .with_context(|| format!("{service} has no port {slot}"))?;
        *running = Some(Running::spawn(Launch {
            binary: &self.binary,
            service,
            port: *port,
            data_dir: self.data_dir.join(format!("{service}-{port}")),
            env: &self.context_env,
        })?);
        Ok(())
    }

    fn take(&mut self, port: u16) -> anyhow::Result<Running> {
        self.slots
            .values_mut()
            .flatten()
            .find(|(slot_port, _)| *slot_port == port)
            .and_then(|(_, running)| running.take())
            .with_context(|| format!("no instance runs on port {port}"))
    }
}

/// Ports handed out here: below Linux's ephemeral range (32768–60999 by default), so no
/// outgoing connection takes one between its choice and its instance binding it.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port free on the loopback interface and never handed out before by this process (a spare
/// stays unbound until an instance starts on it).
pub fn free_port() -> anyhow::Result<u16> {
    static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Another process may choose from the same range: start somewhere of our own.
    let span = PORTS.end - PORTS.start;
    let start = rand::random_range(0..span);
    for offset in 0..span {
        let port = PORTS.start + (start + offset) % span;
        if !handed_out.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.insert(port);
            return Ok(port);
        }
    }
    anyhow::bail!(
        "no free port left in {}..{} on 127.0.0.1",
        PORTS.start,
        PORTS.end
    )
}
