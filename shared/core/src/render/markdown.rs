//! The Markdown renderer: a plan as a pull-request comment (GitHub-flavoured Markdown).
//!
//! A summary table comes first and is never cut; details follow in collapsible `<details>`
//! sections. Every user- or provider-controlled string (names, addresses, ids, reasons, values) is
//! either put in a code span whose fence is longer than any backtick run inside it, or escaped, and
//! control characters become spaces: a hostile resource name cannot inject HTML, close a section,
//! start a heading or break the table.
//!
//! # Guarantees
//! - The output is at most [`MAX_MARKDOWN_CHARS`] bytes (so at most that many characters): when the
//!   details do not fit, whole actions are left out from the end and a note says how many and how
//!   to see them all.
//! - Unmanaged resources are counts per dock and kind, with the command that lists them: a real
//!   account holds hundreds, and the comment is for the changes.

use std::fmt::Write as _;

use crate::FieldValue;
use crate::plan::{Action, ActionKind, DockChangeKind, Plan};

use super::section::{self, Section};

/// Upper bound on the rendered comment (GitHub rejects comments over 65,536 characters).
pub const MAX_MARKDOWN_CHARS: usize = 60_000;

/// Room kept for the truncation note and the closing of the section being cut.
const RESERVE: usize = 600;

const CLOSE: &str = "\n</details>\n\n";

/// Renders `plan` as a pull-request comment of at most [`MAX_MARKDOWN_CHARS`] bytes.
pub fn render(plan: &Plan) -> String {
    let mut out = head(plan);
    let budget = MAX_MARKDOWN_CHARS.saturating_sub(RESERVE);
    let mut left_out = 0;
    let mut full = false;
    for (section, actions) in Section::split(plan) {
        if actions.is_empty() {
            continue;
        }
        if full {
            left_out += actions.len();
            continue;
        }
        let total = actions.len();
        if section == Section::Unmanaged {
            // Counts, not a list: a real account holds hundreds (`plan --show-unmanaged` lists them).
            let (listed, counted) = section::unmanaged_split(&actions);
            let mut body: String = listed.into_iter().map(item).collect();
            if !counted.is_empty() {
                body.push_str("- In no entry of `stackdock.toml`:\n");
                for (dock, counts) in section::unmanaged_counts(&counted) {
                    let _ = writeln!(body, "  - {}: {}", code(&dock), escape(&counts));
                }
                let _ = writeln!(body, "\nList them: `{}`", section::UNMANAGED_HINT);
            }
            if out.len() + body.len() + 200 <= budget {
                out.push_str(&opener(section, total, total));
                out.push_str(&body);
                out.push_str(CLOSE);
            } else {
                full = true;
                left_out += total;
            }
            continue;
        }
        // The opener is written after its items (it says how many are shown): budget for its
        // longest form.
        let opener_room = opener(section, total, total.saturating_sub(1)).len();
        let mut body = String::new();
        let mut shown = 0;
        for a in actions {
            let item = item(a);
            if out.len() + opener_room + body.len() + item.len() + CLOSE.len() > budget {
                full = true;
                break;
            }
            body.push_str(&item);
            shown += 1;
        }
        left_out += total - shown;
        if shown > 0 {
            out.push_str(&opener(section, total, shown));
            out.push_str(&body);
            out.push_str(CLOSE);
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> {left_out} action{} left out of this comment to keep it under {MAX_MARKDOWN_CHARS} characters. \
             Run `stackdock plan --format text` to see them all.",
            if left_out == 1 { " was" } else { "s were" }
        );
    }
    out
}

