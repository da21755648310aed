//! The renderers on real plans: text (plain and coloured), JSON and Markdown snapshots, the JSON
//! round trip, Markdown truncation and escaping.

use stackdock_core::ProviderKind;
use stackdock_core::plan::{ActionKind, FORMAT_VERSION, Plan, plan};
use stackdock_core::render::markdown::MAX_MARKDOWN_CHARS;
use stackdock_core::render::text::TextOptions;
use stackdock_core::render::{json, markdown, text};

use super::fixtures::*;

const PLAIN: TextOptions = TextOptions {
    color: false,
    show_unmanaged: false,
};
const COLOR: TextOptions = TextOptions {
    color: true,
    show_unmanaged: false,
};

#[test]
fn kitchen_sink_covers_every_action_kind() {
    let plan = kitchen_sink_plan();
    let kinds: Vec<ActionKind> = plan.actions.iter().map(|a| a.action).collect();
    for kind in [
        ActionKind::Create,
        ActionKind::Update,
        ActionKind::Replace,
        ActionKind::Adopt,
        ActionKind::Delete,
        ActionKind::Recreate,
        ActionKind::Drift,
        ActionKind::Unmanaged,
        ActionKind::Blocked,
        ActionKind::Error,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?} in {kinds:?}");
    }
    let replaces: Vec<bool> = plan
        .of_kind(ActionKind::Replace)
        .map(|a| a.allowed)
        .collect();
    assert!(
        replaces.contains(&true) && replaces.contains(&false),
        "{replaces:?}"
    );
    assert_eq!(
        plan.summary.error, 2,
        "a shrinking volume and an ambiguous name"
    );
}

#[test]
fn text_plain() {
    let out = text::render(&kitchen_sink_plan(), &PLAIN);
    assert!(!out.contains('\x1b'), "escape codes without colour");
    insta::assert_snapshot!(out);
}

#[test]
fn text_color() {
    let out = text::render(&kitchen_sink_plan(), &COLOR);
    assert!(out.contains("\x1b[32m") && out.contains("\x1b[0m"));
    // Escape characters made visible so the snapshot reads as text.
    insta::assert_snapshot!(out.replace('\x1b', "\\e"));
}

