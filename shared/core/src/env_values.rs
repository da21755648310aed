//! Whether a web service's environment variable *values* changed, without StackDock ever holding
//! one (issue 18): a keyed fingerprint of each value, never the value.
//!
//! - A sync, which may read the secrets the file points to, fingerprints what each declared entry
//!   resolves to now and keeps it on the dock's status ([`EnvFingerprints`], by address).
//! - An apply that sends values records the fingerprints of what it sent in the record's
//!   `applied` baseline under [`ENV_VALUES`] (`NAME@target=<fingerprint>` entries).
//! - The plan compares the two for every entry that exists on both sides: a different
//!   fingerprint is "value changed", none recorded is "set" (StackDock cannot know what the
//!   provider holds, so it sends the value once), no fingerprint of the current value (the
//!   secret could not be read) says nothing. The plan's change names entries only.
//!
//! The fingerprint is a BLAKE3 keyed hash whose key is derived from the entry's scope (dock and
//! address): the same value fingerprints differently in every place, so no table of known
//! values can look one up. It is 128 bits, as hex.

use std::collections::{BTreeMap, BTreeSet};

use crate::FieldValue;
use crate::compact::VecSet;
use crate::plan::FieldChange;
use crate::web_service::split_env_entry;

/// The field of a web service's `applied` baseline holding the fingerprints of the values last
/// sent, and the plan's change that (re)sends values whose names did not change.
pub const ENV_VALUES: &str = "env_values";

/// Fingerprints of the values declared entries resolve to now, by address, then by
/// `NAME@target` entry (what a sync keeps on each dock's status).
pub type EnvFingerprints = BTreeMap<String, BTreeMap<String, String>>;

/// The key-derivation context: changing it changes every fingerprint (each value is sent once).
const CONTEXT: &str = "stackdock 2026-12 web service environment value fingerprint v1";

/// The fingerprint of `value` for `entry` of the resource at `address` on dock `dock_id`.
pub fn fingerprint(dock_id: &str, address: &str, entry: &str, value: &str) -> String {
    let key = blake3::derive_key(CONTEXT, format!("{dock_id}\n{address}").as_bytes());
    let mut hasher = blake3::Hasher::new_keyed(&key);
    hasher.update(entry.as_bytes());
    hasher.update(&[0]);
    hasher.update(value.as_bytes());
    hex::encode(&hasher.finalize().as_bytes()[..16])
}

/// The `applied` value recording `fingerprints` (entry → fingerprint).
pub fn applied_value(fingerprints: &BTreeMap<String, String>) -> FieldValue {
    FieldValue::Set(
        fingerprints
            .iter()
            .map(|(entry, fp)| format!("{entry}={fp}"))
            .collect(),
    )
}