/// Heading, summary table and digest: always rendered in full.
fn head(plan: &Plan) -> String {
    let mut out = format!("## StackDock plan for {}\n\n", code(&plan.org));
    dock_changes(&mut out, plan);
    if section::is_quiet(plan) {
        if plan.dock_changes.is_empty() {
            out.push_str("**No changes.** Your infrastructure matches `stackdock.toml`.\n\n");
        } else {
            out.push_str("**No resource changes.** Only the docks above change.\n\n");
        }
    }
    let rows: Vec<(ActionKind, usize)> = section::counts(plan)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    if !rows.is_empty() {
        out.push_str("| Action | Count |\n| --- | ---: |\n");
        for (kind, n) in rows {
            let _ = writeln!(out, "| `{}` {} | {n} |", kind.symbol(), kind.as_str());
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Plan digest: {}\n", code(&plan.digest));
    out
}

/// A proposal's dock changes, above everything else: they decide where provider tokens go.
fn dock_changes(out: &mut String, plan: &Plan) {
    if plan.dock_changes.is_empty() {
        return;
    }
    let n = plan.dock_changes.len();
    let _ = writeln!(
        out,
        "> [!IMPORTANT]\n> **This proposal changes {n} dock{}.** A dock's endpoint and credentials decide where \
         StackDock sends provider tokens: review these first.\n",
        if n == 1 { "" } else { "s" }
    );
    for d in &plan.dock_changes {
        let what = match d.change {
            DockChangeKind::Added => "new dock",
            DockChangeKind::Changed => "dock",
            DockChangeKind::Removed => "removed dock",
        };
        let _ = writeln!(
            out,
            "- `{}` {what} {} ({})",
            d.change.symbol(),
            code(&d.dock),
            d.provider
        );
        for s in &d.settings {
            let shown =
                |v: &Option<String>| v.as_deref().map_or_else(|| "_(none)_".to_owned(), code);
            let _ = match d.change {
                DockChangeKind::Added => {
                    writeln!(out, "  - {} = {}", s.setting, shown(&s.proposed))
                }
                DockChangeKind::Removed => {
                    writeln!(out, "  - {} was {}", s.setting, shown(&s.deployed))
                }
                DockChangeKind::Changed => writeln!(
                    out,
                    "  - {}: {} → {}",
                    s.setting,
                    shown(&s.deployed),
                    shown(&s.proposed)
                ),
            };
        }
    }
    out.push('\n');
}

fn opener(section: Section, total: usize, shown: usize) -> String {
    let count = if shown < total {
        format!("{total}, {shown} shown")
    } else {
        total.to_string()
    };
    let note = section.note().map_or(String::new(), |n| format!(": {n}"));
    format!(
        "<details><summary>{} ({count}){note}</summary>\n\n",
        section.name()
    )
}

/// One action as a list item, with its field changes as a nested list.
fn item(a: &Action) -> String {
    let mut out = format!(
        "- `{}` {} {}",
        a.action.symbol(),
        section::verb(a.action),
        code(&section::subject(a))
    );
    if a.action == ActionKind::Blocked {
        let _ = write!(out, " ({})", a.provider);
    } else {
        let _ = write!(out, " on dock {} ({})", code(&a.dock), a.provider);
    }
    if let Some(id) = &a.provider_id {
        let _ = write!(out, ", id {}", code(id));
    }
    if a.action.is_change() && !a.allowed {
        let _ = write!(out, ": **will not be applied:** {}", escape(&a.reason));
    } else {
        let _ = write!(out, ": {}", escape(&a.reason));
    }
    out.push('\n');
    let creating = matches!(a.action, ActionKind::Create | ActionKind::Recreate);
    for c in &a.changes {
        if let Some(lines) = section::entry_lines(c) {
            for line in lines {
                let _ = writeln!(out, "  - {}", code(&line));
            }
            continue;
        }
        if creating && c.before.is_none() {
            let _ = writeln!(out, "  - {} = {}", code(&c.field), value(c.after.as_ref()));
        } else {
            let _ = writeln!(
                out,
                "  - {}: {} → {}",
                code(&c.field),
                value(c.before.as_ref()),
                value(c.after.as_ref())
            );
        }
    }
    if !a.depends_on.is_empty() {
        let deps: Vec<String> = a.depends_on.iter().map(|d| code(d)).collect();
        let _ = writeln!(out, "  - after {}", deps.join(", "));
    }
    out
}

fn value(v: Option<&FieldValue>) -> String {
    v.map_or_else(|| "_(none)_".to_owned(), |v| code(&v.to_string()))
}

/// `s` as an inline code span: nothing inside is interpreted (no HTML, links, emphasis or
/// mentions). The fence is one backtick longer than the longest run inside, and padded with a space
/// when the content starts or ends with a backtick, as CommonMark requires. Code spans are only
/// used outside tables (a `|` inside would split a cell).
fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Escapes free text (a reason): HTML-significant characters become entities, Markdown punctuation
/// is backslash-escaped and control characters (newlines included) become spaces, so the text stays
/// one plain line of its list item.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("web-1"), "`web-1`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b\nc"), "`a|b c`");
    }

    #[test]
    fn free_text_cannot_open_html_or_break_lines() {
        assert_eq!(
            escape("<script>x</script> *a*\n# h"),
            "&lt;script&gt;x&lt;/script&gt; \\*a\\* \\# h"
        );
    }
}
