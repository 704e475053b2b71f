//! The guard around the booking → payment call, applied to either adapter (in-process or
//! HTTP), outermost first:
//!
//! 1. a bulkhead: at most `max_concurrent` charges in flight; excess is refused at once;
//! 2. a circuit breaker: over the calls of the last `window` (once `minimum_calls` were made),
//!    a failure rate or slow-call rate above its threshold opens it; while open, calls fail at
//!    once; after `open_for` a few probe calls decide between closed and open again;
//! 3. a time limit: the call is abandoned after `timeout` (its outcome is then reconciled);
//! 4. a retry on connection refused only — nothing reached the provider, so it is safe — with
//!    jittered exponential backoff, inside the time limit so it never extends it.
//!
//! The breaker's state is exported as metrics and in `/health/ready` (degraded, still ready).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mybnb_events::CorrelationId;
use mybnb_platform::health::{ComponentStatus, Readiness};
use mybnb_platform::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};
use tower_resilience::bulkhead::{BulkheadLayer, BulkheadServiceError};
use tower_resilience::circuitbreaker::{
    CircuitBreakerError, CircuitBreakerLayer, CircuitState, SlidingWindowType,
};
use tower_resilience::retry::{ExponentialRandomBackoff, RetryLayer};
use tower_resilience::timelimiter::{TimeLimiterError, TimeLimiterLayer};
use uuid::Uuid;

use crate::ports::{BoxFuture, PaymentFailure, PaymentGateway, PaymentOrder, PaymentState};

/// How the payment call is guarded. Defaults in the README's settings table.
#[derive(Debug, Clone, Copy)]
pub struct BreakerSettings {
    pub timeout: Duration,
    pub max_concurrent: usize,
    /// The sliding window: calls of this recent past count.
    pub window: Duration,
    pub minimum_calls: usize,
    pub failure_rate: f64,
    pub slow_call: Duration,
    pub slow_call_rate: f64,
    pub open_for: Duration,
    pub half_open_calls: usize,
}

/// A charge: the order and the correlation id of the request that makes it.
type Charge = (PaymentOrder, CorrelationId);

type ChargeService = BoxCloneSyncService<Charge, PaymentState, PaymentFailure>;

/// A [`PaymentGateway`] that guards another.
pub struct ResilientPayments {
    inner: Arc<dyn PaymentGateway>,
    charge: ChargeService,
    timeout: Duration,
    open_for: Duration,
    /// When the breaker last opened, while it is open.
    opened_at: Arc<Mutex<Option<Instant>>>,
}

const COMPONENT: &str = "booking.payment";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Transition {
    from: &'static str,
    to: &'static str,
}

fn state_name(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "closed",
        CircuitState::Open => "open",
        CircuitState::HalfOpen => "half_open",
    }
}

