//! The `mybnb` binary: one program that runs any set of mybnb's contexts.
//!
//! `main` parses the command line ([`cli`]), loads the settings ([`settings`]: the process's
//! own section and each context's) and hands them to [`Application`], which opens each enabled
//! context's database, has the context's own crate wire it (`mybnb_room::wiring`, …), links the
//! contexts that call each other in-process (`in_process`), runs their consumers, relays and jobs
//! on the bus (`wiring`, `transport`) and serves them all behind one HTTP listener. [`replay`]
//! rebuilds a read model from the event history.

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
mod transport;
mod wiring;

pub use app::{Application, ShutdownHandle};
pub use settings::Settings;
