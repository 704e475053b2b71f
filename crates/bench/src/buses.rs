//! A fresh bus for an in-process scenario: the embedded log in its own SQLite file, or
//! JetStream on a nats-server of its own.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use mybnb_bus::{EmbeddedLog, EventBus, JetStreamBus};
use mybnb_events::IntegrationEvent;
use mybnb_events::booking::BookingConfirmed;
use mybnb_platform::db::{Database, DatabaseLocation, Migrations};
use mybnb_testkit::nats::NatsServer;

/// An in-process scenario, run on one of the two buses.
#[derive(Debug, Clone, Copy)]
pub struct BusScenario {
    pub name: &'static str,
    pub description: &'static str,
    pub jetstream: bool,
}

impl BusScenario {
    /// The one of `scenarios` called `name`.
    pub fn find(name: &str, scenarios: &[BusScenario]) -> Option<BusScenario> {
        scenarios
            .iter()
            .copied()
            .find(|scenario| scenario.name == name)
    }
}

pub struct Bus {
    pub bus: Arc<dyn EventBus>,
    /// The embedded log's database.
    log: Option<Database>,
    nats: Option<NatsServer>,
}

impl Bus {
    /// The embedded log in `directory`, or JetStream; set up and ready for use.
    pub async fn start(jetstream: bool, directory: &Path) -> anyhow::Result<Bus> {
        let bus = if jetstream {
            let nats = NatsServer::start()
                .await
                .context("no nats-server to run against (MYBNB_SKIP_EXTERNAL is set)")?;
            Bus {
                bus: Arc::new(JetStreamBus::connect(&nats.url()).await?),
                log: None,
                nats: Some(nats),
            }
        } else {
            let log = open(&directory.join("events.db"), EmbeddedLog::migrations()).await?;
            Bus {
                bus: Arc::new(EmbeddedLog::new(log.clone())),
                log: Some(log),
                nats: None,
            }
        };
        // The bus's first use sets it up (JetStream's streams): no scenario's work to time.
        bus.bus.history(&[BookingConfirmed::TYPE], 0, 1).await?;
        Ok(bus)
    }

    /// The events on the bus.
    pub async fn count(&self) -> anyhow::Result<u64> {
        if let Some(log) = &self.log {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(log.pool())
                .await?;
            return Ok(u64::try_from(count)?);
        }
        let Some(nats) = &self.nats else {
            return Ok(0);
        };
        let client = async_nats::connect(nats.url()).await?;
        let jetstream = async_nats::jetstream::new(client);
        let mut stream = jetstream
            .get_stream(JetStreamBus::EVENTS_STREAM)
            .await
            .context("the events stream")?;
        Ok(stream.info().await?.state.messages)
    }

    pub async fn stop(self) {
        if let Some(log) = self.log {
            log.close().await;
        }
        if let Some(mut nats) = self.nats {
            nats.stop().await;
        }
    }
}

/// A SQLite database at `path`, migrated, as a context opens its own.
pub async fn open(path: &Path, migrations: Migrations) -> anyhow::Result<Database> {
    let location = DatabaseLocation::Sqlite {
        path: path.to_owned(),
    };
    Database::open(&location, 4, &migrations).await
}
