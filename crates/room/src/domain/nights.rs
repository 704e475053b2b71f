//! Ranges of nights, as a search for free rooms and an availability calendar ask about them,
//! checked; and which nights of a range booked stays take.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::{RoomError, RoomId};

/// The most nights one availability query covers: a quarter of a year.
const MAX_CALENDAR_NIGHTS: i64 = 92;

/// Nights from `from` up to, not including, `to`: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightRange {
    from: NaiveDate,
    to: NaiveDate,
}

/// The nights of a range a room's booked stays take, ascending, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub room: RoomId,
    pub nights: NightRange,
    pub taken: Vec<NaiveDate>,
}

impl NightRange {
    /// The nights an availability calendar asks about: both dates required, at most
    /// [`MAX_CALENDAR_NIGHTS`].
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<NightRange, RoomError> {
        let from = from.ok_or_else(|| RoomError::invalid("from", "is required"))?;
        let to = to.ok_or_else(|| RoomError::invalid("to", "is required"))?;
        NightRange::checked(("from", from), ("to", to), MAX_CALENDAR_NIGHTS)
    }

    /// A range as the caller sent it, each date under its field's name: both `YYYY-MM-DD`, the
    /// end after the start and at most `max_nights` later.
    pub(super) fn checked(
        (from_field, from): (&'static str, &str),
        (to_field, to): (&'static str, &str),
        max_nights: i64,
    ) -> Result<NightRange, RoomError> {
        let date = |field, text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| RoomError::invalid(field, "must be a date, YYYY-MM-DD"))
        };
        let (from, to) = (date(from_field, from)?, date(to_field, to)?);
        if to <= from {
            return Err(RoomError::invalid(
                to_field,
                format!("must be after {from_field}"),
            ));
        }
        if (to - from).num_days() > max_nights {
            return Err(RoomError::invalid(
                to_field,
                format!("at most {max_nights} nights after {from_field}"),
            ));
        }
        Ok(NightRange { from, to })
    }

    /// The first night.
    pub fn from(self) -> NaiveDate {
        self.from
    }

    /// The day after the last night.
    pub fn to(self) -> NaiveDate {
        self.to
    }

    /// The nights of this range that any of `stays` (each a check-in and a check-out, the
    /// check-out's night not included) covers, ascending, each once.
    pub fn taken_by(
        self,
        stays: impl IntoIterator<Item = (NaiveDate, NaiveDate)>,
    ) -> Vec<NaiveDate> {
        let mut taken = BTreeSet::new();
        for (check_in, check_out) in stays {
            let end = check_out.min(self.to);
            taken.extend(
                check_in
                    .max(self.from)
                    .iter_days()
                    .take_while(|night| *night < end),
            );
        }
        taken.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn range(from: &str, to: &str) -> NightRange {
        NightRange::parse(Some(from), Some(to)).expect("a valid range")
    }

    /// The field an invalid range is refused for.
    fn refused_field(from: Option<&str>, to: Option<&str>) -> &'static str {
        match NightRange::parse(from, to) {
            Err(RoomError::Invalid { field, .. }) => field,
            other => panic!("{from:?}..{to:?} is refused as invalid, not {other:?}"),
        }
    }

    #[test]
    fn a_range_holds_one_to_92_nights() {
        let one = range("2026-12-24", "2026-12-25");
        assert_eq!(
            (one.from(), one.to()),
            (date("2026-12-24"), date("2026-12-25"))
        );
        let longest = range("2026-01-01", "2026-04-03");
        assert_eq!((longest.to() - longest.from()).num_days(), 92);
        assert_eq!(refused_field(Some("2026-01-01"), Some("2026-04-04")), "to");
        assert_eq!(refused_field(Some("2026-12-24"), Some("2026-12-24")), "to");
        assert_eq!(refused_field(Some("2026-12-24"), Some("2026-12-23")), "to");
    }

    #[test]
    fn both_dates_are_required_and_must_be_dates() {
        assert_eq!(refused_field(None, Some("2026-12-24")), "from");
        assert_eq!(refused_field(Some("2026-12-24"), None), "to");
        assert_eq!(refused_field(None, None), "from");
        assert_eq!(
            refused_field(Some("24/12/2026"), Some("2026-12-27")),
            "from"
        );
        assert_eq!(refused_field(Some("2026-12-24"), Some("2026-02-30")), "to");
        assert_eq!(refused_field(Some(""), Some("2026-12-27")), "from");
    }

    #[test]
    fn taken_nights_are_those_stays_cover_within_the_range() {
        let nights = range("2026-12-20", "2026-12-27");
        let stays = [
            // Sticks out before the range: only its nights inside count.
            (date("2026-12-18"), date("2026-12-21")),
            // Overlaps the next one; each night once.
            (date("2026-12-23"), date("2026-12-25")),
            (date("2026-12-24"), date("2026-12-26")),
            // Checks out on the range's first day, checks in on its end: no night inside.
            (date("2026-12-15"), date("2026-12-20")),
            (date("2026-12-27"), date("2026-12-30")),
        ];
        let expected: Vec<NaiveDate> = ["2026-12-20", "2026-12-23", "2026-12-24", "2026-12-25"]
            .into_iter()
            .map(date)
            .collect();
        assert_eq!(nights.taken_by(stays), expected);
        assert!(nights.taken_by([]).is_empty());
    }

    #[test]
    fn a_stay_longer_than_the_range_takes_all_of_it() {
        let nights = range("2026-12-24", "2026-12-26");
        let taken = nights.taken_by([(date("2026-12-01"), date("2027-01-10"))]);
        assert_eq!(taken, [date("2026-12-24"), date("2026-12-25")]);
    }
}
