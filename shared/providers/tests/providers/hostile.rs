//! Hostile provider responses fed to each adapter's pure mapping (through its `decode_list_page`,
//! the same path a listing takes after the HTTP plumbing): every field of every fixture object
//! replaced by a value of the wrong type, removed, or nulled; unknown statuses; ids as numbers and
//! strings; bodies that are not what a list page should be.
//!
//! The contract checked: no panic, and no lost record — a page of n objects maps to n records, or
//! the listing fails with a classified error that names the field (or the object) it could not
//! use, so the sync marks nothing missing. Each group prints `RELIABILITY input <name> -> <outcome>`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use stackdock_core::config::CredentialRef;
use stackdock_core::{Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ErrorClass, ProviderError};

type Decode = fn(&DockContext, Kind, &[u8]) -> Result<Vec<Record>, ProviderError>;

/// One listing of one provider: its fixture, its list key and its entry point.
struct Listing {
    provider: ProviderKind,
    kind: Kind,
    fixture: &'static str,
    key: &'static str,
    decode: Decode,
    /// Fields whose absence makes the object unusable (identity): an error must name them.
    identity: &'static [&'static str],
}

const LISTINGS: &[Listing] = &[
    Listing {
        provider: ProviderKind::Vultr,
        kind: Kind::Servers,
        fixture: "vultr/instances.json",
        key: "instances",
        decode: stackdock_providers::vultr::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::Vultr,
        kind: Kind::BlockVolumes,
        fixture: "vultr/blocks.json",
        key: "blocks",
        decode: stackdock_providers::vultr::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::Vultr,
        kind: Kind::Databases,
        fixture: "vultr/databases.json",
        key: "databases",
        decode: stackdock_providers::vultr::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::DigitalOcean,
        kind: Kind::Servers,
        fixture: "digitalocean/droplets.json",
        key: "droplets",
        decode: stackdock_providers::digitalocean::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::DigitalOcean,
        kind: Kind::BlockVolumes,
        fixture: "digitalocean/volumes.json",
        key: "volumes",
        decode: stackdock_providers::digitalocean::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::Linode,
        kind: Kind::Servers,
        fixture: "linode/instances.json",
        key: "data",
        decode: stackdock_providers::linode::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::Linode,
        kind: Kind::BlockVolumes,
        fixture: "linode/volumes.json",
        key: "data",
        decode: stackdock_providers::linode::decode_list_page,
        identity: &["id"],
    },
    Listing {
        provider: ProviderKind::Linode,
        kind: Kind::Buckets,
        fixture: "linode/buckets.json",
        key: "data",
        decode: stackdock_providers::linode::decode_list_page,
        // A bucket is identified by its label and its region or cluster.
        identity: &["label", "region", "cluster"],
    },
    Listing {
        provider: ProviderKind::Vercel,
        kind: Kind::Domains,
        fixture: "vercel/domains.json",
        key: "domains",
        decode: stackdock_providers::vercel::decode_list_page,
        // Every domain call takes the name: it is the domain's id here.
        identity: &["name"],
    },
    Listing {
        provider: ProviderKind::Vercel,
        kind: Kind::WebServices,
        fixture: "vercel/projects.json",
        key: "projects",
        decode: stackdock_providers::vercel::decode_list_page,
        identity: &["id", "name"],
    },
    Listing {
        provider: ProviderKind::Cloudflare,
        kind: Kind::WebServices,
        fixture: "cloudflare/pages-projects.json",
        key: "result",
        decode: stackdock_providers::cloudflare::decode_list_page,
        // Every Pages call takes the project's name: it is the project's id here.
        identity: &["name"],
    },
];

/// Values of every JSON type but the expected one, whatever that is.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(12345),
        json!(-1),
        json!(1.5e300),
        json!(""),
        json!("a string where something else belongs"),
        json!(true),
        json!({}),
        json!({"nested": [1, {"deeper": null}]}),
        json!([]),
        json!([1, "two", null]),
    ]
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ctx(provider: ProviderKind) -> DockContext {
    DockContext {
        org: "acme".into(),
        dock: "hostile".into(),
        dock_id: "acme/hostile".into(),
        provider,
        credential_source: CredentialRef::Env("TOKEN".into()),
        settings: Default::default(),
    }
}

fn items(l: &Listing) -> Vec<Value> {
    let path = repo().join("fixtures").join(l.fixture);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let body: Value = serde_json::from_str(&text).expect("fixture is JSON");
    body[l.key].as_array().expect("fixture list").clone()
}

fn page(l: &Listing, items: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ l.key: items })).expect("serialise")
}

/// Decodes on a thread so a panic is reported with the input that caused it.
fn decode(l: &Listing, body: Vec<u8>) -> Result<Vec<Record>, ProviderError> {
    let (decode, provider, kind) = (l.decode, l.provider, l.kind);
    let shown = String::from_utf8_lossy(&body)
        .chars()
        .take(400)
        .collect::<String>();
    std::thread::spawn(move || decode(&ctx(provider), kind, &body))
        .join()
        .unwrap_or_else(|_| panic!("{provider:?} {kind:?} panicked on {shown}"))
}

