//! Month grids for a room's availability calendar: weeks from Sunday to Saturday, as Korean
//! and most English calendars print them.

use chrono::{Datelike, Months, NaiveDate};

/// A month, by its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month(NaiveDate);

impl Month {
    pub fn of(day: NaiveDate) -> Month {
        Month(day.with_day(1).unwrap_or(day))
    }

    /// `YYYY-MM`, as in a link to the month.
    pub fn parse(text: &str) -> Option<Month> {
        NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .ok()
            .map(Month)
    }

    pub fn first(self) -> NaiveDate {
        self.0
    }

    pub fn next(self) -> Month {
        Month(self.0.checked_add_months(Months::new(1)).unwrap_or(self.0))
    }

    pub fn previous(self) -> Month {
        Month(self.0.checked_sub_months(Months::new(1)).unwrap_or(self.0))
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    pub fn number(self) -> u32 {
        self.0.month()
    }

    /// `YYYY-MM`.
    pub fn key(self) -> String {
        self.0.format("%Y-%m").to_string()
    }

    /// The month's days in weeks, Sunday first; days of the months around it are `None`.
    pub fn weeks(self) -> Vec<[Option<NaiveDate>; 7]> {
        let lead = self.0.weekday().num_days_from_sunday() as usize;
        let mut weeks = Vec::new();
        let mut week = [None; 7];
        let mut slot = lead;
        let mut day = self.0;
        while day.month() == self.0.month() {
            week[slot] = Some(day);
            slot += 1;
            if slot == 7 {
                weeks.push(week);
                week = [None; 7];
                slot = 0;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        if slot > 0 {
            weeks.push(week);
        }
        weeks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn december_2026_starts_on_a_tuesday_and_spans_five_weeks() {
        let month = Month::of(date("2026-12-24"));
        assert_eq!(month.first(), date("2026-12-01"));
        let weeks = month.weeks();
        assert_eq!(weeks.len(), 5);
        assert_eq!(weeks[0][..2], [None, None]);
        assert_eq!(weeks[0][2], Some(date("2026-12-01")));
        assert_eq!(weeks[4][4], Some(date("2026-12-31")));
        assert_eq!(weeks[4][5], None);
        let days = weeks.iter().flatten().flatten().count();
        assert_eq!(days, 31);
    }

    #[test]
    fn months_step_across_years_and_parse_their_keys() {
        let month = Month::of(date("2026-12-05"));
        assert_eq!(month.next().key(), "2027-01");
        assert_eq!(month.next().previous(), month);
        assert_eq!(Month::parse("2027-02"), Some(Month::of(date("2027-02-14"))));
        assert_eq!(Month::parse("2027-13"), None);
        assert_eq!(Month::parse("soon"), None);
    }
}
