//! The event scenarios' report: commit → notification by stage, the relay's and a consumer's
//! throughput, each against its target, with the machine and the command.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::{Row, met, table};
use crate::cpu::CoreUse;
use crate::inprocess::{ConsumeResult, RelayResult};
use crate::notify::{self, NotifyResult};
use crate::stages::Stage;

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

impl Row for NotifyResult {
    const HEADER: &'static str = "scenario | booked | bookings/s | not 201 | answer p50 | answer p99 | \
                          notification p50 | p90 | p99 | max | before the 201 | missing | \
                          p99 target";
    fn cells(&self) -> Vec<String> {
        let jetstream = self.bus.contains("JetStream");
        let target = if jetstream {
            JETSTREAM_TARGET_MS
        } else {
            EMBEDDED_TARGET_MS
        };
        let target = format!(
            "≤ {target:.0} ms: {}",
            met(self.latency.p99_ms <= target && self.missing == 0)
        );
        let (answer, latency) = (self.answer, self.latency);
        cells![
            "{}" => format!("{} ({})", self.scenario, self.bus), "{}" => self.booked,
            "{:.0}" => self.bookings_per_second, "{}" => not_booked(self),
            "{:.1} ms" => answer.p50_ms, "{:.1} ms" => answer.p99_ms,
            "{:.1} ms" => latency.p50_ms, "{:.1} ms" => latency.p90_ms,
            "**{:.1} ms**" => latency.p99_ms, "{:.1} ms" => latency.max_ms,
            "{}" => self.before_answer, "{}" => self.missing, "{}" => target,
        ]
    }
}

impl Row for Stage {
    const HEADER: &'static str = "from | to | p50 | p90 | p99 | max";
    fn cells(&self) -> Vec<String> {
        let spread = self.spread;
        cells![
            "{}" => self.from, "{}" => self.to, "{:.1} ms" => spread.p50_ms,
            "{:.1} ms" => spread.p90_ms, "{:.1} ms" => spread.p99_ms, "{:.1} ms" => spread.max_ms,
        ]
    }
}

impl Row for RelayResult {
    const HEADER: &'static str = "scenario | events | envelope | relay time | events/s | left in outbox | on the bus | target";
    fn cells(&self) -> Vec<String> {
        cells![
            "{}" => format!("{} ({})", self.scenario, self.description), "{}" => self.events,
            "{} B" => self.envelope_bytes, "{:.2} s" => self.relay_seconds,
            "**{:.0}**" => self.events_per_second, "{}" => self.left_in_outbox,
            "{}" => self.on_bus, "{}" => met(self.events_per_second >= RELAY_TARGET),
        ]
    }
}

impl Row for ConsumeResult {
    const HEADER: &'static str = "scenario | events | time | events/s";
    fn cells(&self) -> Vec<String> {
        cells![
            "{}" => format!("{} ({})", self.scenario, self.description), "{}" => self.events,
            "{:.2} s" => self.seconds, "**{:.0}**" => self.events_per_second,
        ]
    }
}

/// The Markdown text of the event scenarios.
pub(super) fn text(results: &EventResults) -> anyhow::Result<String> {
    let mut text = format!(
        "Measured {} on a {}-core machine by\n\n```sh\n\
         cargo build --release -p mybnb -p mybnb-bench\n{}\n```\n\n\
         (`mybnb-bench` being `target/release/mybnb-bench`, or under `$CARGO_TARGET_DIR`). \
         Release builds; the load generator, mybnb and nats-server share the {} cores, and \
         other builds and tests ran on the machine at the same time (\"everything else\" \
         below), so expect noise from run to run: the notification figures depend on how \
         much of the cores is left to mybnb.\n",
        results.measured_on, results.cores, results.command, results.cores
    );
    if !results.notify.is_empty() {
        notify_tables(&mut text, &results.notify)?;
    }
    if !results.relay.is_empty() {
        let target = thousands(RELAY_TARGET as u64);
        writeln!(
            text,
            "\n#### Relay throughput\n\nTarget: ≥ {target} events/s.\n"
        )?;
        text.push_str(&table(&results.relay));
        text.push_str(
            "\nHow: in process, without the mybnb binary. A context database (SQLite, WAL, \
             `synchronous=FULL`, group commit) with the outbox table is filled with booking \
             confirmations as the booking context writes them (`Unit::record` inside \
             `Database::write_caused_by` units of 1,000 events); then `Relay::relay_pending()` is timed \
             moving every one onto a fresh embedded log (`events.db`) or a fresh nats-server's \
             JetStream (file storage), which includes marking each batch published in the outbox. \
             Afterwards the outbox must hold no unpublished event and the bus exactly the events \
             written.\n",
        );
    }
    if !results.consume.is_empty() {
        text.push_str("\n#### Subscriber throughput (handler doing nothing)\n\n");
        text.push_str(&table(&results.consume));
        text.push_str(
            "\nHow: in process. Booking confirmations are published straight onto a fresh bus, \
             then one `mybnb_bus::Consumer` (64 handlers at once, settled in order) with a \
             handler that only counts is timed until it has handled them all. It subscribes to \
             two event types, as notification (five) and my page (four) do, so on JetStream it \
             reads every event. Not a target of the issue: the ceiling the bus and the consumer \
             put on each subscriber, whatever its handler costs, which bounds the notification \
             latency above.\n",
        );
    }
    Ok(text)
}

