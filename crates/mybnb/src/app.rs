//! Start-up as a value: [`Application::build`] opens what the enabled services need and binds
//! the listener; [`Application::run_until_stopped`] serves until SIGTERM, SIGINT or a
//! [`ShutdownHandle`] asks it to stop, then drains.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use mybnb_booking::http::Bookings;
use mybnb_booking::links::{HttpPayments, HttpRooms, ResilientPayments};
use mybnb_booking::ports::{PaymentGateway, RoomCatalog};
use mybnb_booking::service::BookingPolicy;
use mybnb_booking::store::SqlBookingRepository;
use mybnb_bus::{Consumer, ConsumerMetrics, EmbeddedLog, EventBus, Handler, JetStreamBus, Relay};
use mybnb_mypage::service::MyPageService;
use mybnb_mypage::store::SqlMyPageRepository;
use mybnb_notification::mail::Mailer;
use mybnb_notification::service::NotificationService;
use mybnb_notification::store::SqlNotificationRepository;
use mybnb_payment::http::Payments;
use mybnb_platform::auth::{ServiceToken, TokenIssuer, TokenVerifier, token_keys};
use mybnb_platform::db::{Database, DatabaseLocation, Migrations};
use mybnb_platform::health::{ComponentStatus, Readiness, refuse_until_started};
use mybnb_platform::http::{RequestTimeout, serve_behind_middleware};
use mybnb_platform::metrics::Metrics;
use mybnb_platform::outbox::EventEnvelope;
use mybnb_room::http::Rooms;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::links::{InProcessPayments, InProcessRooms};
use crate::openapi;
use crate::secrets;
use crate::services::Service;
use crate::settings::Settings;

pub struct Application {
    listener: TcpListener,
    router: Router,
    readiness: Readiness,
    databases: Vec<Database>,
    background: JoinSet<()>,
    stop: CancellationToken,
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

/// The bus events travel on, and the readiness component to await before using it.
#[derive(Clone)]
struct EventTransport {
    bus: Arc<dyn EventBus>,
    component: Option<String>,
}

/// What every context's wiring needs from the application.
struct Wiring<'a> {
    settings: &'a Settings,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    service_token: ServiceToken,
    metrics: &'a Metrics,
    readiness: &'a Readiness,
    databases: &'a mut Vec<Database>,
    background: &'a mut JoinSet<()>,
    stop: &'a CancellationToken,
    /// Services already wired, for the contexts that call them in-process.
    rooms: Option<Arc<Rooms>>,
    payments: Option<Arc<Payments>>,
    /// The bus, opened on first use ([`Wiring::bus`]).
    bus: Option<EventTransport>,
    consumer_metrics: ConsumerMetrics,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
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
        let (issuer, verifier) = token_keys(secret.expose_secret(), settings.token_lifetime)?;
        let service_token = secrets::load_or_generate(
            settings.service_token.as_ref(),
            &settings.data_dir,
            "service-token",
        )?;
        let service_token = ServiceToken::new(SecretString::from(
            String::from_utf8(service_token.expose_secret().to_vec())
                .context("the service token must be text")?,
        ));
        let readiness = Readiness::default();
        let metrics = Metrics::new();
        let stop = CancellationToken::new();
        let mut databases = Vec::new();
        let mut background = JoinSet::new();

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
            rooms: None,
            payments: None,
            bus: match &settings.nats_url {
                Some(url) => Some(EventTransport {
                    bus: Arc::new(JetStreamBus::connect(url.expose_secret()).await?),
                    // Not awaited: events wait in the outboxes while NATS is away.
                    component: None,
                }),
                None => None,
            },
            consumer_metrics: ConsumerMetrics::register(&metrics),
        };
        let mut api = OpenApiRouter::new();
        for service in settings.services.iter() {
            api = api.merge(wiring.context_router(service)?);
        }
        let api = api.route_layer(axum::middleware::from_fn_with_state(
            readiness.clone(),
            refuse_until_started,
        ));
        let api = api
            .merge(mybnb_platform::health::router(readiness.clone()))
            .merge(mybnb_platform::metrics::router(metrics.clone()));
        let router = openapi::serve_document(api);
        let router =
            serve_behind_middleware(router, RequestTimeout(settings.request_timeout), metrics);

        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        Ok(Application {
            listener,
            router,
            readiness,
            databases,
            background,
            stop,
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
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(closing.clone().cancelled_owned());
        let mut server = tokio::spawn(server.into_future());

        tokio::select! {
            () = stop_requested(&self.stop) => {}
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

/// Decides undecided bookings on start — as soon as the database is migrated — and then every
/// `interval`, until the application stops.
async fn reconcile_periodically(
    bookings: Arc<Bookings>,
    interval: Duration,
    readiness: Readiness,
    stop: CancellationToken,
) {
    if !usable(&readiness, &["booking.database".to_owned()], &stop).await {
        return;
    }
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return,
        }
        let correlation_id = format!("reconcile-{}", uuid::Uuid::now_v7());
        let reconciled = tokio::select! {
            reconciled = bookings.reconcile(&correlation_id) => reconciled,
            // Every step of a round is a compare-and-set or idempotent: stopping midway is safe.
            () = stop.cancelled() => return,
        };
        wait = match reconciled {
            Ok(_) => interval,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "reconciliation failed; retrying"
                );
                interval.min(Duration::from_secs(1))
            }
        };
    }
}

