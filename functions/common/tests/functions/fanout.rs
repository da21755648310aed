//! The sync state machine's steps, each handler called directly with its event from
//! `fixtures/events/` (sync-list-docks.json, sync-dock.json, sync-plan.json), against the sandbox
//! and DynamoDB on moto. The definition that strings them together is run by `statemachine`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use stackdock_core::ProviderKind;
use stackdock_core::config::DockConfig;
use stackdock_engine::{Adapters, CredentialResolver, EngineError, StaticResolver};
use stackdock_functions::{Deps, FunctionError, InProcessSubmitter, fanout};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_sandbox::{Fault, FaultRule, Provider};
use stackdock_store::{RunKind, RunRecord, RunStatus};

use crate::support::{Live, ORG, Worker, event, held, repo};

const RUN: &str = "sync-4f1c9a52-8d0e-4b7a-9f3e-2c6d1b0a7e91";

/// Calls the `sync` binary's handler with `payload`, as Lambda would.
pub async fn step(live: &Live, payload: Value) -> Result<Value, FunctionError> {
    fanout::handler(LambdaEvent::new(payload, Context::default()), &live.deps).await
}

/// A fixture event's payload.
fn fixture(name: &str) -> Value {
    event::<Value>(name).payload
}

fn sync_dock(dock: &str) -> Value {
    let mut payload = fixture("sync-dock.json");
    payload["dock"] = json!(dock);
    payload
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_docks_records_one_run_per_execution_even_when_retried_and_reaps_stale_runs() {
    let live = Live::new().await;
    // An apply whose worker died an hour ago, still `running`.
    let mut stuck = RunRecord::new(
        "apply-stuck",
        ORG,
        RunKind::Apply,
        "alice",
        Timestamp::now() - jiff::SignedDuration::from_hours(1),
    );
    stuck.status = RunStatus::Running;
    live.store.put_run(&stuck).await.expect("put");

    let listed = step(&live, fixture("sync-list-docks.json"))
        .await
        .expect("list-docks");
    assert_eq!(
        listed,
        json!({
            "run_id": RUN,
            "actor": "schedule:arn:aws:scheduler:us-east-1:123456789012:schedule/default/stackdock-sync",
            "max_concurrency": fanout::DEFAULT_CONCURRENCY,
            "docks": ["cloudflare-main", "do-main", "linode-main", "vercel-main", "vultr-main"],
        })
    );
    // Step Functions retries the step (its answer was lost): the same run, not a second one.
    let again = step(&live, fixture("sync-list-docks.json"))
        .await
        .expect("retried");
    assert_eq!(again, listed);
    let runs = live.store.list_runs(ORG, 10).await.expect("runs");
    let syncs: Vec<_> = runs.iter().filter(|r| r.kind == RunKind::Sync).collect();
    assert_eq!(syncs.len(), 1, "{syncs:#?}");
    assert_eq!(syncs[0].run_id, RUN);
    assert_eq!(syncs[0].status, RunStatus::Running);
    let reaped = live
        .store
        .get_run(ORG, "apply-stuck")
        .await
        .expect("get")
        .expect("run");
    assert_eq!(reaped.status, RunStatus::Failed, "{reaped:#?}");

    // A console start without a schedule is the execution's.
    let mut console = fixture("sync-list-docks.json");
    console["execution"] = json!("by-hand");
    console["input"] = json!({});
    let listed = step(&live, console).await.expect("list-docks");
    assert_eq!(listed["actor"], "execution:by-hand");
    assert_eq!(listed["run_id"], "sync-by-hand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_dock_syncs_its_own_dock_only() {
    let live = Live::new().await;
    let synced = step(&live, fixture("sync-dock.json"))
        .await
        .expect("sync-dock");
    assert_eq!(synced["dock"], "vultr-main");
    let listed = synced["listed"].as_u64().expect("listed");
    assert!(listed > 0, "{synced}");
    assert_eq!(
        synced["written"], synced["listed"],
        "a first sync writes all"
    );

    let vultr = live
        .store
        .inventory(ORG, Some("acme/vultr-main"))
        .await
        .expect("inventory");
    assert_eq!(vultr.len() as u64, listed);
    let all = live.store.inventory(ORG, None).await.expect("inventory");
    assert_eq!(all.len(), vultr.len(), "no other dock was synced");
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    assert_eq!(statuses.len(), 1, "{statuses:#?}");
    assert!(statuses[0].last_sync_at.is_some() && statuses[0].last_error.is_none());
    assert!(
        live.store.list_runs(ORG, 5).await.expect("runs").is_empty(),
        "sync-dock writes no run: the plan step does"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_dock_failures_carry_their_retry_class() {
    // do-main has no credential: a person must fix it, retrying cannot.
    let live = Live::build(
        |s| s,
        Worker::InProcess,
        vec![ProviderKind::Vultr, ProviderKind::Linode],
    )
    .await;
    let err = step(&live, sync_dock("do-main"))
        .await
        .expect_err("no credential");
    assert_eq!(err.error_type(), "NonRetryable", "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("run {RUN}: dock `do-main` failed to sync:")),
        "{err}"
    );
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    assert!(
        statuses
            .iter()
            .any(|s| s.name == "do-main" && s.last_error.is_some()),
        "the failure is on the dock's status: {statuses:#?}"
    );

    // The provider fails for now: the state machine retries.
    live.sandbox.add_fault(FaultRule::new(
        "GET /linode/v4/linode/instances",
        Fault::Status { code: 503 },
    ));
    let err = step(&live, sync_dock("linode-main"))
        .await
        .expect_err("503");
    assert_eq!(err.error_type(), "Retryable", "{err}");

    // A dock the deployed config does not have.
    let err = step(&live, sync_dock("nope")).await.expect_err("unknown");
    assert_eq!(err.error_type(), "NonRetryable", "{err}");
    assert!(
        err.to_string()
            .contains("dock `nope` is not in stackdock.toml"),
        "{err}"
    );

    // An event the function does not know.
    let err = step(&live, json!({"step": "apply-batch"}))
        .await
        .expect_err("unknown step");
    assert_eq!(err.error_type(), "NonRetryable", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_records_every_outcome_and_blocks_a_dock_whose_invocation_died() {
    let live = Live::new().await;
    step(&live, fixture("sync-list-docks.json"))
        .await
        .expect("list-docks");
    step(&live, sync_dock("vultr-main")).await.expect("vultr");
    step(&live, sync_dock("do-main")).await.expect("do");
    step(&live, sync_dock("cloudflare-main"))
        .await
        .expect("cloudflare");
    step(&live, sync_dock("vercel-main")).await.expect("vercel");
    // linode-main's invocation timed out before writing anything (the fixture's Catch result).
    let outcome = step(&live, fixture("sync-plan.json")).await.expect("plan");
    assert_eq!(outcome["run_id"], RUN);
    assert_eq!(outcome["docks"], 5);
    assert_eq!(outcome["docks_failed"], 1);
    assert!(
        outcome["plan_digest"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );

    let linode = live
        .store
        .dock_statuses(ORG)
        .await
        .expect("statuses")
        .into_iter()
        .find(|s| s.name == "linode-main")
        .expect("linode-main's status is written by the plan step");
    let error = linode.last_error.expect("blocked");
    assert!(
        error.starts_with("the sync-dock invocation failed with Lambda.Unknown: ")
            && error.contains("Task timed out after 300.00 seconds"),
        "{error}"
    );

    let run = live
        .store
        .get_run(ORG, RUN)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Partial, "{run:#?}");
    assert_eq!(run.error.as_deref(), Some("1 of 5 docks failed to sync"));
    assert!(run.finished_at.is_some());
    assert_eq!(run.plan_digest.as_deref(), outcome["plan_digest"].as_str());
    let log: Vec<&str> = run.log.iter().map(|l| l.message.as_str()).collect();
    assert!(
        log.iter().any(|l| l.starts_with(
            "dock `linode-main` failed: the sync-dock invocation failed with Lambda.Unknown"
        )),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("dock `vultr-main`: listed")),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l.contains("Blocked docks: 1.")),
        "{log:#?}"
    );

    // Step Functions retries the step: the run is settled once, its dock lines not repeated.
    // (Also when the stale-run sweep had marked it failed: see the test below.)
    step(&live, fixture("sync-plan.json"))
        .await
        .expect("plan again");
    let run = live
        .store
        .get_run(ORG, RUN)
        .await
        .expect("get")
        .expect("run");
    let lines = run
        .log
        .iter()
        .filter(|l| l.message.starts_with("dock `vultr-main`"))
        .count();
    assert_eq!(lines, 1, "{:#?}", run.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_function_still_syncs_everything_on_the_schedule_event() {
    let live = Live::new().await;
    let outcome = step(&live, fixture("example-eventbridge-schedule.json"))
        .await
        .expect("all-in-one sync");
    assert_eq!(outcome["docks"], 5);
    assert_eq!(outcome["docks_failed"], 0);
    let err = step(&live, json!({"hello": "world"}))
        .await
        .expect_err("not an event it knows");
    assert!(
        err.to_string()
            .contains("neither a sync state-machine step"),
        "{err}"
    );
}

/// Resolves from the sandbox's tokens and remembers which providers were asked.
#[derive(Debug)]
struct Counting {
    tokens: StaticResolver,
    asked: Mutex<Vec<ProviderKind>>,
}

#[async_trait]
impl CredentialResolver for Counting {
    async fn resolve(&self, dock: &DockConfig) -> Result<Credential, EngineError> {
        self.asked.lock().expect("asked").push(dock.provider);
        self.tokens.resolve(dock).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_dock_function_resolves_only_the_credential_of_the_dock_it_syncs() {
    let live = Live::new().await;
    let resolver = Arc::new(Counting {
        tokens: StaticResolver(
            ProviderKind::ALL
                .iter()
                .map(|p| {
                    let sb: Provider = p.as_str().parse().expect("provider");
                    (*p, Credential::new(live.sandbox.token(sb)))
                })
                .collect(),
        ),
        asked: Mutex::default(),
    });
    // As `Deps::from_env` builds it with STACKDOCK_SYNC_DOCK=1: nothing resolved at the start.
    let deps = Deps::on_demand(
        repo(),
        live.config.clone(),
        live.store.clone(),
        resolver.clone(),
        Arc::new(Adapters {
            tuning: Tuning {
                poll: PollPolicy::fast(),
            },
        }),
        Arc::new(InProcessSubmitter::new()),
    );
    let asked = || resolver.asked.lock().expect("asked").clone();
    assert_eq!(asked(), vec![], "no credential at the cold start");
    let call =
        |dock: &str| fanout::handler(LambdaEvent::new(sync_dock(dock), Context::default()), &deps);
    let synced = call("vultr-main").await.expect("vultr-main");
    assert!(synced["listed"].as_u64().expect("listed") > 0, "{synced}");
    assert_eq!(asked(), vec![ProviderKind::Vultr]);
    // The warm container syncing the same dock again reuses its adapter.
    call("vultr-main").await.expect("again");
    assert_eq!(asked(), vec![ProviderKind::Vultr]);
    call("linode-main").await.expect("linode-main");
    assert_eq!(asked(), vec![ProviderKind::Vultr, ProviderKind::Linode]);
    held(
        "the sync-dock function resolves only the credential of the dock it syncs (issue 20 item 1)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_sweep_marked_failed_while_its_docks_synced_is_settled_by_its_plan_step() {
    let live = Live::new().await;
    step(&live, fixture("sync-list-docks.json"))
        .await
        .expect("list-docks");
    for dock in ["vultr-main", "do-main", "linode-main"] {
        step(&live, sync_dock(dock)).await.expect(dock);
    }
    // The execution outlived the run deadline: the next execution's sweep marked its run failed.
    let mut run = live
        .store
        .get_run(ORG, RUN)
        .await
        .expect("get")
        .expect("run");
    let later = run.started_at + jiff::SignedDuration::from_hours(1);
    assert_eq!(
        stackdock_functions::sync::fail_stale_runs(&live.deps, later)
            .await
            .expect("sweep"),
        1
    );
    run = live
        .store
        .get_run(ORG, RUN)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Failed);

    let mut plan = fixture("sync-plan.json");
    plan["docks"] = json!(["do-main", "linode-main", "vultr-main"]
        .iter()
        .map(|d| json!({"dock": d, "listed": 1, "written": 0, "unchanged": 1, "marked_missing": 0}))
        .collect::<Vec<_>>());
    let outcome = step(&live, plan).await.expect("plan");
    assert_eq!(outcome["docks_failed"], 0);
    let run = live
        .store
        .get_run(ORG, RUN)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.error, None);
    assert!(
        run.log
            .iter()
            .any(|l| l.message.contains("past its deadline")),
        "the sweep's line stays: {:#?}",
        run.log
    );
}
