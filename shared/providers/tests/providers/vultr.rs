//! What is particular to the vultr adapter, against the provider sandbox: the fixtures' mapping,
//! each kind's lifecycle as Vultr does it (several changes in one PATCH or PUT, the ownership tag
//! kept through a retag, a failed attach after a create), and an image refused before anything is
//! sent. What every adapter does (complete listings, 404 → none, a lost create found again,
//! delete twice, secrets removed) is the conformance suite's (`conformance.rs`); the failures
//! every adapter meets alike (pagination loop, 429 storm, a bad token, a wait that runs out) are
//! `failures.rs`'. Request counts are asserted where they are deterministic; wall-clock times
//! never are.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::support::{
    Made, assert_sent, attached, attachments, change, connect_as, dock, edit, refused, request,
    spec, statuses,
};

use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ErrorClass, Provider, Request};
use stackdock_sandbox::{Provider as SProvider, Sandbox, SandboxConfig, SandboxHandle};

const CREATE_BLOCK: &str = "POST /vultr/v2/blocks";
const ATTACH_BLOCK: &str = "POST /vultr/v2/blocks/{id}/attach";
const DETACH_BLOCK: &str = "POST /vultr/v2/blocks/{id}/detach";

fn ctx() -> DockContext {
    dock(ProviderKind::Vultr, "vultr-main", "VULTR_API_KEY")
}

async fn sandbox() -> SandboxHandle {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

/// The adapter of dock `vultr-main` against the sandbox, with `token`.
pub(super) fn adapter_with_token(sb: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(sb, ctx(), SProvider::Vultr, token, |_| {})
}

fn adapter(sb: &SandboxHandle) -> Arc<dyn Provider> {
    adapter_with_token(sb, &sb.token(SProvider::Vultr))
}

fn count(sb: &SandboxHandle, route: &str) -> u64 {
    sb.counters().route(route)
}

/// A tagged server `name` in ewr with an SSH key.
pub(super) fn server_spec(name: &str) -> ResourceSpec {
    spec(
        Kind::Servers,
        name,
        &[
            ("region", "ewr".into()),
            ("plan", "vc2-1c-1gb".into()),
            ("image", "os:2284".into()),
            ("tags", FieldValue::set(["web", "prod"])),
            (
                "ssh_keys",
                FieldValue::set(["3b8066a7-b438-455a-9688-44afc9a3597f"]),
            ),
        ],
    )
}

fn server_tags(r: &Record) -> BTreeSet<String> {
    match &r.attrs {
        Attrs::Servers(a) => a.tags.iter().cloned().collect(),
        other => panic!("not a server: {other:?}"),
    }
}

fn attachment(r: &Record) -> (Option<String>, Option<String>) {
    match &r.attrs {
        Attrs::BlockVolumes(a) => (
            a.attached_to_instance.clone(),
            a.attached_to_instance_label.clone(),
        ),
        other => panic!("not a volume: {other:?}"),
    }
}

async fn running_server(p: &dyn Provider, name: &str) -> Record {
    let s = server_spec(name);
    Made::create(p, Kind::Servers, request(&s))
        .await
        .ready()
        .await
}

#[tokio::test]
async fn fixtures_list_as_redacted_records() {
    let sb = sandbox().await;
    sb.seed_fixtures();
    let p = adapter(&sb);
    p.check_credentials().await.expect("token accepted");
    assert_eq!(count(&sb, "GET /vultr/v2/account"), 1);

    let servers = p.list(Kind::Servers).await.expect("servers");
    assert_eq!(
        statuses(&servers),
        vec![
            ("legacy-mail", "running"),
            ("ci-runner", "running"),
            ("old-wordpress", "stopped")
        ]
    );
    assert_eq!(servers[0].field("image"), Some("os:2136".into()));
    assert_eq!(servers[0].field("plan"), Some("vc2-1c-2gb".into()));
    assert!(servers.iter().all(|r| r.dock_id == "acme/vultr-main"
        && r.provider == ProviderKind::Vultr
        && !r.content_hash.is_empty()));

    let blocks = p.list(Kind::BlockVolumes).await.expect("blocks");
    assert_eq!(
        attachments(&blocks),
        vec![
            ("legacy-mail-spool", "active", Some("legacy-mail".into())),
            ("ci-cache", "active", None)
        ]
    );

    let dbs = p.list(Kind::Databases).await.expect("databases");
    assert_eq!(
        statuses(&dbs),
        vec![("reporting-pg", "running"), ("events-kafka", "running")]
    );
    // One page each: everything fits in one max-size page.
    let listings = [
        "GET /vultr/v2/instances",
        "GET /vultr/v2/blocks",
        "GET /vultr/v2/databases",
    ];
    assert_sent(&sb, &listings.map(|route| (route, 1)));

    let e = p
        .list(Kind::Buckets)
        .await
        .expect_err("no buckets on Vultr");
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.to_string().contains("vultr-main"), "{e}");
    sb.shutdown().await;
}

