//! Execution order: adoptions first, then creates and updates in dependency order (servers before
//! volumes, which attach to them), deletes last in reverse; reports after the changes.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use crate::Kind;
use crate::config::address;

use super::{Action, ActionKind};

/// Sorts actions into their deterministic execution order.
pub(super) fn sort(actions: &mut [Action]) {
    actions.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Sort key: phase, dependency rank (reversed for deletes), then identity for a total order.
type SortKey<'a> = (
    u8,
    usize,
    Reverse<usize>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn key(a: &Action) -> SortKey<'_> {
    let rank = a.kind.map_or(usize::MAX, Kind::rank);
    let phase = match a.action {
        ActionKind::Adopt => 0,
        ActionKind::Create | ActionKind::Recreate | ActionKind::Update | ActionKind::Replace => 1,
        ActionKind::Delete => 2,
        ActionKind::Drift => 3,
        ActionKind::Unmanaged => 4,
        ActionKind::Blocked => 5,
        ActionKind::Error => 6,
    };
    // Deletes run in reverse dependency order: volumes go before the servers they attach to.
    let (forward, reverse) = if phase == 2 { (0, rank) } else { (rank, 0) };
    (
        phase,
        forward,
        Reverse(reverse),
        a.dock.as_str(),
        a.address.as_deref(),
        a.name.as_deref(),
        a.provider_id.as_deref(),
    )
}

/// The fields of a spec that name another entry: a volume's `attach_to` and a DNS record's
/// `server` name a server, a record's `zone` its zone.
const REFERENCES: [(&str, Kind); 3] = [
    ("attach_to", Kind::Servers),
    ("server", Kind::Servers),
    ("zone", Kind::Domains),
];

/// Fills `depends_on`: a change that names an entry being created, recreated or replaced (a volume
/// attached to a new server, a record in a new zone or following a new server) waits for it.
pub(super) fn link_dependencies(actions: &mut [Action]) {
    let coming: BTreeSet<String> = actions
        .iter()
        // A replace that apply will skip (not allowed) is nothing to wait for.
        .filter(|a| {
            a.allowed
                && matches!(
                    a.action,
                    ActionKind::Create | ActionKind::Recreate | ActionKind::Replace
                )
        })
        .filter_map(|a| a.address.clone())
        .collect();
    for a in actions.iter_mut().filter(|a| a.action.is_change()) {
        let Some(spec) = &a.spec else { continue };
        for (field, kind) in REFERENCES {
            let Some(name) = spec.fields.get(field).and_then(|v| v.as_str()) else {
                continue;
            };
            let target = address(kind, name);
            if coming.contains(&target) && !a.depends_on.contains(&target) {
                a.depends_on.push(target);
            }
        }
    }
}
