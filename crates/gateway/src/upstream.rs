//! One service's instances behind a power-of-two-choices balancer (tower `balance`), fed by a
//! discovery stream: an instance is in the balancer while its readiness check passes, taken out
//! when it fails one or a request to it cannot connect, and put back when it passes again.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Method, Request, Response, StatusCode};
use futures_util::Stream;
use hyper::body::Incoming;
use mybnb_platform::health::{ComponentStatus, Readiness};
use mybnb_platform::http::ApiError;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower::balance::p2c::Balance;
use tower::buffer::Buffer;
use tower::discover::Change;
use tower::load::PendingRequests;
use tower::util::BoxCloneSyncService;

use crate::endpoint::{Endpoint, Forwarded, HttpClient, Instance, UpstreamFailure};
use crate::metrics::GatewayMetrics;

type Member = PendingRequests<Endpoint>;
type Discovery = Pin<Box<dyn Stream<Item = Result<Change<Instance, Member>, Infallible>> + Send>>;
type Balancer = Balance<Discovery, Forwarded>;
/// The balancer behind a queue, so that every request can share it; boxed, which gives its
/// futures a plain `'static` type.
type Balanced = BoxCloneSyncService<Forwarded, Response<Incoming>, tower::BoxError>;

/// Requests waiting for the balancer; beyond this, callers wait for room.
const QUEUE: usize = 1024;

/// Whether an instance is in the balancer, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Membership {
    Unchecked,
    In,
    Out(String),
}

pub(crate) struct Upstream {
    name: &'static str,
    balancer: Balanced,
    members: Mutex<BTreeMap<Instance, Membership>>,
    changes: mpsc::UnboundedSender<Change<Instance, Member>>,
    client: HttpClient,
    readiness: Readiness,
    metrics: GatewayMetrics,
}

impl Upstream {
    /// Must be called within a Tokio runtime: the balancer runs on a task of its own.
    pub(crate) fn new(
        name: &'static str,
        instances: &[Instance],
        client: HttpClient,
        readiness: Readiness,
        metrics: GatewayMetrics,
    ) -> Upstream {
        let (changes, mut discovered) = mpsc::unbounded_channel();
        let discovery: Discovery = Box::pin(futures_util::stream::poll_fn(move |context| {
            discovered.poll_recv(context).map(|change| change.map(Ok))
        }));
        let balancer: Buffer<Forwarded, <Balancer as tower::Service<Forwarded>>::Future> =
            Buffer::new(Balance::new(discovery), QUEUE);
        let balancer = BoxCloneSyncService::new(balancer);
        readiness.set(
            &component(name),
            ComponentStatus::Starting("checking its instances".to_owned()),
        );
        let members = instances
            .iter()
            .map(|instance| (instance.clone(), Membership::Unchecked))
            .collect();
        Upstream {
            name,
            balancer,
            members: Mutex::new(members),
            changes,
            client,
            readiness,
            metrics,
        }
    }

    /// Sends a request to one of the ready instances. When an instance cannot be reached it is
    /// taken out, and the request is sent once more to another one if that is safe: if it never
    /// left, or if sending it twice does no harm (`repeatable`).
    pub(crate) fn send(
        self: &Arc<Self>,
        request: Forwarded,
        repeatable: bool,
    ) -> impl Future<Output = Result<Response<Incoming>, ApiError>> + Send + 'static {
        let upstream = self.clone();
        async move {
            let retry = copy(&request);
            let failure = match upstream.try_send(request).await? {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            if !(repeatable || failure.never_sent()) {
                return Err(upstream.unavailable());
            }
            upstream.metrics.retried(upstream.name);
            tracing::info!(
                service = upstream.name,
                instance = %failure.instance,
                "retrying on another instance"
            );
            match upstream.try_send(retry).await? {
                Ok(response) => Ok(response),
                Err(_) => Err(upstream.unavailable()),
            }
        }
    }

