//! plan → apply → plan against the sandbox: exit codes, convergence of the example fleet, and a
//! stale saved plan refused with what changed.

use stackdock_sandbox::{Change, Mutation, Provider};

use crate::support::{Workspace, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_fleet_converges_and_detailed_exitcode_says_so() {
    let ws = Workspace::new().await;
    let plan = ws.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.status.code(),
        Some(2),
        "changes present: {}\n{}",
        text(&plan.stdout),
        text(&plan.stderr)
    );
    assert!(
        text(&plan.stdout).contains("+ create servers.web-1"),
        "{}",
        text(&plan.stdout)
    );

    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    assert!(
        text(&apply.stdout).contains("Apply complete"),
        "{}",
        text(&apply.stdout)
    );
    let again = ws.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        again.status.code(),
        Some(0),
        "no changes after apply: {}\n{}",
        text(&again.stdout),
        text(&again.stderr)
    );

    // The audit log: the apply is listed (headers only), and shown whole by its id.
    let runs = ws
        .run(&["runs", "--kind", "apply", "--format", "json"])
        .await;
    let listed: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("json runs");
    let applies = listed.as_array().expect("array");
    assert_eq!(applies.len(), 1, "{listed}");
    assert_eq!(applies[0]["status"], "succeeded", "{listed}");
    assert!(
        applies[0].get("actions").is_none(),
        "headers only: {listed}"
    );
    let id = applies[0]["runId"].as_str().expect("run id");
    let shown = ws.run(&["runs", id]).await;
    let shown = text(&shown.stdout);
    assert!(
        shown.contains("kind     apply")
            && shown.contains("create")
            && shown.contains("servers.web-1"),
        "{shown}"
    );
    let all = text(&ws.run(&["runs"]).await.stdout);
    assert!(all.contains(id) && all.contains("sync"), "{all}");

    let inventory = ws
        .run(&["inventory", "--kind", "servers", "--format", "json"])
        .await;
    let records: serde_json::Value =
        serde_json::from_slice(&inventory.stdout).expect("json inventory");
    let managed = records
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| !r["managedBy"].is_null())
        .count();
    assert_eq!(
        managed, 4,
        "the four servers of the example fleet are managed"
    );
    for secret_free in [&inventory.stdout, &plan.stdout, &apply.stdout] {
        assert!(!text(secret_free).contains(stackdock_sandbox::SECRET_MARKER));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_once_the_inventory_changed() {
    let ws = Workspace::new().await;
    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));

    ws.append_config("\n[servers.web-3]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\n");
    let saved = ws.run(&["plan", "--out", "plan.json"]).await;
    assert_eq!(saved.status.code(), Some(0), "{}", text(&saved.stderr));
    assert!(ws.dir.path().join("plan.json").exists());

    // Someone renames web-1 in the Vultr console after the plan was reviewed.
    ws.sandbox
        .mutate(Mutation::new(
            Provider::Vultr,
            stackdock_sandbox::Kind::Instance,
            "web-1",
            Change::SetLabel {
                label: "web-1-renamed".into(),
            },
        ))
        .expect("out-of-band change");
    let stale = ws.run(&["apply", "plan.json"]).await;
    assert_eq!(stale.status.code(), Some(1));
    let err = text(&stale.stderr);
    assert!(err.contains("the saved plan is stale"), "{err}");
    assert!(
        err.contains("the inventory changed since the plan was made"),
        "{err}"
    );
    let web3 = ws
        .sandbox
        .resources(Provider::Vultr, stackdock_sandbox::Kind::Instance)
        .expect("instances");
    assert!(
        web3.find_by_label("web-3").is_none(),
        "nothing of the stale plan was applied"
    );
}

/// Issue 19 item 6: a record whose provider object was larger than the store keeps is listed, and
/// `inventory` says its fullApiData is truncated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_says_which_records_hold_a_truncated_provider_object() {
    use stackdock_store::Store as _;
    let ws = Workspace::new().await;
    let store = stackdock_store::SqliteStore::open(ws.db_path()).expect("open the store");
    let dock = stackdock_core::record::dock_id("acme", "vultr-main");
    let mut big = stackdock_store::conformance::server("acme", &dock, "big-1", "big", "ewr");
    big.full_api_data = serde_json::json!({ "id": "big-1", "blob": "x".repeat(1 << 20) }).into();
    let big = big.with_hash();
    big.full_api_data_truncated
        .then(|| panic!("not yet truncated"));
    store
        .put_records(&[big])
        .await
        .expect("write a record with a 1 MB object");
    drop(store);
    let out = ws.run(&["inventory"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(
            "fullApiData truncated to 64 KiB (the provider sent more) for: servers big-1"
        ),
        "{stdout}"
    );
}

