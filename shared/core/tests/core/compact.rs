//! Property tests of `VecMap` / `VecSet`: any sequence of operations leaves them exactly where the
//! same sequence leaves `BTreeMap` / `BTreeSet` — same answers, same iteration order, same JSON,
//! same `Debug`, same ordering between two of them.
//!
//! Keys are drawn from a small pool so that repeats, replacements and removals of present keys
//! are common. Each property prints `RELIABILITY property <name> cases=<n> ok`.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use stackdock_core::{FieldValue, VecMap, VecSet};

const CASES: u32 = 512;
const KEYS: [&str; 7] = ["", "a", "b", "image", "plan", "region", "tags"];

#[derive(Debug, Clone)]
enum Op {
    Insert(String, i64),
    Remove(String),
    Extend(Vec<(String, i64)>),
    /// Keeps the entries whose value is divisible by the number.
    Retain(i64),
    Clear,
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key(), -3i64..3).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => key().prop_map(Op::Remove),
        2 => prop::collection::vec((key(), -3i64..3), 0..5).prop_map(Op::Extend),
        1 => (1i64..4).prop_map(Op::Retain),
        1 => Just(Op::Clear),
    ]
}

fn run(
    name: &str,
    strategy: impl Strategy<Value = Vec<Op>>,
    check: impl Fn(&[Op]) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    if let Err(e) = runner.run(&strategy, |ops| check(&ops)) {
        panic!("property {name} failed: {e}");
    }
    eprintln!("RELIABILITY property {name} cases={CASES} ok");
}

fn same_map(ours: &VecMap<String, i64>, std: &BTreeMap<String, i64>) -> Result<(), TestCaseError> {
    prop_assert_eq!(ours.len(), std.len());
    prop_assert_eq!(ours.is_empty(), std.is_empty());
    prop_assert_eq!(
        ours.iter().collect::<Vec<_>>(),
        std.iter().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        std.keys().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        ours.values().collect::<Vec<_>>(),
        std.values().collect::<Vec<_>>()
    );
    for k in KEYS {
        prop_assert_eq!(ours.get(k), std.get(k));
        prop_assert_eq!(ours.contains_key(k), std.contains_key(k));
    }
    prop_assert_eq!(format!("{ours:?}"), format!("{std:?}"));
    let json = serde_json::to_string(ours).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        &json,
        &serde_json::to_string(std).map_err(|e| TestCaseError::fail(e.to_string()))?
    );
    let back: VecMap<String, i64> =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, ours);
    Ok(())
}

#[test]
fn vec_map_behaves_like_btreemap_for_any_sequence_of_operations() {
    run(
        "vec_map_is_a_btreemap",
        prop::collection::vec(op(), 0..24),
        |ops| {
            let mut ours = VecMap::new();
            let mut std = BTreeMap::new();
            for op in ops {
                match op.clone() {
                    Op::Insert(k, v) => {
                        prop_assert_eq!(ours.insert(k.clone(), v), std.insert(k, v))
                    }
                    Op::Remove(k) => prop_assert_eq!(ours.remove(&k), std.remove(&k)),
                    Op::Extend(entries) => {
                        ours.extend(entries.clone());
                        std.extend(entries);
                    }
                    Op::Retain(d) => {
                        ours.retain(|_, v| *v % d == 0);
                        std.retain(|_, v| *v % d == 0);
                    }
                    Op::Clear => {
                        ours.clear();
                        std.clear();
                    }
                }
                same_map(&ours, &std)?;
            }
            // Built in one go from the same entries (repeats included): the last value wins in both.
            let entries: Vec<(String, i64)> = ops
                .iter()
                .filter_map(|op| match op {
                    Op::Insert(k, v) => Some((k.clone(), *v)),
                    _ => None,
                })
                .collect();
            let collected: VecMap<String, i64> = entries.iter().cloned().collect();
            same_map(&collected, &entries.into_iter().collect())?;
            Ok(())
        },
    );
}

