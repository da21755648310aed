//! `FieldValue`: the small value language shared by desired fields, actual fields and plan diffs.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CompactString, VecSet};

/// A comparable field value. Lists are sets (tags, ssh keys): order never causes a diff.
///
/// A string is a [`CompactString`]: regions, sizes, images and most other values fit its 24
/// inline bytes, so the fields of 100,000 desired entries and records are not as many separate
/// heap strings. It serializes, compares and hashes as a `String` would.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Bool(bool),
    Int(i64),
    Str(CompactString),
    Set(VecSet<String>),
}

impl FieldValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            FieldValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            FieldValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_set(&self) -> Option<&VecSet<String>> {
        match self {
            FieldValue::Set(s) => Some(s),
            _ => None,
        }
    }

    pub fn set<I, S>(items: I) -> FieldValue
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FieldValue::Set(items.into_iter().map(Into::into).collect())
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Str(s.into())
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Str(s.into())
    }
}

impl From<CompactString> for FieldValue {
    fn from(s: CompactString) -> Self {
        FieldValue::Str(s)
    }
}

impl From<i64> for FieldValue {
    fn from(i: i64) -> Self {
        FieldValue::Int(i)
    }
}

impl From<bool> for FieldValue {
    fn from(b: bool) -> Self {
        FieldValue::Bool(b)
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Str(s) => write!(f, "{s:?}"),
            FieldValue::Set(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item:?}")?;
                }
                f.write_str("]")
            }
        }
    }
}
