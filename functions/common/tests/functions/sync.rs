//! The scheduled sync handler end to end: the fixture EventBridge event, the real adapters
//! against the sandbox, DynamoDB on moto.

use lambda_runtime::Diagnostic;
use stackdock_core::ProviderKind;
use stackdock_sandbox::{Fault, FaultRule, Kind as SbKind, Provider};
use stackdock_store::{RunKind, RunStatus};

use crate::support::{Live, ORG, Worker, held};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sync_writes_the_inventory_and_a_run_carrying_the_plan() {
    let live = Live::new().await;
    let outcome = live.scheduled_sync().await.expect("sync");
    assert_eq!(outcome.docks, 5);
    assert_eq!(outcome.docks_failed, 0);
    assert!(outcome.records_written > 0, "{outcome:?}");
    assert_eq!(
        outcome.remediation_run_id, None,
        "drift = \"flag\" submits nothing"
    );

    // Every fixture resource the sandbox lists is in DynamoDB, per dock.
    let inventory = live.store.inventory(ORG, None).await.expect("inventory");
    assert_eq!(inventory.len(), outcome.records_written);
    let vultr_servers = live
        .sandbox
        .resources(Provider::Vultr, SbKind::Instance)
        .expect("sandbox")
        .len();
    let stored_vultr_servers = inventory
        .iter()
        .filter(|r| r.dock_id == "acme/vultr-main" && r.kind() == stackdock_core::Kind::Servers)
        .count();
    assert_eq!(stored_vultr_servers, vultr_servers);
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    assert_eq!(statuses.len(), 5);
    assert!(
        statuses
            .iter()
            .all(|s| s.last_sync_at.is_some() && s.last_error.is_none())
    );

    // The run record: who (the schedule), what (the plan's digest and summary, the drift).
    let run = live
        .store
        .get_run(ORG, &outcome.run_id)
        .await
        .expect("get")
        .expect("the sync's run record");
    assert_eq!(run.kind, RunKind::Sync);
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(
        run.actor,
        "schedule:arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"
    );
    assert_eq!(
        run.plan_digest.as_deref(),
        Some(outcome.plan_digest.as_str())
    );
    let log: Vec<&str> = run.log.iter().map(|l| l.message.as_str()).collect();
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("plan {}", outcome.plan_digest))),
        "{log:#?}"
    );
    assert!(log.contains(&"drift: none"), "{log:#?}");

    // An unchanged re-sync writes no record.
    let again = live.scheduled_sync().await.expect("second sync");
    assert_eq!(again.records_written, 0);
    assert_eq!(again.plan_digest, outcome.plan_digest, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_mode_applies_the_fleet_then_removes_drift() {
    let live = Live::with(
        |s| s.replace("drift = \"flag\"", "drift = \"remediate\""),
        Worker::InProcess,
    )
    .await;

    // The fleet is not there yet: the first sync's plan has creates, which remediation applies.
    let first = live.scheduled_sync().await.expect("sync");
    assert!(first.changes > 0);
    let converge = first.remediation_run_id.expect("remediation submitted");
    live.in_process.wait().await;
    let run = live
        .store
        .get_run(ORG, &converge)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.kind, RunKind::Apply);
    assert!(run.actor.starts_with("schedule:"), "{}", run.actor);

    let converged = live.scheduled_sync().await.expect("sync");
    assert_eq!(converged.changes, 0, "{converged:?}");
    assert_eq!(converged.remediation_run_id, None);

    // Someone retags web-2 by hand: flagged on the record, and undone.
    live.retag_by_hand("web-2", &["web"]);
    let drifted = live.scheduled_sync().await.expect("sync");
    assert_eq!(drifted.drifted, 1, "{drifted:?}");
    let sync_run = live
        .store
        .get_run(ORG, &drifted.run_id)
        .await
        .expect("get")
        .expect("run");
    assert!(
        sync_run.log.iter().any(|l| l
            .message
            .starts_with("drift: 1 resources: servers.web-2 (tags)")),
        "{:#?}",
        sync_run.log
    );
    let flagged = live
        .store
        .inventory(ORG, Some("acme/vultr-main"))
        .await
        .expect("inventory");
    assert!(
        flagged
            .iter()
            .any(|r| r.managed_by.as_deref() == Some("servers.web-2") && !r.drift.is_empty()),
        "the drift is written on the record"
    );
    let fix = drifted.remediation_run_id.expect("remediation submitted");
    live.in_process.wait().await;
    let fixed = live
        .store
        .get_run(ORG, &fix)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(fixed.status, RunStatus::Succeeded, "{fixed:#?}");
    let after = live.scheduled_sync().await.expect("sync");
    assert_eq!(after.drifted, 0, "{after:?}");
    assert_eq!(after.changes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_listing_fails_the_invocation_as_retryable_after_recording_it() {
    let live = Live::new().await;
    live.sandbox.add_fault(FaultRule::new(
        "GET /linode/v4/linode/instances",
        Fault::Status { code: 503 },
    ));
    let err = live.scheduled_sync().await.expect_err("a dock failed");
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "Retryable", "{diagnostic:?}");
    assert!(
        diagnostic.error_message.contains("linode-main"),
        "{diagnostic:?}"
    );

    // The other docks synced; the run says what failed.
    let runs = live.store.list_runs(ORG, 5).await.expect("runs");
    let run = runs
        .iter()
        .find(|r| r.kind == RunKind::Sync)
        .expect("sync run");
    assert_eq!(run.status, RunStatus::Partial);
    assert!(run.plan_digest.is_some(), "the plan is still noted");
    let vultr = live
        .store
        .inventory(ORG, Some("acme/vultr-main"))
        .await
        .expect("inv");
    assert!(!vultr.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_credential_is_not_retryable() {
    let live = Live::build(
        |s| s,
        Worker::InProcess,
        vec![ProviderKind::Vultr, ProviderKind::Linode],
    )
    .await;
    let err = live
        .scheduled_sync()
        .await
        .expect_err("do-main has no credential");
    assert_eq!(err.error_type(), "NonRetryable", "{err}");
    assert!(err.to_string().contains("do-main"), "{err}");
}

/// Issue 19, item 10: a resource whose remediation keeps failing is remediated at most
/// `REMEDIATION_ATTEMPTS` (3) times in a row; then the sync stops submitting and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_stops_after_three_consecutive_failures_on_a_resource() {
    let live = Live::with(
        |s| s.replace("drift = \"flag\"", "drift = \"remediate\""),
        Worker::InProcess,
    )
    .await;
    let first = live.scheduled_sync().await.expect("sync");
    first.remediation_run_id.expect("the fleet is created");
    live.in_process.wait().await;
    live.scheduled_sync().await.expect("converged");

    // web-2 is retagged by hand, and the provider refuses every update of it.
    live.retag_by_hand("web-2", &["web"]);
    live.sandbox.add_fault(FaultRule::new(
        "PATCH /vultr/v2/instances/{id}",
        Fault::Status { code: 422 },
    ));
    for attempt in 1..=stackdock_functions::sync::REMEDIATION_ATTEMPTS {
        let outcome = live.scheduled_sync().await.expect("sync");
        let id = outcome
            .remediation_run_id
            .unwrap_or_else(|| panic!("attempt {attempt} is submitted"));
        assert!(
            id.starts_with(stackdock_functions::REMEDIATION_PREFIX),
            "{id}"
        );
        live.in_process.wait().await;
        let run = live
            .store
            .get_run(ORG, &id)
            .await
            .expect("get")
            .expect("run");
        assert_ne!(
            run.status,
            RunStatus::Succeeded,
            "attempt {attempt}: {run:#?}"
        );
    }
    let stopped = live.scheduled_sync().await.expect("sync");
    assert_eq!(stopped.drifted, 1, "{stopped:?}");
    assert_eq!(
        stopped.remediation_run_id, None,
        "the fourth attempt is not made"
    );
    let sync_run = live
        .store
        .get_run(ORG, &stopped.run_id)
        .await
        .expect("get")
        .expect("run");
    assert!(
        sync_run.log.iter().any(|l| l.message.starts_with(
            "remediation: not submitted, stopped after 3 consecutive failed attempts on: servers.web-2"
        )),
        "{:#?}",
        sync_run.log
    );
    held("remediation stops after 3 consecutive failures on a resource (item 10)");
}

/// Issue 19, item 10: remediation never deletes while `prune` is off: a resource StackDock
/// created whose entry is removed is left alone and no apply is submitted for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_deletes_nothing_without_prune() {
    let source =
        std::fs::read_to_string(crate::support::repo().join("stackdock.toml")).expect("fleet");
    assert!(
        source.contains("prune = false"),
        "the example fleet has prune off"
    );
    let live = Live::with(
        |s| s.replace("drift = \"flag\"", "drift = \"remediate\""),
        Worker::InProcess,
    )
    .await;
    live.scheduled_sync().await.expect("sync");
    live.in_process.wait().await;
    live.scheduled_sync().await.expect("converged");

    // The same deployment without web-2's entry: its server stays, nothing is submitted.
    let mut without = live.config.clone();
    without.resources.retain(|r| r.address() != "servers.web-2");
    assert!(without.resources.len() < live.config.resources.len());
    let docks = live.deps.docks.clone();
    let live = live.with_config(without, docks);
    let before = live.mutations();
    let outcome = live.scheduled_sync().await.expect("sync");
    assert_eq!(outcome.remediation_run_id, None, "{outcome:?}");
    live.in_process.wait().await;
    assert_eq!(live.mutations(), before, "no provider change");
    held("remediation never deletes without prune (item 10)");
}