/// Waits until every component is usable; `false` if the application stops first.
async fn usable(
    readiness: &Readiness,
    components: impl IntoIterator<Item = &String>,
    stop: &CancellationToken,
) -> bool {
    for component in components {
        tokio::select! {
            () = readiness.usable(component) => {}
            () = stop.cancelled() => return false,
        }
    }
    true
}

/// A bus handler that calls `handle` on a shared `service` with each event.
fn handler<S, F>(
    service: Arc<S>,
    handle: impl Fn(Arc<S>, EventEnvelope) -> F + Send + Sync + 'static,
) -> Handler
where
    S: Send + Sync + 'static,
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    Arc::new(move |envelope| Box::pin(handle(service.clone(), envelope)))
}

/// Resolves on SIGTERM, SIGINT or a [`ShutdownHandle`].
async fn stop_requested(stop: &CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
        () = stop.cancelled() => {}
    }
}

impl Wiring<'_> {
    fn context_router(&mut self, service: Service) -> anyhow::Result<OpenApiRouter> {
        let router = match service {
            Service::Identity => {
                let database = self.database(service, mybnb_identity::migrations())?;
                self.relay(service, database.clone())?;
                let users = mybnb_identity::store::SqlUserRepository::new(database);
                let identity =
                    mybnb_identity::service::IdentityService::new(users, self.issuer.clone());
                mybnb_identity::http::router(
                    identity,
                    self.verifier.clone(),
                    self.settings.auth_rate_limit_per_minute,
                )
            }
            Service::Room => {
                let database = self.database(service, mybnb_room::migrations())?;
                self.relay(service, database.clone())?;
                let rooms = Arc::new(mybnb_room::service::RoomService::new(
                    mybnb_room::store::SqlRoomRepository::new(database),
                ));
                self.rooms = Some(rooms.clone());
                let handler = handler(rooms.clone(), |rooms, envelope| async move {
                    rooms.on_booking_event(&envelope).await
                });
                self.subscribe(
                    service,
                    Consumer {
                        name: mybnb_room::service::CONSUMER,
                        event_types: mybnb_room::service::SUBSCRIBES_TO,
                        handler,
                    },
                )?;
                mybnb_room::http::router(rooms, self.verifier.clone())
            }
            Service::Payment => {
                let database = self.database(service, mybnb_payment::migrations())?;
                self.relay(service, database.clone())?;
                let payments = Arc::new(mybnb_payment::service::PaymentService::new(
                    mybnb_payment::store::SqlPaymentRepository::new(database),
                    self.settings.payment_network,
                ));
                self.payments = Some(payments.clone());
                let handler = handler(payments.clone(), |payments, envelope| async move {
                    payments.on_booking_cancelled(&envelope).await
                });
                self.subscribe(
                    service,
                    Consumer {
                        name: mybnb_payment::service::CONSUMER,
                        event_types: mybnb_payment::service::SUBSCRIBES_TO,
                        handler,
                    },
                )?;
                mybnb_payment::http::router(
                    payments,
                    self.verifier.clone(),
                    self.service_token.clone(),
                )
            }
            Service::Booking => self.booking_router()?,
            Service::Notification => self.notification_router()?,
            Service::Mypage => {
                let database = self.database(service, mybnb_mypage::migrations())?;
                let pages = Arc::new(MyPageService::new(SqlMyPageRepository::new(database)));
                let handler = handler(pages.clone(), |pages, envelope| async move {
                    pages.handle(&envelope).await
                });
                self.subscribe(
                    service,
                    Consumer {
                        name: mybnb_mypage::service::CONSUMER,
                        event_types: mybnb_mypage::service::SUBSCRIBES_TO,
                        handler,
                    },
                )?;
                mybnb_mypage::http::router(pages, self.verifier.clone())
            }
        };
        Ok(router)
    }

    /// Notification keeps each user's history, pushes it live, and mails it when an SMTP
    /// server is configured.
    fn notification_router(&mut self) -> anyhow::Result<OpenApiRouter> {
        let service = Service::Notification;
        let database = self.database(service, mybnb_notification::migrations())?;
        let mail = self.settings.mail.clone();
        let notifications = Arc::new(NotificationService::new(
            SqlNotificationRepository::new(database.clone()),
            mail.is_some(),
        ));
        if let Some(mail) = mail {
            let mailer = Mailer::new(database, mail)?;
            let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
            self.background.spawn(async move {
                if usable(&readiness, &["notification.database".to_owned()], &stop).await {
                    mailer.run(stop).await;
                }
            });
        }
        // Open live streams end when the application stops, so they do not hold up the drain.
        let (ending, stop) = (notifications.clone(), self.stop.clone());
        self.background.spawn(async move {
            stop.cancelled().await;
            ending.end_streams();
        });
        let handler = handler(
            notifications.clone(),
            |notifications, envelope| async move { notifications.handle(envelope).await },
        );
        self.subscribe(
            service,
            Consumer {
                name: mybnb_notification::service::CONSUMER,
                event_types: mybnb_notification::SUBSCRIBES_TO,
                handler,
            },
        )?;
        Ok(mybnb_notification::http::router(
            notifications,
            self.verifier.clone(),
        ))
    }

    /// Runs `consumer` on the bus once the service's database and the bus are usable.
    fn subscribe(&mut self, service: Service, consumer: Consumer) -> anyhow::Result<()> {
        let EventTransport { bus, component } = self.bus()?;
        let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
        let metrics = self.consumer_metrics.clone();
        let needed = [Some(format!("{service}.database")), component];
        self.background.spawn(async move {
            if usable(&readiness, needed.iter().flatten(), &stop).await {
                consumer.run(bus, metrics, stop).await;
            }
        });
        Ok(())
    }

    /// Booking calls room and payment in-process when they run here, over HTTP otherwise;
    /// either way the payment call is guarded by the same resilience.
    fn booking_router(&mut self) -> anyhow::Result<OpenApiRouter> {
        let database = self.database(Service::Booking, mybnb_booking::migrations())?;
        self.relay(Service::Booking, database.clone())?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .context("building the HTTP client")?;
        let settings = self.settings;
        let rooms: Arc<dyn RoomCatalog> = match (&self.rooms, &settings.room_service_url) {
            (Some(rooms), _) => Arc::new(InProcessRooms(rooms.clone())),
            (None, Some(url)) => Arc::new(HttpRooms::new(client.clone(), url)),
            (None, None) => {
                anyhow::bail!("booking needs room: run it here or set room_service_url")
            }
        };
        let payments: Arc<dyn PaymentGateway> =
            match (&self.payments, &settings.payment_service_url) {
                (Some(payments), _) => Arc::new(InProcessPayments(payments.clone())),
                (None, Some(url)) => {
                    Arc::new(HttpPayments::new(client, url, self.service_token.clone()))
                }
                (None, None) => {
                    anyhow::bail!("booking needs payment: run it here or set payment_service_url")
                }
            };
        let payments = Arc::new(ResilientPayments::new(
            payments,
            settings.payment_breaker,
            self.metrics,
            self.readiness,
        )?);
        let bookings = Arc::new(mybnb_booking::service::BookingService::new(
            SqlBookingRepository::new(database),
            rooms,
            payments,
            BookingPolicy {
                stale_after: settings.reconcile_stale_after,
            },
        ));
        let handler = handler(bookings.clone(), |bookings, envelope| async move {
            bookings.on_room_deleted(&envelope).await
        });
        self.subscribe(
            Service::Booking,
            Consumer {
                name: mybnb_booking::service::CONSUMER,
                event_types: mybnb_booking::service::SUBSCRIBES_TO,
                handler,
            },
        )?;
        self.background.spawn(reconcile_periodically(
            bookings.clone(),
            settings.reconcile_interval,
            self.readiness.clone(),
            self.stop.clone(),
        ));
        Ok(mybnb_booking::http::router(bookings, self.verifier.clone()))
    }

    /// Opens the context's database (see [`Wiring::open`]).
    fn database(&mut self, service: Service, migrations: Migrations) -> anyhow::Result<Database> {
        let location = self.settings.database_location(service);
        self.open(service.name(), &location, migrations)
    }

    /// The bus: NATS JetStream when `nats_url` is set (connected in [`Application::build`]),
    /// else the embedded log (`data_dir/events.db`), opened on first use.
    fn bus(&mut self) -> anyhow::Result<EventTransport> {
        if let Some(transport) = &self.bus {
            return Ok(transport.clone());
        }
        let location = DatabaseLocation::Sqlite {
            path: self.settings.data_dir.join("events.db"),
        };
        let log = self.open("events", &location, EmbeddedLog::migrations())?;
        let transport = EventTransport {
            bus: Arc::new(EmbeddedLog::new(log)),
            component: Some("events.database".to_owned()),
        };
        self.bus = Some(transport.clone());
        Ok(transport)
    }

    /// Moves the context's outbox onto the bus, once its database (and the bus) are usable.
    fn relay(&mut self, service: Service, outbox: Database) -> anyhow::Result<()> {
        let EventTransport { bus, component } = self.bus()?;
        let relay = Relay::new(service.name(), outbox, bus);
        let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
        let needed = [Some(format!("{service}.database")), component];
        self.background.spawn(async move {
            if usable(&readiness, needed.iter().flatten(), &stop).await {
                relay.run(stop).await;
            }
        });
        Ok(())
    }

    /// Opens a database lazily and migrates it in the background, retrying until it is
    /// reachable; `<name>.database` reports not-ready until then.
    fn open(
        &mut self,
        name: &str,
        location: &DatabaseLocation,
        migrations: Migrations,
    ) -> anyhow::Result<Database> {
        let database = Database::connect_lazy(location, self.settings.database_max_connections)
            .with_context(|| {
                format!("configuring the {name} database ({})", location.describe())
            })?;
        let component = format!("{name}.database");
        self.readiness.set(
            &component,
            ComponentStatus::Starting("migrating".to_owned()),
        );
        let readiness = self.readiness.clone();
        let stop = self.stop.clone();
        let migrating = database.clone();
        self.background.spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                match migrating.migrate(&migrations).await {
                    Ok(()) => {
                        readiness.set(&component, ComponentStatus::Ready);
                        tracing::info!(component, "database migrated");
                        return;
                    }
                    Err(error) => {
                        let reason = format!("unavailable: {error}");
                        tracing::warn!(component, error = %error, "cannot migrate the database; retrying");
                        readiness.set(&component, ComponentStatus::Starting(reason));
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = stop.cancelled() => return,
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
        self.databases.push(database.clone());
        Ok(database)
    }
}
