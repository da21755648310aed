//! Linode wire plumbing shared by every kind: the calls every kind makes the same way (one object,
//! a complete listing, a delete where gone is success), the `X-Filter` header, id checks, tolerant
//! field decoding, and the record skeleton with its redacted `fullApiData`.
//!
//! Status codes, retries, pacing and paging stay in `crate::http`; nothing here decides what to
//! create or delete, and nothing here logs a body.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use stackdock_core::{Kind, ProviderKind, Record};

use super::Linode;
use crate::error::{found, gone_ok};
use crate::http::{Item, ListOptions};
use crate::redact::secret_keys;
pub(super) use crate::spec::{not_in_place, required_str, spec_set, spec_str};
use crate::{DockContext, ErrorClass, Listed, ProviderError};

/// Cheapest authenticated call ([linodego] profile.go `GetProfile`).
pub(super) const PROFILE: &str = "/profile";
pub(super) const ACCOUNT: &str = "/account";

/// Maps one provider object to a record (a pure function of each kind's file).
pub(crate) type MapFn = fn(&DockContext, Item) -> Result<Record, String>;

/// One Linode collection as its kind file declares it; list, get, delete and the look-up by
/// ownership tag are written once for every collection (`Dock for Linode`).
#[derive(Debug)]
pub(crate) struct Collection {
    /// The collection's path (`/volumes`); one object is `<list>/<numeric id>`.
    pub list: &'static str,
    /// One object's route as errors and statistics name it (`/volumes/{id}`).
    pub one: &'static str,
    /// The record of one object.
    pub map: MapFn,
}

/// The body of a rename and retag `PUT` (`/linode/instances/{id}`, `/volumes/{id}`; [linodego]
/// `InstanceUpdateOptions`, `VolumeUpdateOptions`): only the fields that change.
#[derive(Debug, Default, Serialize)]
pub(super) struct Relabel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl Linode {
    /// Renames and retags with one `PUT` to `path`, when `body` changes anything: the object as
    /// Linode answered, `None` when nothing was sent.
    pub(super) async fn relabel(
        &self,
        route: &str,
        path: &str,
        body: &Relabel,
    ) -> Result<Option<Value>, ProviderError> {
        if body.label.is_none() && body.tags.is_none() {
            return Ok(None);
        }
        self.account
            .client
            .put_json(route, path, body, &[])
            .await
            .map(Some)
    }

    /// One object, `None` when the provider says it does not exist.
    pub(super) async fn get_value(
        &self,
        route: &str,
        path: &str,
    ) -> Result<Option<Value>, ProviderError> {
        found(
            self.account
                .client
                .get_json::<Value>(route, path, &[])
                .await,
        )
    }

    /// One object as a record, `None` when it does not exist.
    pub(super) async fn get_record(
        &self,
        route: &str,
        path: &str,
        map: MapFn,
    ) -> Result<Option<Record>, ProviderError> {
        match self.get_value(route, path).await? {
            Some(v) => self.map_one(route, v, map).map(Some),
            None => Ok(None),
        }
    }

    /// One object as a record; gone is a `NotFound` error (the caller expected it to exist).
    pub(super) async fn require_record(
        &self,
        route: &str,
        path: &str,
        map: MapFn,
    ) -> Result<Record, ProviderError> {
        let v = self
            .account
            .client
            .get_json::<Value>(route, path, &[])
            .await?;
        self.map_one(route, v, map)
    }

    /// Every object of a collection as records: all pages at the largest page size, or an error.
    pub(super) async fn list_records(
        &self,
        route: &str,
        options: &ListOptions,
        map: MapFn,
    ) -> Result<Vec<Record>, ProviderError> {
        self.account
            .client
            .list_mapped(route, "data", options, &|item| {
                self.map_item(route, item, map)
            })
            .await
    }

