//! What is particular to the linode adapter, against the provider sandbox: the fixtures' mapping,
//! page order, the life of each kind as Linode does it (busy resizes, buckets by label, refused
//! shrinks and non-empty buckets), bad ids, and the failure modes (pagination loops, 429 storms,
//! a rejected token), with exact request counts. What every adapter does (complete listings,
//! 404 → none, a lost create found again, delete twice, secrets removed) is the conformance
//! suite's (`conformance.rs`).

use std::sync::Arc;
use std::time::Duration;

use super::support::{change, connect_as, dock, request, set, spec};

use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ErrorClass, Provider, ProviderError, Request};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SandboxKind, Provider as Sandboxed, Sandbox, SandboxConfig,
    SandboxHandle,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const LIST_INSTANCES: &str = "GET /linode/v4/linode/instances";
const POST_INSTANCES: &str = "POST /linode/v4/linode/instances";
const LIST_VOLUMES: &str = "GET /linode/v4/volumes";
const LIST_BUCKETS: &str = "GET /linode/v4/object-storage/buckets";
const READY: Duration = Duration::from_secs(10);

fn ctx() -> DockContext {
    dock(ProviderKind::Linode, "linode-main", "LINODE_TOKEN")
}

fn adapter_with_token(
    sandbox: &SandboxHandle,
    token: &str,
) -> Result<Arc<dyn Provider>, Box<dyn std::error::Error>> {
    Ok(connect_as(sandbox, ctx(), Sandboxed::Linode, token, |_| {}))
}

async fn start() -> Result<(SandboxHandle, Arc<dyn Provider>), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let adapter = adapter_with_token(&sandbox, &sandbox.token(Sandboxed::Linode))?;
    Ok((sandbox, adapter))
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

