//! Who used the machine's cores during a run, from `/proc` (Linux): the server, the load
//! generator (this process), nats-server, and everything else (other users' builds and tests
//! included), in cores. All counts are in the kernel's clock ticks, so only ratios are used.

use std::path::Path;

use serde::Serialize;

/// Cores used on average over a window; `None` where `/proc` could not be read.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoreUse {
    pub cores: usize,
    pub busy: f64,
    pub server: Option<f64>,
    pub load_generator: Option<f64>,
    pub nats_server: Option<f64>,
    /// Busy, less what is accounted for above.
    pub others: f64,
    /// Context switches of the server's threads per second: each statement sqlx sends to a
    /// SQLite connection is a hand-off to that connection's own thread and back.
    pub server_context_switches_per_second: Option<f64>,
}

/// A reading of the counters at one instant.
pub struct Sample {
    at: std::time::Instant,
    server_switches: Option<u64>,
    total: u64,
    idle: u64,
    server: Option<u64>,
    load_generator: Option<u64>,
    nats_server: Option<u64>,
}

impl Sample {
    /// Reads the counters now; `server` and `nats_server` are process ids.
    pub fn take(server: Option<u32>, nats_server: Option<u32>) -> Sample {
        let (total, idle) = machine().unwrap_or_default();
        Sample {
            at: std::time::Instant::now(),
            server_switches: server.and_then(context_switches),
            total,
            idle,
            server: server.and_then(process),
            load_generator: process(std::process::id()),
            nats_server: nats_server.and_then(process),
        }
    }

    /// Average use between `self` and the later `end`.
    pub fn until(&self, end: &Sample) -> CoreUse {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let elapsed = end.total.saturating_sub(self.total).max(1) as f64;
        let share = |ticks: u64| ticks as f64 / elapsed * cores as f64;
        let delta = |from: Option<u64>, to: Option<u64>| Some(share(to?.saturating_sub(from?)));
        let busy = share(
            end.total
                .saturating_sub(end.idle)
                .saturating_sub(self.total.saturating_sub(self.idle)),
        );
        let server = delta(self.server, end.server);
        let load_generator = delta(self.load_generator, end.load_generator);
        let nats_server = delta(self.nats_server, end.nats_server);
        let accounted: f64 = [server, load_generator, nats_server]
            .into_iter()
            .flatten()
            .sum();
        CoreUse {
            cores,
            busy,
            server,
            load_generator,
            nats_server,
            others: (busy - accounted).max(0.0),
            server_context_switches_per_second: self.server_switches.zip(end.server_switches).map(
                |(from, to)| {
                    to.saturating_sub(from) as f64
                        / end
                            .at
                            .duration_since(self.at)
                            .as_secs_f64()
                            .max(f64::MIN_POSITIVE)
                },
            ),
        }
    }
}

/// All ticks and idle ticks (idle + iowait) of all cores together.
pub fn machine() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already)
    let total = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total, idle))
}

/// User and system ticks of a process and its threads.
pub fn process(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name, which may hold spaces, in parentheses.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime); the name was field 2, state is field 3.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// Voluntary and involuntary context switches of all a process's threads.
fn context_switches(pid: u32) -> Option<u64> {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut switches = 0;
    for thread in threads.filter_map(Result::ok) {
        let status = std::fs::read_to_string(thread.path().join("status")).unwrap_or_default();
        switches += status
            .lines()
            .filter(|line| line.contains("ctxt_switches:"))
            .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Some(switches)
}

/// The process whose command line mentions `path` (a nats-server's store directory).
pub fn process_mentioning(path: &Path) -> Option<u32> {
    let wanted = path.to_str()?;
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| String::from_utf8_lossy(&line).contains(wanted))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_counted() {
        let start = Sample::take(None, None);
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < std::time::Duration::from_millis(300) {
            x = x.wrapping_add(1);
        }
        std::hint::black_box(x);
        let used = start.until(&Sample::take(None, None));
        assert!(used.load_generator.is_some_and(|cores| cores > 0.0));
        assert!(used.busy > 0.0);
        let own = Sample::take(Some(std::process::id()), None);
        assert!(own.server_switches.is_some());
    }
}
