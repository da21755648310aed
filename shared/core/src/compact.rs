//! `VecMap` and `VecSet`: ordered maps and sets kept as one sorted, exactly sized slice.
//!
//! The records and desired entries a plan reads hold a handful of fields each (`applied`, the
//! desired `fields`, tags). As `BTreeMap`/`BTreeSet` every one of them was a separately allocated
//! B-tree leaf of ~200–600 bytes even for one entry: about 1.8 KB of the 2.9 KB per desired +
//! actual pair of a 100,000-resource plan. Here a map of `n` entries is one allocation of exactly
//! `n` entries (none when empty), looked up by binary search, iterated in key order.
//!
//! # Guarantees
//! - Behaves like `BTreeMap`/`BTreeSet` for every operation it offers: same iteration order, same
//!   "the later value wins" when a key repeats in `FromIterator`, `Extend` or a deserialized map
//!   (checked by a property test against the std collections).
//! - Serializes exactly as the std collection would (a map / a sequence in key order), so records,
//!   plans, digests and API output are byte-identical to what they were.
//!
//! # Assumptions
//! - Small collections, rarely changed once built: `insert` and `remove` reallocate the slice
//!   (O(n) each), which is nothing at a dozen entries and wrong for thousands. Large, growing
//!   collections stay `BTreeMap`.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ordered map of few entries, sorted by key in one exactly sized allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecMap<K, V> {
    entries: Box<[(K, V)]>,
}

/// An ordered set of few items, sorted in one exactly sized allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecSet<T> {
    items: Box<[T]>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Box::default(),
        }
    }
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet {
            items: Box::default(),
        }
    }
}

/// Sorts by key, keeping the *last* of equal keys (what repeated `BTreeMap::insert` leaves).
fn sorted_last_wins<K: Ord, V>(mut entries: Vec<(K, V)>) -> Box<[(K, V)]> {
    if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
        // Stable: equal keys keep their input order, so the last of each run is the latest.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // `dedup_by` keeps the first of a run and drops the later one: move the later value in.
        entries.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                std::mem::swap(later, kept);
                true
            } else {
                false
            }
        });
    }
    entries.into_boxed_slice()
}

impl<K, V> VecMap<K, V> {
    pub fn new() -> Self {
        VecMap {
            entries: Box::new([]),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&K, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.entries.into_vec().into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_vec().into_iter().map(|(_, v)| v)
    }

    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    pub fn clear(&mut self) {
        self.entries = Box::default();
    }

    /// Keeps the entries `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        entries.retain_mut(|(k, v)| keep(k, v));
        self.entries = entries.into_boxed_slice();
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn position<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(key).ok().map(|at| &self.entries[at].1)
    }

    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(key).ok().map(|at| {
            let (k, v) = &self.entries[at];
            (k, v)
        })
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(key).ok().map(|at| &mut self.entries[at].1)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced (the key kept is the one already there,
    /// as `BTreeMap` does).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                let mut entries = std::mem::take(&mut self.entries).into_vec();
                entries.reserve_exact(1);
                entries.insert(at, (key, value));
                self.entries = entries.into_boxed_slice();
                None
            }
        }
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.position(key).ok()?;
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        let removed = entries.remove(at);
        self.entries = entries.into_boxed_slice();
        Some(removed)
    }
}

impl<T> VecSet<T> {
    pub fn new() -> Self {
        VecSet {
            items: Box::new([]),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The items in order, as a slice.
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }

    pub fn first(&self) -> Option<&T> {
        self.items.first()
    }

    pub fn last(&self) -> Option<&T> {
        self.items.last()
    }

    pub fn clear(&mut self) {
        self.items = Box::default();
    }

    /// Keeps the items `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut items = std::mem::take(&mut self.items).into_vec();
        items.retain(|t| keep(t));
        self.items = items.into_boxed_slice();
    }
}

impl<T: Ord> VecSet<T> {
    fn position<Q>(&self, item: &Q) -> Result<usize, usize>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.items.binary_search_by(|t| t.borrow().cmp(item))
    }

    pub fn contains<Q>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(item).is_ok()
    }

    pub fn get<Q>(&self, item: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(item).ok().map(|at| &self.items[at])
    }

    /// Adds `item`; `false` (and the set unchanged) if it was there, as `BTreeSet` does.
    pub fn insert(&mut self, item: T) -> bool {
        match self.position(&item) {
            Ok(_) => false,
            Err(at) => {
                let mut items = std::mem::take(&mut self.items).into_vec();
                items.reserve_exact(1);
                items.insert(at, item);
                self.items = items.into_boxed_slice();
                true
            }
        }
    }

    pub fn remove<Q>(&mut self, item: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.take(item).is_some()
    }

    pub fn take<Q>(&mut self, item: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.position(item).ok()?;
        let mut items = std::mem::take(&mut self.items).into_vec();
        let taken = items.remove(at);
        self.items = items.into_boxed_slice();
        Some(taken)
    }

    /// Whether every item of `self` is in `other`.
    pub fn is_subset(&self, other: &VecSet<T>) -> bool {
        self.iter().all(|t| other.contains(t))
    }

    /// The items of `self` not in `other`, in order.
    pub fn difference<'s>(&'s self, other: &'s VecSet<T>) -> impl Iterator<Item = &'s T> + 's {
        self.iter().filter(move |t| !other.contains(*t))
    }

    /// The items in both, in order.
    pub fn intersection<'s>(&'s self, other: &'s VecSet<T>) -> impl Iterator<Item = &'s T> + 's {
        self.iter().filter(move |t| other.contains(*t))
    }

    fn from_vec(mut items: Vec<T>) -> Self {
        if items.windows(2).any(|w| w[0] >= w[1]) {
            items.sort();
            items.dedup();
        }
        VecSet {
            items: items.into_boxed_slice(),
        }
    }
}

