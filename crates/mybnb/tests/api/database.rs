//! The storage a test application runs on: SQLite in its data directory, or a PostgreSQL
//! database of its own, created for the test and dropped after it.

use secrecy::SecretString;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use uuid::Uuid;

const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database on the test server, dropped (with its connections) on drop.
pub struct TestDatabase {
    server_url: String,
    name: String,
}

fn server_url() -> String {
    std::env::var("MYBNB_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
}

impl TestDatabase {
    /// Creates `mybnb_test_<uuid>`. When the server cannot be reached the test fails with how
    /// to start it, or, with `MYBNB_SKIP_EXTERNAL=1`, is skipped loudly (`None`).
    pub async fn create() -> Option<TestDatabase> {
        let server_url = server_url();
        let mut connection = match PgConnection::connect(&server_url).await {
            Ok(connection) => connection,
            Err(error) => {
                if std::env::var("MYBNB_SKIP_EXTERNAL").as_deref() == Ok("1") {
                    eprintln!(
                        "SKIPPED: this test needs PostgreSQL, and PostgreSQL is unreachable at \
                         {server_url} ({error}); MYBNB_SKIP_EXTERNAL=1 skips it"
                    );
                    return None;
                }
                panic!(
                    "PostgreSQL is unreachable at {server_url}: {error}\n\
                     Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) \
                     main start` (or `scripts/ensure-postgres`), point MYBNB_TEST_DATABASE_URL at \
                     another server, or set MYBNB_SKIP_EXTERNAL=1 to skip the PostgreSQL tests."
                );
            }
        };
        let name = format!("mybnb_test_{}", Uuid::new_v4().simple());
        // The name is made of hex digits here, never of input.
        connection
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .expect("creating the test database");
        connection.close().await.expect("closing the connection");
        Some(TestDatabase { server_url, name })
    }

    /// The URL of the test database: the server's URL with the database name replaced.
    pub fn url(&self) -> SecretString {
        let mut url = url::Url::parse(&self.server_url).expect("the server URL is a URL");
        url.set_path(&self.name);
        SecretString::from(url.to_string())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop may run inside the test's runtime, so the cleanup gets a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup");
            runtime.block_on(async move {
                let mut connection = PgConnection::connect(&server_url).await?;
                connection.execute(AssertSqlSafe(statement)).await?;
                connection.close().await
            })
        });
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("could not drop the test database: {error}");
        }
    }
}
