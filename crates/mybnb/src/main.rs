use std::process::ExitCode;

use clap::Parser;
use mybnb::cli::{Cli, Command, DevCommand, ReplayArgs, ServeArgs};
use mybnb::{Application, Settings, replay, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(&args).await,
        Command::Replay(args) => rebuild(&args).await,
        Command::Dev(DevCommand::Up(args)) => dev_up(args).await,
    }
}

async fn dev_up(args: mybnb::cli::DevUpArgs) -> ExitCode {
    match mybnb::dev::up(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mybnb dev up: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(args: &ServeArgs) -> Result<Settings, ExitCode> {
    Settings::load(args).map_err(|error| {
        eprintln!("mybnb: invalid settings: {error}");
        ExitCode::from(2)
    })
}

async fn rebuild(args: &ReplayArgs) -> ExitCode {
    let settings = match load(&args.settings) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    telemetry::init(settings.log_format);
    match replay::replay(&settings, args.model).await {
        Ok(applied) => {
            println!("replayed {applied} events");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mybnb: replay failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &ServeArgs) -> ExitCode {
    let settings = match load(args) {
        Ok(settings) => settings,
        Err(code) => return code,
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
