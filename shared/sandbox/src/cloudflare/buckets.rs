//! Cloudflare R2 buckets ([cf-spec] r2-list-buckets, r2-create-bucket, r2-get-bucket,
//! r2-delete-bucket; [cf-go] r2/bucket.go): keyed `<jurisdiction>/<name>`, every request in the
//! jurisdiction its `cf-r2-jurisdiction` header names (`default` without one), so a listing
//! shows one jurisdiction's buckets only; listed by `per_page` (1 to 1,000, default 20) and a
//! cursor in `result_info.cursor`, the buckets under `result.buckets`. A bucket that holds
//! objects is not deleted (409).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{P, Store, bad, check_account, error, ok, store};
use crate::Kind;
use crate::catalog;
use crate::collection::stored;
use crate::editable::{Editable, resource};
use crate::http::{Q, body_object};
use crate::pagination::{self, PageMode, PerPage};
use crate::server::App;
use crate::state::{self, Change, Resource, Slot, fields, time_do};

/// [cf-spec] r2-list-buckets `per_page`.
const PER_PAGE: PerPage = PerPage {
    default: 20,
    min: 1,
    max: 1000,
};

/// [cf-go] r2/bucket.go `BucketLocation`; `locationHint` takes the same values.
const LOCATIONS: [&str; 6] = ["apac", "eeur", "enam", "weur", "wnam", "oc"];
/// [cf-go] r2/bucket.go `BucketJurisdiction`.
const JURISDICTIONS: [&str; 3] = ["default", "eu", "fedramp"];
const HEADER: &str = "cf-r2-jurisdiction";

#[derive(Debug, Hash)]
pub(crate) struct R2Bucket {
    name: String,
    jurisdiction: String,
    location: String,
    created: i64,
    objects: u64,
}

resource!(
    R2Bucket,
    key: |b| format!("{}/{}", b.jurisdiction, b.name),
    label: name,
    summary: |b| ("active", &b.location, &b.jurisdiction, &[] as &[String]),
    edit: |_b| Editable::default(),
    change: |b, change| b.set_objects(change),
);

impl R2Bucket {
    /// A bucket can be given objects; nothing else about it changes (but its deletion).
    fn set_objects(&mut self, change: &Change) -> bool {
        let Change::SetObjects { objects, .. } = change else {
            return false;
        };
        self.objects = *objects;
        true
    }

    fn render(&self) -> Value {
        json!({
            "name": self.name,
            "creation_date": time_do(self.created),
            "location": self.location,
            "storage_class": "Standard",
            "jurisdiction": self.jurisdiction,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

/// `fixtures/cloudflare/buckets.json`: a listing page as the API answers it, each bucket with
/// its `jurisdiction`; they start empty.
pub(super) fn seed_fixtures(store: &mut Store) {
    let mut page = catalog::parse(catalog::CLOUDFLARE_BUCKETS);
    let listed = page["result"]["buckets"].take();
    for v in listed.as_array().into_iter().flatten() {
        let b = R2Bucket {
            name: fields::string(v, "name"),
            jurisdiction: fields::string(v, "jurisdiction"),
            location: fields::string(v, "location"),
            created: state::parse_time(&fields::string(v, "creation_date")),
            objects: 0,
        };
        store.buckets.insert(b.key(), b);
    }
}

fn bulk(_store: &mut Store, slot: Slot) -> R2Bucket {
    R2Bucket {
        name: format!("bulk-bucket-{:06}", slot.n),
        jurisdiction: JURISDICTIONS[0].to_owned(),
        location: "enam".to_owned(),
        created: slot.created,
        objects: 0,
    }
}

stored!(R2Bucket: Kind::Bucket, in Store.buckets, render: |b, _s| b.render(), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/cloudflare/client/v4/accounts/{account_id}/r2/buckets",
            get(list_buckets).post(create_bucket),
        )
        .route(
            "/cloudflare/client/v4/accounts/{account_id}/r2/buckets/{bucket_name}",
            get(get_bucket).delete(delete_bucket),
        )
}

/// The request's jurisdiction (`default` without the header); an unknown one is a 400.
fn jurisdiction(headers: &HeaderMap) -> Result<String, Response> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(JURISDICTIONS[0].to_owned());
    };
    let value = value.to_str().unwrap_or_default().to_ascii_lowercase();
    if JURISDICTIONS.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(bad(10059, &format!("Invalid jurisdiction: {value}")))
    }
}

