//! The one report writer: the results of every kind as JSON and as Markdown tables, and each
//! scenario's summary on stderr, all from one table code ([`Row`]: a result's columns):
//!
//! - bookings: `bench/bookings-<seconds>s.json` and `benchmarks-bookings-<seconds>s.md`;
//! - events: `bench/events-<seconds>s.json` and `benchmarks-events-<seconds>s.md` (a table
//!   per scenario, the machine, the command, and how each figure was taken);
//! - distributed: `bench/distributed-<seconds>s.json` (a run of one scenario keeps the other's
//!   last figures there), and the Markdown tables on stderr for `docs/benchmarks-distributed.md`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::cpu::CoreUse;
use crate::inprocess::{ConsumeResult, RelayResult};
use crate::ledger::{ConsumerCount, EventCount};
use crate::load::RunResult;
use crate::notify::{self, NotifyResult};
use crate::redeploy::{RedeployResult, StepTally};
use crate::scale_out::{ScaleOutResult, ScaleOutRun};
use crate::stages::Stage;

/// p99 of commit → readable, embedded log and JetStream, in ms.
const EMBEDDED_TARGET_MS: f64 = 50.0;
const JETSTREAM_TARGET_MS: f64 = 100.0;
/// Events the relay must move per second.
const RELAY_TARGET: f64 = 20_000.0;

/// Everything a run measured.
#[derive(Default)]
pub struct Results {
    pub command: String,
    pub bookings: Vec<RunResult>,
    pub events: EventResults,
    pub scale_out: Option<ScaleOutResult>,
    pub redeploy: Option<RedeployResult>,
}

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

/// A result as a line of a Markdown table.
pub trait Row {
    /// The column names, separated by ` | `.
    const HEADER: &'static str;
    fn cells(&self) -> Vec<String>;
}

/// A result's cells, each formatted: `cells!["{:.1} ms" => latency, …]`.
macro_rules! cells {
    ($($format:literal => $value:expr),* $(,)?) => {
        vec![$(format!($format, $value)),*]
    };
}

/// A Markdown table of `rows`: the header, its rule, a line per row.
fn table<'a, R: Row + 'a>(rows: impl IntoIterator<Item = &'a R>) -> String {
    let columns = R::HEADER.split(" | ").count();
    let mut text = format!("| {} |\n|{}\n", R::HEADER, "---|".repeat(columns));
    for row in rows {
        text.push_str(&format!("| {} |\n", row.cells().join(" | ")));
    }
    text
}

