//! What is particular to the Cloudflare adapter, against the provider sandbox: the fixture zone
//! and its records (proxied, automatic TTLs, the assigned nameservers), a zone that is ready
//! while Cloudflare waits for the registrar, the account filter, a zone created without an
//! account, the structured `Ratelimit` header, R2 buckets in every jurisdiction, D1
//! databases found by name, and Pages projects (a git project's deployment, a direct upload,
//! variable values sent and never read back, the whole listing checked against its total), and
//! the read-only Workers scripts listed beside them. What every adapter does is the conformance
//! suite's (`conformance.rs`); the failures every adapter meets alike are `failures.rs`'.

use std::sync::Arc;

use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_providers::{ErrorClass, Provider};
use stackdock_sandbox::{Provider as Sandboxed, Sandbox, SandboxConfig, SandboxHandle};

use super::conformance::CLOUDFLARE_ACCOUNT;
use super::support::{READY, connect_as, dock, refused, request, spec};

type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(super) const LIST_ZONES: &str = "GET /cloudflare/client/v4/zones";
pub(super) const LIST_RECORDS: &str = "GET /cloudflare/client/v4/zones/{zone_id}/dns_records";

/// Dock `cloudflare-main` in the sandbox's account (`None`: a dock without `account_id`).
fn ctx(account: Option<&str>) -> stackdock_providers::DockContext {
    let mut ctx = dock(
        ProviderKind::Cloudflare,
        "cloudflare-main",
        "CLOUDFLARE_API_TOKEN",
    );
    if let Some(account) = account {
        ctx.settings = [("account_id".to_owned(), FieldValue::Str(account.into()))]
            .into_iter()
            .collect();
    }
    ctx
}

/// The adapter of dock `cloudflare-main` against the sandbox, with `token`.
pub(super) fn adapter_with_token(sandbox: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(
        sandbox,
        ctx(Some(CLOUDFLARE_ACCOUNT)),
        Sandboxed::Cloudflare,
        token,
        |_| {},
    )
}

async fn start(
    config: SandboxConfig,
) -> Result<(SandboxHandle, Arc<dyn Provider>), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(config).await?;
    let adapter = adapter_with_token(&sandbox, &sandbox.token(Sandboxed::Cloudflare));
    Ok((sandbox, adapter))
}

