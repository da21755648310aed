//! The terminal renderer: a Terraform-like listing of a plan, optionally coloured with ANSI codes.
//!
//! Whether to colour is the caller's decision ([`use_color`] turns the TTY check, `--no-color` and
//! `NO_COLOR` into one boolean); this module never looks at the terminal or the environment.
//! Provider-controlled strings (names, ids, reasons) are stripped of control characters, so a
//! hostile resource name cannot move the cursor or recolour the terminal.

use std::fmt::Write as _;

use crate::FieldValue;
use crate::plan::{Action, ActionKind, DockChangeKind, FieldChange, Plan};

use super::section::{self, Section};

/// How to render text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Emit ANSI colour codes.
    pub color: bool,
    /// List every unmanaged resource instead of their counts per dock and kind.
    pub show_unmanaged: bool,
}

/// Whether to colour terminal output: only on a TTY, without `--no-color`, and without a non-empty
/// `NO_COLOR` environment variable (<https://no-color.org>).
pub fn use_color(is_tty: bool, no_color_flag: bool, no_color_env: Option<&str>) -> bool {
    is_tty && !no_color_flag && no_color_env.is_none_or(str::is_empty)
}

/// An ANSI style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Green,
    Yellow,
    Red,
    Magenta,
    Cyan,
    Dim,
    Bold,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Green => "\x1b[32m",
            Style::Yellow => "\x1b[33m",
            Style::Red => "\x1b[31m",
            Style::Magenta => "\x1b[35m",
            Style::Cyan => "\x1b[36m",
            Style::Dim => "\x1b[2m",
            Style::Bold => "\x1b[1m",
        }
    }

    fn of(kind: ActionKind) -> Style {
        match kind {
            ActionKind::Create | ActionKind::Recreate => Style::Green,
            ActionKind::Update | ActionKind::Blocked => Style::Yellow,
            ActionKind::Replace | ActionKind::Delete | ActionKind::Error => Style::Red,
            ActionKind::Drift => Style::Magenta,
            ActionKind::Adopt => Style::Cyan,
            ActionKind::Unmanaged => Style::Dim,
        }
    }
}

const RESET: &str = "\x1b[0m";

/// Writes with or without colour.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{RESET}", style.code())
        } else {
            text.to_owned()
        }
    }
}

/// Renders `plan` for a terminal.
///
/// # Guarantees
/// - Without `opts.color` the output contains no escape sequence at all.
/// - Intended changes come first in the plan's (execution) order, then drift, unmanaged resources,
///   blocked docks and errors; a summary line (or "No changes…") ends the output.
/// - Unmanaged resources are counts per dock and kind unless `opts.show_unmanaged`.
pub fn render(plan: &Plan, opts: &TextOptions) -> String {
    let p = Painter { color: opts.color };
    let mut out = String::new();
    dock_changes(&mut out, &p, plan);
    for (section, actions) in Section::split(plan) {
        if actions.is_empty() {
            continue;
        }
        let heading = match section {
            Section::Changes => "StackDock will perform these actions:".to_owned(),
            other => other.title(),
        };
        if section == Section::Unmanaged && !opts.show_unmanaged {
            let heading = format!("{heading}: {}", actions.len());
            let _ = writeln!(out, "{}\n", p.paint(Style::Bold, &heading));
            let (listed, counted) = section::unmanaged_split(&actions);
            for a in listed {
                action(&mut out, &p, a);
                out.push('\n');
            }
            if !counted.is_empty() {
                out.push_str("  In no entry of stackdock.toml:\n");
                for (dock, counts) in section::unmanaged_counts(&counted) {
                    let _ = writeln!(out, "    {}: {counts}", clean(&dock));
                }
                let _ = writeln!(out, "  List them: {}\n", section::UNMANAGED_HINT);
            }
            continue;
        }
        let _ = writeln!(out, "{}\n", p.paint(Style::Bold, &heading));
        for a in actions {
            action(&mut out, &p, a);
            out.push('\n');
        }
    }
    if section::is_quiet(plan) {
        out.push_str(&p.paint(
            Style::Green,
            if plan.dock_changes.is_empty() {
                "No changes. Your infrastructure matches stackdock.toml."
            } else {
                "No resource changes. Only the docks above change."
            },
        ));
        out.push('\n');
        if plan.summary.unmanaged > 0 {
            let _ = writeln!(
                out,
                "Unmanaged: {} (reported above, never touched).",
                plan.summary.unmanaged
            );
        }
    } else {
        out.push_str(&summary_line(plan));
        out.push('\n');
    }
    out
}

