//! The apply in steps (`stackdock_engine::steps`), as the apply state machine runs it: each step
//! from the run record, the intents and the inventory alone; a step killed mid-batch is run
//! again without creating anything twice; the result is the one-process apply's.

use std::time::Duration;

use jiff::Timestamp;
use stackdock_core::Kind;
use stackdock_core::record::{Attrs, ProvisioningState};
use stackdock_engine::steps::{self, Next};
use stackdock_store::{Outcome, RunKind, RunRecord, RunStatus};

use crate::support::{ORG, World, server, volume};

fn fleet() -> Vec<stackdock_core::config::DesiredResource> {
    vec![
        server("web-1", "vultr", "vc2-1c-1gb"),
        volume("data", "vultr", 40, "web-1"),
        server("app-1", "linode", "g6-nanode-1"),
    ]
}

/// A synced world with a Pending run for its current plan, begun.
async fn begun(w: &World, run_id: &str) {
    w.sync().await;
    let plan = w.plan().await;
    let mut run = RunRecord::new(run_id, ORG, RunKind::Apply, "tester", Timestamp::now());
    run.status = RunStatus::Pending;
    run.plan_digest = Some(plan.digest);
    w.store.put_run(&run).await.expect("put");
    let begun = steps::begin(w.store.as_ref(), ORG, run_id, "machine")
        .await
        .expect("begin");
    assert_eq!(begun.status, RunStatus::Running);
    // A retried begin finds it running.
    steps::begin(w.store.as_ref(), ORG, run_id, "machine")
        .await
        .expect("begin again");
}

async fn run_all(w: &World, run_id: &str) -> RunRecord {
    steps::run_steps(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &w.options(),
        run_id,
        Duration::from_millis(1),
        || async { Ok(()) },
    )
    .await
    .expect("the steps run to the end")
}

#[tokio::test]
async fn an_apply_in_steps_converges_and_attaches_the_volume_to_the_new_server() {
    let w = World::new(fleet());
    begun(&w, "apply-steps-1").await;
    let run = run_all(&w, "apply-steps-1").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.actions);
    assert_eq!(run.actions.len(), 3);
    assert!(run.actions.iter().all(|a| a.outcome == Outcome::Succeeded));
    let server_id = w.vultr.resources(Kind::Servers)[0]
        .provider_resource_id
        .clone();
    match &w.vultr.resources(Kind::BlockVolumes)[0].attrs {
        Attrs::BlockVolumes(v) => {
            assert_eq!(v.attached_to_instance.as_deref(), Some(server_id.as_str()));
        }
        other => panic!("{other:?}"),
    }
    let inventory = w.store.inventory(ORG, None).await.expect("inventory");
    assert!(
        inventory
            .iter()
            .filter(|r| r.managed_by.is_some())
            .all(|r| r.provisioning_state == Some(ProvisioningState::Provisioned)),
        "every create was found ready by a poll"
    );
    w.sync().await;
    assert!(!w.plan().await.has_changes());
    // Finishing again leaves the settled run as it is.
    let again = steps::finish(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &w.options(),
        "apply-steps-1",
    )
    .await
    .expect("finish");
    assert_eq!(again, run);
}

#[tokio::test]
async fn the_first_step_leaves_creates_provisioning_and_the_next_stage_waits_for_them() {
    let w = World::new(fleet());
    begun(&w, "apply-steps-2").await;
    let opts = w.options();
    let first = steps::step(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &opts,
        "apply-steps-2",
        25,
    )
    .await
    .expect("step");
    // The two servers (one stage), created and left provisioning: nothing waited.
    assert_eq!(first.started, 2);
    assert_eq!(first.next, Next::Wait);
    assert_eq!(first.pending, 2);
    // The volume's stage does not start while its server is becoming ready.
    let blocked = steps::step(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &opts,
        "apply-steps-2",
        25,
    )
    .await
    .expect("step");
    assert_eq!((blocked.started, blocked.next), (0, Next::Wait));
    assert!(w.vultr.resources(Kind::BlockVolumes).is_empty());
    let polled = steps::poll(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &opts,
        "apply-steps-2",
    )
    .await
    .expect("poll");
    assert_eq!(
        (polled.settled, polled.pending, polled.next),
        (2, 0, Next::Batch)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_killed_mid_batch_is_run_again_and_creates_nothing_twice() {
    let w = World::new(fleet());
    begun(&w, "apply-steps-3").await;
    // Creates take 300 ms; the step is killed after 100 ms, its creates under way.
    w.vultr.delay_creates(Duration::from_millis(300));
    let opts = w.options();
    let killed = tokio::time::timeout(
        Duration::from_millis(100),
        steps::step(
            &w.config,
            &w.docks,
            w.store.as_ref(),
            &opts,
            "apply-steps-3",
            25,
        ),
    )
    .await;
    assert!(killed.is_err(), "the step was killed mid-batch");
    // The provider finished what it was sent; the intents say what may exist.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!w.store.intents(ORG).await.expect("intents").is_empty());
    let run = run_all(&w, "apply-steps-3").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.actions);
    assert_eq!(w.vultr.resources(Kind::Servers).len(), 1, "no duplicate");
    assert_eq!(w.linode.resources(Kind::Servers).len(), 1, "no duplicate");
    assert_eq!(w.vultr.resources(Kind::BlockVolumes).len(), 1);
    assert!(w.store.intents(ORG).await.expect("intents").is_empty());
    let mut targets: Vec<&str> = run.actions.iter().map(|a| a.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    assert_eq!(
        targets.len(),
        run.actions.len(),
        "each action recorded once"
    );
    w.sync().await;
    assert!(!w.plan().await.has_changes());
}

#[tokio::test]
async fn an_abandoned_run_is_settled_with_the_reason_and_never_left_running() {
    let w = World::new(fleet());
    begun(&w, "apply-steps-4").await;
    let opts = w.options();
    steps::step(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &opts,
        "apply-steps-4",
        1,
    )
    .await
    .expect("one action");
    let run = steps::abandon(w.store.as_ref(), ORG, "apply-steps-4", "the lease was lost")
        .await
        .expect("abandon");
    assert_eq!(run.status, RunStatus::Partial, "one action succeeded");
    assert!(run.finished_at.is_some());
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.starts_with("the lease was lost"))
    );
    let refused = steps::step(
        &w.config,
        &w.docks,
        w.store.as_ref(),
        &opts,
        "apply-steps-4",
        1,
    )
    .await
    .expect_err("an abandoned run takes no more steps");
    assert!(refused.to_string().contains("not running"), "{refused}");
}