#[tokio::test]
async fn the_fixture_zone_and_its_records_map_with_nameservers_proxied_and_automatic_ttls()
-> TestResult {
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    sandbox.seed_fixtures();
    let zones = p.list(Kind::Domains).await?;
    assert_eq!(zones.len(), 1);
    let zone = &zones[0];
    assert_eq!(
        (zone.name.as_str(), zone.status.as_str()),
        ("acme-blog.example", "active")
    );
    let Attrs::Domains(a) = &zone.attrs else {
        panic!("not a zone")
    };
    assert_eq!(
        a.assigned_nameservers,
        ["ada.ns.cloudflare.com", "rex.ns.cloudflare.com"]
    );
    assert_eq!(a.registrar.as_deref(), Some("Example Registrar, Inc."));
    let text = serde_json::to_string(zone)?;
    assert!(
        !text.contains("SANDBOX-SECRET-"),
        "the verification key is stored: {text}"
    );

    let records = p.list_within(Kind::DomainRecords, &zones).await?;
    let mut names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "acme-blog.example A 192.0.2.61",
            "acme-blog.example MX mx.mail-host.example",
            "acme-blog.example TXT v=spf1 include:mail-host.example -all",
            "www.acme-blog.example CNAME acme-blog.example",
        ]
    );
    let apex = records
        .iter()
        .find(|r| r.name.ends_with(" A 192.0.2.61"))
        .ok_or("the apex A record")?;
    assert_eq!(apex.field("proxied"), Some(FieldValue::Bool(true)));
    assert_eq!(
        apex.field("ttl"),
        None,
        "an automatic TTL is stored as none"
    );
    let mx = records
        .iter()
        .find(|r| r.name.contains(" MX "))
        .ok_or("the MX record")?;
    assert_eq!(mx.field("priority"), Some(FieldValue::Int(10)));
    assert_eq!(mx.field("ttl"), Some(FieldValue::Int(3600)));
    // One request for the zones, one for the zone's records (per_page up to 5,000,000).
    let counters = sandbox.counters();
    assert_eq!(
        (counters.route(LIST_ZONES), counters.route(LIST_RECORDS)),
        (1, 1)
    );
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_new_zone_is_ready_while_pending_and_takes_records_at_once() -> TestResult {
    let (sandbox, p) = start(SandboxConfig::default().with_pending_polls(1_000)).await?;
    let zone = spec(Kind::Domains, "shop.example", &[]);
    let made = p.create(Kind::Domains, request(&zone)).await?;
    assert_eq!(made.status, "pending");
    let Attrs::Domains(a) = &made.attrs else {
        panic!("not a zone")
    };
    assert_eq!(
        a.assigned_nameservers.len(),
        2,
        "the nameservers to set at the registrar"
    );
    let ready = p
        .wait_ready(Kind::Domains, &made.provider_resource_id, READY)
        .await?;
    assert_eq!(
        ready.status, "pending",
        "readiness does not wait for activation"
    );
    let record = spec(
        Kind::DomainRecords,
        "www.shop.example A 203.0.113.7",
        &[
            ("zone", FieldValue::Str("shop.example".into())),
            ("fqdn", FieldValue::Str("www.shop.example".into())),
            ("type", FieldValue::Str("A".into())),
            ("value", FieldValue::Str("203.0.113.7".into())),
            ("proxied", FieldValue::Bool(true)),
        ],
    );
    let made = p.create(Kind::DomainRecords, request(&record)).await?;
    assert_eq!(made.field("proxied"), Some(FieldValue::Bool(true)));
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn zones_are_listed_in_the_docks_account_and_created_only_with_one() -> TestResult {
    let (sandbox, _) = start(SandboxConfig::default()).await?;
    sandbox.seed_fixtures();
    let token = sandbox.token(Sandboxed::Cloudflare);
    let other = connect_as(
        &sandbox,
        ctx(Some("11111111111111111111111111111111")),
        Sandboxed::Cloudflare,
        &token,
        |_| {},
    );
    assert!(
        other.list(Kind::Domains).await?.is_empty(),
        "another account's zones"
    );
    let unscoped = connect_as(&sandbox, ctx(None), Sandboxed::Cloudflare, &token, |_| {});
    assert_eq!(
        unscoped.list(Kind::Domains).await?.len(),
        1,
        "every zone the token sees"
    );
    sandbox.reset_counters();
    let zone = spec(Kind::Domains, "shop.example", &[]);
    let e = refused(unscoped.create(Kind::Domains, request(&zone)).await);
    assert_eq!(e.class, ErrorClass::Invalid, "{e}");
    assert!(e.message.contains("account_id"), "{e}");
    assert_eq!(sandbox.counters().total, 0, "nothing is sent");
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_answer_carries_the_structured_rate_limit_fields() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let url = format!("{}/zones", sandbox.base_url(Sandboxed::Cloudflare));
    let answer = reqwest::Client::new()
        .get(url)
        .bearer_auth(sandbox.token(Sandboxed::Cloudflare))
        .send()
        .await?;
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (limit, policy) = (header("ratelimit"), header("ratelimit-policy"));
    assert!(limit.starts_with("\"default\";r="), "{limit}");
    assert!(limit.contains(";t="), "{limit}");
    assert_eq!(policy, "\"default\";q=1200;w=300");
    let body: serde_json::Value = answer.json().await?;
    assert_eq!(body["success"], serde_json::json!(true));
    assert_eq!(body["result_info"]["total_count"], serde_json::json!(0));
    sandbox.shutdown().await;
    Ok(())
}

pub(super) const LIST_BUCKETS: &str = "GET /cloudflare/client/v4/accounts/{account_id}/r2/buckets";

#[tokio::test]
async fn buckets_are_listed_in_every_jurisdiction_and_a_name_is_unique_within_one() -> TestResult {
    use stackdock_sandbox::{Change, Kind as SandboxKind, Mutation};
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    sandbox.seed_fixtures();
    sandbox.reset_counters();
    let buckets = p.list(Kind::Buckets).await?;
    let listed: Vec<(&str, Option<&str>)> = buckets
        .iter()
        .map(|b| (b.provider_resource_id.as_str(), b.region.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            ("default/acme-media", Some("wnam")),
            ("eu/acme-eu-exports", Some("weur"))
        ]
    );
    // One listing per jurisdiction: default, eu, fedramp.
    assert_eq!(sandbox.counters().route(LIST_BUCKETS), 3);

    // The same name in the EU jurisdiction is another bucket, found again by name there.
    let eu = spec(
        Kind::Buckets,
        "acme-media",
        &[
            ("region", FieldValue::from("weur")),
            ("jurisdiction", FieldValue::from("eu")),
        ],
    );
    let created = p.create(Kind::Buckets, request(&eu)).await?;
    assert_eq!(created.provider_resource_id, "eu/acme-media");
    assert_eq!(created.field("jurisdiction"), Some(FieldValue::from("eu")));
    let found = p.find_owned(Kind::Buckets, &eu).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, "eu/acme-media");
    let default = spec(
        Kind::Buckets,
        "acme-media",
        &[("region", FieldValue::from("wnam"))],
    );
    let found = p.find_owned(Kind::Buckets, &default).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, "default/acme-media");
    assert_eq!(p.list(Kind::Buckets).await?.len(), 3);

    // A bucket holding objects is not deleted; an empty one is, and deleting it again succeeds.
    sandbox.mutate(Mutation::new(
        Sandboxed::Cloudflare,
        SandboxKind::Bucket,
        "default/acme-media",
        Change::SetObjects {
            objects: 12,
            size_bytes: 4096,
        },
    ))?;
    let e = refused(p.delete(Kind::Buckets, "default/acme-media").await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("not empty"), "{e}");
    assert!(p.get(Kind::Buckets, "default/acme-media").await?.is_some());
    p.delete(Kind::Buckets, "eu/acme-media").await?;
    p.delete(Kind::Buckets, "eu/acme-media").await?;
    assert!(p.get(Kind::Buckets, "eu/acme-media").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_dock_without_an_account_holds_no_buckets_and_asks_nothing() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    sandbox.seed_fixtures();
    let token = sandbox.token(Sandboxed::Cloudflare);
    let p = connect_as(&sandbox, ctx(None), Sandboxed::Cloudflare, &token, |_| {});
    sandbox.reset_counters();
    assert!(p.list(Kind::Buckets).await?.is_empty());
    assert_eq!(sandbox.counters().route(LIST_BUCKETS), 0);
    let e = refused(
        p.create(
            Kind::Buckets,
            request(&spec(
                Kind::Buckets,
                "acme-new",
                &[("region", FieldValue::from("enam"))],
            )),
        )
        .await,
    );
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("account_id"), "{e}");
    Ok(())
}