/// A result on one line of stderr: each column's name and value.
pub fn line<R: Row>(result: &R) -> String {
    let pairs = R::HEADER.split(" | ").zip(result.cells());
    let pairs: Vec<String> = pairs
        .map(|(name, value)| format!("{name} {value}"))
        .collect();
    format!("   {}", pairs.join(", "))
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

fn met(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// Writes what the run measured under `out`.
pub fn write(out: &Path, seconds: u64, results: &mut Results) -> anyhow::Result<()> {
    std::fs::create_dir_all(out.join("bench"))?;
    if !results.bookings.is_empty() {
        let text = bookings(&results.bookings, seconds);
        pair(
            out,
            &format!("bookings-{seconds}s"),
            &results.bookings,
            &text,
        )?;
    }
    let events = &mut results.events;
    if !(events.notify.is_empty() && events.relay.is_empty() && events.consume.is_empty()) {
        (events.measured_on, events.cores) = (today(), cores());
        events.command.clone_from(&results.command);
        pair(
            out,
            &format!("events-{seconds}s"),
            events,
            &events_text(events)?,
        )?;
    }
    if results.scale_out.is_some() || results.redeploy.is_some() {
        distributed(out, seconds, results)?;
    }
    Ok(())
}

/// Writes `bench/<name>.json` and `benchmarks-<name>.md` under `out`.
fn pair(out: &Path, name: &str, json: &impl Serialize, text: &str) -> anyhow::Result<()> {
    let json_path = out.join(format!("bench/{name}.json"));
    let markdown = out.join(format!("benchmarks-{name}.md"));
    std::fs::write(&json_path, serde_json::to_string_pretty(json)?)?;
    std::fs::write(&markdown, text)?;
    eprintln!("\nwrote {} and {}", json_path.display(), markdown.display());
    Ok(())
}

impl Row for RunResult {
    const HEADER: &'static str = "scenario | clients | requests | booked | 503 fast | other | \
                          availability | bookings/s | p50 | p99 | max";
    fn cells(&self) -> Vec<String> {
        cells![
            "{}" => self.description, "{}" => self.clients, "{}" => self.requests,
            "{}" => self.booked, "{}" => self.unavailable, "{}" => self.other,
            "{:.2} %" => self.availability_percent, "{:.0}" => self.bookings_per_second,
            "{:.1} ms" => self.p50_ms, "{:.1} ms" => self.p99_ms, "{:.1} ms" => self.max_ms,
        ]
    }
}

fn bookings(results: &[RunResult], seconds: u64) -> String {
    let mut text = table(results);
    for rate in results
        .iter()
        .filter_map(|result| result.sqlite_commits_per_second)
    {
        text.push_str(&format!(
            "\nRaw SQLite durable commits on the same machine in the same run (WAL, \
             `synchronous=FULL`, one writer): **{rate:.0} commits/s**.\n"
        ));
    }
    text.push_str(&format!(
        "\nMeasured {} by `mybnb-bench --seconds {seconds}` (release build; load generator and \
         server share the machine's {} cores). \"503 fast\" answers carry `Retry-After`; \
         \"other\" counts any other status or no answer within 10 s.\n",
        today(),
        cores()
    ));
    text
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

fn events_text(results: &EventResults) -> anyhow::Result<String> {
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

impl Row for ScaleOutRun {
    const HEADER: &'static str = "payment instances | bookings/s | ceiling (16 × instances / 0.51 s) | \
                          of ceiling | speed-up | p50 | p99 | failures | charges by instance";
    fn cells(&self) -> Vec<String> {
        cells![
            "{}" => self.payment_instances, "{:.1}" => self.bookings_per_second,
            "{:.1}" => self.ceiling_per_second, "{:.0} %" => self.of_ceiling_percent,
            "×{:.2}" => self.speed_up, "{:.0} ms" => self.latency.p50_ms,
            "{:.0} ms" => self.latency.p99_ms, "{}" => self.failures,
            "{:?}" => self.charges_by_instance,
        ]
    }
}

/// A ledger's line, with the run it belongs to.
struct InRun<'a, T>(usize, &'a T, bool);

impl Row for InRun<'_, EventCount> {
    const HEADER: &'static str =
        "payment instances | event | recorded (by the API) | in the stream | unpublished";
    fn cells(&self) -> Vec<String> {
        let InRun(run, event, _) = self;
        cells![
            "{}" => run, "{}" => format!("{} ({})", event.event_type, event.publisher),
            "{}" => event.recorded, "{}" => event.in_stream, "{}" => event.unpublished,
        ]
    }
}

impl Row for InRun<'_, ConsumerCount> {
    const HEADER: &'static str = "payment instances | subscriber | its events in the stream | \
                          handled, by instance | handled | first deliveries | effects | expected | \
                          once in effect";
    fn cells(&self) -> Vec<String> {
        let InRun(run, consumer, once) = self;
        cells![
            "{}" => run, "{}" => consumer.subscriber, "{}" => consumer.events,
            "{:?}" => consumer.handled_by_instance, "{}" => consumer.handled,
            "{}" => consumer.first_time, "{}" => format!("{} {}", consumer.effects, consumer.effect),
            "{}" => consumer.expected_effects, "{}" => once,
        ]
    }
}

impl Row for RedeployResult {
    const HEADER: &'static str = "clients | instances replaced | redeploy took | load ran | requests | \
                          failures | req/s | during the redeploy | failures then | bookings | \
                          gateway retries | ejections";
    fn cells(&self) -> Vec<String> {
        cells![
            "{}" => self.clients, "{}" => self.replaced.values().sum::<usize>(),
            "{:.1} s" => self.redeploy_seconds, "{:.1} s" => self.seconds,
            "{}" => self.requests, "{}" => self.failures, "{:.1}" => self.requests_per_second,
            "{}" => self.during_redeploy, "{}" => self.failures_during_redeploy,
            "{}" => self.booked, "{}" => self.gateway_retries, "{}" => self.gateway_ejections,
        ]
    }
}

impl Row for StepTally {
    const HEADER: &'static str = "step | requests | failures | p50 | p99 | max";
    fn cells(&self) -> Vec<String> {
        cells![
            "`{}`" => self.step, "{}" => self.requests, "{}" => self.failures,
            "{:.1} ms" => self.p50_ms, "{:.1} ms" => self.p99_ms, "{:.1} ms" => self.max_ms,
        ]
    }
}

fn distributed(out: &Path, seconds: u64, results: &Results) -> anyhow::Result<()> {
    let path = out.join(format!("bench/distributed-{seconds}s.json"));
    let mut document = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let measured = json!({ "command": results.command, "date": today(), "cores": cores() });
    if let Some(scale_out) = &results.scale_out {
        document["scaleOut"] = json!({ "measured": measured, "result": scale_out });
        eprintln!("\n{}", scale_out_tables(scale_out));
    }
    if let Some(redeploy) = &results.redeploy {
        document["redeploy"] = json!({ "measured": measured, "result": redeploy });
        eprintln!("\n{}\n{}", table([redeploy]), table(&redeploy.steps));
        if !redeploy.first_failures.is_empty() {
            eprintln!(
                "First failures:\n\n- {}\n",
                redeploy.first_failures.join("\n- ")
            );
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn scale_out_tables<'a>(result: &'a ScaleOutResult) -> String {
    let mut text = table(&result.runs);
    let labels: BTreeSet<&String> = result
        .runs
        .iter()
        .flat_map(|run| run.cores.keys())
        .collect();
    text.push_str("\nCores used in the measured window:\n\n| payment instances |");
    for label in &labels {
        text.push_str(&format!(" {label} |"));
    }
    text.push_str(&format!("\n|---|{}\n", "---|".repeat(labels.len())));
    for run in &result.runs {
        let used = labels
            .iter()
            .map(|label| run.cores.get(*label).copied().unwrap_or(0.0));
        let used: Vec<String> = used.map(|cores| format!("{cores:.2}")).collect();
        text.push_str(&format!(
            "| {} | {} |\n",
            run.payment_instances,
            used.join(" | ")
        ));
    }
    let in_run = |run: &'a ScaleOutRun| {
        let (instances, once) = (run.payment_instances, run.ledger.once_in_effect);
        let events = run
            .ledger
            .events
            .iter()
            .map(move |event| InRun(instances, event, once));
        let consumers = run.ledger.consumers.iter();
        (
            events,
            consumers.map(move |consumer| InRun(instances, consumer, once)),
        )
    };
    let events: Vec<_> = result.runs.iter().flat_map(|run| in_run(run).0).collect();
    let consumers: Vec<_> = result.runs.iter().flat_map(|run| in_run(run).1).collect();
    text.push_str("\nEach event once in effect (after the run and its cancellations settled):\n\n");
    text.push_str(&table(&events));
    text.push('\n');
    text.push_str(&table(&consumers));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scale_out::{CAP, MEAN_LATENCY_S};

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_ceiling_column_names_the_cap_and_the_latency() {
        let ceiling = format!("ceiling ({CAP} × instances / {MEAN_LATENCY_S} s)");
        assert!(ScaleOutRun::HEADER.contains(&ceiling));
    }

    #[test]
    fn a_table_has_its_rule() {
        let steps = [StepTally {
            step: "GET /x".to_owned(),
            requests: 2,
            failures: 0,
            p50_ms: 1.0,
            p99_ms: 2.0,
            max_ms: 3.0,
        }];
        let expected = "| step | requests | failures | p50 | p99 | max |\n|---|---|---|---|---|---|\n\
                        | `GET /x` | 2 | 0 | 1.0 ms | 2.0 ms | 3.0 ms |\n";
        assert_eq!(table(&steps), expected);
    }
}
