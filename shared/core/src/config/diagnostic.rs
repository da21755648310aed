//! A configuration error with its place in the file, rendered the way compilers do: location, the
//! offending line, a caret under the exact span, and what would be valid.

use std::fmt;

use serde::Serialize;

/// One mistake in a config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong, naming the table and key.
    pub message: String,
    /// What would be valid, or how to fix it.
    pub help: Option<String>,
    /// The offending line, verbatim (never contains a credential: inline credentials are
    /// reported with the value masked).
    pub source_line: String,
    /// Width of the caret run, in characters (at least 1).
    pub width: usize,
}

impl Diagnostic {
    /// Builds a diagnostic for the byte span `start..end` of `source`.
    pub fn at(
        file: &str,
        source: &str,
        start: usize,
        end: usize,
        message: impl Into<String>,
    ) -> Diagnostic {
        let start = floor_char_boundary(source, start.min(source.len()));
        let end = floor_char_boundary(source, end.clamp(start, source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let source_line = source[line_start..line_end]
            .trim_end_matches('\r')
            .to_owned();
        let width = source[start..end.min(line_end).max(start)]
            .chars()
            .count()
            .max(1);
        Diagnostic {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line,
            width,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Replaces the part of the shown line under the caret with `***` (used for inline credentials,
    /// whose value must not be echoed).
    pub fn masking_span(mut self) -> Diagnostic {
        let chars: Vec<char> = self.source_line.chars().collect();
        let from = (self.column - 1).min(chars.len());
        let to = (from + self.width).min(chars.len());
        let masked: String = chars[..from]
            .iter()
            .chain("***".chars().collect::<Vec<_>>().iter())
            .chain(chars[to..].iter())
            .collect();
        self.source_line = masked;
        self.width = 3;
        self
    }

    /// `file:line:column`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(f, "error: {}", self.message)?;
        writeln!(f, "{pad}--> {}", self.location())?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        write!(
            f,
            "{pad} | {}{}",
            " ".repeat(self.column.saturating_sub(1)),
            "^".repeat(self.width)
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// Every mistake found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}\n")?;
        }
        let n = self.0.len();
        write!(
            f,
            "{n} error{} in the configuration",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_and_caret() {
        let src = "[servers.web]\nregoin = \"ewr\"\n";
        let start = src.find("regoin").expect("present");
        let d = Diagnostic::at(
            "stackdock.toml",
            src,
            start,
            start + 6,
            "unknown key `regoin` in servers.web",
        )
        .with_help("did you mean `region`?");
        assert_eq!(d.location(), "stackdock.toml:2:1");
        assert_eq!(
            d.to_string(),
            "error: unknown key `regoin` in servers.web\n --> stackdock.toml:2:1\n  |\n2 | regoin = \"ewr\"\n  | ^^^^^^\n  = help: did you mean `region`?"
        );
    }

    #[test]
    fn masking_hides_the_value() {
        let src = "token = \"abcd1234secret\"\n";
        let start = src.find('"').expect("present");
        let d =
            Diagnostic::at("f.toml", src, start, start + 16, "inline credential").masking_span();
        assert!(!d.to_string().contains("abcd1234secret"));
        assert_eq!(d.source_line, "token = ***");
    }
}
