//! What the tests share: a fresh database on either backend, the service over it, events of a
//! made-up trip, and waiting for a condition without sleeping.

use mybnb_events::CorrelationId;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use mybnb_events::EventEnvelope;
use mybnb_events::IntegrationEvent;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::identity::UserRegistered;
use mybnb_events::payment::{CancellationReason, PaymentApproved, PaymentCancelled};
use mybnb_notification::service::NotificationService;
use mybnb_notification::store::SqlNotificationRepository;
use mybnb_platform::db::{Database, DatabaseLocation};
use mybnb_testkit::postgres::TestSchema;
use secrecy::SecretString;
use uuid::Uuid;

/// Runs each named test (an `async fn(Backend)`) once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated notification database of its own: a SQLite file in a temporary directory, or a
/// schema of the test PostgreSQL server, dropped afterwards.
pub struct TestDatabase {
    pub database: Database,
    _directory: Option<tempfile::TempDir>,
    _schema: Option<TestSchema>,
}

impl TestDatabase {
    /// `None` when the test is to be skipped: there is no PostgreSQL and
    /// `MYBNB_SKIP_EXTERNAL=1`.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        let (location, directory, schema) = match backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().expect("a directory");
                let location = DatabaseLocation::Sqlite {
                    path: directory.path().join("notification.db"),
                };
                (location, Some(directory), None)
            }
            Backend::Postgres => {
                let schema = TestSchema::create("notification_test_").await?;
                let location = DatabaseLocation::Postgres {
                    url: SecretString::from(schema.server_url().to_owned()),
                    schema: schema.name().to_owned(),
                };
                (location, None, Some(schema))
            }
        };
        let database = Database::connect_lazy(&location, 4).expect("a database");
        database
            .migrate(&mybnb_notification::migrations())
            .await
            .expect("migrated");
        Some(TestDatabase {
            database,
            _directory: directory,
            _schema: schema,
        })
    }

    /// The service over this database, e-mailing when `mail_enabled`.
    pub fn service(&self, mail_enabled: bool) -> Arc<NotificationService> {
        Arc::new(NotificationService::new(
            SqlNotificationRepository::new(self.database.clone()),
            mail_enabled,
        ))
    }

    /// `(status, attempts)` of every queued mail.
    pub async fn mail_queue(&self) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT status, attempts FROM mail_queue ORDER BY created_at")
            .fetch_all(self.database.pool())
            .await
            .expect("the mail queue")
    }

    /// Waits until `condition` holds, looking again after every commit to the database.
    pub async fn wait_until<F, Fut>(&self, what: &str, condition: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let committed = self.database.committed();
        within(what, async {
            loop {
                let woken = committed.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                if condition().await {
                    return;
                }
                woken.await;
            }
        })
        .await;
    }
}

/// Awaits `future`, failing the test if it has not finished within 30 s (a bound for a hung
/// test, not a timing assertion).
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within 30 s"))
}

pub fn envelope<E: IntegrationEvent>(event: &E) -> EventEnvelope {
    EventEnvelope::wrap(
        event,
        mybnb_platform::db::now(),
        &CorrelationId::new("test"),
    )
    .expect("an envelope")
}

pub fn registered(user_id: Uuid, name: &str, email: Option<&str>) -> EventEnvelope {
    envelope(&UserRegistered {
        user_id,
        username: name.to_lowercase(),
        display_name: name.to_owned(),
        email: email.map(str::to_owned),
    })
}

/// A booking of three nights in a hanok, and the events of its life.
#[derive(Debug, Clone, Copy)]
pub struct Trip {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub guest: Uuid,
    pub host: Uuid,
    pub payment_id: Uuid,
}

pub const ROOM_NAME: &str = "Hanok with a garden";

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

impl Trip {
    pub fn new() -> Trip {
        Trip::between(Uuid::now_v7(), Uuid::now_v7())
    }

    pub fn between(guest: Uuid, host: Uuid) -> Trip {
        Trip {
            booking_id: Uuid::now_v7(),
            room_id: Uuid::now_v7(),
            guest,
            host,
            payment_id: Uuid::now_v7(),
        }
    }

    pub fn approved(&self) -> EventEnvelope {
        envelope(&PaymentApproved {
            payment_id: self.payment_id,
            booking_id: self.booking_id,
            guest_id: self.guest,
            host_id: self.host,
            amount: 360_000,
        })
    }

    pub fn confirmed(&self) -> EventEnvelope {
        envelope(&BookingConfirmed {
            booking_id: self.booking_id,
            room_id: self.room_id,
            room_name: ROOM_NAME.to_owned(),
            guest_id: self.guest,
            host_id: self.host,
            check_in: date("2026-12-24"),
            check_out: date("2026-12-27"),
            nights: 3,
            total_price: 360_000,
            payment_id: self.payment_id,
        })
    }

    pub fn cancelled(&self) -> EventEnvelope {
        envelope(&BookingCancelled {
            booking_id: self.booking_id,
            room_id: self.room_id,
            guest_id: self.guest,
            host_id: self.host,
            check_in: date("2026-12-24"),
            check_out: date("2026-12-27"),
            payment_id: self.payment_id,
        })
    }

    pub fn refunded(&self) -> EventEnvelope {
        envelope(&PaymentCancelled {
            payment_id: self.payment_id,
            booking_id: self.booking_id,
            guest_id: self.guest,
            amount: 360_000,
            reason: CancellationReason::Refund,
        })
    }
}
