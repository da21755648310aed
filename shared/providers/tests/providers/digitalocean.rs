//! What is particular to the digitalocean adapter, against the provider sandbox: the fixtures'
//! mapping (GPU droplets), the server and volume lifecycles as DigitalOcean does them (actions,
//! the tag API, detach before delete), faults (pagination loop, 429 storm), the credential never
//! leaking, and catalog validation. What every adapter does (complete listings, 404 → none, a lost
//! create found again, delete twice, secrets removed) is the conformance suite's
//! (`conformance.rs`). Request counts are asserted where they are deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::support::{MAX_ATTEMPTS, change, connect_as, dock, request, spec_at};

use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::http::RateLimits;
use stackdock_providers::{DockContext, ErrorClass, Provider, Request};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SandboxKind, Provider as SandboxProvider, SECRET_MARKER, Sandbox,
    SandboxConfig, SandboxHandle,
};

const DO: SandboxProvider = SandboxProvider::Digitalocean;
const ENV: &str = "DIGITALOCEAN_TOKEN";
const READY: Duration = Duration::from_secs(10);

fn ctx() -> DockContext {
    dock(ProviderKind::DigitalOcean, "do-main", ENV)
}

fn adapter_with_token(sandbox: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(sandbox, ctx(), DO, token, |settings| {
        settings.rate_limits = RateLimits::unlimited();
    })
}

async fn start(config: SandboxConfig) -> (SandboxHandle, Arc<dyn Provider>) {
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let adapter = adapter_with_token(&sandbox, &sandbox.token(DO));
    (sandbox, adapter)
}

fn route(method: &str, path: &str) -> String {
    format!("{method} /digitalocean/v2{path}")
}

fn count(sandbox: &SandboxHandle, method: &str, path: &str) -> u64 {
    sandbox.counters().route(&route(method, path))
}

fn spec(name: &str, fields: &[(&str, FieldValue)]) -> ResourceSpec {
    spec_at(&format!("test.{name}"), name, fields)
}

fn server_spec(name: &str) -> ResourceSpec {
    spec(
        name,
        &[
            ("region", "nyc3".into()),
            ("plan", "s-1vcpu-1gb".into()),
            ("image", "ubuntu-24-04-x64".into()),
            ("tags", FieldValue::set(["web"])),
            ("ssh_keys", FieldValue::set(["12345"])),
            ("user_data_file", "cloud-init.yaml".into()),
        ],
    )
}

fn tags(r: &Record) -> BTreeSet<String> {
    match &r.attrs {
        Attrs::Servers(a) => a.tags.clone(),
        _ => BTreeSet::new(),
    }
}

fn volume_attrs(r: &Record) -> stackdock_core::record::VolumeAttrs {
    match &r.attrs {
        Attrs::BlockVolumes(a) => a.clone(),
        other => panic!("not a volume: {other:?}"),
    }
}

/// A running droplet created through the adapter.
async fn running_server(adapter: &dyn Provider, spec: &ResourceSpec) -> Record {
    let created = adapter
        .create(Kind::Servers, request(spec))
        .await
        .expect("create");
    adapter
        .wait_ready(Kind::Servers, &created.provider_resource_id, READY)
        .await
        .expect("ready")
}

