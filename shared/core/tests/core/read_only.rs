//! Read-only resources (Cloudflare Workers scripts, synced as web services with
//! `subtype = "worker"`): reported in the plan's unmanaged list, never adopted by a same-named
//! entry, never pinned, never deleted.

use std::collections::BTreeMap;

use stackdock_core::plan::{ActionKind, DockState, plan};
use stackdock_core::record::{Attrs, WebServiceAttrs, dock_id};
use stackdock_core::{Kind, ProviderKind, Record};

const FILE: &str = r#"
[stackdock]
org = "acme"
prune = true

[docks.cf]
provider = "cloudflare"
credentials = { env = "CLOUDFLARE_API_TOKEN" }
account_id = "023e105f4ecef8ad9ca31a8372d0c353"
"#;

fn web_service(id: &str, name: &str, subtype: &str) -> Record {
    let mut r = Record::new(
        "acme",
        dock_id("acme", "cf"),
        ProviderKind::Cloudflare,
        Kind::WebServices,
        id,
        name,
    );
    r.status = "running".into();
    r.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
        subtype: Some(subtype.to_owned()),
        ..WebServiceAttrs::default()
    }));
    r
}

fn planned(entries: &str, inventory: &[Record]) -> stackdock_core::plan::Plan {
    let config = stackdock_core::config::parse("stackdock.toml", &format!("{FILE}{entries}"))
        .unwrap_or_else(|d| panic!("{d}"));
    let docks = BTreeMap::from([("cf".to_owned(), DockState::Fresh)]);
    plan(&config, inventory, &docks)
}

#[test]
fn a_worker_is_reported_and_a_same_named_pages_entry_creates_its_own_project() {
    let worker = web_service("worker/edge-auth", "edge-auth", "worker");
    let p = planned(
        "\n[web_services.edge-auth]\ndock = \"cf\"\nsubtype = \"pages\"\n",
        &[worker],
    );
    let of = |kind| p.of_kind(kind).collect::<Vec<_>>();
    let creates = of(ActionKind::Create);
    assert_eq!(creates.len(), 1, "{:#?}", p.actions);
    assert_eq!(
        creates[0].address.as_deref(),
        Some("web_services.edge-auth")
    );
    assert!(of(ActionKind::Adopt).is_empty(), "{:#?}", p.actions);
    let unmanaged = of(ActionKind::Unmanaged);
    assert_eq!(unmanaged.len(), 1, "{:#?}", p.actions);
    assert_eq!(
        unmanaged[0].provider_id.as_deref(),
        Some("worker/edge-auth")
    );
    assert!(
        unmanaged[0].reason.contains("read-only"),
        "{}",
        unmanaged[0].reason
    );
    assert!(!unmanaged[0].allowed);
}

#[test]
fn a_pin_to_a_worker_is_an_error_and_nothing_is_deleted() {
    let worker = web_service("worker/edge-auth", "edge-auth", "worker");
    let p = planned(
        "\n[web_services.site]\ndock = \"cf\"\nsubtype = \"pages\"\nid = \"worker/edge-auth\"\n",
        std::slice::from_ref(&worker),
    );
    let errors: Vec<_> = p.of_kind(ActionKind::Error).collect();
    assert_eq!(errors.len(), 1, "{:#?}", p.actions);
    assert!(
        errors[0].reason.contains("cannot manage") && errors[0].reason.contains("remove the entry"),
        "{}",
        errors[0].reason
    );
    assert_eq!(p.of_kind(ActionKind::Delete).count(), 0);
    assert_eq!(p.of_kind(ActionKind::Adopt).count(), 0);

    // With `prune = true` and no entry at all, a worker is still only reported.
    let p = planned(
        "",
        &[worker, web_service("marketing", "marketing", "pages")],
    );
    assert_eq!(p.of_kind(ActionKind::Delete).count(), 0, "{:#?}", p.actions);
    assert_eq!(p.of_kind(ActionKind::Unmanaged).count(), 2);
}
