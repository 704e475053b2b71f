//! Waiting for what happens in the background (events, reconciliation, a recovery): polling a
//! probe until it answers `Ok`, within a bound that fails the test, not a sleep for a guessed
//! time.

use std::time::Duration;

/// How long [`eventually`] waits before it fails the test: a bound on a hung condition, not a
/// timing assertion. One value for every suite, kept with the client they share.
pub use mybnb_client::SETTLED_WITHIN;

/// How often [`eventually`] and [`eventually_within`] ask the probe.
pub const POLL_EVERY: Duration = Duration::from_millis(25);

/// Polls `probe` until it answers `Ok`, for at most [`SETTLED_WITHIN`]; fails naming `what` and
/// the probe's last reason otherwise.
pub async fn eventually<T>(what: &str, probe: impl AsyncFnMut() -> Result<T, String>) -> T {
    eventually_within(SETTLED_WITHIN, what, probe).await
}

/// [`eventually`] with a bound of its own, for what takes longer than [`SETTLED_WITHIN`] by
/// design (or should take less).
pub async fn eventually_within<T>(
    limit: Duration,
    what: &str,
    probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    eventually_polling(limit, POLL_EVERY, what, probe).await
}

/// [`eventually_within`] asking the probe every `every` instead of every [`POLL_EVERY`]: less
/// often where a probe is costly, more often where a test waits for many short conditions. The
/// probe is first asked at once.
pub async fn eventually_polling<T>(
    limit: Duration,
    every: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    let mut poll = tokio::time::interval(every);
    loop {
        poll.tick().await;
        let reason = match probe().await {
            Ok(value) => return value,
            Err(reason) => reason,
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {limit:?}; last seen: {reason}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_probe_is_asked_until_it_answers_and_its_value_returned() {
        let mut asked = 0;
        let value = eventually("the third question", async || {
            asked += 1;
            if asked == 3 {
                Ok(asked * 10)
            } else {
                Err(format!("asked {asked} times"))
            }
        })
        .await;
        assert_eq!((asked, value), (3, 30));
    }

    #[tokio::test]
    #[should_panic(expected = "a condition that never holds: not within 50ms; last seen: no")]
    async fn a_probe_that_never_answers_fails_the_test_with_its_last_reason() {
        eventually_polling(
            Duration::from_millis(50),
            Duration::from_millis(5),
            "a condition that never holds",
            async || Err::<(), _>("no".to_owned()),
        )
        .await;
    }
}
