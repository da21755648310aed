//! What is particular to the Vercel adapter, against the provider sandbox: the fixtures' mapping
//! (a hosted domain and its records, one whose DNS is elsewhere and has none here, the records
//! Vercel keeps itself marked provider-managed), the record shapes Vercel writes (relative names,
//! `mxPriority`, the SRV object) and a record listing answered whole. What every adapter does is
//! the conformance suite's (`conformance.rs`); the failures every adapter meets alike are
//! `failures.rs`'.

use std::sync::Arc;

use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, Provider};
use stackdock_sandbox::{Provider as Sandboxed, Sandbox, SandboxConfig, SandboxHandle};

use super::support::{connect_as, dock, request, spec};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const HOSTED: &str = "acme-sites.dev";
const EXTERNAL: &str = "acme-launch.com";

fn ctx() -> DockContext {
    dock(ProviderKind::Vercel, "vercel-main", "VERCEL_TOKEN")
}

/// The adapter of dock `vercel-main` against the sandbox, with `token`.
pub(super) fn adapter_with_token(sandbox: &SandboxHandle, token: &str) -> Arc<dyn Provider> {
    connect_as(sandbox, ctx(), Sandboxed::Vercel, token, |_| {})
}

async fn start() -> Result<(SandboxHandle, Arc<dyn Provider>), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    sandbox.seed_fixtures();
    let adapter = adapter_with_token(&sandbox, &sandbox.token(Sandboxed::Vercel));
    Ok((sandbox, adapter))
}

fn named<'a>(records: &'a [Record], name: &str) -> &'a Record {
    records
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no record {name}"))
}

