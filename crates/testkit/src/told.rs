//! What users are told, as the notification API shows it: a history counted by
//! `(type, bookingId)`, and waiting until a user's history holds exactly what is expected —
//! each notification as often as counted, nothing else.

use std::collections::BTreeMap;
use std::time::Duration;

use mybnb_client::{Client, Notification};
use uuid::Uuid;

use crate::eventually::eventually_polling;

/// How many notifications of each `(type, bookingId)` a history holds.
pub type Tally = BTreeMap<(String, Uuid), usize>;

/// `history` counted by `(type, bookingId)`.
pub fn tally(history: &[Notification]) -> Tally {
    let mut counts = Tally::new();
    for notification in history {
        *counts
            .entry((notification.kind.clone(), notification.booking_id))
            .or_default() += 1;
    }
    counts
}

/// `(type, bookingId)` pairs, each expected once.
pub fn once_each<'a>(expected: impl IntoIterator<Item = (&'a str, Uuid)>) -> Tally {
    let mut counts = Tally::new();
    for (kind, booking_id) in expected {
        *counts.entry((kind.to_owned(), booking_id)).or_default() += 1;
    }
    counts
}

/// Waits, asking every `every` for at most `within`, until the history of the holder of
/// `token` (`who`, in a failure) is exactly `expected`, and returns it newest first. A
/// notification too many, or one not expected, fails at once: a history never loses one.
pub async fn await_told(
    client: &Client,
    who: &str,
    token: &str,
    expected: &Tally,
    within: Duration,
    every: Duration,
) -> Vec<Notification> {
    let what = format!("{who}'s notifications arrive, each once");
    eventually_polling(within, every, &what, async || {
        let history = client
            .all_notifications(token)
            .await
            .map_err(|error| error.to_string())?;
        let found = tally(&history);
        let extra: Vec<_> = found
            .iter()
            .filter(|(key, count)| expected.get(*key).is_none_or(|wanted| *count > wanted))
            .collect();
        assert!(
            extra.is_empty(),
            "{who} got notifications not expected, or too many: {extra:?}\nexpected {expected:?}"
        );
        if &found == expected {
            Ok(history)
        } else {
            Err(format!("{found:?}, expecting {expected:?}"))
        }
    })
    .await
}
