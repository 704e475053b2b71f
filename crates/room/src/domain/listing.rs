//! A room's listing: what a guest reads before booking. Built only through
//! [`ListingDraft::parse`], so a `Listing` is always valid.

use super::RoomError;

/// Price of one night, in whole won.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Price(i64);

impl Price {
    pub const MAX: i64 = 100_000_000;

    pub fn parse(won: i64) -> Result<Price, RoomError> {
        if (1..=Price::MAX).contains(&won) {
            Ok(Price(won))
        } else {
            Err(RoomError::invalid(
                "price",
                format!("must be between 1 and {} won", Price::MAX),
            ))
        }
    }

    pub fn won(self) -> i64 {
        self.0
    }
}

/// How many guests a room sleeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Capacity(u32);

impl Capacity {
    pub const MAX: u32 = 50;
    pub const DEFAULT: Capacity = Capacity(2);

    pub fn parse(guests: u32) -> Result<Capacity, RoomError> {
        if (1..=Capacity::MAX).contains(&guests) {
            Ok(Capacity(guests))
        } else {
            Err(RoomError::invalid(
                "capacity",
                format!("must be between 1 and {}", Capacity::MAX),
            ))
        }
    }

    pub fn guests(self) -> u32 {
        self.0
    }
}

/// A listing as a host submitted it, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct ListingDraft {
    pub name: String,
    pub address: String,
    pub city: Option<String>,
    pub description: Option<String>,
    pub price: i64,
    pub capacity: Option<u32>,
}

/// A valid listing: trimmed texts within their limits, a positive price, a sane capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    name: String,
    address: String,
    city: Option<String>,
    description: Option<String>,
    price: Price,
    capacity: Capacity,
}

impl ListingDraft {
    pub fn parse(self) -> Result<Listing, RoomError> {
        Ok(Listing {
            name: required_text("name", &self.name, Listing::MAX_NAME_CHARS)?,
            address: required_text("address", &self.address, Listing::MAX_ADDRESS_CHARS)?,
            city: optional_text(
                "city",
                self.city.as_deref(),
                Listing::MAX_CITY_CHARS,
                Lines::One,
            )?,
            description: optional_text(
                "description",
                self.description.as_deref(),
                Listing::MAX_DESCRIPTION_CHARS,
                Lines::Many,
            )?,
            price: Price::parse(self.price)?,
            capacity: self
                .capacity
                .map_or(Ok(Capacity::DEFAULT), Capacity::parse)?,
        })
    }
}

/// How many lines a text may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    /// Names and addresses: one line, since they go into e-mails and pages where a line
    /// break would let them pass for something else.
    One,
    /// A description: line breaks (`\n`) allowed.
    Many,
}

/// A one-line text that must not be blank.
fn required_text(field: &'static str, text: &str, max_chars: usize) -> Result<String, RoomError> {
    optional_text(field, Some(text), max_chars, Lines::One)?
        .ok_or_else(|| RoomError::invalid(field, "must not be empty"))
}

/// Trims the text; blank becomes `None`. Control characters are refused, and so are line
/// breaks (Unicode's line and paragraph separators too) where the text is one line.
fn optional_text(
    field: &'static str,
    text: Option<&str>,
    max_chars: usize,
    lines: Lines,
) -> Result<Option<String>, RoomError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(RoomError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    let breaks_line = |c: char| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}');
    if lines == Lines::One && text.chars().any(breaks_line) {
        return Err(RoomError::invalid(field, "must be one line"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(RoomError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

impl Listing {
    pub const MAX_NAME_CHARS: usize = 100;
    pub const MAX_ADDRESS_CHARS: usize = 200;
    pub const MAX_CITY_CHARS: usize = 60;
    pub const MAX_DESCRIPTION_CHARS: usize = 2000;

    /// Rebuilds a listing read back from storage, where it was valid when written.
    pub fn restore(draft: ListingDraft) -> Result<Listing, RoomError> {
        draft.parse()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn city(&self) -> Option<&str> {
        self.city.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn price(&self) -> Price {
        self.price
    }

    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    /// What text search matches against: every searchable field, lowercased with Unicode rules
    /// (the databases' own `LOWER` only knows ASCII on SQLite).
    pub fn search_text(&self) -> String {
        [
            Some(self.name.as_str()),
            Some(self.address.as_str()),
            self.city(),
            self.description(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
    }

    /// The city as the search filter compares it.
    pub fn city_key(&self) -> Option<String> {
        self.city.as_deref().map(str::to_lowercase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ListingDraft {
        ListingDraft {
            name: "  Hanok stay ".into(),
            address: "12 Bukchon-ro, Jongno-gu".into(),
            city: Some("Seoul".into()),
            description: None,
            price: 120_000,
            capacity: None,
        }
    }

    #[test]
    fn a_valid_draft_is_trimmed_and_gets_the_default_capacity() {
        let listing = draft().parse().expect("valid");
        assert_eq!(listing.name(), "Hanok stay");
        assert_eq!(listing.capacity(), Capacity::DEFAULT);
    }

    #[test]
    fn blank_names_and_non_positive_prices_are_refused() {
        let blank = ListingDraft {
            name: "   ".into(),
            ..draft()
        };
        assert!(matches!(
            blank.parse(),
            Err(RoomError::Invalid { field: "name", .. })
        ));
        let free = ListingDraft {
            price: 0,
            ..draft()
        };
        assert!(matches!(
            free.parse(),
            Err(RoomError::Invalid { field: "price", .. })
        ));
        let too_many = ListingDraft {
            capacity: Some(51),
            ..draft()
        };
        assert!(matches!(
            too_many.parse(),
            Err(RoomError::Invalid {
                field: "capacity",
                ..
            })
        ));
    }

    #[test]
    fn search_text_is_lowercased_beyond_ascii() {
        let listing = ListingDraft {
            name: "ÉTÉ à Jeju".into(),
            ..draft()
        }
        .parse()
        .expect("valid");
        assert!(listing.search_text().contains("été à jeju"));
        assert_eq!(listing.city_key().as_deref(), Some("seoul"));
    }
}
