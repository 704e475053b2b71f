//! Notifications the host's stream received together: consecutive arrivals less than
//! [`TOGETHER`] apart form a group. A group whose notifications were recorded far apart but
//! arrived at once was released by one commit of notification's database (each goes to the
//! stream only once its own commit is durable); for the slowest notifications this tells how
//! much of "recorded → on the stream" was spent waiting for the rest of their group commit to
//! run, and how much came after.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Arrivals closer than this (µs) count as released together.
const TOGETHER: i64 = 500;

/// The share of notifications, slowest first, that [`Releases`] looks into.
const SLOWEST: f64 = 0.02;

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

/// Groups `notifications` (when recorded, when on the stream) by arrival.
pub fn group(notifications: &[(DateTime<Utc>, DateTime<Utc>)]) -> Releases {
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
