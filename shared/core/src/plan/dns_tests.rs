//! The DNS planner against hand-built zones: every case of issue 17's plan list. Plans are made
//! with DNS enabled on every provider (`plan_with`), so these hold before any adapter declares the
//! kind; the files are parsed by the real parser.

use std::collections::BTreeMap;

use crate::config::{Config, parse};
use crate::dns::{ProviderRecord, identity, normalize};
use crate::plan::per_dock::plan_with;
use crate::plan::{Action, ActionKind, DockState, Plan};
use crate::record::{Attrs, DomainAttrs, ProvisioningSource, Record, ServerAttrs, dock_id};
use crate::schema::field_rules;
use crate::{FieldValue, Kind, ProviderKind};

const HEAD: &str = r#"
[stackdock]
org = "acme"
prune = true

[docks.do-main]
provider = "digitalocean"
credentials = { env = "DIGITALOCEAN_TOKEN" }

[servers.web-1]
dock = "do-main"
region = "nyc3"
plan = "s-1vcpu-1gb"
image = "ubuntu-24-04-x64"
"#;

fn config(zone: &str) -> Config {
    let text = format!("{HEAD}\n{zone}");
    parse("stackdock.toml", &text).unwrap_or_else(|d| panic!("{d}"))
}

fn plan_of(config: &Config, inventory: &[Record]) -> Plan {
    let docks = BTreeMap::from([("do-main".to_owned(), DockState::Fresh)]);
    plan_with(
        config,
        inventory,
        &docks,
        &BTreeMap::new(),
        &BTreeMap::new(),
        |_| true,
    )
}

fn record(kind: Kind, id: &str, name: &str) -> Record {
    Record::new(
        "acme",
        dock_id("acme", "do-main"),
        ProviderKind::DigitalOcean,
        kind,
        id,
        name,
    )
}

/// `record` owned by `address`, created by StackDock, with its managed fields as applied.
fn owned(mut r: Record, address: &str) -> Record {
    r.managed_by = Some(address.into());
    r.provisioning_source = ProvisioningSource::Api;
    r.applied = field_rules(r.provider, r.kind())
        .iter()
        .filter_map(|rule| Some((rule.key.into(), r.field(rule.key)?)))
        .collect();
    r
}

fn zone(name: &str) -> Record {
    let mut r = record(Kind::Domains, name, name);
    r.attrs = Attrs::Domains(DomainAttrs {
        zone_name: Some(name.to_owned()),
        dns_hosted: true,
        ..DomainAttrs::default()
    });
    r
}

/// A listed DNS record of `example.com`, normalised as the adapters do and named by its identity.
fn dns(id: &str, name: &str, record_type: &str, value: &str, ttl: Option<i64>) -> Record {
    let canonical = normalize(&ProviderRecord {
        zone: "example.com",
        name,
        record_type,
        value,
        ttl,
        ..ProviderRecord::default()
    })
    .expect("valid record");
    let mut r = record(
        Kind::DomainRecords,
        &format!("example.com/{id}"),
        &identity(&canonical.fqdn, &canonical.record_type, &canonical.value),
    );
    r.attrs = Attrs::DomainRecords(canonical.into());
    r
}

fn web_1(ip: &str) -> Record {
    let mut r = record(Kind::Servers, "101", "web-1");
    r.region = Some("nyc3".into());
    r.attrs = Attrs::Servers(ServerAttrs {
        instance_type: Some("s-1vcpu-1gb".to_owned()),
        ip_address: Some(ip.to_owned()),
        image: Some("ubuntu-24-04-x64".to_owned()),
        ..ServerAttrs::default()
    });
    owned(r, "servers.web-1")
}

fn managed_zone() -> Record {
    owned(zone("example.com"), "domains.example.com")
}

/// The plan's actions as `(action, address or name)`, in execution order.
fn summary(plan: &Plan) -> Vec<(ActionKind, String)> {
    plan.actions
        .iter()
        .map(|a| {
            let who = a
                .address
                .clone()
                .or_else(|| a.name.clone())
                .unwrap_or_default();
            (a.action, who)
        })
        .collect()
}

fn find<'p>(plan: &'p Plan, action: ActionKind, address: &str) -> &'p Action {
    plan.actions
        .iter()
        .find(|a| a.action == action && a.address.as_deref() == Some(address))
        .unwrap_or_else(|| panic!("no {action:?} of {address} in {:#?}", summary(plan)))
}

