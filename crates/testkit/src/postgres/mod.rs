//! A PostgreSQL database ([`TestDatabase`]) or schema ([`TestSchema`]) of a test's own,
//! dropped, with the connections still open to it, when the test is done with it.
//!
//! The server is `$MYBNB_TEST_DATABASE_URL`, else a throwaway cluster that the tests of this
//! process share, started on first use and gone with the process ([`cluster`]): nothing needs
//! to be running, only PostgreSQL's server programs installed (`scripts/ensure-postgres`).
//! Without them, or when the named server cannot be reached, a test fails saying so, or is
//! skipped loudly when `MYBNB_SKIP_EXTERNAL=1`.

mod cluster;

use std::str::FromStr;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, PgConnection};
use uuid::Uuid;

/// What the names of the databases [`TestDatabase::create`] makes start with.
pub const TEST_DATABASE_PREFIX: &str = "mybnb_test_";

/// The URL of the tests' server: `$MYBNB_TEST_DATABASE_URL`, else this process's throwaway
/// cluster's, started (and awaited) on first use. An error says why there is none and how to
/// get one.
pub async fn server_url() -> anyhow::Result<String> {
    if let Ok(named) = std::env::var("MYBNB_TEST_DATABASE_URL") {
        return Ok(named);
    }
    // Starting blocks (initdb, then waiting until the server is ready), and the cluster must
    // outlive this test's runtime: plain threads and processes, off the runtime.
    let shared = tokio::task::spawn_blocking(cluster::shared)
        .await
        .context("starting the tests' PostgreSQL")?;
    shared
        .map(cluster::Cluster::url)
        .map_err(|why| anyhow::anyhow!("{why}"))
}

/// A fresh database on a PostgreSQL server, dropped (with its connections) on drop, or by
/// [`TestDatabase::remove`] to learn whether that worked.
pub struct TestDatabase {
    server_url: String,
    name: String,
    removed: bool,
}

impl TestDatabase {
    /// Creates `mybnb_test_<uuid>` on the test server (see [`server_url`]). When there is none
    /// the test fails saying how to get one, or, with
    /// `MYBNB_SKIP_EXTERNAL=1`, is skipped loudly (`None`).
    pub async fn create() -> Option<TestDatabase> {
        let (server_url, connection) = connect_to_test_server().await?;
        let database = TestDatabase::create_with(server_url, connection, TEST_DATABASE_PREFIX)
            .await
            .unwrap_or_else(|error| panic!("creating the test database: {error:#}"));
        Some(database)
    }

    /// Creates `<prefix><uuid>` on the server at `server_url` (`postgres://user@host:port`,
    /// with or without a database to connect to, `postgres` when without). Unlike
    /// [`TestDatabase::create`], looks at no environment and never skips: an unreachable
    /// server is an error.
    pub async fn create_on(server_url: &str, prefix: &str) -> anyhow::Result<TestDatabase> {
        let connection = connect(server_url)
            .await
            .with_context(|| format!("creating a database on {server_url} (is PostgreSQL up?)"))?;
        TestDatabase::create_with(server_url.to_owned(), connection, prefix).await
    }

