//! What the sync reports for alarms (issue 19, item 8): the EMF metric lines computed from the
//! stored dock statuses, and runs left `pending`/`running` past their deadline marked failed.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use stackdock_functions::metrics;
use stackdock_store::{RunKind, RunRecord, RunStatus};

use crate::support::{Live, ORG, held};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_age_metric_is_one_emf_line_per_dock_from_the_stored_statuses() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    let docks: Vec<&str> = live.config.docks.keys().map(String::as_str).collect();
    let now = Timestamp::now();
    let lines = metrics::sync_lines("stackdock-prod", now, &docks, &statuses, 0);
    assert_eq!(lines.len(), docks.len() + 1);
    for (dock, line) in docks.iter().zip(&lines) {
        // What CloudWatch reads: one JSON object on one line.
        let text = line.to_string();
        assert!(!text.contains('\n'));
        let parsed: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(parsed["Stack"], "stackdock-prod");
        assert_eq!(parsed["Dock"], *dock);
        let age = parsed["SecondsSinceLastSuccessfulSync"]
            .as_f64()
            .expect("a number");
        assert!((0.0..60.0).contains(&age), "{parsed}");
        let directive = &parsed["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "StackDock");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["Stack"], ["Stack", "Dock"]])
        );
    }
    let last = lines.last().expect("DocksFailed");
    assert_eq!(last["DocksFailed"], 0);
    held("the sync age metric is printed per dock for the alarm (item 8)");
}

fn run_at(id: &str, kind: RunKind, status: RunStatus, started: Timestamp) -> RunRecord {
    let mut run = RunRecord::new(id, ORG, kind, "test", started);
    run.status = status;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_left_pending_or_running_past_their_deadline_are_failed_by_the_next_sync() {
    let live = Live::new().await;
    let now = Timestamp::now();
    let ago = |minutes: i64| {
        now.checked_sub(SignedDuration::from_mins(minutes))
            .expect("time")
    };
    // `expires_at` is the record's retention (the store's TTL), not a deadline: a run whose
    // retention has passed but which started 2 minutes ago is still within its deadline, and a
    // crashed one (retention a year away) is past it.
    let retention_passed = {
        let mut run = run_at(
            "apply-retention-passed",
            RunKind::Apply,
            RunStatus::Running,
            ago(2),
        );
        run.expires_at = Some(ago(1));
        run
    };
    let runs = [
        run_at("apply-crashed", RunKind::Apply, RunStatus::Running, ago(45)),
        run_at(
            "apply-never-picked-up",
            RunKind::Apply,
            RunStatus::Pending,
            ago(90),
        ),
        run_at("sync-timed-out", RunKind::Sync, RunStatus::Running, ago(30)),
        retention_passed,
        run_at(
            "apply-in-progress",
            RunKind::Apply,
            RunStatus::Running,
            ago(3),
        ),
        run_at("apply-done", RunKind::Apply, RunStatus::Succeeded, ago(120)),
    ];
    for run in &runs {
        live.store.put_run(run).await.expect("put run");
    }

    live.scheduled_sync().await.expect("sync");

    for (id, failed) in [
        ("apply-crashed", true),
        ("apply-never-picked-up", true),
        ("sync-timed-out", true),
        ("apply-retention-passed", false),
        ("apply-in-progress", false),
        ("apply-done", false),
    ] {
        let run = live
            .store
            .get_run(ORG, id)
            .await
            .expect("get")
            .expect("run");
        if failed {
            assert_eq!(run.status, RunStatus::Failed, "{id}");
            let error = run.error.as_deref().expect("a reason");
            assert!(error.contains("past its deadline"), "{id}: {error}");
            assert!(run.finished_at.is_some(), "{id}");
        } else {
            assert_ne!(run.status, RunStatus::Failed, "{id}");
            assert!(run.error.is_none(), "{id}");
        }
    }
    held("runs left pending or running past their deadline are failed by the next sync (item 8)");
}

/// Item 9: a DynamoDB endpoint that accepts the connection and never answers costs an operation
/// at most `aws_timeouts`' operation timeout (12 s), not the function's whole timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_call_to_a_hung_endpoint_gives_up_after_the_operation_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Accepts and holds every connection, answering nothing.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let sdk = stackdock_store::testing::MotoServer::start()
        .sdk_config()
        .to_builder()
        .endpoint_url(format!("http://{addr}"))
        .timeout_config(stackdock_functions::aws_timeouts())
        .build();
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client.list_tables().send(),
    )
    .await
    .expect("the SDK's own timeout fires before the test's 30 s");
    assert!(result.is_err(), "a hung endpoint cannot answer");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(14), "{took:?}");
    held("an AWS call to a hung endpoint gives up after the SDK operation timeout (item 9)");
}
