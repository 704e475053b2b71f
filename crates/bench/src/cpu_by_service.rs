//! Who used the cores during a window of a distributed run, from `/proc` (Linux): each
//! service's instances together, the gateway, nats-server, PostgreSQL (every backend of the
//! server, other databases' included), the load generator, and everything else.

use std::collections::BTreeMap;

use crate::cpu;

/// The counters at the start of a window.
pub struct Window {
    total: u64,
    idle: u64,
    /// A label and the process ids counted under it, with their ticks then.
    processes: Vec<(String, u32, u64)>,
}

impl Window {
    /// Starts a window over `processes` (label, pid); nats-server, PostgreSQL and this process
    /// are found and added.
    pub fn start(mut processes: Vec<(String, u32)>, nats_pid: Option<u32>) -> Window {
        processes.extend(nats_pid.map(|pid| ("nats-server".to_owned(), pid)));
        processes.extend(
            postgres_pids()
                .into_iter()
                .map(|pid| ("postgres".to_owned(), pid)),
        );
        processes.push(("load generator".to_owned(), std::process::id()));
        let (total, idle) = cpu::machine().unwrap_or_default();
        Window {
            total,
            idle,
            processes: processes
                .into_iter()
                .filter_map(|(label, pid)| Some((label, pid, cpu::process(pid)?)))
                .collect(),
        }
    }

    /// Cores used by each label since the start (a process gone since counts nothing), and
    /// `machine busy` and `others`.
    pub fn end(&self) -> BTreeMap<String, f64> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        let (total, idle) = cpu::machine().unwrap_or_default();
        let elapsed = total.saturating_sub(self.total).max(1) as f64;
        let share = |ticks: u64| ticks as f64 / elapsed * cores;
        let mut used = BTreeMap::new();
        for (label, pid, start) in &self.processes {
            let ticks = cpu::process(*pid).map_or(0, |now| now.saturating_sub(*start));
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
}

/// Every process named `postgres`: the server and its backends.
fn postgres_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.trim() == "postgres")
        })
        .collect()
}
