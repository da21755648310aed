//! `stackdock import` round trip (issue 21 part 1): every unmanaged resource the sandbox's
//! fixtures hold, on every (provider, kind), becomes an entry; the next plan adopts each with no
//! field change; after apply the plan is empty.

use std::collections::BTreeSet;

use serde_json::Value;
use stackdock_core::ProviderKind;

use crate::support::{Workspace, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_entries_are_adopted_without_changes_and_apply_converges() {
    let ws = Workspace::new().await;
    let config_path = ws.dir.path().join("stackdock.toml");
    let before = std::fs::read_to_string(&config_path).expect("config");

    // Printed first: the file is untouched.
    let printed = ws.run(&["import"]).await;
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed.stderr));
    let entries = text(&printed.stdout);
    assert!(
        entries.starts_with("# Imported by `stackdock import` at "),
        "{entries}"
    );
    assert_eq!(
        std::fs::read_to_string(&config_path).expect("config"),
        before
    );

    let appended = ws.run(&["import", "--out", "stackdock.toml"]).await;
    assert_eq!(
        appended.status.code(),
        Some(0),
        "{}",
        text(&appended.stderr)
    );
    let after = std::fs::read_to_string(&config_path).expect("config");
    assert!(
        after.starts_with(&before),
        "the file is appended to, not rewritten"
    );
    assert!(!after.contains(stackdock_sandbox::SECRET_MARKER));
    let skipped = text(&appended.stderr).matches("\nskipped ").count()
        + usize::from(text(&appended.stderr).starts_with("skipped "));

    let plan = ws.run(&["plan", "--format", "json"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let plan: Value = serde_json::from_slice(&plan.stdout).expect("json plan");
    let actions = plan["actions"].as_array().expect("actions");
    let of =
        |kind: &str| -> Vec<&Value> { actions.iter().filter(|a| a["action"] == kind).collect() };
    // Each table's address (a zone's name is quoted in its header), and the DNS records, which
    // are entries of their zone's `records` array, adopted by their identity.
    let added = &after[before.len()..];
    let imported: BTreeSet<String> = added
        .lines()
        .filter(|l| !l.starts_with("[["))
        .filter_map(|l| Some(l.strip_prefix('[')?.strip_suffix(']')?.replace('"', "")))
        .collect();
    let adopted: BTreeSet<&str> = of("adopt")
        .iter()
        .filter_map(|a| a["address"].as_str())
        .collect();
    for address in &imported {
        assert!(
            adopted.contains(address.as_str()),
            "{address} is adopted: {actions:#?}"
        );
    }
    let records = added
        .lines()
        .filter(|l| l.starts_with("[[domains."))
        .count();
    let adopted_records = of("adopt")
        .iter()
        .filter(|a| a["kind"] == "domainRecords")
        .count();
    assert!(
        records > 0,
        "the fixture zone's records are imported:\n{added}"
    );
    assert_eq!(adopted_records, records, "{added}");
    // Adopted as they are: no field of an imported entry differs, except a rename the import
    // announced in a comment.
    let renames = after[before.len()..].matches("# Labelled ").count();
    let updates: Vec<&Value> = of("update")
        .into_iter()
        .chain(of("replace"))
        .filter(|a| a["address"].as_str().is_some_and(|x| imported.contains(x)))
        .collect();
    assert!(
        updates.iter().all(|a| a["changes"]
            .as_array()
            .is_some_and(|c| c.len() == 1 && c[0]["field"] == "name")),
        "{updates:#?}"
    );
    assert_eq!(updates.len(), renames, "{updates:#?}");
    // Every unmanaged resource was imported or skipped with a reason.
    assert_eq!(of("unmanaged").len(), skipped, "{:#?}", of("unmanaged"));
    // Every (provider, kind) the fixtures hold unmanaged took part.
    let mut covered = BTreeSet::new();
    for a in of("adopt") {
        let record = a["kind"] == "domainRecords";
        if record || imported.contains(a["address"].as_str().unwrap_or_default()) {
            covered.insert((
                a["provider"].as_str().unwrap_or_default().to_owned(),
                a["kind"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    // Every provider the example fleet has a dock of, every kind but one the sandbox's fixtures
    // hold none of unmanaged (Vercel projects: the example's one project is managed).
    let docked = ProviderKind::ALL
        .into_iter()
        .filter(|p| before.contains(&format!("provider = \"{p}\"")));
    for provider in docked {
        for kind in provider.kinds() {
            if (provider, *kind) == (ProviderKind::Vercel, stackdock_core::Kind::WebServices) {
                continue;
            }
            let key = (provider.as_str().to_owned(), kind.table().to_owned());
            assert!(covered.contains(&key), "{key:?} imported: {covered:?}");
        }
    }

    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    let again = ws.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing left to do: {}\n{}",
        text(&again.stdout),
        text(&again.stderr)
    );
    // A second import finds nothing new.
    let twice = ws.run(&["import", "--no-refresh"]).await;
    assert_eq!(twice.status.code(), Some(0));
    assert_eq!(text(&twice.stdout), "", "{}", text(&twice.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_filters_by_dock_kind_and_name_and_refuses_an_unknown_dock() {
    let ws = Workspace::new().await;
    let all = ws.run(&["import"]).await;
    assert_eq!(all.status.code(), Some(0), "{}", text(&all.stderr));
    let servers = ws
        .run(&[
            "import",
            "--no-refresh",
            "--dock",
            "vultr-main",
            "--kind",
            "servers",
        ])
        .await;
    let out = text(&servers.stdout);
    let headers: Vec<&str> = out.lines().filter(|l| l.starts_with('[')).collect();
    assert!(!headers.is_empty(), "{}", text(&servers.stderr));
    assert!(
        headers.iter().all(|h| h.starts_with("[servers.")),
        "{headers:?}"
    );
    assert!(
        out.lines()
            .filter(|l| l.starts_with("dock = "))
            .all(|l| l == "dock = \"vultr-main\"")
    );

    let first = headers[0]
        .trim_start_matches("[servers.")
        .trim_end_matches(']')
        .trim_matches('"')
        .to_owned();
    let named = ws.run(&["import", "--no-refresh", "--name", &first]).await;
    let out = text(&named.stdout);
    assert_eq!(
        out.lines().filter(|l| l.starts_with('[')).count(),
        1,
        "{out}"
    );

    let unknown = ws.run(&["import", "--dock", "nope"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("unknown dock `nope`"),
        "{}",
        text(&unknown.stderr)
    );
}
