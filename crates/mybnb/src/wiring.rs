//! How each context is wired into the application: its database, its adapters, the links to
//! the contexts it calls, the relay of its outbox and the subscribers it runs.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mybnb_booking::links::{HttpPayments, HttpRooms, ResilientPayments};
use mybnb_booking::ports::{PaymentGateway, RoomCatalog};
use mybnb_booking::service::BookingPolicy;
use mybnb_booking::store::SqlBookingRepository;
use mybnb_bus::{Consumer, ConsumerMetrics, EmbeddedLog, EventBus, Handler, JetStreamBus, Relay};
use mybnb_events::EventEnvelope;
use mybnb_mypage::service::MyPageService;
use mybnb_mypage::store::SqlMyPageRepository;
use mybnb_notification::mail::Mailer;
use mybnb_notification::service::NotificationService;
use mybnb_notification::store::SqlNotificationRepository;
use mybnb_payment::service::PaymentService;
use mybnb_platform::auth::{ServiceToken, TokenIssuer, TokenVerifier};
use mybnb_platform::db::{Database, DatabaseLocation, Migrations};
use mybnb_platform::health::{ComponentStatus, Readiness};
use mybnb_platform::metrics::Metrics;
use mybnb_room::service::RoomService;
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::in_process::{InProcessPayments, InProcessRooms};
use crate::services::Service;
use crate::settings::Settings;

/// How long a process waits for its first connection to NATS before it reports ready anyway
/// (degraded).
const NATS_FIRST_CONNECT: Duration = Duration::from_secs(5);

/// The bus events travel on, and the readiness component to await before using it.
#[derive(Clone)]
pub(crate) struct EventTransport {
    bus: Arc<dyn EventBus>,
    component: Option<String>,
}

impl EventTransport {
    /// NATS JetStream at `url`. Not awaited by anything: events wait in the outboxes while
    /// NATS is away, so the process stays ready; `events.bus` reports it degraded, with why.
    pub(crate) async fn jetstream(
        url: &SecretString,
        readiness: &Readiness,
        background: &mut JoinSet<()>,
        stop: &CancellationToken,
    ) -> anyhow::Result<EventTransport> {
        let bus = JetStreamBus::connect(url.expose_secret()).await?;
        let mut connected = bus.watch_connection();
        let (readiness, stop) = (readiness.clone(), stop.clone());
        readiness.set(
            "events.bus",
            ComponentStatus::Starting("connecting to NATS".to_owned()),
        );
        background.spawn(async move {
            // Not ready until the first connection, for a while: long enough for a reachable
            // server, short enough that an outage at start-up does not keep the process out.
            let first = tokio::time::timeout(NATS_FIRST_CONNECT, connected.wait_for(|up| *up));
            tokio::select! {
                _ = first => {}
                () = stop.cancelled() => return,
            }
            loop {
                let status = if *connected.borrow_and_update() {
                    ComponentStatus::Ready
                } else {
                    ComponentStatus::Degraded(
                        "NATS is unreachable; events wait in the outboxes until it is back"
                            .to_owned(),
                    )
                };
                readiness.set("events.bus", status);
                tokio::select! {
                    changed = connected.changed() => if changed.is_err() { return },
                    () = stop.cancelled() => return,
                }
            }
        });
        Ok(EventTransport {
            bus: Arc::new(bus),
            component: None,
        })
    }
}

/// What every context's wiring needs from the application.
pub(crate) struct Wiring<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) issuer: TokenIssuer,
    pub(crate) verifier: TokenVerifier,
    pub(crate) service_token: ServiceToken,
    pub(crate) metrics: &'a Metrics,
    pub(crate) readiness: &'a Readiness,
    pub(crate) databases: &'a mut Vec<Database>,
    pub(crate) background: &'a mut JoinSet<()>,
    pub(crate) stop: &'a CancellationToken,
    /// Services already wired, for the contexts that call them in-process.
    pub(crate) rooms: Option<Arc<RoomService>>,
    pub(crate) payments: Option<Arc<PaymentService>>,
    /// The bus, opened on first use ([`Wiring::bus`]).
    pub(crate) bus: Option<EventTransport>,
    pub(crate) consumer_metrics: ConsumerMetrics,
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

impl Wiring<'_> {
    pub(crate) fn context_router(&mut self, service: Service) -> anyhow::Result<OpenApiRouter> {
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
                let rooms = Arc::new(RoomService::new(mybnb_room::store::SqlRoomRepository::new(
                    database,
                )));
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
                let payments = Arc::new(PaymentService::new(
                    mybnb_payment::store::SqlPaymentRepository::new(database),
                    self.settings.payment_network.connect(),
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
            Service::Gateway => {
                anyhow::bail!("the gateway is not a context: it runs alone, in front of them")
            }
            Service::Web => {
                anyhow::bail!("the web pages have no API of their own: they call the contexts'")
            }
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
        let (reconciling, interval) = (bookings.clone(), settings.reconcile_interval);
        let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
        self.background.spawn(async move {
            mybnb_booking::reconciler::run(&reconciling, interval, &readiness, &stop).await;
        });
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
