//! Databases: each context owns one, on SQLite (a file in the data directory) or PostgreSQL (a
//! schema named after the context), reached through the same queries.
//!
//! Queries use sqlx's `Any` driver with `$1` placeholders, which both backends accept, so a
//! context has one repository whatever the backend. Migrations are portable where the DDL is
//! (integers as `BIGINT`, text, partial indexes) and kept per backend where it is not (see
//! [`Migrations`]). Every write is a [`Unit`], group-committed on SQLite.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

mod group_commit;
mod redact;
mod unit;

pub use redact::redact_url;
pub use unit::{Bindings, Statement, Stop, Unit, Written};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use mybnb_events::CorrelationId;
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::{AnyPool, AssertSqlSafe, Executor};

use group_commit::GroupCommitter;
use tokio::sync::Notify;

/// Where a context keeps its data.
#[derive(Clone)]
pub enum DatabaseLocation {
    /// A SQLite file, created when missing (WAL, `synchronous=FULL`, foreign keys on).
    Sqlite { path: PathBuf },
    /// A schema of a PostgreSQL database, created when missing.
    Postgres { url: SecretString, schema: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The migrations of one context's database, plus the platform's own tables (the outbox) for
/// contexts that publish events.
#[derive(Clone)]
pub struct Migrations {
    sqlite: Vec<Migration>,
    postgres: Vec<Migration>,
}

impl Migrations {
    /// Migrations whose DDL runs unchanged on both backends.
    pub fn portable(migrator: &Migrator) -> Self {
        Migrations::per_backend(migrator, migrator)
    }

    /// Migrations written once per backend, where the DDL differs.
    pub fn per_backend(sqlite: &Migrator, postgres: &Migrator) -> Self {
        Migrations {
            sqlite: sqlite.iter().cloned().collect(),
            postgres: postgres.iter().cloned().collect(),
        }
    }

    /// Adds these migrations to the context's; versions must not collide.
    pub fn and(mut self, other: Migrations) -> Self {
        self.sqlite.extend(other.sqlite);
        self.postgres.extend(other.postgres);
        self
    }

    fn migrator(&self, backend: Backend) -> Migrator {
        match backend {
            Backend::Sqlite => Migrator::with_migrations(self.sqlite.clone()),
            Backend::Postgres => Migrator::with_migrations(self.postgres.clone()),
        }
    }
}

/// A context's database: a pool for reads, and [`Database::write`] for writes.
///
/// On SQLite, writes go through one connection, fed by a group committer: SQLite allows one
/// writer at a time, and queueing writers in the process (fairly, without sleeping) beats
/// letting them collide in SQLite's busy handler; batching them makes one fsync serve many.
/// Reads use the other pool concurrently (WAL). On PostgreSQL each write is its own
/// transaction on the shared pool.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    writer: AnyPool,
    committer: Option<GroupCommitter>,
    /// Woken after every committed write, for tasks that follow the database (the relay).
    committed: Arc<Notify>,
    backend: Backend,
    postgres_schema: Option<String>,
}

impl DatabaseLocation {
    /// A description safe to log: paths as they are, URLs without their password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::Sqlite { path } => format!("sqlite:{}", path.display()),
            DatabaseLocation::Postgres { url, schema } => {
                format!("{} (schema {schema})", redact_url(url.expose_secret()))
            }
        }
    }
}