    async fn create_with(
        server_url: String,
        mut connection: PgConnection,
        prefix: &str,
    ) -> anyhow::Result<TestDatabase> {
        let name = format!("{prefix}{}", Uuid::new_v4().simple());
        // The prefix comes from the code, the rest is hex digits: never input.
        connection
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .with_context(|| format!("creating the database {name} on {server_url}"))?;
        connection.close().await.context("closing the connection")?;
        Ok(TestDatabase {
            server_url,
            name,
            removed: false,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the database: the server's URL with the database name replaced.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.server_url).expect("the server URL is a URL");
        url.set_path(&self.name);
        url.to_string()
    }

    /// Drops the database now, with the connections still open to it, and says whether that
    /// worked (dropping the value only prints a failure).
    pub async fn remove(mut self) -> anyhow::Result<()> {
        self.removed = true;
        execute_on(&self.server_url, self.drop_statement())
            .await
            .with_context(|| format!("dropping {}", self.url()))
    }

    fn drop_statement(&self) -> String {
        format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        if let Err(error) = execute_blocking(&self.server_url, self.drop_statement()) {
            eprintln!("could not drop the test database: {error}");
        }
    }
}

/// A schema of a test's own in the test server's database, dropped with everything in it on
/// drop: for a service that keeps its tables in a schema of their own.
pub struct TestSchema {
    server_url: String,
    name: String,
}

impl TestSchema {
    /// Creates `<prefix><uuid>` on the test server (see [`server_url`]). When there is none the
    /// test fails saying how to get one, or, with `MYBNB_SKIP_EXTERNAL=1`, is skipped loudly
    /// (`None`).
    pub async fn create(prefix: &str) -> Option<TestSchema> {
        let (server_url, mut connection) = connect_to_test_server().await?;
        let name = format!("{prefix}{}", Uuid::new_v4().simple());
        // The prefix comes from the code, the rest is hex digits: never input.
        connection
            .execute(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .await
            .unwrap_or_else(|error| panic!("creating the test schema {name}: {error}"));
        connection.close().await.expect("closing the connection");
        Some(TestSchema { server_url, name })
    }

    /// The URL of the database the schema is in.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let statement = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        if let Err(error) = execute_blocking(&self.server_url, statement) {
            eprintln!("could not drop the test schema: {error}");
        }
    }
}

/// A connection to the test server, with its URL; when there is none or it cannot be reached,
/// a failure that says how to get one, or `None` after a `SKIPPED:` line when
/// `MYBNB_SKIP_EXTERNAL=1`.
async fn connect_to_test_server() -> Option<(String, PgConnection)> {
    let reached = match server_url().await {
        Ok(server_url) => match connect(&server_url).await {
            Ok(connection) => return Some((server_url, connection)),
            Err(error) => anyhow::Error::new(error).context(format!(
                "PostgreSQL is unreachable at {server_url} (MYBNB_TEST_DATABASE_URL names it: \
                 start it, or unset the variable to let the tests start one of their own)"
            )),
        },
        Err(error) => error,
    };
    let test = crate::current_test();
    crate::skip_or_fail(
        &format!("SKIPPED: {test} needs PostgreSQL: {reached:#}; MYBNB_SKIP_EXTERNAL=1 skips it"),
        &format!(
            "{test} needs PostgreSQL: {reached:#}\n\
             (or set MYBNB_SKIP_EXTERNAL=1 to skip the tests that need it)"
        ),
    )
}

/// Connects to the database `server_url` names, `postgres` when it names none.
async fn connect(server_url: &str) -> Result<PgConnection, sqlx::Error> {
    let mut options = PgConnectOptions::from_str(server_url)?;
    if options.get_database().is_none() {
        options = options.database("postgres");
    }
    options.connect().await
}

/// Runs `statement` on the server at `server_url`, on a connection of its own.
async fn execute_on(server_url: &str, statement: String) -> Result<(), sqlx::Error> {
    let mut connection = connect(server_url).await?;
    connection.execute(AssertSqlSafe(statement)).await?;
    connection.close().await
}

/// [`execute_on`] from a destructor, which may run inside a test's runtime: on a thread and a
/// runtime of its own.
fn execute_blocking(server_url: &str, statement: String) -> Result<(), sqlx::Error> {
    let server_url = server_url.to_owned();
    let cleanup = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the cleanup");
        runtime.block_on(execute_on(&server_url, statement))
    });
    // A panic in the cleanup has been reported on its thread already.
    cleanup.join().unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the test server's `catalog` (`pg_database`, `pg_namespace`) has a row whose
    /// `column` is `name`.
    async fn exists(catalog: &str, column: &str, name: &str) -> bool {
        let query = format!("SELECT EXISTS (SELECT 1 FROM {catalog} WHERE {column} = $1)");
        let server_url = server_url().await.expect("the test server");
        let mut connection = connect(&server_url).await.expect("the test server");
        let found = sqlx::query_scalar(AssertSqlSafe(query))
            .bind(name)
            .fetch_one(&mut connection)
            .await
            .expect("asked");
        connection.close().await.expect("closed");
        found
    }

    #[tokio::test]
    async fn without_a_named_server_the_tests_share_a_throwaway_cluster_on_the_loopback() {
        if std::env::var_os("MYBNB_TEST_DATABASE_URL").is_some() {
            return;
        }
        let Some((url, mut connection)) = connect_to_test_server().await else {
            return;
        };
        let setting = async |connection: &mut PgConnection, name: &str| -> String {
            sqlx::query_scalar("SELECT current_setting($1)")
                .bind(name)
                .fetch_one(connection)
                .await
                .expect("asked")
        };
        let directory = setting(&mut connection, "data_directory").await;
        assert!(directory.contains("/mybnb-postgres-"), "{directory}");
        assert_eq!(
            setting(&mut connection, "listen_addresses").await,
            "127.0.0.1"
        );
        assert_eq!(setting(&mut connection, "fsync").await, "off");
        let port = setting(&mut connection, "port").await;
        assert!(url.contains(&format!("127.0.0.1:{port}/")), "{url}");
        connection.close().await.expect("closed");
        assert_eq!(server_url().await.expect("the same server"), url);
    }

    #[tokio::test]
    async fn a_test_database_is_reachable_at_its_url_and_dropped_with_its_connections() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let name = database.name().to_owned();
        assert!(name.starts_with(TEST_DATABASE_PREFIX), "{name}");
        assert!(database.url().ends_with(&format!("/{name}")));
        let mut connection = PgConnection::connect(&database.url())
            .await
            .expect("the test database answers");
        let current: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut connection)
            .await
            .expect("asked");
        assert_eq!(current, name);

        // Dropped while `connection` is still open.
        drop(database);
        assert!(!exists("pg_database", "datname", &name).await);
        assert!(
            connection.ping().await.is_err(),
            "its connections are closed"
        );
    }

    #[tokio::test]
    async fn a_database_made_on_a_server_without_a_database_in_its_url_is_removed_on_request() {
        let Some((server_url, connection)) = connect_to_test_server().await else {
            return;
        };
        connection.close().await.expect("closed");
        let mut server = url::Url::parse(&server_url).expect("a URL");
        server.set_path("");
        let database = TestDatabase::create_on(server.as_str(), "mybnb_test_on_")
            .await
            .expect("created");
        let name = database.name().to_owned();
        assert!(name.starts_with("mybnb_test_on_"), "{name}");
        assert!(exists("pg_database", "datname", &name).await);
        let server = server.as_str().trim_end_matches('/');
        assert_eq!(database.url(), format!("{server}/{name}"));
        database.remove().await.expect("dropped");
        assert!(!exists("pg_database", "datname", &name).await);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_where_nothing_is_skipped() {
        // Port 1 on the loopback: nothing listens there.
        let error = TestDatabase::create_on("postgres://postgres@127.0.0.1:1", "mybnb_test_")
            .await
            .err()
            .expect("an error");
        assert!(
            format!("{error:#}").contains("is PostgreSQL up?"),
            "{error:#}"
        );
    }

    #[tokio::test]
    async fn a_test_schema_is_dropped_with_what_is_in_it() {
        let Some(schema) = TestSchema::create("mybnb_test_schema_").await else {
            return;
        };
        let name = schema.name().to_owned();
        let table = format!("CREATE TABLE \"{name}\".t (id INTEGER)");
        execute_on(schema.server_url(), table)
            .await
            .expect("a table in the schema");
        assert!(exists("pg_namespace", "nspname", &name).await);
        drop(schema);
        assert!(
            !exists("pg_namespace", "nspname", &name).await,
            "{name} is gone"
        );
    }
}