pub(super) const LIST_DATABASES: &str =
    "GET /cloudflare/client/v4/accounts/{account_id}/d1/database";

#[tokio::test]
async fn d1_databases_are_found_again_by_name_and_listed_in_the_account_only() -> TestResult {
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    let sessions = spec(
        Kind::Databases,
        "acme-sessions",
        &[
            ("engine", FieldValue::from("d1")),
            ("region", FieldValue::from("weur")),
        ],
    );
    let created = p.create(Kind::Databases, request(&sessions)).await?;
    assert_eq!(created.field("engine"), Some(FieldValue::from("d1")));
    assert_eq!(created.provider_resource_id.len(), 36, "a uuid");
    // `acme-sessions-2` shares the prefix: the name filter is matched exactly.
    let other = spec(
        Kind::Databases,
        "acme-sessions-2",
        &[("engine", FieldValue::from("d1"))],
    );
    p.create(Kind::Databases, request(&other)).await?;
    let found = p.find_owned(Kind::Databases, &sessions).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_resource_id, created.provider_resource_id);
    sandbox.reset_counters();
    assert_eq!(p.list(Kind::Databases).await?.len(), 2);
    assert_eq!(sandbox.counters().route(LIST_DATABASES), 1);
    // A second create of the same name is refused by D1, not duplicated.
    let e = refused(p.create(Kind::Databases, request(&sessions)).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    let e = refused(p.get(Kind::Databases, "acme-sessions").await);
    assert_eq!(e.class, ErrorClass::Invalid);

    let token = sandbox.token(Sandboxed::Cloudflare);
    let dns_only = connect_as(&sandbox, ctx(None), Sandboxed::Cloudflare, &token, |_| {});
    sandbox.reset_counters();
    assert!(dns_only.list(Kind::Databases).await?.is_empty());
    assert_eq!(sandbox.counters().route(LIST_DATABASES), 0);
    Ok(())
}

