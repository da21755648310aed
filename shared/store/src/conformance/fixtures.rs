//! The records, statuses and runs the checks write: fixed times, every field set.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use stackdock_core::record::{
    Attrs, BucketAttrs, DatabaseAttrs, DockStatus, DomainAttrs, DomainRecordAttrs, RecordKey,
    ServerAttrs, VolumeAttrs, WebServiceAttrs, WebServiceBuild, WebServiceRepo, dock_id,
};
use stackdock_core::{Kind, ProviderKind, Record, VecSet};

use crate::{
    DockSync, Intent, KindListing, LogLine, RunKind, RunRecord, Store, StoreError, SyncStats,
};

use super::ORG;

/// A fixed instant: `seconds` after 2023-11-14T22:13:20Z.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds)
        .unwrap_or_else(|e| panic!("fixture time {seconds}s is out of range: {e}"))
}

/// A listed server (observed half only, hash set).
pub fn server(org: &str, dock: &str, id: &str, name: &str, region: &str) -> Record {
    let mut record = Record::new(org, dock, ProviderKind::Vultr, Kind::Servers, id, name);
    record.status = "running".into();
    record.region = Some(region.into());
    record.attrs = Attrs::Servers(ServerAttrs {
        instance_type: Some("vc2-1c-1gb".into()),
        ip_address: Some("203.0.113.10".into()),
        image: Some("ubuntu-24.04".into()),
        tags: VecSet::from(["web".to_owned()]),
    });
    record.full_api_data = json!({ "id": id, "label": name, "region": region, "ram": 1024 }).into();
    record.with_hash()
}

/// A listed record of `kind` with every kind attribute set and nested `fullApiData`.
pub fn full_record(kind: Kind, org: &str, dock: &str, id: &str) -> Record {
    let s = |v: &str| Some(v.to_owned());
    let mut record = Record::new(
        org,
        dock,
        ProviderKind::Vultr,
        kind,
        id,
        format!("{kind}-{id}"),
    );
    record.status = "active".into();
    record.region = Some("ewr".into());
    record.attrs = match kind {
        Kind::Servers => Attrs::Servers(ServerAttrs {
            instance_type: s("vc2-2c-4gb"),
            ip_address: s("203.0.113.7"),
            image: s("debian-12"),
            tags: VecSet::from(["a".to_owned(), "stackdock-0123456789abcdef".to_owned()]),
        }),
        Kind::BlockVolumes => Attrs::BlockVolumes(VolumeAttrs {
            size_gb: Some(40),
            attached_to_instance: s("id-1"),
            attached_to_instance_label: s("web-1"),
            mount_id: s("ewr-abc"),
            block_type: s("high_perf"),
            filesystem_type: s("ext4"),
        }),
        Kind::Buckets => Attrs::Buckets(BucketAttrs {
            cluster: s("ewr1"),
            hostname: s("b.ewr1.example"),
            s3_endpoint: s("https://ewr1.example"),
            size_bytes: Some(5_000_000_000_000),
            object_count: Some(0),
        }),
        Kind::Databases => Attrs::Databases(DatabaseAttrs {
            engine: s("pg"),
            version: s("16"),
            instance_type: s("vultr-dbaas-startup"),
            host: s("db.example"),
            port: Some(5432),
        }),
        Kind::WebServices => Attrs::WebServices(Box::new(WebServiceAttrs {
            subtype: s("project"),
            production_url: s("https://www.acme.example"),
            default_url: s("https://app-acme.vercel.app"),
            custom_domains: ["www.acme.example".to_owned()].into(),
            repo: WebServiceRepo {
                provider: s("github"),
                full_name: s("acme/app"),
                branch: s("main"),
            },
            framework: s("nextjs"),
            provider_status: s("READY"),
            last_deploy_at: s("2026-08-20T10:00:00Z"),
            last_deploy_id: s("dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa"),
            last_commit_sha: s("9f2c4e1"),
            env_var_names: [
                "API_URL@production".to_owned(),
                "API_URL@preview".to_owned(),
            ]
            .into(),
            build: WebServiceBuild {
                root_directory: s("apps/web"),
                build_command: s("npm run build"),
                install_command: s("npm ci"),
                output_directory: None,
            },
        })),
        Kind::Domains => Attrs::Domains(DomainAttrs {
            zone_name: s("acme.example"),
            dns_hosted: true,
            assigned_nameservers: vec!["ns1.example".into(), "ns2.example".into()],
            registrar: None,
            expires_at: s("2030-01-01"),
            records_count: Some(2),
            records_digest: s("0f1e2d"),
        }),
        // Every attribute set, both flags true (no single record type uses them all; the store
        // keeps whatever it is given).
        Kind::DomainRecords => Attrs::DomainRecords(DomainRecordAttrs {
            zone: s("acme.example"),
            fqdn: s("_sip._tcp.acme.example"),
            record_type: s("SRV"),
            value: s("sip.acme.example"),
            ttl: Some(300),
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            flags: Some(128),
            tag: s("issue"),
            proxied: true,
            managed: true,
        }),
    };
    record.full_api_data = json!({
        "id": id,
        "nested": { "list": [1, 2.5, "three", null, true], "empty": {} },
        "unicode": "ünïcødé ✓ \"quoted\"",
    })
    .into();
    record.with_hash()
}

