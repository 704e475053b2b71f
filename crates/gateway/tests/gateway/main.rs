//! The gateway over real HTTP: real instances on 127.0.0.1 behind a real gateway.

mod balancing;
mod failover;
mod forwarding;
mod openapi;
mod routing;
mod streaming;
mod support;
