//! What is particular to the vultr adapter, against the provider sandbox: the fixtures' mapping,
//! each kind's lifecycle as Vultr does it (several changes in one PATCH or PUT, the ownership tag
//! kept through a retag, a failed attach after a create), and failures (pagination loop, 429
//! storm, a bad token). What every adapter does (complete listings, 404 → none, a lost create
//! found again, delete twice, secrets removed) is the conformance suite's (`conformance.rs`).
//! Request counts are asserted where they are deterministic; wall-clock times never are.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::support::{MAX_ATTEMPTS, change, connect_as, dock, request, spec};

use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ErrorClass, Provider, Request};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SKind, Provider as SProvider, Sandbox, SandboxConfig, SandboxHandle,
};

const SOURCE_VAR: &str = "VULTR_API_KEY";
const WAIT: Duration = Duration::from_secs(20);

fn ctx() -> DockContext {
    dock(ProviderKind::Vultr, "vultr-main", SOURCE_VAR)
}

async fn sandbox() -> SandboxHandle {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

fn adapter_with_token(sb: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(sb, ctx(), SProvider::Vultr, token, |_| {})
}

fn adapter(sb: &SandboxHandle) -> Arc<dyn Provider> {
    adapter_with_token(sb, &sb.token(SProvider::Vultr))
}

fn count(sb: &SandboxHandle, route: &str) -> u64 {
    sb.counters().route(route)
}

fn server_spec(name: &str) -> ResourceSpec {
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
        Attrs::Servers(a) => a.tags.clone(),
        other => panic!("not a server: {other:?}"),
    }
}

fn attached(r: &Record) -> (Option<String>, Option<String>) {
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
    let created = p.create(Kind::Servers, request(&s)).await.expect("create");
    p.wait_ready(Kind::Servers, &created.provider_resource_id, WAIT)
        .await
        .expect("ready")
}

