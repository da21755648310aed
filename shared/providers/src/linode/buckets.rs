//! Linode Object Storage buckets (`/object-storage/buckets`) as `buckets` records: the wire type,
//! the mapping (a bucket has no id: it is `<region>/<label>`), and create / delete / readiness.
//!
//! Buckets have no tags, so ownership is the label. A bucket that still holds objects is never
//! emptied here: deleting it is refused with a message saying so.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::{Attrs, BucketAttrs};
use stackdock_core::{Kind, Record};

use super::Linode;
use super::client::{Collection, de, not_in_place, seal, skeleton, spec_str, to_i64};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

const LIST: &str = "/object-storage/buckets";
const ONE: &str = "/object-storage/buckets/{region}/{label}";
const CREATE: &str = "POST /object-storage/buckets";
/// Buckets are addressed by `<region>/<label>`, not a number: get and delete are this file's.
const COLLECTION: Collection = Collection {
    list: LIST,
    one: ONE,
    map: record,
};

// ---------------------------------------------------------------------------------------------
// Wire types ([linodego] object_storage_buckets.go `ObjectStorageBucket`; provider-apis.md §3.7)

/// The fields the mapping reads; the whole object is kept as JSON for `fullApiData`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Wire {
    #[serde(deserialize_with = "de::opt_string")]
    label: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    region: Option<String>,
    /// Deprecated by Linode in favour of `region`, still returned.
    #[serde(deserialize_with = "de::opt_string")]
    cluster: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    hostname: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    s3_endpoint: Option<String>,
    /// Bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    size: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64")]
    objects: Option<u64>,
}

/// `POST /object-storage/buckets` ([linodego] `ObjectStorageBucketCreateOptions`).
#[derive(Debug, Serialize)]
struct CreateBody<'a> {
    label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
}

// ---------------------------------------------------------------------------------------------
// Mapping

/// The region of a legacy cluster id (`us-east-1` → `us-east`).
pub(super) fn cluster_region(cluster: &str) -> &str {
    match cluster.rsplit_once('-') {
        Some((region, n)) if !region.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => region,
        _ => cluster,
    }
}

/// One bucket object → a `buckets` record, identified as `<region or cluster>/<label>`.
pub(super) fn record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let w: Wire = raw.decode().map_err(|e| format!("a bucket: {e}"))?;
    let label = w.label.ok_or("a bucket without a `label`")?;
    let place = w
        .region
        .clone()
        .or_else(|| w.cluster.clone())
        .ok_or("a bucket with neither `region` nor `cluster`")?;
    let mut r = skeleton(ctx, Kind::Buckets, &format!("{place}/{label}"), &label);
    // Linode reports no bucket status: a listed bucket exists and serves requests.
    r.status = "active".into();
    r.region = w
        .region
        .or_else(|| w.cluster.as_deref().map(|c| cluster_region(c).to_owned()))
        .map(Into::into);
    r.attrs = Attrs::Buckets(BucketAttrs {
        cluster: w.cluster,
        hostname: w.hostname,
        s3_endpoint: w.s3_endpoint,
        size_bytes: to_i64(w.size),
        object_count: to_i64(w.objects),
    });
    Ok(seal(r, raw))
}

/// `<region>/<label>` → its parts, refusing anything that is not a plain region and bucket name
/// (it goes into a URL path).
pub(super) fn parse_id(id: &str) -> Option<(&str, &str)> {
    let (region, label) = id.split_once('/')?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let label_ok = !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !label.starts_with('.');
    (region_ok && label_ok).then_some((region, label))
}

/// Whether a bucket is the one a spec describes: same label and, where the spec says, the same
/// region or cluster (a label is unique per region only).
fn matches_spec(r: &Record, spec: &ResourceSpec) -> bool {
    let Attrs::Buckets(a) = &r.attrs else {
        return false;
    };
    r.name == spec.name
        && spec_str(spec, "region").is_none_or(|want| r.region.as_deref() == Some(want))
        && spec_str(spec, "cluster").is_none_or(|want| a.cluster.as_deref() == Some(want))
}

