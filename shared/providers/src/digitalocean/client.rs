//! Wire-level DigitalOcean calls and helpers shared by every kind: lenient decoding of the wire
//! types, the record skeleton every mapping starts from, actions (post, then poll
//! `GET /actions/{id}` until completed), tags (`/tags`, `/tags/{tag}/resources`) and id checks.
//!
//! It speaks HTTP only through `DockClient` (retries, pacing, pagination and status
//! classification live there) and never logs a body: request bodies may carry user data.

use std::time::Duration;

use reqwest::Method;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use stackdock_core::{Kind, Record};

use super::DigitalOcean;
use crate::adapter::Dock;
use crate::error::{found, gone_ok};
use crate::http::Item;
use crate::object::{decode_object, unwrap_envelope};
use crate::redact::secret_keys;
use crate::wait::{Poll, poll_until};
use crate::{DockContext, Listed};
use crate::{ErrorClass, ProviderError};

/// How long one action (power off, resize, attach, …) may take. Terraform's DigitalOcean provider
/// waits up to 60 minutes ([tf-do] util/wait.go); a resize of a large disk takes minutes, and an
/// update has no deadline of its own to honour, so this bounds it.
pub(super) const ACTION_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// `null` (or a missing field, with `#[serde(default)]`) as the type's default.
pub(super) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An id sent as a number (droplets, actions) or a string (volumes), as a string; anything else
/// is empty, which the mappings reject.
pub(super) fn id_string<'de, D>(d: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(value_id(&Value::deserialize(d)?).unwrap_or_default())
}

/// A JSON number or non-empty string as an id string.
pub(super) fn value_id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// `Some` of a non-empty string: DigitalOcean sends `""` for unset text fields.
pub(super) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The region slug of a resource: a full region object on reads, a bare slug in some answers.
pub(super) fn region_slug(region: &Value) -> Option<String> {
    match region {
        Value::String(s) => non_empty(s),
        Value::Object(map) => map.get("slug").and_then(Value::as_str).and_then(non_empty),
        _ => None,
    }
}

/// Decodes a wire object; on failure the message names the field that could not be read. serde
/// names only the type it expected, and a listing error that does not say which field broke is
/// not actionable (found by the hostile-response tests: `image = 12345`). Wire types are
/// `#[serde(default)]`, so each field can be tried alone on the error path.
pub(super) fn decode_wire<T: DeserializeOwned>(what: &str, raw: &impl Listed) -> Result<T, String> {
    raw.decode::<T>().map_err(|e| {
        let raw = raw.to_value();
        let field = raw.as_object().and_then(|fields| {
            fields
                .iter()
                .find(|(k, v)| T::deserialize(&json!({ k.as_str(): v })).is_err())
                .map(|(k, _)| k.clone())
        });
        match field {
            Some(field) => format!("{what} has an unexpected `{field}`: {e}"),
            None => format!("{what} has an unexpected shape: {e}"),
        }
    })
}

/// The record every mapping fills in: the dock's ids, the provider, and the whole object
/// without its secrets as `fullApiData` (moved in, not copied).
pub(super) fn base_record(
    ctx: &DockContext,
    kind: Kind,
    id: &str,
    name: &str,
    raw: impl Listed,
) -> Record {
    let mut record = Record::new(&ctx.org, &ctx.dock_id, ctx.provider, kind, id, name);
    record.full_api_data = raw.into_api_data(secret_keys(ctx.provider));
    record
}

/// `region` of a wire type: a region object's `slug` (read without copying the object, which
/// lists every size of the region), a bare slug, or `None` for anything else.
pub(super) fn slug_of<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Slug;
    impl<'de> Visitor<'de> for Slug {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a region")
        }
        fn visit_str<E>(self, s: &str) -> Result<Option<String>, E> {
            Ok(non_empty(s))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
            let mut slug = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "slug" && slug.is_none() {
                    slug = Some(map.next_value::<Value>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(slug.as_ref().and_then(Value::as_str).and_then(non_empty))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Slug)
}

/// An action as `POST …/actions` and `GET /actions/{id}` return it ([do-spec] action.yml).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ActionWire {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// `in-progress`, `completed` or `errored`.
    #[serde(deserialize_with = "null_default")]
    pub status: String,
    #[serde(rename = "type", deserialize_with = "null_default")]
    pub kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionEnvelope {
    action: Option<ActionWire>,
}

/// One resource in a tag request ([do-spec] tags/models/tags_resource.yml).
#[derive(Debug, Serialize)]
struct TagResource<'a> {
    resource_id: &'a str,
    resource_type: &'a str,
}

