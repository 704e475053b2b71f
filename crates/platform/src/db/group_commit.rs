//! Group commit for SQLite.
//!
//! SQLite has one writer at a time and, with `synchronous=FULL`, an fsync per commit: committed
//! one by one, writes are capped by the disk's fsync rate. So writers take turns on the one
//! writer connection (a fair, first-come queue), each running its unit inside a savepoint of a
//! shared open transaction — so that one unit's failure or deliberate undo leaves the others
//! intact — and a committer commits whatever the turns before it added, with one fsync. Each
//! writer gets its outcome only after that commit: durability is the same as committing alone,
//! and a writer's wait is at most one batch. The writer with nobody queued behind it commits
//! the batch — itself when the batch is its unit alone, else in a task of the batch's own — so
//! every writer that queued while the batch was open is in it. A committer task only stands in
//! for writers that went away (cancelled while queued or mid-unit). A batch stops taking units once it is
//! [`MAX_BATCH`] units or [`MAX_BATCH_TIME`] old, so a unit is never held up by more than that
//! much of others' work.
//!
//! Taking turns, rather than shipping units to a writer task, lets a unit borrow what it
//! writes: nothing has to be cloned into a `'static` closure. Written here because no
//! maintained crate offers group commit for sqlx.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, mpsc, watch};
use tokio::time::Instant;

use super::unit::{Stop, Unit, Written};

/// The most units committed together.
const MAX_BATCH: usize = 512;

/// A batch takes no more units once it has been open this long: the first ones would wait for
/// the last ones' work before their commit.
const MAX_BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(4);

/// Each unit's savepoint is opened as the previous one closes, in the same round trip to
/// SQLite; COMMIT closes the last (empty) one.
const OPEN: &str = "BEGIN IMMEDIATE; SAVEPOINT unit";
const KEEP: &str = "RELEASE unit; SAVEPOINT unit";
const UNDO: &str = "ROLLBACK TO unit; RELEASE unit; SAVEPOINT unit";

#[derive(Clone, Debug)]
pub(super) struct GroupCommitter {
    writer: AnyPool,
    turns: Arc<Mutex<Turns>>,
    /// Writers waiting for their turn.
    queued: Arc<AtomicUsize>,
    /// Tells the committer that a unit left its batch open; it ends when every sender is gone.
    commit_wanted: mpsc::Sender<()>,
}

/// The state the turns share.
#[derive(Default, Debug)]
struct Turns {
    batch: Option<Batch>,
    /// A writer went away (its request was cancelled) in the middle of its unit: its savepoint
    /// may hold half a write, which the next turn undoes.
    unit_unfinished: bool,
}

/// The open transaction of a batch, and where its writers wait for its commit.
#[derive(Debug)]
struct Batch {
    transaction: Transaction<'static, Any>,
    opened: Instant,
    units: usize,
    committed: watch::Sender<Option<Result<(), String>>>,
}

impl GroupCommitter {
    /// The committer of `writer`, a pool of one connection.
    pub(super) fn start(writer: AnyPool) -> GroupCommitter {
        let (commit_wanted, wanted) = mpsc::channel(1);
        let turns = Arc::new(Mutex::new(Turns::default()));
        let queued = Arc::new(AtomicUsize::new(0));
        tokio::spawn(commit_when_wanted(
            Arc::downgrade(&turns),
            queued.clone(),
            wanted,
        ));
        GroupCommitter {
            writer,
            turns,
            queued,
            commit_wanted,
        }
    }

