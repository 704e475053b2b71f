//! What mybnb's tests start for themselves, each on a free loopback port: a real nats-server
//! with JetStream and its own store directory ([`nats`]), and an SMTP sink that keeps every
//! message it is sent ([`smtp`]).

pub mod nats;
pub mod smtp;