fn object_count(r: &Record) -> i64 {
    match &r.attrs {
        Attrs::Buckets(a) => a.object_count.unwrap_or(0),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Linode {
    fn bucket_id<'a>(&self, route: &str, id: &'a str) -> Result<(&'a str, &'a str), ProviderError> {
        parse_id(id).ok_or_else(|| {
            self.invalid(
                route,
                format!("`{id}` is not a Linode bucket id (expected `<region>/<label>`)"),
            )
        })
    }

    fn not_empty(&self, route: &str, id: &str, objects: Option<i64>) -> ProviderError {
        let held = objects.map_or_else(String::new, |n| format!(" ({n} objects)"));
        self.invalid(
            route,
            format!(
                "bucket {id} is not empty{held}: StackDock never deletes objects; empty the bucket first (e.g. with an S3 client), then apply again"
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Buckets are Object Storage buckets (`/object-storage/buckets`): ready once listed; a bucket just created may take a moment to be found.
#[derive(Debug)]
pub(super) struct Buckets;

#[async_trait::async_trait]
impl KindAdapter<Linode> for Buckets {
    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    async fn get(&self, l: &Linode, id: &str) -> Result<Option<Record>, ProviderError> {
        let (region, label) = l.bucket_id(&format!("GET {ONE}"), id)?;
        l.get_record(ONE, &format!("{LIST}/{region}/{label}"), record)
            .await
    }

    /// Buckets labelled `spec.name` (in the spec's region or cluster, when it names one). The whole
    /// listing is read and matched here: buckets have no tags to filter on.
    async fn find_owned(
        &self,
        l: &Linode,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Ok(Buckets
            .list(l)
            .await?
            .into_iter()
            .filter(|r| matches_spec(r, spec))
            .collect())
    }

    async fn create(&self, l: &Linode, request: Request<'_>) -> Result<Record, ProviderError> {
        let spec = request.spec;
        let region = spec_str(spec, "region");
        // `cluster` is Linode's legacy spelling of the place; `region` wins when both are given.
        let cluster = spec_str(spec, "cluster").filter(|_| region.is_none());
        if region.is_none() && cluster.is_none() {
            return Err(l.invalid(
                CREATE,
                format!("buckets.{}: give `region` or `cluster`", spec.name),
            ));
        }
        let body = CreateBody {
            label: &spec.name,
            region,
            cluster,
        };
        let answer: Value = l.account.client.post_json(CREATE, LIST, &body, &[]).await?;
        l.map_one(CREATE, answer, record)
    }

    /// Deletes an empty bucket; a bucket with objects is refused (Invalid) and left as it is.
    async fn delete(&self, l: &Linode, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {ONE}");
        let (region, label) = l.bucket_id(&route, id)?;
        let path = format!("{LIST}/{region}/{label}");
        // Read first: an explicit answer beats relying on the wording of the provider's refusal.
        let Some(current) = l.get_record(ONE, &path, record).await? else {
            return Ok(());
        };
        let objects = object_count(&current);
        if objects > 0 {
            return Err(l.not_empty(&route, id, Some(objects)));
        }
        match l.delete_path(ONE, &path).await {
            // Objects written between the read and the delete: Linode refuses, say the same thing.
            Err(e)
                if e.is(ErrorClass::Invalid) && e.message.to_lowercase().contains("not empty") =>
            {
                Err(l.not_empty(&route, id, None))
            }
            other => other,
        }
    }

    fn kind(&self) -> Kind {
        Kind::Buckets
    }

    /// Buckets change nothing in place (a rename or a move is a new bucket).
    async fn update(&self, l: &Linode, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PUT {ONE}");
        if let Some(c) = u.changes.first() {
            return Err(not_in_place(&l.account.ctx, &route, Kind::Buckets, c));
        }
        let (region, label) = l.bucket_id(&route, u.id)?;
        l.require_record(ONE, &format!("{LIST}/{region}/{label}"), record)
            .await
    }

    fn readiness(&self, record: &Record) -> Readiness {
        let _ = record;
        Readiness::Ready
    }

    fn absent_is_pending(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linode::tests::{ctx, fixture_items};
    use crate::provider::assert_no_secret;
    use serde_json::json;
    use stackdock_core::FieldValue;

    const FIXTURE: &str = include_str!("../../../../fixtures/linode/buckets.json");

    #[test]
    fn fixtures_map_to_records() {
        // (id, name, region, cluster, hostname, endpoint, bytes, objects)
        let want = [
            (
                "us-east/old-site-assets",
                "old-site-assets",
                "us-east",
                "us-east-1",
                "old-site-assets.us-east-1.linodeobjects.com",
                "us-east-1.linodeobjects.com",
                18_874_368_000,
                1423,
            ),
            (
                "eu-central/empty-scratch",
                "empty-scratch",
                "eu-central",
                "eu-central-1",
                "empty-scratch.eu-central-1.linodeobjects.com",
                "eu-central-1.linodeobjects.com",
                0,
                0,
            ),
        ];
        let items = fixture_items(FIXTURE);
        assert_eq!(items.len(), want.len());
        for (raw, (id, name, region, cluster, host, endpoint, bytes, objects)) in
            items.into_iter().zip(want)
        {
            let r = record(&ctx(), raw.clone()).expect("maps");
            assert_eq!(r.provider_resource_id, id);
            assert_eq!(r.name, name);
            assert_eq!(r.status, "active");
            assert_eq!(r.region.as_deref(), Some(region));
            assert_eq!(
                r.attrs,
                Attrs::Buckets(BucketAttrs {
                    cluster: Some(cluster.to_owned()),
                    hostname: Some(host.to_owned()),
                    s3_endpoint: Some(endpoint.to_owned()),
                    size_bytes: Some(bytes),
                    object_count: Some(objects),
                })
            );
            assert_eq!(r.field("cluster"), Some(FieldValue::from(cluster)));
            assert_eq!(r.full_api_data, raw);
            assert_eq!(parse_id(&r.provider_resource_id), Some((region, name)));
        }
    }

    #[test]
    fn status_is_always_active_and_place_falls_back_to_the_cluster() {
        let r = record(
            &ctx(),
            json!({"label": "logs", "cluster": "ap-south-1", "size": null}),
        )
        .expect("maps");
        assert_eq!(r.status, "active");
        assert_eq!(r.provider_resource_id, "ap-south-1/logs");
        assert_eq!(r.region.as_deref(), Some("ap-south"));
        assert!(record(&ctx(), json!({"label": "nowhere"})).is_err());
        assert!(record(&ctx(), json!({"region": "us-east"})).is_err());
    }

    #[test]
    fn cluster_regions() {
        for (cluster, region) in [
            ("us-east-1", "us-east"),
            ("eu-central-1", "eu-central"),
            ("us-southeast-12", "us-southeast"),
            ("us-east", "us-east"),
            ("gb-lon", "gb-lon"),
            ("-1", "-1"),
        ] {
            assert_eq!(cluster_region(cluster), region, "{cluster}");
        }
    }

    #[test]
    fn ids_are_checked_before_they_reach_a_path() {
        let table = [
            ("us-east/logs", Some(("us-east", "logs"))),
            ("us-east-1/a.b-c", Some(("us-east-1", "a.b-c"))),
            ("logs", None),
            ("/logs", None),
            ("us-east/", None),
            ("us-east/a/b", None),
            ("us-east/..", None),
            ("us east/logs", None),
            ("us-east/logs?x=1", None),
        ];
        for (id, want) in table {
            assert_eq!(parse_id(id), want, "{id}");
        }
    }

    #[test]
    fn secrets_are_removed_from_full_api_data() {
        let mut raw = fixture_items(FIXTURE).remove(0);
        raw["secret_key"] = json!("SANDBOX-SECRET-s3");
        raw["access"] = json!({"access_key": "AKIA", "secret_key": "SANDBOX-SECRET-s3b"});
        let r = record(&ctx(), raw).expect("maps");
        assert_no_secret(&r);
        assert_eq!(
            r.full_api_data.to_value()["access"],
            json!({"access_key": "AKIA"})
        );
    }

    #[test]
    fn owned_means_same_label_and_place() {
        let r = record(&ctx(), fixture_items(FIXTURE).remove(0)).expect("maps");
        let spec = |fields: &[(&str, &str)]| ResourceSpec {
            name: "old-site-assets".into(),
            owner_tag: "stackdock-00112233aabbccdd".into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), FieldValue::from(*v)))
                .collect(),
            protect: false,
        };
        assert!(matches_spec(&r, &spec(&[])));
        assert!(matches_spec(&r, &spec(&[("region", "us-east")])));
        assert!(matches_spec(&r, &spec(&[("cluster", "us-east-1")])));
        assert!(!matches_spec(&r, &spec(&[("region", "eu-central")])));
        let mut other = spec(&[]);
        other.name = "old-site".into();
        assert!(!matches_spec(&r, &other));
    }
}
