//! Collects the validator's findings and renders them as [`Diagnostic`]s once the whole file has
//! been read, so every shown line can be masked over every credential found anywhere in it.
//!
//! Findings are kept as byte spans until the end because a credential may be discovered after a
//! finding on the same line was recorded (`credentials = { env = "X", token = "…" }`).

use std::ops::Range;

use super::credentials::{REFERENCE_HELP, token_runs};
use super::{Diagnostic, Diagnostics};

/// One finding before rendering.
#[derive(Debug)]
struct Finding {
    span: Range<usize>,
    message: String,
    help: String,
}

/// The findings of one parse, and the spans that must never be shown.
#[derive(Debug)]
pub(crate) struct Report<'s> {
    file: &'s str,
    source: &'s str,
    findings: Vec<Finding>,
    /// Byte spans of inline credentials: masked as `***` wherever a line shows them.
    secrets: Vec<Range<usize>>,
}

impl<'s> Report<'s> {
    pub(crate) fn new(file: &'s str, source: &'s str) -> Report<'s> {
        Report {
            file,
            source,
            findings: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub(crate) fn source(&self) -> &'s str {
        self.source
    }

    /// Records a mistake at `span` with what would be valid.
    pub(crate) fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.findings.push(Finding {
            span,
            message: message.into(),
            help: help.into(),
        });
    }

    /// Records an inline credential at `span` (a value or a key) and masks it everywhere.
    pub(crate) fn credential(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.secret(span, message, REFERENCE_HELP);
    }

    /// An error at a value that may be a secret (a literal where a reference belongs): masked
    /// everywhere, like an inline credential, with its own help.
    pub(crate) fn secret(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.secrets.push(span.clone());
        self.error(span, message, help);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Converts the toml crate's error (the parse stops there) into one finding.
    pub(crate) fn syntax(&mut self, err: &toml::de::Error) {
        let span = err.span().unwrap_or(0..0);
        let message = err.message();
        if message.starts_with("duplicate key") {
            self.duplicate_key(span);
            return;
        }
        let help = if message.contains("must be quoted") {
            "put string values in quotes: `key = \"value\"`"
        } else if message.contains("unclosed table") {
            "close the table header: `[kind.name]`"
        } else {
            "fix the TOML syntax here (see https://toml.io/en/v1.0.0)"
        };
        self.error(span, format!("invalid TOML: {message}"), help);
    }

    /// TOML's own duplicate-key error, said in this file's terms: which table or key is defined
    /// twice and where it was first.
    fn duplicate_key(&mut self, span: Range<usize>) {
        let source = self.source;
        let start = span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[line_start..line_end].trim();
        let first_line_no = |pred: &dyn Fn(&str) -> bool| {
            source[..line_start]
                .lines()
                .enumerate()
                .find(|(_, l)| pred(l.trim()))
                .map(|(i, _)| i + 1)
        };
        let key = source
            .get(span.clone())
            .unwrap_or_default()
            .trim_matches(['"', '\'']);
        if line.starts_with('[') {
            let path = line
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default()
                .trim();
            let first = first_line_no(&|l: &str| l == line);
            let message = match first {
                Some(n) => format!("`[{path}]` is defined twice (first on line {n})"),
                None => format!("`[{path}]` is defined twice"),
            };
            self.error(
                span,
                message,
                "each table may appear once: merge the two, or rename one (a resource's name is its label at the provider)",
            );
        } else {
            let first = first_line_no(&|l: &str| {
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            });
            let message = match first {
                Some(n) => format!("duplicate key `{key}` (first set on line {n})"),
                None => format!("duplicate key `{key}`"),
            };
            self.error(
                span,
                message,
                "a key may be set once per table: remove one of the two",
            );
        }
    }

    /// Renders every finding in file order, masking credentials in shown lines and messages.
    pub(crate) fn finish(mut self) -> Diagnostics {
        self.secrets.extend(token_runs(self.source));
        self.secrets.sort_by_key(|r| (r.start, r.end));
        self.findings
            .sort_by(|a, b| (a.span.start, &a.message).cmp(&(b.span.start, &b.message)));
        self.findings
            .dedup_by(|a, b| a.span.start == b.span.start && a.message == b.message);
        let secret_texts: Vec<&str> = self
            .secrets
            .iter()
            .filter_map(|r| self.source.get(r.clone()))
            .map(|t| t.trim_matches(['"', '\'']))
            .filter(|t| t.len() >= 4)
            .collect();
        let scrub = |text: &str| {
            secret_texts
                .iter()
                .fold(text.to_owned(), |acc, s| acc.replace(s, "***"))
        };
        let diagnostics = self
            .findings
            .iter()
            .map(|f| {
                let d = Diagnostic::at(
                    self.file,
                    self.source,
                    f.span.start,
                    f.span.end,
                    scrub(&f.message),
                )
                .with_help(scrub(&f.help));
                mask_line(d, self.source, &f.span, &self.secrets)
            })
            .collect();
        Diagnostics(diagnostics)
    }
}

