//! How amounts and dates read on the pages.

use chrono::NaiveDate;

use crate::i18n::Locale;

/// Whole won with thousands separators: "120,000원" in Korean, "₩120,000" in English.
pub fn won(locale: Locale, amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0 { "-" } else { "" };
    match locale {
        Locale::Ko => format!("{sign}{grouped}원"),
        Locale::En => format!("{sign}₩{grouped}"),
    }
}

/// A date as people write it: "2026년 12월 24일" or "24 Dec 2026".
pub fn date(locale: Locale, date: NaiveDate) -> String {
    match locale {
        Locale::Ko => date.format("%Y년 %-m월 %-d일").to_string(),
        Locale::En => date.format("%-d %b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_groups_thousands() {
        assert_eq!(won(Locale::Ko, 120_000), "120,000원");
        assert_eq!(won(Locale::En, 1_234_567), "₩1,234,567");
        assert_eq!(won(Locale::En, 999), "₩999");
        assert_eq!(won(Locale::Ko, 0), "0원");
    }

    #[test]
    fn dates_read_naturally() {
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap_or_default();
        assert_eq!(date(Locale::Ko, christmas), "2026년 12월 24일");
        assert_eq!(date(Locale::En, christmas), "24 Dec 2026");
    }
}
