//! `[notify]` from the functions through moto's SNS: a topic created on the bench's moto server,
//! an HTTP subscription to a receiver on 127.0.0.1 (moto delivers each publish to it), and the
//! sync state machine (the committed definition, run by the `asl` driver) and the apply worker
//! as deployed. Asserted: one message per new occurrence, none on an unchanged re-sync, one when
//! a drift or a dock failure ends, apply_failed on a failing apply; an SNS that is unreachable or
//! hangs never fails the sync.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use serde_json::{Value, json};
use stackdock_engine::notify::{SEND_TIMEOUT, Sns};
use stackdock_engine::{DefaultResolver, PlanOptions, plan_current};
use stackdock_functions::apply::{ApplyEvent, ApplyOutcome, handler};
use stackdock_functions::notify::{NOTIFIED_LINE, Notifier};
use stackdock_sandbox::{Fault, FaultRule, Kind as SbKind, Provider};
use stackdock_store::{RunKind, RunRecord, RunStatus};

use crate::statemachine::{Faults, SCHEDULE, machine};
use crate::support::{Live, ORG, Worker, held};

/// The example fleet with `[notify]` publishing every occurrence to the stack's topic.
fn notifying(source: String) -> String {
    format!("{source}\n[notify]\nsns = true\n")
}

/// A topic on the bench's moto server and the messages delivered to its HTTP subscriber.
struct Topic {
    arn: String,
    received: Arc<Mutex<Vec<String>>>,
}

