//! The one report writer: the results of every kind as JSON and as Markdown tables, and each
//! scenario's summary on stderr, all from one table code ([`Row`]: a result's columns):
//!
//! - bookings: `bench/bookings-<seconds>s.json` and `benchmarks-bookings-<seconds>s.md`;
//! - events: `bench/events-<seconds>s.json` and `benchmarks-events-<seconds>s.md` (a table
//!   per scenario, the machine, the command, and how each figure was taken);
//! - distributed: `bench/distributed-<seconds>s.json` (a run of one scenario keeps the other's
//!   last figures there), and the Markdown tables on stderr for `docs/benchmarks-distributed.md`.
//!
//! Each kind's tables and text are in a module of their own ([`bookings`], [`events`],
//! [`distributed`]); the table code and the writing are here.

use std::path::Path;

use serde::Serialize;

use crate::load::RunResult;
use crate::redeploy::RedeployResult;
use crate::scale_out::ScaleOutResult;

pub use events::EventResults;

/// Everything a run measured.
#[derive(Default)]
pub struct Results {
    pub command: String,
    pub bookings: Vec<RunResult>,
    pub events: EventResults,
    pub scale_out: Option<ScaleOutResult>,
    pub redeploy: Option<RedeployResult>,
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

mod bookings;
mod distributed;
mod events;

/// A Markdown table of `rows`: the header, its rule, a line per row.
pub(super) fn table<'a, R: Row + 'a>(rows: impl IntoIterator<Item = &'a R>) -> String {
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

pub(super) fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

pub(super) fn met(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// Writes what the run measured under `out`.
pub fn write(out: &Path, seconds: u64, results: &mut Results) -> anyhow::Result<()> {
    std::fs::create_dir_all(out.join("bench"))?;
    if !results.bookings.is_empty() {
        let text = bookings::text(&results.bookings, seconds);
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
            &events::text(events)?,
        )?;
    }
    if results.scale_out.is_some() || results.redeploy.is_some() {
        distributed::write(out, seconds, results)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redeploy::StepTally;

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
