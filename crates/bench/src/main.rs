//! `mybnb-bench`: measures the booking path the way the original system was measured, and
//! more, and the event-driven core behind it.
//!
//! Booking scenarios start the release `mybnb` binary on a fresh data directory with the
//! scenario's settings, seed rooms and guests over the API, then run concurrent clients that
//! each book distinct room-nights for a fixed time, printing progress every second. Results go
//! to `docs/bench/bookings-<seconds>s.json` and `docs/benchmarks-bookings-<seconds>s.md`:
//! - `original-610` / `original-1000`: payment latency uniform 400–620 ms, 100 clients, with
//!   the original's 610 ms payment timeout and with 1,000 ms;
//! - `throughput`: no payment latency, 64 clients, plus SQLite's raw durable-commit rate;
//! - `breaker-open`: payment failing; answers while the circuit breaker is open.
//!
//! Event scenarios (run only when named) go to `docs/bench/events-<seconds>s.json` and
//! `docs/benchmarks-events-<seconds>s.md`:
//! - `notify-embedded` / `notify-jetstream`: commit → the host's notification on its live
//!   stream, at a steady open-loop 500 bookings/s, on the embedded log and on NATS JetStream
//!   (a nats-server of its own);
//! - `relay-embedded` / `relay-jetstream`: the outbox relay's throughput, in process;
//! - `consume-embedded` / `consume-jetstream`: one subscriber's throughput with a handler that
//!   does nothing, in process: the ceiling the bus and the consumer put on every subscriber.
//!
//! Distributed scenarios (run only when named) start the topology of `mybnb dev up` — every
//! context in its own process behind the gateway — on a PostgreSQL database and a nats-server
//! of their own, and go to `docs/bench/distributed-<seconds>s.json`:
//! - `scale-out`: bookings/s with 1, 2 and 4 payment instances, each capped at 16 card
//!   authorizations at once, and whether every event was published, handled and acted on once;
//! - `redeploy`: a guest's visit by 20 clients while every instance is replaced in turn.

mod api;
mod backlog;
mod buses;
mod cluster;
mod consumer_throughput;
mod cpu;
mod cpu_by_service;
mod distributed_report;
mod events_report;
mod follower;
mod ledger;
mod load;
mod notify;
mod redeploy;
mod relay_throughput;
mod releases;
mod report;
mod scale_out;
mod server;
mod sqlite_commits;
mod sse;
mod stages;
mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use buses::BusScenario;
use clap::Parser;

#[derive(Parser)]
#[command(about = "Benchmarks mybnb's booking path and its event-driven core")]
struct Args {
    /// Scenarios to run: original-610, original-1000, throughput, breaker-open (the default);
    /// notify-embedded, notify-jetstream, relay-embedded, relay-jetstream, consume-embedded,
    /// consume-jetstream; scale-out, redeploy
    #[arg(default_values = ["original-610", "original-1000", "throughput", "breaker-open"])]
    scenarios: Vec<String>,
    /// Seconds each timed scenario runs (the relay scenarios move a fixed number of events)
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Bookings per second the notify scenarios offer
    #[arg(long, default_value_t = notify::RATE)]
    rate: u64,
    /// Events the relay scenarios put in the outbox
    #[arg(long, default_value_t = 200_000)]
    relay_events: u64,
    /// Events the consume scenarios put on the bus
    #[arg(long, default_value_t = 20_000)]
    consume_events: u64,
    /// Booking instances in the scale-out scenario
    #[arg(long, default_value_t = scale_out::BOOKING_INSTANCES)]
    booking_instances: usize,
    /// The PostgreSQL server the distributed scenarios create their databases on [default:
    /// $MYBNB_TEST_DATABASE_URL, else a throwaway cluster of the run's own, as for the tests]
    #[arg(long)]
    postgres: Option<String>,
    /// Keep the distributed scenarios' directories, with every process's log at `info`
    #[arg(long)]
    keep_logs: bool,
    /// The mybnb binary [default: `mybnb` next to this program]
    #[arg(long)]
    mybnb: Option<PathBuf>,
    /// Where the JSON and Markdown results go
    #[arg(long, default_value = "docs")]
    out: PathBuf,
}

/// A scenario named on the command line.
enum Scenario {
    Bookings(load::Scenario),
    Notify(BusScenario),
    Relay(BusScenario),
    Consume(BusScenario),
    ScaleOut,
    Redeploy,
}

