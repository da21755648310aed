//! Credentials that heal (issue 19, item 7): docks built as the deployed functions build them
//! (`Docks::healing` over Secrets Manager), against moto's Secrets Manager or a 127.0.0.1 fault,
//! and the sandbox accepting one token per provider.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lambda_runtime::Diagnostic;
use stackdock_core::ProviderKind;
use stackdock_engine::{Adapters, CREDENTIAL_TTL, Docks, SecretsManagerResolver};
use stackdock_providers::Tuning;
use stackdock_providers::wait::PollPolicy;
use stackdock_sandbox::{Provider, SandboxConfig};
use stackdock_store::testing::MotoServer;

use crate::support::{Live, Worker, held};

/// Every dock's credential from a secret `stackdock/<dock>` (as deployed).
fn from_secrets(source: String) -> String {
    source
        .replace(
            "{ env = \"VULTR_API_KEY\" }",
            "{ secret = \"stackdock/vultr-main\" }",
        )
        .replace(
            "{ env = \"DIGITALOCEAN_TOKEN\" }",
            "{ secret = \"stackdock/do-main\" }",
        )
        .replace(
            "{ env = \"LINODE_TOKEN\" }",
            "{ secret = \"stackdock/linode-main\" }",
        )
        .replace(
            "{ env = \"CLOUDFLARE_API_TOKEN\" }",
            "{ secret = \"stackdock/cloudflare-main\" }",
        )
        .replace(
            "{ env = \"VERCEL_TOKEN\" }",
            "{ secret = \"stackdock/vercel-main\" }",
        )
}

fn adapters() -> Arc<Adapters> {
    Arc::new(Adapters {
        tuning: Tuning {
            poll: PollPolicy::fast(),
        },
    })
}

const ROTATED: &str = "rotated-do-TOKEN-VALUE-42";
const OLD: &str = "old-do-TOKEN-VALUE-41";

/// The fleet on a sandbox that accepts only `ROTATED` for DigitalOcean, with the other docks'
/// secrets holding the sandbox's tokens and do-main's holding `do_token`.
async fn bench_with_secrets(do_token: &str) -> (Live, MotoServer, aws_sdk_secretsmanager::Client) {
    let live = Live::on(
        SandboxConfig::default().with_token(Provider::Digitalocean, ROTATED),
        from_secrets,
        Worker::InProcess,
        ProviderKind::ALL.to_vec(),
    )
    .await;
    let moto = MotoServer::start();
    let client = aws_sdk_secretsmanager::Client::new(&moto.sdk_config());
    for (id, value) in [
        ("stackdock/vultr-main", live.sandbox.token(Provider::Vultr)),
        (
            "stackdock/linode-main",
            live.sandbox.token(Provider::Linode),
        ),
        ("stackdock/do-main", do_token.to_owned()),
        (
            "stackdock/cloudflare-main",
            live.sandbox.token(Provider::Cloudflare),
        ),
        (
            "stackdock/vercel-main",
            live.sandbox.token(Provider::Vercel),
        ),
    ] {
        client
            .create_secret()
            .name(id)
            .secret_string(value)
            .send()
            .await
            .expect("create the secret in moto");
    }
    (live, moto, client)
}

