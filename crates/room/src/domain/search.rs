//! What a room search asks, checked: lowercased words, a city, inclusive price bounds, a
//! number of guests, free nights, a host, and a page.

use uuid::Uuid;

use mybnb_platform::paging::Page;

use super::{NightRange, Price, Room, RoomError};

/// A search as the guest sent it, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct SearchDraft {
    pub text: Option<String>,
    pub city: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub guests: Option<u32>,
    pub check_in: Option<String>,
    pub check_out: Option<String>,
    pub host: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// A valid search. A room matches when every word appears in its searchable text, its city is
/// the city asked for (ignoring case), its price is within the bounds, it sleeps the guests, it
/// is free on the nights and it was registered by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCriteria {
    pub words: Vec<String>,
    pub city_key: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub guests: Option<u32>,
    /// The nights a room must be free on.
    pub free_nights: Option<NightRange>,
    /// The user id of the host whose rooms alone match.
    pub host: Option<Uuid>,
    pub page: Page,
}

/// One page of matching rooms, in a stable order, and how many match in all.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub rooms: Vec<Room>,
    pub total: u64,
    pub page: Page,
}

const MAX_WORDS: usize = 10;
/// The longest stay a date search asks about.
const MAX_NIGHTS: i64 = 90;

impl SearchDraft {
    pub fn parse(self) -> Result<SearchCriteria, RoomError> {
        let words: Vec<String> = self
            .text
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        if words.len() > MAX_WORDS {
            return Err(RoomError::invalid(
                "q",
                format!("may have at most {MAX_WORDS} words"),
            ));
        }
        for (field, bound) in [("minPrice", self.min_price), ("maxPrice", self.max_price)] {
            if bound.is_some_and(|won| !(0..=Price::MAX).contains(&won)) {
                return Err(RoomError::invalid(
                    field,
                    format!("must be between 0 and {}", Price::MAX),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price)
            && min > max
        {
            return Err(RoomError::invalid("minPrice", "must not exceed maxPrice"));
        }
        if self.guests == Some(0) {
            return Err(RoomError::invalid("guests", "must be at least 1"));
        }
        let host = self
            .host
            .as_deref()
            .map(|host| {
                Uuid::try_parse(host)
                    .map_err(|_| RoomError::invalid("host", "must be a user id, a UUID"))
            })
            .transpose()?;
        let free_nights = match (self.check_in.as_deref(), self.check_out.as_deref()) {
            (None, None) => None,
            (Some(check_in), Some(check_out)) => Some(NightRange::checked(
                ("checkIn", check_in),
                ("checkOut", check_out),
                MAX_NIGHTS,
            )?),
            _ => {
                return Err(RoomError::invalid(
                    "checkIn",
                    "checkIn and checkOut go together",
                ));
            }
        };
        Ok(SearchCriteria {
            words,
            city_key: self
                .city
                .map(|city| city.trim().to_lowercase())
                .filter(|city| !city.is_empty()),
            min_price: self.min_price,
            max_price: self.max_price,
            guests: self.guests,
            free_nights,
            host,
            page: Page::parse(self.page, self.size)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_lowercased_words() {
        let criteria = SearchDraft {
            text: Some("  Ocean  VIEW ".into()),
            ..SearchDraft::default()
        }
        .parse()
        .expect("valid");
        assert_eq!(criteria.words, ["ocean", "view"]);
        assert_eq!(
            criteria.page,
            Page::parse(Some(1), Some(20)).expect("valid")
        );
    }

    #[test]
    fn dates_come_in_pairs_and_in_order() {
        let stay = |check_in: Option<&str>, check_out: Option<&str>| SearchDraft {
            check_in: check_in.map(str::to_owned),
            check_out: check_out.map(str::to_owned),
            ..SearchDraft::default()
        };
        let criteria = stay(Some("2026-12-24"), Some("2026-12-27"))
            .parse()
            .expect("valid");
        assert!(criteria.free_nights.is_some());
        assert!(stay(Some("2026-12-24"), None).parse().is_err());
        assert!(
            stay(Some("2026-12-24"), Some("2026-12-24"))
                .parse()
                .is_err()
        );
        assert!(
            stay(Some("24/12/2026"), Some("2026-12-27"))
                .parse()
                .is_err()
        );
    }

    #[test]
    fn host_is_a_user_id() {
        let host = |text: &str| SearchDraft {
            host: Some(text.to_owned()),
            ..SearchDraft::default()
        };
        let id = Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").expect("a UUID");
        assert_eq!(
            host("67e55044-10b1-426f-9247-bb680e5fe0c8")
                .parse()
                .expect("valid")
                .host,
            Some(id)
        );
        assert_eq!(
            host("67E55044-10B1-426F-9247-BB680E5FE0C8")
                .parse()
                .expect("valid")
                .host,
            Some(id),
            "case is ignored"
        );
        assert_eq!(SearchDraft::default().parse().expect("valid").host, None);
        for malformed in [
            "",
            "not-a-uuid",
            "67e55044-10b1-426f-9247-bb680e5fe0c",
            " 67e55044-10b1-426f-9247-bb680e5fe0c8",
        ] {
            let error = host(malformed).parse().expect_err(malformed);
            assert!(
                matches!(error, RoomError::Invalid { field: "host", .. }),
                "{malformed:?}: {error}"
            );
        }
    }

    #[test]
    fn inverted_or_negative_price_bounds_are_refused() {
        let inverted = SearchDraft {
            min_price: Some(10),
            max_price: Some(5),
            ..SearchDraft::default()
        };
        assert!(inverted.parse().is_err());
        let negative = SearchDraft {
            min_price: Some(-1),
            ..SearchDraft::default()
        };
        assert!(negative.parse().is_err());
    }
}
