//! Results of the event scenarios as JSON (`bench/events-<seconds>s.json`) and as the Markdown
//! the docs include (`benchmarks-events-<seconds>s.md`): a table per scenario, the machine, the
//! command, and how each figure was taken.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::consumer_throughput::ConsumeResult;
use crate::cpu::CoreUse;
use crate::notify::{self, NotifyResult};
use crate::relay_throughput::RelayResult;
use crate::stats::Spread;

/// p99 of commit → readable, embedded log and JetStream, in ms.
const EMBEDDED_TARGET_MS: f64 = 50.0;
const JETSTREAM_TARGET_MS: f64 = 100.0;
/// Events the relay must move per second.
const RELAY_TARGET: f64 = 20_000.0;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventResults {
    pub measured_on: String,
    pub cores: usize,
    pub command: String,
    pub notify: Vec<NotifyResult>,
    pub relay: Vec<RelayResult>,
    pub consume: Vec<ConsumeResult>,
}

impl EventResults {
    pub fn new(command: String) -> EventResults {
        EventResults {
            measured_on: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            command,
            ..EventResults::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.notify.is_empty() && self.relay.is_empty() && self.consume.is_empty()
    }
}

pub fn notify_line(result: &NotifyResult) -> String {
    format!(
        "   {}: {} booked ({:.0}/s), notification p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, \
         {} before the 201, {} missing, {} not booked",
        result.scenario,
        result.booked,
        result.bookings_per_second,
        result.latency.p50_ms,
        result.latency.p99_ms,
        result.latency.max_ms,
        result.before_answer,
        result.missing,
        result.not_booked.values().sum::<u64>()
    )
}

pub fn relay_line(result: &RelayResult) -> String {
    format!(
        "   {}: {} events in {:.2} s, {:.0} events/s, {} left, {} on the bus",
        result.scenario,
        result.moved,
        result.relay_seconds,
        result.events_per_second,
        result.left_in_outbox,
        result.on_bus
    )
}

pub fn consume_line(result: &ConsumeResult) -> String {
    format!(
        "   {}: {} events in {:.2} s, {:.0} events/s",
        result.scenario, result.events, result.seconds, result.events_per_second
    )
}

pub fn write(out: &Path, results: &EventResults, seconds: u64) -> anyhow::Result<()> {
    let json = out.join(format!("bench/events-{seconds}s.json"));
    let markdown = out.join(format!("benchmarks-events-{seconds}s.md"));
    std::fs::create_dir_all(out.join("bench"))?;
    std::fs::write(&json, serde_json::to_string_pretty(results)?)?;
    std::fs::write(&markdown, render(results)?)?;
    eprintln!("\nwrote {} and {}", json.display(), markdown.display());
    Ok(())
}

fn render(results: &EventResults) -> anyhow::Result<String> {
    let mut text = String::new();
    writeln!(
        text,
        "Measured {} on a {}-core machine by\n\n```sh\n\
         cargo build --release -p mybnb -p mybnb-bench\n{}\n```\n\n\
         (`mybnb-bench` being `target/release/mybnb-bench`, or under `$CARGO_TARGET_DIR`). \
         Release builds; the load generator, mybnb and nats-server share the {} cores, and \
         other builds and tests ran on the machine at the same time (\"everything else\" \
         below), so expect noise from run to run: the notification figures depend on how \
         much of the cores is left to mybnb.",
        results.measured_on, results.cores, results.command, results.cores
    )?;
    if !results.notify.is_empty() {
        notify_tables(&mut text, &results.notify)?;
    }
    if !results.relay.is_empty() {
        relay_table(&mut text, &results.relay)?;
    }
    if !results.consume.is_empty() {
        consume_table(&mut text, &results.consume)?;
    }
    Ok(text)
}

fn notify_tables(text: &mut String, results: &[NotifyResult]) -> anyhow::Result<()> {
    writeln!(
        text,
        "\n#### Booking → the host's notification, at a steady {} bookings/s\n\n\
         Target: p99 ≤ {EMBEDDED_TARGET_MS:.0} ms on the embedded log, ≤ \
         {JETSTREAM_TARGET_MS:.0} ms over JetStream.\n\n\
         | scenario | booked | bookings/s | not 201 | answer p50 | answer p99 | \
         notification p50 | p90 | p99 | max | before the 201 | missing | p99 target |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|",
        rates(results)
    )?;
    for result in results {
        let target = if result.bus.contains("JetStream") {
            JETSTREAM_TARGET_MS
        } else {
            EMBEDDED_TARGET_MS
        };
        let met = if result.latency.p99_ms <= target && result.missing == 0 {
            "met"
        } else {
            "**missed**"
        };
        writeln!(
            text,
            "| {} ({}) | {} | {:.0} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | \
             **{:.1} ms** | {:.1} ms | {} | {} | ≤ {target:.0} ms: {met} |",
            result.scenario,
            result.bus,
            result.booked,
            result.bookings_per_second,
            not_booked(result),
            result.answer.p50_ms,
            result.answer.p99_ms,
            result.latency.p50_ms,
            result.latency.p90_ms,
            result.latency.p99_ms,
            result.latency.max_ms,
            result.before_answer,
            result.missing
        )?;
    }
    for result in results {
        writeln!(
            text,
            "\n`{}`: {} bookings sent in {:.1} s after a {:.0} s warm-up (left out); each \
             left at most {:.1} ms behind its schedule (p99 {:.1} ms). {} of {} bookings \
             (warm-up included) have their notification in `GET /notifications`; the stream \
             was reopened {} times. The booking relay moved its events in {} rounds \
             ({:.1} events per round). {} Notification's subscriber was {:.1} events behind \
             on average, {} at most (sampled every 100 ms, {} samples). Where the time \
             goes:\n\n\
             | from | to | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|",
            result.scenario,
            result.sent,
            result.seconds,
            result.warm_up_seconds,
            result.send_lag.max_ms,
            result.send_lag.p99_ms,
            result.history_total,
            result.booked_in_all,
            result.stream_reconnections,
            result.relay_rounds,
            result.events_per_relay_round,
            cores(&result.cores),
            result.backlog.mean,
            result.backlog.max,
            result.backlog.samples
        )?;
        for stage in &result.stages {
            let Spread {
                p50_ms,
                p90_ms,
                p99_ms,
                max_ms,
                ..
            } = stage.spread;
            writeln!(
                text,
                "| {} | {} | {p50_ms:.1} ms | {p90_ms:.1} ms | {p99_ms:.1} ms | {max_ms:.1} ms |",
                stage.from, stage.to
            )?;
        }
        let releases = &result.releases;
        writeln!(
            text,
            "\nThe host's notifications reached the stream in {} groups released together \
             ({:.1} on average). The slowest 2 % took {:.1} ms on average from recorded to on \
             the stream: {:.1} ms of it waiting for the last notification of their group \
             (of {:.1} on average) to be recorded, that is, for the rest of the group commit \
             that made them durable, and {:.1} ms after it.",
            releases.groups,
            releases.mean_group_size,
            releases.slowest_recorded_to_stream_ms,
            releases.slowest_waiting_for_group_ms,
            releases.slowest_group_size,
            releases.slowest_after_group_ms
        )?;
    }
    writeln!(
        text,
        "\nHow: the bench starts the release `mybnb` on a fresh data directory (for JetStream, \
         with its own nats-server and `MYBNB_NATS_URL`), registers a host with {} rooms and \
         {} guests, and opens the host's `GET /notifications/stream` before the load. \
         Bookings then leave on a fixed schedule, one every {}, each from a task of its \
         own (open loop: a slow answer delays nothing after it), each a room-night of its own. \
         **Notification latency** = the arrival of the booking's `BOOKING_CONFIRMED` on the \
         stream (matched by `bookingId`, timed on a thread of its own as the bytes come) − the \
         arrival of the booking's 201. The booking is committed before its 201 is sent, so \
         this leaves out the 201's trip back and slightly underestimates commit → readable; a \
         notification that arrives before its 201 counts as 0 (\"before the 201\"). \
         \"Missing\" counts bookings answered 201 whose notification had not arrived {} s after \
         the last answer. The stages come from the timestamps the server's databases keep \
         (same clock): `occurred_at` and `published_at` of booking's outbox, `published_at` \
         of the embedded log, `created_at` of the notification; stamps taken inside a write \
         unit come just before its group commit, so a stage ending at one leaves that commit \
         out and the next one carries it. Percentiles of stages do not add up. Cores in use \
         come from `/proc` (the server's, this program's and nats-server's CPU time, and the \
         machine's busy time: the rest is \"everything else\"), as do the server threads' \
         context switches; the backlog of notification's subscriber is sampled every 100 ms \
         from `events.db` (events of its types past its position) or from its JetStream \
         consumer (pending + unacknowledged). Notifications arriving less than 0.5 ms apart \
         count as released together.",
        notify::ROOMS,
        notify::GUESTS,
        rates(results)
            .split(", ")
            .filter_map(|rate| rate.parse::<u64>().ok())
            .map(|rate| format!("{} µs", 1_000_000 / rate.max(1)))
            .collect::<Vec<_>>()
            .join(", "),
        notify::DRAIN.as_secs()
    )?;
    Ok(())
}

/// "Cores busy …: mybnb …, the load generator …, …" for the measured window.
fn cores(used: &CoreUse) -> String {
    let mut parts = Vec::new();
    for (who, cores) in [
        ("mybnb", used.server),
        ("the load generator", used.load_generator),
        ("nats-server", used.nats_server),
    ] {
        if let Some(cores) = cores {
            parts.push(format!("{who} {cores:.2}"));
        }
    }
    parts.push(format!("everything else {:.2}", used.others));
    let switches = used
        .server_context_switches_per_second
        .map(|rate| format!(" mybnb's threads switched {rate:.0} times a second."))
        .unwrap_or_default();
    format!(
        "Cores busy while the measured bookings were sent: {:.2} of {} ({}).{switches}",
        used.busy,
        used.cores,
        parts.join(", ")
    )
}

/// The offered rates of the runs, without repeats: "500", or "250, 500".
fn rates(results: &[NotifyResult]) -> String {
    let mut rates: Vec<u64> = results
        .iter()
        .map(|result| result.offered_per_second)
        .collect();
    rates.sort_unstable();
    rates.dedup();
    rates
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_booked(result: &NotifyResult) -> String {
    if result.not_booked.is_empty() {
        return "0".to_owned();
    }
    result
        .not_booked
        .iter()
        .map(|(status, count)| format!("{count} × {status}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn relay_table(text: &mut String, results: &[RelayResult]) -> anyhow::Result<()> {
    writeln!(
        text,
        "\n#### Relay throughput\n\n\
         Target: ≥ {} events/s.\n\n\
         | scenario | events | envelope | relay time | events/s | left in outbox | on the bus | \
         target |\n|---|---|---|---|---|---|---|---|",
        thousands(RELAY_TARGET as u64)
    )?;
    for result in results {
        let met = if result.events_per_second >= RELAY_TARGET {
            "met"
        } else {
            "**missed**"
        };
        writeln!(
            text,
            "| {} ({}) | {} | {} B | {:.2} s | **{:.0}** | {} | {} | {met} |",
            result.scenario,
            result.description,
            result.events,
            result.envelope_bytes,
            result.relay_seconds,
            result.events_per_second,
            result.left_in_outbox,
            result.on_bus
        )?;
    }
    writeln!(
        text,
        "\nHow: in process, without the mybnb binary. A context database (SQLite, WAL, \
         `synchronous=FULL`, group commit) with the outbox table is filled with booking \
         confirmations as the booking context writes them (`Unit::record` inside \
         `Database::write_caused_by` units of 1,000 events); then `Relay::relay_pending()` is timed \
         moving every one onto a fresh embedded log (`events.db`) or a fresh nats-server's \
         JetStream (file storage), which includes marking each batch published in the outbox. \
         Afterwards the outbox must hold no unpublished event and the bus exactly the events \
         written."
    )?;
    Ok(())
}

fn consume_table(text: &mut String, results: &[ConsumeResult]) -> anyhow::Result<()> {
    writeln!(
        text,
        "\n#### Subscriber throughput (handler doing nothing)\n\n\
         | scenario | events | time | events/s |\n|---|---|---|---|"
    )?;
    for result in results {
        writeln!(
            text,
            "| {} ({}) | {} | {:.2} s | **{:.0}** |",
            result.scenario,
            result.description,
            result.events,
            result.seconds,
            result.events_per_second
        )?;
    }
    writeln!(
        text,
        "\nHow: in process. Booking confirmations are published straight onto a fresh bus, \
         then one `mybnb_bus::Consumer` (64 handlers at once, settled in order) with a \
         handler that only counts is timed until it has handled them all. It subscribes to \
         two event types, as notification (five) and my page (four) do, so on JetStream it \
         reads every event. Not a target of the issue: the ceiling the bus and the consumer \
         put on each subscriber, whatever its handler costs, which bounds the notification \
         latency above."
    )?;
    Ok(())
}

/// `20000` as `20,000`.
fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(20_000), "20,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
