//! Cloudflare R2 buckets (`/accounts/{account_id}/r2/buckets`) as `buckets` records ([cf-spec]
//! r2-list-buckets, r2-create-bucket, r2-get-bucket, r2-delete-bucket; [cf-go] r2/bucket.go;
//! provider-apis-2.md §3.2–3.4).
//!
//! A bucket has no id but its name, and its name is unique only within a jurisdiction
//! (`default`, `eu`, `fedramp`), which every request names with the `cf-r2-jurisdiction` header
//! (none for `default`). A listing without the header shows the default jurisdiction only, so
//! the kind's listing is one cursor-paged listing per jurisdiction, and a bucket's id is
//! `<jurisdiction>/<name>` (the jurisdiction is also its `cluster` attribute and the entry's
//! `jurisdiction` key). Its `region` is R2's `location` (`locationHint` at creation).
//!
//! R2 buckets carry no tags: a create whose answer was lost is found again by its name in the
//! entry's jurisdiction (`GET …/r2/buckets/{name}`), as zones are by name. R2 reports no status:
//! a listed bucket is `active`. A bucket that still holds objects is never emptied here: its
//! delete is refused with a message saying so.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::{Attrs, BucketAttrs};
use stackdock_core::{Kind, Record};

use super::declaration::BUCKETS_ROUTE;
use super::{Cloudflare, Collection, seal, skeleton, unexpected};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::error::{found, gone_ok};
use crate::http::{Item, ListOptions};
use crate::object::unwrap_envelope;
use crate::spec::{not_in_place, spec_str};
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

const BUCKET_ROUTE: &str = "/accounts/{account_id}/r2/buckets/{bucket_name}";
/// The request header naming a bucket's jurisdiction ([cf-go] r2/bucket.go).
const JURISDICTION_HEADER: &str = "cf-r2-jurisdiction";
/// R2's jurisdictions; `default` is the one a request without the header is in.
pub(super) const JURISDICTIONS: [&str; 3] = ["default", "eu", "fedramp"];