pub(super) const LIST_PAGES: &str =
    "GET /cloudflare/client/v4/accounts/{account_id}/pages/projects";

fn pages_spec(name: &str, fields: &[(&str, FieldValue)]) -> stackdock_core::plan::ResourceSpec {
    let mut all = vec![("subtype", FieldValue::from("pages"))];
    all.extend(fields.iter().cloned());
    spec(Kind::WebServices, name, &all)
}

/// A git project is `pending` while its production deployment goes through its stages and
/// `running` once the deploy stage succeeds; a direct-upload project has no deployment and is
/// ready at once. Variable values reach Cloudflare as `secret_text` from the resolved values
/// only, and come back as names.
#[tokio::test]
async fn pages_projects_deploy_from_git_or_wait_for_an_upload_and_keep_values_out() -> TestResult {
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    let site = pages_spec(
        "acme-site",
        &[
            ("repo", FieldValue::from("acme/site")),
            ("env", FieldValue::set(["API_URL@production"])),
        ],
    );
    let values = stackdock_providers::EnvValues::new(
        [(
            "API_URL@production".to_owned(),
            "https://api.acme.example".to_owned(),
        )]
        .into(),
    );
    let mut req = request(&site);
    req.env = Some(&values);
    let created = p.create(Kind::WebServices, req).await?;
    assert_eq!(created.provider_resource_id, "acme-site");
    assert_eq!(created.status, "pending");
    let ready = p.wait_ready(Kind::WebServices, "acme-site", READY).await?;
    assert_eq!(ready.status, "running");
    let Attrs::WebServices(a) = &ready.attrs else {
        panic!("not a web service")
    };
    assert_eq!(a.provider_status.as_deref(), Some("deploy/success"));
    assert_eq!(
        a.default_url.as_deref(),
        Some("https://acme-site.pages.dev")
    );
    assert_eq!(a.repo.branch.as_deref(), Some("main"), "the default branch");
    assert!(a.last_deploy_id.is_some() && a.last_commit_sha.is_some());
    assert_eq!(a.env_var_names, ["API_URL@production".to_owned()].into());
    let raw = sandbox
        .resource_json(
            Sandboxed::Cloudflare,
            stackdock_sandbox::Kind::WebService,
            "acme-site",
        )
        .ok_or("the sandbox has the project")?;
    assert_eq!(
        raw["deployment_configs"]["production"]["env_vars"]["API_URL"],
        serde_json::json!({"type": "secret_text", "value": "https://api.acme.example"})
    );
    assert!(!ready.full_api_data.as_str().contains("api.acme.example"));

    // Without the resolved value nothing is sent.
    sandbox.reset_counters();
    let other = pages_spec("acme-other", &[("env", FieldValue::set(["X@preview"]))]);
    let e = refused(p.create(Kind::WebServices, request(&other)).await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("X@preview"), "{e}");
    assert_eq!(
        sandbox.counters().route(&LIST_PAGES.replace("GET", "POST")),
        0
    );

    let uploads = pages_spec("acme-uploads", &[]);
    p.create(Kind::WebServices, request(&uploads)).await?;
    let ready = p
        .wait_ready(Kind::WebServices, "acme-uploads", READY)
        .await?;
    assert_eq!(ready.status, "pending", "never deployed");
    assert_eq!(ready.field("repo"), None);
    sandbox.reset_counters();
    assert_eq!(p.list(Kind::WebServices).await?.len(), 2);
    assert_eq!(
        sandbox.counters().route(LIST_PAGES),
        1,
        "one request, whole"
    );
    Ok(())
}

