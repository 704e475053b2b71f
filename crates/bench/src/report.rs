//! The one report writer: every scenario's one-line summary on stderr, and the results as JSON
//! and Markdown tables, sharing the table and file code —
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
use crate::load::RunResult;
use crate::notify::{self, NotifyResult};
use crate::redeploy::RedeployResult;
use crate::scale_out::{CAP, MEAN_LATENCY_S, ScaleOutResult, ScaleOutRun};

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

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

/// A Markdown table: the header, its rule, a line per row.
fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut text = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        text.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    text
}

/// Shorthand for a row's cells.
macro_rules! cells {
    ($($format:literal => $value:expr),* $(,)?) => {
        vec![$(format!($format, $value)),*]
    };
}

/// Writes `json` and `markdown` under `out`, naming them on stderr.
fn write_pair(
    out: &Path,
    json: &str,
    value: &impl Serialize,
    markdown: &str,
    text: &str,
) -> anyhow::Result<()> {
    let (json, markdown) = (out.join(json), out.join(markdown));
    std::fs::create_dir_all(out.join("bench"))?;
    std::fs::write(&json, serde_json::to_string_pretty(value)?)?;
    std::fs::write(&markdown, text)?;
    eprintln!("\nwrote {} and {}", json.display(), markdown.display());
    Ok(())
}

pub fn write(out: &Path, seconds: u64, results: &mut Results) -> anyhow::Result<()> {
    if !results.bookings.is_empty() {
        let (json, markdown) = (
            format!("bench/bookings-{seconds}s.json"),
            format!("benchmarks-bookings-{seconds}s.md"),
        );
        let text = bookings(&results.bookings, seconds);
        write_pair(out, &json, &results.bookings, &markdown, &text)?;
    }
    let events = &mut results.events;
    if !(events.notify.is_empty() && events.relay.is_empty() && events.consume.is_empty()) {
        (events.measured_on, events.cores, events.command) =
            (today(), cores(), results.command.clone());
        let (json, markdown) = (
            format!("bench/events-{seconds}s.json"),
            format!("benchmarks-events-{seconds}s.md"),
        );
        write_pair(out, &json, events, &markdown, &events_text(events)?)?;
    }
    if results.scale_out.is_some() || results.redeploy.is_some() {
        distributed(out, seconds, results)?;
    }
    Ok(())
}

pub fn bookings_line(result: &RunResult) -> String {
    format!(
        "   {}: {} requests, {:.2} % booked, {:.0} bookings/s, p50 {:.1} ms, p99 {:.1} ms, {} other",
        result.scenario,
        result.requests,
        result.availability_percent,
        result.bookings_per_second,
        result.p50_ms,
        result.p99_ms,
        result.other
    )
}

