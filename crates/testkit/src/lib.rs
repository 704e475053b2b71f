//! What mybnb's tests start for themselves, each on a free loopback port: a real nats-server
//! with JetStream and its own store directory ([`nats`]), and an SMTP sink that keeps every
//! message it is sent ([`smtp`]); a PostgreSQL database or schema of a test's own, on a
//! throwaway cluster that the tests of a process share ([`postgres`]); and waiting for what happens in the background without sleeping for
//! a guessed time ([`eventually`]), what users are told by then ([`told`]).
//! And a headless Chromium that a test drives as a user would, page by page ([`browser`]).
//!
//! What needs a program from outside — PostgreSQL's server, nats-server, Chromium — fails the
//! test naming the one command that installs it when it is missing, or, with
//! `MYBNB_SKIP_EXTERNAL=1`, skips it with a loud `SKIPPED:` line (the constructors answer
//! `None`).

pub mod browser;
pub mod eventually;
pub mod nats;
pub mod postgres;
pub mod smtp;
pub mod told;

use std::io::Write;

/// The name of the running test: its thread's, which the test harness names after it.
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned()
}

/// What a test does without a server it needs from outside: with `MYBNB_SKIP_EXTERNAL=1`, prints
/// `skipped` (a `SKIPPED:` line) straight to stderr, past the test harness's capture so that a
/// skip is never silent, and answers `None`; otherwise fails with `failure`, which says how to
/// get the server.
fn skip_or_fail<T>(skipped: &str, failure: &str) -> Option<T> {
    if std::env::var("MYBNB_SKIP_EXTERNAL").is_ok_and(|value| value == "1") {
        let _ = writeln!(std::io::stderr(), "{skipped}");
        return None;
    }
    panic!("{failure}");
}