#[tokio::test]
async fn fixture_domains_map_hosted_and_external() -> TestResult {
    let (sandbox, p) = start().await?;
    let zones = p.list(Kind::Domains).await?;
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    // Newest first, as Vercel lists them.
    assert_eq!(names, [EXTERNAL, HOSTED]);
    let hosted = named(&zones, HOSTED);
    assert_eq!(hosted.status, "active");
    let Attrs::Domains(a) = &hosted.attrs else {
        panic!("not a zone")
    };
    assert!(a.dns_hosted);
    assert_eq!(
        a.assigned_nameservers,
        ["ns1.vercel-dns.com", "ns2.vercel-dns.com"]
    );
    assert_eq!(a.expires_at.as_deref(), Some("2024-11-14T22:13:20Z"));
    let external = named(&zones, EXTERNAL);
    assert_eq!(external.status, "pending");
    let Attrs::Domains(a) = &external.attrs else {
        panic!("not a zone")
    };
    assert!(!a.dns_hosted);
    assert_eq!(
        external
            .full_api_data
            .get("nameservers")
            .map(|v| v.to_string())
            .as_deref(),
        Some(r#"["ns1.registrar.example","ns2.registrar.example"]"#)
    );
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn only_hosted_domains_have_records_and_system_ones_are_managed() -> TestResult {
    let (sandbox, p) = start().await?;
    let zones = p.list(Kind::Domains).await?;
    sandbox.reset_counters();
    let records = p.list_within(Kind::DomainRecords, &zones).await?;
    // The external domain's records are never asked for.
    let counters = sandbox.counters();
    assert_eq!(counters.route("GET /vercel/v4/domains/{domain}/records"), 1);
    assert_eq!(counters.total, 1);
    assert_eq!(records.len(), 6);
    assert!(
        records
            .iter()
            .all(|r| r.provider_resource_id.starts_with("acme-sites.dev/rec_"))
    );
    let managed: Vec<&str> = records
        .iter()
        .filter(|r| r.provider_managed())
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        managed,
        [
            "acme-sites.dev CAA letsencrypt.org",
            "acme-sites.dev ALIAS cname.vercel-dns.com.",
        ]
    );
    let mx = named(&records, "acme-sites.dev MX mx1.mail.example.net");
    assert_eq!(mx.field("priority"), Some(FieldValue::Int(10)));
    let srv = named(&records, "_sip._tcp.acme-sites.dev SRV sip.acme-sites.dev");
    let Attrs::DomainRecords(a) = &srv.attrs else {
        panic!("not a record")
    };
    assert_eq!(
        (a.priority, a.weight, a.port, a.ttl),
        (Some(10), Some(5), Some(5060), Some(3600))
    );
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn records_are_written_relative_with_vercel_shapes_and_read_back() -> TestResult {
    let (sandbox, p) = start().await?;
    sandbox.record_exchanges();
    let int = FieldValue::Int;
    let fields = [
        ("zone", HOSTED.into()),
        ("fqdn", "_xmpp._tcp.acme-sites.dev".into()),
        ("type", "SRV".into()),
        ("value", "xmpp.acme-sites.dev".into()),
        ("priority", int(5)),
        ("weight", int(0)),
        ("port", int(5222)),
        ("ttl", int(120)),
    ];
    let name = "_xmpp._tcp.acme-sites.dev SRV xmpp.acme-sites.dev";
    let s = spec(Kind::DomainRecords, name, &fields);
    let made = p.create(Kind::DomainRecords, request(&s)).await?;
    assert_eq!(made.name, name);
    assert_eq!(made.field("port"), Some(int(5222)));
    let sent = sandbox
        .exchanges()
        .into_iter()
        .find(|e| e.method == "POST")
        .and_then(|e| e.request)
        .ok_or("no create sent")?;
    assert_eq!(
        sent,
        serde_json::json!({"name": "_xmpp._tcp", "type": "SRV", "ttl": 120,
            "srv": {"priority": 5, "weight": 0, "port": 5222, "target": "xmpp.acme-sites.dev"}})
    );
    let got = p
        .get(Kind::DomainRecords, &made.provider_resource_id)
        .await?;
    assert_eq!(got.map(|r| r.name), Some(name.into()));
    p.delete(Kind::DomainRecords, &made.provider_resource_id)
        .await?;
    assert!(
        p.get(Kind::DomainRecords, &made.provider_resource_id)
            .await?
            .is_none()
    );
    sandbox.shutdown().await;
    Ok(())
}

/// A project's variables are sent with the values the engine resolved (one variable per value,
/// with the environments that share it), replaced by name when their entries change, and read
/// back as names only: no value reaches the record, whatever the listing carries.
#[tokio::test]
async fn project_variables_are_written_with_resolved_values_and_read_back_as_names() -> TestResult {
    use std::collections::BTreeMap;

    use stackdock_core::plan::FieldChange;
    use stackdock_providers::{EnvValues, Request};

    let (sandbox, p) = start().await?;
    let values = EnvValues::new(BTreeMap::from([
        (
            "API_URL@production".to_owned(),
            "https://SANDBOX-SECRET-api".to_owned(),
        ),
        (
            "API_URL@preview".to_owned(),
            "https://SANDBOX-SECRET-api".to_owned(),
        ),
        (
            "DB_URL@production".to_owned(),
            "postgres://SANDBOX-SECRET-db".to_owned(),
        ),
    ]));
    let entries = |items: &[&str]| FieldValue::set(items.iter().copied());
    let fields = [
        ("subtype", FieldValue::from("project")),
        ("repo", FieldValue::from("acme/shop")),
        ("env", entries(&["API_URL@preview", "API_URL@production"])),
    ];
    let create = spec(Kind::WebServices, "shop", &fields);
    // Without the values the adapter sends nothing.
    assert!(p.create(Kind::WebServices, request(&create)).await.is_err());
    assert_eq!(p.list(Kind::WebServices).await?.len(), 0);
    let made = p
        .create(
            Kind::WebServices,
            Request {
                env: Some(&values),
                ..request(&create)
            },
        )
        .await?;
    let id = made.provider_resource_id.clone();
    assert_eq!(
        made.field("env"),
        Some(entries(&["API_URL@preview", "API_URL@production"]))
    );
    let after = entries(&["API_URL@production", "DB_URL@production"]);
    let update = spec(
        Kind::WebServices,
        "shop",
        &[
            ("subtype", FieldValue::from("project")),
            ("repo", FieldValue::from("acme/shop")),
            ("env", after.clone()),
        ],
    );
    let change = FieldChange {
        field: "env".into(),
        before: made.field("env"),
        after: Some(after.clone()),
    };
    let updated = p
        .update(
            Kind::WebServices,
            &id,
            &[change],
            Request {
                env: Some(&values),
                ..request(&update)
            },
        )
        .await?;
    assert_eq!(updated.field("env"), Some(after));
    let listed = p.list(Kind::WebServices).await?;
    for record in listed.iter().chain([&made, &updated]) {
        let text = record.full_api_data.as_str();
        assert!(
            !text.contains("SANDBOX-SECRET"),
            "a secret reached fullApiData: {text}"
        );
    }
    // The sandbox holds the values that were sent (its rendering is what Vercel returns).
    let peeked = sandbox
        .resource_json(Sandboxed::Vercel, stackdock_sandbox::Kind::WebService, &id)
        .expect("the project");
    let raw = serde_json::to_string(&peeked)?;
    assert!(raw.contains("postgres://SANDBOX-SECRET-db"), "{raw}");
    assert!(
        !raw.contains("API_URL\",\"target\":[\"preview\""),
        "the preview variable is gone"
    );
    Ok(())
}

/// The fixture project listing (every secret field Vercel sends: variable values in their
/// stored forms, a deploy-hook URL, a protection-bypass key) maps to records with none of them.
#[test]
fn fixture_projects_list_without_their_secrets() {
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/vercel/projects.json"),
    )
    .expect("fixture");
    let records = stackdock_providers::vercel::decode_list_page(&ctx(), Kind::WebServices, &body)
        .expect("decodes");
    assert_eq!(records.len(), 2);
    let marketing = named(&records, "marketing");
    assert_eq!(marketing.status, "running");
    assert_eq!(
        marketing.field("domains"),
        Some(FieldValue::set(["www.example.com"]))
    );
    assert_eq!(
        marketing.field("env"),
        Some(FieldValue::set([
            "API_URL@preview",
            "API_URL@production",
            "DEBUG@development"
        ]))
    );
    let upload = named(&records, "docs-upload");
    assert_eq!(upload.status, "pending", "never deployed");
    assert_eq!(upload.field("repo"), None);
    assert_eq!(upload.region.as_deref(), Some("cdg1"));
    for r in &records {
        let text = r.full_api_data.as_str();
        assert!(!text.contains("SANDBOX-SECRET"), "{text}");
    }
}

/// The `GET /v9/projects/{id}/domains` requests recorded since the last `record_exchanges`.
fn domain_listings(sandbox: &SandboxHandle) -> usize {
    sandbox
        .exchanges()
        .iter()
        .filter(|e| e.method == "GET" && e.path.ends_with("/domains"))
        .count()
}

/// A project never deployed (no repository) has no production aliases: its custom domains are
/// read from its domain listing, one request for it and none for a deployed project, so the
/// domain it was created with is what a later plan compares and nothing is left to add.
#[tokio::test]
async fn a_never_deployed_project_reads_its_domains_from_its_domain_listing() -> TestResult {
    let (sandbox, p) = start().await?;
    let domains = FieldValue::set(["www.quiet.example"]);
    let quiet = spec(
        Kind::WebServices,
        "quiet",
        &[
            ("subtype", FieldValue::from("project")),
            ("domains", domains.clone()),
        ],
    );
    let made = p.create(Kind::WebServices, request(&quiet)).await?;
    assert_eq!(made.status, "pending", "never deployed");
    assert_eq!(made.field("domains"), Some(domains.clone()));
    let deployed = spec(
        Kind::WebServices,
        "busy",
        &[
            ("subtype", FieldValue::from("project")),
            ("repo", FieldValue::from("acme/busy")),
        ],
    );
    p.create(Kind::WebServices, request(&deployed)).await?;
    sandbox.record_exchanges();
    let listed = p.list(Kind::WebServices).await?;
    assert_eq!(
        domain_listings(&sandbox),
        1,
        "only the never-deployed project's"
    );
    let read = named(&listed, "quiet");
    assert_eq!(read.field("domains"), Some(domains.clone()));
    let Attrs::WebServices(a) = &read.attrs else {
        panic!("not a web service")
    };
    assert_eq!(a.production_url, None, "nothing is served yet");
    assert_eq!(
        read.content_hash, made.content_hash,
        "create and list agree"
    );
    assert_eq!(
        p.get(Kind::WebServices, "quiet")
            .await?
            .map(|r| r.field("domains")),
        Some(Some(domains))
    );
    sandbox.shutdown().await;
    Ok(())
}

/// Adding a domain the project already has (Vercel refuses it: a `400` by the document) is
/// read back and is success, so an apply retried after a lost answer converges; a domain on
/// another project stays refused.
#[tokio::test]
async fn adding_a_domain_the_project_has_converges_and_another_projects_does_not() -> TestResult {
    use stackdock_core::plan::FieldChange;

    let (sandbox, p) = start().await?;
    let site = |name: &str, domains: &[&str]| {
        spec(
            Kind::WebServices,
            name,
            &[
                ("subtype", FieldValue::from("project")),
                ("domains", FieldValue::set(domains.iter().copied())),
            ],
        )
    };
    let made = p
        .create(Kind::WebServices, request(&site("home", &[])))
        .await?;
    let id = made.provider_resource_id.clone();
    let add = |domain: &str| FieldChange {
        field: "domains".into(),
        before: Some(FieldValue::set(Vec::<&str>::new())),
        after: Some(FieldValue::set([domain])),
    };
    let want = site("home", &["www.home.example"]);
    let first = p
        .update(
            Kind::WebServices,
            &id,
            &[add("www.home.example")],
            request(&want),
        )
        .await?;
    assert_eq!(first.field("domains"), want.fields.get("domains").cloned());
    // The same change again, as a retried apply whose first answer was lost sends it.
    sandbox.record_exchanges();
    let again = p
        .update(
            Kind::WebServices,
            &id,
            &[add("www.home.example")],
            request(&want),
        )
        .await?;
    let refused: Vec<u16> = sandbox
        .exchanges()
        .iter()
        .filter(|e| e.method == "POST")
        .map(|e| e.status)
        .collect();
    assert_eq!(refused, [400], "Vercel refused the second add");
    assert_eq!(again.field("domains"), want.fields.get("domains").cloned());
    // A domain another project holds is a 409 that stands.
    let other = p
        .create(Kind::WebServices, request(&site("other", &[])))
        .await?;
    let taken = p
        .update(
            Kind::WebServices,
            &other.provider_resource_id,
            &[add("www.home.example")],
            request(&site("other", &["www.home.example"])),
        )
        .await
        .expect_err("another project's domain");
    assert!(taken.to_string().contains("conflict"), "{taken}");
    sandbox.shutdown().await;
    Ok(())
}
