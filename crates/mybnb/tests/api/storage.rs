//! Where a test application keeps its data — a data directory, and on PostgreSQL a database of
//! its own and a nats-server of its own for the events (JetStream) — with the secrets it was
//! given. Applications started one after another on the same
//! storage see each other's data, as a restarted process does. Tests also reach the contexts'
//! tables directly: to check invariants, and to stage what a crash leaves behind.

use std::path::Path;
use std::sync::Arc;

use mybnb::Settings;
use mybnb_testkit::nats::NatsServer;
use mybnb_testkit::postgres::TestDatabase;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use tempfile::TempDir;
use tokio::sync::Mutex;
use uuid::Uuid;

/// Where an application keeps its data: SQLite files in its data directory, or a PostgreSQL
/// database of its own (see [`Storage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A data directory, on PostgreSQL a database and a nats-server, and the secrets of the
/// deployment the storage belongs to. Removed (and stopped) when the last holder drops it.
pub struct Storage {
    pub backend: Backend,
    data_dir: TempDir,
    database: Option<TestDatabase>,
    /// The deployment's NATS JetStream, shared with sibling storages (processes of the same
    /// deployment): stop and restart it to take the bus away.
    pub nats: Option<Arc<Mutex<NatsServer>>>,
    nats_url: Option<String>,
    /// The token-signing secret, for forging tokens and for processes that must share it.
    pub jwt_secret: String,
    /// The credential of the internal APIs (`Authorization: Bearer <token>`).
    pub service_token: String,
}

impl Storage {
    /// Fresh storage with new secrets. `None` means the test is skipped (no PostgreSQL or
    /// nats-server, and `MYBNB_SKIP_EXTERNAL=1`).
    pub async fn create(backend: Backend) -> Option<Arc<Storage>> {
        let secrets = (
            format!("test-secret-{}", Uuid::new_v4().simple()),
            format!("test-service-{}", Uuid::new_v4().simple()),
        );
        Storage::with_secrets(backend, secrets, None).await
    }

    /// Fresh storage with this storage's secrets and bus: for another process of the same
    /// deployment.
    pub async fn sibling(&self) -> Option<Arc<Storage>> {
        let secrets = (self.jwt_secret.clone(), self.service_token.clone());
        Storage::with_secrets(self.backend, secrets, self.nats.clone()).await
    }

    async fn with_secrets(
        backend: Backend,
        (jwt_secret, service_token): (String, String),
        nats: Option<Arc<Mutex<NatsServer>>>,
    ) -> Option<Arc<Storage>> {
        let (database, nats) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let database = TestDatabase::create().await?;
                let nats = match nats {
                    Some(nats) => nats,
                    None => Arc::new(Mutex::new(NatsServer::start().await?)),
                };
                (Some(database), Some(nats))
            }
        };
        let nats_url = match &nats {
            Some(nats) => Some(nats.lock().await.url()),
            None => None,
        };
        Some(Arc::new(Storage {
            backend,
            data_dir: tempfile::tempdir().expect("a temporary data directory"),
            database,
            nats,
            nats_url,
            jwt_secret,
            service_token,
        }))
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The PostgreSQL URL every context's schema lives in; `None` on SQLite.
    pub fn database_url(&self) -> Option<SecretString> {
        self.database
            .as_ref()
            .map(|database| SecretString::from(database.url()))
    }

    /// The URL of the deployment's NATS server; `None` on SQLite (the embedded log).
    pub fn nats_url(&self) -> Option<String> {
        self.nats_url.clone()
    }

    /// Points `settings` at this storage and gives them its secrets.
    pub fn apply(&self, settings: &mut Settings) {
        settings.data_dir = self.data_dir().to_path_buf();
        settings.database_url = self.database_url();
        settings.nats_url = self.nats_url().map(SecretString::from);
        settings.jwt_secret = Some(SecretString::from(self.jwt_secret.clone()));
        settings.service_token = Some(SecretString::from(self.service_token.clone()));
    }

    /// A connection to the tables of `context` (`booking`, `payment`, …), which an application
    /// must have created first. One query text serves both backends, as in the application.
    pub async fn connect(&self, context: &str) -> AnyConnection {
        sqlx::any::install_default_drivers();
        match self.database_url() {
            None => {
                let path = self.data_dir().join(format!("{context}.db"));
                let url = format!("sqlite://{}?mode=rw", path.display());
                let mut connection = AnyConnection::connect(&url)
                    .await
                    .unwrap_or_else(|error| panic!("opening {}: {error}", path.display()));
                connection
                    .execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                    .await
                    .expect("configuring the SQLite connection");
                connection
            }
            Some(url) => {
                let mut connection = AnyConnection::connect(url.expose_secret())
                    .await
                    .expect("connecting to the test database");
                // The schema name comes from the test, never from input.
                let statement = format!("SET search_path TO \"{context}\"");
                connection
                    .execute(AssertSqlSafe(statement))
                    .await
                    .expect("choosing the context's schema");
                connection
            }
        }
    }
}