fn change<'a>(action: &'a Action, field: &str) -> (Option<&'a FieldValue>, Option<&'a FieldValue>) {
    let c = action
        .changes
        .iter()
        .find(|c| c.field == field)
        .unwrap_or_else(|| panic!("no change of `{field}` in {:?}", action.changes));
    (c.before.as_ref(), c.after.as_ref())
}

fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.into())
}

const WWW_CNAME: &str = r#"
[domains."example.com"]
dock = "do-main"

[[domains."example.com".records]]
name = "www"
type = "CNAME"
value = "example.com."
ttl = 300

[[domains."example.com".records]]
name = "@"
type = "A"
value = { server = "web-1" }
"#;

#[test]
fn a_missing_zone_and_its_records_are_created_after_the_zone() {
    let plan = plan_of(&config(WWW_CNAME), &[web_1("203.0.113.10")]);
    assert_eq!(
        summary(&plan),
        [
            (ActionKind::Create, "domains.example.com".to_owned()),
            (
                ActionKind::Create,
                "domain_records.example.com A servers.web-1".to_owned()
            ),
            (
                ActionKind::Create,
                "domain_records.www.example.com CNAME example.com".to_owned()
            ),
        ]
    );
    let cname = find(
        &plan,
        ActionKind::Create,
        "domain_records.www.example.com CNAME example.com",
    );
    assert_eq!(cname.depends_on, ["domains.example.com"]);
    let spec = cname.spec.as_ref().expect("spec");
    assert_eq!(spec.fields.get("ttl"), Some(&FieldValue::Int(300)));
    // The server exists and stays: its address is known, and written into the spec.
    let apex = find(
        &plan,
        ActionKind::Create,
        "domain_records.example.com A servers.web-1",
    );
    let spec = apex.spec.as_ref().expect("spec");
    assert_eq!(spec.fields.get("value"), Some(&s("203.0.113.10")));
    assert_eq!(spec.fields.get("server"), Some(&s("web-1")));
}

#[test]
fn existing_unmanaged_zone_and_records_are_adopted_and_provider_records_never_planned() {
    let inventory = [
        web_1("203.0.113.10"),
        zone("example.com"),
        dns("1", "www", "CNAME", "example.com.", Some(300)),
        dns("2", "@", "A", "203.0.113.10", Some(1800)),
        dns("3", "@", "SOA", "ns1.digitalocean.com", Some(1800)),
        dns("4", "@", "NS", "ns1.digitalocean.com", Some(1800)),
        dns("5", "@", "TXT", "google-site-verification=abc", Some(3600)),
    ];
    let plan = plan_of(&config(WWW_CNAME), &inventory);
    let adopted: Vec<String> = plan
        .of_kind(ActionKind::Adopt)
        .filter_map(|a| a.address.clone())
        .collect();
    assert_eq!(
        adopted,
        [
            "domains.example.com",
            "domain_records.example.com A servers.web-1",
            "domain_records.www.example.com CNAME example.com",
        ]
    );
    let apex = find(
        &plan,
        ActionKind::Adopt,
        "domain_records.example.com A servers.web-1",
    );
    assert_eq!(apex.provider_id.as_deref(), Some("example.com/2"));
    // No TTL declared for the apex: the provider's 1800 is not a change.
    assert_eq!(
        plan.of_kind(ActionKind::Update).count(),
        0,
        "{:#?}",
        summary(&plan)
    );
    // The undeclared TXT is reported; SOA and apex NS are the provider's and not even reported.
    let unmanaged: Vec<&str> = plan
        .of_kind(ActionKind::Unmanaged)
        .filter_map(|a| a.provider_id.as_deref())
        .collect();
    assert_eq!(unmanaged, ["example.com/5"]);
    assert_eq!(plan.summary.delete, 0);
}