fn notify_tables(text: &mut String, results: &[NotifyResult]) -> anyhow::Result<()> {
    writeln!(
        text,
        "\n#### Booking → the host's notification, at a steady {} bookings/s\n\n\
         Target: p99 ≤ {EMBEDDED_TARGET_MS:.0} ms on the embedded log, ≤ \
         {JETSTREAM_TARGET_MS:.0} ms over JetStream.\n",
        rates(results)
    )?;
    text.push_str(&table(results));
    for r in results {
        writeln!(
            text,
            "\n`{}`: {} bookings sent in {:.1} s after a {:.0} s warm-up (left out); each \
             left at most {:.1} ms behind its schedule (p99 {:.1} ms). {} of {} bookings \
             (warm-up included) have their notification in `GET /notifications`; the stream \
             was reopened {} times. The booking relay moved its events in {} rounds \
             ({:.1} events per round). {} Notification's subscriber was {:.1} events behind \
             on average, {} at most (sampled every 100 ms, {} samples). Where the time \
             goes:\n",
            r.scenario,
            r.sent,
            r.seconds,
            r.warm_up_seconds,
            r.send_lag.max_ms,
            r.send_lag.p99_ms,
            r.history_total,
            r.booked_in_all,
            r.stream_reconnections,
            r.relay_rounds,
            r.events_per_relay_round,
            core_use(&r.cores),
            r.backlog.mean,
            r.backlog.max,
            r.backlog.samples
        )?;
        text.push_str(&table(&r.stages));
        let releases = &r.releases;
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
    let periods: Vec<String> = rates(results)
        .split(", ")
        .filter_map(|rate| rate.parse::<u64>().ok())
        .map(|rate| format!("{} µs", 1_000_000 / rate.max(1)))
        .collect();
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
         the last answer. The stages come from the public interfaces (same clock): the bus's \
         history (`EventBus::history`: each `BookingConfirmed` envelope's `occurredAt`, and \
         when the bus stored it — the embedded log's append, or the stream's timestamp on \
         JetStream) and the notification's own `createdAt` on the stream; stamps taken inside \
         a write unit come just before its group commit, so a stage ending at one leaves that \
         commit out and the next one carries it. Percentiles of stages do not add up. Relay \
         rounds are booking's `mybnb_relay_batches_total` at `/metrics`. Cores in use \
         come from `/proc` (the server's, this program's and nats-server's CPU time, and the \
         machine's busy time: the rest is \"everything else\"), as do the server threads' \
         context switches; the backlog of notification's subscriber is sampled every 100 ms \
         from `/metrics` (events of its types the relays published less those it handled) or \
         from its JetStream consumer (pending + unacknowledged). Notifications arriving less \
         than 0.5 ms apart count as released together.",
        notify::ROOMS,
        notify::GUESTS,
        periods.join(", "),
        notify::DRAIN.as_secs()
    )?;
    Ok(())
}

/// "Cores busy …: mybnb …, the load generator …, …" for the measured window.
fn core_use(used: &CoreUse) -> String {
    let mut parts: Vec<String> = [
        ("mybnb", used.server),
        ("the load generator", used.load_generator),
        ("nats-server", used.nats_server),
    ]
    .into_iter()
    .filter_map(|(who, cores)| Some(format!("{who} {:.2}", cores?)))
    .collect();
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
    let rates: BTreeSet<u64> = results
        .iter()
        .map(|result| result.offered_per_second)
        .collect();
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
    let kinds = result
        .not_booked
        .iter()
        .map(|(status, count)| format!("{count} × {status}"));
    kinds.collect::<Vec<_>>().join(", ")
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
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
