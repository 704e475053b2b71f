//! `host-insights`: the example service as its own process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use mybnb_bus::{EmbeddedLog, EventBus, JetStreamBus};
use mybnb_platform::db::{Database, DatabaseLocation, Migrations};
use tokio_util::sync::CancellationToken;

/// Bookings, cancellations and revenue per room, from mybnb's events.
#[derive(Debug, Parser)]
#[command(name = "host-insights")]
struct Args {
    /// Address to serve `GET /insights/rooms` on
    #[arg(long, env = "HOST_INSIGHTS_LISTEN", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Where the service keeps its own database
    #[arg(
        long,
        env = "HOST_INSIGHTS_DATA_DIR",
        default_value = "./host-insights-data"
    )]
    data_dir: PathBuf,
    /// Subscribe on NATS JetStream (mybnb's distributed mode)
    #[arg(long, env = "HOST_INSIGHTS_NATS_URL", conflicts_with = "events_db")]
    nats_url: Option<String>,
    /// Or on an all-in-one mybnb's embedded log: its `<data_dir>/events.db`
    #[arg(
        long,
        env = "HOST_INSIGHTS_EVENTS_DB",
        required_unless_present = "nats_url"
    )]
    events_db: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match serve(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("host-insights: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let database = open(
        args.data_dir.join("insights.db"),
        host_insights::migrations(),
    )
    .await?;
    let bus: Arc<dyn EventBus> = match (&args.nats_url, &args.events_db) {
        (Some(url), _) => Arc::new(JetStreamBus::connect(url).await?),
        (None, Some(path)) => Arc::new(EmbeddedLog::new(
            open(path.clone(), EmbeddedLog::migrations()).await?,
        )),
        (None, None) => anyhow::bail!("give --nats-url or --events-db"),
    };
    let mut signals = mybnb_platform::signals::StopSignals::install();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    tokio::spawn(async move {
        signals.recv().await;
        stopping.cancel();
    });
    host_insights::run(bus, database, listener, stop).await
}

/// A SQLite database of this process, migrated.
async fn open(path: PathBuf, migrations: Migrations) -> anyhow::Result<Database> {
    Database::open(&DatabaseLocation::Sqlite { path }, 4, &migrations).await
}