pub(super) fn listing(kind: Kind, records: Vec<Record>, complete: bool) -> KindListing {
    KindListing {
        kind,
        records,
        complete,
        regions: None,
        started_at: None,
    }
}

pub(super) fn status(org: &str, dock: &str, synced: Option<Timestamp>) -> DockStatus {
    DockStatus {
        org_id: org.into(),
        dock_id: dock.into(),
        name: dock.rsplit('/').next().unwrap_or(dock).into(),
        provider: ProviderKind::Vultr,
        last_sync_at: synced,
        last_attempt_at: synced,
        catalog: None,
        env_fingerprints: Default::default(),
        last_error: None,
    }
}

pub(super) fn dock_sync(
    org: &str,
    dock: &str,
    now: Timestamp,
    listings: Vec<KindListing>,
) -> DockSync {
    let complete = listings.iter().all(|l| l.complete);
    DockSync {
        org_id: org.into(),
        dock_id: dock.into(),
        status: DockStatus {
            last_attempt_at: Some(now),
            ..status(org, dock, complete.then_some(now))
        },
        listings,
        now,
    }
}

pub(super) async fn sync_servers(
    store: &Arc<dyn Store>,
    dock: &str,
    now: Timestamp,
    records: Vec<Record>,
    complete: bool,
) -> SyncStats {
    let org = records
        .first()
        .map_or_else(|| ORG.to_owned(), |r| r.org_id.to_string());
    ok(
        store
            .commit_sync(dock_sync(
                &org,
                dock,
                now,
                vec![listing(Kind::Servers, records, complete)],
            ))
            .await,
        "commit a servers sync",
    )
}

pub(super) fn run(id: &str, org: &str, kind: RunKind, started: Timestamp) -> RunRecord {
    let mut run = RunRecord::new(id, org, kind, "ci@runner-1", started);
    run.log.push(LogLine {
        at: started,
        message: format!("{kind:?} started"),
    });
    run
}

pub(super) fn intent(org: &str, address: &str, run_id: &str) -> Intent {
    let name = address.rsplit('.').next().unwrap_or(address);
    Intent {
        org_id: org.into(),
        address: address.into(),
        dock_id: dock_id(org, "vultr-main"),
        kind: Kind::Servers,
        name: name.into(),
        owner_tag: stackdock_core::record::owner_tag(org, address),
        run_id: run_id.into(),
        created_at: at(0),
    }
}

pub(super) async fn must_get(store: &Arc<dyn Store>, key: &RecordKey) -> Record {
    ok(store.get(key).await, "get a record")
        .unwrap_or_else(|| panic!("{key:?} should be stored, `get` finds nothing"))
}

pub(super) fn assert_bookkeeping(stored: &Record, expected: &Record, when: &str) {
    assert_eq!(
        stored.managed_by, expected.managed_by,
        "{when}: managedBy must survive"
    );
    assert_eq!(
        stored.protect, expected.protect,
        "{when}: protect must survive"
    );
    assert_eq!(
        stored.provisioning_source, expected.provisioning_source,
        "{when}: provisioningSource must survive"
    );
    assert_eq!(
        stored.provisioning_state, expected.provisioning_state,
        "{when}: provisioningState must survive"
    );
    assert_eq!(
        stored.provisioned_at, expected.provisioned_at,
        "{when}: provisionedAt must survive"
    );
    assert_eq!(
        stored.provisioning_error, expected.provisioning_error,
        "{when}: provisioningError must survive"
    );
    assert_eq!(
        stored.applied, expected.applied,
        "{when}: applied must survive"
    );
    assert_eq!(stored.drift, expected.drift, "{when}: drift must survive");
}

/// Unwraps a store call, panicking with what was being done and the store's error.
pub(super) fn ok<T>(result: Result<T, StoreError>, doing: &str) -> T {
    result.unwrap_or_else(|e| panic!("{doing}: the store failed: {e}"))
}