#[tokio::test]
async fn fixtures_list_as_redacted_records() {
    let sb = sandbox().await;
    sb.seed_fixtures();
    let p = adapter(&sb);
    p.check_credentials().await.expect("token accepted");
    assert_eq!(count(&sb, "GET /vultr/v2/account"), 1);

    let servers = p.list(Kind::Servers).await.expect("servers");
    let got: Vec<(&str, &str)> = servers
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        got,
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
    let got: Vec<(&str, &str, Option<FieldValue>)> = blocks
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str(), r.field("attach_to")))
        .collect();
    assert_eq!(
        got,
        vec![
            ("legacy-mail-spool", "active", Some("legacy-mail".into())),
            ("ci-cache", "active", None)
        ]
    );

    let dbs = p.list(Kind::Databases).await.expect("databases");
    let got: Vec<(&str, &str)> = dbs
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![("reporting-pg", "running"), ("events-kafka", "running")]
    );
    // One page each: everything fits in one max-size page.
    for route in [
        "GET /vultr/v2/instances",
        "GET /vultr/v2/blocks",
        "GET /vultr/v2/databases",
    ] {
        assert_eq!(count(&sb, route), 1, "{route}");
    }

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
        spec: &s,
        user_data: Some("#cloud-config\npackages: [nginx]\n"),
        attach_to_id: None,
    };
    let created = p.create(Kind::Servers, req).await.expect("create");
    assert_eq!(count(&sb, "POST /vultr/v2/instances"), 1);
    assert_eq!(created.name, "web-1");
    assert_eq!(created.status, "pending");
    assert_eq!(created.field("image"), Some("os:2284".into()));
    assert_eq!(
        created.field("tags"),
        Some(FieldValue::set(["prod", "web"]))
    );
    assert!(server_tags(&created).contains(&s.owner_tag));
    let id = created.provider_resource_id.clone();

    sb.reset_counters();
    let ready = p.wait_ready(Kind::Servers, &id, WAIT).await.expect("ready");
    assert_eq!(ready.status, "running");
    assert_eq!(ready.region.as_deref(), Some("ewr"));
    assert!(ready.field("tags") == created.field("tags"));
    // The sandbox shows a new instance pending for two reads: the third is running.
    assert_eq!(count(&sb, "GET /vultr/v2/instances/{id}"), 3);

    let found = p.find_owned(Kind::Servers, &s).await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, id);
    // Another address's owner tag finds nothing.
    let other = server_spec("web-2");
    assert!(
        p.find_owned(Kind::Servers, &other)
            .await
            .expect("find")
            .is_empty()
    );

    sb.reset_counters();
    let changes = [
        change("name", Some("web-1".into()), Some("web-1b".into())),
        change("plan", Some("vc2-1c-1gb".into()), Some("vc2-2c-4gb".into())),
        change(
            "tags",
            Some(FieldValue::set(["prod", "web"])),
            Some(FieldValue::set(["web", "blue"])),
        ),
    ];
    let updated = p
        .update(Kind::Servers, &id, &changes, request(&s))
        .await
        .expect("update");
    assert_eq!(count(&sb, "PATCH /vultr/v2/instances/{id}"), 1);
    // After a resize the adapter reads until GET reports the new plan (here at once).
    assert_eq!(count(&sb, "GET /vultr/v2/instances/{id}"), 1);
    assert_eq!(updated.name, "web-1b");
    assert_eq!(updated.field("plan"), Some("vc2-2c-4gb".into()));
    assert_eq!(
        updated.field("tags"),
        Some(FieldValue::set(["blue", "web"]))
    );
    assert!(
        server_tags(&updated).contains(&s.owner_tag),
        "owner tag lost"
    );
    // Still findable by its ownership tag after a retag.
    assert_eq!(
        p.find_owned(Kind::Servers, &s).await.expect("find").len(),
        1
    );

    // Removing every user tag keeps the ownership tag.
    let cleared = p
        .update(
            Kind::Servers,
            &id,
            &[change("tags", Some(FieldValue::set(["web", "blue"])), None)],
            request(&s),
        )
        .await
        .expect("untag");
    assert_eq!(server_tags(&cleared), BTreeSet::from([s.owner_tag.clone()]));

    sb.reset_counters();
    p.delete(Kind::Servers, &id).await.expect("delete");
    p.delete(Kind::Servers, &id)
        .await
        .expect("already gone is success");
    assert_eq!(count(&sb, "DELETE /vultr/v2/instances/{id}"), 2);
    assert!(p.get(Kind::Servers, &id).await.expect("get").is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn wait_ready_honours_its_timeout_and_says_what_it_saw() {
    let sb = Sandbox::start(SandboxConfig::default().with_pending_polls(1_000_000))
        .await
        .expect("sandbox starts");
    let p = adapter(&sb);
    let s = server_spec("slow");
    let created = p.create(Kind::Servers, request(&s)).await.expect("create");
    let e = p
        .wait_ready(
            Kind::Servers,
            &created.provider_resource_id,
            Duration::from_millis(60),
        )
        .await
        .expect_err("times out");
    assert_eq!(e.class, ErrorClass::Transient);
    assert!(e.to_string().contains("still `pending`"), "{e}");
    let e = p
        .wait_ready(Kind::Servers, "00000000-0000-0000-0000-000000000000", WAIT)
        .await
        .expect_err("gone");
    assert_eq!(e.class, ErrorClass::NotFound);
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
    let e = p
        .create(Kind::Servers, request(&s))
        .await
        .expect_err("invalid image");
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
    let created = p
        .create(
            Kind::BlockVolumes,
            Request {
                spec: &s,
                user_data: None,
                attach_to_id: Some(&a.provider_resource_id),
            },
        )
        .await
        .expect("create");
    assert_eq!(count(&sb, "POST /vultr/v2/blocks"), 1);
    assert_eq!(count(&sb, "POST /vultr/v2/blocks/{id}/attach"), 1);
    assert_eq!(created.name, "data");
    assert_eq!(created.field("size_gb"), Some(FieldValue::Int(40)));
    assert_eq!(created.field("block_type"), Some("high_perf".into()));
    assert_eq!(
        attached(&created),
        (Some(a.provider_resource_id.clone()), Some("app-a".into()))
    );
    let id = created.provider_resource_id.clone();
    let ready = p
        .wait_ready(Kind::BlockVolumes, &id, WAIT)
        .await
        .expect("ready");
    assert_eq!(ready.status, "active");

    let found = p.find_owned(Kind::BlockVolumes, &s).await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, id);

    sb.reset_counters();
    let grown = p
        .update(
            Kind::BlockVolumes,
            &id,
            &[
                change("size_gb", Some(40.into()), Some(80.into())),
                change("name", Some("data".into()), Some("data-2".into())),
            ],
            request(&s),
        )
        .await
        .expect("grow");
    assert_eq!(count(&sb, "PATCH /vultr/v2/blocks/{id}"), 1);
    assert_eq!(grown.field("size_gb"), Some(FieldValue::Int(80)));
    assert_eq!(grown.name, "data-2");
    assert_eq!(attached(&grown).1.as_deref(), Some("app-a"));

    sb.reset_counters();
    let moved = p
        .update(
            Kind::BlockVolumes,
            &id,
            &[change(
                "attach_to",
                Some("app-a".into()),
                Some("app-b".into()),
            )],
            Request {
                spec: &s,
                user_data: None,
                attach_to_id: Some(&b.provider_resource_id),
            },
        )
        .await
        .expect("move");
    assert_eq!(count(&sb, "POST /vultr/v2/blocks/{id}/detach"), 1);
    assert_eq!(count(&sb, "POST /vultr/v2/blocks/{id}/attach"), 1);
    assert_eq!(
        attached(&moved),
        (Some(b.provider_resource_id.clone()), Some("app-b".into()))
    );

    sb.reset_counters();
    let detached = p
        .update(
            Kind::BlockVolumes,
            &id,
            &[change("attach_to", Some("app-b".into()), None)],
            request(&s),
        )
        .await
        .expect("detach");
    assert_eq!(count(&sb, "POST /vultr/v2/blocks/{id}/detach"), 1);
    assert_eq!(count(&sb, "POST /vultr/v2/blocks/{id}/attach"), 0);
    assert_eq!(attached(&detached), (None, None));
    assert_eq!(detached.field("attach_to"), None);

    p.delete(Kind::BlockVolumes, &id).await.expect("delete");
    p.delete(Kind::BlockVolumes, &id)
        .await
        .expect("already gone is success");
    assert!(p.get(Kind::BlockVolumes, &id).await.expect("get").is_none());
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
    let e = p
        .create(
            Kind::BlockVolumes,
            Request {
                spec: &s,
                user_data: None,
                attach_to_id: Some(&server.provider_resource_id),
            },
        )
        .await
        .expect_err("attach refused");
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(
        e.to_string().contains("was created but is not attached"),
        "{e}"
    );
    assert_eq!(count(&sb, "POST /vultr/v2/blocks"), 1);
    let found = p.find_owned(Kind::BlockVolumes, &s).await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(attached(&found[0]), (None, None));
    sb.shutdown().await;
}

