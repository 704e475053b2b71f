use std::process::ExitCode;

use clap::Parser;
use mybnb::cli::{Cli, Command, ServeArgs};
use mybnb::{Application, Settings, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Command::Serve(args) = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    let settings = match Settings::load(&args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("mybnb: invalid settings: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let described: Vec<String> = settings
        .describe()
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    tracing::info!(
        settings = described.join(" "),
        "starting mybnb {}",
        env!("CARGO_PKG_VERSION")
    );
    let outcome = match Application::build(settings).await {
        Ok(application) => application.run_until_stopped().await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "mybnb stopped on an error");
            eprintln!("mybnb: {error:#}");
            ExitCode::FAILURE
        }
    }
}