/// A listing that serves fewer projects than its `result_info.total_count` is an error, never
/// a list missing projects (a sync would take them for deleted); a dock without an account holds
/// none and asks nothing.
#[tokio::test]
async fn an_incomplete_pages_listing_is_an_error_and_no_account_lists_nothing() -> TestResult {
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    sandbox.seed_bulk(
        Sandboxed::Cloudflare,
        stackdock_sandbox::Kind::WebService,
        3,
    )?;
    assert_eq!(p.list(Kind::WebServices).await?.len(), 3);
    sandbox.add_fault(stackdock_sandbox::FaultRule::new(
        LIST_PAGES,
        stackdock_sandbox::Fault::EmptyPage,
    ));
    let e = refused(p.list(Kind::WebServices).await);
    assert_eq!(e.class, ErrorClass::Transient, "{e}");
    assert!(e.message.contains("incomplete"), "{e}");
    sandbox.clear_faults();

    let token = sandbox.token(Sandboxed::Cloudflare);
    let dns_only = connect_as(&sandbox, ctx(None), Sandboxed::Cloudflare, &token, |_| {});
    sandbox.reset_counters();
    assert!(dns_only.list(Kind::WebServices).await?.is_empty());
    assert_eq!(sandbox.counters().route(LIST_PAGES), 0);
    let e = refused(
        dns_only
            .create(Kind::WebServices, request(&pages_spec("acme-x", &[])))
            .await,
    );
    assert!(e.message.contains("account_id"), "{e}");
    Ok(())
}

const PATCH_PAGES: &str =
    "PATCH /cloudflare/client/v4/accounts/{account_id}/pages/projects/{project_name}";
const ADD_PAGES_DOMAIN: &str =
    "POST /cloudflare/client/v4/accounts/{account_id}/pages/projects/{project_name}/domains";

/// Settings and variables change in one `PATCH`; a custom domain the project already has (an
/// apply retried after its answer was lost) is refused by Cloudflare, read back, and done.
#[tokio::test]
async fn settings_change_in_one_patch_and_a_domain_added_twice_converges() -> TestResult {
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    let site = pages_spec("acme-docs", &[("repo", FieldValue::from("acme/docs"))]);
    p.create(Kind::WebServices, request(&site)).await?;
    let change = |field: &str, before: Option<FieldValue>, after: FieldValue| {
        stackdock_core::plan::FieldChange {
            field: field.to_owned(),
            before,
            after: Some(after),
        }
    };
    let changes = [
        change("production_branch", None, FieldValue::from("release")),
        change("build_command", None, FieldValue::from("hugo")),
        change("output_directory", None, FieldValue::from("public")),
        change(
            "env",
            None,
            FieldValue::set(["HUGO_ENV@production", "HUGO_ENV@preview"]),
        ),
        change("domains", None, FieldValue::set(["docs.acme.example"])),
    ];
    let values = stackdock_providers::EnvValues::new(
        [
            ("HUGO_ENV@production".to_owned(), "production".to_owned()),
            ("HUGO_ENV@preview".to_owned(), "preview".to_owned()),
        ]
        .into(),
    );
    let mut req = request(&site);
    req.env = Some(&values);
    sandbox.reset_counters();
    let updated = p
        .update(Kind::WebServices, "acme-docs", &changes, req)
        .await?;
    assert_eq!(sandbox.counters().route(PATCH_PAGES), 1, "one PATCH");
    assert_eq!(sandbox.counters().route(ADD_PAGES_DOMAIN), 1);
    assert_eq!(
        updated.field("production_branch"),
        Some(FieldValue::from("release"))
    );
    assert_eq!(
        updated.field("build_command"),
        Some(FieldValue::from("hugo"))
    );
    assert_eq!(
        updated.field("output_directory"),
        Some(FieldValue::from("public"))
    );
    assert_eq!(
        updated.field("env"),
        Some(FieldValue::set(["HUGO_ENV@preview", "HUGO_ENV@production"]))
    );
    assert_eq!(
        updated.field("domains"),
        Some(FieldValue::set(["docs.acme.example"]))
    );
    // The same domain again, as a retried apply would ask: refused, read back, converged.
    let again = [change(
        "domains",
        None,
        FieldValue::set(["docs.acme.example"]),
    )];
    let retried = p
        .update(Kind::WebServices, "acme-docs", &again, request(&site))
        .await?;
    assert_eq!(retried.field("domains"), updated.field("domains"));
    // A domain another project holds stays refused.
    let other = pages_spec("acme-blog", &[]);
    p.create(Kind::WebServices, request(&other)).await?;
    let e = refused(
        p.update(Kind::WebServices, "acme-blog", &again, request(&other))
            .await,
    );
    assert_eq!(e.class, ErrorClass::Conflict, "{e}");
    // A variable removed from the file is removed at Cloudflare (`null`), the other kept: sent
    // again whole (`env_values::resent_names`), as the engine resolves every value of a
    // variable whose environments change.
    let drop = [change(
        "env",
        Some(FieldValue::set(["HUGO_ENV@production", "HUGO_ENV@preview"])),
        FieldValue::set(["HUGO_ENV@production"]),
    )];
    let mut req = request(&site);
    req.env = Some(&values);
    let dropped = p.update(Kind::WebServices, "acme-docs", &drop, req).await?;
    assert_eq!(
        dropped.field("env"),
        Some(FieldValue::set(["HUGO_ENV@production"]))
    );
    Ok(())
}

