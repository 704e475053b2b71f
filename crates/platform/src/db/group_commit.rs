//! Group commit for SQLite.
//!
//! SQLite has one writer at a time and, with `synchronous=FULL`, an fsync per commit: committed
//! one by one, writes are capped by the disk's fsync rate. So a single writer task takes the
//! write units waiting for it, runs them in one transaction — each inside its own savepoint, so
//! that one unit's failure or deliberate undo leaves the others intact — and commits them with
//! one fsync. Each unit's caller gets its result only after that commit: durability is the same
//! as committing alone, and latency is at most one batch. A batch takes the units that are
//! waiting, and those that arrive while it runs, until its units have run for
//! [`MAX_BATCH_TIME`]: a unit is never held up by more than that much of others' work.
//!
//! Written here because no maintained crate offers it for sqlx.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor};
use tokio::sync::{mpsc, oneshot};

use crate::BoxFuture;

/// What a write unit decided about its own changes.
pub enum WriteOutcome<T> {
    /// Keep the unit's changes.
    Keep(T),
    /// Undo the unit's changes (e.g. a night turned out to be taken) and answer `T`.
    Undo(T),
}

/// A write unit: statements on the writer connection, inside a transaction.
pub type WriteUnit<T> = Box<
    dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, anyhow::Result<WriteOutcome<T>>>
        + Send,
>;

/// Delivers a unit's result once its batch is committed (or not).
type Finisher = Box<dyn FnOnce(Result<(), Arc<anyhow::Error>>) + Send>;

/// What running a unit left behind: how to answer it, and whether the batch's transaction is
/// still whole (a failed savepoint command means SQLite rolled the transaction back itself).
struct Ran {
    finish: Finisher,
    transaction_intact: bool,
}

/// A unit with its result channel, its type erased so units of any type share one queue.
type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Ran> + Send>;

/// The most units committed together.
const MAX_BATCH: usize = 512;

/// A batch takes no more units once its units have run this long: the first ones would wait
/// for the last ones' work before their commit.
const MAX_BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(4);

/// Units waiting for the writer beyond this make writers wait to queue (back-pressure).
const QUEUE: usize = 8192;

#[derive(Clone, Debug)]
pub struct GroupCommitter {
    queue: mpsc::Sender<Job>,
}

impl GroupCommitter {
    /// Starts the writer task on `writer`, a pool of one connection.
    pub fn start(writer: AnyPool) -> GroupCommitter {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(writer, jobs));
        GroupCommitter { queue }
    }

    pub async fn write<T: Send + 'static>(&self, unit: WriteUnit<T>) -> anyhow::Result<T> {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                // A caller that gave up (its request was cancelled) must not have its write
                // made after all.
                if answer.is_closed() {
                    let finish: Finisher = Box::new(|_| {});
                    return Ran {
                        finish,
                        transaction_intact: true,
                    };
                }
                let (outcome, transaction_intact) = run_in_savepoint(connection, unit).await;
                let finish: Finisher = Box::new(move |committed| {
                    let result = match committed {
                        Ok(()) => outcome,
                        Err(error) => Err(anyhow::anyhow!("the batch did not commit: {error:#}")),
                    };
                    // The caller may have given up waiting; then nobody needs the answer.
                    let _ = answer.send(result);
                });
                Ran {
                    finish,
                    transaction_intact,
                }
            })
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| anyhow::anyhow!("the database writer has stopped"))?;
        result
            .await
            .map_err(|_| anyhow::anyhow!("the database writer dropped a write"))?
    }
}

/// Runs the unit inside the savepoint the batch has open for it, then closes it and opens the
/// next unit's, in one round trip to SQLite; says whether the transaction is still whole.
async fn run_in_savepoint<T>(
    connection: &mut AnyConnection,
    unit: WriteUnit<T>,
) -> (anyhow::Result<T>, bool) {
    let (outcome, keep) = match unit(connection).await {
        Ok(WriteOutcome::Keep(value)) => (Ok(value), true),
        Ok(WriteOutcome::Undo(value)) => (Ok(value), false),
        Err(error) => (Err(error), false),
    };
    let closing = if keep {
        "RELEASE unit; SAVEPOINT unit"
    } else {
        "ROLLBACK TO unit; RELEASE unit; SAVEPOINT unit"
    };
    match connection.execute(closing).await {
        Ok(_) => (outcome, true),
        Err(error) => (Err(error.into()), false),
    }
}

async fn write_batches(writer: AnyPool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut finishers = Vec::new();
        let committed = commit_batch(&writer, first, &mut jobs, &mut finishers)
            .await
            .map_err(Arc::new);
        if let Err(error) = &committed {
            tracing::error!(
                error = format!("{error:#}"),
                units = finishers.len(),
                "a write batch failed"
            );
        }
        for finish in finishers {
            finish(committed.clone());
        }
    }
}

/// Runs `first` and the units that follow it in one transaction, then commits them.
async fn commit_batch(
    writer: &AnyPool,
    first: Job,
    jobs: &mut mpsc::Receiver<Job>,
    finishers: &mut Vec<Finisher>,
) -> anyhow::Result<()> {
    let mut connection = writer.acquire().await?;
    // The first unit's savepoint; each unit opens the next one's as it closes its own, and
    // COMMIT closes the last (empty) one.
    if let Err(error) = connection.execute("BEGIN IMMEDIATE; SAVEPOINT unit").await {
        abandon(&mut connection).await;
        return Err(error.into());
    }
    let started = tokio::time::Instant::now();
    let mut next = Some(first);
    while let Some(job) = next.take() {
        let ran = job(&mut connection).await;
        finishers.push(ran.finish);
        if !ran.transaction_intact {
            // Later units would run outside any transaction: give the batch up (its units are
            // told so; those not taken yet wait for the next batch).
            abandon(&mut connection).await;
            anyhow::bail!("a write unit broke the batch's transaction");
        }
        if finishers.len() < MAX_BATCH && started.elapsed() < MAX_BATCH_TIME {
            next = jobs.try_recv().ok();
        }
    }
    if let Err(error) = connection.execute("COMMIT").await {
        abandon(&mut connection).await;
        return Err(error.into());
    }
    Ok(())
}

/// Rolls the batch back; a connection that cannot even do that is closed, not reused.
async fn abandon(connection: &mut PoolConnection<Any>) {
    if connection.execute("ROLLBACK").await.is_err() {
        connection.close_on_drop();
    }
}
