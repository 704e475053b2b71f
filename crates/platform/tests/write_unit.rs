//! The write unit on both backends: what each outcome leaves in the database, units that share
//! a group-commit batch without touching each other, and a writer that goes away mid-unit.

use std::sync::Arc;

use mybnb_events::CorrelationId;
use mybnb_events::booking::BookingCancelled;
use mybnb_platform::db::{Database, DatabaseLocation, Migrations, Stop, Written};
use mybnb_platform::inbox::Handling;
use mybnb_platform::{inbox, outbox};
use mybnb_testkit::postgres::TestSchema;
use secrecy::SecretString;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations");

/// A database with a `notes` table (a unique `name`), the outbox and the inbox, kept alive
/// with what it lives in.
struct TestDatabase {
    database: Database,
    _directory: Option<tempfile::TempDir>,
    _schema: Option<TestSchema>,
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

impl TestDatabase {
    async fn create(backend: Backend) -> Option<TestDatabase> {
        let (location, directory, schema) = match backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().expect("a directory");
                let path = directory.path().join("unit.db");
                (DatabaseLocation::Sqlite { path }, Some(directory), None)
            }
            Backend::Postgres => {
                let schema = TestSchema::create("write_unit_test_").await?;
                let location = DatabaseLocation::Postgres {
                    url: SecretString::from(schema.server_url().to_owned()),
                    schema: schema.name().to_owned(),
                };
                (location, None, Some(schema))
            }
        };
        let migrations = Migrations::portable(&MIGRATOR)
            .and(outbox::migrations())
            .and(inbox::migrations());
        let database = Database::open(&location, 8, &migrations)
            .await
            .expect("a migrated database");
        Some(TestDatabase {
            database,
            _directory: directory,
            _schema: schema,
        })
    }

    async fn names(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT name FROM notes ORDER BY name")
            .fetch_all(self.database.pool())
            .await
            .expect("the notes")
    }

    async fn outbox_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(self.database.pool())
            .await
            .expect("the outbox")
    }
}

fn insert(name: &str) -> mybnb_platform::db::Statement<'_> {
    sqlx::query("INSERT INTO notes (name, version) VALUES ($1, 1)").bind(name)
}

fn bump(name: &str, from_version: i64) -> mybnb_platform::db::Statement<'_> {
    sqlx::query("UPDATE notes SET version = version + 1 WHERE name = $1 AND version = $2")
        .bind(name)
        .bind(from_version)
}

fn cancellation() -> BookingCancelled {
    let day = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("a date");
    BookingCancelled {
        booking_id: Uuid::now_v7(),
        room_id: Uuid::now_v7(),
        guest_id: Uuid::now_v7(),
        host_id: Uuid::now_v7(),
        check_in: day,
        check_out: day + chrono::Days::new(2),
        payment_id: Uuid::now_v7(),
    }
}

/// Runs `test` on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $test:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            if let Some(database) = TestDatabase::create(Backend::Sqlite).await {
                $test(database).await;
            }
        }

        #[tokio::test]
        async fn $postgres() {
            if let Some(database) = TestDatabase::create(Backend::Postgres).await {
                $test(database).await;
            }
        }
    };
}

on_both_backends!(
    applied_units_commit_with_their_events_sqlite,
    applied_units_commit_with_their_events_postgres,
    applied_units_commit_with_their_events
);

async fn applied_units_commit_with_their_events(test: TestDatabase) {
    let correlation = CorrelationId::new("request-1");
    let written = test
        .database
        .write_caused_by(&correlation, async |unit| {
            unit.execute("inserting", insert("a")).await?;
            unit.record(&cancellation()).await?;
            Ok::<_, Stop>("done")
        })
        .await
        .expect("written");
    assert_eq!(written, Written::Applied("done"));
    assert_eq!(test.names().await, ["a"]);
    let pending = outbox::pending(&test.database, 10).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].correlation_id, correlation);
    assert_eq!(pending[0].event_type, "BookingCancelled");
}

on_both_backends!(
    a_lost_race_undoes_the_whole_unit_sqlite,
    a_lost_race_undoes_the_whole_unit_postgres,
    a_lost_race_undoes_the_whole_unit
);

async fn a_lost_race_undoes_the_whole_unit(test: TestDatabase) {
    write_note(&test.database, "a").await;
    let correlation = CorrelationId::generate();
    let written = test
        .database
        .write_caused_by(&correlation, async |unit| {
            unit.execute("inserting", insert("b")).await?;
            unit.record(&cancellation()).await?;
            // Version 1 is current, so 2 is what someone else already moved on from.
            unit.guarded("bumping", bump("a", 2)).await?;
            Ok::<_, Stop>(())
        })
        .await
        .expect("written");
    assert_eq!(written, Written::LostRace);
    assert_eq!(test.names().await, ["a"], "the unit's insert is undone too");
    assert_eq!(test.outbox_rows().await, 0, "and so is its event");

    let won = test
        .database
        .write(async |unit| {
            unit.guarded::<std::convert::Infallible>("bumping", bump("a", 1))
                .await
        })
        .await
        .expect("written");
    assert_eq!(won, Written::Applied(()));
}

on_both_backends!(
    a_unique_violation_is_the_callers_refusal_sqlite,
    a_unique_violation_is_the_callers_refusal_postgres,
    a_unique_violation_is_the_callers_refusal
);

