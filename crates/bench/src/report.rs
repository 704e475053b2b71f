//! Results as JSON (`bench/bookings-<seconds>s.json`) and as the Markdown table the docs
//! include (`benchmarks-bookings-<seconds>s.md`).

use std::fmt::Write as _;
use std::path::Path;

use crate::load::RunResult;

pub fn one_line(result: &RunResult) -> String {
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

pub fn write(out: &Path, results: &[RunResult], seconds: u64) -> anyhow::Result<()> {
    let json = out.join(format!("bench/bookings-{seconds}s.json"));
    let markdown = out.join(format!("benchmarks-bookings-{seconds}s.md"));
    std::fs::create_dir_all(out.join("bench"))?;
    std::fs::write(&json, serde_json::to_string_pretty(results)?)?;
    let mut table = String::from(
        "| scenario | clients | requests | booked | 503 fast | other | availability | bookings/s | p50 | p99 | max |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for result in results {
        writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {:.2} % | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms |",
            result.description,
            result.clients,
            result.requests,
            result.booked,
            result.unavailable,
            result.other,
            result.availability_percent,
            result.bookings_per_second,
            result.p50_ms,
            result.p99_ms,
            result.max_ms
        )?;
    }
    for result in results {
        if let Some(rate) = result.sqlite_commits_per_second {
            writeln!(
                table,
                "\nRaw SQLite durable commits on the same machine in the same run (WAL, \
                 `synchronous=FULL`, one writer): **{rate:.0} commits/s**."
            )?;
        }
    }
    writeln!(
        table,
        "\nMeasured {} by `mybnb-bench --seconds {seconds}` (release build; load generator and \
         server share the machine's {} cores). \"503 fast\" answers carry `Retry-After`; \
         \"other\" counts any other status or no answer within 10 s.",
        chrono::Utc::now().format("%Y-%m-%d"),
        std::thread::available_parallelism().map_or(0, usize::from)
    )?;
    std::fs::write(&markdown, table)?;
    eprintln!("\nwrote {} and {}", json.display(), markdown.display());
    Ok(())
}
