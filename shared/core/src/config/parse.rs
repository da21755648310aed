//! Placeholder replaced by the config parser (issue #2, in progress).
use super::{Config, Diagnostic, Diagnostics};

/// Parses and validates `source` (the contents of `file`).
pub fn parse(file: &str, source: &str) -> Result<Config, Diagnostics> {
    Err(Diagnostics(vec![Diagnostic::at(
        file,
        source,
        0,
        0,
        "parser not yet written",
    )]))
}