#[tokio::test]
async fn fixtures_list_as_records_with_gpu_droplets_and_no_secrets() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    sandbox.seed_fixtures();

    adapter
        .check_credentials()
        .await
        .expect("credentials accepted");
    assert_eq!(count(&sandbox, "GET", "/account"), 1);

    let servers = adapter.list(Kind::Servers).await.expect("servers");
    let got: BTreeMap<&str, (&str, Option<&str>)> = servers
        .iter()
        .map(|r| (r.name.as_str(), (r.status.as_str(), r.region.as_deref())))
        .collect();
    assert_eq!(
        got,
        BTreeMap::from([
            ("grafana-legacy", ("running", Some("fra1"))),
            ("staging-scratch", ("stopped", Some("nyc3"))),
            // Only in the `type=gpus` listing.
            ("ml-trainer", ("running", Some("tor1"))),
        ])
    );
    // The default listing and the GPU listing, one page each.
    assert_eq!(count(&sandbox, "GET", "/droplets"), 2);
    for r in &servers {
        assert_eq!(r.dock_id, "acme/do-main");
        assert_eq!(r.provider, ProviderKind::DigitalOcean);
        assert!(!r.content_hash.is_empty());
        assert!(r.field("plan").is_some() && r.field("image").is_some());
    }

    let volumes = adapter.list(Kind::BlockVolumes).await.expect("volumes");
    let got: BTreeMap<&str, (Option<i64>, Option<String>)> = volumes
        .iter()
        .map(|r| {
            let a = volume_attrs(r);
            (r.name.as_str(), (a.size_gb, a.attached_to_instance))
        })
        .collect();
    assert_eq!(
        got,
        BTreeMap::from([
            ("grafana-data", (Some(20), Some("401000001".to_owned()))),
            ("scratch-vol", (Some(100), None)),
        ])
    );
    assert!(volumes.iter().all(|r| r.status == "active"));
    assert_eq!(count(&sandbox, "GET", "/volumes"), 1);

    for kind in [Kind::Buckets, Kind::Databases] {
        let e = adapter.list(kind).await.expect_err("unsupported kind");
        assert_eq!(e.class, ErrorClass::Invalid, "{e}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn server_lifecycle_create_wait_find_update_delete() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    let spec = server_spec("web-1");
    let user_data = format!("#cloud-config\n# {SECRET_MARKER}user-data\n");
    let created = adapter
        .create(
            Kind::Servers,
            Request {
                spec: &spec,
                user_data: Some(&user_data),
                attach_to_id: None,
            },
        )
        .await
        .expect("create");
    assert_eq!(count(&sandbox, "POST", "/droplets"), 1);
    assert_eq!(created.name, "web-1");
    assert_eq!(created.status, "pending");
    assert_eq!(created.region.as_deref(), Some("nyc3"));
    assert_eq!(
        tags(&created),
        BTreeSet::from(["web".to_owned(), spec.owner_tag.clone()])
    );
    assert_eq!(created.field("tags"), Some(FieldValue::set(["web"])));
    assert_eq!(
        created.field("image"),
        Some(FieldValue::from("ubuntu-24-04-x64"))
    );
    let id = created.provider_resource_id.clone();

    let ready = adapter
        .wait_ready(Kind::Servers, &id, READY)
        .await
        .expect("ready");
    assert_eq!(ready.status, "running");
    assert!(matches!(&ready.attrs, Attrs::Servers(a) if a.ip_address.is_some()));

    let found = adapter
        .find_owned(Kind::Servers, &spec)
        .await
        .expect("find");
    assert_eq!(
        found
            .iter()
            .map(|r| r.provider_resource_id.as_str())
            .collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    let other = server_spec("web-2");
    assert!(
        adapter
            .find_owned(Kind::Servers, &other)
            .await
            .expect("find")
            .is_empty()
    );

    // Rename.
    let renamed = adapter
        .update(
            Kind::Servers,
            &id,
            &[change("name", Some("web-1".into()), Some("web-1a".into()))],
            request(&spec),
        )
        .await
        .expect("rename");
    assert_eq!(renamed.name, "web-1a");

    // Resize: power off, resize, power on, each action waited for.
    sandbox.reset_counters();
    let resized = adapter
        .update(
            Kind::Servers,
            &id,
            &[change(
                "plan",
                Some("s-1vcpu-1gb".into()),
                Some("s-2vcpu-4gb".into()),
            )],
            request(&spec),
        )
        .await
        .expect("resize");
    assert_eq!(resized.field("plan"), Some(FieldValue::from("s-2vcpu-4gb")));
    assert_eq!(count(&sandbox, "POST", "/droplets/{id}/actions"), 3);
    assert!(count(&sandbox, "GET", "/actions/{id}") >= 3);
    let ready = adapter
        .wait_ready(Kind::Servers, &id, READY)
        .await
        .expect("running again");
    assert_eq!(ready.status, "running");

    // Tags: the user's set changes, the ownership tag stays.
    let retagged = adapter
        .update(
            Kind::Servers,
            &id,
            &[change(
                "tags",
                Some(FieldValue::set(["web"])),
                Some(FieldValue::set(["api", "db"])),
            )],
            request(&spec),
        )
        .await
        .expect("retag");
    assert_eq!(
        tags(&retagged),
        BTreeSet::from(["api".to_owned(), "db".to_owned(), spec.owner_tag.clone()])
    );
    // DigitalOcean keeps a tag's first capitalisation: asking for `API` where `api` is present
    // changes nothing (before, the retag removed `api`, the tag asked for).
    let recased = adapter
        .update(
            Kind::Servers,
            &id,
            &[change(
                "tags",
                Some(FieldValue::set(["api", "db"])),
                Some(FieldValue::set(["API", "db"])),
            )],
            request(&spec),
        )
        .await
        .expect("retag with other case");
    assert_eq!(tags(&recased), tags(&retagged));
    assert_eq!(
        adapter
            .find_owned(Kind::Servers, &spec)
            .await
            .expect("find")
            .len(),
        1
    );

    // A field that cannot change in place.
    let e = adapter
        .update(
            Kind::Servers,
            &id,
            &[change("region", Some("nyc3".into()), Some("fra1".into()))],
            request(&spec),
        )
        .await
        .expect_err("region is a replace");
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("`region`"), "{e}");

    adapter.delete(Kind::Servers, &id).await.expect("delete");
    assert!(
        adapter
            .get(Kind::Servers, &id)
            .await
            .expect("get")
            .is_none()
    );
    adapter
        .delete(Kind::Servers, &id)
        .await
        .expect("deleting again is success");
    assert!(
        sandbox
            .resources(DO, SandboxKind::Instance)
            .expect("resources")
            .is_empty()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn volume_lifecycle_create_attach_grow_detach_delete() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    let server = running_server(adapter.as_ref(), &server_spec("db-1")).await;
    let droplet = server.provider_resource_id.clone();

    let vspec = spec(
        "db-data",
        &[
            ("region", "nyc3".into()),
            ("size_gb", FieldValue::Int(10)),
            ("attach_to", "db-1".into()),
        ],
    );
    sandbox.reset_counters();
    let created = adapter
        .create(
            Kind::BlockVolumes,
            Request {
                spec: &vspec,
                user_data: None,
                attach_to_id: Some(&droplet),
            },
        )
        .await
        .expect("create volume");
    assert_eq!(count(&sandbox, "POST", "/volumes"), 1);
    assert_eq!(count(&sandbox, "POST", "/volumes/{id}/actions"), 1);
    assert_eq!(created.name, "db-data");
    assert_eq!(created.status, "active");
    assert_eq!(created.field("size_gb"), Some(FieldValue::Int(10)));
    assert_eq!(
        volume_attrs(&created).attached_to_instance.as_deref(),
        Some(droplet.as_str())
    );
    assert_eq!(
        created.full_api_data.to_value()["tags"],
        serde_json::json!([vspec.owner_tag])
    );
    let id = created.provider_resource_id.clone();
    let ready = adapter
        .wait_ready(Kind::BlockVolumes, &id, READY)
        .await
        .expect("ready");
    assert_eq!(ready.status, "active");

    let found = adapter
        .find_owned(Kind::BlockVolumes, &vspec)
        .await
        .expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, id);

    let grown = adapter
        .update(
            Kind::BlockVolumes,
            &id,
            &[change(
                "size_gb",
                Some(FieldValue::Int(10)),
                Some(FieldValue::Int(20)),
            )],
            request(&vspec),
        )
        .await
        .expect("grow");
    assert_eq!(grown.field("size_gb"), Some(FieldValue::Int(20)));

    let detached = adapter
        .update(
            Kind::BlockVolumes,
            &id,
            &[change("attach_to", Some("db-1".into()), None)],
            request(&vspec),
        )
        .await
        .expect("detach");
    assert_eq!(volume_attrs(&detached).attached_to_instance, None);

    let attached = adapter
        .update(
            Kind::BlockVolumes,
            &id,
            &[change("attach_to", None, Some("db-1".into()))],
            Request {
                spec: &vspec,
                user_data: None,
                attach_to_id: Some(&droplet),
            },
        )
        .await
        .expect("attach");
    assert_eq!(
        volume_attrs(&attached).attached_to_instance.as_deref(),
        Some(droplet.as_str())
    );

    let e = adapter
        .update(
            Kind::BlockVolumes,
            &id,
            &[change(
                "name",
                Some("db-data".into()),
                Some("db-data2".into()),
            )],
            request(&vspec),
        )
        .await
        .expect_err("volumes cannot be renamed");
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("`name`"), "{e}");

    // Deleting an attached volume detaches it first.
    sandbox.reset_counters();
    adapter
        .delete(Kind::BlockVolumes, &id)
        .await
        .expect("delete");
    assert_eq!(count(&sandbox, "POST", "/volumes/{id}/actions"), 1);
    assert_eq!(count(&sandbox, "DELETE", "/volumes/{id}"), 1);
    adapter
        .delete(Kind::BlockVolumes, &id)
        .await
        .expect("deleting again is success");
    assert!(
        adapter
            .get(Kind::BlockVolumes, &id)
            .await
            .expect("get")
            .is_none()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_pagination_loop_is_an_error_not_a_partial_list() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    sandbox
        .seed_bulk(DO, SandboxKind::Volume, 450)
        .expect("seed volumes");
    sandbox.add_fault(FaultRule::new(
        route("GET", "/volumes"),
        Fault::PaginationLoop,
    ));
    let e = adapter
        .list(Kind::BlockVolumes)
        .await
        .expect_err("a looping listing fails");
    assert_eq!(e.class, ErrorClass::Transient, "{e}");

    sandbox.clear_faults();
    sandbox.add_fault(FaultRule::new(route("GET", "/volumes"), Fault::EmptyPage).times(2));
    let e = adapter
        .list(Kind::BlockVolumes)
        .await
        .expect_err("an empty page fails the listing");
    assert_eq!(e.class, ErrorClass::Transient, "{e}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_is_survived_within_bounded_attempts() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    sandbox.seed_fixtures();
    sandbox.add_fault(
        FaultRule::new(
            route("GET", "/volumes"),
            Fault::RateLimited {
                retry_after: Some(1),
            },
        )
        .times(2),
    );
    let volumes = adapter.list(Kind::BlockVolumes).await.expect("survives");
    assert_eq!(volumes.len(), 2);
    assert_eq!(count(&sandbox, "GET", "/volumes"), 3);

    // A storm longer than the policy's attempts: rate limited, after exactly that many requests.
    sandbox.reset_counters();
    sandbox.add_fault(FaultRule::new(
        route("GET", "/volumes"),
        Fault::RateLimited {
            retry_after: Some(0),
        },
    ));
    let e = adapter
        .list(Kind::BlockVolumes)
        .await
        .expect_err("gives up");
    assert_eq!(e.class, ErrorClass::RateLimited, "{e}");
    assert_eq!(count(&sandbox, "GET", "/volumes"), u64::from(MAX_ATTEMPTS));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unauthorized_names_the_credential_source_not_the_token() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let wrong = "WRONG-DO-TOKEN-0123456789";
    let adapter = adapter_with_token(&sandbox, wrong);
    for e in [
        adapter.check_credentials().await.expect_err("rejected"),
        adapter.list(Kind::Servers).await.expect_err("rejected"),
    ] {
        assert_eq!(e.class, ErrorClass::Unauthorized, "{e}");
        let text = e.to_string();
        assert!(
            text.contains("environment variable DIGITALOCEAN_TOKEN"),
            "{text}"
        );
        assert!(!text.contains(wrong), "{text}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn validate_checks_slugs_against_catalogs_fetched_once() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    let typo = spec(
        "web-1",
        &[
            ("region", "nyc3".into()),
            ("plan", "s-1vcpu-1gbb".into()),
            ("image", "ubuntu-24-04-x64".into()),
        ],
    );
    let problems = adapter
        .validate(Kind::Servers, &typo)
        .await
        .expect("validate");
    assert_eq!(
        problems,
        vec!["unknown size `s-1vcpu-1gbb` for digitalocean; did you mean `s-1vcpu-1gb`?"]
    );
    let gpu_in_nyc = spec(
        "ml-1",
        &[
            ("region", "nyc3".into()),
            ("plan", "gpu-h100x1-80gb".into()),
            ("image", "gpu-h100x1-base".into()),
        ],
    );
    let problems = adapter
        .validate(Kind::Servers, &gpu_in_nyc)
        .await
        .expect("validate");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("not available in region `nyc3`"),
        "{problems:?}"
    );
    assert!(
        adapter
            .validate(Kind::Servers, &server_spec("ok-1"))
            .await
            .expect("validate")
            .is_empty()
    );
    let problems = adapter
        .validate(Kind::BlockVolumes, &spec("v", &[("region", "fra2".into())]))
        .await
        .expect("validate");
    assert_eq!(
        problems,
        vec!["unknown region `fra2` for digitalocean; did you mean `fra1`?"]
    );
    // Four validations, one fetch of each catalog.
    for path in ["/regions", "/sizes", "/images"] {
        assert_eq!(count(&sandbox, "GET", path), 1, "{path}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn wait_ready_gives_up_at_the_timeout_naming_the_status() {
    let (sandbox, adapter) = start(SandboxConfig::default().with_pending_polls(1_000_000)).await;
    let created = adapter
        .create(Kind::Servers, request(&server_spec("slow-1")))
        .await
        .expect("create");
    let e = adapter
        .wait_ready(
            Kind::Servers,
            &created.provider_resource_id,
            Duration::from_millis(50),
        )
        .await
        .expect_err("times out");
    assert_eq!(e.class, ErrorClass::Transient, "{e}");
    assert!(e.message.contains("pending"), "{e}");
    sandbox.shutdown().await;
}
