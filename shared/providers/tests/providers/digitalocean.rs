//! What is particular to the digitalocean adapter, against the provider sandbox: the fixtures'
//! mapping (GPU droplets), the server and volume lifecycles as DigitalOcean does them (actions,
//! the tag API, detach before delete), an empty page, and catalog validation. What every adapter
//! does (complete listings, 404 → none, a lost create found again, delete twice, secrets removed)
//! is the conformance suite's (`conformance.rs`); the failures every adapter meets alike
//! (pagination loop, 429 storm, the credential never leaking, a wait that runs out) are
//! `failures.rs`'. Request counts are asserted where they are deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::support::{
    Made, attached, change, connect_as, dock, edit, refused, request, spec_at, unlimited,
};

use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ErrorClass, Provider, Request};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SandboxKind, Provider as SandboxProvider, SECRET_MARKER, Sandbox,
    SandboxConfig, SandboxHandle,
};

const DO: SandboxProvider = SandboxProvider::Digitalocean;

fn ctx() -> DockContext {
    dock(ProviderKind::DigitalOcean, "do-main", "DIGITALOCEAN_TOKEN")
}

/// The adapter of dock `do-main` against the sandbox, with `token` and no client-side rate limit.
pub(super) fn adapter_with_token(sandbox: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(sandbox, ctx(), DO, token, unlimited)
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

/// A droplet `name` in nyc3 of size `plan` from `image`.
fn droplet_spec(name: &str, plan: &str, image: &str) -> ResourceSpec {
    let fields = [
        ("region", "nyc3".into()),
        ("plan", plan.into()),
        ("image", image.into()),
    ];
    spec(name, &fields)
}

/// A tagged Ubuntu droplet `name` in nyc3 with an SSH key and user data.
pub(super) fn server_spec(name: &str) -> ResourceSpec {
    let mut s = droplet_spec(name, "s-1vcpu-1gb", "ubuntu-24-04-x64");
    s.fields.extend([
        ("tags".into(), FieldValue::set(["web"])),
        ("ssh_keys".into(), FieldValue::set(["12345"])),
        ("user_data_file".into(), "cloud-init.yaml".into()),
    ]);
    s
}

fn tags(r: &Record) -> BTreeSet<String> {
    match &r.attrs {
        Attrs::Servers(a) => a.tags.iter().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

fn volume_attrs(r: &Record) -> stackdock_core::record::VolumeAttrs {
    match &r.attrs {
        Attrs::BlockVolumes(a) => a.clone(),
        other => panic!("not a volume: {other:?}"),
    }
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
    let request = Request {
        user_data: Some(&user_data),
        ..request(&spec)
    };
    let server = Made::create(adapter.as_ref(), Kind::Servers, request).await;
    let created = &server.created;
    assert_eq!(count(&sandbox, "POST", "/droplets"), 1);
    assert_eq!(created.name, "web-1");
    assert_eq!(created.status, "pending");
    assert_eq!(created.region.as_deref(), Some("nyc3"));
    let owned = BTreeSet::from(["web".to_owned(), spec.owner_tag.clone()]);
    assert_eq!(tags(created), owned);
    assert_eq!(created.field("tags"), Some(FieldValue::set(["web"])));
    let image = created.field("image");
    assert_eq!(image, Some(FieldValue::from("ubuntu-24-04-x64")));

    let ready = server.ready().await;
    assert_eq!(ready.status, "running");
    assert!(matches!(&ready.attrs, Attrs::Servers(a) if a.ip_address.is_some()));
    server.assert_found_alone().await;
    let other = adapter
        .find_owned(Kind::Servers, &server_spec("web-2"))
        .await;
    assert!(other.expect("find").is_empty());

    // Rename.
    let renamed = server.changed(&[edit("name", "web-1", "web-1a")]).await;
    assert_eq!(renamed.name, "web-1a");

    // Resize: power off, resize, power on, each action waited for.
    sandbox.reset_counters();
    let resized = server
        .changed(&[edit("plan", "s-1vcpu-1gb", "s-2vcpu-4gb")])
        .await;
    assert_eq!(resized.field("plan"), Some(FieldValue::from("s-2vcpu-4gb")));
    assert_eq!(count(&sandbox, "POST", "/droplets/{id}/actions"), 3);
    assert!(count(&sandbox, "GET", "/actions/{id}") >= 3);
    assert_eq!(server.ready().await.status, "running", "running again");

    // Tags: the user's set changes, the ownership tag stays.
    let (web, api_db) = (FieldValue::set(["web"]), FieldValue::set(["api", "db"]));
    let retagged = server
        .changed(&[change("tags", Some(web), Some(api_db.clone()))])
        .await;
    let owned = BTreeSet::from(["api".to_owned(), "db".to_owned(), spec.owner_tag.clone()]);
    assert_eq!(tags(&retagged), owned);
    // DigitalOcean keeps a tag's first capitalisation: asking for `API` where `api` is present
    // changes nothing (before, the retag removed `api`, the tag asked for).
    let recase = change("tags", Some(api_db), Some(FieldValue::set(["API", "db"])));
    let recased = server.changed(&[recase]).await;
    assert_eq!(tags(&recased), tags(&retagged));
    server.assert_found_alone().await;

    // A field that cannot change in place.
    let e = server.refused(&[edit("region", "nyc3", "fra1")]).await;
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("`region`"), "{e}");

    server.delete_twice().await;
    let left = sandbox.resources(DO, SandboxKind::Instance);
    assert!(left.expect("resources").is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn volume_lifecycle_create_attach_grow_detach_delete() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    let db_1 = server_spec("db-1");
    let server = Made::create(adapter.as_ref(), Kind::Servers, request(&db_1)).await;
    let droplet = server.ready().await.provider_resource_id;

    let vspec = spec(
        "db-data",
        &[
            ("region", "nyc3".into()),
            ("size_gb", FieldValue::Int(10)),
            ("attach_to", "db-1".into()),
        ],
    );
    sandbox.reset_counters();
    let on_droplet = attached(&vspec, &droplet);
    let volume = Made::create(adapter.as_ref(), Kind::BlockVolumes, on_droplet).await;
    let created = &volume.created;
    assert_eq!(count(&sandbox, "POST", "/volumes"), 1);
    assert_eq!(count(&sandbox, "POST", "/volumes/{id}/actions"), 1);
    assert_eq!(created.name, "db-data");
    assert_eq!(created.status, "active");
    assert_eq!(created.field("size_gb"), Some(FieldValue::Int(10)));
    let attached_to = volume_attrs(created).attached_to_instance;
    assert_eq!(attached_to.as_deref(), Some(droplet.as_str()));
    let tags = &created.full_api_data.to_value()["tags"];
    assert_eq!(tags, &serde_json::json!([vspec.owner_tag]));
    assert_eq!(volume.ready().await.status, "active");
    volume.assert_found_alone().await;

    let grown = volume.changed(&[edit("size_gb", 10, 20)]).await;
    assert_eq!(grown.field("size_gb"), Some(FieldValue::Int(20)));

    let detached = volume
        .changed(&[change("attach_to", Some("db-1".into()), None)])
        .await;
    assert_eq!(volume_attrs(&detached).attached_to_instance, None);

    let attach = change("attach_to", None, Some("db-1".into()));
    let again = volume.update(&[attach], Some(&droplet)).await;
    let attached_to = volume_attrs(&again.expect("attach")).attached_to_instance;
    assert_eq!(attached_to.as_deref(), Some(droplet.as_str()));

    let e = volume.refused(&[edit("name", "db-data", "db-data2")]).await;
    assert_eq!(e.class, ErrorClass::Invalid, "volumes cannot be renamed");
    assert!(e.message.contains("`name`"), "{e}");

    // Deleting an attached volume detaches it first; deleting it again sends nothing more.
    sandbox.reset_counters();
    volume.delete_twice().await;
    assert_eq!(count(&sandbox, "POST", "/volumes/{id}/actions"), 1);
    assert_eq!(count(&sandbox, "DELETE", "/volumes/{id}"), 1);
    sandbox.shutdown().await;
}

/// A page answered empty in the middle of a listing fails it (a looping listing: `failures.rs`).
#[tokio::test]
async fn an_empty_page_fails_the_listing() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    sandbox
        .seed_bulk(DO, SandboxKind::Volume, 450)
        .expect("seed volumes");
    let empty = FaultRule::new(route("GET", "/volumes"), Fault::EmptyPage);
    sandbox.add_fault(empty.times(2));
    let e = refused(adapter.list(Kind::BlockVolumes).await);
    assert_eq!(e.class, ErrorClass::Transient, "{e}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn validate_checks_slugs_against_catalogs_fetched_once() {
    let (sandbox, adapter) = start(SandboxConfig::default()).await;
    let typo = droplet_spec("web-1", "s-1vcpu-1gbb", "ubuntu-24-04-x64");
    let problems = adapter
        .validate(Kind::Servers, &typo)
        .await
        .expect("validate");
    assert_eq!(
        problems,
        vec!["unknown size `s-1vcpu-1gbb` for digitalocean; did you mean `s-1vcpu-1gb`?"]
    );
    let gpu_in_nyc = droplet_spec("ml-1", "gpu-h100x1-80gb", "gpu-h100x1-base");
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

/// A power action that would change nothing is DigitalOcean's 422 (invalid), sent once and never
/// retried; power-off then power-on are one droplet action each, polled until completed.
#[tokio::test]
async fn a_power_action_that_changes_nothing_is_refused() {
    use stackdock_providers::PowerAction;
    let (sandbox, p) = start(SandboxConfig::default().with_action_polls(2)).await;
    let s = droplet_spec("power-1", "s-1vcpu-1gb", "ubuntu-24-04-x64");
    let droplet = Made::create(p.as_ref(), Kind::Servers, request(&s)).await;
    droplet.ready().await;
    sandbox.reset_counters();
    let e = refused(p.power(Kind::Servers, &droplet.id, PowerAction::On).await);
    assert_eq!(e.class, ErrorClass::Invalid, "{e}");
    assert!(e.message.contains("already powered on"), "{e}");
    assert_eq!(count(&sandbox, "POST", "/droplets/{id}/actions"), 1);
    for action in [PowerAction::Off, PowerAction::On] {
        p.power(Kind::Servers, &droplet.id, action)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        let r = p
            .wait_power(Kind::Servers, &droplet.id, action, super::support::READY)
            .await
            .unwrap_or_else(|e| panic!("wait after {action}: {e}"));
        assert_eq!(r.status, action.target_status());
    }
    assert_eq!(count(&sandbox, "POST", "/droplets/{id}/actions"), 3);
    // Each action was polled until completed: at least the two in-progress polls each.
    assert!(count(&sandbox, "GET", "/actions/{id}") >= 2 * 3);
    sandbox.shutdown().await;
}