pub(super) const LIST_WORKERS: &str =
    "GET /cloudflare/client/v4/accounts/{account_id}/workers/scripts";

/// Workers scripts are listed with the Pages projects, in one more whole request, as read-only
/// web services named `worker/<name>` (a Pages project may share the name); one is read from the
/// listing, and nothing changes or deletes one.
#[tokio::test]
async fn workers_are_listed_beside_pages_projects_and_never_changed() -> TestResult {
    let (sandbox, p) = start(SandboxConfig::default()).await?;
    sandbox.seed_fixtures();
    sandbox.seed_bulk(Sandboxed::Cloudflare, stackdock_sandbox::Kind::Worker, 2)?;
    sandbox.reset_counters();
    let listed = p.list(Kind::WebServices).await?;
    let counters = sandbox.counters();
    assert_eq!(
        (
            counters.route(LIST_PAGES),
            counters.route(LIST_WORKERS),
            counters.total
        ),
        (1, 1, 2)
    );
    let workers: Vec<_> = listed.iter().filter(|r| r.read_only().is_some()).collect();
    let ids: Vec<&str> = workers
        .iter()
        .map(|r| r.provider_resource_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "worker/acme-edge-auth",
            "worker/bulk-worker-000001",
            "worker/bulk-worker-000002"
        ]
    );
    assert!(
        listed.len() > workers.len(),
        "the fixture Pages projects too"
    );
    let auth = workers[0];
    assert_eq!(
        (auth.name.as_str(), auth.status.as_str()),
        ("acme-edge-auth", "running")
    );
    let Attrs::WebServices(a) = &auth.attrs else {
        panic!("not a web service")
    };
    assert_eq!(a.subtype.as_deref(), Some("worker"));
    assert_eq!(a.last_deploy_at.as_deref(), Some("2026-10-21T16:40:02Z"));
    assert_eq!(a.provider_status.as_deref(), Some("bundled"));

    let got = p.get(Kind::WebServices, "worker/acme-edge-auth").await?;
    assert_eq!(got.as_ref(), Some(auth));
    assert_eq!(p.get(Kind::WebServices, "worker/nothing-here").await?, None);
    sandbox.reset_counters();
    let e = refused(p.delete(Kind::WebServices, "worker/acme-edge-auth").await);
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("read-only"), "{}", e.message);
    assert_eq!(sandbox.counters().total, 0, "refused before any request");
    assert!(
        sandbox
            .resource_json(
                Sandboxed::Cloudflare,
                stackdock_sandbox::Kind::Worker,
                "acme-edge-auth"
            )
            .is_some()
    );
    Ok(())
}