/// The outcome of a page whose object at `index` was changed at `field`: `n` records, or an error
/// that is classified and names the field.
fn check(l: &Listing, page_items: &[Value], field: &str, what: &str) -> &'static str {
    match decode(l, page(l, page_items)) {
        Ok(records) => {
            assert_eq!(
                records.len(),
                page_items.len(),
                "{:?} {:?}: {what}: a record was lost",
                l.provider,
                l.kind
            );
            "record"
        }
        Err(e) => {
            assert_eq!(e.class, ErrorClass::Transient, "{e}");
            assert!(
                e.message.contains(field) || e.to_string().contains(field),
                "{:?} {:?}: {what}: the error does not name `{field}`: {e}",
                l.provider,
                l.kind
            );
            "error"
        }
    }
}

#[test]
fn every_field_of_every_type_is_mapped_or_named_in_a_classified_error() {
    for l in LISTINGS {
        let originals = items(l);
        let base = originals[0].as_object().expect("an object").clone();
        let (mut records, mut errors) = (0, 0);
        for field in base.keys() {
            let mut cases: Vec<(String, Value)> = hostile_values()
                .into_iter()
                .map(|v| (format!("`{field}` = {v}"), v))
                .collect();
            cases.push((format!("`{field}` removed"), Value::Null));
            for (i, (what, value)) in cases.into_iter().enumerate() {
                let mut item = base.clone();
                if what.ends_with("removed") && i > 0 {
                    item.remove(field);
                } else {
                    item.insert(field.clone(), value);
                }
                // The changed object between two good ones: none of the three may go missing.
                let mut page_items = originals.clone();
                page_items[0] = Value::Object(item);
                match check(l, &page_items, field, &what) {
                    "record" => records += 1,
                    _ => errors += 1,
                }
            }
        }
        eprintln!(
            "RELIABILITY input {}-{}-wrong-types -> {records} mapped, {errors} classified errors naming the field, 0 lost",
            l.provider,
            l.kind.table()
        );
    }
}

#[test]
fn an_object_of_nulls_is_mapped_or_refused_for_its_identity() {
    for l in LISTINGS {
        let base = items(l)[0].as_object().expect("object").clone();
        let nulls: serde_json::Map<String, Value> =
            base.keys().map(|k| (k.clone(), Value::Null)).collect();
        let outcome = match decode(l, page(l, &[Value::Object(nulls)])) {
            Ok(records) => {
                assert_eq!(records.len(), 1);
                "record"
            }
            Err(e) => {
                assert!(
                    l.identity.iter().any(|f| e.message.contains(f)),
                    "{:?} {:?}: {e}",
                    l.provider,
                    l.kind
                );
                "error naming the identity field"
            }
        };
        eprintln!(
            "RELIABILITY input {}-{}-all-null -> {outcome}",
            l.provider,
            l.kind.table()
        );
    }
}

#[test]
fn unknown_statuses_are_normalised_by_rule_and_kept_raw() {
    // Each provider's server status field, and the documented rule for a value outside the spec's
    // enum: `unknown` in the universal vocabulary (never guessed as running or stopped), the raw
    // value kept in `fullApiData`.
    // (Vultr's `status` only says whether an install is under way; `power_status` carries the
    // state.)
    let cases: &[(usize, &str)] = &[(0, "power_status"), (3, "status"), (5, "status")];
    for (index, field) in cases {
        let l = &LISTINGS[*index];
        let mut item = items(l)[0].clone();
        item[*field] = json!("Quantum_Flux");
        if *field == "power_status" {
            item["status"] = json!("active");
            item["server_status"] = json!("ok");
        }
        let records = decode(l, page(l, &[item])).expect("an unknown status is not an error");
        assert_eq!(records[0].status, "unknown", "{:?} {field}", l.provider);
        assert_eq!(
            records[0].full_api_data.to_value()[*field],
            "Quantum_Flux",
            "the raw value is kept"
        );
        eprintln!(
            "RELIABILITY input {}-{}-unknown-{field} -> unknown, raw in fullApiData",
            l.provider,
            l.kind.table()
        );
    }
}

#[test]
fn ids_as_numbers_or_strings_give_the_same_record_id() {
    for l in LISTINGS.iter().filter(|l| l.identity == ["id"]) {
        let mut as_number = items(l)[0].clone();
        as_number["id"] = json!(4242);
        let mut as_string = as_number.clone();
        as_string["id"] = json!("4242");
        let n = decode(l, page(l, &[as_number])).map(|r| r[0].provider_resource_id.clone());
        let s = decode(l, page(l, &[as_string])).map(|r| r[0].provider_resource_id.clone());
        match (&n, &s) {
            (Ok(n), Ok(s)) => assert_eq!((n.as_str(), s.as_str()), ("4242", "4242")),
            other => panic!("{:?} {:?}: {other:?}", l.provider, l.kind),
        }
        eprintln!(
            "RELIABILITY input {}-{}-numeric-id -> same record id as the string",
            l.provider,
            l.kind.table()
        );
    }
}

