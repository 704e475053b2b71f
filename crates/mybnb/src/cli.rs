//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(name = "mybnb", version, about = "mybnb — a lodging-sharing platform", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the chosen services (the default command: all of them, in one process).
    Serve(ServeArgs),
    /// Throw a read model away and rebuild it from every event the bus holds.
    Replay(ReplayArgs),
    /// Run the distributed mode on this machine.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Start every service in its own process (two booking and two payment instances) behind
    /// the gateway, on the local PostgreSQL and NATS; Ctrl-C stops them all.
    Up(DevUpArgs),
}

#[derive(Debug, Args)]
pub struct DevUpArgs {
    /// The gateway's port on 127.0.0.1
    #[arg(long, default_value_t = 8080)]
    pub gateway_port: u16,
    /// The PostgreSQL database every context keeps its schema in (created if missing)
    #[arg(
        long,
        env = "MYBNB_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/mybnb",
        hide_env_values = true
    )]
    pub database_url: SecretString,
    /// NATS with JetStream
    #[arg(
        long,
        env = "MYBNB_NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        hide_env_values = true
    )]
    pub nats_url: SecretString,
    /// Booking instances
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub booking: u16,
    /// Payment instances
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub payment: u16,
    /// Where each process keeps its log and generated files
    #[arg(long, default_value = "./mybnb-data/dev")]
    pub data_dir: PathBuf,
}

/// The read models `mybnb replay` rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadModel {
    /// Every user's stays as guest and as host (`GET /mypage`).
    Mypage,
}

/// Arguments of `mybnb replay`: the read model, and the same settings as `mybnb serve` (its
/// database and the bus are found as the serving process finds them).
#[derive(Debug, Args)]
pub struct ReplayArgs {
    pub model: ReadModel,
    #[command(flatten)]
    pub settings: ServeArgs,
}

/// Flags of `mybnb serve`. Each overrides the same setting from `MYBNB_*` variables and the
/// config file; the others are set there (see the README's settings table).
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "MYBNB_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Directory for the SQLite databases and the generated token-signing secret
    /// [default: ./mybnb-data]
    #[arg(long, env = "MYBNB_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Services to run: `all` (every context), or a comma-separated list of identity, room,
    /// payment, booking, notification, mypage, web; or `gateway` alone [default: all]
    #[arg(long, env = "MYBNB_SERVICES", value_name = "LIST")]
    pub services: Option<String>,
    /// A TOML file of settings
    #[arg(long, env = "MYBNB_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}
