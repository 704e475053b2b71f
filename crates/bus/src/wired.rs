//! A bounded context as the process that runs it sees it: what each context crate's wiring
//! hands back, so that the process needs to know nothing else of it. The process opens the
//! context's database first; then it serves the router, runs each consumer under its durable
//! name, relays the outbox when the context publishes, and starts the jobs — consumers, relay
//! and jobs once the context's database is usable.

use std::sync::Arc;

use mybnb_events::EventEnvelope;
use mybnb_platform::BoxFuture;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::{Consumer, Handler};

/// What a context runs in a process.
pub struct Wired {
    /// Its API.
    pub router: OpenApiRouter,
    /// Its subscribers, each under its durable name.
    pub consumers: Vec<Consumer>,
    /// Whether it publishes events: then its outbox is relayed onto the bus.
    pub publishes: bool,
    /// What it runs in the background.
    pub jobs: Vec<Job>,
}

impl Wired {
    /// A context that serves `router` and, so far, nothing else.
    pub fn serving(router: OpenApiRouter) -> Wired {
        Wired {
            router,
            consumers: Vec::new(),
            publishes: false,
            jobs: Vec::new(),
        }
    }

    /// It publishes events: its outbox is relayed.
    pub fn publishing(mut self) -> Wired {
        self.publishes = true;
        self
    }

    /// It subscribes as `name` to `event_types`, handling each with `handler`.
    pub fn consuming(
        mut self,
        name: &'static str,
        event_types: &'static [&'static str],
        handler: Handler,
    ) -> Wired {
        self.consumers.push(Consumer {
            name,
            event_types,
            handler,
        });
        self
    }

    /// It runs `job` in the background.
    pub fn running(mut self, job: Job) -> Wired {
        self.jobs.push(job);
        self
    }
}

/// A background job: runs until the application stops (the token is cancelled).
pub type Job = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send>;

/// A bus handler that calls `handle` on a shared `service` with each event.
pub fn handler<S, F>(
    service: Arc<S>,
    handle: impl Fn(Arc<S>, EventEnvelope) -> F + Send + Sync + 'static,
) -> Handler
where
    S: Send + Sync + 'static,
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    Arc::new(move |envelope| Box::pin(handle(service.clone(), envelope)))
}

/// A job made of an async function of the stop token.
pub fn job<F>(run: impl FnOnce(CancellationToken) -> F + Send + 'static) -> Job
where
    F: Future<Output = ()> + Send + 'static,
{
    Box::new(move |stop| Box::pin(run(stop)))
}
