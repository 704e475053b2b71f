//! What every suite and the bench share, so that no copy drifts: the password of the users
//! they make, the calendar bookings are judged by, and the bound on waiting for what happens
//! by events.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};

/// The password every user a suite or the bench makes has.
pub const PASSWORD: &str = "correct horse battery";

/// How long a test waits for what happens in the background (events, reconciliation) before
/// it fails: a bound on a condition that never holds, never a timing assertion. Generous,
/// because the distributed suite runs ten unoptimised processes on one machine.
pub const SETTLED_WITHIN: Duration = Duration::from_secs(60);

/// The date `days` days after today in UTC, the calendar bookings are judged by.
pub fn day(days: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(days)
}

/// `name` with eight random hex digits, for a username or a room no other test uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}