#[test]
fn text_groups_changes_before_drift_and_reports() {
    let out = text::render(&kitchen_sink_plan(), &PLAIN);
    let pos = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` missing from:\n{out}"))
    };
    assert!(
        pos("StackDock will perform these actions:") < pos("Drift (changed outside StackDock)")
    );
    assert!(pos("Drift (changed outside StackDock)") < pos("Unmanaged"));
    assert!(pos("Unmanaged") < pos("Blocked docks"));
    assert!(pos("Blocked docks") < pos("Errors"));
    assert!(out.contains("(will not be applied: "));
    assert!(out.trim_end().ends_with(
        "Plan: 2 to create, 2 to update, 2 to replace, 1 to adopt, 1 to delete, 1 to recreate. \
         Drift: 1. Unmanaged: 2. Blocked docks: 1. Errors: 2."
    ));
}

#[test]
fn text_no_changes() {
    let plan = quiet_plan();
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    let out = text::render(&plan, &PLAIN);
    insta::assert_snapshot!(out, @"No changes. Your infrastructure matches stackdock.toml.");
}

#[test]
fn text_neutralises_terminal_escapes_in_names() {
    let config = config(
        false,
        &[(VULTR, ProviderKind::Vultr)],
        vec![server(
            "evil\x1b[2J\nfake",
            VULTR,
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &[],
        )],
    );
    let plan = plan(&config, &[], &fresh(&[VULTR]));
    let out = text::render(&plan, &PLAIN);
    assert!(!out.contains('\x1b'), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("fake")), "{out}");
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(json::render(&kitchen_sink_plan()));
}

#[test]
fn json_round_trips_exactly() {
    for plan in [kitchen_sink_plan(), quiet_plan(), many_creates(3)] {
        let text = json::render(&plan);
        let back = json::parse(&text).expect("parses");
        assert_eq!(back, plan);
        assert_eq!(json::render(&back), text);
        // Apply may also read it with serde directly.
        let direct: Plan = serde_json::from_str(&text).expect("serde reads it");
        assert_eq!(direct, plan);
    }
}

#[test]
fn json_is_byte_identical_for_the_same_plan() {
    let (config, mut inventory, docks) = kitchen_sink();
    let a = json::render(&plan(&config, &inventory, &docks));
    inventory.reverse();
    let b = json::render(&plan(&config, &inventory, &docks));
    assert_eq!(a, b);
    assert_eq!(a, json::render(&kitchen_sink_plan()));
}

#[test]
fn json_has_the_documented_fields() {
    let v: serde_json::Value =
        serde_json::from_str(&json::render(&kitchen_sink_plan())).expect("json");
    for key in [
        "format_version",
        "org",
        "digest",
        "config_digest",
        "inventory_digest",
        "summary",
        "actions",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for a in v["actions"].as_array().expect("actions") {
        for key in [
            "action",
            "address",
            "dock",
            "provider",
            "kind",
            "provider_id",
            "changes",
            "reason",
            "allowed",
            "depends_on",
            "spec",
        ] {
            assert!(a.get(key).is_some(), "action without {key}: {a}");
        }
        for c in a["changes"].as_array().expect("changes") {
            assert!(
                c.get("field").is_some() && c.get("before").is_some() && c.get("after").is_some()
            );
        }
    }
}

#[test]
fn json_rejects_another_format_version() {
    let mut v: serde_json::Value =
        serde_json::from_str(&json::render(&quiet_plan())).expect("json");
    v["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
    let err = json::parse(&v.to_string()).expect_err("newer version refused");
    assert!(
        err.contains(&format!("format_version {}", FORMAT_VERSION + 1))
            && err.contains(&format!("reads format_version {FORMAT_VERSION}")),
        "{err}"
    );
    let err = json::parse("{\"org\": \"acme\"}").expect_err("not a plan");
    assert!(err.contains("not a StackDock plan"), "{err}");
    let err = json::parse("not json").expect_err("not json");
    assert!(err.contains("not valid JSON"), "{err}");
}

#[test]
fn markdown_snapshot() {
    let out = markdown::render(&kitchen_sink_plan());
    assert!(out.len() < MAX_MARKDOWN_CHARS);
    insta::assert_snapshot!(out);
}

#[test]
fn markdown_no_changes() {
    insta::assert_snapshot!(markdown::render(&quiet_plan()));
}

#[test]
fn markdown_escapes_a_hostile_name() {
    let hostile = "<script>alert(1)</script>|`x`\n## Approved by @admin [click](http://evil)";
    let config = config(
        false,
        &[(VULTR, ProviderKind::Vultr)],
        vec![server(hostile, VULTR, "ewr", "vc2-1c-1gb", "os:1743", &[])],
    );
    let inventory = vec![
        server_record(
            VULTR,
            ProviderKind::Vultr,
            "srv-1",
            hostile,
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &[],
        ),
        server_record(
            VULTR,
            ProviderKind::Vultr,
            "srv-2",
            hostile,
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &[],
        ),
        server_record(
            VULTR,
            ProviderKind::Vultr,
            "srv-3",
            "</details><img src=x onerror=alert(1)>",
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &[],
        ),
    ];
    let plan = plan(&config, &inventory, &fresh(&[VULTR]));
    assert_eq!(
        plan.summary.error, 1,
        "two resources share the hostile name"
    );
    let out = markdown::render(&plan);
    // Raw HTML only where the renderer writes it; user text is inside code spans or escaped.
    let outside_code = strip_code_spans(&out);
    assert!(!outside_code.contains("<script"), "{out}");
    assert!(!outside_code.contains("<img"), "{out}");
    assert_eq!(outside_code.matches("</details>").count(), 2, "{out}");
    assert!(!out.lines().any(|l| l.starts_with("## Approved")), "{out}");
    // The table is untouched: its rows are the header, the rule and one row per non-zero kind.
    let table: Vec<&str> = out.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 4, "{table:?}");
    insta::assert_snapshot!(out);
}

/// Removes inline code spans (any fence length) so assertions see only what Markdown interprets.
fn strip_code_spans(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let fence_len = rest[start..].chars().take_while(|c| *c == '`').count();
        let fence = "`".repeat(fence_len);
        let after = &rest[start + fence_len..];
        // A closing fence is a run of exactly `fence_len` backticks.
        let mut search = 0;
        let close = loop {
            match after[search..].find(&fence) {
                None => break None,
                Some(i) => {
                    let at = search + i;
                    let run = after[at..].chars().take_while(|c| *c == '`').count();
                    if run == fence_len {
                        break Some(at);
                    }
                    search = at + run;
                }
            }
        };
        match close {
            Some(end) => rest = &after[end + fence_len..],
            None => {
                out.push_str(&rest[start..start + fence_len]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn markdown_truncates_details_but_never_the_summary() {
    let n = 5_000;
    let plan = many_creates(n);
    assert_eq!(plan.summary.create, n);
    let out = markdown::render(&plan);
    assert!(out.len() < MAX_MARKDOWN_CHARS, "{} bytes", out.len());
    assert!(out.chars().count() < MAX_MARKDOWN_CHARS);
    assert!(
        out.contains(&format!("| `+` create | {n} |")),
        "summary table intact"
    );
    assert!(out.contains(&format!("Plan digest: `{}`", plan.digest)));
    let shown = out
        .lines()
        .filter(|l| l.starts_with("- `+` create "))
        .count();
    assert!(shown > 0 && shown < n, "{shown}");
    let left_out = n - shown;
    assert!(
        out.contains(&format!(
            "{left_out} actions were left out of this comment to keep it under {MAX_MARKDOWN_CHARS} characters. \
             Run `stackdock plan --format text` to see them all."
        )),
        "{}",
        &out[out.len().saturating_sub(400)..]
    );
    assert!(out.contains(&format!("<summary>Changes ({n}, {shown} shown)</summary>")));
    // Sections stay balanced.
    assert_eq!(
        out.matches("<details>").count(),
        out.matches("</details>").count()
    );
}

#[test]
fn markdown_shows_everything_when_it_fits() {
    let plan = many_creates(20);
    let out = markdown::render(&plan);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("- `+` create "))
            .count(),
        20
    );
    assert!(!out.contains("left out"));
}

/// A proposal's plan: the deployed `vultr-main` moved to another endpoint and an environment
/// variable, a new dock added, `linode-old` removed.
fn proposal_plan() -> Plan {
    use stackdock_core::config::{CredentialRef, DockConfig};
    use stackdock_core::plan::dock_changes;
    let dock = |name: &str, provider| DockConfig {
        name: name.to_owned(),
        provider,
        credentials: CredentialRef::Secret(format!("stackdock/{name}")),
        endpoint: None,
        regions: None,
        settings: Default::default(),
    };
    let deployed = [
        dock(VULTR, ProviderKind::Vultr),
        dock("linode-old", ProviderKind::Linode),
    ];
    let mut moved = dock(VULTR, ProviderKind::Vultr);
    moved.endpoint = Some("https://collector.example.net/v2`<b>".to_owned());
    moved.credentials = CredentialRef::Env("AWS_SECRET_ACCESS_KEY".to_owned());
    let mut added = dock("do-new", ProviderKind::DigitalOcean);
    added.regions = Some(["nyc3".to_owned()].into());
    let by_name =
        |docks: &[DockConfig]| docks.iter().map(|d| (d.name.clone(), d.clone())).collect();
    let mut plan = quiet_plan();
    plan.dock_changes = dock_changes(&by_name(&deployed), &by_name(&[moved, added]));
    plan
}

#[test]
fn a_proposals_dock_changes_come_first_in_every_format() {
    let plan = proposal_plan();
    assert_eq!(plan.dock_changes.len(), 3);
    assert_eq!(
        plan.digest,
        quiet_plan().digest,
        "derived from the config: not in the digest"
    );

    let md = markdown::render(&plan);
    let docks_at = md
        .find("This proposal changes 3 docks")
        .expect("dock changes shown");
    assert!(
        docks_at < md.find("No resource changes").expect("quiet"),
        "{md}"
    );
    assert!(
        md.contains("``https://collector.example.net/v2`<b>``"),
        "a hostile endpoint stays in a code span: {md}"
    );
    assert!(md.contains("No resource changes."), "{md}");
    insta::assert_snapshot!("markdown_dock_changes", md);

    let out = text::render(&plan, &PLAIN);
    assert!(out.starts_with("This proposal changes 3 docks"), "{out}");
    assert!(out.contains("No resource changes."), "{out}");
    insta::assert_snapshot!("text_dock_changes", out);

    let json = json::render(&plan);
    assert_eq!(json::parse(&json).expect("round trip"), plan);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        v["dock_changes"][2]["settings"][0]["setting"],
        "credentials"
    );
    assert_eq!(
        v["dock_changes"][2]["settings"][1]["proposed"],
        "https://collector.example.net/v2`<b>"
    );
    assert_eq!(v["dock_changes"][2]["change"], "changed");
    // The deployed config's own plan has none, and its JSON does not mention them.
    assert!(!json::render(&quiet_plan()).contains("dock_changes"));
    eprintln!(
        "RELIABILITY security a proposal's dock changes (endpoint, credentials, regions) come first in its plan, in every format (item 2) -> held (core::render::a_proposals_dock_changes_come_first_in_every_format)"
    );
}

#[test]
fn unmanaged_resources_are_counted_unless_asked_for() {
    let plan = kitchen_sink_plan();
    let counted = text::render(&plan, &PLAIN);
    assert!(!counted.contains("id srv-hand"), "{counted}");
    assert!(counted.contains("    vultr-main: 1 server\n"), "{counted}");
    // A resource removed from the file but kept is the reviewer's own edit: always shown.
    assert!(counted.contains("id vol-scratch"), "{counted}");
    let full = text::render(
        &plan,
        &TextOptions {
            color: false,
            show_unmanaged: true,
        },
    );
    assert!(full.contains("id srv-hand"), "{full}");
    assert!(!full.contains("In no entry of stackdock.toml:"), "{full}");
    let md = markdown::render(&plan);
    assert!(!md.contains("srv-hand"), "{md}");
    assert!(md.contains("vol-scratch"), "{md}");
}
