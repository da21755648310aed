//! Wire-level helpers every Vultr kind shares: the calls every collection makes the same way (get,
//! list, create, read back after an update, delete), envelope unwrapping, lenient decoding of
//! Vultr's `""`/`0`/null-for-empty values, building the universal record (redacted), reading the
//! desired fields of a spec, and mapping "already gone" answers.
//!
//! Nothing here decides what to create or change, and nothing here looks at HTTP status codes:
//! the shared plumbing (`crate::http`) classifies every failure once.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use stackdock_core::record::Attrs;
use stackdock_core::{Kind, Record};

use std::time::Duration;

use super::Vultr;
use crate::error::{found, gone_ok};
use crate::http::{Item, ListOptions};
pub(super) use crate::object::decode_object;
use crate::object::unwrap_envelope;
use crate::redact::secret_keys;
pub(super) use crate::spec::{not_in_place, required_str, spec_set, spec_str};
use crate::wait::{Poll, poll_until};
use crate::{DockContext, ErrorClass, Listed, ProviderError};

/// `GET /account`: the cheapest authenticated request ([govultr] account.go).
pub(super) const ACCOUNT: &str = "/account";

/// Maps one provider object (a listed item or a parsed answer) of a route to a record.
pub(crate) type MapFn<T> = fn(&DockContext, &str, T) -> Result<Record, ProviderError>;

/// One Vultr collection as its kind file declares it: routes, envelope keys and the mapping of
/// one object. The calls below are written once for every collection.
#[derive(Debug)]
pub(crate) struct Collection {
    pub kind: Kind,
    /// The collection's path (`/instances`).
    pub route: &'static str,
    /// One object's route as errors and statistics name it (`/instances/{id}`).
    pub route_id: &'static str,
    /// The key of a listing's array (`instances`).
    pub list_key: &'static str,
    /// The key of a single-object answer (`instance`).
    pub one_key: &'static str,
    /// The record of a listed item.
    pub item: MapFn<Item>,
    /// The record of a single object (a get's, a create's or an update's answer).
    pub value: MapFn<Value>,
    /// How one object takes in-place changes.
    pub write: Write,
}

/// The method a collection takes in-place changes with ([vultr-spec]: `PATCH` for instances and
/// blocks, `PUT` for databases).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write {
    Put,
    Patch,
}

/// Sends the changed fields of object `id` of `c` (`PUT`/`PATCH <route>/{id}`); the answer as
/// Vultr sent it (`null` for a 202/204 without the object).
pub(super) async fn send_changes(
    v: &Vultr,
    c: &Collection,
    id: &str,
    body: &(impl Serialize + Sync),
) -> Result<Value, ProviderError> {
    let path = format!("{}/{id}", c.route);
    let client = &v.account.client;
    match c.write {
        Write::Put => client.put_json(c.route_id, &path, body, &[]).await,
        Write::Patch => client.patch_json(c.route_id, &path, body, &[]).await,
    }
}

/// The route an update of `c` is named by in errors and statistics (`PATCH /instances/{id}`).
pub(super) fn update_route(c: &Collection) -> String {
    let method = match c.write {
        Write::Put => "PUT",
        Write::Patch => "PATCH",
    };
    format!("{method} {}", c.route_id)
}

/// `GET <route>/{id}`: the record, `None` when Vultr says it does not exist.
pub(super) async fn get(
    v: &Vultr,
    c: &Collection,
    id: &str,
) -> Result<Option<Record>, ProviderError> {
    let route = format!("GET {}", c.route_id);
    let path = format!("{}/{id}", c.route);
    let Some(body) = found(
        v.account
            .client
            .get_json::<Value>(c.route_id, &path, &[])
            .await,
    )?
    else {
        return Ok(None);
    };
    let item = unwrap_envelope(&v.account.ctx.dock, &route, body, c.one_key)?;
    (c.value)(&v.account.ctx, &route, item).map(Some)
}