fn err<T: std::fmt::Debug>(r: Result<T, ProviderError>) -> ProviderError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn fixtures_list_as_records() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();

    let servers = linode.list(Kind::Servers).await?;
    let got: Vec<(&str, &str, &str)> = servers
        .iter()
        .map(|r| {
            (
                r.provider_resource_id.as_str(),
                r.name.as_str(),
                r.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("52000001", "minecraft-old", "running"),
            ("52000002", "vpn-gateway", "running"),
            ("52000003", "build-cache", "stopped"),
        ]
    );
    let Attrs::Servers(a) = &servers[1].attrs else {
        panic!("server attrs")
    };
    assert_eq!(a.instance_type.as_deref(), Some("g6-nanode-1"));
    assert_eq!(a.ip_address.as_deref(), Some("192.0.2.42"));
    assert_eq!(servers[1].region.as_deref(), Some("eu-central"));

    let volumes = linode.list(Kind::BlockVolumes).await?;
    let got: Vec<(&str, &str, Option<FieldValue>)> = volumes
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str(), r.field("attach_to")))
        .collect();
    assert_eq!(
        got,
        [
            ("vpn-logs", "active", Some(FieldValue::from("vpn-gateway"))),
            ("orphan-vol", "active", None),
        ]
    );

    let buckets = linode.list(Kind::Buckets).await?;
    let got: Vec<(&str, &str)> = buckets
        .iter()
        .map(|r| (r.provider_resource_id.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("us-east/old-site-assets", "active"),
            ("eu-central/empty-scratch", "active")
        ]
    );

    for records in [&servers, &volumes, &buckets] {
        for r in records.iter() {
            assert_eq!(r.dock_id, "acme/linode-main");
            assert_eq!(r.content_hash, r.observed_hash());
            assert!(r.full_api_data.to_value().is_object());
        }
    }

    let e = err(linode.list(Kind::Databases).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    linode.check_credentials().await?;

    let c = sandbox.counters();
    assert_eq!(c.route(LIST_INSTANCES), 1);
    assert_eq!(c.route(LIST_VOLUMES), 1);
    assert_eq!(c.route(LIST_BUCKETS), 1);
    assert_eq!(c.route("GET /linode/v4/profile"), 1);
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
    let web = spec(
        Kind::Servers,
        "web-1",
        &[
            ("region", "us-east".into()),
            ("plan", "g6-nanode-1".into()),
            ("image", "linode/ubuntu24.04".into()),
            ("tags", set(&["web", "env:prod"])),
            (
                "ssh_keys",
                set(&[
                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f test@example",
                ]),
            ),
        ],
    );
    let created = linode
        .create(
            Kind::Servers,
            Request {
                spec: &web,
                user_data: Some("#cloud-config\npackages: [nginx]\n"),
                attach_to_id: None,
            },
        )
        .await?;
    assert_eq!(created.name, "web-1");
    assert_eq!(created.status, "pending");
    assert!(tags(&created).contains(&web.owner_tag));
    assert_eq!(created.field("tags"), Some(set(&["web", "env:prod"])));
    assert_eq!(created.field("plan"), Some("g6-nanode-1".into()));
    assert_eq!(created.field("image"), Some("linode/ubuntu24.04".into()));
    assert_eq!(created.field("region"), Some("us-east".into()));
    let id = created.provider_resource_id.clone();

    let ready = linode.wait_ready(Kind::Servers, &id, READY).await?;
    assert_eq!(ready.status, "running");

    let found = linode.find_owned(Kind::Servers, &web).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, id);
    let other = spec(Kind::Servers, "web-2", &[]);
    assert!(linode.find_owned(Kind::Servers, &other).await?.is_empty());

    // Rename and retag: one PUT; the ownership tag survives a tag set that omits it.
    let renamed = linode
        .update(
            Kind::Servers,
            &id,
            &[
                change("name", Some("web-1".into()), Some("web-01".into())),
                change(
                    "tags",
                    Some(set(&["web", "env:prod"])),
                    Some(set(&["web", "tier:1"])),
                ),
            ],
            request(&web),
        )
        .await?;
    assert_eq!(renamed.name, "web-01");
    assert_eq!(renamed.field("tags"), Some(set(&["web", "tier:1"])));
    assert!(tags(&renamed).contains(&web.owner_tag));

    // Resize.
    let before = sandbox.counters();
    let resized = linode
        .update(
            Kind::Servers,
            &id,
            &[change(
                "plan",
                Some("g6-nanode-1".into()),
                Some("g6-standard-1".into()),
            )],
            request(&web),
        )
        .await?;
    assert_eq!(resized.field("plan"), Some("g6-standard-1".into()));
    let after = sandbox.counters();
    assert_eq!(
        after.route("POST /linode/v4/linode/instances/{id}/resize")
            - before.route("POST /linode/v4/linode/instances/{id}/resize"),
        1
    );
    let settled = linode.wait_ready(Kind::Servers, &id, READY).await?;
    assert_eq!(settled.status, "running");
    assert_eq!(settled.field("plan"), Some("g6-standard-1".into()));

    // A change that cannot happen in place is refused before anything is sent.
    let before = sandbox.counters().provider(Sandboxed::Linode);
    let e = err(linode
        .update(
            Kind::Servers,
            &id,
            &[change(
                "region",
                Some("us-east".into()),
                Some("us-west".into()),
            )],
            request(&web),
        )
        .await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert_eq!(sandbox.counters().provider(Sandboxed::Linode), before);

    linode.delete(Kind::Servers, &id).await?;
    linode.delete(Kind::Servers, &id).await?;
    assert!(linode.get(Kind::Servers, &id).await?.is_none());
    assert!(linode.find_owned(Kind::Servers, &web).await?.is_empty());

    let c = sandbox.counters();
    assert_eq!(c.route(POST_INSTANCES), 1, "the create was sent once");
    assert_eq!(c.route("PUT /linode/v4/linode/instances/{id}"), 1);
    assert_eq!(c.route("DELETE /linode/v4/linode/instances/{id}"), 2);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn resize_right_after_create_waits_for_the_linode_to_settle() -> TestResult {
    let (sandbox, linode) = start().await?;
    let s = spec(
        Kind::Servers,
        "db-1",
        &[
            ("region", "us-west".into()),
            ("plan", "g6-nanode-1".into()),
            ("image", "linode/debian12".into()),
        ],
    );
    let created = linode.create(Kind::Servers, request(&s)).await?;
    assert_eq!(created.status, "pending");
    // Straight away: the sandbox answers "Linode busy." to a resize while provisioning.
    let r = linode
        .update(
            Kind::Servers,
            &created.provider_resource_id,
            &[change("plan", None, Some("g6-standard-2".into()))],
            request(&s),
        )
        .await?;
    assert_eq!(r.field("plan"), Some("g6-standard-2".into()));
    assert_eq!(
        sandbox
            .counters()
            .route("POST /linode/v4/linode/instances/{id}/resize"),
        1,
        "never sent while busy"
    );
    // Back down to the smaller plan: it fits because the upsize left the disk as it was
    // (`allow_auto_disk_resize = false`); with Linode's default the disk would have grown to the
    // larger plan's and this resize would be refused.
    let r = linode
        .update(
            Kind::Servers,
            &created.provider_resource_id,
            &[change(
                "plan",
                Some("g6-standard-2".into()),
                Some("g6-nanode-1".into()),
            )],
            request(&s),
        )
        .await?;
    assert_eq!(r.field("plan"), Some("g6-nanode-1".into()));
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_server_without_an_image_settles_offline_and_a_short_wait_times_out() -> TestResult {
    let (sandbox, linode) = start().await?;
    let s = spec(
        Kind::Servers,
        "blank-1",
        &[("region", "us-east".into()), ("plan", "g6-nanode-1".into())],
    );
    let created = linode.create(Kind::Servers, request(&s)).await?;
    let id = created.provider_resource_id;
    let e = err(linode.wait_ready(Kind::Servers, &id, Duration::ZERO).await);
    assert_eq!(e.class, ErrorClass::Transient);
    assert!(e.message.contains("still `pending`"), "{e}");
    let ready = linode.wait_ready(Kind::Servers, &id, READY).await?;
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
    let created = linode
        .create(
            Kind::BlockVolumes,
            Request {
                spec: &data,
                user_data: None,
                attach_to_id: Some(server),
            },
        )
        .await?;
    assert_eq!(created.name, "data");
    assert_eq!(created.status, "creating");
    assert_eq!(created.field("size_gb"), Some(FieldValue::Int(20)));
    assert_eq!(created.field("attach_to"), Some("minecraft-old".into()));
    assert_eq!(tags(&created), std::slice::from_ref(&data.owner_tag));
    let id = created.provider_resource_id.clone();

    let ready = linode.wait_ready(Kind::BlockVolumes, &id, READY).await?;
    assert_eq!(ready.status, "active");
    let found = linode.find_owned(Kind::BlockVolumes, &data).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, id);

    let grown = linode
        .update(
            Kind::BlockVolumes,
            &id,
            &[
                change("name", Some("data".into()), Some("data-2".into())),
                change(
                    "size_gb",
                    Some(FieldValue::Int(20)),
                    Some(FieldValue::Int(40)),
                ),
            ],
            request(&data),
        )
        .await?;
    assert_eq!(grown.name, "data-2");
    assert_eq!(grown.field("size_gb"), Some(FieldValue::Int(40)));

    // Detach only.
    let detached = linode
        .update(
            Kind::BlockVolumes,
            &id,
            &[change("attach_to", Some("minecraft-old".into()), None)],
            request(&data),
        )
        .await?;
    assert_eq!(detached.field("attach_to"), None);

    // Attach again (from detached: no detach sent).
    let before = sandbox.counters();
    let attached = linode
        .update(
            Kind::BlockVolumes,
            &id,
            &[change("attach_to", None, Some("minecraft-old".into()))],
            Request {
                spec: &data,
                user_data: None,
                attach_to_id: Some(server),
            },
        )
        .await?;
    assert_eq!(attached.field("attach_to"), Some("minecraft-old".into()));
    let after = sandbox.counters();
    let delta = |k: &str| after.route(k) - before.route(k);
    assert_eq!(delta("POST /linode/v4/volumes/{id}/attach"), 1);
    assert_eq!(delta("POST /linode/v4/volumes/{id}/detach"), 0);

    // Moving to a server in another region: detached, then Linode refuses the attach.
    let e = err(linode
        .update(
            Kind::BlockVolumes,
            &id,
            &[change(
                "attach_to",
                Some("minecraft-old".into()),
                Some("build-cache".into()),
            )],
            Request {
                spec: &data,
                user_data: None,
                attach_to_id: Some(other),
            },
        )
        .await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.fields.iter().any(|f| f.field == "linode_id"), "{e}");

    // Shrinking is refused by Linode and reported.
    let e = err(linode
        .update(
            Kind::BlockVolumes,
            &id,
            &[change(
                "size_gb",
                Some(FieldValue::Int(40)),
                Some(FieldValue::Int(10)),
            )],
            request(&data),
        )
        .await);
    assert_eq!(e.class, ErrorClass::Invalid);

    // Re-attach, then delete: an attached volume is detached first.
    linode
        .update(
            Kind::BlockVolumes,
            &id,
            &[change("attach_to", None, Some("minecraft-old".into()))],
            Request {
                spec: &data,
                user_data: None,
                attach_to_id: Some(server),
            },
        )
        .await?;
    linode.delete(Kind::BlockVolumes, &id).await?;
    linode.delete(Kind::BlockVolumes, &id).await?;
    assert!(linode.get(Kind::BlockVolumes, &id).await?.is_none());

    let c = sandbox.counters();
    assert_eq!(c.route("POST /linode/v4/volumes"), 1);
    assert_eq!(c.route("POST /linode/v4/volumes/{id}/resize"), 2);
    assert_eq!(
        c.route("DELETE /linode/v4/volumes/{id}"),
        1,
        "the second delete saw it gone"
    );
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn buckets_create_find_delete_and_refuse_non_empty() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    let logs = spec(Kind::Buckets, "app-logs", &[("region", "us-east".into())]);
    let created = linode.create(Kind::Buckets, request(&logs)).await?;
    assert_eq!(created.provider_resource_id, "us-east/app-logs");
    assert_eq!(created.status, "active");
    assert_eq!(created.field("cluster"), Some("us-east-1".into()));
    let id = created.provider_resource_id.clone();

    let ready = linode.wait_ready(Kind::Buckets, &id, READY).await?;
    assert_eq!(ready.name, "app-logs");
    assert_eq!(linode.find_owned(Kind::Buckets, &logs).await?.len(), 1);
    let elsewhere = spec(
        Kind::Buckets,
        "app-logs",
        &[("region", "eu-central".into())],
    );
    assert!(
        linode
            .find_owned(Kind::Buckets, &elsewhere)
            .await?
            .is_empty()
    );

    // The legacy cluster spelling creates in the cluster's region.
    let legacy = spec(
        Kind::Buckets,
        "media",
        &[("cluster", "eu-central-1".into())],
    );
    let media = linode.create(Kind::Buckets, request(&legacy)).await?;
    assert_eq!(media.provider_resource_id, "eu-central/media");
    assert_eq!(linode.find_owned(Kind::Buckets, &legacy).await?.len(), 1);

    let e = err(linode
        .update(
            Kind::Buckets,
            &id,
            &[change(
                "region",
                Some("us-east".into()),
                Some("eu-central".into()),
            )],
            request(&logs),
        )
        .await);
    assert_eq!(e.class, ErrorClass::Invalid);

    linode.delete(Kind::Buckets, &id).await?;
    linode.delete(Kind::Buckets, &id).await?;
    assert!(linode.get(Kind::Buckets, &id).await?.is_none());

    // A bucket with objects is refused, and nothing is emptied or deleted.
    let e = err(linode
        .delete(Kind::Buckets, "us-east/old-site-assets")
        .await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("not empty"), "{e}");
    assert!(e.message.contains("empty the bucket first"), "{e}");
    assert!(
        linode
            .get(Kind::Buckets, "us-east/old-site-assets")
            .await?
            .is_some()
    );

    let e = err(linode.get(Kind::Buckets, "no-slash").await);
    assert_eq!(e.class, ErrorClass::Invalid);

    let c = sandbox.counters();
    assert_eq!(c.route("POST /linode/v4/object-storage/buckets"), 2);
    assert_eq!(
        c.route("DELETE /linode/v4/object-storage/buckets/{region}/{label}"),
        1,
        "only the empty bucket got a DELETE"
    );
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_pagination_loop_is_an_error_not_a_short_list() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    sandbox.add_fault(FaultRule::new(LIST_INSTANCES, Fault::PaginationLoop));
    let e = err(linode.list(Kind::Servers).await);
    assert_eq!(e.class, ErrorClass::Transient);
    assert!(e.message.contains("incomplete"), "{e}");

    sandbox.clear_faults();
    sandbox.add_fault(FaultRule::new(LIST_VOLUMES, Fault::Status { code: 500 }));
    let e = err(linode.list(Kind::BlockVolumes).await);
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(sandbox.counters().route(LIST_VOLUMES), 4, "bounded retries");
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_429_storm_with_retry_after_is_survived_within_bounded_attempts() -> TestResult {
    let (sandbox, linode) = start().await?;
    sandbox.seed_fixtures();
    sandbox.add_fault(
        FaultRule::new(
            LIST_INSTANCES,
            Fault::RateLimited {
                retry_after: Some(1),
            },
        )
        .times(2),
    );
    let servers = linode.list(Kind::Servers).await?;
    assert_eq!(servers.len(), 3);
    assert_eq!(sandbox.counters().route(LIST_INSTANCES), 3);

    // A storm longer than the retry policy: rate limited after exactly max_attempts requests.
    sandbox.reset_counters();
    sandbox.add_fault(
        FaultRule::new(
            LIST_VOLUMES,
            Fault::RateLimited {
                retry_after: Some(0),
            },
        )
        .times(10),
    );
    let e = err(linode.list(Kind::BlockVolumes).await);
    assert_eq!(e.class, ErrorClass::RateLimited);
    assert_eq!(sandbox.counters().route(LIST_VOLUMES), 4);

    // A 429 on a create is the one failure a POST is re-sent after (nothing was created).
    sandbox.add_fault(
        FaultRule::new(
            POST_INSTANCES,
            Fault::RateLimited {
                retry_after: Some(0),
            },
        )
        .times(1),
    );
    let s = spec(
        Kind::Servers,
        "after-429",
        &[("region", "us-east".into()), ("plan", "g6-nanode-1".into())],
    );
    linode.create(Kind::Servers, request(&s)).await?;
    assert_eq!(sandbox.counters().route(POST_INSTANCES), 2);
    assert_eq!(linode.find_owned(Kind::Servers, &s).await?.len(), 1);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_rejected_token_names_its_source_not_its_value() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let token = "not-the-linode-token-5f2a9c";
    let linode = adapter_with_token(&sandbox, token)?;
    for e in [
        err(linode.check_credentials().await),
        err(linode.list(Kind::Servers).await.map(|r| r.len())),
    ] {
        assert_eq!(e.class, ErrorClass::Unauthorized);
        let text = e.to_string();
        assert!(text.contains("environment variable LINODE_TOKEN"), "{text}");
        assert!(!text.contains(token), "{text}");
    }
    assert_eq!(
        sandbox.counters().provider(Sandboxed::Linode),
        2,
        "not retried"
    );
    sandbox.shutdown().await;
    Ok(())
}

/// Ids that are not Linode's shape are refused before anything is sent (they go into URL paths).
#[tokio::test]
async fn bad_ids_are_refused_before_anything_is_sent() -> TestResult {
    let (sandbox, linode) = start().await?;
    for kind in [Kind::Servers, Kind::BlockVolumes] {
        let e = err(linode.get(kind, "../profile").await);
        assert_eq!(e.class, ErrorClass::Invalid);
    }
    let e = err(linode.wait_ready(Kind::Databases, "1", READY).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert_eq!(sandbox.counters().provider(Sandboxed::Linode), 0);
    sandbox.shutdown().await;
    Ok(())
}