/// `POST /tags` ([do-spec] tags_create).
#[derive(Debug, Serialize)]
struct NewTag<'a> {
    name: &'a str,
}

#[derive(Debug, Serialize)]
struct TagResources<'a> {
    resources: [TagResource<'a>; 1],
}

/// Whether `id` is usable as a path segment for this kind (droplet and record ids are integers,
/// volume ids UUIDs, zone ids domain names); anything else would address another route.
pub(super) fn valid_id(kind: Kind, id: &str) -> bool {
    !id.is_empty()
        && match kind {
            Kind::Servers | Kind::DomainRecords => id.chars().all(|c| c.is_ascii_digit()),
            Kind::Domains => {
                !id.starts_with('.')
                    && id.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    })
            }
            _ => id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        }
}

/// Maps one provider object (a listed item or a parsed answer) to a record.
pub(crate) type MapFn<T> = fn(&DockContext, T) -> Result<Record, String>;

/// One DigitalOcean collection as its kind file declares it; list, get and delete are written
/// once for every collection (`Dock for DigitalOcean`).
#[derive(Debug)]
pub(crate) struct Collection {
    pub kind: Kind,
    /// The collection's path (`/droplets`); one object is `<list>/<id>`.
    pub list: &'static str,
    /// One object's route as errors and statistics name it (`/droplets/{id}`).
    pub one: &'static str,
    /// The key of a listing's array (`droplets`).
    pub list_key: &'static str,
    /// The key of a single-object answer (`droplet`).
    pub one_key: &'static str,
    /// What DigitalOcean calls one object in messages (`droplet`).
    pub noun: &'static str,
    /// The record of a listed item.
    pub item: MapFn<Item>,
    /// The record of a single object (a get's or a create's answer).
    pub value: MapFn<Value>,
}

impl DigitalOcean {
    /// A listed item of `c` as a record; a shape the mapping cannot use is a transient error of
    /// `route` (the listing is then an error, never a list missing that object).
    pub(super) fn item_record(
        &self,
        c: &Collection,
        route: &str,
        item: Item,
    ) -> Result<Record, ProviderError> {
        (c.item)(&self.account.ctx, item).map_err(|m| self.err(ErrorClass::Transient, route, m))
    }

    /// [`item_record`](Self::item_record) for a single object.
    pub(super) fn value_record(
        &self,
        c: &Collection,
        route: &str,
        value: Value,
    ) -> Result<Record, ProviderError> {
        (c.value)(&self.account.ctx, value).map_err(|m| self.err(ErrorClass::Transient, route, m))
    }

    /// The raw object `id` of `c` (unwrapped from its envelope), `None` if it is gone.
    pub(super) async fn get_value(
        &self,
        c: &Collection,
        id: &str,
    ) -> Result<Option<Value>, ProviderError> {
        let route = format!("GET {}", c.one);
        self.check_id(c.kind, &route, id)?;
        let path = format!("{}/{id}", c.list);
        match found(
            self.account
                .client
                .get_json::<Value>(c.one, &path, &[])
                .await,
        )? {
            Some(body) => {
                unwrap_envelope(&self.account.ctx.dock, &route, body, c.one_key).map(Some)
            }
            None => Ok(None),
        }
    }

    /// The record `id` of `c`, which must exist: gone is a `NotFound` error saying `what`
    /// happened to it (`does not exist`, `disappeared during the update`).
    pub(super) async fn existing(
        &self,
        c: &Collection,
        id: &str,
        what: &str,
    ) -> Result<Record, ProviderError> {
        self.get_of(c, id).await?.ok_or_else(|| {
            let route = format!("GET {}", c.one);
            self.err(
                ErrorClass::NotFound,
                &route,
                format!("{} {id} {what}", c.noun),
            )
        })
    }