#[test]
fn bodies_that_are_not_a_list_page_are_classified_errors() {
    for l in LISTINGS {
        for body in [
            &b""[..],
            b"not json",
            b"null",
            b"[]",
            b"{}",
            br#"{"instances": {}, "droplets": {}, "data": {}, "blocks": 1, "volumes": "x", "databases": null}"#,
            b"\xff\xfe\x00",
            br#"{"data": [1, "two", null, []], "instances": [1], "droplets": [null], "volumes": [[]], "blocks": ["x"], "databases": [true]}"#,
        ] {
            // Vercel's project listing may answer a bare list (its response union allows one;
            // provider-apis-2.md §1.2): `[]` is an empty page there.
            if body == b"[]" && (l.provider, l.kind) == (ProviderKind::Vercel, Kind::WebServices) {
                assert_eq!(decode(l, body.to_vec()).expect("an empty page").len(), 0);
                continue;
            }
            let e = decode(l, body.to_vec()).expect_err("not a usable page");
            assert_eq!(e.class, ErrorClass::Transient, "{e}");
        }
        eprintln!(
            "RELIABILITY input {}-{}-malformed-bodies -> transient error",
            l.provider,
            l.kind.table()
        );
    }
}

#[test]
fn the_fixtures_themselves_map_completely() {
    for l in LISTINGS {
        let originals = items(l);
        let records = decode(l, page(l, &originals)).expect("fixtures map");
        assert_eq!(records.len(), originals.len());
    }
}

/// Found by `an_object_of_nulls_is_mapped_or_refused_for_its_identity`: a Vultr object whose `id`
/// was null, missing, `""` or an object mapped to a record keyed by `""`. Now the listing fails
/// with a transient error naming `id`, as DigitalOcean and Linode already did.
#[test]
fn regression_a_vultr_object_without_an_id_fails_the_listing_naming_the_id() {
    for l in LISTINGS
        .iter()
        .filter(|l| l.provider == ProviderKind::Vultr)
    {
        for id in [Value::Null, json!(""), json!({}), json!([]), json!("  ")] {
            let mut item = items(l)[0].clone();
            item["id"] = id.clone();
            let e = decode(l, page(l, &[item])).expect_err("an object without an id");
            assert_eq!(e.class, ErrorClass::Transient);
            assert!(e.message.contains("`id`"), "{id}: {e}");
        }
        let mut item = items(l)[0].clone();
        item.as_object_mut().expect("object").remove("id");
        decode(l, page(l, &[item])).expect_err("a missing id");
    }
}

/// The seed corpora of the `*_decode` fuzz targets (`fuzz/corpus/<target>/`: the first byte picks
/// the kind, the rest is the page) replayed in the workspace's own tests, so CI runs them on
/// stable even though the fuzz crate itself is not a workspace member.
#[test]
fn the_decode_fuzz_corpora_map_without_panicking() {
    type Targets = [(&'static str, ProviderKind, &'static [Kind], Decode); 5];
    let targets: Targets = [
        (
            "vultr_decode",
            ProviderKind::Vultr,
            &[Kind::Servers, Kind::BlockVolumes, Kind::Databases],
            stackdock_providers::vultr::decode_list_page,
        ),
        (
            "digitalocean_decode",
            ProviderKind::DigitalOcean,
            &[Kind::Servers, Kind::BlockVolumes],
            stackdock_providers::digitalocean::decode_list_page,
        ),
        (
            "linode_decode",
            ProviderKind::Linode,
            &[Kind::Servers, Kind::BlockVolumes, Kind::Buckets],
            stackdock_providers::linode::decode_list_page,
        ),
        (
            "vercel_decode",
            ProviderKind::Vercel,
            &[Kind::Domains, Kind::WebServices],
            stackdock_providers::vercel::decode_list_page,
        ),
        (
            "cloudflare_decode",
            ProviderKind::Cloudflare,
            &[
                Kind::Domains,
                Kind::Buckets,
                Kind::Databases,
                Kind::WebServices,
            ],
            stackdock_providers::cloudflare::decode_list_page,
        ),
    ];
    for (name, provider, kinds, decode) in targets {
        let dir = repo().join("fuzz/corpus").join(name);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        seeds.sort();
        assert!(!seeds.is_empty(), "{name}");
        for seed in &seeds {
            let data = std::fs::read(seed).expect("seed");
            if let Some((first, body)) = data.split_first() {
                let kind = kinds[usize::from(*first) % kinds.len()];
                let _ = decode(&ctx(provider), kind, body);
            }
        }
        eprintln!(
            "RELIABILITY input fuzz-corpus-{name} -> {} seeds, no panic",
            seeds.len()
        );
    }
}