/// [cf-spec] `r2_bucket_name`: 3 to 63 of `a-z`, `0-9` and `-`, a letter or digit at each end.
fn valid_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn no_such_bucket() -> Response {
    error(
        StatusCode::NOT_FOUND,
        10006,
        "The specified bucket does not exist.",
    )
}

/// `GET /accounts/{account_id}/r2/buckets` in the header's jurisdiction, by name.
async fn list_buckets(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    check_account(&account)?;
    let jurisdiction = jurisdiction(&headers)?;
    let mut st = app.state();
    let store = store(&mut st);
    // In creation order, so a cursor's offset stays put while the listing is walked.
    let seqs = store.buckets.select(|b| b.jurisdiction == jurisdiction);
    let page = pagination::result_info_cursor(seqs.len(), &q, PER_PAGE, mode)
        .map_err(|m| bad(10040, &m))?;
    let listing = store
        .buckets
        .listing(&seqs, page, state::fingerprint, R2Bucket::render);
    drop(st);
    Ok(listing.json("result.buckets"))
}

/// `POST /accounts/{account_id}/r2/buckets` `{name, locationHint?, storageClass?}`.
async fn create_bucket(
    State(app): State<App>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    check_account(&account)?;
    let jurisdiction = jurisdiction(&headers)?;
    let body = body_object(P, &body)?;
    let name = body
        .str("name")?
        .ok_or_else(|| bad(10005, "The specified bucket name is not valid."))?;
    if !valid_name(&name) {
        return Err(bad(10005, "The specified bucket name is not valid."));
    }
    let location = match body.str("locationHint")? {
        Some(hint) if LOCATIONS.contains(&hint.as_str()) => hint,
        Some(hint) => return Err(bad(10085, &format!("Invalid location hint: {hint}"))),
        None => "enam".to_owned(),
    };
    if let Some(class) = body.str("storageClass")?
        && !["Standard", "InfrequentAccess"].contains(&class.as_str())
    {
        return Err(bad(10086, &format!("Invalid storage class: {class}")));
    }
    let b = R2Bucket {
        name,
        jurisdiction,
        location,
        created: state::now(),
        objects: 0,
    };
    let mut st = app.state();
    let store = store(&mut st);
    if store.buckets.get(&b.key()).is_some() {
        return Err(error(
            StatusCode::CONFLICT,
            10004,
            "The bucket you tried to create already exists, and you own it.",
        ));
    }
    let rendered = b.render();
    store.buckets.insert(b.key(), b);
    Ok(ok(rendered))
}

async fn get_bucket(
    State(app): State<App>,
    Path((account, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    check_account(&account)?;
    let key = format!("{}/{name}", jurisdiction(&headers)?);
    let mut st = app.state();
    match store(&mut st).buckets.get(&key) {
        Some(b) => Ok(ok(b.render())),
        None => Err(no_such_bucket()),
    }
}

/// `DELETE …/r2/buckets/{bucket_name}`: an empty bucket only.
async fn delete_bucket(
    State(app): State<App>,
    Path((account, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    check_account(&account)?;
    let key = format!("{}/{name}", jurisdiction(&headers)?);
    let mut st = app.state();
    let store = store(&mut st);
    match store.buckets.get(&key) {
        None => Err(no_such_bucket()),
        Some(b) if b.objects > 0 => Err(error(
            StatusCode::CONFLICT,
            10008,
            "The bucket you tried to delete is not empty.",
        )),
        Some(_) => {
            store.buckets.remove(&key);
            Ok(ok(json!({})))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_document() {
        for ok in ["abc", "acme-assets", "a1-b2", &"a".repeat(63)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["ab", "-abc", "abc-", "Abc", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