impl ResilientPayments {
    pub fn new(
        inner: Arc<dyn PaymentGateway>,
        settings: BreakerSettings,
        metrics: &Metrics,
        readiness: &Readiness,
    ) -> anyhow::Result<ResilientPayments> {
        let state = Gauge::<i64>::default();
        let transitions = Family::<Transition, Counter>::default();
        metrics.register(
            "payment_circuit_state",
            "The booking→payment circuit breaker: 0 closed, 1 open, 2 half-open",
            state.clone(),
        );
        metrics.register(
            "payment_circuit_transitions",
            "Transitions of the booking→payment circuit breaker",
            transitions.clone(),
        );
        readiness.set(COMPONENT, ComponentStatus::Ready);
        let readiness = readiness.clone();
        let opened_at = Arc::new(Mutex::new(None));
        let opened = opened_at.clone();
        let breaker = CircuitBreakerLayer::builder()
            .name("payment")
            .sliding_window_type(SlidingWindowType::TimeBased)
            .sliding_window_duration(settings.window)
            .minimum_number_of_calls(settings.minimum_calls)
            .failure_rate_threshold(settings.failure_rate)
            .slow_call_duration_threshold(settings.slow_call)
            .slow_call_rate_threshold(settings.slow_call_rate)
            .wait_duration_in_open(settings.open_for)
            .permitted_calls_in_half_open(settings.half_open_calls)
            .on_state_transition(move |from, to| {
                *opened
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                    (to == CircuitState::Open).then(Instant::now);
                state.set(to as i64);
                transitions
                    .get_or_create(&Transition {
                        from: state_name(from),
                        to: state_name(to),
                    })
                    .inc();
                tracing::warn!(
                    from = state_name(from),
                    to = state_name(to),
                    "payment circuit"
                );
                let status = match to {
                    CircuitState::Closed => ComponentStatus::Ready,
                    other => {
                        ComponentStatus::Degraded(format!("payment circuit {}", state_name(other)))
                    }
                };
                readiness.set(COMPONENT, status);
            })
            .build()?;
        let bulkhead = BulkheadLayer::builder()
            .name("payment")
            .max_concurrent_calls(settings.max_concurrent)
            .reject_when_full()
            .build()?;
        let time_limit = TimeLimiterLayer::builder()
            .timeout_duration(settings.timeout)
            .cancel_running_future(true)
            .build();
        let retry = RetryLayer::<Charge, PaymentState, PaymentFailure>::builder()
            .max_attempts(3)
            .backoff(ExponentialRandomBackoff::new(
                Duration::from_millis(20),
                0.5,
            )?)
            .retry_on(|failure: &PaymentFailure| matches!(failure, PaymentFailure::Unreachable(_)))
            .build();
        let gateway = inner.clone();
        let open_for = settings.open_for;
        let timeout = settings.timeout;
        let charge = ServiceBuilder::new()
            .map_err(move |error| classify(error, open_for, timeout))
            .layer(bulkhead)
            .layer(breaker)
            .layer(time_limit)
            .layer(retry)
            .service_fn(move |(order, correlation_id): Charge| {
                let gateway = gateway.clone();
                async move { gateway.charge(order, correlation_id).await }
            });
        Ok(ResilientPayments {
            inner,
            charge: BoxCloneSyncService::new(charge),
            timeout: settings.timeout,
            open_for: settings.open_for,
            opened_at,
        })
    }

    /// The reconciler's calls: bounded by the timeout, but not counted by the breaker, so that
    /// cleaning up after an outage neither trips nor waits for it.
    async fn within_timeout<T>(
        &self,
        call: BoxFuture<'_, Result<T, PaymentFailure>>,
    ) -> Result<T, PaymentFailure> {
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| PaymentFailure::TimedOut(self.timeout))?
    }
}

type Layered = BulkheadServiceError<CircuitBreakerError<TimeLimiterError<PaymentFailure>>>;

fn classify(error: Layered, open_for: Duration, timeout: Duration) -> PaymentFailure {
    match error {
        BulkheadServiceError::Bulkhead(_) => PaymentFailure::Saturated,
        BulkheadServiceError::Inner(CircuitBreakerError::OpenCircuit) => {
            PaymentFailure::CircuitOpen {
                retry_after: open_for,
            }
        }
        BulkheadServiceError::Inner(CircuitBreakerError::Inner(TimeLimiterError::Timeout)) => {
            PaymentFailure::TimedOut(timeout)
        }
        BulkheadServiceError::Inner(CircuitBreakerError::Inner(TimeLimiterError::Inner(
            failure,
        ))) => failure,
    }
}

impl PaymentGateway for ResilientPayments {
    fn charge(
        &self,
        order: PaymentOrder,
        correlation_id: CorrelationId,
    ) -> BoxFuture<'_, Result<PaymentState, PaymentFailure>> {
        Box::pin(self.charge.clone().oneshot((order, correlation_id)))
    }

    /// While the breaker is open and its wait has not run out. Once it has, the next charge
    /// goes through to the breaker, which lets it probe.
    fn refuses_charges(&self) -> Option<Duration> {
        let opened_at = *self
            .opened_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        opened_at.and_then(|opened| self.open_for.checked_sub(opened.elapsed()))
    }

    fn status(
        &self,
        booking_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<PaymentState>, PaymentFailure>> {
        Box::pin(self.within_timeout(self.inner.status(booking_id)))
    }

    fn void(
        &self,
        order: PaymentOrder,
        correlation_id: CorrelationId,
    ) -> BoxFuture<'_, Result<(), PaymentFailure>> {
        Box::pin(self.within_timeout(self.inner.void(order, correlation_id)))
    }
}