impl Topic {
    async fn create(live: &Live) -> Topic {
        let sns = aws_sdk_sns::Client::new(&live._moto.sdk_config());
        let arn = sns
            .create_topic()
            .name("stackdock-notifications")
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn");
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        // moto POSTs SNS's JSON envelope (`Type`, `Subject`, `Message`, …) as text/plain.
        let app = axum::Router::new().route(
            "/",
            post(move |body: String| {
                let sink = sink.clone();
                async move {
                    let envelope: Value = serde_json::from_str(&body).expect("SNS envelope");
                    if let Some(message) = envelope["Message"].as_str() {
                        sink.lock().expect("sink").push(message.to_owned());
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("http")
            .endpoint(format!("http://{address}/"))
            .send()
            .await
            .expect("subscribe");
        Topic { arn, received }
    }

    /// The bench sending through this topic.
    fn notifier(&self, live: &Live) -> Notifier {
        Notifier::new(
            Some(Sns::new(&live._moto.sdk_config(), &self.arn)),
            DefaultResolver::new(),
        )
    }

    /// The messages delivered since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.received.lock().expect("received"))
    }
}

/// Runs one execution of the sync state machine; it must succeed.
async fn execute(live: &Live, name: &str) -> Value {
    machine(live.deps.clone(), Faults::default())
        .execute(name, json!({ "schedule": SCHEDULE }))
        .await
        .unwrap_or_else(|f| panic!("execution {name} failed: {f:?}"))
}

/// Exactly one message, whose one occurrence line starts with `line`.
fn one(messages: Vec<String>, line: &str) -> String {
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let message = messages.into_iter().next().unwrap_or_default();
    assert!(
        message.starts_with("StackDock (acme): 1 new occurrence\n• "),
        "{message}"
    );
    assert!(message.contains(&format!("\n• {line}")), "{message}");
    message
}

/// The example fleet applied and synced once more: everything managed, nothing pending.
async fn converged(live: &Live, topic: &Topic) {
    let first = execute(live, "baseline").await;
    assert!(first["changes"].as_u64() > Some(0), "{first}");
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "a dock's first sync is its baseline: nothing in it is new"
    );
    let id = stackdock_functions::submit_apply(
        &live.deps,
        first["plan_digest"].as_str().expect("digest"),
        "alice",
    )
    .await
    .expect("submit");
    live.in_process.wait().await;
    let run = live
        .store
        .get_run(ORG, &id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    let after = execute(live, "converged").await;
    assert_eq!(after["changes"], 0, "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_state_machine_sends_each_new_occurrence_once_through_sns() {
    let live = Live::with(notifying, Worker::InProcess).await;
    let topic = Topic::create(&live).await;
    let notifier = topic.notifier(&live);
    let live = live.with_notifier(notifier);
    converged(&live, &topic).await;
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "applying the fleet is no occurrence"
    );

    // Someone retags web-2 by hand: one message, and none while the drift persists.
    live.retag_by_hand("web-2", &["web"]);
    execute(&live, "drifted").await;
    let drift = one(topic.take(), "drift: servers.web-2 (");
    assert!(
        drift.contains("changed outside StackDock: tags."),
        "{drift}"
    );
    assert!(drift.contains("`stackdock apply`"), "{drift}");
    execute(&live, "still-drifted").await;
    execute(&live, "still-drifted-2").await;
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "a persisting drift is one message"
    );

    // Its tags are put back: the resolution is one more message.
    live.retag_by_hand("web-2", &["web", "production"]);
    execute(&live, "drift-gone").await;
    one(
        topic.take(),
        "drift resolved: servers.web-2 on dock `vultr-main`",
    );
    execute(&live, "quiet").await;
    assert_eq!(topic.take(), Vec::<String>::new());

    // A dock's listing fails: one message; failing again is not new; its recovery is.
    live.sandbox.add_fault(FaultRule::new(
        "GET /linode/v4/linode/instances",
        Fault::Status { code: 503 },
    ));
    let failed = execute(&live, "linode-down").await;
    assert_eq!(failed["docks_failed"], 1, "{failed}");
    let message = one(topic.take(), "sync failed: dock `linode-main`: ");
    assert!(
        !message.contains(&live.sandbox.token(Provider::Linode)),
        "{message}"
    );
    execute(&live, "linode-still-down").await;
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "a failing dock is one message"
    );
    live.sandbox.clear_faults();
    execute(&live, "linode-back").await;
    one(topic.take(), "sync recovered: dock `linode-main`");

    // Twelve servers appear on Vultr: ten named (what sync-dock passes on), two counted.
    live.sandbox
        .seed_bulk(Provider::Vultr, SbKind::Instance, 12)
        .expect("seed");
    execute(&live, "appeared").await;
    let messages = topic.take();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let message = &messages[0];
    assert!(
        message.starts_with("StackDock (acme): 11 new occurrences\n"),
        "{message}"
    );
    assert_eq!(
        message.matches("\n• unmanaged: the server `bulk-").count(),
        10,
        "{message}"
    );
    assert!(
        message.contains("`stackdock import --dock vultr-main --kind servers --name 'bulk-"),
        "{message}"
    );
    assert!(
        message.contains("\n• unmanaged: 2 more new resources appeared on dock `vultr-main`."),
        "{message}"
    );
    execute(&live, "appeared-again").await;
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "a resource appears once"
    );

    // Each run notes what it sent; a retried plan step finds the note and sends nothing again.
    let run = live
        .store
        .get_run(ORG, "sync-appeared")
        .await
        .expect("get")
        .expect("run");
    assert!(
        run.log.iter().any(
            |l| l.message == format!("{NOTIFIED_LINE}11 new occurrences (1 channel took them)")
        ),
        "{:#?}",
        run.log
    );
    let retried = crate::fanout::step(
        &live,
        json!({"step": "plan", "run_id": "sync-appeared", "actor": "test", "docks": []}),
    )
    .await
    .expect("plan retried");
    assert_eq!(retried["run_id"], "sync-appeared");
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "a retried plan step sends nothing twice"
    );
    held(
        "notifications: one message per new occurrence through SNS, none on an unchanged re-sync (issue 21)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_invocation_sync_names_ten_appeared_resources_per_dock_and_counts_the_rest() {
    let live = Live::with(notifying, Worker::InProcess).await;
    let topic = Topic::create(&live).await;
    let notifier = topic.notifier(&live);
    let live = live.with_notifier(notifier);
    live.scheduled_sync().await.expect("baseline");
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "the baseline is not new"
    );
    live.sandbox
        .seed_bulk(Provider::Linode, SbKind::Instance, 13)
        .expect("seed");
    live.scheduled_sync().await.expect("sync");
    let messages = topic.take();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let message = &messages[0];
    assert_eq!(
        message.matches("\n• unmanaged: the server `bulk-").count(),
        10,
        "{message}"
    );
    assert!(
        message.contains("\n• unmanaged: 3 more new resources appeared on dock `linode-main`."),
        "{message}"
    );
    live.scheduled_sync().await.expect("again");
    assert_eq!(
        topic.take(),
        Vec::<String>::new(),
        "nothing is new the second time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_apply_publishes_apply_failed_once() {
    let live = Live::with(notifying, Worker::Manual).await;
    let topic = Topic::create(&live).await;
    let notifier = topic.notifier(&live);
    let live = live.with_notifier(notifier);
    live.scheduled_sync().await.expect("sync");
    assert_eq!(topic.take(), Vec::<String>::new());
    let plan = plan_current(
        &live.config,
        &live.deps.docks,
        live.store.as_ref(),
        PlanOptions::default(),
    )
    .await
    .expect("plan");
    // Vultr refuses every create.
    live.sandbox.add_fault(FaultRule::new(
        "POST /vultr/v2/instances",
        Fault::Status { code: 422 },
    ));
    let mut run = RunRecord::new(
        "apply-refused",
        ORG,
        RunKind::Apply,
        "alice",
        jiff::Timestamp::now(),
    );
    run.status = RunStatus::Pending;
    run.plan_digest = Some(plan.digest.clone());
    live.store.put_run(&run).await.expect("put");
    let delivery = |request: &str| {
        let mut context = lambda_runtime::Context::default();
        context.request_id = request.to_owned();
        lambda_runtime::LambdaEvent::new(
            ApplyEvent {
                run_id: "apply-refused".to_owned(),
            },
            context,
        )
    };
    let outcome = handler(delivery("first"), &live.deps)
        .await
        .expect("delivered");
    let ApplyOutcome::Applied { failed_actions, .. } = outcome else {
        panic!("not applied: {outcome:?}");
    };
    assert!(failed_actions > 0);
    let message = one(topic.take(), "apply failed: run `apply-refused`, ");
    assert!(message.contains("servers.web-1: "), "{message}");
    assert!(message.contains("`stackdock apply` retries."), "{message}");
    // A redelivery of the same run applies nothing and says nothing.
    handler(delivery("again"), &live.deps)
        .await
        .expect("redelivered");
    assert_eq!(topic.take(), Vec::<String>::new());
}

/// A sync whose one occurrence is a failing dock, published to a topic behind `endpoint`: the
/// execution succeeds, within the channel's time bound, and its run notes that no channel took
/// the message.
async fn sync_survives(endpoint: String, name: &str) {
    let live = Live::with(notifying, Worker::InProcess).await;
    let sdk = live
        ._moto
        .sdk_config()
        .to_builder()
        .endpoint_url(endpoint)
        .build();
    let sns = Sns::new(
        &sdk,
        "arn:aws:sns:us-east-1:123456789012:stackdock-notifications",
    );
    let live = live.with_notifier(Notifier::new(Some(sns), DefaultResolver::new()));
    live.sandbox.add_fault(FaultRule::new(
        "GET /linode/v4/linode/instances",
        Fault::Status { code: 503 },
    ));
    let started = Instant::now();
    let output = execute(&live, name).await;
    assert_eq!(output["docks_failed"], 1, "{output}");
    assert!(
        started.elapsed() < Duration::from_secs(30) + SEND_TIMEOUT * 2,
        "{:?}",
        started.elapsed()
    );
    let run = live
        .store
        .get_run(ORG, &format!("sync-{name}"))
        .await
        .expect("get")
        .expect("run");
    assert!(run.plan_digest.is_some(), "the plan is noted: {run:#?}");
    assert!(
        run.log
            .iter()
            .any(|l| l.message == format!("{NOTIFIED_LINE}1 new occurrence (0 channels took them)")),
        "{:#?}",
        run.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_hanging_sns_never_fails_the_sync() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    sync_survives(format!("http://127.0.0.1:{port}"), "sns-closed").await;

    // A server that accepts connections and never answers.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = hanging.local_addr().expect("address");
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            open.push(socket);
        }
    });
    let started = Instant::now();
    sync_survives(format!("http://{address}"), "sns-hangs").await;
    assert!(
        started.elapsed() >= SEND_TIMEOUT,
        "the publish waited for its timeout"
    );
    held(
        "notifications: an SNS topic that is unreachable or hangs never fails the sync (issue 21)",
    );
}
