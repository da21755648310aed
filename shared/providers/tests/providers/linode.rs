//! What is particular to the linode adapter, against the provider sandbox: the fixtures' mapping,
//! page order, the life of each kind as Linode does it (busy resizes, buckets by label, refused
//! shrinks and non-empty buckets), bad ids, a listing's 500s and a create's 429, with exact
//! request counts. What every adapter does (complete listings, 404 → none, a lost create found
//! again, delete twice, secrets removed) is the conformance suite's (`conformance.rs`); the
//! failures every adapter meets alike (pagination loops, 429 storms, a rejected token, a wait that
//! runs out) are `failures.rs`'.

use std::sync::Arc;
use std::time::Duration;

use super::support::{
    Made, READY, assert_sent, attached, attachments, change, connect_as, dock, edit, ids, refused,
    request, set, spec, statuses,
};

use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ErrorClass, Provider, Request};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SandboxKind, Provider as Sandboxed, Sandbox, SandboxConfig,
    SandboxHandle,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(super) const LIST_INSTANCES: &str = "GET /linode/v4/linode/instances";
const POST_INSTANCES: &str = "POST /linode/v4/linode/instances";
const RESIZE_INSTANCE: &str = "POST /linode/v4/linode/instances/{id}/resize";
pub(super) const LIST_VOLUMES: &str = "GET /linode/v4/volumes";
const LIST_BUCKETS: &str = "GET /linode/v4/object-storage/buckets";
/// The smallest plan, every server's here unless resized.
const NANODE: &str = "g6-nanode-1";

fn ctx() -> DockContext {
    dock(ProviderKind::Linode, "linode-main", "LINODE_TOKEN")
}

/// The adapter of dock `linode-main` against the sandbox, with `token`.
pub(super) fn adapter_with_token(sandbox: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(sandbox, ctx(), Sandboxed::Linode, token, |_| {})
}

async fn start() -> Result<(SandboxHandle, Arc<dyn Provider>), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let adapter = adapter_with_token(&sandbox, &sandbox.token(Sandboxed::Linode));
    Ok((sandbox, adapter))
}

/// A nanode `name` in `region` from `image` (none: no disk image), with `extra` fields.
fn server_spec(
    name: &str,
    region: &str,
    image: Option<&str>,
    extra: &[(&str, FieldValue)],
) -> ResourceSpec {
    let mut fields = vec![("region", region.into()), ("plan", NANODE.into())];
    fields.extend(image.map(|image| ("image", image.into())));
    fields.extend_from_slice(extra);
    spec(Kind::Servers, name, &fields)
}

/// A tagged Ubuntu nanode `name` in us-east with an SSH key.
pub(super) fn web_spec(name: &str) -> ResourceSpec {
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f test@example";
    let extra = [
        ("tags", set(&["web", "env:prod"])),
        ("ssh_keys", set(&[key])),
    ];
    server_spec(name, "us-east", Some("linode/ubuntu24.04"), &extra)
}

