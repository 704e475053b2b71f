//! A nats-server for one test (being written).