#[test]
fn a_ttl_change_is_an_update_in_place() {
    let address = "domain_records.www.example.com CNAME example.com";
    let inventory = [
        web_1("203.0.113.10"),
        managed_zone(),
        owned(dns("1", "www", "CNAME", "example.com", Some(3600)), address),
    ];
    const WWW_AND_MX: &str = r#"
[domains."example.com"]
dock = "do-main"

[[domains."example.com".records]]
name = "www"
type = "CNAME"
value = "example.com."
ttl = 300

[[domains."example.com".records]]
name = "@"
type = "MX"
value = "mail.example.com."
priority = 10
"#;
    let plan = plan_of(&config(WWW_AND_MX), &inventory);
    let update = find(&plan, ActionKind::Update, address);
    assert_eq!(update.provider_id.as_deref(), Some("example.com/1"));
    assert_eq!(
        change(update, "ttl"),
        (Some(&FieldValue::Int(3600)), Some(&FieldValue::Int(300)))
    );
    assert_eq!(update.changes.len(), 1, "{:?}", update.changes);
    assert_eq!(plan.summary.create, 1, "the MX only: {:#?}", summary(&plan));
    assert_eq!(plan.summary.delete + plan.summary.replace, 0);
}

#[test]
fn a_new_value_of_an_owned_single_record_updates_it_instead_of_delete_and_create() {
    let old = "domain_records.www.example.com CNAME old.example.net";
    let new = "domain_records.www.example.com CNAME example.com";
    let inventory = [
        web_1("203.0.113.10"),
        managed_zone(),
        owned(dns("1", "www", "CNAME", "old.example.net.", Some(300)), old),
        owned(
            dns("2", "@", "A", "203.0.113.10", None),
            "domain_records.example.com A servers.web-1",
        ),
    ];
    let plan = plan_of(&config(WWW_CNAME), &inventory);
    assert_eq!(summary(&plan), [(ActionKind::Update, new.to_owned())]);
    let update = &plan.actions[0];
    assert_eq!(update.provider_id.as_deref(), Some("example.com/1"));
    assert_eq!(
        change(update, "value"),
        (Some(&s("old.example.net")), Some(&s("example.com")))
    );
}

#[test]
fn of_a_multi_value_set_a_removed_value_is_deleted_and_a_new_one_created() {
    const SET: &str = r#"
[domains."example.com"]
dock = "do-main"

[[domains."example.com".records]]
name = "api"
type = "A"
value = "198.51.100.1"

[[domains."example.com".records]]
name = "api"
type = "A"
value = "198.51.100.3"
"#;
    let address = |ip: &str| format!("domain_records.api.example.com A {ip}");
    let inventory = [
        web_1("203.0.113.10"),
        managed_zone(),
        owned(
            dns("1", "api", "A", "198.51.100.1", None),
            &address("198.51.100.1"),
        ),
        owned(
            dns("2", "api", "A", "198.51.100.2", None),
            &address("198.51.100.2"),
        ),
        owned(
            dns("9", "api", "A", "198.51.100.9", None),
            &address("198.51.100.9"),
        ),
    ];
    let plan = plan_of(&config(SET), &inventory);
    // Two owned records left over for one new entry: no guess which one becomes it.
    assert_eq!(
        summary(&plan),
        [
            (ActionKind::Create, address("198.51.100.3")),
            (ActionKind::Delete, address("198.51.100.2")),
            (ActionKind::Delete, address("198.51.100.9")),
        ]
    );
}

#[test]
fn an_unmanaged_record_is_left_alone_with_prune_and_an_owned_one_removed_from_the_file_is_deleted()
{
    let gone = "domain_records.old.example.com A 198.51.100.7";
    let inventory = [
        web_1("203.0.113.10"),
        managed_zone(),
        owned(
            dns("1", "www", "CNAME", "example.com", Some(300)),
            "domain_records.www.example.com CNAME example.com",
        ),
        owned(
            dns("2", "@", "A", "203.0.113.10", None),
            "domain_records.example.com A servers.web-1",
        ),
        owned(dns("3", "old", "A", "198.51.100.7", None), gone),
        dns("4", "mail", "A", "198.51.100.25", None),
    ];
    let plan = plan_of(&config(WWW_CNAME), &inventory);
    assert_eq!(
        summary(&plan),
        [
            (ActionKind::Delete, gone.to_owned()),
            (
                ActionKind::Unmanaged,
                "mail.example.com A 198.51.100.25".to_owned()
            ),
        ]
    );
}