/// Issue 21 part 2: unmanaged resources are counts per dock and kind in the text plan, with the
/// command that lists them; `--show-unmanaged` and the JSON plan list each one; `inventory
/// --unmanaged` lists the records StackDock does not manage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_plan_counts_unmanaged_resources_and_lists_them_on_request() {
    let ws = Workspace::new().await;
    let json = ws.run(&["plan", "--format", "json"]).await;
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json plan");
    let unmanaged: Vec<String> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "unmanaged")
        .map(|a| a["provider_id"].as_str().expect("an id").to_owned())
        .collect();
    assert!(
        unmanaged.len() >= 2,
        "the sandbox seeds unmanaged resources: {plan}"
    );

    let counted = text(&ws.run(&["plan", "--no-refresh"]).await.stdout);
    assert!(
        counted.contains(&format!(
            "Unmanaged (reported, never touched): {}",
            unmanaged.len()
        )),
        "{counted}"
    );
    assert!(
        counted.contains("List them: stackdock plan --show-unmanaged"),
        "{counted}"
    );
    // Counted, not listed: no unmanaged id appears, and the per-dock counts add up.
    for id in &unmanaged {
        assert!(
            !counted.contains(&format!("id {id})")),
            "{id} listed:\n{counted}"
        );
    }
    let summed: usize = counted
        .lines()
        .skip_while(|l| *l != "  In no entry of stackdock.toml:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .flat_map(|l| l.split_once(": ").map(|(_, counts)| counts.to_owned()))
        .flat_map(|counts| {
            counts
                .split(", ")
                .map(|c| {
                    c.split(' ')
                        .next()
                        .and_then(|n| n.parse::<usize>().ok())
                        .expect("a count")
                })
                .collect::<Vec<_>>()
        })
        .sum();
    assert_eq!(summed, unmanaged.len(), "{counted}");

    let listed = text(
        &ws.run(&["plan", "--no-refresh", "--show-unmanaged"])
            .await
            .stdout,
    );
    for id in &unmanaged {
        assert!(
            listed.contains(&format!("id {id})")),
            "{id} missing:\n{listed}"
        );
    }

    let inventory = ws
        .run(&["inventory", "--unmanaged", "--format", "json"])
        .await;
    let records: serde_json::Value =
        serde_json::from_slice(&inventory.stdout).expect("json inventory");
    let records = records.as_array().expect("array");
    assert!(
        records.iter().all(|r| r["managedBy"].is_null()),
        "{records:?}"
    );
    for id in &unmanaged {
        assert!(
            records
                .iter()
                .any(|r| r["providerResourceId"] == id.as_str()),
            "{id} not in inventory --unmanaged"
        );
    }
}

/// Issue 21 part 2: log lines are plain when stderr is not a terminal, even without `NO_COLOR`,
/// and a failed dock's warning is said once (not as a log line and again as a message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_logs_carry_no_colour_and_a_failed_dock_is_warned_about_once() {
    let mut ws = Workspace::new().await;
    ws.env.retain(|(k, _)| k != "LINODE_TOKEN");
    // An empty NO_COLOR does not opt out (no-color.org): only the terminal check keeps colour out.
    ws.env.push(("NO_COLOR".to_owned(), String::new()));
    let out = ws.run(&["sync"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the linode dock fails:\n{stderr}"
    );
    assert!(stderr.contains("warning: "), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("LINODE_TOKEN"))
            .count(),
        1,
        "the failed dock is warned about once:\n{stderr}"
    );
    let verbose = text(&ws.run(&["-v", "sync"]).await.stderr);
    assert!(verbose.contains(" INFO "), "info logs at -v:\n{verbose}");
    assert!(
        !verbose.contains('\x1b'),
        "escape codes in piped logs:\n{verbose:?}"
    );
}

/// A Cloudflare zone still waiting for its delegation: the apply that touches it (here, a new
/// record) ends by saying which nameservers to set at the registrar; one that leaves it alone,
/// and every plan, say nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_touching_a_pending_zone_names_the_nameservers_to_set() {
    let ws = Workspace::new().await;
    let first = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    // The registrar has not delegated the domain yet: Cloudflare holds the zone pending.
    ws.sandbox
        .mutate(Mutation::new(
            Provider::Cloudflare,
            stackdock_sandbox::Kind::Domain,
            "acme-shop.example",
            Change::SetStatus {
                status: "pending".into(),
            },
        ))
        .expect("out-of-band change");
    let untouched = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(
        untouched.status.code(),
        Some(0),
        "{}",
        text(&untouched.stderr)
    );
    assert!(
        !text(&untouched.stdout).contains("is pending"),
        "nothing touched the zone: {}",
        text(&untouched.stdout)
    );

    ws.append_config(
        "\n[[domains.\"acme-shop.example\".records]]\nname = \"mail\"\ntype = \"A\"\nvalue = \"192.0.2.25\"\n",
    );
    let plan = ws.run(&["plan"]).await;
    assert!(
        text(&plan.stdout).contains("+ create domain_records.mail.acme-shop.example A 192.0.2.25")
            && !text(&plan.stdout).contains("is pending"),
        "{}",
        text(&plan.stdout)
    );
    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let out = text(&apply.stdout);
    let notice = out
        .lines()
        .find(|l| l.starts_with("Zone acme-shop.example is pending"))
        .unwrap_or_else(|| panic!("no delegation notice: {out}"));
    assert!(
        notice.contains("set its nameservers at the registrar to ")
            && notice.matches(".ns.cloudflare.com").count() == 2,
        "{notice}"
    );
}
