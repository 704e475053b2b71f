//! The notification context on real databases: events in, notifications and e-mails out,
//! the history and the live stream through the router.

mod handling;
mod http;
mod mail;
mod support;