/// Replaces every secret span on the diagnostic's line with `***`, moving the caret with the text
/// (a caret over a secret covers its `***`).
fn mask_line(
    mut d: Diagnostic,
    source: &str,
    span: &Range<usize>,
    secrets: &[Range<usize>],
) -> Diagnostic {
    let start = floor_boundary(source, span.start.min(source.len()));
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let end = floor_boundary(source, span.end.clamp(start, line_end));
    let masks: Vec<Range<usize>> = secrets
        .iter()
        .filter(|r| r.start < line_end && r.end > line_start)
        .map(|r| {
            floor_boundary(source, r.start.max(line_start))
                ..floor_boundary(source, r.end.min(line_end))
        })
        .collect();
    if masks.is_empty() {
        return d;
    }
    let mut line = String::new();
    let mut col_start = None;
    let mut col_end = None;
    let mut pos = line_start;
    let count = |s: &str| s.chars().count();
    for m in masks.iter().chain(std::iter::once(&(line_end..line_end))) {
        if m.start < pos {
            // Overlapping secrets: the earlier mask already covers this part.
            pos = pos.max(m.end);
            continue;
        }
        // Plain text before the mask.
        if col_start.is_none() && (pos..m.start).contains(&start) {
            col_start = Some(count(&line) + count(&source[pos..start]));
        }
        if col_end.is_none() && (pos..=m.start).contains(&end) {
            col_end = Some(count(&line) + count(&source[pos..end]));
        }
        line.push_str(&source[pos..m.start]);
        if m.start == line_end && m.end == line_end {
            break;
        }
        let before = count(&line);
        if col_start.is_none() && (m.start..m.end).contains(&start) {
            col_start = Some(before);
        }
        line.push_str("***");
        if col_end.is_none() && end > m.start && end <= m.end {
            col_end = Some(before + 3);
        }
        pos = m.end;
    }
    let col_start = col_start.unwrap_or_else(|| count(&line));
    let col_end = col_end.unwrap_or_else(|| count(&line)).max(col_start + 1);
    d.source_line = line.trim_end_matches('\r').to_owned();
    d.column = col_start + 1;
    d.width = col_end - col_start;
    d
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, at: &str, len: usize, secret: Option<&str>) -> Diagnostic {
        let mut r = Report::new("f.toml", source);
        let start = source.find(at).unwrap_or(0);
        if let Some(s) = secret {
            let i = source.find(s).unwrap_or(0);
            r.secrets.push(i..i + s.len());
        }
        r.error(start..start + len, "m", "h");
        r.finish().0.remove(0)
    }

    /// A caret at `at` (`len` bytes) on a source with `secret` masked must show `line` with the
    /// caret at `column`, `width` wide.
    struct Case {
        source: &'static str,
        at: &'static str,
        len: usize,
        secret: Option<&'static str>,
        line: &'static str,
        column: usize,
        width: usize,
    }

    #[test]
    fn masks_secrets_and_moves_the_caret() {
        let cases = [
            Case {
                source: "a = 1\n",
                at: "1",
                len: 1,
                secret: None,
                line: "a = 1",
                column: 5,
                width: 1,
            },
            Case {
                source: "c = { token = \"hunter22\", x = 1 }\n",
                at: "x",
                len: 1,
                secret: Some("\"hunter22\""),
                line: "c = { token = ***, x = 1 }",
                column: 20,
                width: 1,
            },
            Case {
                source: "c = { token = \"hunter22\" }\n",
                at: "\"hunter22\"",
                len: 10,
                secret: Some("\"hunter22\""),
                line: "c = { token = *** }",
                column: 15,
                width: 3,
            },
            Case {
                source: "x = [\"a\", \"hunter22\"] # then\n",
                at: "[",
                len: 17,
                secret: Some("\"hunter22\""),
                line: "x = [\"a\", ***] # then",
                column: 5,
                width: 10,
            },
        ];
        for c in cases {
            let d = render(c.source, c.at, c.len, c.secret);
            assert_eq!(d.source_line, c.line, "{}", c.source);
            assert_eq!((d.column, d.width), (c.column, c.width), "{}", c.source);
            assert!(!d.to_string().contains("hunter22"));
        }
    }

    #[test]
    fn duplicate_tables_name_the_first_definition() {
        let src = "[servers.web]\ndock = \"a\"\n[servers.web]\n";
        let err = toml::de::DeTable::parse(src).err();
        let mut r = Report::new("f.toml", src);
        if let Some(e) = err {
            r.syntax(&e);
        }
        let out = r.finish().to_string();
        assert!(
            out.contains("`[servers.web]` is defined twice (first on line 1)"),
            "{out}"
        );
    }
}
