//! The write unit: one state change, with the steps every context repeats around it.
//!
//! A repository writes by handing [`Database::write`](super::Database::write) an async closure
//! that takes a [`Unit`]. The closure borrows what it writes (nothing is cloned to make it
//! `'static`) and runs statements through the unit's steps:
//!
//! - [`Unit::first_time`]: the inbox check of a consumer, stopping with
//!   [`Stop::AlreadyHandled`] when the event was handled before;
//! - [`Unit::guarded`]: a compare-and-set update, stopping with [`Stop::LostRace`] when the
//!   row is no longer as the caller saw it;
//! - [`Unit::insert_unique`]: an insert a unique constraint may refuse, stopping with the
//!   caller's own reason ([`Stop::Refused`]);
//! - [`Unit::record`]: an event into the outbox, carrying the unit's correlation id.
//!
//! A closure that stops (or fails) has all of its changes undone; one that returns `Ok` has
//! them committed. Either way the caller gets a [`Written`] outcome once that is durable.

use std::convert::Infallible;

use anyhow::Context;
use mybnb_events::{CorrelationId, IntegrationEvent};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Arguments, Encode, Type};

use crate::inbox::Handling;

/// A statement with its bound values, as a unit's steps take it.
pub type Statement<'q> = Query<'q, Any, AnyArguments>;

/// Why a unit stopped before its end; its changes are undone. `R` is the repository's own
/// reason for refusing a write (a username taken, nights taken); `Infallible` when it has none.
#[derive(Debug)]
pub enum Stop<R = Infallible> {
    /// A guarded update found its row changed by someone else.
    LostRace,
    /// The consumer had already handled the event.
    AlreadyHandled,
    /// The repository refused the write, for this reason.
    Refused(R),
    /// Something broke (the database, a query); the caller gets the error.
    Failed(anyhow::Error),
}

impl<R> From<anyhow::Error> for Stop<R> {
    fn from(error: anyhow::Error) -> Self {
        Stop::Failed(error)
    }
}

/// How a write unit ended, once its outcome is durable.
#[derive(Debug, PartialEq, Eq)]
pub enum Written<T, R = Infallible> {
    /// Its changes are committed; the closure's answer.
    Applied(T),
    /// Nothing changed: a guarded update lost its race.
    LostRace,
    /// Nothing changed: the event was handled before.
    AlreadyHandled,
    /// Nothing changed: the repository refused, for this reason.
    Refused(R),
}

impl<T, R> Written<T, R> {
    /// The answer, if the unit's changes were committed.
    pub fn applied(self) -> Option<T> {
        match self {
            Written::Applied(value) => Some(value),
            _ => None,
        }
    }

    /// Whether the unit's changes were committed.
    pub fn is_applied(&self) -> bool {
        matches!(self, Written::Applied(_))
    }

    /// The outcome of a closure, or its error.
    pub(super) fn from_closure(outcome: Result<T, Stop<R>>) -> anyhow::Result<Self> {
        match outcome {
            Ok(value) => Ok(Written::Applied(value)),
            Err(Stop::LostRace) => Ok(Written::LostRace),
            Err(Stop::AlreadyHandled) => Ok(Written::AlreadyHandled),
            Err(Stop::Refused(reason)) => Ok(Written::Refused(reason)),
            Err(Stop::Failed(error)) => Err(error),
        }
    }
}

impl<T> Written<T, T> {
    /// The answer of a unit that neither guards an update nor handles an event, and whose
    /// refusals answer in the same type as its success (`Created`, `UsernameTaken`).
    pub fn answer(self) -> anyhow::Result<T> {
        match self {
            Written::Applied(answer) | Written::Refused(answer) => Ok(answer),
            Written::LostRace | Written::AlreadyHandled => {
                anyhow::bail!(
                    "a unit without guards or inbox checks lost a race or found its event handled"
                )
            }
        }
    }
}

/// The statements of one write, inside its transaction. `Cause` is the correlation id of the
/// request or event that caused the write, for units that record events; `()` for those that
/// do not (the relay's bookkeeping, a mail queue).
pub struct Unit<'c, Cause = ()> {
    connection: &'c mut AnyConnection,
    cause: Cause,
}

impl<'c, Cause> Unit<'c, Cause> {
    pub(super) fn new(connection: &'c mut AnyConnection, cause: Cause) -> Self {
        Unit { connection, cause }
    }

    /// Runs a statement; how many rows it changed.
    pub async fn execute(
        &mut self,
        what: &'static str,
        statement: Statement<'_>,
    ) -> anyhow::Result<u64> {
        let done = statement
            .execute(&mut *self.connection)
            .await
            .context(what)?;
        Ok(done.rows_affected())
    }

    /// Runs a compare-and-set update that must change exactly one row; else the row is not as
    /// the caller saw it and the unit stops with [`Stop::LostRace`].
    pub async fn guarded<R>(
        &mut self,
        what: &'static str,
        statement: Statement<'_>,
    ) -> Result<(), Stop<R>> {
        match self.execute(what, statement).await? {
            1 => Ok(()),
            _ => Err(Stop::LostRace),
        }
    }

    /// Runs an insert; when a unique constraint or primary key refuses it, the unit stops with
    /// [`Stop::Refused`]`(refusal)`.
    pub async fn insert_unique<R>(
        &mut self,
        what: &'static str,
        statement: Statement<'_>,
        refusal: R,
    ) -> Result<(), Stop<R>> {
        match statement.execute(&mut *self.connection).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(Stop::Refused(refusal))
            }
            Err(error) => Err(Stop::Failed(anyhow::Error::new(error).context(what))),
        }
    }

    /// Records in the consumer's inbox that it handles the event; when it already has, the
    /// unit stops with [`Stop::AlreadyHandled`] and changes nothing.
    pub async fn first_time<R>(&mut self, handling: &Handling) -> Result<(), Stop<R>> {
        if handling.first_time(self.connection).await? {
            Ok(())
        } else {
            Err(Stop::AlreadyHandled)
        }
    }

    /// The connection, for reads inside the transaction and for the platform's own tables.
    pub fn connection(&mut self) -> &mut AnyConnection {
        self.connection
    }
}

impl Unit<'_, &CorrelationId> {
    /// Appends the event to the outbox, to be published once the unit commits.
    pub async fn record<E: IntegrationEvent>(&mut self, event: &E) -> anyhow::Result<()> {
        crate::outbox::record(self.connection, event, self.cause).await
    }
}

/// Values bound to `$1, $2, …`, for statements whose number of values varies (`IN (…)`, rows of
/// a multi-row insert). Written here because sqlx's `QueryBuilder` writes `?` placeholders for
/// the `Any` driver, which PostgreSQL refuses.
#[derive(Default)]
pub struct Bindings {
    arguments: AnyArguments,
}

impl Bindings {
    /// Binds the value; its placeholder, to write into the statement.
    pub fn bind<'t, T>(&mut self, value: T) -> anyhow::Result<String>
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        self.arguments
            .add(value)
            .map_err(|error| anyhow::anyhow!("binding a value: {error}"))?;
        Ok(format!("${}", self.arguments.len()))
    }

    /// Binds every value; their placeholders, comma-separated.
    pub fn bind_all<'t, T>(&mut self, values: impl IntoIterator<Item = T>) -> anyhow::Result<String>
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        let placeholders = values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(placeholders.join(", "))
    }

    /// The statement `sql`, whose placeholders came from these bindings. Only placeholders are
    /// ever interpolated into `sql`, never values.
    pub fn statement(self, sql: String) -> Statement<'static> {
        sqlx::query_with(sqlx::AssertSqlSafe(sql), self.arguments)
    }
}
