//! `Credential`: a provider token that cannot be printed by accident.

use std::fmt;

/// A provider API token. `Debug` and `Display` print `***`; only `expose` gives the value, and
/// only the HTTP layer calls it, to build the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

impl Credential {
    pub fn new(token: impl Into<String>) -> Credential {
        Credential(token.into())
    }

    /// The token itself. Never log, store or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(***)")
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_token() {
        let c = Credential::new("dop_v1_abcdef");
        assert_eq!(format!("{c}"), "***");
        assert_eq!(format!("{c:?}"), "Credential(***)");
        assert!(!format!("{:?}", Some(c.clone())).contains("abcdef"));
        assert_eq!(c.expose(), "dop_v1_abcdef");
    }
}
