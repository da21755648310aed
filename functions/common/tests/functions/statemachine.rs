//! The sync state machine end to end: the committed definition (infra/statemachines/sync.asl.json)
//! executed by the test driver (`asl`), its Tasks calling the `sync` binary's handler as the
//! stack's two functions would be called, against the sandbox and DynamoDB on moto.
//!
//! moto's Step Functions cannot run this: its execution engine invokes Lambda tasks through
//! moto's Lambda, which runs each function in a Docker container (none here, and its runtime
//! image would have to be downloaded), so the driver plays Step Functions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use stackdock_core::ProviderKind;
use stackdock_engine::{Adapters, Docks, StaticResolver};
use stackdock_functions::{Deps, fanout};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_sandbox::{Fault, FaultRule, Kind as SbKind, Provider};
use stackdock_store::RunStatus;

use crate::asl::{Event, Failure, Invoke, Machine};
use crate::support::{Live, ORG, Worker, held, repo};

const SYNC_FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:stackdock-sync";
const SYNC_DOCK_FUNCTION: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:stackdock-sync-dock";
pub(crate) const SCHEDULE: &str =
    "arn:aws:scheduler:us-east-1:123456789012:schedule/default/stackdock-sync";

/// What the test does to the functions' answers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    /// The first sync-dock invocation of this dock does its work, then its answer is lost
    /// (the function timed out or crashed after writing).
    lose_first_answer_of: Option<&'static str>,
    /// list-docks answers this concurrency (as if the template's SyncConcurrency were it).
    max_concurrency: Option<u64>,
}

/// The committed definition with the template's substitutions, each Task calling the handler
/// with the deps of `live`; a step sent to the wrong function fails the test.
pub(crate) fn machine(deps: Arc<Deps>, faults: Faults) -> Machine {
    let lost = Arc::new(AtomicBool::new(false));
    let invoke: Invoke = Arc::new(move |resource, payload| {
        let deps = deps.clone();
        let faults = faults.clone();
        let lost = lost.clone();
        Box::pin(async move {
            let step = payload["step"].as_str().unwrap_or_default().to_owned();
            let function = if step == "sync-dock" {
                SYNC_DOCK_FUNCTION
            } else {
                SYNC_FUNCTION
            };
            assert_eq!(resource, function, "step {step} was sent to {resource}");
            let dock = payload["dock"].as_str().map(str::to_owned);
            let mut answer = fanout::handler(LambdaEvent::new(payload, Context::default()), &deps)
                .await
                .map_err(|e| Failure::lambda(e.error_type(), &e.to_string()))?;
            if step == "list-docks"
                && let Some(n) = faults.max_concurrency
            {
                answer["max_concurrency"] = json!(n);
            }
            if dock.is_some()
                && dock.as_deref() == faults.lose_first_answer_of
                && !lost.swap(true, Ordering::SeqCst)
            {
                return Err(Failure {
                    error: "Lambda.Unknown".into(),
                    cause: "The cause could not be determined because Lambda did not return an error type. Returned payload: {\"errorMessage\":\"Task timed out after 300.00 seconds\"}".into(),
                });
            }
            Ok(answer)
        })
    });
    Machine::load(
        &repo().join("infra/statemachines/sync.asl.json"),
        &BTreeMap::from([
            ("SyncFunctionArn", SYNC_FUNCTION.to_owned()),
            ("SyncDockFunctionArn", SYNC_DOCK_FUNCTION.to_owned()),
        ]),
        invoke,
    )
}

