//! Timestamps in the columns StackDock queries by time (`runs`, `locks`, `docks`): RFC 3339 in UTC
//! with exactly nine fractional digits, so comparing or ordering the text is comparing the times.
//!
//! (jiff's default rendering drops trailing zero digits, and `…:05Z` sorts after `…:05.5Z`.)

use jiff::Timestamp;

use crate::StoreError;

/// Fixed-width RFC 3339: `2024-06-19T15:22:45.000000000Z`.
pub(crate) fn fixed(ts: Timestamp) -> String {
    format!("{ts:.9}")
}

/// Parses a stored timestamp; `context` names the table and column.
pub(crate) fn parse(text: &str, context: &str) -> Result<Timestamp, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("{context}: `{text}` is not a timestamp: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_text_orders_like_time_and_round_trips() {
        let whole = Timestamp::from_second(1_700_000_005).expect("valid");
        let half = whole
            .checked_add(std::time::Duration::from_millis(500))
            .expect("valid");
        assert!(
            fixed(whole) < fixed(half),
            "{} < {}",
            fixed(whole),
            fixed(half)
        );
        assert_eq!(fixed(whole), "2023-11-14T22:13:25.000000000Z");
        assert_eq!(parse(&fixed(half), "test").expect("parses"), half);
    }
}
