//! The dates of a stay: check-in, and check-out the morning after the last night.

use chrono::{Days, NaiveDate};

use super::BookingError;

/// A stay of 1 to [`StayDates::MAX_NIGHTS`] nights that does not start in the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StayDates {
    check_in: NaiveDate,
    check_out: NaiveDate,
}

/// The dates as a guest sent them: `checkIn`/`checkOut` (`YYYY-MM-DD`), or the original
/// system's single night `usedate` (`YYYYMMDD`).
#[derive(Debug, Clone, Default)]
pub struct DatesDraft {
    pub check_in: Option<String>,
    pub check_out: Option<String>,
    pub usedate: Option<String>,
}

impl StayDates {
    pub const MAX_NIGHTS: u32 = 30;

    /// Checks a stay against `today` (the calendar date in UTC).
    pub fn parse(draft: &DatesDraft, today: NaiveDate) -> Result<StayDates, BookingError> {
        let (check_in, check_out) = match (&draft.check_in, &draft.check_out, &draft.usedate) {
            (Some(check_in), Some(check_out), None) => (
                date("checkIn", check_in, "%Y-%m-%d")?,
                date("checkOut", check_out, "%Y-%m-%d")?,
            ),
            (None, None, Some(usedate)) => {
                let night = date("usedate", usedate, "%Y%m%d")?;
                (
                    night,
                    night.checked_add_days(Days::new(1)).ok_or_else(|| {
                        BookingError::invalid("usedate", "is too far in the future")
                    })?,
                )
            }
            _ => {
                return Err(BookingError::invalid(
                    "checkIn",
                    "give checkIn and checkOut (YYYY-MM-DD), or usedate (YYYYMMDD) alone",
                ));
            }
        };
        StayDates::new(check_in, check_out, today)
    }

    pub fn new(
        check_in: NaiveDate,
        check_out: NaiveDate,
        today: NaiveDate,
    ) -> Result<StayDates, BookingError> {
        if check_out <= check_in {
            return Err(BookingError::invalid("checkOut", "must be after checkIn"));
        }
        let nights = (check_out - check_in).num_days();
        if nights > i64::from(StayDates::MAX_NIGHTS) {
            return Err(BookingError::invalid(
                "checkOut",
                format!("a stay is at most {} nights", StayDates::MAX_NIGHTS),
            ));
        }
        if check_in < today {
            return Err(BookingError::invalid("checkIn", "is in the past"));
        }
        Ok(StayDates {
            check_in,
            check_out,
        })
    }

    /// The stay, if it begins at most `horizon_days` days after `today`: bookings are taken
    /// that far ahead, no further.
    pub fn begins_within(
        self,
        horizon_days: u32,
        today: NaiveDate,
    ) -> Result<StayDates, BookingError> {
        let last = today.checked_add_days(Days::new(horizon_days.into()));
        if last.is_some_and(|last| self.check_in > last) {
            return Err(BookingError::invalid(
                "checkIn",
                format!(
                    "is more than {horizon_days} days ahead: stays are booked at most {horizon_days} days in advance"
                ),
            ));
        }
        Ok(self)
    }

    /// Rebuilds stored dates without the "not in the past" rule, which held when booked.
    pub fn restore(check_in: NaiveDate, check_out: NaiveDate) -> Result<StayDates, BookingError> {
        StayDates::new(check_in, check_out, NaiveDate::MIN)
    }

    pub fn check_in(&self) -> NaiveDate {
        self.check_in
    }

    pub fn check_out(&self) -> NaiveDate {
        self.check_out
    }

    pub fn nights(&self) -> u32 {
        // At most MAX_NIGHTS, checked when built.
        u32::try_from((self.check_out - self.check_in).num_days()).unwrap_or(StayDates::MAX_NIGHTS)
    }

    /// Each night of the stay, by the date it begins.
    pub fn each_night(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.check_in.iter_days().take(self.nights() as usize)
    }
}

fn date(field: &'static str, text: &str, format: &str) -> Result<NaiveDate, BookingError> {
    NaiveDate::parse_from_str(text.trim(), format)
        .map_err(|_| BookingError::invalid(field, format!("`{text}` is not a date ({format})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")
    }

    fn range(check_in: &str, check_out: &str) -> DatesDraft {
        DatesDraft {
            check_in: Some(check_in.into()),
            check_out: Some(check_out.into()),
            usedate: None,
        }
    }

    #[test]
    fn check_out_is_exclusive() {
        let stay = StayDates::parse(&range("2026-12-01", "2026-12-04"), today()).expect("valid");
        assert_eq!(stay.nights(), 3);
        let nights: Vec<_> = stay.each_night().map(|night| night.to_string()).collect();
        assert_eq!(nights, ["2026-12-01", "2026-12-02", "2026-12-03"]);
    }

    #[test]
    fn usedate_is_one_night() {
        let draft = DatesDraft {
            usedate: Some("20261225".into()),
            ..DatesDraft::default()
        };
        let stay = StayDates::parse(&draft, today()).expect("valid");
        assert_eq!(
            (stay.check_in().to_string(), stay.nights()),
            ("2026-12-25".to_owned(), 1)
        );
    }

    #[test]
    fn empty_long_past_and_mixed_stays_are_refused() {
        for (check_in, check_out) in [
            ("2026-12-04", "2026-12-04"),
            ("2026-12-04", "2026-12-01"),
            ("2026-12-01", "2027-01-01"),
            ("2026-11-23", "2026-11-25"),
            ("2026-13-01", "2026-13-02"),
        ] {
            assert!(StayDates::parse(&range(check_in, check_out), today()).is_err());
        }
        let mixed = DatesDraft {
            usedate: Some("20261225".into()),
            ..range("2026-12-01", "2026-12-02")
        };
        assert!(StayDates::parse(&mixed, today()).is_err());
        assert!(StayDates::parse(&range("2026-11-24", "2026-12-24"), today()).is_ok());
    }

    #[test]
    fn a_stay_begins_at_most_the_horizon_ahead() {
        let within = |check_in: &str, check_out: &str| {
            StayDates::parse(&range(check_in, check_out), today())
                .and_then(|stay| stay.begins_within(365, today()))
        };
        assert!(within("2027-11-24", "2027-11-25").is_ok(), "365 days ahead");
        assert!(
            within("2027-11-25", "2027-11-26").is_err(),
            "366 days ahead"
        );
        assert!(
            within("9999-12-01", "9999-12-31").is_err(),
            "the review's stay"
        );
    }
}