/// The sync-dock invocations of `dock`, in order: each attempt's error, `None` if it answered.
fn attempts(machine: &Machine, dock: &str) -> Vec<Option<String>> {
    let mut attempts = Vec::new();
    for e in machine.events() {
        match e {
            Event::Invoked { state, input, .. } if state == "SyncDock" && input["dock"] == dock => {
                attempts.push(None);
            }
            Event::Failed {
                state,
                input,
                error,
            } if state == "SyncDock" && input["dock"] == dock => {
                *attempts
                    .last_mut()
                    .expect("a failure follows its invocation") = Some(error);
            }
            _ => {}
        }
    }
    attempts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_docks_one_refusing_its_token_two_synced_one_recorded_failed_and_the_plan_ran() {
    let live = Live::new().await;
    // do-main's token is refused by the provider (the others' are right).
    let tokens = StaticResolver(
        ProviderKind::ALL
            .iter()
            .map(|p| {
                let token = match p {
                    ProviderKind::DigitalOcean => "revoked-token".to_owned(),
                    other => live
                        .sandbox
                        .token(other.as_str().parse::<Provider>().expect("provider")),
                };
                (*p, Credential::new(token))
            })
            .collect(),
    );
    let adapters = Adapters {
        tuning: Tuning {
            poll: PollPolicy::fast(),
        },
    };
    let docks = Docks::build(&live.config, &tokens, &adapters).await;
    let live = live.with_docks(docks, Worker::InProcess);
    let machine = machine(live.deps.clone(), Faults::default());

    let output = machine
        .execute("e2e-refused", json!({"schedule": SCHEDULE}))
        .await
        .expect("the execution succeeds: a failed dock never fails it");
    assert_eq!(output["run_id"], "sync-e2e-refused");
    assert_eq!(output["docks"], 5);
    assert_eq!(output["docks_failed"], 1, "{output}");

    // The refused dock was tried once (not retryable) and caught; the others synced once.
    assert_eq!(
        attempts(&machine, "do-main"),
        vec![Some("NonRetryable".to_owned())]
    );
    assert_eq!(attempts(&machine, "vultr-main"), vec![None]);
    assert_eq!(attempts(&machine, "linode-main"), vec![None]);
    assert!(machine.events().iter().any(|e| matches!(e, Event::Caught { state, next, .. } if state == "SyncDock" && next == "DockFailed")));
    assert!(
        machine
            .events()
            .iter()
            .any(|e| matches!(e, Event::Invoked { state, .. } if state == "Plan")),
        "the plan step ran"
    );

    // The good docks' inventories are stored; the refused one's is not, and its status says why.
    for dock in ["vultr-main", "linode-main"] {
        let inventory = live
            .store
            .inventory(ORG, Some(&format!("acme/{dock}")))
            .await
            .expect("inventory");
        assert!(!inventory.is_empty(), "{dock}");
    }
    let vultr_servers = live
        .sandbox
        .resources(Provider::Vultr, SbKind::Instance)
        .expect("sandbox")
        .len();
    let stored = live
        .store
        .inventory(ORG, Some("acme/vultr-main"))
        .await
        .expect("inventory")
        .into_iter()
        .filter(|r| r.kind() == stackdock_core::Kind::Servers)
        .count();
    assert_eq!(stored, vultr_servers);
    assert!(
        live.store
            .inventory(ORG, Some("acme/do-main"))
            .await
            .expect("inventory")
            .is_empty()
    );
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    let status = |name: &str| statuses.iter().find(|s| s.name == name).expect(name);
    assert!(
        status("vultr-main").last_error.is_none() && status("vultr-main").last_sync_at.is_some()
    );
    assert!(status("linode-main").last_error.is_none());
    let refused = status("do-main")
        .last_error
        .clone()
        .expect("do-main failed");
    assert!(
        !refused.contains("revoked-token"),
        "no secret in the status: {refused}"
    );

    // One run for the execution, complete, with every dock's outcome and the plan.
    let run = live
        .store
        .get_run(ORG, "sync-e2e-refused")
        .await
        .expect("get")
        .expect("the execution's run");
    assert_eq!(run.status, RunStatus::Partial, "{run:#?}");
    assert_eq!(run.actor, format!("schedule:{SCHEDULE}"));
    assert!(run.finished_at.is_some());
    assert_eq!(run.plan_digest.as_deref(), output["plan_digest"].as_str());
    let log: Vec<&str> = run.log.iter().map(|l| l.message.as_str()).collect();
    for line in [
        "dock `do-main` failed: ",
        "dock `linode-main`: listed",
        "dock `vultr-main`: listed",
    ] {
        assert!(log.iter().any(|l| l.starts_with(line)), "{line}: {log:#?}");
    }
    assert!(
        log.iter().any(|l| l.contains("Blocked docks: 1.")),
        "{log:#?}"
    );
    assert!(!log.iter().any(|l| l.contains("revoked-token")), "{log:#?}");
    let runs = live.store.list_runs(ORG, 10).await.expect("runs");
    assert_eq!(runs.len(), 1, "one run per execution: {runs:#?}");
    held(
        "sync state machine: a failed dock never fails the others, the plan step still runs (issue 20 item 1)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_dock_that_fails_once_with_a_retryable_error_is_retried_and_succeeds() {
    let live = Live::new().await;
    // Linode answers 503 to the first invocation's every attempt at listing its instances (the
    // adapter's own retries included), then recovers.
    live.sandbox.add_fault(
        FaultRule::new(
            "GET /linode/v4/linode/instances",
            Fault::Status { code: 503 },
        )
        .times(stackdock_providers_attempts()),
    );
    let machine = machine(live.deps.clone(), Faults::default());
    let output = machine
        .execute("e2e-retry", json!({"schedule": SCHEDULE}))
        .await
        .expect("execution");
    assert_eq!(output["docks_failed"], 0, "{output}");
    assert_eq!(
        attempts(&machine, "linode-main"),
        vec![Some("Retryable".to_owned()), None]
    );
    let waits: Vec<f64> = machine
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Retrying {
                state,
                wait_seconds,
            } if state == "SyncDock" => Some(*wait_seconds),
            _ => None,
        })
        .collect();
    assert_eq!(waits, vec![10.0], "the definition's first backoff");
    let run = live
        .store
        .get_run(ORG, "sync-e2e-retry")
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    let linode = live
        .store
        .inventory(ORG, Some("acme/linode-main"))
        .await
        .expect("inventory");
    assert!(!linode.is_empty());
}