/// The fingerprints an `applied` value records (entry → fingerprint).
pub fn applied_fingerprints(applied: Option<&FieldValue>) -> BTreeMap<String, String> {
    match applied {
        Some(FieldValue::Set(entries)) => entries
            .iter()
            .filter_map(|e| e.split_once('='))
            .map(|(entry, fp)| (entry.to_owned(), fp.to_owned()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The change that sends the values of entries that exist on both sides (`desired` in the file,
/// `actual` at the provider) whose value is known now (`current`) and differs from what was
/// last sent (`applied`), or was never sent by StackDock. `before` holds the entries whose
/// value StackDock knows it changed, `after` every entry whose value will be sent: an entry in
/// `after` only is "set". `None` when there is nothing to send.
pub fn value_change(
    desired: &VecSet<String>,
    actual: &VecSet<String>,
    current: Option<&BTreeMap<String, String>>,
    applied: Option<&FieldValue>,
) -> Option<FieldChange> {
    let current = current?;
    let applied = applied_fingerprints(applied);
    let mut changed = BTreeSet::new();
    let mut send = BTreeSet::new();
    for entry in desired.intersection(actual) {
        let Some(now) = current.get(entry) else {
            continue;
        };
        match applied.get(entry) {
            Some(was) if was == now => {}
            Some(_) => {
                changed.insert(entry.clone());
                send.insert(entry.clone());
            }
            None => {
                send.insert(entry.clone());
            }
        }
    }
    (!send.is_empty()).then(|| FieldChange {
        field: ENV_VALUES.to_owned(),
        before: Some(FieldValue::Set(changed.into_iter().collect())),
        after: Some(FieldValue::Set(send.into_iter().collect())),
    })
}

/// The variable names an update sends again, whole: those whose set of environments changes
/// (the `env` change) and those whose value is (re)sent (the [`ENV_VALUES`] change). An adapter
/// replaces each such variable in every environment the file gives it; the executor records the
/// fingerprints of exactly these.
pub fn resent_names(changes: &[FieldChange]) -> BTreeSet<String> {
    let set = |v: &Option<FieldValue>| {
        v.as_ref()
            .and_then(FieldValue::as_set)
            .cloned()
            .unwrap_or_default()
    };
    let names = |entries: &VecSet<String>| -> BTreeMap<String, BTreeSet<String>> {
        let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for entry in entries {
            if let Some((name, _)) = split_env_entry(entry) {
                by_name
                    .entry(name.to_owned())
                    .or_default()
                    .insert(entry.clone());
            }
        }
        by_name
    };
    let mut out = BTreeSet::new();
    for change in changes {
        match change.field.as_str() {
            "env" => {
                let (had, want) = (names(&set(&change.before)), names(&set(&change.after)));
                out.extend(
                    had.keys()
                        .chain(want.keys())
                        .filter(|k| had.get(*k) != want.get(*k))
                        .cloned(),
                );
            }
            ENV_VALUES => out.extend(names(&set(&change.after)).into_keys()),
            _ => {}
        }
    }
    out
}

/// How an [`ENV_VALUES`] change reads, one line per entry: `API_URL@production: value changed`
/// or `…: set` (StackDock holds no fingerprint of what the provider has).
pub fn describe(change: &FieldChange) -> Vec<String> {
    let entries = |v: &Option<FieldValue>| {
        v.as_ref()
            .and_then(FieldValue::as_set)
            .cloned()
            .unwrap_or_default()
    };
    let changed = entries(&change.before);
    entries(&change.after)
        .into_iter()
        .map(|e| {
            if changed.contains(&e) {
                format!("{e}: value changed")
            } else {
                format!("{e}: set (StackDock cannot know the value the provider holds)")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(entries: &[&str]) -> VecSet<String> {
        entries.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn a_fingerprint_depends_on_the_scope_entry_and_value_and_hides_the_value() {
        let a = fingerprint("acme/web", "web_services.site", "API_URL@production", "v1");
        assert_eq!(a.len(), 32);
        assert!(!a.contains("v1"));
        assert_eq!(
            a,
            fingerprint("acme/web", "web_services.site", "API_URL@production", "v1")
        );
        for other in [
            fingerprint("acme/web", "web_services.site", "API_URL@production", "v2"),
            fingerprint("acme/web", "web_services.site", "API_URL@preview", "v1"),
            fingerprint("acme/web", "web_services.blog", "API_URL@production", "v1"),
            fingerprint(
                "acme/other",
                "web_services.site",
                "API_URL@production",
                "v1",
            ),
            // The separator keeps entry and value apart.
            fingerprint("acme/web", "web_services.site", "API_URL@productionv", "1"),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn only_entries_on_both_sides_with_a_known_value_are_compared() {
        let desired = set(&[
            "A@production",
            "B@production",
            "C@preview",
            "NEW@production",
        ]);
        let actual = set(&["A@production", "B@production", "C@preview", "OLD@preview"]);
        let current: BTreeMap<String, String> = [
            ("A@production", "fa"),
            ("B@production", "fb2"),
            ("C@preview", "fc"),
            ("NEW@production", "fn"),
        ]
        .into_iter()
        .map(|(e, f)| (e.to_owned(), f.to_owned()))
        .collect();
        // A unchanged, B changed, C never sent by StackDock; NEW is the `env` change's.
        let applied = applied_value(
            &[("A@production", "fa"), ("B@production", "fb1")]
                .into_iter()
                .map(|(e, f)| (e.to_owned(), f.to_owned()))
                .collect(),
        );
        let change =
            value_change(&desired, &actual, Some(&current), Some(&applied)).expect("a change");
        assert_eq!(change.before, Some(FieldValue::Set(set(&["B@production"]))));
        assert_eq!(
            change.after,
            Some(FieldValue::Set(set(&["B@production", "C@preview"])))
        );
        assert_eq!(
            describe(&change),
            [
                "B@production: value changed",
                "C@preview: set (StackDock cannot know the value the provider holds)"
            ]
        );
        // Values that cannot be read now say nothing.
        assert_eq!(value_change(&desired, &actual, None, Some(&applied)), None);
        // Once sent, nothing.
        let sent = applied_value(&current);
        assert_eq!(
            value_change(&desired, &actual, Some(&current), Some(&sent)),
            None
        );
    }

    #[test]
    fn resent_names_are_the_names_whose_environments_or_values_change() {
        let env = FieldChange {
            field: "env".into(),
            before: Some(FieldValue::Set(set(&["A@production", "B@production"]))),
            after: Some(FieldValue::Set(set(&[
                "A@production",
                "B@production",
                "B@preview",
                "C@production",
            ]))),
        };
        let values = FieldChange {
            field: ENV_VALUES.into(),
            before: Some(FieldValue::Set(VecSet::new())),
            after: Some(FieldValue::Set(set(&["D@production"]))),
        };
        assert_eq!(
            resent_names(&[env.clone(), values]),
            BTreeSet::from(["B".to_owned(), "C".to_owned(), "D".to_owned()])
        );
        assert_eq!(
            resent_names(&[env]),
            BTreeSet::from(["B".to_owned(), "C".to_owned()])
        );
        assert!(resent_names(&[]).is_empty());
    }
}
