//! The apply state machine end to end: the committed definition
//! (infra/statemachines/apply.asl.json) executed by the test driver (`asl`), each Task calling
//! the `apply` binary's handler as the stack's apply function would be called, against the
//! sandbox and DynamoDB on moto. Each invocation runs under a simulated Lambda limit: one that
//! overruns it is killed (its future dropped mid-request, as a timed-out invocation's process is
//! frozen) and Step Functions retries the Task as the definition declares.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use stackdock_engine::{PlanOptions, lease_name, plan_current};
use stackdock_functions::applymachine::{self, MAX_STEPS};
use stackdock_functions::{Deps, submit_apply};
use stackdock_sandbox::{Fault, FaultRule, Kind as SbKind, Provider, SandboxConfig};
use stackdock_store::{Outcome, RunStatus};

use crate::asl::{Event, Failure, Invoke, Machine};
use crate::support::{Live, ORG, Worker, event, held, repo};

const APPLY_FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:stackdock-apply";

/// How long each invocation may run, and which `run-batch` invocation (1 is the first) is
/// killed after how long.
#[derive(Debug, Clone, Copy)]
struct Limits {
    limit: Duration,
    kill: Option<(usize, Duration)>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            limit: Duration::from_secs(60),
            kill: None,
        }
    }
}

/// The committed definition, its Tasks calling the apply handler under `limits`.
fn machine(deps: Arc<Deps>, limits: Limits) -> Machine {
    let batches = Arc::new(AtomicUsize::new(0));
    let invoke: Invoke = Arc::new(move |resource, payload| {
        let deps = deps.clone();
        let batches = batches.clone();
        Box::pin(async move {
            assert_eq!(resource, APPLY_FUNCTION, "every Task is the apply function");
            let nth = if payload["step"] == "run-batch" {
                batches.fetch_add(1, Ordering::SeqCst) + 1
            } else {
                0
            };
            let limit = match limits.kill {
                Some((n, after)) if n == nth => after,
                _ => limits.limit,
            };
            let call = applymachine::handler(LambdaEvent::new(payload, Context::default()), &deps);
            match tokio::time::timeout(limit, call).await {
                Err(_) => Err(Failure {
                    error: "Lambda.Unknown".into(),
                    cause: format!(
                        "The cause could not be determined because Lambda did not return an error type. Returned payload: {{\"errorMessage\":\"Task timed out after {:.2} seconds\"}}",
                        limit.as_secs_f64()
                    ),
                }),
                Ok(answer) => answer.map_err(|e| Failure::lambda(e.error_type(), &e.to_string())),
            }
        })
    });
    Machine::load(
        &repo().join("infra/statemachines/apply.asl.json"),
        &BTreeMap::from([("ApplyFunctionArn", APPLY_FUNCTION.to_owned())]),
        invoke,
    )
}

/// A synced bench (the example fleet after `edit`) and a run submitted for its current plan.
async fn submitted(live: &Live) -> String {
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
    submit_apply(&live.deps, &plan.digest, "arn:aws:iam::1:user/rev")
        .await
        .expect("submit")
}

/// The failed attempts, for a failure message.
fn failures(machine: &Machine) -> Vec<(String, String)> {
    machine
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Failed { state, error, .. } => Some((state, error)),
            _ => None,
        })
        .collect()
}

/// The states invoked, in order, without their inputs.
fn invoked(machine: &Machine) -> Vec<String> {
    machine
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Invoked { state, .. } => Some(state),
            _ => None,
        })
        .collect()
}

