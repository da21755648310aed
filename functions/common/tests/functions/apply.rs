//! The apply worker: idempotent under redelivery (asserted with the sandbox's request counters),
//! concurrent deliveries apply once, and stale, unknown or locked runs change nothing.

use std::time::Duration;

use jiff::Timestamp;
use lambda_runtime::{Context, LambdaEvent};
use stackdock_engine::{PlanOptions, lease_name, plan_current};
use stackdock_functions::apply::{ApplyEvent, ApplyOutcome, handler};
use stackdock_functions::submit_apply;
use stackdock_sandbox::{Kind as SbKind, Provider};
use stackdock_store::{RunKind, RunRecord, RunStatus};

use crate::support::{Live, ORG, Worker, event};

fn delivery(run_id: &str, request_id: &str) -> LambdaEvent<ApplyEvent> {
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    LambdaEvent::new(
        ApplyEvent {
            run_id: run_id.to_owned(),
        },
        context,
    )
}

/// A synced bench whose plan has changes, and that plan's digest.
async fn synced() -> (Live, String) {
    let live = Live::with(|s| s, Worker::Manual).await;
    live.scheduled_sync().await.expect("sync");
    let plan = plan_current(
        &live.config,
        &live.deps.docks,
        live.store.as_ref(),
        PlanOptions::default(),
    )
    .await
    .expect("plan");
    assert!(plan.has_changes());
    (live, plan.digest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_apply_makes_no_provider_call() {
    let (live, digest) = synced().await;
    // The fixture's run id, recorded Pending as `POST /v1/apply` would.
    let fixture: LambdaEvent<ApplyEvent> = event("apply-run.json");
    let run_id = fixture.payload.run_id.clone();
    let mut run = RunRecord::new(
        &run_id,
        ORG,
        RunKind::Apply,
        "arn:aws:iam::1:user/rev",
        Timestamp::now(),
    );
    run.status = RunStatus::Pending;
    run.plan_digest = Some(digest);
    live.store.put_run(&run).await.expect("put");

    let first = handler(fixture, &live.deps).await.expect("first delivery");
    let ApplyOutcome::Applied {
        status,
        failed_actions,
        ..
    } = &first
    else {
        panic!("not applied: {first:?}");
    };
    assert_eq!((*status, *failed_actions), (RunStatus::Succeeded, 0));
    assert!(live.mutations() > 0);
    let applied = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(
        applied.actor, "arn:aws:iam::1:user/rev",
        "the submitter stays the actor"
    );
    assert!(!applied.actions.is_empty());

    live.sandbox.reset_counters();
    let second = handler(event("apply-run.json"), &live.deps)
        .await
        .expect("redelivery");
    assert!(matches!(second, ApplyOutcome::Skipped { .. }), "{second:?}");
    assert_eq!(
        live.mutations(),
        0,
        "a redelivery sends no create, update or delete"
    );
    let after = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(after, applied, "a redelivery leaves the run as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_apply_once() {
    let (live, digest) = synced().await;
    let run_id = submit_apply(&live.deps, &digest, "tester")
        .await
        .expect("submit");
    assert_eq!(*live.queue.0.lock().expect("queue"), vec![run_id.clone()]);

    let (a, b) = tokio::join!(
        handler(delivery(&run_id, "req-a"), &live.deps),
        handler(delivery(&run_id, "req-b"), &live.deps),
    );
    let outcomes = [a.expect("a"), b.expect("b")];
    let applied = outcomes
        .iter()
        .filter(|o| matches!(o, ApplyOutcome::Applied { .. }))
        .count();
    assert_eq!(applied, 1, "{outcomes:#?}");
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, ApplyOutcome::Skipped { .. })),
        "{outcomes:#?}"
    );
    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded);
    // Each server was created once.
    for (provider, label) in [
        (Provider::Vultr, "web-1"),
        (Provider::Vultr, "web-2"),
        (Provider::Digitalocean, "worker-1"),
        (Provider::Linode, "monitor-1"),
    ] {
        let servers = live
            .sandbox
            .resources(provider, SbKind::Instance)
            .expect("sandbox");
        assert_eq!(
            servers.0.iter().filter(|r| r.label == label).count(),
            1,
            "{label}"
        );
    }
    assert_eq!(
        live.store
            .current_lease(&lease_name(ORG))
            .await
            .expect("lease"),
        None,
        "the lease is released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_unknown_and_locked_runs_change_nothing() {
    let (live, digest) = synced().await;
    live.sandbox.reset_counters();

    // Unknown run: nothing, no error (a redelivery after the record expired).
    let unknown = handler(delivery("apply-nope", "r1"), &live.deps)
        .await
        .expect("unknown");
    assert!(
        matches!(unknown, ApplyOutcome::Skipped { .. }),
        "{unknown:?}"
    );

    // A digest that is not the current plan's: refused, recorded.
    let stale = submit_apply(&live.deps, "0123abcd", "tester")
        .await
        .expect("submit");
    let outcome = handler(delivery(&stale, "r2"), &live.deps)
        .await
        .expect("stale");
    assert!(
        matches!(outcome, ApplyOutcome::Refused { .. }),
        "{outcome:?}"
    );
    let run = live
        .store
        .get_run(ORG, &stale)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains("the plan changed since it was submitted")),
        "{run:#?}"
    );

    // Another apply holds the lease: this run cannot go ahead and says who holds it.
    let lease = live
        .store
        .acquire_lease(
            &lease_name(ORG),
            "cli:laptop:42",
            Duration::from_secs(600),
            Timestamp::now(),
        )
        .await
        .expect("lease");
    let blocked = submit_apply(&live.deps, &digest, "tester")
        .await
        .expect("submit");
    let outcome = handler(delivery(&blocked, "r3"), &live.deps)
        .await
        .expect("locked");
    assert!(
        matches!(outcome, ApplyOutcome::Refused { .. }),
        "{outcome:?}"
    );
    let run = live
        .store
        .get_run(ORG, &blocked)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains("cli:laptop:42")),
        "{run:#?}"
    );
    assert_eq!(
        live.store
            .current_lease(&lease_name(ORG))
            .await
            .expect("lease")
            .as_ref(),
        Some(&lease),
        "the other apply's lease is untouched"
    );
    assert_eq!(live.mutations(), 0);
}