async fn rotate(client: &aws_sdk_secretsmanager::Client, value: &str) {
    client
        .put_secret_value()
        .secret_id("stackdock/do-main")
        .secret_string(value)
        .send()
        .await
        .expect("rotate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_read_again_once_and_a_rotated_one_heals_the_warm_function() {
    let (live, moto, client) = bench_with_secrets(OLD).await;
    let resolver = Arc::new(SecretsManagerResolver::new(&moto.sdk_config()));
    let docks = Docks::healing(&live.config, resolver, adapters(), CREDENTIAL_TTL).await;
    assert!(docks.failures.is_empty(), "{:?}", docks.failures);
    let live = live.with_docks(docks, Worker::InProcess);

    // The secret holds a token the provider refuses: read again once, unchanged, so the dock
    // fails as a credential problem naming the dock and the secret.
    let err = live
        .scheduled_sync()
        .await
        .expect_err("do-main's token is refused");
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "NonRetryable", "{diagnostic:?}");
    let message = &diagnostic.error_message;
    assert!(message.contains("do-main"), "{message}");
    assert!(message.contains("stackdock/do-main"), "{message}");
    assert!(
        !message.contains("VALUE"),
        "a token in the error: {message}"
    );

    // Rotated in Secrets Manager: the same warm function (same `Deps`) re-reads on the 401 and
    // the retried call succeeds, without waiting for the TTL.
    rotate(&client, ROTATED).await;
    let outcome = live
        .scheduled_sync()
        .await
        .expect("healed after the rotation");
    assert_eq!(outcome.docks_failed, 0);
    held(
        "a token rejected with 401/403 is read again once; a rotated one heals the warm function (item 7)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_read_again_after_the_ttl() {
    let (live, moto, client) = bench_with_secrets(ROTATED).await;
    let resolver = Arc::new(SecretsManagerResolver::new(&moto.sdk_config()));
    // A TTL of zero: every call reads the secret again (the deployed TTL is 15 minutes).
    let docks = Docks::healing(&live.config, resolver, adapters(), Duration::ZERO).await;
    let live = live.with_docks(docks, Worker::InProcess);
    live.scheduled_sync().await.expect("the token is good");

    // Revoked: seen by the next call, with no 401 needed to notice... and then refused.
    rotate(&client, "revoked-TOKEN-VALUE").await;
    let err = live.scheduled_sync().await.expect_err("revoked token");
    assert!(err.to_string().contains("stackdock/do-main"), "{err}");
    held("credentials are read again after their 15-minute TTL (item 7)");
}

/// A Secrets Manager stand-in on 127.0.0.1: answers 500 `InternalServiceError` while `failing`,
/// else the secret's value; counts requests.
#[derive(Debug, Default)]
struct FaultySecrets {
    failing: AtomicBool,
    requests: AtomicUsize,
    values: Mutex<HashMap<String, String>>,
}

async fn serve_faulty(state: Arc<FaultySecrets>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let state = Arc::clone(&state);
        async move { answer(&state, &headers, &body) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn answer(state: &FaultySecrets, headers: &HeaderMap, body: &[u8]) -> Response {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(target, "secretsmanager.GetSecretValue");
    let json = [(
        axum::http::header::CONTENT_TYPE,
        "application/x-amz-json-1.1",
    )];
    if state.failing.load(Ordering::SeqCst) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            json,
            r#"{"__type":"InternalServiceError","message":"try again"}"#,
        )
            .into_response();
    }
    let request: serde_json::Value = serde_json::from_slice(body).expect("JSON request");
    let id = request["SecretId"].as_str().unwrap_or_default().to_owned();
    let value = state.values.lock().expect("values").get(&id).cloned();
    match value {
        Some(value) => (
            StatusCode::OK,
            json,
            serde_json::json!({
                "ARN": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{id}-AbCdEf"),
                "Name": id,
                "SecretString": value,
                "VersionId": "v1",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1_700_000_000.0
            })
            .to_string(),
        )
            .into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            json,
            r#"{"__type":"ResourceNotFoundException","message":"not found"}"#.to_owned(),
        )
            .into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_secrets_manager_failure_is_retried_reported_retryable_and_healed_next_time() {
    let live = Live::on(
        SandboxConfig::default(),
        from_secrets,
        Worker::InProcess,
        ProviderKind::ALL.to_vec(),
    )
    .await;
    let faulty = Arc::new(FaultySecrets::default());
    {
        let mut values = faulty.values.lock().expect("values");
        for (dock, provider) in [
            ("vultr-main", Provider::Vultr),
            ("do-main", Provider::Digitalocean),
            ("linode-main", Provider::Linode),
            ("cloudflare-main", Provider::Cloudflare),
            ("vercel-main", Provider::Vercel),
        ] {
            values.insert(format!("stackdock/{dock}"), live.sandbox.token(provider));
        }
    }
    faulty.failing.store(true, Ordering::SeqCst);
    let endpoint = serve_faulty(Arc::clone(&faulty)).await;
    let sdk = MotoServer::start()
        .sdk_config()
        .to_builder()
        .endpoint_url(endpoint)
        .build();
    let resolver = Arc::new(SecretsManagerResolver::new(&sdk));

    // The cold start: each of the 5 docks' reads is tried 4 times (bounded backoff), then given up for now.
    let docks = Docks::healing(&live.config, resolver, adapters(), CREDENTIAL_TTL).await;
    assert_eq!(faulty.requests.load(Ordering::SeqCst), 5 * 4);
    assert!(docks.failures.is_empty(), "nothing is kept as a failure");
    let live = live.with_docks(docks, Worker::InProcess);

    let err = live
        .scheduled_sync()
        .await
        .expect_err("Secrets Manager is down");
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "Retryable", "{diagnostic:?}");
    assert!(
        diagnostic.error_message.contains("stackdock/do-main"),
        "{diagnostic:?}"
    );

    // Secrets Manager is back: the next invocation of the same warm function reads and syncs.
    faulty.failing.store(false, Ordering::SeqCst);
    let outcome = live.scheduled_sync().await.expect("healed");
    assert_eq!(outcome.docks_failed, 0);
    let reads = faulty.requests.load(Ordering::SeqCst);
    // Served from memory afterwards: another sync reads nothing.
    live.scheduled_sync().await.expect("warm");
    assert_eq!(faulty.requests.load(Ordering::SeqCst), reads);
    held("a transient Secrets Manager failure is retried, reported retryable and healed (item 7)");
}