    /// `Err` when no instance can take the request; `Ok(Err)` when the chosen one failed (it
    /// is taken out).
    async fn try_send(
        &self,
        request: Forwarded,
    ) -> Result<Result<Response<Incoming>, UpstreamFailure>, ApiError> {
        if !self.has_ready_instance() {
            return Err(self.unavailable());
        }
        let outcome: Result<Response<Incoming>, tower::BoxError> =
            self.balancer.clone().oneshot(request).await;
        let error = match outcome {
            Ok(response) => return Ok(Ok(response)),
            Err(error) => error,
        };
        match error.downcast::<UpstreamFailure>() {
            Ok(failure) => {
                self.set(
                    &failure.instance,
                    Err(format!("request failed: {}", failure.error)),
                );
                Ok(Err(*failure))
            }
            Err(error) => {
                tracing::warn!(service = self.name, %error, "the balancer failed");
                Err(self.unavailable())
            }
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    fn unavailable(&self) -> ApiError {
        ApiError::service_unavailable(
            format!(
                "the {} service is not answering; try again shortly",
                self.name
            ),
            1,
        )
    }

    fn has_ready_instance(&self) -> bool {
        self.lock().values().any(|member| *member == Membership::In)
    }

    /// Checks every instance's readiness each `interval` until `stop`.
    pub(crate) async fn watch(
        &self,
        interval: Duration,
        timeout: Duration,
        stop: CancellationToken,
    ) {
        let instances: Vec<Instance> = self.lock().keys().cloned().collect();
        loop {
            let checks = instances.iter().map(|instance| async move {
                let verdict = check(&self.client, instance, timeout).await;
                self.set(instance, verdict);
            });
            futures_util::future::join_all(checks).await;
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    /// Puts an instance in the balancer or takes it out, and reports the service's state.
    fn set(&self, instance: &Instance, verdict: Result<(), String>) {
        let mut members = self.lock();
        let Some(member) = members.get_mut(instance) else {
            return;
        };
        let next = match verdict {
            Ok(()) => Membership::In,
            Err(reason) => Membership::Out(reason),
        };
        let change = match (&*member, &next) {
            (Membership::In, Membership::In) => None,
            (_, Membership::In) => Some(Change::Insert(
                instance.clone(),
                PendingRequests::new(
                    Endpoint::new(instance.clone(), self.client.clone()),
                    Default::default(),
                ),
            )),
            (Membership::In, Membership::Out(reason)) => {
                self.metrics.ejected(self.name);
                tracing::warn!(service = self.name, %instance, reason, "instance taken out");
                Some(Change::Remove(instance.clone()))
            }
            _ => None,
        };
        if matches!(change, Some(Change::Insert(..))) {
            tracing::info!(service = self.name, %instance, "instance ready: taking requests");
        }
        *member = next;
        if let Some(change) = change {
            // The receiver lives in the balancer, which lives as long as `self`.
            let _ = self.changes.send(change);
        }
        let status = status(&members);
        drop(members);
        self.readiness.set(&component(self.name), status);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Instance, Membership>> {
        // The map is consistent even if a holder panicked: every update is one assignment.
        self.members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn component(service: &str) -> String {
    format!("upstream.{service}")
}

/// Ready while one instance is; degraded (the gateway still serves the other services) when
/// none is; starting until every instance has been checked once.
fn status(members: &BTreeMap<Instance, Membership>) -> ComponentStatus {
    if members.values().any(|member| *member == Membership::In) {
        return ComponentStatus::Ready;
    }
    if members
        .values()
        .any(|member| *member == Membership::Unchecked)
    {
        return ComponentStatus::Starting("checking its instances".to_owned());
    }
    let reasons: Vec<String> = members
        .iter()
        .filter_map(|(instance, member)| match member {
            Membership::Out(reason) => Some(format!("{instance}: {reason}")),
            _ => None,
        })
        .collect();
    ComponentStatus::Degraded(format!("no ready instance ({})", reasons.join("; ")))
}

/// An instance's readiness: `GET /health/ready` answers 200.
async fn check(client: &HttpClient, instance: &Instance, timeout: Duration) -> Result<(), String> {
    let url = format!("{}health/ready", instance);
    let request = Request::get(url)
        .body(Default::default())
        .map_err(|error| format!("cannot ask: {error}"))?;
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) if response.status() == StatusCode::OK => Ok(()),
        Ok(Ok(response)) => Err(format!("not ready ({})", response.status())),
        Ok(Err(error)) => Err(format!("unreachable: {error}")),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

/// Requests whose repetition does no harm: the idempotent methods (RFC 9110 §9.2.2) and those
/// with an `Idempotency-Key`, which mybnb's services honour.
pub(crate) fn repeatable(method: &Method, headers: &axum::http::HeaderMap) -> bool {
    method.is_idempotent() || headers.contains_key("idempotency-key")
}

fn copy(request: &Forwarded) -> Forwarded {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}