#[test]
fn a_record_following_a_replaced_server_takes_its_new_address_after_it() {
    let address = "domain_records.example.com A servers.web-1";
    // The server moves region, and may be replaced.
    let mut file = config(WWW_CNAME);
    let web = file
        .resources
        .iter_mut()
        .find(|r| r.kind == Kind::Servers)
        .expect("web-1");
    web.fields.insert("region".into(), s("ams3"));
    web.allow_replace = true;
    let inventory = [
        web_1("203.0.113.10"),
        managed_zone(),
        owned(
            dns("1", "www", "CNAME", "example.com", Some(300)),
            "domain_records.www.example.com CNAME example.com",
        ),
        owned(dns("2", "@", "A", "203.0.113.10", None), address),
    ];
    let plan = plan_of(&file, &inventory);
    assert_eq!(
        summary(&plan),
        [
            (ActionKind::Replace, "servers.web-1".to_owned()),
            (ActionKind::Update, address.to_owned()),
        ]
    );
    let update = &plan.actions[1];
    assert_eq!(update.depends_on, ["servers.web-1"]);
    assert_eq!(
        change(update, "value"),
        (
            Some(&s("203.0.113.10")),
            Some(&s("(the address of servers.web-1, known after apply)"))
        )
    );
    let spec = update.spec.as_ref().expect("spec");
    assert_eq!(spec.fields.get("server"), Some(&s("web-1")));
    assert_eq!(spec.fields.get("value"), None, "apply resolves it");

    // Without `allow_replace` the server stays, and so does the record's value.
    let mut kept = file.clone();
    for r in &mut kept.resources {
        r.allow_replace = false;
    }
    let plan = plan_of(&kept, &inventory);
    assert!(
        plan.of_kind(ActionKind::Update).next().is_none(),
        "{:#?}",
        summary(&plan)
    );
}

#[test]
fn records_changed_or_removed_out_of_band_are_drift_and_recreate() {
    let www = "domain_records.www.example.com CNAME example.com";
    let apex = "domain_records.example.com A servers.web-1";
    let mut edited = owned(dns("1", "www", "CNAME", "example.com", Some(300)), www);
    // Someone lowered the TTL at the provider after StackDock applied 300.
    if let Attrs::DomainRecords(a) = &mut edited.attrs {
        a.ttl = Some(60);
    }
    let mut removed = owned(dns("2", "@", "A", "203.0.113.10", None), apex);
    removed.missing_since = Some("2026-12-01T00:00:00Z".parse().expect("timestamp"));
    let inventory = [web_1("203.0.113.10"), managed_zone(), edited, removed];
    let plan = plan_of(&config(WWW_CNAME), &inventory);
    let drift = find(&plan, ActionKind::Drift, www);
    assert_eq!(
        change(drift, "ttl"),
        (Some(&FieldValue::Int(300)), Some(&FieldValue::Int(60)))
    );
    let update = find(&plan, ActionKind::Update, www);
    assert_eq!(
        change(update, "ttl"),
        (Some(&FieldValue::Int(60)), Some(&FieldValue::Int(300)))
    );
    let recreate = find(&plan, ActionKind::Recreate, apex);
    assert_eq!(recreate.provider_id.as_deref(), Some("example.com/2"));
}

#[test]
fn a_record_whose_server_is_still_being_built_keeps_its_value_and_ipv6_is_an_error() {
    const AAAA: &str = r#"
[domains."example.com"]
dock = "do-main"

[[domains."example.com".records]]
name = "v6"
type = "AAAA"
value = { server = "web-1" }

[[domains."example.com".records]]
name = "@"
type = "A"
value = { server = "web-1" }

[[domains."example.com".records]]
name = "www"
type = "A"
value = { server = "web-1" }
"#;
    let apex = "domain_records.example.com A servers.web-1";
    let www = "domain_records.www.example.com A servers.web-1";
    let mut server = web_1("203.0.113.10");
    // A server StackDock manages but whose address the provider has not reported yet (still
    // being built), and a plan that leaves it in place.
    if let Attrs::Servers(a) = &mut server.attrs {
        a.ip_address = None;
    }
    let inventory = [
        server,
        managed_zone(),
        owned(dns("2", "@", "A", "203.0.113.10", None), apex),
    ];
    let plan = plan_of(&config(AAAA), &inventory);
    let errors: Vec<(String, String)> = plan
        .of_kind(ActionKind::Error)
        .map(|a| (a.address.clone().unwrap_or_default(), a.reason.clone()))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].0 == "domain_records.v6.example.com AAAA servers.web-1"
            && errors[0].1.contains("write the IPv6 address as the value"),
        "{errors:#?}"
    );
    // The record it has keeps its value; the one it lacks is created, apply reading the address
    // once the server is ready.
    assert!(
        plan.actions
            .iter()
            .all(|a| a.address.as_deref() != Some(apex)),
        "{:#?}",
        summary(&plan)
    );
    let created = find(&plan, ActionKind::Create, www);
    let spec = created.spec.as_ref().expect("a create has a spec");
    assert_eq!(spec.fields.get("value"), None);
    assert_eq!(spec.fields.get("server"), Some(&s("web-1")));
    assert_eq!(plan.summary.delete, 0, "the apex record stays its entry's");
    assert_eq!(plan.summary.unmanaged, 0);
}