    /// `POST <c>` once with `body`; the created object as DigitalOcean answered it.
    pub(super) async fn create_in(
        &self,
        c: &Collection,
        body: &(impl Serialize + Sync),
    ) -> Result<Record, ProviderError> {
        let route = format!("POST {}", c.list);
        let answer: Value = self
            .account
            .client
            .post_json(c.list, c.list, body, &[])
            .await?;
        let raw = unwrap_envelope(&self.account.ctx.dock, &route, answer, c.one_key)?;
        self.value_record(c, &route, raw)
    }

    /// Runs one action on object `id` of `c` (`POST <c>/{id}/actions`) and waits until it
    /// completes.
    pub(super) async fn act<B: Serialize + Sync + ?Sized>(
        &self,
        c: &Collection,
        id: &str,
        body: &B,
        what: &str,
    ) -> Result<(), ProviderError> {
        let route = format!("{}/actions", c.one);
        let path = format!("{}/{id}/actions", c.list);
        self.run_action(&route, &path, body, what).await
    }

    /// A classified error for this dock.
    pub(super) fn err(
        &self,
        class: ErrorClass,
        route: &str,
        message: impl Into<String>,
    ) -> ProviderError {
        ProviderError::new(class, &self.account.ctx.dock, route, message)
    }

    /// Refuses an id that is not one of this kind's (before it reaches a URL).
    pub(super) fn check_id(&self, kind: Kind, route: &str, id: &str) -> Result<(), ProviderError> {
        if valid_id(kind, id) {
            Ok(())
        } else {
            Err(self.err(
                ErrorClass::Invalid,
                route,
                format!(
                    "`{id}` is not a DigitalOcean {} id; pin the entry to the id shown by `stackdock inventory`",
                    kind.noun()
                ),
            ))
        }
    }

    /// Posts an action to `route`/`path` and waits until it completes.
    pub(super) async fn run_action<B: Serialize + ?Sized>(
        &self,
        route: &str,
        path: &str,
        body: &B,
        what: &str,
    ) -> Result<(), ProviderError> {
        let answer: Value = self
            .account
            .client
            .post_json(route, path, body, &[])
            .await?;
        let envelope: ActionEnvelope = decode_object(&self.account.ctx.dock, route, &answer)?;
        let action = envelope.action.ok_or_else(|| {
            self.err(
                ErrorClass::Transient,
                route,
                "the response has no `action` object; the action may have started: run `stackdock sync` to see",
            )
        })?;
        self.wait_action(action, what).await
    }

    /// Polls `GET /actions/{id}` until the action completes ([tf-do] util/wait.go
    /// `WaitForAction`: `errored` fails, `completed` is done).
    pub(super) async fn wait_action(
        &self,
        action: ActionWire,
        what: &str,
    ) -> Result<(), ProviderError> {
        const ROUTE: &str = "GET /actions/{id}";
        if action.status == "completed" {
            return Ok(());
        }
        if action.status == "errored" {
            return Err(self.errored(ROUTE, &action, what));
        }
        if action.id.is_empty() || !action.id.chars().all(|c| c.is_ascii_digit()) {
            return Err(self.err(
                ErrorClass::Transient,
                ROUTE,
                format!("the {what} action has no usable id; run `stackdock sync` to see whether it happened"),
            ));
        }
        let path = format!("/actions/{}", action.id);
        let action_id = action.id.as_str();
        // `poll_until` is the one readiness poller and speaks in records; an action has none, so
        // a placeholder stands for "completed" and is dropped.
        poll_until(
            self.account.tuning.poll,
            ACTION_TIMEOUT,
            &self.account.ctx.dock,
            &format!("{what} (action {})", action.id),
            || {
                let path = path.clone();
                async move {
                    let body: Value = self.account.client.get_json(ROUTE, &path, &[]).await?;
                    let now: ActionEnvelope = decode_object(&self.account.ctx.dock, ROUTE, &body)?;
                    let now = now.action.unwrap_or_default();
                    match now.status.as_str() {
                        "completed" => Ok(Poll::Ready(Record::new(
                            &self.account.ctx.org,
                            &self.account.ctx.dock_id,
                            self.account.ctx.provider,
                            Kind::Servers,
                            action_id,
                            "action",
                        ))),
                        "errored" => Err(self.errored(ROUTE, &now, what)),
                        other => Ok(Poll::Pending(other.to_owned())),
                    }
                }
            },
        )
        .await
        .map(|_| ())
    }

