//! `mybnb-bench`: measures the booking path the way the original system was measured, and
//! more. Each scenario starts the release `mybnb` binary on a fresh data directory with the
//! scenario's settings, seeds rooms and guests over the API, then runs concurrent clients that
//! each book distinct room-nights for a fixed time, printing progress every second. Results go
//! to `docs/bench/bookings-<seconds>s.json` and `docs/benchmarks-bookings-<seconds>s.md`.
//!
//! Scenarios:
//! - `original-610` / `original-1000`: payment latency uniform 400–620 ms, 100 clients, with
//!   the original's 610 ms payment timeout and with 1,000 ms;
//! - `throughput`: no payment latency, 64 clients, plus SQLite's raw durable-commit rate;
//! - `breaker-open`: payment failing; answers while the circuit breaker is open.

mod load;
mod report;
mod server;
mod sqlite_commits;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Benchmarks mybnb's booking path")]
struct Args {
    /// Scenarios to run: original-610, original-1000, throughput, breaker-open
    #[arg(default_values = ["original-610", "original-1000", "throughput", "breaker-open"])]
    scenarios: Vec<String>,
    /// Seconds each scenario runs
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The mybnb binary [default: `mybnb` next to this program]
    #[arg(long)]
    mybnb: Option<PathBuf>,
    /// Where the JSON and Markdown results go
    #[arg(long, default_value = "docs")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mybnb = match args.mybnb {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("mybnb"),
    };
    let duration = Duration::from_secs(args.seconds);
    let mut results = Vec::new();
    for name in &args.scenarios {
        let scenario = load::Scenario::named(name)?;
        eprintln!("\n== {name}: {}", scenario.description);
        let server = server::Server::start(&mybnb, &scenario.settings).await?;
        let mut result = load::run(&server, &scenario, duration).await?;
        if scenario.measure_sqlite_commits {
            result.sqlite_commits_per_second =
                Some(sqlite_commits::rate(Duration::from_secs(5)).await?);
        }
        server.stop().await?;
        eprintln!("{}", report::one_line(&result));
        results.push(result);
    }
    report::write(&args.out, &results, args.seconds)?;
    Ok(())
}
