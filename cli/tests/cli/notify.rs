//! `[notify]` from the CLI (issue 21 part 3): a local webhook receiver gets one message per new
//! occurrence — drift, its end, a resource that appeared, a failed sync and its recovery — never
//! the same twice across repeated syncs; a webhook that fails or hangs never fails the sync.
//! `sns = true` publishes to the topic `STACKDOCK_NOTIFY_TOPIC_ARN` names (moto's SNS, delivering
//! to the same kind of receiver), and says how to name it when it is unset.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use stackdock_sandbox::{Change, Mutation, Provider};

use crate::support::{Workspace, text};

/// How the receiver answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Fail,
    Hang,
}

#[derive(Clone)]
struct Receiver {
    messages: Arc<Mutex<Vec<String>>>,
    mode: Arc<Mutex<Mode>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver {
            messages: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Ok)),
        };
        async fn hook(State(r): State<Receiver>, body: String) -> StatusCode {
            let mode = *r.mode.lock().expect("mode");
            r.messages.lock().expect("messages").push(body);
            match mode {
                Mode::Ok => StatusCode::OK,
                Mode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
                Mode::Hang => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    StatusCode::OK
                }
            }
        }
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    /// The bodies received since the last call, as received.
    fn take_raw(&self) -> Vec<String> {
        std::mem::take(&mut *self.messages.lock().expect("messages"))
    }

    /// The texts received since the last call.
    fn take(&self) -> Vec<String> {
        let bodies = std::mem::take(&mut *self.messages.lock().expect("messages"));
        bodies
            .iter()
            .map(|b| {
                let v: serde_json::Value = serde_json::from_str(b).expect("JSON body");
                v["text"].as_str().expect("a text").to_owned()
            })
            .collect()
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().expect("mode") = mode;
    }
}