/// Attempts one provider call makes (the adapters' default retry policy): the fault above must
/// outlast one invocation's retries and no more.
fn stackdock_providers_attempts() -> u32 {
    stackdock_providers::http::RetryPolicy::default().max_attempts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_dock_that_dies_after_its_work_is_run_again_and_writes_nothing_twice() {
    let live = Live::new().await;
    let machine = machine(
        live.deps.clone(),
        Faults {
            lose_first_answer_of: Some("vultr-main"),
            ..Faults::default()
        },
    );
    let output = machine
        .execute("e2e-died", json!({"schedule": SCHEDULE}))
        .await
        .expect("execution");
    assert_eq!(output["docks_failed"], 0, "{output}");
    assert_eq!(
        attempts(&machine, "vultr-main"),
        vec![Some("Lambda.Unknown".to_owned()), None]
    );
    // The re-run found everything written by the first: it wrote nothing.
    let run = live
        .store
        .get_run(ORG, "sync-e2e-died")
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded);
    let line = run
        .log
        .iter()
        .find(|l| l.message.starts_with("dock `vultr-main`"))
        .expect("vultr-main's line");
    assert!(line.message.contains(", wrote 0,"), "{}", line.message);
    let vultr_servers = live
        .sandbox
        .resources(Provider::Vultr, SbKind::Instance)
        .expect("sandbox")
        .len();
    let stored = live
        .store
        .inventory(ORG, Some("acme/vultr-main"))
        .await
        .expect("inventory")
        .into_iter()
        .filter(|r| r.kind() == stackdock_core::Kind::Servers)
        .count();
    assert_eq!(stored, vultr_servers, "no duplicate");
    held(
        "sync state machine: a sync-dock invocation that dies after its work is re-run and writes nothing twice (issue 20 item 1)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_runs_at_most_max_concurrency_docks_and_plans_as_the_one_process_sync_does() {
    let live = Live::new().await;
    let one_at_a_time = machine(
        live.deps.clone(),
        Faults {
            max_concurrency: Some(1),
            ..Faults::default()
        },
    );
    let output = one_at_a_time
        .execute("e2e-serial", json!({}))
        .await
        .expect("execution");
    assert_eq!(one_at_a_time.peak_concurrency(), 1);
    assert!(one_at_a_time.events().contains(&Event::Mapped {
        state: "SyncDocks".into(),
        items: 5,
        max_concurrency: 1
    }));
    let run = live
        .store
        .get_run(ORG, "sync-e2e-serial")
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.actor, "execution:e2e-serial");

    // The default concurrency covers the four docks at once.
    let parallel = machine(live.deps.clone(), Faults::default());
    let again = parallel
        .execute("e2e-parallel", json!({}))
        .await
        .expect("execution");
    assert!(parallel.events().contains(&Event::Mapped {
        state: "SyncDocks".into(),
        items: 5,
        max_concurrency: fanout::DEFAULT_CONCURRENCY
    }));
    assert!(parallel.peak_concurrency() <= fanout::DEFAULT_CONCURRENCY);
    assert_eq!(again["records_written"], 0, "nothing changed: {again}");

    // The same fleet synced in one process plans the same.
    let one_process = live.scheduled_sync().await.expect("sync");
    assert_eq!(
        one_process.plan_digest,
        output["plan_digest"].as_str().expect("digest")
    );
    assert_eq!(
        one_process.plan_digest,
        again["plan_digest"].as_str().expect("digest")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_mode_through_the_state_machine_applies_then_converges() {
    let live = Live::with(
        |s| s.replace("drift = \"flag\"", "drift = \"remediate\""),
        Worker::InProcess,
    )
    .await;
    let first = machine(live.deps.clone(), Faults::default())
        .execute("e2e-remediate-1", json!({"schedule": SCHEDULE}))
        .await
        .expect("execution");
    assert!(first["changes"].as_u64().expect("changes") > 0, "{first}");
    let apply = first["remediation_run_id"]
        .as_str()
        .expect("remediation submitted")
        .to_owned();
    assert!(
        apply.starts_with(stackdock_functions::REMEDIATION_PREFIX),
        "{apply}"
    );
    live.in_process.wait().await;
    let run = live
        .store
        .get_run(ORG, &apply)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.actor, format!("schedule:{SCHEDULE}"));

    let converged = machine(live.deps.clone(), Faults::default())
        .execute("e2e-remediate-2", json!({"schedule": SCHEDULE}))
        .await
        .expect("execution");
    assert_eq!(converged["changes"], 0, "{converged}");
    assert_eq!(converged["remediation_run_id"], Value::Null);
}
