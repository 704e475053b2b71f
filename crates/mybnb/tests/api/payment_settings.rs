//! Settings that shape the simulated payment provider, the guard around the booking → payment
//! call, and the reconciler, for the tests of faults.

use std::time::Duration;

use mybnb::Settings;
use mybnb_payment::simulation::{Latency, Rate};

/// The provider answers after `latency` (`"300"` or `"400..620"` ms), declining with
/// `decline_rate` and failing as an outage does with `failure_rate`.
pub fn provider(settings: &mut Settings, latency: &str, decline_rate: f64, failure_rate: f64) {
    settings.payment.network.latency = latency.parse::<Latency>().expect("a latency");
    settings.payment.network.decline_rate = Rate::parse(decline_rate).expect("a rate");
    settings.payment.network.failure_rate = Rate::parse(failure_rate).expect("a rate");
}

/// The reconciler runs every 100 ms and decides PENDING bookings older than a second.
pub fn reconcile_quickly(settings: &mut Settings) {
    settings.booking.reconcile_interval = Duration::from_millis(100);
    settings.booking.reconcile_stale_after = Duration::from_secs(1);
}

/// The circuit judges the calls of the last minute once `minimum_calls` were made, opens at a
/// failure rate of one half, for `open_for`; one successful probe closes it.
pub fn small_circuit(settings: &mut Settings, minimum_calls: usize, open_for: Duration) {
    let breaker = &mut settings.booking.payment_breaker;
    breaker.window = Duration::from_secs(60);
    breaker.minimum_calls = minimum_calls;
    breaker.failure_rate = 0.5;
    breaker.open_for = open_for;
    breaker.half_open_calls = 1;
}

/// Booking runs here without payment, which it reaches at `payment_url`.
pub fn booking_front(settings: &mut Settings, payment_url: &str) {
    settings.services = "identity,room,booking".parse().expect("a service list");
    settings.booking.payment_service_url = Some(payment_url.parse().expect("a URL"));
}

/// Only the payment context runs here.
pub fn payment_only(settings: &mut Settings) {
    settings.services = "payment".parse().expect("a service list");
}