/// After the apply: the plan is empty, no intent is left, the lease is free, and every
/// ownership tag is carried by exactly one resource at the providers.
async fn assert_converged(live: &Live) {
    live.scheduled_sync().await.expect("sync");
    let plan = plan_current(
        &live.config,
        &live.deps.docks,
        live.store.as_ref(),
        PlanOptions::default(),
    )
    .await
    .expect("plan");
    assert!(
        !plan.has_changes(),
        "{}",
        stackdock_core::render::json::render(&plan)
    );
    assert!(
        live.store.intents(ORG).await.expect("intents").is_empty(),
        "no intent is left"
    );
    assert_eq!(
        live.store
            .current_lease(&lease_name(ORG))
            .await
            .expect("lease"),
        None,
        "the lease is released"
    );
    for provider in [Provider::Vultr, Provider::Digitalocean, Provider::Linode] {
        let servers = live
            .sandbox
            .resources(provider, SbKind::Instance)
            .expect("sandbox");
        let mut labels = BTreeSet::new();
        for server in &servers.0 {
            let label = server.label.clone();
            assert!(
                labels.insert(label.clone()),
                "{provider:?}: two servers named {label}: a duplicate create"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_runs_in_steps_waits_in_wait_states_and_converges() {
    let live = Live::on_exactly(
        SandboxConfig::default()
            .with_pending_polls(3)
            .with_action_polls(1),
        |s| s,
        Worker::Manual,
        stackdock_core::ProviderKind::ALL.to_vec(),
    )
    .await;
    let run_id = submitted(&live).await;
    let machine = machine(live.deps.clone(), Limits::default());
    let output = machine
        .execute(&run_id, json!({"run_id": run_id}))
        .await
        .expect("the execution succeeds");
    assert_eq!(output["status"], "succeeded", "{output}");
    assert_eq!(output["failed_actions"], 0);

    let states = invoked(&machine);
    assert_eq!(states.first().map(String::as_str), Some("Begin"));
    assert_eq!(states.last().map(String::as_str), Some("Finish"));
    assert!(
        states.iter().filter(|s| *s == "PollReady").count() >= 2,
        "readiness is polled after Wait states: {states:?}"
    );
    assert!(
        machine.events().iter().any(
            |e| matches!(e, Event::Waited { state, seconds: 15 } if state == "WaitForReadiness")
        )
    );
    assert!(!states.contains(&"Abandon".to_owned()), "{states:?}");

    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.actor, "arn:aws:iam::1:user/rev");
    assert!(run.finished_at.is_some());
    assert!(run.actions.iter().all(|a| a.outcome == Outcome::Succeeded));
    let targets: BTreeSet<&str> = run.actions.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(
        targets.len(),
        run.actions.len(),
        "each action recorded once"
    );
    // Every created record is provisioned: readiness was waited for, not skipped.
    let inventory = live.store.inventory(ORG, None).await.expect("inventory");
    assert!(
        inventory.iter().all(|r| r.provisioning_state
            != Some(stackdock_core::record::ProvisioningState::Provisioning))
    );
    assert_converged(&live).await;

    // The execution is the run: starting it again changes nothing.
    live.sandbox.reset_counters();
    let again = machine
        .execute(&run_id, json!({"run_id": run_id}))
        .await
        .expect("a second execution");
    assert_eq!(again["next"], "done", "{again}");
    assert_eq!(live.mutations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_killed_mid_stage_is_retried_and_the_apply_completes_without_duplicates() {
    // Every create answers slowly, so the kill lands while a batch's creates are in flight.
    let live = Live::with(|s| s, Worker::Manual).await;
    live.sandbox
        .add_fault(FaultRule::new("POST *", Fault::Latency { ms: 150 }));
    let run_id = submitted(&live).await;
    let machine = machine(
        live.deps.clone(),
        Limits {
            kill: Some((1, Duration::from_millis(250))),
            ..Limits::default()
        },
    );
    let output = machine
        .execute(&run_id, json!({"run_id": run_id}))
        .await
        .expect("the execution succeeds after the retry");
    assert_eq!(output["status"], "succeeded", "{output}");
    let killed = machine
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Failed { state, error, .. } if state == "RunBatch" && error == "Lambda.Unknown"))
        .count();
    assert_eq!(killed, 1, "the first batch was killed once");
    assert!(
        machine
            .events()
            .iter()
            .any(|e| matches!(e, Event::Retrying { state, .. } if state == "RunBatch"))
    );
    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    let mut seen = BTreeSet::new();
    for a in &run.actions {
        assert!(seen.insert(a.target.clone()), "{} recorded twice", a.target);
    }
    assert_converged(&live).await;
    held(
        "apply state machine: an invocation killed mid-stage is retried and the apply completes with no duplicate create and no run left running (issue 20 item 3)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_servers_whose_creates_and_readiness_outlast_one_invocation_complete() {
    let bulk: String = (1..=100)
        .map(|i| {
            format!(
                "\n[servers.bulk-{i:03}]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\ntags = [\"bulk\"]\n"
            )
        })
        .collect();
    let live = Live::on_exactly(
        SandboxConfig::default()
            .with_pending_polls(4)
            .with_action_polls(1),
        move |s| s + &bulk,
        Worker::Manual,
        stackdock_core::ProviderKind::ALL.to_vec(),
    )
    .await;
    // Each create takes 3 s at the provider: 100 of them, 16 at a time per dock, take 24 s of
    // waiting on the provider alone (then four readiness polls of each), longer than the
    // simulated invocation limit of 20 s; one batch of 25 takes 6 s of it.
    live.sandbox.add_fault(FaultRule::new(
        "POST /vultr/v2/instances",
        Fault::Latency { ms: 3000 },
    ));
    let run_id = submitted(&live).await;
    let limit = Duration::from_secs(20);
    let machine = machine(live.deps.clone(), Limits { limit, kill: None });
    let started = std::time::Instant::now();
    let output = machine
        .execute(&run_id, json!({"run_id": run_id}))
        .await
        .unwrap_or_else(|e| panic!("{e:?}: {:?}", failures(&machine)));
    let took = started.elapsed();
    assert_eq!(output["status"], "succeeded", "{output}");
    assert!(
        took > limit,
        "the apply ({took:?}) takes longer than one invocation may ({limit:?})"
    );
    let states = invoked(&machine);
    assert!(
        states.iter().filter(|s| *s == "RunBatch").count() >= 4,
        "100 servers are at least four batches: {states:?}"
    );
    // On a loaded host an invocation may still overrun the simulated limit: it is killed and
    // retried like any other, and the run completes all the same (asserted below).
    let killed = failures(&machine).len();
    let invocations = states.len();
    assert!(
        killed * 4 < invocations,
        "most invocations fit the limit: {killed} of {invocations} were killed"
    );
    let bulk = live
        .sandbox
        .resources(Provider::Vultr, SbKind::Instance)
        .expect("sandbox")
        .0
        .iter()
        .filter(|s| s.label.starts_with("bulk-"))
        .count();
    assert_eq!(bulk, 100, "exactly the desired fleet");
    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_converged(&live).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_keeps_failing_is_caught_the_run_settled_and_the_lease_released() {
    let live = Live::with(|s| s, Worker::Manual).await;
    let run_id = submitted(&live).await;
    // The store is fine, but someone takes the lease over after Begin: every later step finds
    // it lost (not retryable) and the Catch abandons the run.
    let invoke_deps = live.deps.clone();
    let store = live.store.clone();
    let stolen = Arc::new(AtomicUsize::new(0));
    let invoke: Invoke = Arc::new(move |_resource, payload| {
        let deps = invoke_deps.clone();
        let store = store.clone();
        let stolen = stolen.clone();
        Box::pin(async move {
            if payload["step"] == "run-batch" && stolen.fetch_add(1, Ordering::SeqCst) == 0 {
                store
                    .force_release(&lease_name(ORG))
                    .await
                    .expect("force release");
                store
                    .acquire_lease(
                        &lease_name(ORG),
                        "cli:laptop:42",
                        Duration::from_secs(600),
                        jiff::Timestamp::now(),
                    )
                    .await
                    .expect("taken over");
            }
            applymachine::handler(LambdaEvent::new(payload, Context::default()), &deps)
                .await
                .map_err(|e| Failure::lambda(e.error_type(), &e.to_string()))
        })
    });
    let machine = Machine::load(
        &repo().join("infra/statemachines/apply.asl.json"),
        &BTreeMap::from([("ApplyFunctionArn", APPLY_FUNCTION.to_owned())]),
        invoke,
    );
    let failure = machine
        .execute(&run_id, json!({"run_id": run_id}))
        .await
        .expect_err("the execution fails");
    assert_eq!(failure.error, "ApplyFailed");
    assert!(machine.events().iter().any(|e| matches!(e, Event::Caught { state, next, .. } if state == "RunBatch" && next == "Abandon")));
    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(
        run.status,
        RunStatus::Failed,
        "never left running: {run:#?}"
    );
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("lease"), "{error}");
    assert_eq!(live.mutations(), 0, "nothing was applied without the lease");
    // The abandon released only its own lease: the other holder keeps it.
    let lease = live
        .store
        .current_lease(&lease_name(ORG))
        .await
        .expect("lease")
        .expect("held");
    assert_eq!(lease.owner, "cli:laptop:42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_handler_answers_from_its_fixture_event() {
    let live = Live::with(|s| s, Worker::Manual).await;
    let run_id = submitted(&live).await;
    let with_run = |name: &str| {
        let mut e: LambdaEvent<Value> = event(name);
        e.payload["run_id"] = json!(run_id);
        e
    };
    let begun = applymachine::handler(with_run("apply-begin.json"), &live.deps)
        .await
        .expect("begin");
    assert_eq!(begun["next"], "run-batch", "{begun}");
    assert_eq!(begun["steps"], 0);
    let lease = live
        .store
        .current_lease(&lease_name(ORG))
        .await
        .expect("lease")
        .expect("held");
    assert_eq!(lease.owner, applymachine::lease_owner(&run_id));

    let batch = applymachine::handler(with_run("apply-run-batch.json"), &live.deps)
        .await
        .expect("run-batch");
    assert_eq!(batch["steps"], 4, "the fixture's counter plus one: {batch}");
    assert!(batch["started"].as_u64().expect("started") > 0, "{batch}");

    let polled = applymachine::handler(with_run("apply-poll-ready.json"), &live.deps)
        .await
        .expect("poll-ready");
    assert_eq!(polled["steps"], 8, "{polled}");
    assert!(["run-batch", "wait"].contains(&polled["next"].as_str().expect("next")));

    let abandoned = applymachine::handler(with_run("apply-abandon.json"), &live.deps)
        .await
        .expect("abandon");
    assert_ne!(abandoned["status"], "running", "{abandoned}");
    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert!(run.status.is_finished());
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains("Task timed out")),
        "{:?}",
        run.error
    );
    assert_eq!(
        live.store
            .current_lease(&lease_name(ORG))
            .await
            .expect("lease"),
        None
    );
    // A finish after the abandon leaves the settled run as it is.
    let finished = applymachine::handler(with_run("apply-finish.json"), &live.deps)
        .await
        .expect("finish");
    assert_eq!(finished["status"], abandoned["status"]);
    // And the loop bound is the definition's.
    let definition: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("infra/statemachines/apply.asl.json"))
            .expect("definition"),
    )
    .expect("json");
    assert_eq!(
        definition["States"]["Route"]["Choices"][0]["NumericGreaterThanEquals"],
        json!(MAX_STEPS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stale_run_sweep_leaves_an_apply_alone_while_its_state_machine_holds_the_lease() {
    let live = Live::with(|s| s, Worker::Manual).await;
    let run_id = "apply-11111111-1111-4111-8111-111111111111";
    let hour_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(3600))
        .expect("an hour ago");
    let run = stackdock_store::RunRecord::new(
        run_id,
        ORG,
        stackdock_store::RunKind::Apply,
        "tester",
        hour_ago,
    );
    live.store.put_run(&run).await.expect("put");
    let lease = live
        .store
        .acquire_lease(
            &lease_name(ORG),
            &applymachine::lease_owner(run_id),
            Duration::from_secs(600),
            jiff::Timestamp::now(),
        )
        .await
        .expect("lease");
    let now = jiff::Timestamp::now();
    let marked = stackdock_functions::sync::fail_stale_runs(&live.deps, now)
        .await
        .expect("sweep");
    assert_eq!(marked, 0, "an apply an hour long is still stepping");
    let still = live
        .store
        .get_run(ORG, run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(still.status, RunStatus::Running);

    // Its execution stopped: the lease lapses (here, is released) and the sweep marks it.
    live.store.release_lease(&lease).await.expect("release");
    let marked = stackdock_functions::sync::fail_stale_runs(&live.deps, now)
        .await
        .expect("sweep");
    assert_eq!(marked, 1);
    let failed = live
        .store
        .get_run(ORG, run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(failed.status, RunStatus::Failed);
    held(
        "apply state machine: no run is left running — a stopped execution's run is marked failed by the sweep, a live one is left to finish (issue 20 item 3)",
    );
}
