//! The web pages over real HTTP: each test starts the all-in-one mybnb in this process (the
//! pages next to the JSON API at one address) and visits it with a [`harness::Browser`] that
//! keeps its own cookies and follows no redirect, then checks through the JSON API what the
//! pages did — or did not do.

#[path = "../support/running.rs"]
mod running;

mod harness;

mod access;
mod booking;
mod cookies;
mod csrf;
mod forms;
mod headers;
mod language;