#[derive(Debug, PartialEq, Eq)]
struct NameTaken;

async fn a_unique_violation_is_the_callers_refusal(test: TestDatabase) {
    write_note(&test.database, "a").await;
    let written = test
        .database
        .write(async |unit| {
            unit.insert_unique("inserting", insert("b"), NameTaken)
                .await?;
            unit.insert_unique("inserting", insert("a"), NameTaken)
                .await?;
            Ok(())
        })
        .await
        .expect("written");
    assert_eq!(written, Written::Refused(NameTaken));
    assert_eq!(test.names().await, ["a"]);
}

on_both_backends!(
    an_event_is_handled_once_sqlite,
    an_event_is_handled_once_postgres,
    an_event_is_handled_once
);

async fn an_event_is_handled_once(test: TestDatabase) {
    let handling = Handling {
        consumer: "test",
        event_id: Uuid::now_v7(),
    };
    for (name, expected) in [("a", Written::Applied(())), ("b", Written::AlreadyHandled)] {
        let written = test
            .database
            .write(async |unit| {
                unit.first_time(&handling).await?;
                unit.execute("inserting", insert(name)).await?;
                Ok::<_, Stop>(())
            })
            .await
            .expect("written");
        assert_eq!(written, expected);
    }
    assert_eq!(
        test.names().await,
        ["a"],
        "the second delivery changed nothing"
    );
}

on_both_backends!(
    a_failing_unit_leaves_the_others_of_its_batch_sqlite,
    a_failing_unit_leaves_the_others_of_its_batch_postgres,
    a_failing_unit_leaves_the_others_of_its_batch
);

async fn a_failing_unit_leaves_the_others_of_its_batch(test: TestDatabase) {
    let database = Arc::new(test.database.clone());
    let writers: Vec<_> = (0..64)
        .map(|index| {
            let database = database.clone();
            tokio::spawn(async move {
                let name = format!("note-{index:02}");
                database
                    .write(async |unit| {
                        unit.execute("inserting", insert(&name)).await?;
                        if index % 4 == 0 {
                            // A statement the database refuses: this unit fails.
                            unit.execute("failing", sqlx::query("INSERT INTO nowhere VALUES (1)"))
                                .await?;
                        }
                        Ok::<_, Stop>(())
                    })
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut succeeded = Vec::new();
    for writer in writers {
        succeeded.push(writer.await.expect("a writer"));
    }
    let expected_ok: Vec<bool> = (0..64).map(|index| index % 4 != 0).collect();
    assert_eq!(succeeded, expected_ok);
    let expected: Vec<String> = (0..64)
        .filter(|index| index % 4 != 0)
        .map(|index| format!("note-{index:02}"))
        .collect();
    assert_eq!(test.names().await, expected);
}

on_both_backends!(
    a_writer_that_goes_away_mid_unit_leaves_nothing_sqlite,
    a_writer_that_goes_away_mid_unit_leaves_nothing_postgres,
    a_writer_that_goes_away_mid_unit_leaves_nothing
);

async fn a_writer_that_goes_away_mid_unit_leaves_nothing(test: TestDatabase) {
    let database = test.database.clone();
    let (halfway, reached) = tokio::sync::oneshot::channel();
    let abandoned = tokio::spawn(async move {
        let mut halfway = Some(halfway);
        database
            .write(async |unit| {
                unit.execute("inserting", insert("abandoned")).await?;
                if let Some(halfway) = halfway.take() {
                    let _ = halfway.send(());
                }
                // The request is cancelled here, with half of its unit written.
                std::future::pending::<()>().await;
                Ok::<_, Stop>(())
            })
            .await
    });
    reached.await.expect("the unit got halfway");
    abandoned.abort();
    assert!(abandoned.await.is_err_and(|error| error.is_cancelled()));

    write_note(&test.database, "next").await;
    assert_eq!(test.names().await, ["next"]);
}

async fn write_note(database: &Database, name: &str) {
    let written = database
        .write(async |unit| {
            unit.execute("inserting", insert(name)).await?;
            Ok::<_, Stop>(())
        })
        .await
        .expect("written");
    assert_eq!(written, Written::Applied(()));
}

/// A fresh SQLite file opened by many connections at once (a first start: migrations, the
/// checkpointer and the first requests) has each of them set WAL mode without a "database is
/// locked" error.
#[tokio::test]
async fn a_fresh_sqlite_file_opens_on_many_connections_at_once() {
    for _ in 0..20 {
        let directory = tempfile::tempdir().expect("a directory");
        let location = DatabaseLocation::Sqlite {
            path: directory.path().join("fresh.db"),
        };
        let database = Database::connect_lazy(&location, 16).expect("a database");
        let writer = database.clone();
        let migrating = tokio::spawn(async move {
            writer
                .migrate(&Migrations::portable(&MIGRATOR).and(inbox::migrations()))
                .await
        });
        let reads: Vec<_> = (0..16)
            .map(|_| {
                let pool = database.pool().clone();
                tokio::spawn(async move { sqlx::query("SELECT 1").execute(&pool).await })
            })
            .collect();
        for read in reads {
            read.await
                .expect("a reader")
                .expect("a connection that set its pragmas");
        }
        migrating.await.expect("the migrations").expect("migrated");
        database.close().await;
    }
}
