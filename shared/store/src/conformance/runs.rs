//! Paging the audit log (`Store::runs_page`, issue 20 item 4).

use std::sync::Arc;

use super::{ORG, OTHER_ORG, at, ok, run};
use crate::{ActionResult, Outcome, RunCursor, RunKind, RunsRequest, Store};

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
