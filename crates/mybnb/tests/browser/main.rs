//! The web pages in a real browser, journey by journey: each test starts the all-in-one mybnb
//! in this process and drives its pages in a headless Chromium (several windows at once where
//! a journey has several people or devices), saving a numbered screenshot at each step in
//! `$CARGO_TARGET_TMPDIR/screenshots/<journey>/`.
//!
//! Needs Chromium and chromedriver (`scripts/ensure-chromium`); with `MYBNB_SKIP_EXTERNAL=1`
//! and either missing, the journeys are skipped loudly.

#[path = "../support/running.rs"]
mod running;

mod harness;

mod book_and_cancel;
mod forms;
mod keyboard;
mod korean_phone;
mod privacy;
