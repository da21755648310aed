//! Runs, the audit log: written and read back whole at any size, listed, paged
//! (`Store::runs_page`, issue 20 item 4) and expired.

use std::sync::Arc;

use super::{ORG, OTHER_ORG, at, ok, run};
use crate::{ActionResult, Outcome, RunCursor, RunKind, RunRecord, RunStatus, RunsRequest, Store};

/// Pages of every size walk each run of the org exactly once, newest first (runs that started in
/// the same second ordered by id, descending), never more than `limit` at a time and as headers
/// (no actions, no log); the kind filter holds; a run written during the walk neither repeats
/// nor hides another; another org's runs never show.
pub async fn run_pages_walk_every_run_once_newest_first(store: Arc<dyn Store>) {
    let kinds = [RunKind::Sync, RunKind::Apply, RunKind::Sync, RunKind::Plan];
    let mut written = Vec::new();
    for i in 0..23_i64 {
        // Every third pair shares its start: the id breaks the tie.
        let mut r = run(
            &format!("run-{i:02}"),
            ORG,
            kinds[i as usize % 4],
            at(i - i % 3),
        );
        if i % 5 == 0 {
            for n in 0..40 {
                r.actions.push(ActionResult {
                    action: "update".into(),
                    target: format!("servers.web-{n}"),
                    dock: "vultr-main".into(),
                    provider_id: Some(format!("id-{n}")),
                    outcome: Outcome::Succeeded,
                    message: "x".repeat(200),
                    at: at(i),
                });
            }
        }
        ok(store.put_run(&r).await, "put a run");
        written.push(r);
    }
    ok(
        store
            .put_run(&run("theirs", OTHER_ORG, RunKind::Sync, at(100)))
            .await,
        "put another org's run",
    );
    let mut newest_first = written.clone();
    newest_first.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
    let expected: Vec<&str> = newest_first.iter().map(|r| r.run_id.as_str()).collect();

    for limit in [1, 4, 23, 50] {
        let walked = walk(&store, None, limit).await;
        assert_eq!(
            walked, expected,
            "pages of {limit} walk every run once, newest first"
        );
    }
    let first = ok(
        store
            .runs_page(
                ORG,
                &RunsRequest {
                    limit: 5,
                    ..RunsRequest::default()
                },
            )
            .await,
        "read a page of runs",
    );
    assert_eq!(first.runs.len(), 5, "a page holds `limit` runs");
    assert!(
        first
            .runs
            .iter()
            .all(|r| r.actions.is_empty() && r.log.is_empty()),
        "a page holds headers: no actions, no log"
    );
    let whole = ok(store.get_run(ORG, "run-20").await, "get a run").expect("run-20 is stored");
    assert_eq!(whole.actions.len(), 40, "get_run still reads the whole run");

    // A run that starts during the walk sorts before the cursor: the rest of the walk is as it was.
    let cursor = first.next.clone().expect("more runs follow the first page");
    ok(
        store
            .put_run(&run("run-new", ORG, RunKind::Apply, at(1_000)))
            .await,
        "put a run during the walk",
    );
    let rest = walk(&store, Some(cursor), 3).await;
    assert_eq!(
        rest,
        expected[5..],
        "the walk goes on after its cursor, neither repeating nor skipping a run"
    );

    let applies: Vec<&str> = std::iter::once("run-new")
        .chain(
            newest_first
                .iter()
                .filter(|r| r.kind == RunKind::Apply)
                .map(|r| r.run_id.as_str()),
        )
        .collect();
    let mut walked = Vec::new();
    let mut after = None;
    for _ in 0..50 {
        let page = ok(
            store
                .runs_page(
                    ORG,
                    &RunsRequest {
                        kind: Some(RunKind::Apply),
                        after: after.take(),
                        limit: 2,
                    },
                )
                .await,
            "read a page of applies",
        );
        assert!(page.runs.len() <= 2, "never more than `limit`");
        assert!(
            page.runs.iter().all(|r| r.kind == RunKind::Apply),
            "the kind filter holds"
        );
        walked.extend(page.runs.into_iter().map(|r| r.run_id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, applies, "the applies, newest first");

    let theirs = ok(
        store
            .runs_page(
                OTHER_ORG,
                &RunsRequest {
                    limit: 10,
                    ..RunsRequest::default()
                },
            )
            .await,
        "read another org's runs",
    );
    assert_eq!(
        theirs
            .runs
            .iter()
            .map(|r| r.run_id.as_str())
            .collect::<Vec<_>>(),
        ["theirs"],
        "each org sees only its own runs"
    );
    assert_eq!(theirs.next, None, "the last page names no next");
}

async fn walk(store: &Arc<dyn Store>, mut after: Option<RunCursor>, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..100 {
        let page = ok(
            store
                .runs_page(
                    ORG,
                    &RunsRequest {
                        kind: None,
                        after: after.take(),
                        limit,
                    },
                )
                .await,
            "read a page of runs",
        );
        assert!(page.runs.len() <= limit, "never more than `limit` runs");
        ids.extend(page.runs.into_iter().map(|r| r.run_id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
    panic!("100 pages of {limit} did not end the walk: {ids:?}");
}

/// Runs: put/replace, get by org and id, list newest first with a limit.
pub async fn runs_put_get_list(store: Arc<dyn Store>) {
    let first = run("run-a", ORG, RunKind::Sync, at(0));
    let third = run("run-c", ORG, RunKind::Plan, at(20));
    let mut second = run("run-b", ORG, RunKind::Apply, at(10));
    second.plan_digest = Some("sha256:abc".into());
    second.actions.push(ActionResult {
        action: "create".into(),
        target: "servers.web-1".into(),
        dock: "vultr-main".into(),
        provider_id: Some("id-1".into()),
        outcome: Outcome::Succeeded,
        message: "created".into(),
        at: at(11),
    });
    second.log(at(12), "apply finished");
    second.expires_at = Some(at(86_400));
    for r in [&first, &third, &second] {
        ok(store.put_run(r).await, "put a run");
    }

    assert_eq!(
        ok(store.get_run(ORG, "run-b").await, "get a run"),
        Some(second.clone()),
        "a run reads back exactly as written (actions, log, digest, expiry)"
    );
    assert_eq!(
        ok(
            store.get_run(ORG, "no-such-run").await,
            "get an unknown run"
        ),
        None,
        "an unknown run is None"
    );
    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.run_id).collect::<Vec<_>>();
    assert_eq!(
        ids(ok(store.list_runs(ORG, 10).await, "list runs")),
        ["run-c", "run-b", "run-a"],
        "runs are listed newest (startedAt) first"
    );
    assert_eq!(
        ids(ok(store.list_runs(ORG, 2).await, "list runs with a limit")),
        ["run-c", "run-b"],
        "list_runs returns at most `limit` runs, the newest"
    );

    let mut finished = second.clone();
    finished.status = RunStatus::Succeeded;
    finished.finished_at = Some(at(15));
    ok(store.put_run(&finished).await, "replace a run");
    assert_eq!(
        ok(store.get_run(ORG, "run-b").await, "get the replaced run"),
        Some(finished),
        "put_run replaces a run with the same id"
    );
    assert_eq!(
        ok(store.list_runs(ORG, 10).await, "list runs").len(),
        3,
        "replacing a run does not add one"
    );
    assert_eq!(
        ok(
            store.get_run(OTHER_ORG, "run-b").await,
            "get another org's run"
        ),
        None,
        "a run is not visible to another org"
    );
    assert_eq!(
        ok(
            store.list_runs(OTHER_ORG, 10).await,
            "list another org's runs"
        ),
        vec![],
        "another org lists none of these runs"
    );
}

/// Issue 19 item 9: a run written without an expiry is kept 90 days after it started (syncs,
/// plans) or a year (applies, force-unlocks); one with an expiry keeps it.
pub async fn runs_expire_90_days_after_start_for_syncs_and_a_year_for_applies(
    store: Arc<dyn Store>,
) {
    let day = 24 * 60 * 60;
    for (id, kind, days) in [
        ("run-sync", RunKind::Sync, 90),
        ("run-plan", RunKind::Plan, 90),
        ("run-apply", RunKind::Apply, 365),
        ("run-unlock", RunKind::Unlock, 365),
    ] {
        let mut written = run(id, ORG, kind, at(0));
        written.expires_at = None;
        ok(store.put_run(&written).await, "put a run without an expiry");
        let stored = ok(store.get_run(ORG, id).await, "get it").expect("the run is stored");
        assert_eq!(
            stored.expires_at,
            Some(at(days * day)),
            "a {kind:?} run expires {days} days after it started"
        );
    }
    let mut kept = run("run-kept", ORG, RunKind::Sync, at(0));
    kept.expires_at = Some(at(10));
    ok(store.put_run(&kept).await, "put a run with an expiry");
    assert_eq!(
        ok(store.get_run(ORG, "run-kept").await, "get it").and_then(|r| r.expires_at),
        Some(at(10)),
        "an explicit expiry is kept"
    );
    assert_eq!(
        RunRecord::new("r", ORG, RunKind::Apply, "me", at(0)).expires_at,
        Some(at(365 * day)),
        "a new run carries its expiry from the start"
    );
    eprintln!(
        "RELIABILITY security run records expire 90 days (syncs, plans) or a year (applies) after start (item 9) -> held (store conformance::runs_expire_90_days_after_start_for_syncs_and_a_year_for_applies)"
    );
}

/// Issue 19 item 6: a run of 5,000 actions (well over a megabyte of JSON, more than one DynamoDB
/// item holds) reads back exactly, in order, by id and in the list; so does the same run after it
/// grows by one action (as an apply records each one) and after it is rewritten shorter. A message
/// longer than `RUN_MAX_MESSAGE_BYTES` is cut the same way by every store, and a run id holding
/// the chunk separator `#` is refused.
pub async fn a_five_thousand_action_run_reads_back_whole_and_in_order(store: Arc<dyn Store>) {
    let action = |i: i64| ActionResult {
        action: if i % 3 == 0 { "create" } else { "update" }.into(),
        target: format!("servers.web-{i:04}"),
        dock: "vultr-main".into(),
        provider_id: (i % 5 != 0).then(|| format!("id-{i}")),
        outcome: if i % 7 == 0 {
            Outcome::Failed
        } else {
            Outcome::Succeeded
        },
        message: format!("action {i}: {}", "detail ".repeat((i % 40) as usize)),
        at: at(1_000 + i),
    };
    let older = run("sync-before", ORG, RunKind::Sync, at(0));
    let mut big = run("apply-big", ORG, RunKind::Apply, at(1_000));
    big.plan_digest = Some("sha256:big".into());
    big.actions = (0..5_000).map(action).collect();
    for i in 0..300 {
        big.log(
            at(1_000 + i),
            format!("log line {i}: {}", "lease ".repeat(20)),
        );
    }
    let size = serde_json::to_string(&big).map_or(0, |json| json.len());
    assert!(
        size > 1_000_000,
        "the run is over 1 MB of JSON ({size} bytes)"
    );
    ok(store.put_run(&older).await, "put an older run");
    ok(store.put_run(&big).await, "put a 5,000-action run");
    assert_eq!(
        ok(
            store.get_run(ORG, "apply-big").await,
            "get the 5,000-action run"
        ),
        Some(big.clone()),
        "a 5,000-action run reads back exactly, actions and log in order"
    );
    assert_eq!(
        ok(store.list_runs(ORG, 10).await, "list runs"),
        vec![big.clone(), older.clone()],
        "list_runs returns the whole run too"
    );

    big.actions.push(action(5_000));
    big.status = RunStatus::Partial;
    big.finished_at = Some(at(7_000));
    big.log(at(7_000), "apply finished");
    ok(store.put_run(&big).await, "record one more action");
    assert_eq!(
        ok(store.get_run(ORG, "apply-big").await, "get the grown run"),
        Some(big.clone()),
        "the run with its 5,001st action reads back exactly"
    );

    let mut short = big.clone();
    short.actions.truncate(10);
    short.log.truncate(2);
    ok(store.put_run(&short).await, "rewrite the run shorter");
    assert_eq!(
        ok(
            store.get_run(ORG, "apply-big").await,
            "get the shortened run"
        ),
        Some(short.clone()),
        "a run rewritten with fewer actions reads back with those only"
    );
    assert_eq!(
        ok(store.list_runs(ORG, 1).await, "list the newest run"),
        vec![short],
        "the list holds the shortened run too"
    );

    let mut long = run("apply-long", ORG, RunKind::Apply, at(2_000));
    let mut loud = action(0);
    loud.message = "é".repeat(100_000);
    long.actions.push(loud);
    ok(
        store.put_run(&long).await,
        "put a run with a 200 KB message",
    );
    let stored = ok(store.get_run(ORG, "apply-long").await, "get it").expect("the run is stored");
    let message = &stored.actions[0].message;
    assert!(
        message.len() <= crate::RUN_MAX_MESSAGE_BYTES
            && message.starts_with("éé")
            && message.ends_with("(cut: longer than 16 KiB)"),
        "a message over {} bytes is cut and says so (got {} bytes)",
        crate::RUN_MAX_MESSAGE_BYTES,
        message.len()
    );

    let hashed = run("apply-big#a#000000", ORG, RunKind::Apply, at(3_000));
    assert!(
        store.put_run(&hashed).await.is_err(),
        "a run id holding `#` is refused"
    );
    assert_eq!(
        ok(store.get_run(ORG, "apply-big").await, "get the run again").map(|r| r.actions.len()),
        Some(10),
        "the refused id changed nothing"
    );
    eprintln!(
        "RELIABILITY security a 5,000-action run is stored in items under the size limit and reads back whole, in order (item 6) -> held (store conformance::a_five_thousand_action_run_reads_back_whole_and_in_order)"
    );
}
