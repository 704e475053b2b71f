//! Results of the distributed scenarios: JSON in `bench/distributed-<seconds>s.json` (a run of
//! one scenario keeps the other's last figures there), and Markdown tables on stderr for
//! `docs/benchmarks-distributed.md`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::redeploy::RedeployResult;
use crate::scale_out::{CAP, MEAN_LATENCY_S, ScaleOutResult};

pub fn write(
    out: &Path,
    seconds: u64,
    command: &str,
    scale_out: Option<&ScaleOutResult>,
    redeploy: Option<&RedeployResult>,
) -> anyhow::Result<()> {
    let path = out.join(format!("bench/distributed-{seconds}s.json"));
    std::fs::create_dir_all(out.join("bench"))?;
    let mut document = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let measured = json!({
        "command": command,
        "date": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
    });
    if let Some(scale_out) = scale_out {
        document["scaleOut"] = json!({ "measured": measured, "result": scale_out });
        eprintln!("\n{}", scale_out_tables(scale_out)?);
    }
    if let Some(redeploy) = redeploy {
        document["redeploy"] = json!({ "measured": measured, "result": redeploy });
        eprintln!("\n{}", redeploy_tables(redeploy)?);
    }
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

pub fn scale_out_tables(result: &ScaleOutResult) -> anyhow::Result<String> {
    let mut text = format!(
        "| payment instances | bookings/s | ceiling ({CAP} × instances / {MEAN_LATENCY_S} s) | \
         of ceiling | speed-up | p50 | p99 | failures | charges by instance |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for run in &result.runs {
        writeln!(
            text,
            "| {} | {:.1} | {:.1} | {:.0} % | ×{:.2} | {:.0} ms | {:.0} ms | {} | {:?} |",
            run.payment_instances,
            run.bookings_per_second,
            run.ceiling_per_second,
            run.of_ceiling_percent,
            run.speed_up,
            run.latency.p50_ms,
            run.latency.p99_ms,
            run.failures,
            run.charges_by_instance
        )?;
    }
    text.push_str("\nCores used in the measured window:\n\n| payment instances |");
    let labels: Vec<&String> = result
        .runs
        .iter()
        .flat_map(|run| run.cores.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for label in &labels {
        write!(text, " {label} |")?;
    }
    text.push_str("\n|---|");
    text.push_str(&"---|".repeat(labels.len()));
    text.push('\n');
    for run in &result.runs {
        write!(text, "| {} |", run.payment_instances)?;
        for label in &labels {
            write!(
                text,
                " {:.2} |",
                run.cores.get(*label).copied().unwrap_or(0.0)
            )?;
        }
        text.push('\n');
    }
    text.push_str(
        "\nEach event once in effect (after the run and its cancellations settled):\n\n\
         | payment instances | event | outbox rows | in the stream | unpublished |\n\
         |---|---|---|---|---|\n",
    );
    for run in &result.runs {
        for event in &run.ledger.events {
            writeln!(
                text,
                "| {} | {} ({}) | {} | {} | {} |",
                run.payment_instances,
                event.event_type,
                event.publisher,
                event.recorded,
                event.in_stream,
                event.unpublished
            )?;
        }
    }
    text.push_str(
        "\n| payment instances | subscriber | its events in the stream | handled, by instance | \
         handled | inbox rows | effects | expected | once in effect |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for run in &result.runs {
        for consumer in &run.ledger.consumers {
            writeln!(
                text,
                "| {} | {} | {} | {:?} | {} | {} | {} {} | {} | {} |",
                run.payment_instances,
                consumer.subscriber,
                consumer.events,
                consumer.handled_by_instance,
                consumer.handled,
                consumer.first_time,
                consumer.effects,
                consumer.effect,
                consumer.expected_effects,
                run.ledger.once_in_effect
            )?;
        }
    }
    Ok(text)
}

pub fn redeploy_tables(result: &RedeployResult) -> anyhow::Result<String> {
    let mut text = String::from(
        "| clients | instances replaced | redeploy took | load ran | requests | failures | \
         req/s | during the redeploy | failures then | bookings | gateway retries | ejections |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    writeln!(
        text,
        "| {} | {} | {:.1} s | {:.1} s | {} | {} | {:.1} | {} | {} | {} | {} | {} |",
        result.clients,
        result.replaced.values().sum::<usize>(),
        result.redeploy_seconds,
        result.seconds,
        result.requests,
        result.failures,
        result.requests_per_second,
        result.during_redeploy,
        result.failures_during_redeploy,
        result.booked,
        result.gateway_retries,
        result.gateway_ejections
    )?;
    text.push_str(
        "\n| step | requests | failures | p50 | p99 | max |\n|---|---|---|---|---|---|\n",
    );
    for step in &result.steps {
        writeln!(
            text,
            "| `{}` | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            step.step, step.requests, step.failures, step.p50_ms, step.p99_ms, step.max_ms
        )?;
    }
    if !result.first_failures.is_empty() {
        text.push_str("\nFirst failures:\n\n");
        for failure in &result.first_failures {
            writeln!(text, "- {failure}")?;
        }
    }
    Ok(text)
}
