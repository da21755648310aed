use super::*;

#[test]
fn labels_follow_each_provider() {
    use Kind::{BlockVolumes, Buckets, Databases, Servers};
    use ProviderKind::{Cloudflare, DigitalOcean, Linode, Vultr};
    let long = "a".repeat(256);
    let cases: &[(ProviderKind, Kind, &str, bool)] = &[
        (Vultr, Servers, "web 1 (prod)", true),
        (Vultr, Servers, &long, false),
        (Vultr, Servers, "bad\tname", false),
        (Vultr, Databases, "", false),
        (Vultr, Databases, "main-db", true),
        (DigitalOcean, Servers, "web-1.example.com", true),
        (DigitalOcean, Servers, "web_1", false),
        (DigitalOcean, BlockVolumes, "data-1", true),
        (DigitalOcean, BlockVolumes, "Data", false),
        (DigitalOcean, BlockVolumes, "1data", false),
        (Linode, Servers, "web-1", true),
        (Linode, Servers, "w1", false),
        (Linode, Servers, "1web", false),
        (Linode, Servers, "web--1", false),
        (Linode, Servers, "web_1.a-b", true),
        (Linode, BlockVolumes, "data_1", true),
        (Linode, BlockVolumes, "data.1", false),
        (Linode, BlockVolumes, &"d".repeat(33), false),
        (Linode, BlockVolumes, "d", false),
        (Linode, BlockVolumes, "pg__data", false),
        (Cloudflare, Databases, "acme_sessions-2", true),
        (Cloudflare, Databases, "-sessions", false),
        (Cloudflare, Databases, "Sessions", false),
        (Cloudflare, Buckets, "acme-assets", true),
        (Cloudflare, Buckets, "r2", false),
        (Cloudflare, Buckets, "-assets", false),
        (Cloudflare, Buckets, "Assets", false),
        (Cloudflare, Buckets, "a_b_c", false),
        (Linode, Buckets, "acme-assets", true),
        (Linode, Buckets, "Acme", false),
        (Linode, Buckets, "assets-", false),
        (Linode, Buckets, "ab", false),
    ];
    for (provider, kind, name, valid) in cases {
        assert_eq!(
            label_error(*provider, *kind, name).is_none(),
            *valid,
            "{provider} {kind} {name:?}"
        );
    }
}

#[test]
fn list_items_follow_each_provider() {
    use ProviderKind::{DigitalOcean, Linode, Vultr};
    let ed25519 =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f ops@acme";
    let cases: &[(ProviderKind, &str, &str, bool)] = &[
        (DigitalOcean, "tags", "env:prod", true),
        (DigitalOcean, "tags", "team_web-1", true),
        (DigitalOcean, "tags", "env=prod", false),
        (DigitalOcean, "tags", "two words", false),
        (DigitalOcean, "tags", &"t".repeat(256), false),
        (Linode, "tags", "env=prod", true),
        (Linode, "tags", "ab", false),
        (Linode, "tags", &"t".repeat(51), false),
        (Vultr, "tags", "env=prod", true),
        (
            Vultr,
            "ssh_keys",
            "3b8066a7-b438-455a-9688-44afc9a3597f",
            true,
        ),
        (Vultr, "ssh_keys", "deploy-key", false),
        (
            Vultr,
            "ssh_keys",
            "3b:80:66:a7:b4:38:45:5a:96:88:44:af:c9:a3:59:7f",
            false,
        ),
        (DigitalOcean, "ssh_keys", "512189", true),
        (
            DigitalOcean,
            "ssh_keys",
            "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa",
            true,
        ),
        (DigitalOcean, "ssh_keys", "3b:16:bf", false),
        (DigitalOcean, "ssh_keys", "my-laptop", false),
        (Linode, "ssh_keys", ed25519, true),
        (Linode, "ssh_keys", "512189", false),
        (
            Linode,
            "ssh_keys",
            "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa",
            false,
        ),
        (Linode, "ssh_keys", "ssh-ed25519", false),
        (Linode, "ssh_keys", "ssh-ed25519 AAAA\nssh-rsa AAAA", false),
    ];
    for (provider, key, value, valid) in cases {
        assert_eq!(
            list_item_error(*provider, key, value).is_none(),
            *valid,
            "{provider} {key} {value:?}"
        );
    }
}

#[test]
fn digitalocean_tags_compare_without_case_and_others_exactly() {
    let desired = FieldValue::set(["prod", "web"]);
    let actual = FieldValue::set(["PROD", "web"]);
    let rule = |p| field_rule(p, Kind::Servers, "tags").expect("servers have tags");
    assert!(rule(ProviderKind::DigitalOcean).same(&desired, Some(&actual)));
    assert!(!rule(ProviderKind::DigitalOcean).same(&FieldValue::set(["prod"]), Some(&actual)));
    assert!(!rule(ProviderKind::DigitalOcean).same(&desired, None));
    assert!(!rule(ProviderKind::Vultr).same(&desired, Some(&actual)));
    assert!(!rule(ProviderKind::Linode).same(&desired, Some(&actual)));
}

#[test]
fn every_rule_names_a_documented_key_of_a_supported_kind() {
    for provider in ProviderKind::ALL {
        for kind in Kind::ALL {
            let rules = field_rules(provider, kind);
            // A DNS record's rules are every provider's (they are the record's own keys);
            // whether a provider hosts DNS at all is whether it supports `domains`.
            let documented: Vec<&str> = if kind == Kind::DomainRecords {
                crate::config::keys::RECORD_KEYS
                    .iter()
                    .map(|k| k.key)
                    .collect()
            } else if kind == Kind::Domains {
                // A zone is its name: nothing of it is managed beside its existence.
                assert!(rules.is_empty(), "{provider} {kind}");
                Vec::new()
            } else {
                assert_eq!(
                    !rules.is_empty(),
                    provider.supports(kind),
                    "{provider} {kind}"
                );
                let mut keys: Vec<&str> = kind_keys(kind).iter().map(|k| k.key).collect();
                if kind == Kind::WebServices {
                    // Read from `env` with it (`config::web_services`): where each value comes
                    // from.
                    keys.push("env_sources");
                }
                keys
            };
            for r in rules {
                assert!(
                    documented.contains(&r.key),
                    "{provider} {kind}: rule for undocumented key {}",
                    r.key
                );
            }
        }
    }
}