fn tags(r: &Record) -> Vec<String> {
    match &r.attrs {
        Attrs::Servers(a) => a.tags.iter().cloned().collect(),
        _ => r.full_api_data.to_value()["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[tokio::test]
async fn fixtures_list_as_records() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();

    let servers = linode.list(Kind::Servers).await?;
    assert_eq!(ids(&servers), ["52000001", "52000002", "52000003"]);
    assert_eq!(
        statuses(&servers),
        [
            ("minecraft-old", "running"),
            ("vpn-gateway", "running"),
            ("build-cache", "stopped"),
        ]
    );
    let Attrs::Servers(a) = &servers[1].attrs else {
        panic!("server attrs")
    };
    assert_eq!(a.instance_type.as_deref(), Some("g6-nanode-1"));
    assert_eq!(a.ip_address.as_deref(), Some("192.0.2.42"));
    assert_eq!(servers[1].region.as_deref(), Some("eu-central"));

    let volumes = linode.list(Kind::BlockVolumes).await?;
    assert_eq!(
        attachments(&volumes),
        [
            ("vpn-logs", "active", Some(FieldValue::from("vpn-gateway"))),
            ("orphan-vol", "active", None),
        ]
    );

    let buckets = linode.list(Kind::Buckets).await?;
    let paths = ["us-east/old-site-assets", "eu-central/empty-scratch"];
    assert_eq!(ids(&buckets), paths);
    let named = [("old-site-assets", "active"), ("empty-scratch", "active")];
    assert_eq!(statuses(&buckets), named);

    for records in [&servers, &volumes, &buckets] {
        for r in records.iter() {
            assert_eq!(r.dock_id, "acme/linode-main");
            assert_eq!(r.content_hash, r.observed_hash());
            assert!(r.full_api_data.to_value().is_object());
        }
    }

    let e = refused(linode.list(Kind::Databases).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    linode.check_credentials().await?;

    let asked = [
        LIST_INSTANCES,
        LIST_VOLUMES,
        LIST_BUCKETS,
        "GET /linode/v4/profile",
    ];
    assert_sent(&sandbox, &asked.map(|route| (route, 1)));
    let c = sandbox.counters();
    assert_eq!(
        c.provider(Sandboxed::Linode),
        4,
        "the unsupported kind sent nothing"
    );
    sandbox.shutdown().await;
    Ok(())
}

/// Pages 2..N are fetched concurrently and reassembled in page order (counts and completeness:
/// the conformance suite).
#[tokio::test]
async fn concurrently_fetched_pages_list_in_order() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_bulk(Sandboxed::Linode, SandboxKind::Instance, 2_000)?;
    let servers = linode.list(Kind::Servers).await?;
    let names: Vec<String> = (1..=2_000).map(|n| format!("bulk-linode-{n:06}")).collect();
    assert_eq!(
        servers.iter().map(|r| &r.name).collect::<Vec<_>>(),
        names.iter().collect::<Vec<_>>()
    );
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn server_create_ready_find_update_delete() -> TestResult {
    let (sandbox, linode) = start().await?;
    let web = web_spec("web-1");
    let user_data = "#cloud-config\npackages: [nginx]\n";
    let request = Request {
        user_data: Some(user_data),
        ..request(&web)
    };
    let server = Made::create(linode.as_ref(), Kind::Servers, request).await;
    let created = &server.created;
    assert_eq!(created.name, "web-1");
    assert_eq!(created.status, "pending");
    assert!(tags(created).contains(&web.owner_tag));
    assert_eq!(created.field("tags"), Some(set(&["web", "env:prod"])));
    assert_eq!(created.field("plan"), Some("g6-nanode-1".into()));
    assert_eq!(created.field("image"), Some("linode/ubuntu24.04".into()));
    assert_eq!(created.field("region"), Some("us-east".into()));
    assert_eq!(server.ready().await.status, "running");
    server.assert_found_alone().await;
    let other = spec(Kind::Servers, "web-2", &[]);
    assert!(linode.find_owned(Kind::Servers, &other).await?.is_empty());

    // Rename and retag: one PUT; the ownership tag survives a tag set that omits it.
    let retag = change(
        "tags",
        Some(set(&["web", "env:prod"])),
        Some(set(&["web", "tier:1"])),
    );
    let rename = edit("name", "web-1", "web-01");
    let renamed = server.changed(&[rename, retag]).await;
    assert_eq!(renamed.name, "web-01");
    assert_eq!(renamed.field("tags"), Some(set(&["web", "tier:1"])));
    assert!(tags(&renamed).contains(&web.owner_tag));

    // Resize.
    let before = sandbox.counters();
    let resize = edit("plan", NANODE, "g6-standard-1");
    let resized = server.changed(&[resize]).await;
    assert_eq!(resized.field("plan"), Some("g6-standard-1".into()));
    let after = sandbox.counters();
    assert_eq!(
        after.route(RESIZE_INSTANCE) - before.route(RESIZE_INSTANCE),
        1
    );
    let settled = server.ready().await;
    assert_eq!(settled.status, "running");
    assert_eq!(settled.field("plan"), Some("g6-standard-1".into()));

    // A change that cannot happen in place is refused before anything is sent.
    let before = sandbox.counters().provider(Sandboxed::Linode);
    let e = server
        .refused(&[edit("region", "us-east", "us-west")])
        .await;
    assert_eq!(e.class, ErrorClass::Invalid);
    assert_eq!(sandbox.counters().provider(Sandboxed::Linode), before);

    server.delete_twice().await;
    assert!(linode.find_owned(Kind::Servers, &web).await?.is_empty());

    let sent = [
        // The create was sent once.
        (POST_INSTANCES, 1),
        ("PUT /linode/v4/linode/instances/{id}", 1),
        ("DELETE /linode/v4/linode/instances/{id}", 2),
    ];
    assert_sent(&sandbox, &sent);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn resize_right_after_create_waits_for_the_linode_to_settle() -> TestResult {
    let (sandbox, linode) = start().await?;
    let s = server_spec("db-1", "us-west", Some("linode/debian12"), &[]);
    let server = Made::create(linode.as_ref(), Kind::Servers, request(&s)).await;
    assert_eq!(server.created.status, "pending");
    // Straight away: the sandbox answers "Linode busy." to a resize while provisioning.
    let up = server
        .changed(&[change("plan", None, Some("g6-standard-2".into()))])
        .await;
    assert_eq!(up.field("plan"), Some("g6-standard-2".into()));
    let resizes = sandbox.counters().route(RESIZE_INSTANCE);
    assert_eq!(resizes, 1, "never sent while busy");
    // Back down to the smaller plan: it fits because the upsize left the disk as it was
    // (`allow_auto_disk_resize = false`); with Linode's default the disk would have grown to the
    // larger plan's and this resize would be refused.
    let down = edit("plan", "g6-standard-2", NANODE);
    let r = server.changed(&[down]).await;
    assert_eq!(r.field("plan"), Some(NANODE.into()));
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_server_without_an_image_settles_offline_and_a_short_wait_times_out() -> TestResult {
    let (sandbox, linode) = start().await?;
    let s = server_spec("blank-1", "us-east", None, &[]);
    let server = Made::create(linode.as_ref(), Kind::Servers, request(&s)).await;
    let e = refused(
        linode
            .wait_ready(Kind::Servers, &server.id, Duration::ZERO)
            .await,
    );
    assert_eq!(e.class, ErrorClass::Transient);
    assert!(e.message.contains("still `pending`"), "{e}");
    let ready = server.ready().await;
    assert_eq!(ready.status, "stopped");
    assert_eq!(ready.field("image"), None);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn volume_create_attached_grow_move_delete() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    let server = "52000001"; // minecraft-old, us-east
    let other = "52000003"; // build-cache, us-west (wrong region for an attach)
    let data = spec(
        Kind::BlockVolumes,
        "data",
        &[
            ("region", "us-east".into()),
            ("size_gb", FieldValue::Int(20)),
            ("attach_to", "minecraft-old".into()),
        ],
    );
    let volume = Made::create(linode.as_ref(), Kind::BlockVolumes, attached(&data, server)).await;
    let created = &volume.created;
    assert_eq!(created.name, "data");
    assert_eq!(created.status, "creating");
    assert_eq!(created.field("size_gb"), Some(FieldValue::Int(20)));
    assert_eq!(created.field("attach_to"), Some("minecraft-old".into()));
    assert_eq!(tags(created), std::slice::from_ref(&data.owner_tag));
    assert_eq!(volume.ready().await.status, "active");
    volume.assert_found_alone().await;

    let grow = edit("size_gb", 20, 40);
    let rename = edit("name", "data", "data-2");
    let grown = volume.changed(&[rename, grow]).await;
    assert_eq!(grown.name, "data-2");
    assert_eq!(grown.field("size_gb"), Some(FieldValue::Int(40)));

    // Detach only.
    let detach = change("attach_to", Some("minecraft-old".into()), None);
    let detached = volume.changed(&[detach]).await;
    assert_eq!(detached.field("attach_to"), None);

    // Attach again (from detached: no detach sent).
    let before = sandbox.counters();
    let attach = || change("attach_to", None, Some("minecraft-old".into()));
    let again = volume.update(&[attach()], Some(server)).await?;
    assert_eq!(again.field("attach_to"), Some("minecraft-old".into()));
    let after = sandbox.counters();
    let delta = |k: &str| after.route(k) - before.route(k);
    assert_eq!(delta("POST /linode/v4/volumes/{id}/attach"), 1);
    assert_eq!(delta("POST /linode/v4/volumes/{id}/detach"), 0);

    // Moving to a server in another region: detached, then Linode refuses the attach.
    let moving = edit("attach_to", "minecraft-old", "build-cache");
    let e = refused(volume.update(&[moving], Some(other)).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.fields.iter().any(|f| f.field == "linode_id"), "{e}");

    // Shrinking is refused by Linode and reported.
    let shrink = edit("size_gb", 40, 10);
    assert_eq!(volume.refused(&[shrink]).await.class, ErrorClass::Invalid);

    // Re-attach, then delete: an attached volume is detached first.
    volume.update(&[attach()], Some(server)).await?;
    volume.delete_twice().await;

    let sent = [
        ("POST /linode/v4/volumes", 1),
        ("POST /linode/v4/volumes/{id}/resize", 2),
        // The second delete saw it gone.
        ("DELETE /linode/v4/volumes/{id}", 1),
    ];
    assert_sent(&sandbox, &sent);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn buckets_create_find_delete_and_refuse_non_empty() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    let logs = spec(Kind::Buckets, "app-logs", &[("region", "us-east".into())]);
    let bucket = Made::create(linode.as_ref(), Kind::Buckets, request(&logs)).await;
    assert_eq!(bucket.id, "us-east/app-logs");
    assert_eq!(bucket.created.status, "active");
    assert_eq!(bucket.created.field("cluster"), Some("us-east-1".into()));
    assert_eq!(bucket.ready().await.name, "app-logs");
    assert_eq!(linode.find_owned(Kind::Buckets, &logs).await?.len(), 1);
    let elsewhere = spec(
        Kind::Buckets,
        "app-logs",
        &[("region", "eu-central".into())],
    );
    let found = linode.find_owned(Kind::Buckets, &elsewhere).await?;
    assert!(found.is_empty());

    // The legacy cluster spelling creates in the cluster's region.
    let legacy = spec(
        Kind::Buckets,
        "media",
        &[("cluster", "eu-central-1".into())],
    );
    let media = Made::create(linode.as_ref(), Kind::Buckets, request(&legacy)).await;
    assert_eq!(media.id, "eu-central/media");
    assert_eq!(linode.find_owned(Kind::Buckets, &legacy).await?.len(), 1);

    let e = bucket
        .refused(&[edit("region", "us-east", "eu-central")])
        .await;
    assert_eq!(e.class, ErrorClass::Invalid);

    bucket.delete_twice().await;

    // A bucket with objects is refused, and nothing is emptied or deleted.
    let full = "us-east/old-site-assets";
    let e = refused(linode.delete(Kind::Buckets, full).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("not empty"), "{e}");
    assert!(e.message.contains("empty the bucket first"), "{e}");
    assert!(linode.get(Kind::Buckets, full).await?.is_some());

    let e = refused(linode.get(Kind::Buckets, "no-slash").await);
    assert_eq!(e.class, ErrorClass::Invalid);

    let sent = [
        ("POST /linode/v4/object-storage/buckets", 2),
        // Only the empty bucket got a DELETE.
        (
            "DELETE /linode/v4/object-storage/buckets/{region}/{label}",
            1,
        ),
    ];
    assert_sent(&sandbox, &sent);
    sandbox.shutdown().await;
    Ok(())
}

/// A listing answered 500 every time fails as transient after a bounded number of attempts (a
/// looping one: `failures.rs`).
#[tokio::test]
async fn a_listing_answering_500_fails_after_bounded_retries() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    sandbox.add_fault(FaultRule::new(LIST_VOLUMES, Fault::Status { code: 500 }));
    let e = refused(linode.list(Kind::BlockVolumes).await);
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(sandbox.counters().route(LIST_VOLUMES), 4, "bounded retries");
    sandbox.shutdown().await;
    Ok(())
}

/// A 429 on a create is the one failure a POST is re-sent after (nothing was created); 429 storms
/// on listings: `failures.rs`.
#[tokio::test]
async fn a_429_on_a_create_is_sent_again() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    let once = Fault::RateLimited {
        retry_after: Some(0),
    };
    sandbox.add_fault(FaultRule::new(POST_INSTANCES, once).times(1));
    let s = server_spec("after-429", "us-east", None, &[]);
    linode.create(Kind::Servers, request(&s)).await?;
    assert_eq!(sandbox.counters().route(POST_INSTANCES), 2);
    assert_eq!(linode.find_owned(Kind::Servers, &s).await?.len(), 1);
    sandbox.shutdown().await;
    Ok(())
}

/// Ids that are not Linode's shape are refused before anything is sent (they go into URL paths).
#[tokio::test]
async fn bad_ids_are_refused_before_anything_is_sent() -> TestResult {
    let (sandbox, linode) = start().await?;
    for kind in [Kind::Servers, Kind::BlockVolumes] {
        let e = refused(linode.get(kind, "../profile").await);
        assert_eq!(e.class, ErrorClass::Invalid);
    }
    let e = refused(linode.wait_ready(Kind::Databases, "1", READY).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert_eq!(sandbox.counters().provider(Sandboxed::Linode), 0);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_app_is_a_stackscript_run_on_the_image_and_checked_before_and_at_create() -> TestResult {
    let (sandbox, linode) = start().await?;
    let with_app = |name: &str, image: &str, app: &str| {
        server_spec(name, "us-east", Some(image), &[("app", app.into())])
    };
    // The plan-time check knows the account's own and Linode's StackScripts and their images.
    let grafana = with_app("grafana-1", "linode/ubuntu24.04", "913277");
    assert_eq!(
        linode.validate(Kind::Servers, &grafana).await?,
        [
            "app `913277` on linode does not deploy on image `linode/ubuntu24.04`; it takes: linode/ubuntu22.04"
        ]
    );
    let unknown = with_app("grafana-1", "linode/ubuntu22.04", "913278");
    assert_eq!(
        linode.validate(Kind::Servers, &unknown).await?,
        ["unknown app `913278` for linode; did you mean `913277`?"]
    );
    // Linode refuses the same at create, as an invalid request sent once.
    sandbox.reset_counters();
    let e = refused(linode.create(Kind::Servers, request(&grafana)).await);
    assert_eq!(e.class, ErrorClass::Invalid, "{e}");
    assert!(
        e.to_string()
            .contains("not compatible with this StackScript"),
        "{e}"
    );
    assert_eq!(sandbox.counters().route(POST_INSTANCES), 1);

    let ok = with_app("grafana-1", "linode/ubuntu22.04", "913277");
    assert!(linode.validate(Kind::Servers, &ok).await?.is_empty());
    let server = Made::create(linode.as_ref(), Kind::Servers, request(&ok)).await;
    assert_eq!(server.ready().await.status, "running");
    sandbox.shutdown().await;
    Ok(())
}
