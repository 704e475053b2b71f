//! How far behind notification's subscriber was during a run, sampled from outside the
//! server every 100 ms: on the embedded log, from the server's `/metrics` — events of the
//! types it reads that the relays published (`mybnb_relay_events_published_total`) less those
//! it handled or set aside (`mybnb_events_handled_total`, `mybnb_events_dead_lettered_total`);
//! on JetStream, from the broker the run started: its durable consumer's pending plus
//! unacknowledged messages (it reads every event there: several types mean no subject filter
//! on NATS 2.9). A subscriber that keeps up stays near 0; one that cannot keep up with the
//! rate grows a backlog, and every new event waits behind it.

use std::time::Duration;

use anyhow::Context;
use mybnb_bus::JetStreamBus;
use mybnb_client::{Client, metric_sum};
use mybnb_notification::SUBSCRIBES_TO;
use mybnb_notification::service::CONSUMER;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const EVERY: Duration = Duration::from_millis(100);

/// The subscriber's backlog over the sampled window, in events.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backlog {
    pub subscriber: String,
    pub samples: usize,
    pub mean: f64,
    pub max: u64,
}

/// Where to look: the all-in-one server's API, or the NATS server's URL.
pub enum Source {
    Metrics(Client),
    JetStream(String),
}

pub struct Sampler {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<Backlog>>,
}

impl Sampler {
    pub fn start(source: Source) -> Sampler {
        let (stop, stopped) = oneshot::channel();
        Sampler {
            stop,
            task: tokio::spawn(sample(source, stopped)),
        }
    }

    /// Stops sampling; the backlog over the window.
    pub async fn finish(self) -> anyhow::Result<Backlog> {
        // The task may have ended already (it reports why below).
        let _ = self.stop.send(());
        self.task.await?
    }
}

async fn sample(source: Source, mut stop: oneshot::Receiver<()>) -> anyhow::Result<Backlog> {
    let mut stream = match &source {
        Source::JetStream(url) => {
            let jetstream = async_nats::jetstream::new(async_nats::connect(url).await?);
            let stream = jetstream.get_stream(JetStreamBus::EVENTS_STREAM).await;
            Some(stream.context("the events stream")?)
        }
        Source::Metrics(_) => None,
    };
    let mut behind = Vec::new();
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => break,
        }
        behind.push(match (&source, &mut stream) {
            (_, Some(stream)) => {
                let info = stream.consumer_info(CONSUMER).await;
                let info = info.context("reading notification's consumer")?;
                info.num_pending + info.num_ack_pending as u64
            }
            (Source::Metrics(api), _) => behind_by_metrics(&api.metrics().await?),
            (Source::JetStream(_), None) => 0,
        });
    }
    Ok(Backlog {
        subscriber: CONSUMER.to_owned(),
        samples: behind.len(),
        mean: behind.iter().sum::<u64>() as f64 / behind.len().max(1) as f64,
        max: behind.iter().copied().max().unwrap_or_default(),
    })
}

/// Published events of the subscriber's types not yet handled or set aside, by `/metrics`.
fn behind_by_metrics(metrics: &str) -> u64 {
    let published: u64 = SUBSCRIBES_TO
        .iter()
        .map(|event_type| {
            let label = format!("event_type=\"{event_type}\"");
            metric_sum(metrics, "mybnb_relay_events_published_total", &[&label])
        })
        .sum();
    let subscriber = format!("subscriber=\"{CONSUMER}\"");
    let settled = [
        "mybnb_events_handled_total",
        "mybnb_events_dead_lettered_total",
    ]
    .iter()
    .map(|name| metric_sum(metrics, name, &[&subscriber]))
    .sum();
    published.saturating_sub(settled)
}
