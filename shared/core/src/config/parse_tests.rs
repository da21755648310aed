//! The parser's own checks: each mistake's message, where it points, and that credentials are never
//! echoed.

use super::parse::parse;
use super::{CredentialRef, DriftMode};
use crate::FieldValue;

const HEAD: &str = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { env = \"VULTR_API_KEY\" }\n";

fn errors(body: &str) -> Vec<String> {
    let source = format!("{HEAD}{body}");
    match parse("t.toml", &source) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.message.clone()).collect(),
    }
}

#[test]
fn each_mistake_gets_its_message() {
    let cases: &[(&str, &str)] = &[
        (
            "[servers]\nweb = \"x\"\n",
            "`servers.web` must be a table, found a string",
        ),
        ("org = \"x\"\n", "unknown key `org` in dock `vultr-main`"),
        (
            "[block_volumes.data]\ndock = \"vultr-main\"\nregion = \"ewr\"\nsize_gb = 4.5\n",
            "`size_gb` in `block_volumes.data` must be an integer, found a float",
        ),
        (
            "[servers.web]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"p\"\nimage = \"i\"\ntags = [\"a\", 1]\n",
            "`tags` in `servers.web` must be an array of strings, found an integer in it",
        ),
        (
            "[buckets.assets]\ndock = \"vultr-main\"\nregion = \"ewr\"\n",
            "vultr does not support buckets",
        ),
        (
            "[web_services.x]\ndock = \"vultr-main\"\nsubtype = \"project\"\n",
            "vultr does not support web_services",
        ),
        (
            "[blockVolumes.x]\n",
            "unknown top-level table `blockVolumes`",
        ),
        (
            "[docks.x]\nprovider = \"vultr\"\ncredentials = { env = \"A\", secret = \"b\" }\n",
            "give both `env` and `secret`",
        ),
        (
            "[docks.x]\nprovider = \"vultr\"\ncredentials = { env = \"A\" }\nregions = []\n",
            "is empty: nothing would be synced",
        ),
    ];
    for (body, expected) in cases {
        let found = errors(body);
        assert!(
            found.iter().any(|m| m.contains(expected)),
            "{body:?}: expected {expected:?}, got {found:?}"
        );
    }
}

#[test]
fn missing_tables_and_keys_point_at_the_header() {
    let cases: &[(&str, &str, usize)] = &[
        ("", "missing the `[stackdock]` table", 1),
        (
            "[stackdock]\n",
            "`[stackdock]` is missing the required key `org`",
            1,
        ),
        (
            "[stackdock]\norg = \"a\"\n\n[docks.x]\ncredentials = { env = \"A\" }\n",
            "dock `x` is missing the required key `provider`",
            4,
        ),
    ];
    for (source, message, line) in cases {
        let Err(d) = parse("t.toml", source) else {
            panic!("{source:?} parsed");
        };
        let first = d.iter().find(|d| d.message == *message);
        assert_eq!(first.map(|d| d.line), Some(*line), "{source:?}: {d}");
    }
}

#[test]
fn credentials_are_never_echoed() {
    let token = "dop_v1_3f8c2a9d71b4e6f05a2c9d8e7b6a5f4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a";
    let sources = [
        format!("[stackdock]\norg = \"acme\"\ntoken = \"{token}\"\n"),
        format!(
            "[stackdock]\norg = \"acme\"\n[docks.a]\nprovider = \"vultr\"\ncredentials = {{ env = \"{token}\" }}\n"
        ),
        // A syntax error on the line: the TOML parser stops, the line is still masked.
        format!("[stackdock]\norg = \"acme\"\ntoken = {token}\n"),
        format!("[stackdock]\norg = \"acme\"\n[servers.{token}]\ndock = \"a\"\n"),
        "[stackdock]\norg = \"acme\"\n[docks]\npassword = \"3f8c2a9d71b4e6f0\"\n".to_owned(),
        "[stackdock]\norg = \"acme\"\n[servers]\napi_key = \"3f8c2a9d71b4e6f0\"\n".to_owned(),
        format!(
            "[stackdock]\norg = \"acme\"\n[docks.a]\nprovider = \"vultr\"\ncredentials = {{ env = \"A\", x = \"{token}\" }}\nendpoint = \"https://u:{token}@h/v2\"\n"
        ),
    ];
    for source in sources {
        let Err(d) = parse("t.toml", &source) else {
            panic!("{source} parsed");
        };
        let out = d.to_string();
        assert!(!out.contains("3f8c2a9d71b4e6f0"), "{out}");
    }
}

#[test]
fn credential_words_are_fine_as_names() {
    let source = format!(
        "{HEAD}\n[docks.auth-main]\nprovider = \"linode\"\ncredentials = {{ secret = \"stackdock/auth-token\" }}\n\n[servers.auth-proxy]\ndock = \"auth-main\"\nregion = \"us-east\"\nplan = \"g6-nanode-1\"\nimage = \"linode/ubuntu24.04\"\ntags = [\"token-service\"]\n"
    );
    if let Err(d) = parse("t.toml", &source) {
        panic!("{d}");
    }
}

#[test]
fn a_valid_file_becomes_a_sorted_config_with_defaults() {
    let source = format!(
        "{HEAD}\n[block_volumes.data]\ndock = \"vultr-main\"\nregion = \"ewr\"\nsize_gb = 0x10\nattach_to = \"web\"\n\n[servers.web]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\ntags = [\"b\", \"a\", \"b\"]\nid = \"cb676a46-66fd-4dfb-b839-443f2e6c0b60\"\n"
    );
    let config = parse("t.toml", &source).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(config.settings.table_prefix, "stackdock");
    assert_eq!(config.settings.drift, DriftMode::Flag);
    assert_eq!(config.settings.schedule, None);
    let addresses: Vec<String> = config.resources.iter().map(|r| r.address()).collect();
    assert_eq!(addresses, ["servers.web", "block_volumes.data"]);
    let web = &config.resources[0];
    assert_eq!(
        web.id.as_deref(),
        Some("cb676a46-66fd-4dfb-b839-443f2e6c0b60")
    );
    assert_eq!(web.field("tags"), Some(&FieldValue::set(["a", "b"])));
    assert_eq!(
        config.resources[1].field("size_gb"),
        Some(&FieldValue::Int(16))
    );
    assert_eq!(
        config.dock("vultr-main").map(|d| &d.credentials),
        Some(&CredentialRef::Env("VULTR_API_KEY".to_owned()))
    );
}
