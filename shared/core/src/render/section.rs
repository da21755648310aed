//! Sections: the groups every human-facing renderer shows a plan in (intended changes, drift,
//! unmanaged resources, blocked docks, errors), so text and Markdown always agree.

use crate::plan::{Action, ActionKind, Plan};

/// One group of a rendered plan, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// Create, update, replace, adopt, delete, recreate: what apply does.
    Changes,
    /// Changed outside StackDock since it was last applied.
    Drift,
    /// Resources in no entry: reported, never touched.
    Unmanaged,
    /// Docks whose inventory cannot be trusted: nothing planned for them.
    Blocked,
    /// Unsatisfiable entries.
    Errors,
}

impl Section {
    /// Every section, in display order.
    pub const ALL: [Section; 5] = [
        Section::Changes,
        Section::Drift,
        Section::Unmanaged,
        Section::Blocked,
        Section::Errors,
    ];

    /// The section an action is shown in.
    pub fn of(kind: ActionKind) -> Section {
        match kind {
            ActionKind::Create
            | ActionKind::Update
            | ActionKind::Replace
            | ActionKind::Adopt
            | ActionKind::Delete
            | ActionKind::Recreate => Section::Changes,
            ActionKind::Drift => Section::Drift,
            ActionKind::Unmanaged => Section::Unmanaged,
            ActionKind::Blocked => Section::Blocked,
            ActionKind::Error => Section::Errors,
        }
    }

    /// Short name of the section.
    pub fn name(self) -> &'static str {
        match self {
            Section::Changes => "Changes",
            Section::Drift => "Drift",
            Section::Unmanaged => "Unmanaged",
            Section::Blocked => "Blocked docks",
            Section::Errors => "Errors",
        }
    }

    /// What the section means, where the name alone does not say.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Section::Drift => Some("changed outside StackDock"),
            Section::Unmanaged => Some("reported, never touched"),
            Section::Blocked => Some("nothing planned for them"),
            Section::Changes | Section::Errors => None,
        }
    }

    /// Heading shown above the section: `Drift (changed outside StackDock)`.
    pub fn title(self) -> String {
        match self.note() {
            Some(note) => format!("{} ({note})", self.name()),
            None => self.name().to_owned(),
        }
    }

    /// The plan's actions split by section, each in the plan's order; empty sections included.
    pub fn split(plan: &Plan) -> [(Section, Vec<&Action>); 5] {
        Section::ALL.map(|section| {
            let actions = plan
                .actions
                .iter()
                .filter(|a| Section::of(a.action) == section)
                .collect();
            (section, actions)
        })
    }
}

/// Where the full list of unmanaged resources is, said under their counts.
pub(crate) const UNMANAGED_HINT: &str =
    "stackdock plan --show-unmanaged (or stackdock inventory --unmanaged)";

/// Unmanaged resources split into those shown one by one (removed from the file but kept, with the
/// reason: the reviewer's own edit) and those only counted (in no entry, ever).
pub(crate) fn unmanaged_split<'p>(actions: &[&'p Action]) -> (Vec<&'p Action>, Vec<&'p Action>) {
    actions.iter().partition(|a| a.address.is_some())
}

/// The unmanaged resources as counts per dock and kind, e.g. `("vultr-main", "5 servers, 2 block
/// volumes")`, docks in name order and kinds in dependency order: a real account holds hundreds,
/// and a plan that lists each one buries its changes.
pub(crate) fn unmanaged_counts(actions: &[&Action]) -> Vec<(String, String)> {
    let mut by_dock: std::collections::BTreeMap<
        &str,
        std::collections::BTreeMap<Option<crate::Kind>, usize>,
    > = std::collections::BTreeMap::new();
    for a in actions {
        *by_dock
            .entry(a.dock.as_str())
            .or_default()
            .entry(a.kind)
            .or_default() += 1;
    }
    by_dock
        .into_iter()
        .map(|(dock, kinds)| {
            let mut kinds: Vec<(Option<crate::Kind>, usize)> = kinds.into_iter().collect();
            kinds.sort_by_key(|(k, _)| k.map_or(usize::MAX, crate::Kind::rank));
            let parts: Vec<String> = kinds
                .into_iter()
                .map(|(kind, n)| {
                    let noun = kind.map_or("resource", crate::Kind::noun);
                    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
                })
                .collect();
            (dock.to_owned(), parts.join(", "))
        })
        .collect()
}

/// Whether a plan has nothing to apply, no drift, no blocked dock and no error: only then may a
/// renderer say the infrastructure matches the file. A blocked dock counts, because nothing could
/// be compared for it.
pub(crate) fn is_quiet(plan: &Plan) -> bool {
    let s = &plan.summary;
    s.changes() == 0 && s.drift == 0 && s.blocked == 0 && s.error == 0
}

/// The word shown after an action's symbol.
pub(crate) fn verb(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Blocked => "blocked dock",
        other => other.as_str(),
    }
}

/// Label shown for an action's subject: its address, or `dock/kind/name` for a resource in no entry
/// (unmanaged), or the dock's name for a blocked dock.
pub(crate) fn subject(a: &Action) -> String {
    match (a.action, &a.address) {
        (ActionKind::Blocked, _) => a.dock.clone(),
        (ActionKind::Unmanaged, _) | (_, None) => {
            let kind = a.kind.map_or("?", |k| k.config_key());
            let name = a.name.as_deref().unwrap_or("?");
            format!("{}/{kind}/{name}", a.dock)
        }
        (_, Some(address)) => address.clone(),
    }
}

/// The summary's counts as `(kind, count)` in the summary line's order.
pub(crate) fn counts(plan: &Plan) -> [(ActionKind, usize); 10] {
    let s = &plan.summary;
    [
        (ActionKind::Create, s.create),
        (ActionKind::Update, s.update),
        (ActionKind::Replace, s.replace),
        (ActionKind::Adopt, s.adopt),
        (ActionKind::Delete, s.delete),
        (ActionKind::Recreate, s.recreate),
        (ActionKind::Drift, s.drift),
        (ActionKind::Unmanaged, s.unmanaged),
        (ActionKind::Blocked, s.blocked),
        (ActionKind::Error, s.error),
    ]
}

/// A web service's environment change, one line per entry, since a set of `NAME@target` entries
/// before and after reads badly: `+ env API_URL@production`, `- env OLD@preview`, and for the
/// values (`crate::env_values`) `~ env API_URL@production: value changed` or `…: set`. `None`
/// for every other field. Never a value: the entries are names.
pub(crate) fn entry_lines(c: &crate::plan::FieldChange) -> Option<Vec<String>> {
    let set = |v: &Option<crate::FieldValue>| {
        v.as_ref()
            .and_then(crate::FieldValue::as_set)
            .cloned()
            .unwrap_or_default()
    };
    match c.field.as_str() {
        "env" => {
            let (before, after) = (set(&c.before), set(&c.after));
            let mut lines: Vec<String> = after
                .difference(&before)
                .map(|e| format!("+ env {e}"))
                .collect();
            lines.extend(before.difference(&after).map(|e| format!("- env {e}")));
            Some(lines)
        }
        crate::env_values::ENV_VALUES => Some(
            crate::env_values::describe(c)
                .into_iter()
                .map(|line| format!("~ env {line}"))
                .collect(),
        ),
        _ => None,
    }
}