impl Database {
    /// A pool that connects on first use, so a process starts (and reports not-ready) even
    /// while its database is unreachable.
    pub fn connect_lazy(
        location: &DatabaseLocation,
        max_connections: u32,
    ) -> Result<Database, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let pool_options = || AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
        let database = match location {
            DatabaseLocation::Sqlite { path } => {
                crate::private::private_file(path)?;
                let options = AnyConnectOptions::from_str(&sqlite_url(path)?)?;
                // Only the writer switches the file to WAL (the mode is kept in the file): on a
                // fresh file, readers switching it at the same time as the writer find it
                // locked, and sqlx logs each such connection as an error before retrying.
                let open = |max_connections, pragmas: &'static str| {
                    pool_options()
                        .max_connections(max_connections)
                        .after_connect(move |connection, _| {
                            Box::pin(async move {
                                connection.execute(pragmas).await?;
                                Ok(())
                            })
                        })
                        .connect_lazy_with(options.clone())
                };
                let writer = open(
                    1,
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0;",
                );
                let pool = open(
                    max_connections,
                    "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                );
                tokio::spawn(checkpoint_periodically(pool.clone()));
                Database {
                    pool,
                    committer: Some(GroupCommitter::start(writer.clone())),
                    committed: Arc::default(),
                    writer,
                    backend: Backend::Sqlite,
                    postgres_schema: None,
                }
            }
            DatabaseLocation::Postgres { url, schema } => {
                let set_search_path = format!("SET search_path TO \"{schema}\"");
                let pool = pool_options()
                    .max_connections(max_connections)
                    .after_connect(move |connection, _| {
                        let statement = set_search_path.clone();
                        Box::pin(async move {
                            // The schema name comes from the code, never from input.
                            connection.execute(AssertSqlSafe(statement)).await?;
                            Ok(())
                        })
                    })
                    .connect_lazy_with(AnyConnectOptions::from_str(url.expose_secret())?);
                Database {
                    writer: pool.clone(),
                    committer: None,
                    committed: Arc::default(),
                    pool,
                    backend: Backend::Postgres,
                    postgres_schema: Some(schema.clone()),
                }
            }
        };
        Ok(database)
    }

    /// Connects and migrates before returning: for tools and processes that cannot do
    /// anything without their database (an application migrates in the background instead).
    pub async fn open(
        location: &DatabaseLocation,
        max_connections: u32,
        migrations: &Migrations,
    ) -> anyhow::Result<Database> {
        let database = Database::connect_lazy(location, max_connections)
            .with_context(|| format!("opening {}", location.describe()))?;
        database
            .migrate(migrations)
            .await
            .with_context(|| format!("migrating {}", location.describe()))?;
        Ok(database)
    }

    /// Creates the context's schema (PostgreSQL) and applies its pending migrations.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), MigrateError> {
        if let Some(schema) = &self.postgres_schema {
            let statement = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            self.pool.execute(AssertSqlSafe(statement)).await?;
        }
        migrations.migrator(self.backend).run(&self.writer).await
    }

    /// Notified after every committed write.
    pub fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// The pool for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs a write unit in a transaction and returns its outcome once that is durable (see
    /// [`unit`]). The unit should only run statements: on SQLite it shares its transaction with
    /// other units (see [`group_commit`]), inside a savepoint of its own.
    pub async fn write<T, R>(
        &self,
        unit: impl AsyncFnOnce(&mut Unit<'_>) -> Result<T, Stop<R>>,
    ) -> anyhow::Result<Written<T, R>> {
        self.write_with((), unit).await
    }

    /// [`Database::write`] for a unit that records events: they carry `correlation`.
    pub async fn write_caused_by<T, R>(
        &self,
        correlation: &CorrelationId,
        unit: impl AsyncFnOnce(&mut Unit<'_, &CorrelationId>) -> Result<T, Stop<R>>,
    ) -> anyhow::Result<Written<T, R>> {
        self.write_with(correlation, unit).await
    }

    async fn write_with<C, T, R>(
        &self,
        cause: C,
        unit: impl AsyncFnOnce(&mut Unit<'_, C>) -> Result<T, Stop<R>>,
    ) -> anyhow::Result<Written<T, R>> {
        let written = match &self.committer {
            Some(committer) => committer.write(cause, unit).await?,
            None => {
                let mut transaction = self.writer.begin().await?;
                let outcome = unit(&mut Unit::new(&mut transaction, cause)).await;
                if outcome.is_ok() {
                    transaction.commit().await?;
                } else {
                    transaction.rollback().await?;
                }
                Written::from_closure(outcome)?
            }
        };
        if written.is_applied() {
            self.committed.notify_waiters();
        }
        Ok(written)
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// How often a SQLite database's write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the write-ahead log from outside the write path. Left to SQLite, the commit that
/// fills the log runs the checkpoint (and its fsyncs) while every queued writer waits; here a
/// reader connection does it in the background, without blocking writers (`PASSIVE`), until
/// the database is closed.
async fn checkpoint_periodically(pool: AnyPool) {
    let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::debug!(%error, "checkpoint skipped");
        }
    }
}

fn sqlite_url(path: &std::path::Path) -> Result<String, sqlx::Error> {
    let absolute =
        std::path::absolute(path).map_err(|error| sqlx::Error::Configuration(error.into()))?;
    let file_url = url::Url::from_file_path(&absolute).map_err(|()| {
        sqlx::Error::Configuration(format!("not a usable path: {}", absolute.display()).into())
    })?;
    Ok(format!("sqlite://{}?mode=rwc", file_url.path()))
}

/// The current instant, at the precision the databases keep (microseconds), so that what a
/// command answers equals what a later read returns.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// How instants are stored: RFC 3339 text in UTC with microseconds, which sorts as it reads on
/// both backends.
pub fn instant_to_db(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads an instant stored by [`instant_to_db`].
pub fn instant_from_db(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|error| sqlx::Error::Decode(error.into()))
}
