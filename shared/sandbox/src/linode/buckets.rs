//! Linode Object Storage buckets (`/object-storage/buckets`), keyed `region/label`: the stored
//! bucket and its JSON, its `X-Filter` fields, its fixtures and bulk generation, out-of-band
//! changes, and the handlers (list, list by region, create, get, delete).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::filter::{self, Field, Filterable};
use super::{P, Store, bad, check_region, field_err, nf, ok_empty, store};
use crate::Kind;
use crate::catalog::{self, LINODE_REGIONS};
use crate::collection::stored;
use crate::editable::{Editable, resource};
use crate::http::{Q, body_object, json};
use crate::pagination::PageMode;
use crate::server::App;
use crate::state::{self, Change, Resource, Slot, fields, time_linode};

#[derive(Debug, Hash)]
pub(crate) struct Bucket {
    label: String,
    region: String,
    created: i64,
    objects: u64,
    size: u64,
    endpoint_type: String,
}

resource!(
    Bucket,
    key: |b| format!("{}/{}", b.region, b.label),
    label: label,
    summary: |b| ("active", &b.region, &b.endpoint_type, &[]),
    edit: |_b| Editable::default(),
    change: |b, change| b.set_objects(change),
);

impl Bucket {
    /// A bucket can be given objects; nothing else about it changes (but its deletion).
    fn set_objects(&mut self, change: &Change) -> bool {
        let Change::SetObjects {
            objects,
            size_bytes,
        } = change
        else {
            return false;
        };
        self.objects = *objects;
        self.size = *size_bytes;
        true
    }

    pub(super) fn render(&self) -> Value {
        let cluster = catalog::linode_cluster(&self.region);
        json!({
            "label": self.label,
            "region": self.region,
            "cluster": cluster,
            "created": time_linode(self.created),
            "hostname": format!("{}.{cluster}.linodeobjects.com", self.label),
            "objects": self.objects,
            "size": self.size,
            "s3_endpoint": format!("{cluster}.linodeobjects.com"),
            "endpoint_type": self.endpoint_type,
        })
    }
}

impl Filterable for Bucket {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        Some(match name {
            "label" => Field::Str(&self.label),
            "region" => Field::Str(&self.region),
            "cluster" => return None,
            "created" => Field::Num(u64::try_from(self.created).unwrap_or(0)),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(store: &mut Store) {
    for v in catalog::items(catalog::LINODE_BUCKETS, "data") {
        let b = Bucket {
            label: fields::string(&v, "label"),
            region: fields::string(&v, "region"),
            created: state::parse_time(&fields::string(&v, "created")),
            objects: fields::uint(&v, "objects"),
            size: fields::uint(&v, "size"),
            endpoint_type: fields::string(&v, "endpoint_type"),
        };
        store.buckets.insert(b.key(), b);
    }
}

fn bulk(_store: &mut Store, slot: Slot) -> Bucket {
    let b = slot.n;
    Bucket {
        label: format!("bulk-bucket-{b:06}"),
        region: slot.region,
        created: slot.created,
        objects: if b.is_multiple_of(3) { 0 } else { b * 7 },
        size: if b.is_multiple_of(3) { 0 } else { b * 7 * 4096 },
        endpoint_type: "E1".to_owned(),
    }
}

stored!(Bucket: Kind::Bucket, in Store.buckets, render: |b, _s| b.render(), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/linode/v4/object-storage/buckets",
            get(list_buckets).post(create_bucket),
        )
        .route(
            "/linode/v4/object-storage/buckets/{region}",
            get(list_region_buckets),
        )
        .route(
            "/linode/v4/object-storage/buckets/{region}/{label}",
            get(get_bucket).delete(delete_bucket),
        )
}

fn list_buckets_in(
    app: &App,
    region: Option<&str>,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Response, Response> {
    let mut filter = filter::parse_filter(headers)?;
    if let Some(r) = region {
        if !LINODE_REGIONS.contains(&r) {
            return Err(nf());
        }
        filter
            .conditions
            .insert("region".to_owned(), Value::String(r.to_owned()));
    }
    let mut st = app.state();
    let listing = filter::list(
        &mut store(&mut st).buckets,
        &filter,
        (q, mode),
        state::fingerprint,
        Bucket::render,
    )?;
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    Ok(listing.json("data"))
}

async fn list_buckets(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    list_buckets_in(&app, None, &headers, &q, mode)
}

async fn list_region_buckets(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(region): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    list_buckets_in(&app, Some(&region), &headers, &q, mode)
}

fn valid_bucket_label(label: &str) -> bool {
    (3..=63).contains(&label.len())
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && label.starts_with(|c: char| c.is_ascii_alphanumeric())
        && label.ends_with(|c: char| c.is_ascii_alphanumeric())
}

async fn create_bucket(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label = body
        .str("label")?
        .ok_or_else(|| field_err("label", "label is required"))?;
    if !valid_bucket_label(&label) {
        return Err(field_err(
            "label",
            "Label must be 3-63 characters of lowercase letters, numbers, dashes and periods, and start and end with a letter or number",
        ));
    }
    let region = match (body.str("region")?, body.str("cluster")?) {
        (Some(r), _) => r,
        (None, Some(c)) => c.strip_suffix("-1").unwrap_or(&c).to_owned(),
        (None, None) => return Err(field_err("region", "region is required")),
    };
    check_region(&region)?;
    let endpoint_type = body
        .str("endpoint_type")?
        .unwrap_or_else(|| "E1".to_owned());
    let mut st = app.state();
    let store = store(&mut st);
    let b = Bucket {
        label,
        region,
        created: state::now(),
        objects: 0,
        size: 0,
        endpoint_type,
    };
    // Bucket labels are S3 bucket names: creating one this account already owns answers 200 with
    // that bucket, unchanged (the caller cannot tell a new bucket from an old one by the answer).
    if let Some(existing) = store.buckets.get(&b.key()) {
        return Ok(json(StatusCode::OK, &existing.render()));
    }
    let rendered = b.render();
    store.buckets.insert(b.key(), b);
    Ok(json(StatusCode::OK, &rendered))
}

async fn get_bucket(
    State(app): State<App>,
    Path((region, label)): Path<(String, String)>,
) -> Response {
    let mut st = app.state();
    match store(&mut st).buckets.get(&format!("{region}/{label}")) {
        Some(b) => json(StatusCode::OK, &b.render()),
        None => nf(),
    }
}

async fn delete_bucket(
    State(app): State<App>,
    Path((region, label)): Path<(String, String)>,
) -> Response {
    let key = format!("{region}/{label}");
    let mut st = app.state();
    let store = store(&mut st);
    match store.buckets.get(&key) {
        None => nf(),
        Some(b) if b.objects > 0 => bad(
            "Bucket is not empty. You need to remove all objects from a bucket before you can delete it.",
        ),
        Some(_) => {
            store.buckets.remove(&key);
            ok_empty()
        }
    }
}