    /// `POST <path>/<action>` (`resize`, `attach`, `detach`) with `body`; Linode's answer is not
    /// needed (the caller reads the object back when it wants it).
    pub(super) async fn post_action(
        &self,
        route: &str,
        path: &str,
        action: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<(), ProviderError> {
        let path = format!("{path}/{action}");
        let _: Value = self
            .account
            .client
            .post_json(route, &path, body, &[])
            .await?;
        Ok(())
    }

    /// `DELETE`; a resource already gone is success.
    pub(super) async fn delete_path(&self, route: &str, path: &str) -> Result<(), ProviderError> {
        gone_ok(self.account.client.delete(route, path, &[]).await)
    }

    /// Maps an answer, turning a shape the mapping cannot use into a transient error (the
    /// listing is then an error, never a list missing that object).
    pub(super) fn map_one(
        &self,
        route: &str,
        value: Value,
        map: MapFn,
    ) -> Result<Record, ProviderError> {
        // One object (a GET or a create's answer): written back as text for the mapping, which
        // reads listed items as text.
        let item = serde_json::value::to_raw_value(&value)
            .map_err(|e| unexpected(&self.account.ctx, route, e))?;
        self.map_item(route, item, map)
    }

    /// [`map_one`](Self::map_one) for an item of a listing.
    pub(super) fn map_item(
        &self,
        route: &str,
        item: Item,
        map: MapFn,
    ) -> Result<Record, ProviderError> {
        map(&self.account.ctx, item).map_err(|what| unexpected(&self.account.ctx, route, what))
    }

    /// An `Invalid` error for a request this adapter refuses before sending anything.
    pub(super) fn invalid(&self, route: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::new(ErrorClass::Invalid, &self.account.ctx.dock, route, message)
    }

    /// The number and path (`/volumes/123`) of object `id` of `c`; an id that is not a Linode id
    /// is refused as `route`'s error before it can reach a URL path.
    pub(super) fn object_path(
        &self,
        c: &Collection,
        route: &str,
        id: &str,
    ) -> Result<(u64, String), ProviderError> {
        let n = self.numeric_id(route, id)?;
        Ok((n, format!("{}/{n}", c.list)))
    }

    /// A Linode id (an integer) from a provider resource id; anything else is refused before it
    /// can reach a URL path.
    pub(super) fn numeric_id(&self, route: &str, id: &str) -> Result<u64, ProviderError> {
        id.parse::<u64>().map_err(|_| {
            self.invalid(
                route,
                format!("`{id}` is not a Linode id (Linode ids are integers)"),
            )
        })
    }
}

/// The error for an answer the mapping cannot use: a transient failure of `route` (the listing
/// is then an error, never a list missing that object).
pub(super) fn unexpected(
    ctx: &DockContext,
    route: &str,
    what: impl std::fmt::Display,
) -> ProviderError {
    ProviderError::new(
        ErrorClass::Transient,
        &ctx.dock,
        with_method("GET", route),
        format!("the response has an unexpected shape: {what}"),
    )
}

/// `"<METHOD> <route>"` unless the route already names its method.
pub(super) fn with_method(method: &str, route: &str) -> String {
    if route.starts_with('/') {
        format!("{method} {route}")
    } else {
        route.to_owned()
    }
}

/// Listing options with one `X-Filter` equality condition ([linodego] pagination.go `X-Filter`;
/// a tag condition matches objects carrying that tag).
pub(super) fn filtered(field: &str, value: &str) -> ListOptions {
    let mut filter = serde_json::Map::new();
    filter.insert(field.to_owned(), Value::String(value.to_owned()));
    ListOptions::new().header("X-Filter", Value::Object(filter).to_string())
}

/// A fresh record of `kind` stamped with the dock's ids.
pub(super) fn skeleton(ctx: &DockContext, kind: Kind, id: &str, name: &str) -> Record {
    Record::new(&ctx.org, &ctx.dock_id, ctx.provider, kind, id, name)
}

/// Stores the provider's whole object minus its secrets and seals the record with its hash.
pub(super) fn seal(mut record: Record, raw: impl Listed) -> Record {
    record.full_api_data = raw.into_api_data(secret_keys(ProviderKind::Linode));
    record.with_hash()
}

/// Tolerant decoders for wire fields: `null`, `""` and a wrong type read as absent rather than
/// failing the whole listing; numbers and numeric strings are both accepted.
pub(super) mod de {
    use super::*;

    pub(in crate::linode) fn opt_string<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    pub(in crate::linode) fn opt_u64<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<u64>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub(in crate::linode) fn strings<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) if !s.is_empty() => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
    }
}

/// Clamps a provider count into the record's integer type.
pub(super) fn to_i64(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Probe {
        #[serde(deserialize_with = "de::opt_string")]
        s: Option<String>,
        #[serde(deserialize_with = "de::opt_u64")]
        n: Option<u64>,
        #[serde(deserialize_with = "de::strings")]
        list: Vec<String>,
    }

    #[test]
    fn tolerant_decoding() {
        let cases = [
            (json!({}), None, None, vec![]),
            (
                json!({"s": null, "n": null, "list": null}),
                None,
                None,
                vec![],
            ),
            (json!({"s": "", "n": "", "list": []}), None, None, vec![]),
            (
                json!({"s": "x", "n": 7, "list": ["a", "", 3, "b"]}),
                Some("x"),
                Some(7),
                vec!["a", "b"],
            ),
            (json!({"s": 42, "n": "12"}), Some("42"), Some(12), vec![]),
            (json!({"s": true, "n": -1, "list": "a"}), None, None, vec![]),
            (json!({"extra": {"deep": 1}}), None, None, vec![]),
        ];
        for (input, s, n, list) in cases {
            let p = Probe::deserialize(&input).expect("decodes");
            assert_eq!(p.s.as_deref(), s, "{input}");
            assert_eq!(p.n, n, "{input}");
            assert_eq!(p.list, list, "{input}");
        }
    }

    #[test]
    fn filter_header_is_json() {
        let o = filtered("tags", "stackdock-0123456789abcdef");
        assert_eq!(
            o.headers,
            vec![(
                "X-Filter".to_owned(),
                r#"{"tags":"stackdock-0123456789abcdef"}"#.to_owned()
            )]
        );
        let o = filtered("label", "a\"b");
        assert_eq!(o.headers[0].1, r#"{"label":"a\"b"}"#);
    }

    #[test]
    fn routes_get_their_method() {
        assert_eq!(with_method("GET", "/volumes"), "GET /volumes");
        assert_eq!(with_method("GET", "POST /volumes"), "POST /volumes");
    }
}