impl Scenario {
    fn named(name: &str) -> anyhow::Result<Scenario> {
        match name {
            "scale-out" => return Ok(Scenario::ScaleOut),
            "redeploy" => return Ok(Scenario::Redeploy),
            _ => {}
        }
        if let Some(scenario) = BusScenario::find(name, &notify::SCENARIOS) {
            return Ok(Scenario::Notify(scenario));
        }
        if let Some(scenario) = BusScenario::find(name, &relay_throughput::SCENARIOS) {
            return Ok(Scenario::Relay(scenario));
        }
        if let Some(scenario) = BusScenario::find(name, &consumer_throughput::SCENARIOS) {
            return Ok(Scenario::Consume(scenario));
        }
        match load::Scenario::named(name) {
            Ok(scenario) => Ok(Scenario::Bookings(scenario)),
            Err(_) => bail!("unknown scenario {name}"),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mybnb = match &args.mybnb {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("mybnb"),
    };
    // Every name is checked before anything runs.
    let scenarios = args
        .scenarios
        .iter()
        .map(|name| Scenario::named(name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let duration = Duration::from_secs(args.seconds);
    let mut bookings = Vec::new();
    let command = std::iter::once("mybnb-bench".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let mut events = events_report::EventResults::new(command.clone());
    let (mut scale_out, mut redeploy) = (None, None);
    let target = cluster::Target {
        mybnb: mybnb.clone(),
        postgres: args.postgres.clone(),
        keep_logs: args.keep_logs,
    };
    for scenario in scenarios {
        match scenario {
            Scenario::Bookings(scenario) => {
                bookings.push(run_bookings(&mybnb, &scenario, duration).await?);
            }
            Scenario::Notify(scenario) => {
                eprintln!("\n== {}: {}", scenario.name, scenario.description);
                let result = notify::run(&mybnb, &scenario, args.rate, duration).await?;
                eprintln!("{}", events_report::notify_line(&result));
                events.notify.push(result);
            }
            Scenario::Relay(scenario) => {
                eprintln!("\n== {}: {}", scenario.name, scenario.description);
                let result = relay_throughput::run(&scenario, args.relay_events).await?;
                eprintln!("{}", events_report::relay_line(&result));
                events.relay.push(result);
            }
            Scenario::Consume(scenario) => {
                eprintln!("\n== {}: {}", scenario.name, scenario.description);
                let result = consumer_throughput::run(&scenario, args.consume_events).await?;
                eprintln!("{}", events_report::consume_line(&result));
                events.consume.push(result);
            }
            Scenario::ScaleOut => {
                eprintln!(
                    "\n== scale-out: 1, 2, 4 payment instances of {} lanes, {} clients",
                    scale_out::CAP,
                    scale_out::CLIENTS
                );
                scale_out = Some(scale_out::run(&target, duration, args.booking_instances).await?);
            }
            Scenario::Redeploy => {
                eprintln!(
                    "\n== redeploy: every instance replaced under {} clients",
                    redeploy::CLIENTS
                );
                let result = redeploy::run(&target, duration).await?;
                eprintln!(
                    "   {} requests, {} failures, {:.1} req/s",
                    result.requests, result.failures, result.requests_per_second
                );
                redeploy = Some(result);
            }
        }
    }
    if !bookings.is_empty() {
        report::write(&args.out, &bookings, args.seconds)?;
    }
    if !events.is_empty() {
        events_report::write(&args.out, &events, args.seconds)?;
    }
    if scale_out.is_some() || redeploy.is_some() {
        distributed_report::write(
            &args.out,
            args.seconds,
            &command,
            scale_out.as_ref(),
            redeploy.as_ref(),
        )?;
    }
    Ok(())
}

async fn run_bookings(
    mybnb: &Path,
    scenario: &load::Scenario,
    duration: Duration,
) -> anyhow::Result<load::RunResult> {
    eprintln!("\n== {}: {}", scenario.name, scenario.description);
    let server = server::Server::start(mybnb, &scenario.settings).await?;
    let mut result = load::run(&server, scenario, duration).await?;
    if scenario.measure_sqlite_commits {
        result.sqlite_commits_per_second =
            Some(sqlite_commits::rate(Duration::from_secs(5)).await?);
    }
    server.stop().await?;
    eprintln!("{}", report::one_line(&result));
    Ok(result)
}
