//! `mybnb dev up`: the distributed topology on this machine, against the local PostgreSQL and
//! NATS, until Ctrl-C.

use anyhow::Context;
use mybnb_platform::private::private_dir;
use mybnb_platform::signals::StopSignals;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::MigrateDatabase;

use crate::cli::DevUpArgs;
use crate::secrets;
use crate::services::Service;
use crate::topology::{Plan, Topology};

pub async fn up(args: DevUpArgs) -> anyhow::Result<()> {
    let mut signals = StopSignals::install();
    private_dir(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    ensure_database(&args.database_url).await?;
    let binary = std::env::current_exe().context("finding the mybnb binary")?;
    let mut plan = Plan::standard(binary, args.data_dir.clone(), args.gateway_port);
    plan.instances
        .insert(Service::Booking, usize::from(args.booking));
    plan.instances
        .insert(Service::Payment, usize::from(args.payment));
    plan.env = vec![
        (
            "MYBNB_DATABASE_URL".to_owned(),
            args.database_url.expose_secret().to_owned(),
        ),
        (
            "MYBNB_NATS_URL".to_owned(),
            args.nats_url.expose_secret().to_owned(),
        ),
    ];
    // Every process must share them; kept in the data directory so tokens outlive a restart.
    for (key, file) in [
        ("MYBNB_JWT_SECRET", "jwt-secret"),
        ("MYBNB_SERVICE_TOKEN", "service-token"),
    ] {
        let configured = std::env::var(key).ok().map(SecretString::from);
        let secret = secrets::load_or_generate(configured.as_ref(), &args.data_dir, file)?;
        let secret = String::from_utf8(secret.expose_secret().to_vec())
            .with_context(|| format!("{key} must be text"))?;
        plan.env.push((key.to_owned(), secret));
    }
    println!(
        "starting the distributed topology (logs under {})",
        args.data_dir.display()
    );
    // Stopped while starting: dropping the half-started topology kills what it started.
    let mut topology = tokio::select! {
        topology = Topology::start(plan) => topology?,
        signal = signals.recv() => {
            anyhow::bail!("stopped by {signal} while starting");
        }
    };
    for process in topology.processes() {
        println!(
            "  {:<13} {}  pid {:<8} log {}",
            process.service.name(),
            process.url(),
            process.pid().map_or("-".to_owned(), |pid| pid.to_string()),
            process.log().display()
        );
    }
    let gateway = topology.gateway_url();
    println!("mybnb is up: {gateway}  (Ctrl-C stops everything)");
    println!("  pages     open {gateway}/ in a browser (the web process, through the gateway)");
    println!(
        "  JSON API  {gateway}/rooms, /users, /bookings, …  (document: {gateway}/openapi.json)"
    );
    let crashed = tokio::select! {
        _ = signals.recv() => None,
        (service, port, status) = topology.exited() => Some(format!(
            "{service} on port {port} exited unexpectedly ({status:?})"
        )),
    };
    if let Some(crash) = &crashed {
        eprintln!("mybnb dev: {crash}; stopping the rest");
    }
    println!("stopping…");
    topology.stop().await?;
    println!("stopped");
    match crashed {
        Some(crash) => anyhow::bail!(crash),
        None => Ok(()),
    }
}

/// Creates the database when the server has none of that name.
async fn ensure_database(url: &SecretString) -> anyhow::Result<()> {
    let url = url.expose_secret();
    let shown = mybnb_platform::db::redact_url(url);
    let exists = sqlx::Postgres::database_exists(url).await.with_context(|| {
        format!(
            "cannot reach PostgreSQL at {shown}; start a server there (on Debian, `pg_ctlcluster <version> main start`) or pass --database-url"
        )
    })?;
    if !exists {
        sqlx::Postgres::create_database(url)
            .await
            .with_context(|| format!("creating the database {shown}"))?;
    }
    Ok(())
}
