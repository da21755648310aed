//! The `stackdock.toml` language end to end: every invalid fixture renders exactly its `.expected`
//! diagnostics, the valid fixtures and the repository's own `stackdock.toml` parse, and the
//! committed JSON Schema is the generated one.
//!
//! `UPDATE_EXPECT=1 cargo test -p stackdock-core --test core config` rewrites the `.expected` files
//! and the committed schema; review the diff like code.

use std::fs;
use std::path::{Path, PathBuf};

use stackdock_core::config::{
    self, CredentialRef, DEFAULT_SECRET_PREFIX, DriftMode, LambdaTarget, json_schema::json_schema,
};
use stackdock_core::{Kind, ProviderKind};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

fn tomls(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the file at `path`, or rewrites it under `UPDATE_EXPECT=1`. Returns a
/// failure description.
fn check_golden(path: &Path, actual: &str, regenerate: &str) -> Option<String> {
    let expected = fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    if updating() {
        fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return None;
    }
    Some(format!(
        "{} differs from the actual output ({regenerate}).\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    ))
}

#[test]
fn invalid_fixtures_render_their_expected_diagnostics() {
    let files = tomls("fixtures/config/invalid");
    assert!(files.len() >= 22, "only {} invalid fixtures", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let shown = format!("fixtures/config/invalid/{name}");
        let source = fs::read_to_string(path).unwrap_or_else(|e| panic!("{shown}: {e}"));
        let diagnostics = match config::parse(&shown, &source) {
            Ok(_) => {
                failures.push(format!("{shown} parsed without errors"));
                continue;
            }
            Err(d) => d,
        };
        // The file holds exactly the `Display` of `Diagnostics`, plus the file's final newline.
        let actual = format!("{diagnostics}\n");
        if let Some(f) = check_golden(
            &path.with_extension("expected"),
            &actual,
            "run with UPDATE_EXPECT=1 to rewrite it",
        ) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The Lambda target's refusals: files that parse, refused only for the deployed target (default
/// secret prefix, no allowed endpoints), one file per refusal class.
#[test]
fn lambda_fixtures_render_their_expected_diagnostics() {
    let files = tomls("fixtures/config/invalid/lambda");
    assert!(files.len() >= 4, "only {} Lambda fixtures", files.len());
    let target = LambdaTarget::new(DEFAULT_SECRET_PREFIX, [""; 0]).expect("target");
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let shown = format!("fixtures/config/invalid/lambda/{name}");
        let source = fs::read_to_string(path).unwrap_or_else(|e| panic!("{shown}: {e}"));
        if let Err(d) = config::parse(&shown, &source) {
            failures.push(format!("{shown} must be valid outside Lambda:\n{d}"));
            continue;
        }
        let diagnostics = match config::check_lambda(&shown, &source, &target) {
            Ok(_) => {
                failures.push(format!("{shown} passed the Lambda target"));
                continue;
            }
            Err(d) => d,
        };
        for d in diagnostics.iter() {
            assert!(d.line > 1 && d.help.is_some(), "{d}");
        }
        let actual = format!("{diagnostics}\n");
        if let Some(f) = check_golden(
            &path.with_extension("expected"),
            &actual,
            "run with UPDATE_EXPECT=1 to rewrite it",
        ) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_lambda_target_admits_secrets_published_hosts_and_allowed_origins() {
    let source = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { secret = \"team/vultr\" }\nendpoint = \"http://127.0.0.1:8787/vultr/v2\"\n\n[docks.linode-main]\nprovider = \"linode\"\ncredentials = { secret = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:team/linode-AbC123\" }\nendpoint = \"https://api.linode.com/v4\"\n";
    let target = LambdaTarget::new("team/", ["http://127.0.0.1:8787"]).expect("target");
    config::check_lambda("stackdock.toml", source, &target).unwrap_or_else(|d| panic!("{d}"));
    // The same file under the default target: the prefix and the local origin are refused.
    let default = LambdaTarget::new(DEFAULT_SECRET_PREFIX, [""; 0]).expect("target");
    let refused = config::check_lambda("stackdock.toml", source, &default).expect_err("refused");
    assert_eq!(refused.len(), 3, "{refused}");
    // The repository's example uses `env` credentials: fine on a laptop, refused in Lambda.
    let example = fs::read_to_string(repo().join("stackdock.toml")).unwrap_or_default();
    let refused = config::check_lambda("stackdock.toml", &example, &default).expect_err("env");
    assert_eq!(refused.len(), 5, "one per dock: {refused}");
    assert!(
        refused
            .iter()
            .all(|d| d.message.contains("environment variable"))
    );
}

#[test]
fn the_lambda_target_admits_notify_sent_to_sns_and_a_secret_webhook() {
    let source = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { secret = \"stackdock/vultr\" }\n\n[notify]\non = [\"drift\", \"apply_failed\"]\nwebhook = { secret = \"stackdock/slack\" }\nsns = true\n";
    let target = LambdaTarget::new(DEFAULT_SECRET_PREFIX, [""; 0]).expect("target");
    let config =
        config::check_lambda("stackdock.toml", source, &target).unwrap_or_else(|d| panic!("{d}"));
    let notify = config.notify.expect("[notify] kept");
    assert!(notify.sns);
    // A webhook secret outside the deployment's prefix is refused at its value, as a dock's is.
    let outside = source.replace("stackdock/slack", "team/slack");
    let refused = config::check_lambda("stackdock.toml", &outside, &target).expect_err("prefix");
    assert_eq!(refused.len(), 1, "{refused}");
    let d = refused.iter().next().expect("one");
    assert_eq!((d.line, d.column), (10, 22), "{d}");
    assert!(
        d.message
            .contains("`team/slack` of the webhook of `[notify]`"),
        "{d}"
    );
}

#[test]
fn several_mistakes_are_reported_in_one_run() {
    let path = repo().join("fixtures/config/invalid/several-mistakes.toml");
    let source = fs::read_to_string(&path).unwrap_or_default();
    let Err(diagnostics) = config::parse("several-mistakes.toml", &source) else {
        panic!("several-mistakes.toml parsed");
    };
    assert!(diagnostics.len() >= 5, "{diagnostics}");
    let lines: Vec<usize> = diagnostics.iter().map(|d| d.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted, "diagnostics are in file order");
    for d in diagnostics.iter() {
        assert!(d.help.is_some(), "no help for: {}", d.message);
    }
}

#[test]
fn no_diagnostic_echoes_an_inline_credential() {
    // Every secret value written in the credential fixtures.
    let secrets = [
        "dop_v1_",
        "3f8c2a9d71b4e6f05a2c9d8e7b6a5f4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a",
        "Q2ZKX7M3HVN4BRT8WPLE6YC5SDJ9GA1FUKNA",
        "hunter2",
        "s3cr3t-pa55",
    ];
    for path in tomls("fixtures/config/invalid") {
        let source = fs::read_to_string(&path).unwrap_or_default();
        if let Err(d) = config::parse("f.toml", &source) {
            let out = d.to_string();
            for s in secrets {
                assert!(!out.contains(s), "{} echoes {s}:\n{out}", path.display());
            }
        }
    }
}

#[test]
fn valid_fixtures_parse() {
    let files = tomls("fixtures/config/valid");
    assert!(files.len() >= 3);
    for path in files {
        let source = fs::read_to_string(&path).unwrap_or_default();
        if let Err(d) = config::parse(&path.display().to_string(), &source) {
            panic!("{d}");
        }
    }
}

#[test]
fn the_repository_example_validates() {
    let source = fs::read_to_string(repo().join("stackdock.toml")).unwrap_or_default();
    let config = config::parse("stackdock.toml", &source).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(config.settings.org, "acme");
    assert_eq!(config.settings.drift, DriftMode::Flag);
    assert!(!config.settings.prune);
    let docks: Vec<(&str, ProviderKind, &CredentialRef)> = config
        .docks
        .values()
        .map(|d| (d.name.as_str(), d.provider, &d.credentials))
        .collect();
    assert_eq!(docks.len(), 5);
    for (name, provider, credentials) in docks {
        assert!(
            matches!(credentials, CredentialRef::Env(_)),
            "{name} uses an environment variable"
        );
        // Every kind the dock's provider supports is exercised, but Vercel's DNS: the example's
        // Vercel project has its custom domain in the Cloudflare zone, as issue 18 asks.
        for kind in provider.kinds() {
            if provider == ProviderKind::Vercel
                && matches!(kind, Kind::Domains | Kind::DomainRecords)
            {
                continue;
            }
            assert!(
                config
                    .resources
                    .iter()
                    .any(|r| r.dock == name && r.kind == *kind),
                "{name} has no {kind}"
            );
        }
    }
    // Sorted by kind rank, then name: servers before the volumes attached to them.
    let order: Vec<(usize, &str)> = config
        .resources
        .iter()
        .map(|r| (r.kind.rank(), r.name.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    let volume = config
        .resource("block_volumes.web-1-data")
        .unwrap_or_else(|| panic!("volume missing"));
    assert_eq!(volume.kind, Kind::BlockVolumes);
    assert_eq!(volume.field("size_gb").and_then(|v| v.as_int()), Some(40));
    assert_eq!(volume.str_field("attach_to"), Some("web-1"));
    let web = config
        .resource("servers.web-1")
        .unwrap_or_else(|| panic!("web-1 missing"));
    assert_eq!(
        web.field("tags").and_then(|v| v.as_set()).map(|s| s.len()),
        Some(2)
    );
    assert!(
        !web.fields.contains_key("dock"),
        "common keys are not fields"
    );
}

#[test]
fn committed_schema_is_current() {
    let generated = serde_json::to_string_pretty(&json_schema())
        .unwrap_or_else(|e| panic!("schema serialises: {e}"))
        + "\n";
    if let Some(f) = check_golden(
        &repo().join("schema/stackdock.schema.json"),
        &generated,
        "regenerate it: cargo run -p stackdock-cli -- schema > schema/stackdock.schema.json",
    ) {
        panic!("{f}");
    }
}

#[test]
fn committed_config_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md");
    let generated = stackdock_core::config::reference::markdown();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &generated).expect("write docs/config.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/config.md is out of date; regenerate it with `UPDATE_EXPECT=1 cargo test -p stackdock-core --test core config`"
    );
}
