//! Typed values: each key read as the type its schema declares, with a message naming what was
//! found instead.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeValue;

use super::keys::allowed_values;
use super::parse::{At, Item, Key, Walker, found};
use super::validate::suggest;
use crate::FieldValue;
use crate::schema::FieldType;

impl Walker<'_, '_> {
    /// Reads a typed value, reporting a type error (with the expected type and what was found).
    pub(super) fn typed(
        &mut self,
        key: &Key<'_>,
        item: &Item<'_>,
        ty: FieldType,
        what: &str,
    ) -> Option<At<FieldValue>> {
        let name = key.get_ref().as_ref();
        let value = match (ty, item.get_ref()) {
            (FieldType::Str, DeValue::String(s)) => Some(FieldValue::Str(s.as_ref().into())),
            (FieldType::Bool, DeValue::Boolean(b)) => Some(FieldValue::Bool(*b)),
            (FieldType::Int, DeValue::Integer(i)) => {
                match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => Some(FieldValue::Int(n)),
                    Err(_) => {
                        self.report.error(
                            item.span(),
                            format!("`{name}` in {what} is out of range"),
                            "use a whole number that fits in 64 bits",
                        );
                        return None;
                    }
                }
            }
            (FieldType::StrList, DeValue::Array(items)) => {
                let mut set = BTreeSet::new();
                let mut ok = true;
                for i in items.iter() {
                    match i.get_ref() {
                        DeValue::String(s) => {
                            set.insert(s.to_string());
                        }
                        other => {
                            ok = false;
                            self.report.error(
                                i.span(),
                                format!("`{name}` in {what} must be an array of strings, found {} in it", found(other)),
                                format!("quote every element: `{name} = [\"a\", \"b\"]`"),
                            );
                        }
                    }
                }
                if !ok {
                    return None;
                }
                Some(FieldValue::Set(set.into()))
            }
            _ => None,
        };
        if let Some(value) = value {
            return Some(At {
                value,
                key: key.span(),
                span: item.span(),
            });
        }
        let text = self.report.source().get(item.span()).unwrap_or_default();
        let help = match (ty, item.get_ref()) {
            (FieldType::Str, DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_)) => {
                format!("quote it: `{name} = \"{text}\"`")
            }
            (FieldType::Str, _) => format!("write a string in quotes: `{name} = \"…\"`"),
            (FieldType::Int, DeValue::String(s)) if s.trim().parse::<i64>().is_ok() => {
                format!("remove the quotes: `{name} = {}`", s.trim())
            }
            (FieldType::Int, _) => {
                format!("write a whole number without quotes, e.g. `{name} = 40`")
            }
            (FieldType::Bool, DeValue::String(s)) if matches!(s.as_ref(), "true" | "false") => {
                format!("remove the quotes: `{name} = {s}`")
            }
            (FieldType::Bool, _) => format!("write `{name} = true` or `{name} = false`"),
            (FieldType::StrList, DeValue::String(_)) => {
                format!("make it an array: `{name} = [{text}]`")
            }
            (FieldType::StrList, _) => {
                format!("write an array of strings: `{name} = [\"a\", \"b\"]`")
            }
            (FieldType::Env, _) => {
                format!("write a table: `[<entry>.{name}]` with `NAME = {{ secret = \"…\" }}`")
            }
        };
        self.report.error(
            item.span(),
            format!(
                "`{name}` in {what} must be {}, found {}",
                ty.describe(),
                found(item.get_ref())
            ),
            help,
        );
        None
    }

    /// Reads a string key from a table read by [`Self::known_keys`].
    pub(super) fn string(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        key: &str,
        what: &str,
    ) -> Option<At<String>> {
        let (k, v) = present.get(key)?;
        let at = self.typed(k, v, FieldType::Str, what)?;
        match at.value {
            FieldValue::Str(s) => Some(At {
                value: s.to_string(),
                key: at.key,
                span: at.span,
            }),
            _ => None,
        }
    }

    pub(super) fn boolean(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        key: &str,
        what: &str,
    ) -> Option<bool> {
        let (k, v) = present.get(key)?;
        self.typed(k, v, FieldType::Bool, what)?.value.as_bool()
    }

    pub(super) fn string_set(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        key: &str,
        what: &str,
    ) -> Option<At<BTreeSet<String>>> {
        let (k, v) = present.get(key)?;
        let at = self.typed(k, v, FieldType::StrList, what)?;
        match at.value {
            FieldValue::Set(s) => Some(At {
                value: s.into_iter().collect(),
                key: at.key,
                span: at.span,
            }),
            _ => None,
        }
    }

    /// A string key with a closed set of values (`provider`, `drift`).
    pub(super) fn choice(&mut self, at: &At<String>, key: &str, what: &str) -> bool {
        let values = allowed_values(key).unwrap_or_default();
        if values.contains(&at.value.as_str()) {
            return true;
        }
        let list = values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match suggest(&at.value, values.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? valid values: {list}"),
            None => format!("valid values: {list}"),
        };
        self.report.error(
            at.span.clone(),
            format!("unknown {key} `{}` in {what}", at.value),
            help,
        );
        false
    }
}
