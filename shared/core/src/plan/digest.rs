//! Digests: of the inventory a plan was computed against, of the plan itself, and the comparison
//! that tells a user what changed when a saved plan no longer matches.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::io::{BufWriter, Write as _};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Record;

use super::{Action, Plan};

/// One record's line of the inventory digest, hashed: identity, observed content and
/// bookkeeping; `updatedAt` is left out, so an unchanged re-sync does not invalidate a saved plan.
/// Docks planned apart hash their own records, and [`digest_of_lines`] of all their lines is the
/// digest of the inventory the plan saw. `line` is a buffer for the text, reused record to record.
pub(super) fn record_line(line: &mut Vec<u8>, r: &Record) -> [u8; 32] {
    // Each record's line is hashed on its own, and the digest is taken over those fixed-size line
    // hashes in sorted order: the result does not depend on the inventory's order, and sorting
    // 32-byte arrays in one contiguous vector stays cheap at 100,000 records (sorting the records
    // or their lines chases a pointer per comparison).
    line.clear();
    // Writing to a Vec cannot fail; `applied` is a map of plain values that always serializes.
    let _ = write!(
        line,
        "{}\t{}\t{}\t{}\t{}\t{:?}\t{}\t{}\t",
        r.dock_id,
        r.kind().table(),
        r.provider_resource_id,
        r.content_hash,
        r.managed_by.as_deref().unwrap_or(""),
        r.provisioning_source,
        r.protect,
        r.missing_since.is_some(),
    );
    let _ = serde_json::to_writer(&mut *line, &r.applied);
    Sha256::digest(&line).into()
}

/// The inventory digest of the records whose lines these are (each dock's lines apart, the docks
/// and the lines in any order).
pub(super) fn digest_of_lines(mut parts: Vec<Vec<[u8; 32]>>) -> String {
    // Each dock's lines are sorted in place and merged while hashing: the same order, so the same
    // digest, as sorting every line in one vector, without that vector (3 MiB at 100,000 records,
    // allocated while every dock's lines were still held: the plan's peak).
    for lines in &mut parts {
        lines.sort_unstable();
    }
    let mut heads: BinaryHeap<Reverse<([u8; 32], usize, usize)>> = parts
        .iter()
        .enumerate()
        .filter_map(|(part, lines)| lines.first().map(|line| Reverse((*line, part, 0))))
        .collect();
    let mut h = Sha256::new();
    while let Some(Reverse((line, part, at))) = heads.pop() {
        h.update(line);
        if let Some(next) = parts[part].get(at + 1) {
            heads.push(Reverse((*next, part, at + 1)));
        }
    }
    hex::encode(h.finalize())
}

pub(super) fn plan_digest(
    config_digest: &str,
    inventory_digest: &str,
    actions: &[Action],
) -> String {
    let mut h = Sha256::new();
    h.update(config_digest.as_bytes());
    h.update(b"\n");
    h.update(inventory_digest.as_bytes());
    h.update(b"\n");
    hash_json(&mut h, actions);
    hex::encode(h.finalize())
}

/// Feeds `value`'s compact JSON to `h` as it is written, the same bytes `serde_json::to_vec`
/// gives, without the whole text in memory: at 100,000 resources that text is tens of MB, and
/// growing it (copies, fresh pages) was about a tenth of the plan (perf).
pub(crate) fn hash_json(h: &mut Sha256, value: &(impl Serialize + ?Sized)) {
    let mut out = BufWriter::with_capacity(16 * 1024, h);
    // Writing into a hasher cannot fail, and our values (string-keyed maps, plain data) always
    // serialize, so there is no error to report here.
    let _ = serde_json::to_writer(&mut out, value);
    let _ = out.flush();
}

/// One reason a saved plan no longer matches the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleReason {
    /// stackdock.toml changed.
    ConfigChanged,
    /// The inventory changed (a sync saw something different, or an apply ran).
    InventoryChanged,
    /// The current plan has an action the saved one has not.
    ActionAdded(String),
    /// The saved plan has an action the current one has not.
    ActionRemoved(String),
    /// The same action now has different details.
    ActionChanged(String),
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaleReason::ConfigChanged => {
                f.write_str("stackdock.toml changed since the plan was made")
            }
            StaleReason::InventoryChanged => {
                f.write_str("the inventory changed since the plan was made")
            }
            StaleReason::ActionAdded(a) => write!(f, "now also planned: {a}"),
            StaleReason::ActionRemoved(a) => write!(f, "no longer planned: {a}"),
            StaleReason::ActionChanged(a) => write!(f, "planned differently now: {a}"),
        }
    }
}

/// What differs between a saved plan and the current one; empty when the digests match.
pub fn compare(saved: &Plan, current: &Plan) -> Vec<StaleReason> {
    if saved.digest == current.digest {
        return Vec::new();
    }
    let mut reasons = Vec::new();
    if saved.config_digest != current.config_digest {
        reasons.push(StaleReason::ConfigChanged);
    }
    if saved.inventory_digest != current.inventory_digest {
        reasons.push(StaleReason::InventoryChanged);
    }
    let index = |p: &Plan| -> BTreeMap<String, Action> {
        p.changes().map(|a| (label(a), a.clone())).collect()
    };
    let (before, after) = (index(saved), index(current));
    for (label, action) in &after {
        match before.get(label) {
            None => reasons.push(StaleReason::ActionAdded(label.clone())),
            Some(old) if old != action => reasons.push(StaleReason::ActionChanged(label.clone())),
            Some(_) => {}
        }
    }
    for label in before.keys().filter(|l| !after.contains_key(*l)) {
        reasons.push(StaleReason::ActionRemoved(label.clone()));
    }
    if reasons.is_empty() {
        // Same config, inventory and changes, but different reports (drift, errors): still stale.
        reasons.push(StaleReason::InventoryChanged);
    }
    reasons
}

fn label(a: &Action) -> String {
    let target = a
        .address
        .clone()
        .or_else(|| a.provider_id.clone())
        .unwrap_or_else(|| a.dock.clone());
    format!("{} {target}", a.action.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest as it was defined before the docks' lines were merged: every line in one
    /// vector, sorted, hashed in order.
    fn sorted_whole(mut lines: Vec<[u8; 32]>) -> String {
        lines.sort_unstable();
        let mut h = Sha256::new();
        for line in &lines {
            h.update(line);
        }
        hex::encode(h.finalize())
    }

    fn line(seed: u32) -> [u8; 32] {
        Sha256::digest(seed.to_le_bytes()).into()
    }

    #[test]
    fn merging_the_docks_lines_gives_the_digest_of_all_lines_sorted() {
        let all: Vec<[u8; 32]> = (0..500).map(|i| line(i % 450)).collect();
        let whole = sorted_whole(all.clone());
        // One dock, three uneven docks (a repeated line in two of them), an empty dock.
        assert_eq!(digest_of_lines(vec![all.clone()]), whole);
        let parts = vec![
            all[..7].to_vec(),
            Vec::new(),
            all[7..300].iter().rev().copied().collect(),
            all[300..].to_vec(),
        ];
        assert_eq!(digest_of_lines(parts), whole);
        assert_ne!(digest_of_lines(vec![all[1..].to_vec()]), whole);
        assert_eq!(digest_of_lines(Vec::new()), sorted_whole(Vec::new()));
    }
}
