//! `mybnb replay`: rebuilds a read model from the whole event history, in its own process,
//! finding the model's database and the bus from the same settings as `mybnb serve`.

use anyhow::Context;
use mybnb_bus::{EmbeddedLog, EventBus, JetStreamBus};
use mybnb_mypage::service::MyPageService;
use mybnb_mypage::store::SqlMyPageRepository;
use mybnb_platform::db::{Database, DatabaseLocation};
use mybnb_platform::private::private_dir;
use secrecy::ExposeSecret;

use crate::cli::ReadModel;
use crate::services::Service;
use crate::settings::Settings;

/// Rebuilds `model`; returns how many events were applied.
pub async fn replay(settings: &Settings, model: ReadModel) -> anyhow::Result<u64> {
    private_dir(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let bus = open_bus(settings).await?;
    match model {
        ReadModel::Mypage => {
            let location = settings.database_location(Service::Mypage);
            let database = Database::open(
                &location,
                settings.database_max_connections,
                &mybnb_mypage::migrations(),
            )
            .await?;
            let pages = MyPageService::new(SqlMyPageRepository::new(database.clone()));
            let applied = pages.rebuild(bus.as_ref()).await;
            database.close().await;
            applied
        }
    }
}

/// The bus `mybnb serve` would use with these settings.
async fn open_bus(settings: &Settings) -> anyhow::Result<Box<dyn EventBus>> {
    if let Some(url) = &settings.nats_url {
        return Ok(Box::new(JetStreamBus::connect(url.expose_secret()).await?));
    }
    let location = DatabaseLocation::Sqlite {
        path: settings.data_dir.join("events.db"),
    };
    let log = Database::open(
        &location,
        settings.database_max_connections,
        &EmbeddedLog::migrations(),
    )
    .await?;
    Ok(Box::new(EmbeddedLog::new(log)))
}
