//! The booking scenarios' report: a row per scenario, the raw SQLite commit rate beside it,
//! and how the figures were taken.

use super::{Row, cores, table, today};
use crate::load::RunResult;

impl Row for RunResult {
    const HEADER: &'static str = "scenario | clients | requests | booked | 503 fast | other | \
                          availability | bookings/s | p50 | p99 | max";
    fn cells(&self) -> Vec<String> {
        cells![
            "{}" => self.description, "{}" => self.clients, "{}" => self.requests,
            "{}" => self.booked, "{}" => self.unavailable, "{}" => self.other,
            "{:.2} %" => self.availability_percent, "{:.0}" => self.bookings_per_second,
            "{:.1} ms" => self.p50_ms, "{:.1} ms" => self.p99_ms, "{:.1} ms" => self.max_ms,
        ]
    }
}

/// The Markdown text of the booking scenarios.
pub(super) fn text(results: &[RunResult], seconds: u64) -> String {
    let mut text = table(results);
    for rate in results
        .iter()
        .filter_map(|result| result.sqlite_commits_per_second)
    {
        text.push_str(&format!(
            "\nRaw SQLite durable commits on the same machine in the same run (WAL, \
             `synchronous=FULL`, one writer): **{rate:.0} commits/s**.\n"
        ));
    }
    text.push_str(&format!(
        "\nMeasured {} by `mybnb-bench --seconds {seconds}` (release build; load generator and \
         server share the machine's {} cores). \"503 fast\" answers carry `Retry-After`; \
         \"other\" counts any other status or no answer within 10 s.\n",
        today(),
        cores()
    ));
    text
}
