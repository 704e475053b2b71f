//! An SMTP sink for one test (being written).