async fn workspace() -> (Workspace, Receiver) {
    let mut ws = Workspace::new().await;
    let (receiver, url) = Receiver::start().await;
    ws.append_config("\n[notify]\nwebhook = { env = \"STACKDOCK_TEST_WEBHOOK\" }\n");
    ws.env.push(("STACKDOCK_TEST_WEBHOOK".to_owned(), url));
    (ws, receiver)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_new_occurrence_is_one_message_and_repeats_are_not_sent() {
    let (mut ws, hook) = workspace().await;
    let test = ws.run(&["notify", "test"]).await;
    assert_eq!(test.status.code(), Some(0), "{}", text(&test.stderr));
    let got = hook.take();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("test: notifications reach this channel"),
        "{got:?}"
    );

    // The first sync is the baseline: what exists is not news.
    let first = ws.run(&["sync"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(hook.take(), Vec::<String>::new());
    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));

    // Out of band: a managed server resized, and a new server appears.
    ws.sandbox
        .mutate(Mutation::new(
            Provider::Digitalocean,
            stackdock_sandbox::Kind::Instance,
            "worker-1",
            Change::SetPlan {
                plan: "s-2vcpu-2gb".into(),
            },
        ))
        .expect("resize");
    ws.sandbox
        .seed_bulk(Provider::Vultr, stackdock_sandbox::Kind::Instance, 1)
        .expect("a new server");
    let sync = ws.run(&["sync"]).await;
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
    let got = hook.take();
    assert_eq!(got.len(), 1, "one message for the sync: {got:?}");
    assert!(got[0].contains("drift: servers.worker-1"), "{}", got[0]);
    assert!(got[0].contains("plan"), "{}", got[0]);
    assert!(got[0].contains("unmanaged: the server"), "{}", got[0]);
    assert!(got[0].contains("on dock `vultr-main`"), "{}", got[0]);
    assert!(!got[0].contains(stackdock_sandbox::SECRET_MARKER));

    // The same state again: nothing new.
    for _ in 0..2 {
        let again = ws.run(&["sync"]).await;
        assert_eq!(again.status.code(), Some(0));
        assert_eq!(hook.take(), Vec::<String>::new());
    }

    // Resized back by hand: the drift is gone, and that is one more message.
    ws.sandbox
        .mutate(Mutation::new(
            Provider::Digitalocean,
            stackdock_sandbox::Kind::Instance,
            "worker-1",
            Change::SetPlan {
                plan: "s-1vcpu-1gb".into(),
            },
        ))
        .expect("resize back");
    ws.run(&["sync"]).await;
    let got = hook.take();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("drift resolved: servers.worker-1"),
        "{}",
        got[0]
    );

    // A dock whose token is rejected: one failure message, then one when it recovers.
    let good = ws
        .env
        .iter()
        .find(|(k, _)| k == "LINODE_TOKEN")
        .map(|(_, v)| v.clone())
        .expect("token");
    set_env(&mut ws, "LINODE_TOKEN", "rejected-token");
    let failed = ws.run(&["sync"]).await;
    assert_eq!(
        failed.status.code(),
        Some(1),
        "a failed dock fails the sync"
    );
    let got = hook.take();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("sync failed: dock `linode-main`"),
        "{}",
        got[0]
    );
    assert!(!got[0].contains("rejected-token"), "no token in a message");
    ws.run(&["sync"]).await;
    assert_eq!(hook.take(), Vec::<String>::new(), "still failing: not new");
    set_env(&mut ws, "LINODE_TOKEN", &good);
    ws.run(&["sync"]).await;
    let got = hook.take();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("sync recovered: dock `linode-main`"),
        "{}",
        got[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_fails_or_hangs_never_fails_the_sync() {
    let (ws, hook) = workspace().await;
    ws.run(&["sync"]).await;
    hook.set(Mode::Fail);
    let test = ws.run(&["notify", "test"]).await;
    assert_eq!(
        test.status.code(),
        Some(1),
        "a failing channel fails the test"
    );
    assert!(
        text(&test.stderr).contains("the webhook answered 500"),
        "{}",
        text(&test.stderr)
    );
    assert!(!text(&test.stderr).contains("/hook"), "the URL is a secret");
    assert_eq!(hook.take().len(), 1, "the test message was tried");

    ws.sandbox
        .seed_bulk(Provider::Linode, stackdock_sandbox::Kind::Instance, 1)
        .expect("a new server");
    let sync = ws.run(&["sync"]).await;
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
    assert_eq!(hook.take().len(), 1, "it was tried");

    hook.set(Mode::Hang);
    ws.sandbox
        .seed_bulk(Provider::Linode, stackdock_sandbox::Kind::Instance, 1)
        .expect("another new server");
    let sync = tokio::time::timeout(Duration::from_secs(90), ws.run(&["sync"]))
        .await
        .expect("the sync ends although the webhook hangs");
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_true_publishes_where_the_topic_variable_points_and_says_how_to_set_it_otherwise() {
    let mut ws = Workspace::new().await;
    ws.append_config("\n[notify]\nsns = true\n");
    let unset = ws.run(&["notify", "test"]).await;
    assert_eq!(unset.status.code(), Some(1), "{}", text(&unset.stderr));
    let stderr = text(&unset.stderr);
    assert!(
        stderr.contains("`sns = true` in `[notify]`, but STACKDOCK_NOTIFY_TOPIC_ARN is not set")
            && stderr.contains("NotifyTopicArn"),
        "{stderr}"
    );

    // The stack's topic on moto, with an HTTP subscriber on 127.0.0.1.
    let moto = stackdock_store::testing::MotoServer::start();
    let sns = aws_sdk_sns::Client::new(&moto.sdk_config());
    let arn = sns
        .create_topic()
        .name("stackdock-notifications")
        .send()
        .await
        .expect("topic")
        .topic_arn
        .expect("arn");
    let (receiver, url) = Receiver::start().await;
    sns.subscribe()
        .topic_arn(&arn)
        .protocol("http")
        .endpoint(&url)
        .send()
        .await
        .expect("subscribe");
    for (key, value) in [
        ("STACKDOCK_NOTIFY_TOPIC_ARN", arn.as_str()),
        ("AWS_ENDPOINT_URL", moto.endpoint().as_str()),
        ("AWS_REGION", stackdock_store::testing::REGION),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        set_env(&mut ws, key, value);
    }
    let sent = ws.run(&["notify", "test"]).await;
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
    assert!(text(&sent.stdout).contains("sns: test message sent"));
    let bodies = receiver.take_raw();
    assert_eq!(bodies.len(), 1, "{bodies:#?}");
    let envelope: serde_json::Value = serde_json::from_str(&bodies[0]).expect("SNS envelope");
    assert_eq!(envelope["TopicArn"], arn.as_str());
    assert_eq!(envelope["Subject"], "StackDock (acme): 1 new occurrence");
    assert!(
        envelope["Message"]
            .as_str()
            .is_some_and(|m| m.contains("test: notifications reach this channel")),
        "{envelope}"
    );
}

fn set_env(ws: &mut Workspace, key: &str, value: &str) {
    ws.env.retain(|(k, _)| k != key);
    ws.env.push((key.to_owned(), value.to_owned()));
}