    /// Runs the unit in its turn, inside the open batch; its outcome once the batch commits.
    pub(super) async fn write<C, T, R>(
        &self,
        cause: C,
        unit: impl AsyncFnOnce(&mut Unit<'_, C>) -> Result<T, Stop<R>>,
    ) -> anyhow::Result<Written<T, R>> {
        // Declared before the turn, so that a writer that goes away mid-unit releases its turn
        // and then asks for the commit (the committer undoes the unfinished unit first).
        let mut signal = CommitSignal {
            wanted: &self.commit_wanted,
            armed: true,
        };
        let in_queue = InQueue::join(&self.queued);
        let mut guard = self.turns.lock().await;
        drop(in_queue);
        let turns = &mut *guard;
        turns.undo_unfinished_unit().await;
        if turns.batch.as_ref().is_some_and(Batch::is_full)
            && let Some(full) = turns.batch.take()
        {
            tokio::spawn(full.commit());
        }
        let batch = match &mut turns.batch {
            Some(batch) => batch,
            empty => empty.insert(Batch::open(&self.writer).await?),
        };
        batch.units += 1;
        let mut committed = batch.committed.subscribe();
        turns.unit_unfinished = true;
        let outcome = unit(&mut Unit::new(&mut batch.transaction, cause)).await;
        let closing = if outcome.is_ok() { KEEP } else { UNDO };
        let closed = batch.transaction.execute(closing).await;
        turns.unit_unfinished = false;
        if let Err(error) = closed {
            // The transaction is gone (SQLite rolls it back itself after some errors): the
            // batch's other units are lost with it, and their writers are told so.
            if let Some(broken) = turns.batch.take() {
                broken.abandon(&error).await;
            }
            return Err(anyhow::Error::new(error).context("closing a write unit's savepoint"));
        }
        let alone = self.queued.load(Ordering::Acquire) == 0;
        let mine_only = batch.units == 1;
        let batch = if alone { turns.batch.take() } else { None };
        drop(guard);
        match batch {
            // Nobody can join: commit now. A batch of this unit alone is committed here, so
            // that a writer that goes away mid-commit leaves only its own outcome unknown.
            Some(batch) if mine_only => {
                signal.armed = false;
                batch.commit().await;
            }
            Some(batch) => {
                signal.armed = false;
                tokio::spawn(batch.commit());
            }
            // Those queued join the batch, and the last of them commits it.
            None => signal.armed = false,
        }
        let outcome = match outcome {
            Err(Stop::Failed(error)) => return Err(error),
            outcome => outcome,
        };
        // Even a unit that changed nothing waits: what stopped it (a night someone else
        // holds, an event already handled) may be in this batch, not yet durable.
        match committed.wait_for(Option::is_some).await {
            Ok(result) => match &*result {
                Some(Err(error)) => anyhow::bail!("the write batch did not commit: {error}"),
                _ => Written::from_closure(outcome),
            },
            Err(_) => anyhow::bail!("the database writer dropped a write batch"),
        }
    }
}

impl Turns {
    async fn undo_unfinished_unit(&mut self) {
        if !std::mem::take(&mut self.unit_unfinished) {
            return;
        }
        if let Some(batch) = &mut self.batch
            && let Err(error) = batch.transaction.execute(UNDO).await
            && let Some(broken) = self.batch.take()
        {
            broken.abandon(&error).await;
        }
    }
}

impl Batch {
    async fn open(writer: &AnyPool) -> anyhow::Result<Batch> {
        let transaction = writer.begin_with(OPEN).await?;
        Ok(Batch {
            transaction,
            opened: Instant::now(),
            units: 0,
            committed: watch::Sender::new(None),
        })
    }

    fn is_full(&self) -> bool {
        self.units >= MAX_BATCH || self.opened.elapsed() >= MAX_BATCH_TIME
    }

    async fn commit(self) {
        let units = self.units;
        let result = self.transaction.commit().await.map_err(|error| {
            tracing::error!(%error, units, "a write batch failed to commit");
            error.to_string()
        });
        self.committed.send_replace(Some(result));
    }

    async fn abandon(self, error: &sqlx::Error) {
        tracing::error!(%error, units = self.units, "a write batch was abandoned");
        // Dropping the transaction rolls it back if this cannot.
        let _ = self.transaction.rollback().await;
        self.committed.send_replace(Some(Err(error.to_string())));
    }
}

/// Asks the committer to commit the open batch, when dropped armed.
struct CommitSignal<'a> {
    wanted: &'a mpsc::Sender<()>,
    armed: bool,
}

impl Drop for CommitSignal<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Full means a request is already waiting; closed means the database is closing.
            let _ = self.wanted.try_send(());
        }
    }
}

/// Counts a writer as queued for its turn until dropped (it got its turn, or went away).
struct InQueue<'a>(&'a AtomicUsize);

impl<'a> InQueue<'a> {
    fn join(queued: &'a AtomicUsize) -> Self {
        queued.fetch_add(1, Ordering::AcqRel);
        InQueue(queued)
    }
}

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Commits the open batch for writers that went away, unless writers are queued (the last of
/// them commits it, and one that goes away asks again).
async fn commit_when_wanted(
    turns: std::sync::Weak<Mutex<Turns>>,
    queued: Arc<AtomicUsize>,
    mut wanted: mpsc::Receiver<()>,
) {
    while wanted.recv().await.is_some() {
        let Some(turns) = turns.upgrade() else {
            return;
        };
        let batch = {
            let mut turns = turns.lock().await;
            turns.undo_unfinished_unit().await;
            if queued.load(Ordering::Acquire) > 0 {
                continue;
            }
            turns.batch.take()
        };
        if let Some(batch) = batch {
            batch.commit().await;
        }
    }
}
