//! The plan: an immutable value saying exactly what apply will do, computed purely from the desired
//! state, the stored inventory and each dock's sync status.
//!
//! # Guarantees
//! - Pure and deterministic: no clock, no I/O; the same inputs give byte-identical JSON and digest,
//!   whatever the order of the inventory.
//! - Every safety rule of the design holds for every plan (see `diff.rs`).
//! - Specific enough that execution makes no decisions: each change carries the full spec it needs.

mod diff;
pub(crate) mod digest;
mod dns;
mod docks;
mod order;
mod per_dock;

use serde::{Deserialize, Serialize};

pub use diff::{plan, plan_checked};
pub use digest::{StaleReason, compare};
pub use dns::{DnsFacts, ServerAddress};
pub use docks::{DockChange, DockChangeKind, DockSettingChange, dock_changes};
pub use per_dock::{DockFacts, DockPlan, PlanContext, combine, dock_facts, merge_facts, plan_dock};

use crate::{CompactString, FieldValue, Kind, ProviderKind, VecMap};

/// Version of the plan's JSON form.
pub const FORMAT_VERSION: u32 = 1;

/// What a dock's last sync says about whether its inventory can be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DockState {
    /// A complete listing is recent enough to plan against.
    Fresh,
    /// Never listed completely.
    NeverSynced,
    /// The last sync failed; carries its error (free of secrets).
    Failed { error: String },
    /// The last complete listing is older than the allowed age.
    Stale { last_sync_at: String },
}

/// The kind of a planned action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Create,
    Update,
    Replace,
    Adopt,
    Delete,
    Recreate,
    Drift,
    Unmanaged,
    Blocked,
    Error,
}

impl ActionKind {
    /// Whether apply performs this action (as opposed to reporting it).
    pub fn is_change(self) -> bool {
        matches!(
            self,
            ActionKind::Create
                | ActionKind::Update
                | ActionKind::Replace
                | ActionKind::Adopt
                | ActionKind::Delete
                | ActionKind::Recreate
        )
    }

    /// Terraform-like symbol for the text renderer.
    pub fn symbol(self) -> &'static str {
        match self {
            ActionKind::Create | ActionKind::Recreate => "+",
            ActionKind::Update => "~",
            ActionKind::Replace => "-/+",
            ActionKind::Adopt => "<=",
            ActionKind::Delete => "-",
            ActionKind::Drift => "!",
            ActionKind::Unmanaged => "?",
            ActionKind::Blocked => "#",
            ActionKind::Error => "x",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Replace => "replace",
            ActionKind::Adopt => "adopt",
            ActionKind::Delete => "delete",
            ActionKind::Recreate => "recreate",
            ActionKind::Drift => "drift",
            ActionKind::Unmanaged => "unmanaged",
            ActionKind::Blocked => "blocked",
            ActionKind::Error => "error",
        }
    }
}

/// One field's before and after.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<FieldValue>,
    pub after: Option<FieldValue>,
}

/// Everything apply needs to create (or converge) one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceSpec {
    pub name: String,
    /// The ownership tag apply writes and looks for after a crash.
    pub owner_tag: String,
    /// Desired kind-specific fields as written in the file.
    pub fields: VecMap<CompactString, FieldValue>,
    pub protect: bool,
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub action: ActionKind,
    /// `servers.web-1`; `None` for a resource in no entry (unmanaged) or a whole dock (blocked).
    pub address: Option<String>,
    /// Dock name.
    pub dock: String,
    pub provider: ProviderKind,
    pub kind: Option<Kind>,
    /// Label at the provider.
    pub name: Option<String>,
    /// Provider id of the resource acted on (`None` for a create).
    pub provider_id: Option<String>,
    pub changes: Vec<FieldChange>,
    /// Why, in one sentence a reviewer can act on.
    pub reason: String,
    /// For create, recreate, replace and update: what to converge to.
    pub spec: Option<ResourceSpec>,
    /// Addresses whose changes must complete first.
    pub depends_on: Vec<String>,
    /// `false` for a change the plan shows but apply must skip (a replace without
    /// `allow_replace`); always `true` for other changes.
    pub allowed: bool,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub adopt: usize,
    pub delete: usize,
    pub recreate: usize,
    pub drift: usize,
    pub unmanaged: usize,
    pub blocked: usize,
    pub error: usize,
}

impl Summary {
    pub fn of(actions: &[Action]) -> Summary {
        let mut s = Summary::default();
        for a in actions {
            let slot = match a.action {
                ActionKind::Create => &mut s.create,
                ActionKind::Update => &mut s.update,
                ActionKind::Replace => &mut s.replace,
                ActionKind::Adopt => &mut s.adopt,
                ActionKind::Delete => &mut s.delete,
                ActionKind::Recreate => &mut s.recreate,
                ActionKind::Drift => &mut s.drift,
                ActionKind::Unmanaged => &mut s.unmanaged,
                ActionKind::Blocked => &mut s.blocked,
                ActionKind::Error => &mut s.error,
            };
            *slot += 1;
        }
        s
    }

    /// Number of changes apply would make.
    pub fn changes(&self) -> usize {
        self.create + self.update + self.replace + self.adopt + self.delete + self.recreate
    }
}

/// The result of planning: intended changes in execution order, then drift, unmanaged resources,
/// blocked docks and errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub org: String,
    /// Digest of the desired state.
    pub config_digest: String,
    /// Digest of the inventory the plan was computed against.
    pub inventory_digest: String,
    /// Digest of the whole plan: apply given a digest refuses if the current plan differs.
    pub digest: String,
    pub summary: Summary,
    /// What a proposal (`POST /v1/plan`) changes in the docks themselves, shown first by every
    /// renderer. Empty (and left out of the JSON) for the deployed config's own plan. Not part of
    /// `digest`: it is derived from the config, which `config_digest` already covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dock_changes: Vec<DockChange>,
    pub actions: Vec<Action>,
}

impl Plan {
    /// Actions apply performs, in order.
    pub fn changes(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.action.is_change())
    }

    pub fn of_kind(&self, kind: ActionKind) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(move |a| a.action == kind)
    }

    /// Whether there is anything to apply.
    pub fn has_changes(&self) -> bool {
        self.summary.changes() > 0
    }
}
