//! Who used the machine's cores during a window, from `/proc` (Linux): labelled processes
//! (the server or each service's instances together, nats-server, PostgreSQL's backends, the
//! load generator), the machine's busy time, and everything else (other users' builds and
//! tests included), in cores. All counts are in the kernel's clock ticks, so only ratios are
//! used.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

/// The load generator's label.
pub const LOAD_GENERATOR: &str = "load generator";

/// The counters at the start of a window.
pub struct Window {
    at: Instant,
    total: u64,
    idle: u64,
    /// A label and the process ids counted under it, with their ticks then.
    processes: Vec<(String, u32, u64)>,
    /// The process whose threads' context switches are counted, and its count then.
    switches: Option<(u32, u64)>,
}

impl Window {
    /// Starts a window over `processes` (label, pid) and this process; `switches_of`'s
    /// context switches are counted too.
    pub fn start(mut processes: Vec<(String, u32)>, switches_of: Option<u32>) -> Window {
        processes.push((LOAD_GENERATOR.to_owned(), std::process::id()));
        let (total, idle) = machine().unwrap_or_default();
        Window {
            at: Instant::now(),
            total,
            idle,
            processes: processes
                .into_iter()
                .filter_map(|(label, pid)| Some((label, pid, process(pid)?)))
                .collect(),
            switches: switches_of.and_then(|pid| Some((pid, context_switches(pid)?))),
        }
    }

    /// Cores used by each label since the start (a process gone since counts nothing), and
    /// `machine busy` and `others`.
    pub fn end(&self) -> BTreeMap<String, f64> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        let (total, idle) = machine().unwrap_or_default();
        let elapsed = total.saturating_sub(self.total).max(1) as f64;
        let share = |ticks: u64| ticks as f64 / elapsed * cores;
        let mut used = BTreeMap::new();
        for (label, pid, start) in &self.processes {
            let ticks = process(*pid).map_or(0, |now| now.saturating_sub(*start));
            *used.entry(label.clone()).or_insert(0.0) += share(ticks);
        }
        let accounted: f64 = used.values().sum();
        let busy = share(
            total
                .saturating_sub(idle)
                .saturating_sub(self.total.saturating_sub(self.idle)),
        );
        used.insert("machine busy".to_owned(), busy);
        used.insert("others".to_owned(), (busy - accounted).max(0.0));
        used
    }

    /// Context switches per second of the counted process's threads since the start.
    pub fn switches_per_second(&self) -> Option<f64> {
        let (pid, start) = self.switches?;
        let seconds = self.at.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
        Some(context_switches(pid)?.saturating_sub(start) as f64 / seconds)
    }
}

/// The cores a notify run used, as its results show them.
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

impl CoreUse {
    /// A window's use, with the server labelled `mybnb`.
    pub fn of(window: &Window) -> CoreUse {
        let used = window.end();
        CoreUse {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            busy: used.get("machine busy").copied().unwrap_or_default(),
            server: used.get("mybnb").copied(),
            load_generator: used.get(LOAD_GENERATOR).copied(),
            nats_server: used.get("nats-server").copied(),
            others: used.get("others").copied().unwrap_or_default(),
            server_context_switches_per_second: window.switches_per_second(),
        }
    }
}

/// All ticks and idle ticks (idle + iowait) of all cores together.
fn machine() -> Option<(u64, u64)> {
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
fn process(pid: u32) -> Option<u64> {
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

/// Every process named `postgres`: the server and its backends.
pub fn postgres_pids() -> Vec<u32> {
    processes_where(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|name| name.trim() == "postgres")
    })
}

/// The process whose command line mentions `path` (a nats-server's store directory).
pub fn process_mentioning(path: &Path) -> Option<u32> {
    let wanted = path.to_str()?;
    processes_where(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|line| String::from_utf8_lossy(&line).contains(wanted))
    })
    .first()
    .copied()
}

fn processes_where(wanted: impl Fn(u32) -> bool) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| wanted(*pid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_counted() {
        let window = Window::start(Vec::new(), Some(std::process::id()));
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < std::time::Duration::from_millis(300) {
            x = x.wrapping_add(1);
        }
        std::hint::black_box(x);
        let used = CoreUse::of(&window);
        assert!(used.load_generator.is_some_and(|cores| cores > 0.0));
        assert!(used.busy > 0.0);
        assert!(used.server_context_switches_per_second.is_some());
    }
}
