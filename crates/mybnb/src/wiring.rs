//! How the contexts are run in this process: each opens its database here, is built by its own
//! crate's wiring (`mybnb_room::wiring`, …), linked in-process to the contexts it calls when they
//! run here too, and started — its API served, its consumers run on the bus, its outbox relayed
//! and its jobs run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mybnb_booking::ports::{PaymentGateway, RoomCatalog};
use mybnb_booking::wiring::{BookingContext, InProcess, Shared};
use mybnb_bus::wired::Wired;
use mybnb_bus::{Consumer, ConsumerMetrics, EmbeddedLog, Relay, RelayMetrics};
use mybnb_identity::wiring::IdentityContext;
use mybnb_mypage::wiring::MyPageContext;
use mybnb_notification::wiring::NotificationContext;
use mybnb_payment::wiring::PaymentContext;
use mybnb_platform::auth::{ServiceToken, TokenIssuer, TokenVerifier};
use mybnb_platform::db::{Database, DatabaseLocation, Migrations};
use mybnb_platform::health::{ComponentStatus, Readiness};
use mybnb_platform::metrics::Metrics;
use mybnb_room::wiring::RoomContext;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::in_process::{InProcessPayments, InProcessRooms};
use crate::services::Service;
use crate::settings::Settings;
use crate::transport::EventTransport;

/// A context's migrations, outbox and inbox included where it has them.
fn migrations(service: Service) -> anyhow::Result<Migrations> {
    Ok(match service {
        Service::Identity => mybnb_identity::migrations(),
        Service::Room => mybnb_room::migrations(),
        Service::Payment => mybnb_payment::migrations(),
        Service::Booking => mybnb_booking::migrations(),
        Service::Notification => mybnb_notification::migrations(),
        Service::Mypage => mybnb_mypage::migrations(),
        Service::Web | Service::Gateway => {
            anyhow::bail!("{service} is not a context: it keeps no data")
        }
    })
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
    /// The bus, opened on first use ([`Wiring::bus`]).
    pub(crate) bus: Option<EventTransport>,
    pub(crate) consumer_metrics: ConsumerMetrics,
    pub(crate) relay_metrics: RelayMetrics,
}

/// A context of this process, built on its database.
enum Context {
    Identity(IdentityContext),
    Room(RoomContext),
    Payment(PaymentContext),
    Booking(Box<BookingContext>),
    Notification(NotificationContext),
    Mypage(MyPageContext),
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

impl Wiring<'_> {
    /// The API of every context this process runs. Every context is built first, so that the
    /// in-process links between them do not depend on the order they are listed in; then each
    /// is wired and its consumers, relay and jobs are started.
    pub(crate) fn api(&mut self) -> anyhow::Result<OpenApiRouter> {
        let mut contexts = Vec::new();
        for service in self.settings.services.iter().filter(|s| s.keeps_data()) {
            let location = self.settings.database_location(service);
            let database = self.open(service.name(), &location, migrations(service)?)?;
            contexts.push((service, database.clone(), self.build(service, database)?));
        }
        let in_process = InProcess {
            rooms: contexts.iter().find_map(|(_, _, context)| match context {
                Context::Room(room) => {
                    Some(Arc::new(InProcessRooms(room.service())) as Arc<dyn RoomCatalog>)
                }
                _ => None,
            }),
            payments: contexts.iter().find_map(|(_, _, context)| match context {
                Context::Payment(payment) => {
                    Some(Arc::new(InProcessPayments(payment.service())) as Arc<dyn PaymentGateway>)
                }
                _ => None,
            }),
        };
        let mut api = OpenApiRouter::new();
        for (service, database, context) in contexts {
            let wired = self.wire(context, &in_process)?;
            api = api.merge(self.start(service, database, wired)?);
        }
        Ok(api)
    }

    /// A context's services on its database.
    fn build(&self, service: Service, database: Database) -> anyhow::Result<Context> {
        let settings = self.settings;
        Ok(match service {
            Service::Identity => Context::Identity(IdentityContext::new(
                database,
                self.issuer.clone(),
                &settings.identity,
            )),
            Service::Room => Context::Room(RoomContext::new(database)),
            Service::Payment => Context::Payment(PaymentContext::new(database, &settings.payment)),
            Service::Booking => {
                Context::Booking(Box::new(BookingContext::new(database, &settings.booking)))
            }
            Service::Notification => {
                Context::Notification(NotificationContext::new(database, &settings.notification))
            }
            Service::Mypage => Context::Mypage(MyPageContext::new(database)),
            Service::Web | Service::Gateway => {
                anyhow::bail!("{service} is not a context: it keeps no data")
            }
        })
    }

    fn wire(&self, context: Context, in_process: &InProcess) -> anyhow::Result<Wired> {
        let verifier = self.verifier.clone();
        Ok(match context {
            Context::Identity(identity) => identity.wire(verifier),
            Context::Room(room) => room.wire(verifier),
            Context::Payment(payment) => payment.wire(verifier, self.service_token.clone()),
            Context::Booking(booking) => booking.wire(
                in_process.clone(),
                Shared {
                    verifier,
                    service_token: self.service_token.clone(),
                    metrics: self.metrics,
                    readiness: self.readiness,
                },
            )?,
            Context::Notification(notification) => notification.wire(verifier)?,
            Context::Mypage(pages) => pages.wire(verifier),
        })
    }

    /// Runs what a context runs besides its API — its consumers, the relay of its outbox, its
    /// jobs — once its database is usable, and hands back its API.
    fn start(
        &mut self,
        service: Service,
        database: Database,
        wired: Wired,
    ) -> anyhow::Result<OpenApiRouter> {
        let own_database = format!("{service}.database");
        for consumer in wired.consumers {
            self.subscribe(&own_database, consumer)?;
        }
        if wired.publishes {
            self.relay(service, &own_database, database)?;
        }
        for job in wired.jobs {
            let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
            let needed = [own_database.clone()];
            self.background.spawn(async move {
                if usable(&readiness, &needed, &stop).await {
                    job(stop).await;
                }
            });
        }
        Ok(wired.router)
    }

    /// Runs `consumer` on the bus once `database` and the bus are usable.
    fn subscribe(&mut self, database: &str, consumer: Consumer) -> anyhow::Result<()> {
        let EventTransport { bus, component } = self.bus()?;
        let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
        let metrics = self.consumer_metrics.clone();
        let needed = [Some(database.to_owned()), component];
        self.background.spawn(async move {
            if usable(&readiness, needed.iter().flatten(), &stop).await {
                consumer.run(bus, metrics, stop).await;
            }
        });
        Ok(())
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
    fn relay(&mut self, service: Service, database: &str, outbox: Database) -> anyhow::Result<()> {
        let EventTransport { bus, component } = self.bus()?;
        let relay = Relay::new(service.name(), outbox, bus).counted_in(self.relay_metrics.clone());
        let (readiness, stop) = (self.readiness.clone(), self.stop.clone());
        let needed = [Some(database.to_owned()), component];
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
