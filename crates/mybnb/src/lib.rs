//! The `mybnb` binary: one program that runs any set of mybnb's contexts.
//!
//! `main` parses the command line ([`cli`]), loads the settings ([`settings`]) and hands them
//! to [`Application`], which wires each enabled context's adapters to its service (`wiring`)
//! and serves them all behind one HTTP listener. [`replay`] rebuilds a read model from the event history.

pub mod app;
pub mod cli;
pub mod dev;
mod in_process;
mod openapi;
pub mod replay;
mod secrets;
pub mod services;
pub mod settings;
pub mod telemetry;
pub mod topology;
mod wiring;

pub use app::{Application, ShutdownHandle};
pub use settings::Settings;
