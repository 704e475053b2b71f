//! One service's instances behind a power-of-two-choices balancer (tower `balance`), fed by a
//! discovery stream: an instance is in the balancer while its readiness check passes, taken out
//! when it fails one or a request to it cannot connect, and put back when it passes again.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{Method, Request, Response, StatusCode};
use futures_util::Stream;
use futures_util::future::{Either, Ready};
use hyper::body::Incoming;
use mybnb_platform::health::{ComponentStatus, Readiness};
use mybnb_platform::http::ApiError;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::balance::p2c::Balance;
use tower::buffer::Buffer;
use tower::discover::Change;
use tower::load::PendingRequests;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

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
        let balancer: Buffer<Forwarded, <FailFast as Service<Forwarded>>::Future> =
            Buffer::new(FailFast::new(Balance::new(discovery)), QUEUE);
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
            Err(error) if error.is::<NoInstance>() => return Err(self.unavailable()),
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
                (instance, check(&self.client, instance, timeout).await)
            });
            let mut verdicts = futures_util::future::join_all(checks).await;
            // The instances found ready go in before those found not ready go out: when a
            // replacement and the instance it replaces change in one round, the service is
            // never left without one.
            verdicts.sort_by_key(|(_, verdict)| verdict.is_err());
            for (instance, verdict) in verdicts {
                self.set(instance, verdict);
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    /// Puts an instance in the balancer or takes it out, and reports the service's state.
    fn set(&self, instance: &Instance, verdict: Result<(), String>) {
        let mut members = self.lock();
        // A service given as one address is a load balancer itself (a Kubernetes Service):
        // one failed check or request says little about the instances behind it, and taking
        // it out would only turn every request into a 503. It stays in, reported degraded.
        let alone = members.len() == 1;
        let (next, doubt) = match verdict {
            Ok(()) => (Membership::In, None),
            Err(reason) if alone => (Membership::In, Some(reason)),
            Err(reason) => (Membership::Out(reason), None),
        };
        let Some(member) = members.get_mut(instance) else {
            return;
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
        let status = match doubt {
            Some(reason) => ComponentStatus::Degraded(format!("{instance}: {reason}")),
            None => status(&members),
        };
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

/// The balancer, failing a request at once when it holds no instance at all: without this the
/// request would wait in the queue until one is put back. `send` checks that an instance is in
/// first, but the last one can be taken out between that check and the balancer's turn.
struct FailFast {
    balancer: Balancer,
    empty: bool,
}

/// The balancer held no instance when the request's turn came.
#[derive(Debug)]
struct NoInstance;

impl fmt::Display for NoInstance {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("no instance to send the request to")
    }
}

impl std::error::Error for NoInstance {}

impl FailFast {
    fn new(balancer: Balancer) -> FailFast {
        FailFast {
            balancer,
            empty: false,
        }
    }
}

impl Service<Forwarded> for FailFast {
    type Response = Response<Incoming>;
    type Error = tower::BoxError;
    type Future = Either<
        <Balancer as Service<Forwarded>>::Future,
        Ready<Result<Response<Incoming>, tower::BoxError>>,
    >;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Polling the balancer applies the pending changes first, so emptiness is current.
        let poll = self.balancer.poll_ready(context);
        self.empty = poll.is_pending() && self.balancer.is_empty();
        if self.empty {
            Poll::Ready(Ok(()))
        } else {
            poll
        }
    }

    fn call(&mut self, request: Forwarded) -> Self::Future {
        if std::mem::take(&mut self.empty) {
            return Either::Right(futures_util::future::ready(Err(NoInstance.into())));
        }
        Either::Left(self.balancer.call(request))
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
    let request = Request::get(readiness_url(instance))
        .body(Default::default())
        .map_err(|error| format!("cannot ask: {error}"))?;
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) if response.status() == StatusCode::OK => Ok(()),
        Ok(Ok(response)) => Err(format!("not ready ({})", response.status())),
        Ok(Err(error)) => Err(format!("unreachable: {error}")),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

/// Where an instance answers its readiness: below its base URL, as its routes are
/// ([`crate::endpoint::Endpoint`]), whether or not the base ends with a slash.
fn readiness_url(instance: &Instance) -> String {
    format!("{}/health/ready", instance.trim_end_matches('/'))
}

/// Requests whose repetition does no harm: the idempotent methods (RFC 9110 §9.2.2), and those
/// with an `Idempotency-Key` to a service that honours it (`keyed`).
pub(crate) fn repeatable(method: &Method, headers: &axum::http::HeaderMap, keyed: bool) -> bool {
    method.is_idempotent() || (keyed && headers.contains_key("idempotency-key"))
}

fn copy(request: &Forwarded) -> Forwarded {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

#[cfg(test)]
mod tests {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use mybnb_platform::metrics::Metrics;

    use super::*;

    #[test]
    fn the_readiness_check_is_below_the_base_url() {
        for (base, expected) in [
            ("http://10.0.0.5:8080/", "http://10.0.0.5:8080/health/ready"),
            (
                "http://10.0.0.5:8080/room",
                "http://10.0.0.5:8080/room/health/ready",
            ),
            (
                "http://10.0.0.5:8080/room/",
                "http://10.0.0.5:8080/room/health/ready",
            ),
        ] {
            assert_eq!(readiness_url(&Instance::from(base)), expected);
        }
    }

    #[tokio::test]
    async fn a_request_the_balancer_has_no_instance_for_fails_at_once() {
        let (instance, unchecked) = (
            Instance::from("http://127.0.0.1:9/"),
            Instance::from("http://127.0.0.1:10/"),
        );
        let upstream = Upstream::new(
            "rooms",
            &[instance.clone(), unchecked],
            Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            Readiness::default(),
            GatewayMetrics::register(&Metrics::new()),
        );
        // The last instance, taken out after `send` found it in.
        upstream.set(&instance, Ok(()));
        upstream.set(&instance, Err("request failed".to_owned()));

        let request = upstream
            .balancer
            .clone()
            .oneshot(Request::new(Full::default()));
        let outcome = tokio::time::timeout(Duration::from_secs(5), request)
            .await
            .expect("an answer at once, not a wait for an instance");

        assert!(outcome.is_err_and(|error| error.is::<NoInstance>()));
    }
}