/// [`get`] of a resource that must exist: gone is a `NotFound` error.
pub(super) async fn get_existing(
    v: &Vultr,
    c: &Collection,
    id: &str,
) -> Result<Record, ProviderError> {
    get(v, c, id)
        .await?
        .ok_or_else(|| gone(&v.account.ctx, c.route_id, c.kind, id))
}

/// Every object of the collection (all pages, as `options` say) as records.
pub(super) async fn list(
    v: &Vultr,
    c: &Collection,
    options: &ListOptions,
) -> Result<Vec<Record>, ProviderError> {
    let route = format!("GET {}", c.route);
    v.account
        .client
        .list_mapped(c.route, c.list_key, options, &|item| {
            (c.item)(&v.account.ctx, &route, item)
        })
        .await
}

/// `POST <route>` once; the created object as Vultr answered it.
pub(super) async fn create(
    v: &Vultr,
    c: &Collection,
    body: &(impl Serialize + Sync),
) -> Result<Record, ProviderError> {
    let route = format!("POST {}", c.route);
    let answer: Value = v
        .account
        .client
        .post_json(c.route, c.route, body, &[])
        .await?;
    let item = unwrap_envelope(&v.account.ctx.dock, &route, answer, c.one_key)?;
    (c.value)(&v.account.ctx, &route, item)
}

/// The object an update (`route`) answered with, or, for a 202/204 without it, the object read
/// back.
pub(super) async fn updated(
    v: &Vultr,
    c: &Collection,
    route: &str,
    id: &str,
    answer: Value,
) -> Result<Record, ProviderError> {
    match unwrap_envelope(&v.account.ctx.dock, route, answer, c.one_key) {
        Ok(item) => (c.value)(&v.account.ctx, route, item),
        Err(_) => get_existing(v, c, id).await,
    }
}

/// Polls object `id` of `c` until `check` finds it ready, it is gone, or `timeout` passes
/// (`what` names the wait in messages).
pub(super) async fn poll_object(
    v: &Vultr,
    c: &Collection,
    id: &str,
    what: &str,
    timeout: Duration,
    check: impl Fn(Record) -> Poll,
) -> Result<Record, ProviderError> {
    let (policy, dock) = (v.account.tuning.poll, &v.account.ctx.dock);
    poll_until(policy, timeout, dock, what, || async {
        Ok(check(get_existing(v, c, id).await?))
    })
    .await
}

/// `DELETE <route>/{id}`; a resource already gone is success.
pub(super) async fn delete(v: &Vultr, c: &Collection, id: &str) -> Result<(), ProviderError> {
    let path = format!("{}/{id}", c.route);
    gone_ok(v.account.client.delete(c.route_id, &path, &[]).await)
}

/// Refuses an object without a usable `id` (missing, null, `""` or not a string or number): a
/// record keyed by `""` would collide with every other such record and address the collection
/// route on a later `GET`. The listing fails instead, naming the field (found by the
/// hostile-response tests).
pub(super) fn require_id(
    ctx: &DockContext,
    route: &str,
    kind: Kind,
    id: &str,
) -> Result<(), ProviderError> {
    if id.trim().is_empty() {
        return Err(ProviderError::new(
            ErrorClass::Transient,
            &ctx.dock,
            route,
            format!(
                "the response has an unexpected shape: a {} without an `id`",
                kind.noun()
            ),
        ));
    }
    Ok(())
}

/// The error for a resource that vanished while we worked on it.
pub(super) fn gone(ctx: &DockContext, route: &str, kind: Kind, id: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::NotFound,
        &ctx.dock,
        format!("GET {route}"),
        format!(
            "{} {id} no longer exists; run `stackdock sync` to refresh the inventory",
            kind.noun()
        ),
    )
}

