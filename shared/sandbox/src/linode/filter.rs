//! Linode's `X-Filter` header: parsing it, evaluating it against a row (`+and`, `+or`,
//! `+contains`, `+neq`, `+gt`, `+gte`, `+lt`, `+lte`, `null`), ordering by `+order_by` /
//! `+order`, and the listing every Linode collection serves through it.

use std::cmp::Ordering;
use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::{P, page_of};
use crate::http::{Listing, error};
use crate::pagination::PageMode;
use crate::state::{Resource, Table};

/// A field value as seen by the X-Filter evaluator.
pub(super) enum Field<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    Num(u64),
    Bool(bool),
    Tags(&'a [String]),
}

/// A row the filter can read fields of (`None`: not a filterable field).
pub(super) trait Filterable {
    fn field(&self, name: &str) -> Option<Field<'_>>;
}

/// A parsed `X-Filter` header.
#[derive(Debug, Default)]
pub(super) struct XFilter {
    pub(super) conditions: Map<String, Value>,
    order_by: Option<String>,
    descending: bool,
}

pub(super) fn parse_filter(headers: &HeaderMap) -> Result<XFilter, Response> {
    let Some(raw) = headers.get("x-filter") else {
        return Ok(XFilter::default());
    };
    let invalid = || {
        error(
            P,
            StatusCode::BAD_REQUEST,
            "Invalid JSON in X-Filter header",
        )
    };
    let text = raw.to_str().map_err(|_| invalid())?;
    let Ok(Value::Object(mut conditions)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid());
    };
    let order_by = conditions
        .remove("+order_by")
        .and_then(|v| v.as_str().map(str::to_owned));
    let descending = conditions
        .remove("+order")
        .is_some_and(|v| v.as_str() == Some("desc"));
    Ok(XFilter {
        conditions,
        order_by,
        descending,
    })
}

fn cmp_value(field: &Field<'_>, want: &Value) -> Option<Ordering> {
    match (field, want) {
        (Field::Num(n), Value::Number(w)) => w.as_u64().map(|w| n.cmp(&w)),
        (Field::Num(n), Value::String(w)) => w.parse::<u64>().ok().map(|w| n.cmp(&w)),
        (Field::Str(s), Value::String(w)) => Some((*s).cmp(w.as_str())),
        (Field::OptStr(Some(s)), Value::String(w)) => Some((*s).cmp(w.as_str())),
        (Field::Bool(b), Value::Bool(w)) => Some(b.cmp(w)),
        _ => None,
    }
}

fn contains(field: &Field<'_>, needle: &str) -> bool {
    match field {
        Field::Str(s) => s.contains(needle),
        Field::OptStr(s) => s.is_some_and(|s| s.contains(needle)),
        Field::Tags(t) => t.iter().any(|t| t.contains(needle)),
        Field::Num(_) | Field::Bool(_) => false,
    }
}

fn eval_cond(field: &Field<'_>, want: &Value) -> Result<bool, String> {
    match want {
        Value::Object(ops) => {
            for (op, arg) in ops {
                let ok = match op.as_str() {
                    "+contains" => contains(field, arg.as_str().unwrap_or_default()),
                    "+neq" => !eval_cond(field, arg)?,
                    "+gt" => cmp_value(field, arg) == Some(Ordering::Greater),
                    "+gte" => matches!(
                        cmp_value(field, arg),
                        Some(Ordering::Greater | Ordering::Equal)
                    ),
                    "+lt" => cmp_value(field, arg) == Some(Ordering::Less),
                    "+lte" => matches!(
                        cmp_value(field, arg),
                        Some(Ordering::Less | Ordering::Equal)
                    ),
                    other => return Err(format!("Unknown filter operator {other}")),
                };
                if !ok {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Value::Null => Ok(matches!(field, Field::OptStr(None))),
        _ => Ok(match field {
            Field::Tags(tags) => want.as_str().is_some_and(|w| tags.iter().any(|t| t == w)),
            _ => cmp_value(field, want) == Some(Ordering::Equal),
        }),
    }
}

fn eval<T: Filterable>(row: &T, conditions: &Map<String, Value>) -> Result<bool, String> {
    for (key, want) in conditions {
        let ok = match key.as_str() {
            "+and" | "+or" => {
                let list = want
                    .as_array()
                    .ok_or_else(|| format!("{key} must be an array"))?;
                let mut results = Vec::with_capacity(list.len());
                for item in list {
                    let obj = item
                        .as_object()
                        .ok_or_else(|| format!("{key} items must be objects"))?;
                    results.push(eval(row, obj)?);
                }
                if key == "+and" {
                    results.iter().all(|r| *r)
                } else {
                    results.iter().any(|r| *r)
                }
            }
            field => {
                let value = row
                    .field(field)
                    .ok_or_else(|| format!("Cannot filter on {field}"))?;
                eval_cond(&value, want)?
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `row` matches the filter's conditions (its order is the caller's), or the error
/// Linode answers for a filter it cannot evaluate.
pub(super) fn matches<T: Filterable>(row: &T, filter: &XFilter) -> Result<bool, Response> {
    eval(row, &filter.conditions).map_err(|reason| error(P, StatusCode::BAD_REQUEST, &reason))
}

/// Select rows matching the filter, ordered as requested.
fn select<T: Filterable>(table: &Table<T>, filter: &XFilter) -> Result<Vec<u64>, Response> {
    let mut failure: Option<String> = None;
    let mut seqs = table.select(|row| match eval(row, &filter.conditions) {
        Ok(ok) => ok,
        Err(e) => {
            failure.get_or_insert(e);
            false
        }
    });
    if let Some(reason) = failure {
        return Err(error(P, StatusCode::BAD_REQUEST, &reason));
    }
    if let Some(order_by) = &filter.order_by {
        let key = |seq: &u64| table.by_seq(*seq).and_then(|r| r.field(order_by));
        let mut invalid = false;
        seqs.sort_by(|a, b| match (key(a), key(b)) {
            (Some(Field::Num(x)), Some(Field::Num(y))) => x.cmp(&y),
            (Some(Field::Str(x)), Some(Field::Str(y))) => x.cmp(y),
            _ => {
                invalid = true;
                Ordering::Equal
            }
        });
        if invalid && !seqs.is_empty() {
            return Err(error(
                P,
                StatusCode::BAD_REQUEST,
                &format!("Cannot order by {order_by}"),
            ));
        }
        if filter.descending {
            seqs.reverse();
        }
    }
    Ok(seqs)
}

/// One page of the rows matching `filter` (served under `data`).
pub(super) fn list<T: Filterable + Resource>(
    table: &mut Table<T>,
    filter: &XFilter,
    (q, mode): (&HashMap<String, String>, PageMode),
    fingerprint: impl Fn(&T) -> u64,
    render: impl Fn(&T) -> Value,
) -> Result<Listing, Response> {
    let seqs = select(table, filter)?;
    let page = page_of(seqs.len(), q, mode)?;
    Ok(table.listing(&seqs, page, fingerprint, render))
}
