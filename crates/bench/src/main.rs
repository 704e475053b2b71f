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
//!
//! The bench speaks to the system under test only as a client would: the public API through
//! `mybnb-client`, `/metrics`, and the bus where the run owns it (its nats-server; the bus's
//! history), never another context's tables.

mod backlog;
mod cpu;
mod follower;
mod inprocess;
mod ledger;
mod load;
mod notify;
mod redeploy;
mod report;
mod scale_out;
mod seed;
mod stages;
mod stats;
mod system;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use inprocess::BusScenario;

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

/// The event scenarios, `<kind>-<bus>`, and what each measures.
const EVENT_SCENARIOS: [(&str, &str); 6] = [
    (
        "notify-embedded",
        "booking → host notification, embedded event log (SQLite)",
    ),
    (
        "notify-jetstream",
        "booking → host notification, NATS JetStream",
    ),
    (
        "relay-embedded",
        "outbox (SQLite) → embedded event log (SQLite)",
    ),
    ("relay-jetstream", "outbox (SQLite) → NATS JetStream"),
    (
        "consume-embedded",
        "one subscriber, handler doing nothing, embedded event log",
    ),
    (
        "consume-jetstream",
        "one subscriber, handler doing nothing, NATS JetStream",
    ),
];

/// A scenario named on the command line.
enum Scenario {
    Bookings(load::Scenario),
    Events(BusScenario),
    ScaleOut,
    Redeploy,
}

impl Scenario {
    fn named(name: &str) -> anyhow::Result<Scenario> {
        if let Some(&(name, description)) = EVENT_SCENARIOS.iter().find(|(n, _)| *n == name) {
            let jetstream = name.ends_with("-jetstream");
            return Ok(Scenario::Events(BusScenario {
                name,
                description,
                jetstream,
            }));
        }
        Ok(match name {
            "scale-out" => Scenario::ScaleOut,
            "redeploy" => Scenario::Redeploy,
            _ => match load::Scenario::named(name) {
                Some(scenario) => Scenario::Bookings(scenario),
                None => bail!("unknown scenario {name}"),
            },
        })
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
    let command = std::iter::once("mybnb-bench".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let mut results = report::Results {
        command,
        ..report::Results::default()
    };
    let target = system::Target {
        mybnb: mybnb.clone(),
        postgres: args.postgres.clone(),
        keep_logs: args.keep_logs,
    };
    let events = &mut results.events;
    for scenario in scenarios {
        match scenario {
            Scenario::Bookings(scenario) => {
                eprintln!("\n== {}: {}", scenario.name, scenario.description);
                let result = load::run(&mybnb, &scenario, duration).await?;
                eprintln!("{}", report::line(&result));
                results.bookings.push(result);
            }
            Scenario::Events(scenario) => {
                eprintln!("\n== {}: {}", scenario.name, scenario.description);
                match scenario.name.split('-').next() {
                    Some("notify") => {
                        let result = notify::run(&mybnb, &scenario, args.rate, duration).await?;
                        eprintln!("{}", report::line(&result));
                        events.notify.push(result);
                    }
                    Some("relay") => {
                        let result = inprocess::relay(&scenario, args.relay_events).await?;
                        eprintln!("{}", report::line(&result));
                        events.relay.push(result);
                    }
                    _ => {
                        let result = inprocess::consume(&scenario, args.consume_events).await?;
                        eprintln!("{}", report::line(&result));
                        events.consume.push(result);
                    }
                }
            }
            Scenario::ScaleOut => {
                eprintln!(
                    "\n== scale-out: 1, 2, 4 payment instances of {} lanes, {} clients",
                    scale_out::CAP,
                    scale_out::CLIENTS
                );
                results.scale_out =
                    Some(scale_out::run(&target, duration, args.booking_instances).await?);
            }
            Scenario::Redeploy => {
                eprintln!(
                    "\n== redeploy: every instance replaced under {} clients",
                    redeploy::CLIENTS
                );
                let result = redeploy::run(&target, duration).await?;
                eprintln!("{}", report::line(&result));
                results.redeploy = Some(result);
            }
        }
    }
    report::write(&args.out, args.seconds, &mut results)
}
