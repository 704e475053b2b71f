//! Where the time between a booking's commit and its notification goes, from what the public
//! interfaces tell (same machine, same clock):
//!
//! - the bus's history (`EventBus::history`): each `BookingConfirmed` envelope's
//!   `occurredAt`, stamped while the unit that confirms the booking runs (just before its
//!   group commit), and when the bus stored it (the embedded log's append; the stream's
//!   timestamp on JetStream);
//! - the notification on the host's stream: its `createdAt`, stamped in the unit that records
//!   it (just before its commit);
//! - the client: when the 201 and the notification arrived.
//!
//! And how the notifications reached the stream ([`Releases`]): consecutive arrivals less
//! than [`TOGETHER`] apart form a group. A group recorded far apart but arriving at once was
//! released by one commit of notification's database; for the slowest notifications this
//! tells how much of "recorded → on the stream" was spent waiting for the rest of their group
//! commit, and how much came after.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use mybnb_bus::EventBus;
use mybnb_events::IntegrationEvent;
use mybnb_events::booking::BookingConfirmed;
use serde::Serialize;

use crate::follower::Arrival;
use crate::stats::Spread;

/// Arrivals closer than this (µs) count as released together.
const TOGETHER: i64 = 500;

/// The share of notifications, slowest first, that [`Releases`] looks into.
const SLOWEST: f64 = 0.02;

/// One step of the way, over the measured bookings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub from: String,
    pub to: String,
    pub spread: Spread,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Releases {
    pub groups: usize,
    pub mean_group_size: f64,
    /// Of the slowest 2 % by recorded → on the stream, the means of: that time; the part from
    /// being recorded to the last of its group being recorded; the part after; the size of
    /// its group.
    pub slowest_recorded_to_stream_ms: f64,
    pub slowest_waiting_for_group_ms: f64,
    pub slowest_after_group_ms: f64,
    pub slowest_group_size: f64,
}

/// Each booking's confirmation on the bus: when it occurred, when the bus stored it.
pub async fn on_bus(
    bus: &dyn EventBus,
) -> anyhow::Result<HashMap<String, (DateTime<Utc>, DateTime<Utc>)>> {
    let mut found = HashMap::new();
    let mut after = 0;
    loop {
        let entries = bus.history(&[BookingConfirmed::TYPE], after, 1000).await?;
        for entry in &entries {
            let times = (entry.envelope.occurred_at, entry.published_at);
            found.insert(entry.envelope.aggregate_id.to_string(), times);
        }
        match entries.last() {
            Some(last) if entries.len() == 1000 => after = last.position,
            _ => return Ok(found),
        }
    }
}

/// The stages of `bookings` (id, 201's arrival, notification's arrival), given what the bus
/// holds; `stored` names the bus's step ("relay appended it to the log", …).
pub fn measure(
    bookings: &[(String, DateTime<Utc>, Arrival)],
    bus: &HashMap<String, (DateTime<Utc>, DateTime<Utc>)>,
    stored: &str,
) -> (Vec<Stage>, Releases) {
    let confirmed = "booking confirmed (before commit)";
    let recorded = "notification recorded (before commit)";
    let streamed = "on the host's stream";
    let mut steps: Vec<(&str, &str, Vec<i64>)> = [
        (confirmed, "201 at the client"),
        (confirmed, stored),
        (stored, recorded),
        (recorded, streamed),
        (confirmed, streamed),
    ]
    .into_iter()
    .map(|(from, to)| (from, to, Vec::new()))
    .collect();
    for (booking_id, answered, arrival) in bookings {
        let Some(&(occurred, on_bus)) = bus.get(booking_id) else {
            continue;
        };
        let marks = [
            (occurred, *answered),
            (occurred, on_bus),
            (on_bus, arrival.recorded),
            (arrival.recorded, arrival.wall),
            (occurred, arrival.wall),
        ];
        for ((from, to), step) in marks.into_iter().zip(steps.iter_mut()) {
            step.2
                .push((to - from).num_microseconds().unwrap_or(i64::MAX));
        }
    }
    let stages = steps
        .into_iter()
        .map(|(from, to, samples)| Stage {
            from: from.to_owned(),
            to: to.to_owned(),
            spread: Spread::of(samples),
        })
        .collect();
    let on_stream: Vec<_> = bookings
        .iter()
        .map(|(_, _, arrival)| (arrival.recorded, arrival.wall))
        .collect();
    (stages, group(&on_stream))
}

/// Groups `notifications` (when recorded, when on the stream) by arrival.
fn group(notifications: &[(DateTime<Utc>, DateTime<Utc>)]) -> Releases {
    let mut arrivals: Vec<(i64, i64)> = notifications
        .iter()
        .map(|(recorded, arrived)| (recorded.timestamp_micros(), arrived.timestamp_micros()))
        .collect();
    arrivals.sort_unstable_by_key(|&(_, arrived)| arrived);
    let mut groups: Vec<&[(i64, i64)]> = Vec::new();
    let mut start = 0;
    for index in 1..=arrivals.len() {
        let apart = arrivals
            .get(index)
            .is_none_or(|next| next.1 - arrivals[index - 1].1 >= TOGETHER);
        if apart {
            groups.push(&arrivals[start..index]);
            start = index;
        }
    }
    // (recorded → on the stream, waiting for the group, after the group, group size)
    let mut each: Vec<(i64, i64, i64, usize)> = Vec::with_capacity(arrivals.len());
    for group in &groups {
        let last_recorded = group.iter().map(|&(recorded, _)| recorded).max();
        for &(recorded, arrived) in *group {
            let last = last_recorded.unwrap_or(recorded);
            each.push((
                arrived - recorded,
                last - recorded,
                arrived - last,
                group.len(),
            ));
        }
    }
    each.sort_unstable_by_key(|&(total, ..)| std::cmp::Reverse(total));
    let slowest = &each[..((each.len() as f64 * SLOWEST).ceil() as usize).min(each.len())];
    let mean = |value: fn(&(i64, i64, i64, usize)) -> f64| {
        slowest.iter().map(value).sum::<f64>() / slowest.len().max(1) as f64
    };
    Releases {
        groups: groups.len(),
        mean_group_size: arrivals.len() as f64 / groups.len().max(1) as f64,
        slowest_recorded_to_stream_ms: mean(|each| each.0 as f64 / 1000.0),
        slowest_waiting_for_group_ms: mean(|each| each.1 as f64 / 1000.0),
        slowest_after_group_ms: mean(|each| each.2 as f64 / 1000.0),
        slowest_group_size: mean(|each| each.3 as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_released_by_one_commit() {
        let at = |micros| DateTime::from_timestamp_micros(micros).unwrap_or_default();
        // Three recorded 10 ms apart, released together 2 ms after the last; one alone.
        let notifications = [
            (at(0), at(22_000)),
            (at(10_000), at(22_100)),
            (at(20_000), at(22_200)),
            (at(50_000), at(51_000)),
        ];
        let releases = group(&notifications);
        assert_eq!(releases.groups, 2);
        assert_eq!(releases.mean_group_size, 2.0);
        // The slowest 2 % of four is one: the first, 22 ms, 20 of them waiting for the group.
        assert_eq!(releases.slowest_recorded_to_stream_ms, 22.0);
        assert_eq!(releases.slowest_waiting_for_group_ms, 20.0);
        assert_eq!(releases.slowest_after_group_ms, 2.0);
        assert_eq!(releases.slowest_group_size, 3.0);
    }
}
