//! The distributed scenarios' report: `bench/distributed-<seconds>s.json` (a run of one
//! scenario keeps the other's last figures there), and the Markdown tables on stderr for
//! `docs/benchmarks-distributed.md`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use super::{Results, Row, cores, table, today};
use crate::ledger::{ConsumerCount, EventCount};
use crate::redeploy::{RedeployResult, StepTally};
use crate::scale_out::{ScaleOutResult, ScaleOutRun};

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

/// Writes the distributed results into `bench/distributed-<seconds>s.json` under `out`.
pub(super) fn write(out: &Path, seconds: u64, results: &Results) -> anyhow::Result<()> {
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
    fn the_ceiling_column_names_the_cap_and_the_latency() {
        let ceiling = format!("ceiling ({CAP} × instances / {MEAN_LATENCY_S} s)");
        assert!(ScaleOutRun::HEADER.contains(&ceiling));
    }
}