#[tokio::test]
async fn server_create_wait_find_update_delete() {
    let sb = sandbox().await;
    let p = adapter(&sb);
    let s = server_spec("web-1");
    let req = Request {
        user_data: Some("#cloud-config\npackages: [nginx]\n"),
        ..request(&s)
    };
    let server = Made::create(p.as_ref(), Kind::Servers, req).await;
    let created = &server.created;
    assert_eq!(count(&sb, "POST /vultr/v2/instances"), 1);
    assert_eq!(created.name, "web-1");
    assert_eq!(created.status, "pending");
    assert_eq!(created.field("image"), Some("os:2284".into()));
    let tags = Some(FieldValue::set(["prod", "web"]));
    assert_eq!(created.field("tags"), tags);
    assert!(server_tags(created).contains(&s.owner_tag));

    sb.reset_counters();
    let ready = server.ready().await;
    assert_eq!(ready.status, "running");
    assert_eq!(ready.region.as_deref(), Some("ewr"));
    assert!(ready.field("tags") == created.field("tags"));
    // The sandbox shows a new instance pending for two reads: the third is running.
    assert_eq!(count(&sb, "GET /vultr/v2/instances/{id}"), 3);

    server.assert_found_alone().await;
    // Another address's owner tag finds nothing.
    let other = p.find_owned(Kind::Servers, &server_spec("web-2")).await;
    assert!(other.expect("find").is_empty());

    sb.reset_counters();
    let retag = change("tags", tags, Some(FieldValue::set(["web", "blue"])));
    let updated = server
        .changed(&[
            edit("name", "web-1", "web-1b"),
            edit("plan", "vc2-1c-1gb", "vc2-2c-4gb"),
            retag,
        ])
        .await;
    assert_eq!(count(&sb, "PATCH /vultr/v2/instances/{id}"), 1);
    // After a resize the adapter reads until GET reports the new plan (here at once).
    assert_eq!(count(&sb, "GET /vultr/v2/instances/{id}"), 1);
    assert_eq!(updated.name, "web-1b");
    assert_eq!(updated.field("plan"), Some("vc2-2c-4gb".into()));
    let retagged = Some(FieldValue::set(["blue", "web"]));
    assert_eq!(updated.field("tags"), retagged);
    let owned = server_tags(&updated).contains(&s.owner_tag);
    assert!(owned, "owner tag lost");
    // Still findable by its ownership tag after a retag.
    server.assert_found_alone().await;

    // Removing every user tag keeps the ownership tag.
    let cleared = server.changed(&[change("tags", retagged, None)]).await;
    assert_eq!(server_tags(&cleared), BTreeSet::from([s.owner_tag.clone()]));

    sb.reset_counters();
    server.delete_twice().await;
    assert_eq!(count(&sb, "DELETE /vultr/v2/instances/{id}"), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_bad_image_is_refused_before_anything_is_sent() {
    let sb = sandbox().await;
    let p = adapter(&sb);
    let s = spec(
        Kind::Servers,
        "web-1",
        &[
            ("region", "ewr".into()),
            ("plan", "vc2-1c-1gb".into()),
            ("image", "ubuntu-24-04-x64".into()),
        ],
    );
    let e = refused(p.create(Kind::Servers, request(&s)).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    let text = e.to_string();
    assert!(
        text.contains("vultr-main") && text.contains("os:<id>"),
        "{text}"
    );
    assert_eq!(sb.counters().total, 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn block_create_attached_grow_rename_move_detach_delete() {
    let sb = sandbox().await;
    let p = adapter(&sb);
    let a = running_server(p.as_ref(), "app-a").await;
    let b = running_server(p.as_ref(), "app-b").await;
    let (a_id, b_id) = (&a.provider_resource_id, &b.provider_resource_id);

    let s = spec(
        Kind::BlockVolumes,
        "data",
        &[
            ("region", "ewr".into()),
            ("size_gb", 40.into()),
            ("block_type", "high_perf".into()),
            ("attach_to", "app-a".into()),
        ],
    );
    sb.reset_counters();
    let block = Made::create(p.as_ref(), Kind::BlockVolumes, attached(&s, a_id)).await;
    let created = &block.created;
    assert_sent(&sb, &[(CREATE_BLOCK, 1), (ATTACH_BLOCK, 1)]);
    assert_eq!(created.name, "data");
    assert_eq!(created.field("size_gb"), Some(FieldValue::Int(40)));
    assert_eq!(created.field("block_type"), Some("high_perf".into()));
    let on_a = (Some(a_id.to_string()), Some("app-a".into()));
    assert_eq!(attachment(created), on_a);
    assert_eq!(block.ready().await.status, "active");
    block.assert_found_alone().await;

    sb.reset_counters();
    let grown = block
        .changed(&[edit("size_gb", 40, 80), edit("name", "data", "data-2")])
        .await;
    assert_eq!(count(&sb, "PATCH /vultr/v2/blocks/{id}"), 1);
    assert_eq!(grown.field("size_gb"), Some(FieldValue::Int(80)));
    assert_eq!(grown.name, "data-2");
    assert_eq!(attachment(&grown).1.as_deref(), Some("app-a"));

    sb.reset_counters();
    let to_b = edit("attach_to", "app-a", "app-b");
    let moved = block.update(&[to_b], Some(b_id)).await.expect("move");
    assert_sent(&sb, &[(DETACH_BLOCK, 1), (ATTACH_BLOCK, 1)]);
    assert_eq!(
        attachment(&moved),
        (Some(b_id.to_string()), Some("app-b".into()))
    );

    sb.reset_counters();
    let detached = block
        .changed(&[change("attach_to", Some("app-b".into()), None)])
        .await;
    assert_sent(&sb, &[(DETACH_BLOCK, 1), (ATTACH_BLOCK, 0)]);
    assert_eq!(attachment(&detached), (None, None));
    assert_eq!(detached.field("attach_to"), None);

    block.delete_twice().await;
    sb.shutdown().await;
}

#[tokio::test]
async fn a_failed_attach_after_a_create_says_the_block_exists() {
    let sb = sandbox().await;
    let p = adapter(&sb);
    let server = running_server(p.as_ref(), "app-a").await;
    // The server is in ewr; a block in ord cannot attach to it.
    let s = spec(
        Kind::BlockVolumes,
        "far",
        &[("region", "ord".into()), ("size_gb", 10.into())],
    );
    let far = attached(&s, &server.provider_resource_id);
    let e = refused(p.create(Kind::BlockVolumes, far).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    let said = e.to_string();
    assert!(said.contains("was created but is not attached"), "{e}");
    assert_eq!(count(&sb, CREATE_BLOCK), 1);
    let found = p.find_owned(Kind::BlockVolumes, &s).await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(attachment(&found[0]), (None, None));
    sb.shutdown().await;
}

#[tokio::test]
async fn database_create_wait_find_resize_delete() {
    let sb = sandbox().await;
    sb.seed_fixtures();
    let p = adapter(&sb);
    let startup = "vultr-dbaas-startup-cc-1-55-2";
    let s = spec(
        Kind::Databases,
        "main-db",
        &[
            ("engine", "pg".into()),
            ("version", "16".into()),
            ("plan", startup.into()),
            ("region", "ewr".into()),
        ],
    );
    let db = Made::create(p.as_ref(), Kind::Databases, request(&s)).await;
    let created = &db.created;
    assert_eq!(count(&sb, "POST /vultr/v2/databases"), 1);
    assert_eq!(created.status, "rebuilding");
    let tag = &created.full_api_data.to_value()["tag"];
    assert_eq!(tag, s.owner_tag.as_str());
    assert_eq!(created.field("engine"), Some("pg".into()));
    assert_eq!(created.field("version"), Some("16".into()));
    assert_eq!(db.ready().await.status, "running");
    db.assert_found_alone().await;

    sb.reset_counters();
    let business = "vultr-dbaas-business-cc-2-80-4";
    let resized = db
        .changed(&[
            edit("plan", startup, business),
            edit("name", "main-db", "main-db-2"),
        ])
        .await;
    assert_eq!(count(&sb, "PUT /vultr/v2/databases/{id}"), 1);
    assert_eq!(resized.field("plan"), Some(business.into()));
    assert_eq!(resized.name, "main-db-2");

    db.delete_twice().await;
    let found = p.find_owned(Kind::Databases, &s).await.expect("find");
    assert!(found.is_empty());
    sb.shutdown().await;
}

/// A power action on an instance still installing is refused as Vultr refuses a locked server
/// (400, read as a conflict), and nothing changes; once it runs, halt and start are one request each.
#[tokio::test]
async fn a_power_action_on_an_installing_instance_is_refused() {
    use stackdock_providers::PowerAction;
    let sb = Sandbox::start(SandboxConfig::default().with_pending_polls(3))
        .await
        .expect("sandbox starts");
    let p = adapter(&sb);
    let s = server_spec("power-1");
    let server = Made::create(p.as_ref(), Kind::Servers, request(&s)).await;
    let e = refused(p.power(Kind::Servers, &server.id, PowerAction::Off).await);
    // A locked server is busy: the classifier reads Vultr's message as a conflict to retry later.
    assert_eq!(e.class, ErrorClass::Conflict, "{e}");
    assert!(e.message.contains("locked"), "{e}");
    let ready = server.ready().await;
    assert_eq!(ready.status, "running");
    sb.reset_counters();
    p.power(Kind::Servers, &server.id, PowerAction::Off)
        .await
        .expect("halt");
    let off = p
        .wait_power(
            Kind::Servers,
            &server.id,
            PowerAction::Off,
            super::support::READY,
        )
        .await
        .expect("stopped");
    assert_eq!(off.full_api_data.to_value()["power_status"], "stopped");
    assert_sent(&sb, &[("POST /vultr/v2/instances/{id}/halt", 1)]);
    sb.shutdown().await;
}