/// The entries of a [`VecMap`], by reference, in key order.
#[derive(Debug, Clone)]
pub struct Iter<'a, K, V> {
    inner: std::slice::Iter<'a, (K, V)>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_vec().into_iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        VecMap {
            entries: sorted_last_wins(iter.into_iter().collect()),
        }
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        VecSet::from_vec(iter.into_iter().collect())
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        entries.extend(iter);
        self.entries = sorted_last_wins(entries);
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        // The items already there come first, so an equal newcomer is dropped, as in `BTreeSet`.
        let mut items = std::mem::take(&mut self.items).into_vec();
        items.extend(iter);
        items.sort();
        items.dedup();
        self.items = items.into_boxed_slice();
    }
}

impl<'a, K: Ord + Clone, V: Clone> Extend<(&'a K, &'a V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: I) {
        self.extend(iter.into_iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

impl<'a, T: Ord + Clone> Extend<&'a T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().cloned());
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for VecMap<K, V> {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for VecSet<T> {
    fn from(items: [T; N]) -> Self {
        items.into_iter().collect()
    }
}

impl<K: Ord, V> From<std::collections::BTreeMap<K, V>> for VecMap<K, V> {
    fn from(map: std::collections::BTreeMap<K, V>) -> Self {
        // Already sorted and unique.
        VecMap {
            entries: map.into_iter().collect::<Vec<_>>().into_boxed_slice(),
        }
    }
}

impl<T: Ord> From<std::collections::BTreeSet<T>> for VecSet<T> {
    fn from(set: std::collections::BTreeSet<T>) -> Self {
        VecSet {
            items: set.into_iter().collect::<Vec<_>>().into_boxed_slice(),
        }
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for VecMap<K, V> {
    type Output = V;

    /// # Panics
    /// `key` is not in the map (as `BTreeMap`'s index does).
    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(value) => value,
            None => panic!("no entry found for key"),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<T: Serialize> Serialize for VecSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = VecMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                // Bounded, as serde's own collections bound a size hint they did not count.
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(VecMap {
                    entries: sorted_last_wins(entries),
                })
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for VecSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeqVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Ord> Visitor<'de> for SeqVisitor<T> {
            type Value = VecSet<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
                while let Some(item) = access.next_element()? {
                    items.push(item);
                }
                Ok(VecSet::from_vec(items))
            }
        }

        deserializer.deserialize_seq(SeqVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn one_entry_is_one_exact_allocation_and_empty_is_none() {
        assert_eq!(std::mem::size_of::<VecMap<String, String>>(), 16);
        assert_eq!(std::mem::size_of::<VecSet<String>>(), 16);
        let map: VecMap<String, i64> = [("a".to_owned(), 1)].into();
        assert_eq!(map.entries.len(), 1);
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value_as_btreemap_does() {
        let pairs = [("b", 1), ("a", 2), ("b", 3), ("a", 4), ("c", 5)];
        let ours: VecMap<&str, i32> = pairs.into_iter().collect();
        let std: BTreeMap<&str, i32> = pairs.into_iter().collect();
        assert_eq!(
            ours.iter().collect::<Vec<_>>(),
            std.iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn serializes_and_debugs_byte_for_byte_like_the_std_collections() {
        let pairs = [("tags", vec!["x"]), ("plan", vec![]), ("a", vec!["y", "z"])];
        let ours: VecMap<String, Vec<&str>> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let std: BTreeMap<String, Vec<&str>> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        assert_eq!(
            serde_json::to_string(&ours).ok(),
            serde_json::to_string(&std).ok()
        );
        assert_eq!(format!("{ours:?}"), format!("{std:?}"));
        assert_eq!(format!("{ours:#?}"), format!("{std:#?}"));
        let set: VecSet<&str> = ["b", "a", "b"].into();
        let std_set: BTreeSet<&str> = ["b", "a", "b"].into();
        assert_eq!(
            serde_json::to_string(&set).ok(),
            serde_json::to_string(&std_set).ok()
        );
        assert_eq!(format!("{set:?}"), format!("{std_set:?}"));
    }

    #[test]
    fn deserializes_unsorted_and_repeated_input_as_the_std_collections_do() {
        let text = r#"{"b": 1, "a": 2, "b": 3}"#;
        let ours: Result<VecMap<String, i64>, _> = serde_json::from_str(text);
        let std: Result<BTreeMap<String, i64>, _> = serde_json::from_str(text);
        assert_eq!(
            ours.ok().map(|m| m.into_iter().collect::<Vec<_>>()),
            std.ok().map(|m| m.into_iter().collect::<Vec<_>>())
        );
        let ours: Result<VecSet<String>, _> = serde_json::from_str(r#"["b","a","b"]"#);
        assert_eq!(
            ours.ok().map(|s| s.into_iter().collect::<Vec<_>>()),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert!(serde_json::from_str::<VecSet<String>>(r#"{"a":1}"#).is_err());
    }
}
