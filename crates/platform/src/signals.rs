//! How a process is asked to stop.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGINT (Ctrl-C) and SIGTERM (as Kubernetes stops a pod), listened for from the moment
/// [`StopSignals::install`] returns: from then on neither kills the process, and one that
/// arrives before [`StopSignals::recv`] is awaited is kept, not lost.
pub struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl StopSignals {
    /// Install before the process answers anyone: a supervisor that saw it answer may stop it
    /// at once, and a signal with no handler yet kills the process instead of stopping it.
    pub fn install() -> StopSignals {
        StopSignals {
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// Resolves with the signal's name when either arrives.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            () = arrival(self.interrupt.as_mut()) => "SIGINT",
            () = arrival(self.terminate.as_mut()) => "SIGTERM",
        }
    }
}

fn listen(kind: SignalKind, name: &str) -> Option<Signal> {
    signal(kind)
        .inspect_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
        .ok()
}

async fn arrival(signal: Option<&mut Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