#[tokio::test]
async fn database_create_wait_find_resize_delete() {
    let sb = sandbox().await;
    sb.seed_fixtures();
    let p = adapter(&sb);
    let s = spec(
        Kind::Databases,
        "main-db",
        &[
            ("engine", "pg".into()),
            ("version", "16".into()),
            ("plan", "vultr-dbaas-startup-cc-1-55-2".into()),
            ("region", "ewr".into()),
        ],
    );
    let created = p
        .create(Kind::Databases, request(&s))
        .await
        .expect("create");
    assert_eq!(count(&sb, "POST /vultr/v2/databases"), 1);
    assert_eq!(created.status, "rebuilding");
    assert_eq!(
        created.full_api_data.to_value()["tag"],
        s.owner_tag.as_str()
    );
    assert_eq!(created.field("engine"), Some("pg".into()));
    assert_eq!(created.field("version"), Some("16".into()));
    let id = created.provider_resource_id.clone();
    let ready = p
        .wait_ready(Kind::Databases, &id, WAIT)
        .await
        .expect("ready");
    assert_eq!(ready.status, "running");

    let found = p.find_owned(Kind::Databases, &s).await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, id);

    sb.reset_counters();
    let resized = p
        .update(
            Kind::Databases,
            &id,
            &[
                change(
                    "plan",
                    Some("vultr-dbaas-startup-cc-1-55-2".into()),
                    Some("vultr-dbaas-business-cc-2-80-4".into()),
                ),
                change("name", Some("main-db".into()), Some("main-db-2".into())),
            ],
            request(&s),
        )
        .await
        .expect("resize");
    assert_eq!(count(&sb, "PUT /vultr/v2/databases/{id}"), 1);
    assert_eq!(
        resized.field("plan"),
        Some("vultr-dbaas-business-cc-2-80-4".into())
    );
    assert_eq!(resized.name, "main-db-2");

    p.delete(Kind::Databases, &id).await.expect("delete");
    p.delete(Kind::Databases, &id)
        .await
        .expect("already gone is success");
    assert!(
        p.find_owned(Kind::Databases, &s)
            .await
            .expect("find")
            .is_empty()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_pagination_loop_is_an_error_not_a_partial_list() {
    let sb = sandbox().await;
    sb.seed_bulk(SProvider::Vultr, SKind::Instance, 1_200)
        .expect("seed");
    sb.add_fault(FaultRule::new(
        "GET /vultr/v2/instances",
        Fault::PaginationLoop,
    ));
    let p = adapter(&sb);
    let e = p.list(Kind::Servers).await.expect_err("loop detected");
    assert_eq!(e.class, ErrorClass::Transient);
    assert!(e.to_string().contains("incomplete"), "{e}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_is_survived_within_bounded_attempts() {
    let sb = sandbox().await;
    sb.seed_fixtures();
    sb.add_fault(
        FaultRule::new(
            "GET /vultr/v2/instances",
            Fault::RateLimited {
                retry_after: Some(1),
            },
        )
        .times(2),
    );
    let p = adapter(&sb);
    let servers = p.list(Kind::Servers).await.expect("survives the storm");
    assert_eq!(servers.len(), 3);
    assert_eq!(count(&sb, "GET /vultr/v2/instances"), 3);

    // A storm that never ends fails as rate-limited after exactly the policy's attempts.
    sb.reset_counters();
    sb.add_fault(FaultRule::new(
        "GET /vultr/v2/blocks",
        Fault::RateLimited {
            retry_after: Some(0),
        },
    ));
    let e = p.list(Kind::BlockVolumes).await.expect_err("gives up");
    assert_eq!(e.class, ErrorClass::RateLimited);
    assert_eq!(count(&sb, "GET /vultr/v2/blocks"), u64::from(MAX_ATTEMPTS));
    sb.shutdown().await;
}

#[tokio::test]
async fn unauthorized_names_the_credential_source_not_the_token() {
    let sb = sandbox().await;
    let bad = "wrong-token-0123456789";
    let p = adapter_with_token(&sb, bad);
    let e = p.check_credentials().await.expect_err("rejected");
    assert_eq!(e.class, ErrorClass::Unauthorized);
    let text = e.to_string();
    assert!(
        text.contains(&format!("environment variable {SOURCE_VAR}")),
        "{text}"
    );
    assert!(!text.contains(bad), "{text}");
    // Not retried: a bad credential does not improve.
    assert_eq!(count(&sb, "GET /vultr/v2/account"), 1);
    let e = p.list(Kind::Servers).await.expect_err("rejected");
    assert_eq!(e.class, ErrorClass::Unauthorized);
    assert!(!e.to_string().contains(bad));
    sb.shutdown().await;
}