fn bookings(results: &[RunResult], seconds: u64) -> String {
    let header = [
        "scenario",
        "clients",
        "requests",
        "booked",
        "503 fast",
        "other",
        "availability",
        "bookings/s",
        "p50",
        "p99",
        "max",
    ];
    let rows = results.iter().map(|r| {
        cells!["{}" => r.description, "{}" => r.clients, "{}" => r.requests, "{}" => r.booked, "{}" => r.unavailable, "{}" => r.other, "{:.2} %" => r.availability_percent, "{:.0}" => r.bookings_per_second, "{:.1} ms" => r.p50_ms, "{:.1} ms" => r.p99_ms, "{:.1} ms" => r.max_ms]
    });
    let mut text = table(&header, rows);
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
        writeln!(
            text,
            "\n#### Relay throughput\n\nTarget: ≥ {} events/s.\n",
            thousands(RELAY_TARGET as u64)
        )?;
        let header = [
            "scenario",
            "events",
            "envelope",
            "relay time",
            "events/s",
            "left in outbox",
            "on the bus",
            "target",
        ];
        text.push_str(&table(
            &header,
            results.relay.iter().map(|r| {
                let met = if r.events_per_second >= RELAY_TARGET {
                    "met"
                } else {
                    "**missed**"
                };
                let scenario = format!("{} ({})", r.scenario, r.description);
                cells!["{}" => scenario, "{}" => r.events, "{} B" => r.envelope_bytes, "{:.2} s" => r.relay_seconds, "**{:.0}**" => r.events_per_second, "{}" => r.left_in_outbox, "{}" => r.on_bus, "{}" => met]
            }),
        ));
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
        text.push_str(&table(
            &["scenario", "events", "time", "events/s"],
            results.consume.iter().map(|r| {
                let scenario = format!("{} ({})", r.scenario, r.description);
                cells!["{}" => scenario, "{}" => r.events, "{:.2} s" => r.seconds, "**{:.0}**" => r.events_per_second]
            }),
        ));
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
    let header = [
        "scenario",
        "booked",
        "bookings/s",
        "not 201",
        "answer p50",
        "answer p99",
        "notification p50",
        "p90",
        "p99",
        "max",
        "before the 201",
        "missing",
        "p99 target",
    ];
    text.push_str(&table(
        &header,
        results.iter().map(|r| {
            let target = if r.bus.contains("JetStream") { JETSTREAM_TARGET_MS } else { EMBEDDED_TARGET_MS };
            let met = if r.latency.p99_ms <= target && r.missing == 0 { "met" } else { "**missed**" };
            let scenario = format!("{} ({})", r.scenario, r.bus);
            let mut row = cells!["{}" => scenario, "{}" => r.booked, "{:.0}" => r.bookings_per_second, "{}" => not_booked(r)];
            row.extend(cells!["{:.1} ms" => r.answer.p50_ms, "{:.1} ms" => r.answer.p99_ms, "{:.1} ms" => r.latency.p50_ms, "{:.1} ms" => r.latency.p90_ms, "**{:.1} ms**" => r.latency.p99_ms, "{:.1} ms" => r.latency.max_ms]);
            row.extend(cells!["{}" => r.before_answer, "{}" => r.missing, "{}" => format!("≤ {target:.0} ms: {met}")]);
            row
        }),
    ));
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
        text.push_str(&table(
            &["from", "to", "p50", "p90", "p99", "max"],
            r.stages.iter().map(|stage| {
                let s = stage.spread;
                cells!["{}" => stage.from, "{}" => stage.to, "{:.1} ms" => s.p50_ms, "{:.1} ms" => s.p90_ms, "{:.1} ms" => s.p99_ms, "{:.1} ms" => s.max_ms]
            }),
        ));
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

pub fn scale_out_line(run: &ScaleOutRun) -> String {
    format!(
        "   {} payment: {:.1} bookings/s ({:.0} % of {:.1}), ×{:.2}, p50 {:.0} ms, p99 {:.0} ms, \
         {} failures; each event once in effect: {}",
        run.payment_instances,
        run.bookings_per_second,
        run.of_ceiling_percent,
        run.ceiling_per_second,
        run.speed_up,
        run.latency.p50_ms,
        run.latency.p99_ms,
        run.failures,
        run.ledger.once_in_effect
    )
}

pub fn redeploy_line(result: &RedeployResult) -> String {
    format!(
        "   {} requests, {} failures, {:.1} req/s",
        result.requests, result.failures, result.requests_per_second
    )
}

fn distributed(out: &Path, seconds: u64, results: &Results) -> anyhow::Result<()> {
    let path = out.join(format!("bench/distributed-{seconds}s.json"));
    std::fs::create_dir_all(out.join("bench"))?;
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
        eprintln!("\n{}", redeploy_tables(redeploy));
    }
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn scale_out_tables(result: &ScaleOutResult) -> String {
    let ceiling = format!("ceiling ({CAP} × instances / {MEAN_LATENCY_S} s)");
    let header = [
        "payment instances",
        "bookings/s",
        &ceiling,
        "of ceiling",
        "speed-up",
        "p50",
        "p99",
        "failures",
        "charges by instance",
    ];
    let mut text = table(
        &header,
        result.runs.iter().map(|r| {
            cells!["{}" => r.payment_instances, "{:.1}" => r.bookings_per_second, "{:.1}" => r.ceiling_per_second, "{:.0} %" => r.of_ceiling_percent, "×{:.2}" => r.speed_up, "{:.0} ms" => r.latency.p50_ms, "{:.0} ms" => r.latency.p99_ms, "{}" => r.failures, "{:?}" => r.charges_by_instance]
        }),
    );
    let labels: BTreeSet<&String> = result
        .runs
        .iter()
        .flat_map(|run| run.cores.keys())
        .collect();
    let header: Vec<&str> = std::iter::once("payment instances")
        .chain(labels.iter().map(|label| label.as_str()))
        .collect();
    text.push_str("\nCores used in the measured window:\n\n");
    text.push_str(&table(
        &header,
        result.runs.iter().map(|run| {
            let used = labels
                .iter()
                .map(|label| format!("{:.2}", run.cores.get(*label).copied().unwrap_or(0.0)));
            std::iter::once(run.payment_instances.to_string())
                .chain(used)
                .collect()
        }),
    ));
    text.push_str("\nEach event once in effect (after the run and its cancellations settled):\n\n");
    text.push_str(&table(
        &["payment instances", "event", "recorded (the API's view)", "in the stream", "unpublished"],
        result.runs.iter().flat_map(|run| {
            run.ledger.events.iter().map(|e| {
                let event = format!("{} ({})", e.event_type, e.publisher);
                cells!["{}" => run.payment_instances, "{}" => event, "{}" => e.recorded, "{}" => e.in_stream, "{}" => e.unpublished]
            })
        }),
    ));
    let header = [
        "payment instances",
        "subscriber",
        "its events in the stream",
        "handled, by instance",
        "handled",
        "first deliveries",
        "effects",
        "expected",
        "once in effect",
    ];
    text.push('\n');
    text.push_str(&table(
        &header,
        result.runs.iter().flat_map(|run| {
            run.ledger.consumers.iter().map(|c| {
                let effects = format!("{} {}", c.effects, c.effect);
                cells!["{}" => run.payment_instances, "{}" => c.subscriber, "{}" => c.events, "{:?}" => c.handled_by_instance, "{}" => c.handled, "{}" => c.first_time, "{}" => effects, "{}" => c.expected_effects, "{}" => run.ledger.once_in_effect]
            })
        }),
    ));
    text
}

fn redeploy_tables(r: &RedeployResult) -> String {
    let header = [
        "clients",
        "instances replaced",
        "redeploy took",
        "load ran",
        "requests",
        "failures",
        "req/s",
        "during the redeploy",
        "failures then",
        "bookings",
        "gateway retries",
        "ejections",
    ];
    let replaced: usize = r.replaced.values().sum();
    let row = cells!["{}" => r.clients, "{}" => replaced, "{:.1} s" => r.redeploy_seconds, "{:.1} s" => r.seconds, "{}" => r.requests, "{}" => r.failures, "{:.1}" => r.requests_per_second, "{}" => r.during_redeploy, "{}" => r.failures_during_redeploy, "{}" => r.booked, "{}" => r.gateway_retries, "{}" => r.gateway_ejections];
    let mut text = table(&header, [row]);
    text.push('\n');
    text.push_str(&table(
        &["step", "requests", "failures", "p50", "p99", "max"],
        r.steps.iter().map(|s| {
            cells!["`{}`" => s.step, "{}" => s.requests, "{}" => s.failures, "{:.1} ms" => s.p50_ms, "{:.1} ms" => s.p99_ms, "{:.1} ms" => s.max_ms]
        }),
    ));
    if !r.first_failures.is_empty() {
        text.push_str("\nFirst failures:\n\n");
        for failure in &r.first_failures {
            text.push_str(&format!("- {failure}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(20_000), "20,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_table_has_its_rule() {
        let text = super::table(&["a", "b"], [vec!["1".to_owned(), "2".to_owned()]]);
        assert_eq!(text, "| a | b |\n|---|---|\n| 1 | 2 |\n");
    }
}