    fn errored(&self, route: &str, action: &ActionWire, what: &str) -> ProviderError {
        self.err(
            ErrorClass::Transient,
            route,
            format!(
                "the {what} action {} ({}) errored at DigitalOcean; run `stackdock sync` and `stackdock plan` to see the resource's state",
                action.id, action.kind
            ),
        )
    }

    /// Creates a tag; one that exists already is fine ("Tag names may be for either existing or
    /// new tags", [do-spec] tags_array.yml — the API answers 201 either way, a conflict is
    /// tolerated too).
    pub(super) async fn ensure_tag(&self, tag: &str) -> Result<(), ProviderError> {
        match self
            .account
            .client
            .post_json::<_, Value>("/tags", "/tags", &NewTag { name: tag }, &[])
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is(ErrorClass::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Tags one resource (creating the tag first).
    pub(super) async fn tag_resource(
        &self,
        tag: &str,
        id: &str,
        resource_type: &str,
    ) -> Result<(), ProviderError> {
        self.ensure_tag(tag).await?;
        let body = TagResources {
            resources: [TagResource {
                resource_id: id,
                resource_type,
            }],
        };
        self.account
            .client
            .post_json::<_, Value>(
                "/tags/{tag}/resources",
                &format!("/tags/{tag}/resources"),
                &body,
                &[],
            )
            .await
            .map(|_| ())
    }

    /// Untags one resource; a tag that no longer exists means it is untagged already.
    ///
    /// DigitalOcean's untag is a `DELETE` with a JSON body, which `DockClient::delete` does not
    /// carry, so the request is built with the plumbing's own builder and sent through its loop.
    pub(super) async fn untag_resource(
        &self,
        tag: &str,
        id: &str,
        resource_type: &str,
    ) -> Result<(), ProviderError> {
        const ROUTE: &str = "/tags/{tag}/resources";
        let body = TagResources {
            resources: [TagResource {
                resource_id: id,
                resource_type,
            }],
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            self.err(
                ErrorClass::Invalid,
                "DELETE /tags/{tag}/resources",
                format!("the request body could not be encoded: {e}"),
            )
        })?;
        let out = self.account.client.outgoing(
            Method::DELETE,
            ROUTE,
            &format!("/tags/{tag}/resources"),
            &[],
            &[],
            Some(bytes),
        )?;
        gone_ok(self.account.client.execute(&out).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_text() {
        assert_eq!(value_id(&json!(42)), Some("42".to_owned()));
        assert_eq!(value_id(&json!("abc")), Some("abc".to_owned()));
        assert_eq!(value_id(&json!("")), None);
        assert_eq!(value_id(&Value::Null), None);
        assert_eq!(non_empty(""), None);
        assert_eq!(
            region_slug(&json!({"slug": "nyc3"})),
            Some("nyc3".to_owned())
        );
        assert_eq!(region_slug(&json!("fra1")), Some("fra1".to_owned()));
        assert_eq!(region_slug(&json!({"slug": ""})), None);
        assert_eq!(region_slug(&Value::Null), None);
    }

    #[test]
    fn path_ids() {
        assert!(valid_id(Kind::Servers, "401000001"));
        assert!(!valid_id(Kind::Servers, "40100/0001"));
        assert!(!valid_id(Kind::Servers, ""));
        assert!(valid_id(
            Kind::BlockVolumes,
            "b1a2c3d4-0000-4e5f-8a9b-000000000001"
        ));
        assert!(!valid_id(Kind::BlockVolumes, "../droplets"));
    }

    #[test]
    fn actions_tolerate_missing_and_null_fields() {
        let a: ActionWire =
            serde_json::from_value(json!({"id": 7, "status": null})).expect("decodes");
        assert_eq!((a.id.as_str(), a.status.as_str()), ("7", ""));
        let a: ActionWire = serde_json::from_value(json!({})).expect("decodes");
        assert!(a.id.is_empty());
    }
}