/// `None` for Vultr's empty values.
pub(super) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The universal record of one provider object: the dock's ids, the observed fields, and the
/// whole object minus its secrets as `fullApiData`, hashed.
pub(super) fn record(
    ctx: &DockContext,
    id: &str,
    label: &str,
    status: String,
    region: &str,
    attrs: Attrs,
    full: impl Listed,
) -> Record {
    // Vultr labels may be empty; the id is then the only name a person can look up.
    let name = if label.is_empty() { id } else { label };
    let mut r = Record::new(&ctx.org, &ctx.dock_id, ctx.provider, attrs.kind(), id, name);
    r.status = status.into();
    r.region = non_empty(region).map(Into::into);
    r.attrs = attrs;
    r.full_api_data = full.into_api_data(secret_keys(ctx.provider));
    r.with_hash()
}

/// An `Invalid` error about the spec, before anything is sent.
pub(super) fn invalid(ctx: &DockContext, route: &str, message: String) -> ProviderError {
    ProviderError::new(ErrorClass::Invalid, &ctx.dock, route, message)
}

/// Lenient field decoders: Vultr writes empty values as `""` or `0`, older objects may carry
/// null, and a few numbers arrive as strings (`port`). None of that should fail a listing.
pub(super) mod lenient {
    use super::*;

    /// A string; null → `""`, numbers and booleans → their text.
    pub(in crate::vultr) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
        })
    }

    /// An unsigned integer; null, `""` and anything unparsable → 0.
    pub(in crate::vultr) fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .unwrap_or(0),
            Value::String(s) => s.trim().parse().unwrap_or(0),
            _ => 0,
        })
    }

    /// A list of strings; null → empty, non-string items skipped.
    pub(in crate::vultr) fn strings<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
    }
}

/// Standard base64 (RFC 4648, padded), the encoding Vultr requires for `user_data`.
pub(super) fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// What the kind files' tests share: the dock, and a fixture's items and records.
#[cfg(test)]
pub(super) mod testing {
    use super::*;
    use stackdock_core::ProviderKind;

    /// The dock every mapping test stamps records with.
    pub(in crate::vultr) fn ctx() -> DockContext {
        crate::provider::test_context(ProviderKind::Vultr)
    }

    /// The items of a fixture listing of `c` (`fixtures/vultr/<kind>.json`).
    pub(in crate::vultr) fn fixture(c: &Collection, text: &str) -> Vec<Value> {
        crate::provider::fixture_items(text, c.list_key)
    }

    /// The records of a fixture listing of `c`, mapped as a listing maps them.
    pub(in crate::vultr) fn fixture_records(c: &Collection, text: &str) -> Vec<Record> {
        let route = format!("GET {}", c.route);
        fixture(c, text)
            .into_iter()
            .map(|v| (c.value)(&ctx(), &route, v).expect("maps"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Probe {
        #[serde(deserialize_with = "lenient::string")]
        s: String,
        #[serde(deserialize_with = "lenient::uint")]
        n: u64,
        #[serde(deserialize_with = "lenient::strings")]
        l: Vec<String>,
    }

    #[test]
    fn lenient_fields_accept_vultr_empties() {
        let cases = [
            (json!({}), "", 0, vec![]),
            (json!({"s": null, "n": null, "l": null}), "", 0, vec![]),
            (json!({"s": "", "n": "", "l": []}), "", 0, vec![]),
            (
                json!({"s": 12, "n": "16751", "l": ["a", 1, "b"]}),
                "12",
                16751,
                vec!["a", "b"],
            ),
            (json!({"s": "x", "n": 7, "extra": {"k": 1}}), "x", 7, vec![]),
        ];
        for (input, s, n, l) in cases {
            let p: Probe = serde_json::from_value(input.clone()).expect("lenient");
            assert_eq!(
                (p.s.as_str(), p.n, p.l),
                (s, n, l.iter().map(|x| x.to_string()).collect()),
                "{input}"
            );
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("#cloud-config\n", "I2Nsb3VkLWNvbmZpZwo="),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }
}
