//! Start-up as a value: [`Application::build`] opens what the enabled services need and binds
//! the listener; [`Application::run_until_stopped`] serves until SIGTERM, SIGINT or a
//! [`ShutdownHandle`] asks it to stop, then drains.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use mybnb_bus::{ConsumerMetrics, RelayMetrics};
use mybnb_platform::auth::{ServiceToken, token_keys};
use mybnb_platform::db::Database;
use mybnb_platform::forwarded::trust_gateway;
use mybnb_platform::health::{Readiness, refuse_until_started};
use mybnb_platform::http::{ConnectionLimits, RequestTimeout, serve, serve_behind_middleware};
use mybnb_platform::metrics::Metrics;
use mybnb_platform::private::private_dir;
use mybnb_platform::signals::StopSignals;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::openapi;
use crate::secrets;
use crate::services::Service;
use crate::settings::Settings;
use crate::transport::EventTransport;
use crate::wiring::Wiring;

pub struct Application {
    listener: TcpListener,
    signals: StopSignals,
    router: Router,
    readiness: Readiness,
    databases: Vec<Database>,
    background: JoinSet<()>,
    stop: CancellationToken,
    connection_limits: ConnectionLimits,
    drain_delay: Duration,
    shutdown_timeout: Duration,
}

/// Asks a running application to stop, as SIGTERM does.
#[derive(Clone)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        self.0.cancel();
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let signals = StopSignals::install();
        private_dir(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let secret = secrets::load_or_generate(
            settings.jwt_secret.as_ref(),
            &settings.data_dir,
            "jwt-secret",
        )?;
        let (issuer, verifier) =
            token_keys(secret.expose_secret(), settings.identity.token_lifetime)?;
        let service_token = secrets::load_or_generate(
            settings.service_token.as_ref(),
            &settings.data_dir,
            "service-token",
        )?;
        let service_token = ServiceToken::new(SecretString::from(
            String::from_utf8(service_token.expose_secret().to_vec())
                .context("the service token must be text")?,
        ));
        // Bound first: the web pages, when this process serves the API too, call it here.
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        let readiness = Readiness::default();
        let metrics = Metrics::new();
        let stop = CancellationToken::new();
        let mut databases = Vec::new();
        let mut background = JoinSet::new();

        let router = if settings.services.contains(Service::Gateway) {
            let gateway = mybnb_gateway::router(
                gateway_config(&settings),
                mybnb_gateway::Host {
                    verifier,
                    service_token,
                    readiness: &readiness,
                    metrics: &metrics,
                    background: &mut background,
                    stop: &stop,
                },
            );
            let operations = mybnb_platform::health::router(readiness.clone())
                .merge(mybnb_platform::metrics::router(metrics.clone()));
            gateway.merge(Router::from(operations))
        } else {
            let trust = axum::middleware::from_fn_with_state(service_token.clone(), trust_gateway);
            let web_token = service_token.clone();
            let keeps_data = settings.services.iter().any(Service::keeps_data);
            let bus = match &settings.nats_url {
                Some(url) if keeps_data => {
                    Some(EventTransport::jetstream(url, &readiness, &mut background, &stop).await?)
                }
                _ => None,
            };
            let mut wiring = Wiring {
                settings: &settings,
                issuer,
                verifier,
                service_token,
                metrics: &metrics,
                readiness: &readiness,
                databases: &mut databases,
                background: &mut background,
                stop: &stop,
                bus,
                consumer_metrics: ConsumerMetrics::register(&metrics),
                relay_metrics: RelayMetrics::register(&metrics),
            };
            let mut api = wiring.api()?;
            // axum refuses a route layer on a router without routes: the web pages alone.
            if keeps_data {
                api = api.route_layer(axum::middleware::from_fn_with_state(
                    readiness.clone(),
                    refuse_until_started,
                ));
            }
            let api = api
                .merge(mybnb_platform::health::router(readiness.clone()))
                .merge(mybnb_platform::metrics::router(metrics.clone()));
            let mut router = openapi::serve_document(api);
            if settings.services.contains(Service::Web) {
                router = router.merge(web_pages(&settings, &listener, web_token)?);
            }
            router.layer(trust)
        };
        let router =
            serve_behind_middleware(router, RequestTimeout(settings.request_timeout), metrics);

        Ok(Application {
            listener,
            signals,
            router,
            readiness,
            databases,
            background,
            stop,
            connection_limits: settings.connection_limits,
            drain_delay: settings.drain_delay,
            shutdown_timeout: settings.shutdown_timeout,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.stop.clone())
    }

    /// Serves until asked to stop, then: readiness turns 503 at once; after `drain_delay` the
    /// listener closes; in-flight requests get up to `shutdown_timeout` to finish.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        tracing::info!(%address, "listening");
        let closing = CancellationToken::new();
        let server = serve(
            self.listener,
            self.router,
            self.connection_limits,
            closing.clone().cancelled_owned(),
        );
        let mut server = tokio::spawn(server);

        tokio::select! {
            () = stop_requested(&mut self.signals, &self.stop) => {}
            result = &mut server => {
                self.stop.cancel();
                return result.context("the server task failed")?.context("serving HTTP");
            }
        }
        tracing::info!(
            drain_delay_ms = self.drain_delay.as_millis(),
            "shutting down: draining"
        );
        self.readiness.start_draining();
        self.stop.cancel();
        tokio::time::sleep(self.drain_delay).await;
        closing.cancel();
        match tokio::time::timeout(self.shutdown_timeout, &mut server).await {
            Ok(result) => result
                .context("the server task failed")?
                .context("serving HTTP")?,
            Err(_) => {
                tracing::warn!(
                    shutdown_timeout_ms = self.shutdown_timeout.as_millis(),
                    "in-flight requests did not finish in time; stopping anyway"
                );
                server.abort();
            }
        }
        while self.background.join_next().await.is_some() {}
        for database in &self.databases {
            database.close().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The gateway's view of the settings: each context's paths and instances.
fn gateway_config(settings: &Settings) -> mybnb_gateway::GatewayConfig {
    let upstreams = settings
        .gateway
        .upstreams
        .iter()
        .map(|upstream| mybnb_gateway::UpstreamConfig {
            service: upstream.service.name(),
            paths: upstream.service.paths(),
            instances: upstream.instances.clone(),
            honours_idempotency_keys: upstream.service.honours_idempotency_keys(),
        })
        .collect();
    mybnb_gateway::GatewayConfig {
        upstreams,
        health_interval: settings.gateway.health_interval,
        connect_timeout: settings.gateway.connect_timeout,
    }
}

/// Resolves on SIGTERM, SIGINT or a [`ShutdownHandle`].
async fn stop_requested(signals: &mut StopSignals, stop: &CancellationToken) {
    tokio::select! {
        signal = signals.recv() => tracing::info!("received {signal}"),
        () = stop.cancelled() => {}
    }
}

/// The web pages, calling the public API at `web_api_url`, or at this process's own listener
/// when that is not set (settings allow that only when this process serves the whole API).
fn web_pages(
    settings: &Settings,
    listener: &TcpListener,
    service_token: ServiceToken,
) -> anyhow::Result<Router> {
    let api = match &settings.web.api_url {
        Some(url) => url.clone(),
        None => {
            let mut own = listener.local_addr()?;
            if own.ip().is_unspecified() {
                own.set_ip(match own {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            url::Url::parse(&format!("http://{own}/")).context("this process's own address")?
        }
    };
    mybnb_web::router(mybnb_web::WebConfig {
        api,
        // A page makes up to three API calls one after another; each must give up well before
        // this process's own deadline answers for the page (in JSON, not in words).
        api_timeout: settings.request_timeout / 4,
        service_token,
        public_url: settings.web.public_url.clone(),
    })
}
