//! How far behind notification's subscriber was during a run, sampled from outside the
//! server every 100 ms: on the embedded log, the events of the types it reads past its
//! recorded position (`events.db`'s `subscribers`); on JetStream, its durable consumer's
//! pending plus unacknowledged messages (it reads every event there: several types mean no
//! subject filter on NATS 2.9). A subscriber that keeps up stays near 0; one that cannot keep
//! up with the rate grows a backlog, and every new event waits behind it.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use mybnb_bus::JetStreamBus;
use mybnb_notification::SUBSCRIBES_TO;
use mybnb_notification::service::CONSUMER;
use serde::Serialize;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, SqliteConnection};
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

/// Where to look.
pub enum Bus {
    /// The embedded log's database file.
    Embedded(PathBuf),
    /// The NATS server's URL.
    JetStream(String),
}

pub struct Sampler {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<Backlog>>,
}

impl Sampler {
    pub fn start(bus: Bus) -> Sampler {
        let (stop, stopped) = oneshot::channel();
        Sampler {
            stop,
            task: tokio::spawn(sample(bus, stopped)),
        }
    }

    /// Stops sampling; the backlog over the window.
    pub async fn finish(self) -> anyhow::Result<Backlog> {
        // The task may have ended already (it reports why below).
        let _ = self.stop.send(());
        self.task.await?
    }
}

async fn sample(bus: Bus, mut stop: oneshot::Receiver<()>) -> anyhow::Result<Backlog> {
    let mut source = Source::open(bus).await?;
    let mut behind = Vec::new();
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => break,
        }
        behind.push(source.read().await?);
    }
    Ok(Backlog {
        subscriber: CONSUMER.to_owned(),
        samples: behind.len(),
        mean: behind.iter().sum::<u64>() as f64 / behind.len().max(1) as f64,
        max: behind.iter().copied().max().unwrap_or_default(),
    })
}

enum Source {
    Embedded(SqliteConnection),
    JetStream(Box<async_nats::jetstream::stream::Stream>),
}

impl Source {
    async fn open(bus: Bus) -> anyhow::Result<Source> {
        Ok(match bus {
            Bus::Embedded(path) => Source::Embedded(
                SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
                    .connect()
                    .await
                    .with_context(|| format!("opening {}", path.display()))?,
            ),
            Bus::JetStream(url) => {
                let jetstream = async_nats::jetstream::new(async_nats::connect(url).await?);
                Source::JetStream(Box::new(
                    jetstream
                        .get_stream(JetStreamBus::EVENTS_STREAM)
                        .await
                        .context("the events stream")?,
                ))
            }
        })
    }

    /// The subscriber's backlog now (0 until it has subscribed).
    async fn read(&mut self) -> anyhow::Result<u64> {
        match self {
            Source::Embedded(log) => {
                let types: Vec<String> = (0..SUBSCRIBES_TO.len())
                    .map(|index| format!("${}", index + 2))
                    .collect();
                let sql = format!(
                    "SELECT COUNT(*) FROM events WHERE event_type IN ({}) AND position > \
                     (SELECT position FROM subscribers WHERE name = $1)",
                    types.join(", ")
                );
                let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql)).bind(CONSUMER);
                for event_type in SUBSCRIBES_TO {
                    query = query.bind(*event_type);
                }
                // Only placeholders are interpolated; the values are bound.
                let behind = query
                    .fetch_one(&mut *log)
                    .await
                    .context("reading notification's position")?;
                Ok(u64::try_from(behind)?)
            }
            Source::JetStream(stream) => match stream.consumer_info(CONSUMER).await {
                Ok(info) => Ok(info.num_pending + info.num_ack_pending as u64),
                Err(error) => Err(error).context("reading notification's consumer"),
            },
        }
    }
}
