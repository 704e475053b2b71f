//! The distributed deployment, tested across processes: every context in its own `mybnb serve`
//! process (two booking and two payment instances), the gateway in front, one PostgreSQL
//! database (a schema per context) and one nats-server (JetStream), all started fresh for each
//! test by [`helpers::Deployment`] on [`mybnb::topology`]. Each test speaks only the public
//! API, through the gateway, as a user would:
//!
//! - [`scenario`]: the original's whole scenario — register, search, book and pay, notified,
//!   my page, cancel, refunded, notified; a room's deletion cascading to its bookings — and the
//!   gateway's API document is the all-in-one process's.
//! - [`faults`]: a payment instance killed while bookings are made, and notification down and
//!   back.
//! - [`redeploy`]: every instance replaced, one at a time, under continuous load, and not one
//!   request fails.
//! - [`web`]: the pages through the gateway — search, stylesheet, sign-up with the anti-forgery
//!   token, my trips, the live stream — the JSON API beside them, and a form rendered by one web
//!   instance accepted by another.
//!
//! Each test starts ten processes; on a small machine they would starve one another, so the
//! tests of this binary run one at a time ([`helpers::Deployment::start`] waits its turn).
//! Without PostgreSQL's programs or nats-server a test fails naming the command that installs
//! them, or, with `MYBNB_SKIP_EXTERNAL=1`, is skipped with a `SKIPPED:` line.

mod helpers;

mod faults;
mod redeploy;
mod scenario;
mod web;
