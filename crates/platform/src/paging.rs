//! Pages of a list, as every paginated endpoint asks for them: `page` from 1, `size` from 1 to
//! [`Page::MAX_SIZE`] (default [`Page::DEFAULT_SIZE`]).

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    number: u32,
    size: u32,
}

/// Why a page request is refused: the query parameter and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {reason}")]
pub struct InvalidPage {
    pub field: &'static str,
    pub reason: &'static str,
}

impl Page {
    pub const DEFAULT_SIZE: u32 = 20;
    pub const MAX_SIZE: u32 = 100;

    /// Sizes above the cap are lowered to it; zero is refused.
    pub fn parse(number: Option<u32>, size: Option<u32>) -> Result<Page, InvalidPage> {
        let number = number.unwrap_or(1);
        if number == 0 {
            return Err(InvalidPage {
                field: "page",
                reason: "starts at 1",
            });
        }
        let size = size.unwrap_or(Page::DEFAULT_SIZE);
        if size == 0 {
            return Err(InvalidPage {
                field: "size",
                reason: "must be at least 1",
            });
        }
        Ok(Page {
            number,
            size: size.min(Page::MAX_SIZE),
        })
    }

    pub fn number(self) -> u32 {
        self.number
    }

    pub fn size(self) -> u32 {
        self.size
    }

    /// How many items come before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.number - 1) * u64::from(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_first_page_of_twenty() {
        let page = Page::parse(None, None).expect("valid");
        assert_eq!((page.number(), page.size(), page.offset()), (1, 20, 0));
    }

    #[test]
    fn size_is_capped_and_zero_refused() {
        let page = Page::parse(Some(3), Some(1000)).expect("capped");
        assert_eq!((page.size(), page.offset()), (100, 200));
        assert_eq!(
            Page::parse(Some(0), None).map_err(|error| error.field),
            Err("page")
        );
        assert_eq!(
            Page::parse(None, Some(0)).map_err(|error| error.field),
            Err("size")
        );
    }
}