pub(super) static BUCKETS: Collection = Collection {
    kind: Kind::Buckets,
    list: BUCKETS_ROUTE,
    one: BUCKET_ROUTE,
    key: "result.buckets",
    map: |ctx, item| bucket_record(ctx, item, None),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([cf-go] r2/bucket.go `Bucket`)

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BucketWire {
    name: Option<String>,
    location: Option<String>,
    jurisdiction: Option<String>,
}

/// `POST /accounts/{account_id}/r2/buckets` ([cf-spec] r2-create-bucket): `name` required.
#[derive(Debug, Serialize)]
struct CreateBucket<'a> {
    name: &'a str,
    #[serde(rename = "locationHint", skip_serializing_if = "Option::is_none")]
    location_hint: Option<&'a str>,
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A bucket object → a `buckets` record, `<jurisdiction>/<name>`. The jurisdiction is the
/// object's own, else the one it was listed or read in (`listed_in`), else `default`.
fn bucket_record(
    ctx: &DockContext,
    raw: impl Listed,
    listed_in: Option<&str>,
) -> Result<Record, String> {
    let wire: BucketWire = raw.decode().map_err(|e| format!("a bucket: {e}"))?;
    let name = wire
        .name
        .filter(|s| !s.trim().is_empty())
        .ok_or("a bucket without a `name`")?;
    let jurisdiction = wire
        .jurisdiction
        .filter(|j| !j.is_empty())
        .or(listed_in.map(str::to_owned))
        .unwrap_or_else(|| JURISDICTIONS[0].to_owned())
        .to_ascii_lowercase();
    let mut record = skeleton(ctx, Kind::Buckets, &format!("{jurisdiction}/{name}"), &name);
    // R2 reports no bucket status: a listed bucket exists and serves requests.
    record.status = "active".into();
    // Listed in upper case by the API (`WNAM`), documented and sent in lower case.
    record.region = wire.location.map(|l| l.to_ascii_lowercase().into());
    record.attrs = Attrs::Buckets(BucketAttrs {
        cluster: Some(jurisdiction),
        ..BucketAttrs::default()
    });
    Ok(seal(record, raw))
}

/// `<jurisdiction>/<name>` → its parts, refusing anything that is not a jurisdiction and a
/// bucket name (`^[a-z0-9][a-z0-9-]*[a-z0-9]$`, [cf-spec] `r2_bucket_name`): it goes into a URL
/// path and a header.
pub(super) fn parse_id(id: &str) -> Option<(&str, &str)> {
    let (jurisdiction, name) = id.split_once('/')?;
    let name_ok = (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    (JURISDICTIONS.contains(&jurisdiction) && name_ok).then_some((jurisdiction, name))
}

/// The jurisdiction header of a request in `jurisdiction` (none for `default`).
fn jurisdiction_header(jurisdiction: &str) -> Vec<(&'static str, &str)> {
    if jurisdiction == JURISDICTIONS[0] {
        Vec::new()
    } else {
        vec![(JURISDICTION_HEADER, jurisdiction)]
    }
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Cloudflare {
    /// The dock's account, which R2 needs (the parser requires it on a dock that declares
    /// buckets; a dock without one has none to list).
    fn r2_account(&self, route: &str) -> Result<&str, ProviderError> {
        self.account_id().ok_or_else(|| {
            self.invalid(
                route,
                format!(
                    "R2 buckets live in a Cloudflare account: set `account_id` on dock `{}` (32 hex digits, on the dashboard's overview)",
                    self.ctx().dock
                ),
            )
        })
    }

    fn bucket_id<'a>(&self, route: &str, id: &'a str) -> Result<(&'a str, &'a str), ProviderError> {
        parse_id(id).ok_or_else(|| {
            self.invalid(
                route,
                format!("`{id}` is not an R2 bucket id (expected `<jurisdiction>/<name>`)"),
            )
        })
    }

    /// The buckets of one jurisdiction, every page.
    async fn buckets_in(
        &self,
        account: &str,
        jurisdiction: &str,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {BUCKETS_ROUTE}");
        let mut options = ListOptions::new().path(format!("/accounts/{account}/r2/buckets"));
        for (name, value) in jurisdiction_header(jurisdiction) {
            options = options.header(name, value);
        }
        let map = |item: Item| {
            bucket_record(self.ctx(), item, Some(jurisdiction))
                .map_err(|what| self.unexpected(&route, what))
        };
        self.account
            .client
            .list_mapped(BUCKETS_ROUTE, BUCKETS.key, &options, &map)
            .await
    }

    /// Bucket `<jurisdiction>/<name>`; `None` when R2 says it does not exist.
    async fn bucket(&self, route: &str, id: &str) -> Result<Option<Record>, ProviderError> {
        let (jurisdiction, name) = self.bucket_id(route, id)?;
        let account = self.r2_account(route)?;
        let path = format!("/accounts/{account}/r2/buckets/{name}");
        let headers = jurisdiction_header(jurisdiction);
        let answer = self
            .account
            .client
            .get_json::<Value>(BUCKET_ROUTE, &path, &headers);
        let Some(answer) = found(answer.await)? else {
            return Ok(None);
        };
        self.bucket_answer(route, answer, jurisdiction).map(Some)
    }

    /// One bucket's answer under `result`, mapped in `jurisdiction`.
    fn bucket_answer(
        &self,
        route: &str,
        answer: Value,
        jurisdiction: &str,
    ) -> Result<Record, ProviderError> {
        let result = unwrap_envelope(&self.ctx().dock, route, answer, super::RESULT)?;
        bucket_record(self.ctx(), result, Some(jurisdiction))
            .map_err(|what| unexpected(self.ctx(), route, what))
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// R2 buckets: ready once created (creation is synchronous); nothing changes in place.
#[derive(Debug)]
pub(super) struct Buckets;

#[async_trait::async_trait]
impl KindAdapter<Cloudflare> for Buckets {
    fn kind(&self) -> Kind {
        Kind::Buckets
    }

    fn collection(&self) -> &'static Collection {
        &BUCKETS
    }

    /// Every jurisdiction's buckets. A dock without `account_id` holds no buckets (the parser
    /// refuses one declared there), so its listing is complete and empty.
    async fn list(&self, cf: &Cloudflare) -> Result<Vec<Record>, ProviderError> {
        let Some(account) = cf.account_id() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for jurisdiction in JURISDICTIONS {
            out.extend(cf.buckets_in(account, jurisdiction).await?);
        }
        Ok(out)
    }

    async fn get(&self, cf: &Cloudflare, id: &str) -> Result<Option<Record>, ProviderError> {
        cf.bucket(&format!("GET {BUCKET_ROUTE}"), id).await
    }

    /// The bucket of the entry's name in its jurisdiction, if it exists: the name is unique
    /// there, and it is how a create whose answer was lost is found again.
    async fn find_owned(
        &self,
        cf: &Cloudflare,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let jurisdiction = spec_str(spec, "jurisdiction").unwrap_or(JURISDICTIONS[0]);
        let id = format!("{jurisdiction}/{}", spec.name);
        Ok(cf
            .bucket(&format!("GET {BUCKET_ROUTE}"), &id)
            .await?
            .into_iter()
            .collect())
    }

    async fn create(&self, cf: &Cloudflare, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {BUCKETS_ROUTE}");
        let spec = request.spec;
        let account = cf.r2_account(&route)?;
        let jurisdiction = spec_str(spec, "jurisdiction").unwrap_or(JURISDICTIONS[0]);
        let body = CreateBucket {
            name: &spec.name,
            location_hint: spec_str(spec, "region"),
        };
        let path = format!("/accounts/{account}/r2/buckets");
        let headers = jurisdiction_header(jurisdiction);
        let answer: Value = cf
            .account
            .client
            .post_json(BUCKETS_ROUTE, &path, &body, &headers)
            .await?;
        cf.bucket_answer(&route, answer, jurisdiction)
    }

    /// Buckets change nothing StackDock manages in place (a location or jurisdiction is another
    /// bucket).
    async fn update(&self, cf: &Cloudflare, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {BUCKET_ROUTE}");
        if let Some(change) = u.changes.first() {
            return Err(not_in_place(cf.ctx(), &route, Kind::Buckets, change));
        }
        cf.bucket(&route, u.id).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                &cf.ctx().dock,
                &route,
                format!(
                    "bucket {} no longer exists; run `stackdock sync` to refresh the inventory",
                    u.id
                ),
            )
        })
    }

    /// Deletes an empty bucket; R2 refuses one that holds objects (409), which is said plainly.
    async fn delete(&self, cf: &Cloudflare, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {BUCKET_ROUTE}");
        let (jurisdiction, name) = cf.bucket_id(&route, id)?;
        let account = cf.r2_account(&route)?;
        let path = format!("/accounts/{account}/r2/buckets/{name}");
        let headers = jurisdiction_header(jurisdiction);
        match gone_ok(cf.account.client.delete(BUCKET_ROUTE, &path, &headers).await) {
            Err(e) if e.is(ErrorClass::Conflict) => Err(cf.invalid(
                &route,
                format!(
                    "bucket {id} is not empty: StackDock never deletes objects; empty the bucket first (e.g. with an S3 client), then apply again"
                ),
            )),
            other => other,
        }
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stackdock_core::FieldValue;

    use super::*;
    use crate::cloudflare::tests::ctx;

    #[test]
    fn buckets_map_with_their_jurisdiction_and_location() {
        let raw = json!({"name": "acme-assets", "creation_date": "2026-01-02T03:04:05.000Z",
            "location": "WNAM", "storage_class": "Standard"});
        let r = bucket_record(&ctx(), raw.clone(), None).expect("maps");
        assert_eq!(r.provider_resource_id, "default/acme-assets");
        assert_eq!(
            (r.name.as_str(), r.status.as_str()),
            ("acme-assets", "active")
        );
        assert_eq!(r.region.as_deref(), Some("wnam"));
        assert_eq!(r.field("jurisdiction"), Some(FieldValue::from("default")));
        assert_eq!(r.full_api_data, raw);
        let eu = bucket_record(&ctx(), json!({"name": "acme-assets"}), Some("eu")).expect("maps");
        assert_eq!(eu.provider_resource_id, "eu/acme-assets");
        assert_eq!(eu.region, None);
        let own = json!({"name": "logs", "jurisdiction": "fedramp"});
        let r = bucket_record(&ctx(), own, Some("eu")).expect("maps");
        assert_eq!(r.provider_resource_id, "fedramp/logs");
        assert!(bucket_record(&ctx(), json!({"location": "enam"}), None).is_err());
    }

    #[test]
    fn ids_are_checked_before_they_reach_a_path_or_a_header() {
        let table = [
            ("default/acme-assets", Some(("default", "acme-assets"))),
            ("eu/a1b", Some(("eu", "a1b"))),
            ("fedramp/logs", Some(("fedramp", "logs"))),
            ("acme-assets", None),
            ("us/acme-assets", None),
            ("eu/ab", None),
            ("eu/-ab", None),
            ("eu/Assets", None),
            ("eu/a/b", None),
            ("eu/..", None),
            ("eu/logs?x=1", None),
        ];
        for (id, want) in table {
            assert_eq!(parse_id(id), want, "{id}");
        }
    }

    #[test]
    fn only_other_jurisdictions_send_the_header() {
        assert!(jurisdiction_header("default").is_empty());
        assert_eq!(jurisdiction_header("eu"), [(JURISDICTION_HEADER, "eu")]);
    }

    #[test]
    fn the_create_body_is_the_documented_one() {
        let body = CreateBucket {
            name: "acme-assets",
            location_hint: Some("weur"),
        };
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            json!({"name": "acme-assets", "locationHint": "weur"})
        );
        let bare = CreateBucket {
            name: "acme-assets",
            location_hint: None,
        };
        assert_eq!(
            serde_json::to_value(&bare).expect("json"),
            json!({"name": "acme-assets"})
        );
    }
}