/// A proposal's dock changes, first: they decide where provider tokens go.
fn dock_changes(out: &mut String, p: &Painter, plan: &Plan) {
    if plan.dock_changes.is_empty() {
        return;
    }
    let n = plan.dock_changes.len();
    let heading = format!(
        "This proposal changes {n} dock{} (where StackDock sends provider tokens):",
        if n == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "{}\n", p.paint(Style::Bold, &heading));
    for d in &plan.dock_changes {
        let (style, what) = match d.change {
            DockChangeKind::Added => (Style::Green, "new dock"),
            DockChangeKind::Changed => (Style::Yellow, "dock"),
            DockChangeKind::Removed => (Style::Red, "removed dock"),
        };
        let head = format!("{:>3} {what} {}", d.change.symbol(), clean(&d.dock));
        let _ = writeln!(out, "{} ({})", p.paint(style, &head), d.provider);
        let width = d
            .settings
            .iter()
            .map(|s| s.setting.len())
            .max()
            .unwrap_or(0);
        for s in &d.settings {
            let shown = |v: &Option<String>| {
                v.as_deref()
                    .map_or_else(|| "(none)".to_owned(), |v| format!("{:?}", clean(v)))
            };
            let line = match d.change {
                DockChangeKind::Added => format!("{:<width$} = {}", s.setting, shown(&s.proposed)),
                DockChangeKind::Removed => {
                    format!("{:<width$} = {}", s.setting, shown(&s.deployed))
                }
                DockChangeKind::Changed => format!(
                    "{:<w$} {} -> {}",
                    format!("{}:", s.setting),
                    shown(&s.deployed),
                    shown(&s.proposed),
                    w = width + 1
                ),
            };
            let _ = writeln!(out, "        {line}");
        }
        out.push('\n');
    }
}

/// `Plan: 2 to create, … Errors: 0.`
pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    format!(
        "Plan: {} to create, {} to update, {} to replace, {} to adopt, {} to delete, {} to recreate. \
         Drift: {}. Unmanaged: {}. Blocked docks: {}. Errors: {}.",
        s.create,
        s.update,
        s.replace,
        s.adopt,
        s.delete,
        s.recreate,
        s.drift,
        s.unmanaged,
        s.blocked,
        s.error
    )
}

fn action(out: &mut String, p: &Painter, a: &Action) {
    let style = Style::of(a.action);
    let symbol = format!("{:>3}", a.action.symbol());
    let subject = clean(&section::subject(a));
    let mut place = format!("dock {}, {}", clean(&a.dock), a.provider);
    if a.action == ActionKind::Blocked {
        place = a.provider.to_string();
    }
    if let Some(id) = &a.provider_id {
        let _ = write!(place, ", id {}", clean(id));
    }
    let head = format!("{symbol} {} {subject}", section::verb(a.action));
    let _ = writeln!(out, "{} ({place})", p.paint(style, &head));
    let reason = clean(&a.reason);
    if a.action.is_change() && !a.allowed {
        let _ = writeln!(
            out,
            "      {}",
            p.paint(Style::Red, &format!("(will not be applied: {reason})"))
        );
    } else {
        let _ = writeln!(out, "      {reason}");
    }
    let creating = matches!(a.action, ActionKind::Create | ActionKind::Recreate);
    let width = a.changes.iter().map(|c| c.field.len()).max().unwrap_or(0);
    for c in &a.changes {
        if let Some(lines) = section::entry_lines(c) {
            for line in lines {
                let _ = writeln!(out, "        {}", clean(&line));
            }
            continue;
        }
        let line = if creating && c.before.is_none() {
            format!("{:<width$} = {}", clean(&c.field), value(c.after.as_ref()))
        } else {
            change(c, width)
        };
        let _ = writeln!(out, "        {line}");
    }
    if !a.depends_on.is_empty() {
        let deps: Vec<String> = a.depends_on.iter().map(|d| clean(d)).collect();
        let _ = writeln!(out, "        (after {})", deps.join(", "));
    }
}

fn change(c: &FieldChange, width: usize) -> String {
    let field = format!("{}:", clean(&c.field));
    format!(
        "{field:<w$} {} -> {}",
        value(c.before.as_ref()),
        value(c.after.as_ref()),
        w = width + 1
    )
}

/// A field value as shown: strings quoted (control characters escaped by `Debug`), absent values
/// as `(none)`.
fn value(v: Option<&FieldValue>) -> String {
    v.map_or_else(|| "(none)".to_owned(), ToString::to_string)
}

/// Replaces control characters (escape, newline, carriage return, …) so a user- or
/// provider-controlled string stays on its line and cannot send terminal escape sequences.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_tty_without_opt_outs() {
        let cases = [
            // (is_tty, --no-color, NO_COLOR, expected)
            (true, false, None, true),
            (false, false, None, false),
            (true, true, None, false),
            (true, false, Some("1"), false),
            (true, false, Some("false"), false),
            (true, false, Some(""), true),
            (false, true, Some("1"), false),
        ];
        for (tty, flag, env, want) in cases {
            assert_eq!(use_color(tty, flag, env), want, "{tty} {flag} {env:?}");
        }
    }

    #[test]
    fn control_characters_are_neutralised() {
        assert_eq!(clean("a\x1b[31mb\nc"), "a\u{FFFD}[31mb\u{FFFD}c");
    }
}
