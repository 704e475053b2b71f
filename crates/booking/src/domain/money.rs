//! Amounts of money: whole won, never negative.

use super::BookingError;

/// An amount in whole won (the won has no minor unit in use). Never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    /// `won` whole won; an error for a negative amount.
    pub fn won(won: i64) -> Result<Money, BookingError> {
        if won < 0 {
            return Err(BookingError::Unexpected(anyhow::anyhow!(
                "a negative amount of money: {won}"
            )));
        }
        Ok(Money(won))
    }

    /// The amount in whole won.
    pub fn as_won(self) -> i64 {
        self.0
    }

    /// `count` times this amount (a nightly price for some nights); `None` if it overflows.
    pub fn times(self, count: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(count)).map(Money)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_never_negative_and_multiply_without_overflow() {
        assert!(Money::won(-1).is_err());
        let night = Money::won(100_000).expect("an amount");
        assert_eq!(night.times(3).map(Money::as_won), Some(300_000));
        assert_eq!(Money::won(i64::MAX).expect("an amount").times(2), None);
    }
}