#[test]
fn two_vec_maps_compare_as_their_btreemaps_do() {
    let pair = (
        prop::collection::vec(op(), 0..12),
        prop::collection::vec(op(), 0..12),
    );
    let build = |ops: &[Op]| -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        for op in ops {
            if let Op::Insert(k, v) = op {
                m.insert(k.clone(), *v);
            }
        }
        m
    };
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let result = runner.run(&pair, |(a, b)| {
        let (sa, sb) = (build(&a), build(&b));
        let (va, vb): (VecMap<_, _>, VecMap<_, _>) = (sa.clone().into(), sb.clone().into());
        prop_assert_eq!(va == vb, sa == sb);
        prop_assert_eq!(va.cmp(&vb), sa.cmp(&sb));
        let (ta, tb): (VecSet<String>, VecSet<String>) =
            (sa.keys().cloned().collect(), sb.keys().cloned().collect());
        let (ka, kb): (BTreeSet<String>, BTreeSet<String>) =
            (sa.keys().cloned().collect(), sb.keys().cloned().collect());
        prop_assert_eq!(ta.cmp(&tb), ka.cmp(&kb));
        prop_assert_eq!(ta.is_subset(&tb), ka.is_subset(&kb));
        prop_assert_eq!(
            ta.difference(&tb).collect::<Vec<_>>(),
            ka.difference(&kb).collect::<Vec<_>>()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("property vec_maps_compare_as_btreemaps failed: {e}");
    }
    eprintln!("RELIABILITY property vec_maps_compare_as_btreemaps cases={CASES} ok");
}

#[test]
fn vec_set_behaves_like_btreeset_for_any_sequence_of_operations() {
    run(
        "vec_set_is_a_btreeset",
        prop::collection::vec(op(), 0..24),
        |ops| {
            let mut ours = VecSet::new();
            let mut std = BTreeSet::new();
            for op in ops {
                match op.clone() {
                    Op::Insert(k, _) => prop_assert_eq!(ours.insert(k.clone()), std.insert(k)),
                    Op::Remove(k) => prop_assert_eq!(ours.remove(&k), std.remove(&k)),
                    Op::Extend(entries) => {
                        ours.extend(entries.iter().map(|(k, _)| k.clone()));
                        std.extend(entries.into_iter().map(|(k, _)| k));
                    }
                    Op::Retain(d) => {
                        let keep = |k: &String| k.len() as i64 % d == 0;
                        ours.retain(keep);
                        std.retain(keep);
                    }
                    Op::Clear => {
                        ours.clear();
                        std.clear();
                    }
                }
                prop_assert_eq!(ours.len(), std.len());
                prop_assert_eq!(
                    ours.iter().collect::<Vec<_>>(),
                    std.iter().collect::<Vec<_>>()
                );
                for k in KEYS {
                    prop_assert_eq!(ours.contains(k), std.contains(k));
                }
                prop_assert_eq!(format!("{ours:?}"), format!("{std:?}"));
                let json =
                    serde_json::to_string(&ours).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(
                    &json,
                    &serde_json::to_string(&std).map_err(|e| TestCaseError::fail(e.to_string()))?
                );
                let back: VecSet<String> =
                    serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &ours);
            }
            Ok(())
        },
    );
}

/// The value language's sets keep their JSON and their order: a `FieldValue::Set` reads any
/// order and repeats, and writes the sorted, unique array a `BTreeSet` wrote.
#[test]
fn a_field_value_set_reads_any_order_and_writes_the_sorted_array() {
    let value: FieldValue =
        serde_json::from_str(r#"["web", "api", "web"]"#).expect("a JSON array of strings");
    assert_eq!(value, FieldValue::set(["api", "web"]));
    assert_eq!(
        serde_json::to_string(&value).expect("a set serializes"),
        r#"["api","web"]"#
    );
    assert!(FieldValue::set(["a"]) < FieldValue::set(["b"]));
    assert!(FieldValue::set(["a"]) < FieldValue::set(["a", "b"]));
}