#[test]
fn a_record_following_a_server_on_another_dock_plans_the_same_when_docks_are_planned_apart() {
    use crate::plan::per_dock::{PlanContext, combine, dock_facts, merge_facts, plan_dock};
    const OTHER: &str = r#"
[docks.vultr-dns]
provider = "vultr"
credentials = { env = "VULTR_API_KEY" }

[domains."example.com"]
dock = "vultr-dns"

[[domains."example.com".records]]
name = "@"
type = "A"
value = { server = "web-1" }
"#;
    let mut file = config(OTHER);
    let web = file
        .resources
        .iter_mut()
        .find(|r| r.kind == Kind::Servers)
        .expect("web-1");
    web.fields.insert("region".into(), s("ams3"));
    web.allow_replace = true;
    let apex = "domain_records.example.com A servers.web-1";
    let on_vultr = |mut r: Record| {
        r.dock_id = dock_id("acme", "vultr-dns").into();
        r.provider = ProviderKind::Vultr;
        r
    };
    let inventory = [
        web_1("203.0.113.10"),
        on_vultr(managed_zone()),
        on_vultr(owned(dns("2", "@", "A", "203.0.113.10", None), apex)),
    ];
    let docks = BTreeMap::from([
        ("do-main".to_owned(), DockState::Fresh),
        ("vultr-dns".to_owned(), DockState::Fresh),
    ]);
    let whole = plan_with(
        &file,
        &inventory,
        &docks,
        &BTreeMap::new(),
        &BTreeMap::new(),
        |_| true,
    );
    let update = find(&whole, ActionKind::Update, apex);
    assert_eq!(update.depends_on, ["servers.web-1"]);
    assert_eq!(update.dock, "vultr-dns");

    // Each dock from its own records only, the DNS dock first.
    let problems = BTreeMap::new();
    let ctx = PlanContext::with(&file, &problems, |_| true);
    let own = |dock: &str| -> Vec<&Record> {
        inventory
            .iter()
            .filter(|r| r.dock_id == dock_id("acme", dock))
            .collect()
    };
    let names = ["vultr-dns", "do-main"];
    let lent: Vec<_> = names
        .iter()
        .map(|n| dock_facts(&ctx, n, &own(n), &DockState::Fresh))
        .collect();
    let facts = merge_facts(&ctx, &lent);
    let parts = names
        .iter()
        .map(|n| plan_dock(&ctx, n, &own(n), &DockState::Fresh, &facts))
        .collect();
    let apart = combine(&file, parts);
    assert_eq!(apart, whole);
}

#[test]
fn a_record_following_a_server_the_plan_adopts_takes_the_address_it_has() {
    // `web-1` runs but is no entry's yet (an apply killed after its create, or a first plan of
    // an existing fleet): the plan adopts it, and the record follows its address now.
    let mut server = web_1("203.0.113.10");
    server.managed_by = None;
    server.provisioning_source = ProvisioningSource::Manual;
    let plan = plan_of(&config(WWW_CNAME), &[server, managed_zone()]);
    find(&plan, ActionKind::Adopt, "servers.web-1");
    let apex = find(
        &plan,
        ActionKind::Create,
        "domain_records.example.com A servers.web-1",
    );
    let spec = apex.spec.as_ref().expect("a create has a spec");
    assert_eq!(spec.fields.get("value"), Some(&s("203.0.113.10")));
    assert_eq!(plan.summary.error, 0, "{:#?}", summary(&plan));
}
