//! The test bench: the repository's example fleet pointed at a fresh provider sandbox, a
//! DynamoDB store on its own moto server, and `Deps` wired like a deployed function (the real
//! adapters), with applies run in process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use lambda_runtime::{Context, LambdaEvent};
use serde::de::DeserializeOwned;
use serde_json::Value;
use stackdock_core::ProviderKind;
use stackdock_core::config::Config;
use stackdock_engine::{Adapters, Docks, StaticResolver};
use stackdock_functions::{ApplySubmitter, Deps, InProcessSubmitter, SubmitError, api};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_sandbox::{Provider, Sandbox, SandboxConfig, SandboxHandle};
use stackdock_store::Store;
use stackdock_store::testing::{MotoServer, unique_prefix};
use tower::ServiceExt as _;

pub const ORG: &str = "acme";

pub fn repo() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Lambda event from `fixtures/events/`.
pub fn event<T: DeserializeOwned>(name: &str) -> LambdaEvent<T> {
    let path = repo().join("fixtures/events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let payload = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    LambdaEvent::new(payload, Context::default())
}

fn sb(p: ProviderKind) -> Provider {
    // The sandbox names each provider as `stackdock.toml` does (`ProviderKind::as_str`).
    p.as_str()
        .parse()
        .unwrap_or_else(|e| panic!("the sandbox speaks every provider StackDock has: {e}"))
}

/// Which apply worker the bench's `Deps` submit to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    /// The real apply handler, in a task (as under `cargo lambda watch`).
    InProcess,
    /// Nothing runs: the test delivers the run itself (redelivery tests).
    Manual,
}

/// Records the ids it is given and runs nothing: the test plays Lambda's event queue.
#[derive(Debug, Default)]
pub struct Queue(pub Mutex<Vec<String>>);

#[async_trait]
impl ApplySubmitter for Queue {
    async fn submit(&self, run_id: &str) -> Result<(), SubmitError> {
        self.0.lock().expect("queue").push(run_id.to_owned());
        Ok(())
    }
}

pub struct Live {
    pub sandbox: SandboxHandle,
    // Kept alive for the test's duration (dropping it stops moto).
    pub _moto: MotoServer,
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub deps: Arc<Deps>,
    pub in_process: Arc<InProcessSubmitter>,
    pub queue: Arc<Queue>,
}

impl Live {
    /// The example fleet as is.
    pub async fn new() -> Live {
        Live::with(|s| s, Worker::InProcess).await
    }

    /// The example fleet after `edit` of its source, with the given worker.
    pub async fn with(edit: impl FnOnce(String) -> String, worker: Worker) -> Live {
        Live::build(edit, worker, ProviderKind::ALL.to_vec()).await
    }

    /// Like `with`, resolving credentials only for `providers` (the others' docks fail).
    pub async fn build(
        edit: impl FnOnce(String) -> String,
        worker: Worker,
        providers: Vec<ProviderKind>,
    ) -> Live {
        Live::on(SandboxConfig::default(), edit, worker, providers).await
    }

    /// Like `build`, on a sandbox started from `sandbox` (e.g. other accepted tokens).
    pub async fn on(
        sandbox: SandboxConfig,
        edit: impl FnOnce(String) -> String,
        worker: Worker,
        providers: Vec<ProviderKind>,
    ) -> Live {
        Live::on_exactly(
            sandbox.with_pending_polls(1).with_action_polls(1),
            edit,
            worker,
            providers,
        )
        .await
    }

    /// Like `on`, keeping the sandbox's readiness delays (`pending_polls`, `action_polls`) as
    /// `sandbox` sets them.
    pub async fn on_exactly(
        sandbox: SandboxConfig,
        edit: impl FnOnce(String) -> String,
        worker: Worker,
        providers: Vec<ProviderKind>,
    ) -> Live {
        let sandbox = Sandbox::start(sandbox).await.expect("sandbox");
        sandbox.seed_fixtures();
        let moto = MotoServer::start();
        let store: Arc<dyn Store> = Arc::new(moto.dynamo_store(&unique_prefix("fn")).await);
        let source = edit(std::fs::read_to_string(repo().join("stackdock.toml")).expect("fleet"));
        let mut config = stackdock_core::config::parse("stackdock.toml", &source).expect("config");
        for dock in config.docks.values_mut() {
            dock.endpoint = Some(sandbox.base_url(sb(dock.provider)));
        }
        let tokens = StaticResolver(
            providers
                .into_iter()
                .map(|p| (p, Credential::new(sandbox.token(sb(p)))))
                .collect(),
        );
        let docks = Docks::build(
            &config,
            &tokens,
            &Adapters {
                tuning: Tuning {
                    poll: PollPolicy::fast(),
                },
            },
        )
        .await;
        let in_process = Arc::new(InProcessSubmitter::new());
        let queue = Arc::new(Queue::default());
        let submitter: Arc<dyn ApplySubmitter> = match worker {
            Worker::InProcess => in_process.clone(),
            Worker::Manual => queue.clone(),
        };
        let deps = Deps::new_in(repo(), config.clone(), store.clone(), docks, submitter);
        Live {
            sandbox,
            _moto: moto,
            store,
            config,
            deps,
            in_process,
            queue,
        }
    }

    /// The same bench with other docks (e.g. `Docks::healing`), as a new cold start would build
    /// them.
    pub fn with_docks(mut self, docks: Docks, worker: Worker) -> Live {
        let submitter: Arc<dyn ApplySubmitter> = match worker {
            Worker::InProcess => self.in_process.clone(),
            Worker::Manual => self.queue.clone(),
        };
        self.deps = Deps::new_in(
            repo(),
            self.config.clone(),
            self.store.clone(),
            docks,
            submitter,
        );
        self
    }

    /// The same bench with `[notify]` messages sent through `notifier` (in-process applies).
    pub fn with_notifier(mut self, notifier: stackdock_functions::notify::Notifier) -> Live {
        // A new worker: one is bound to the first `Deps` it serves, which this one replaces.
        self.in_process = Arc::new(InProcessSubmitter::new());
        let submitter: Arc<dyn ApplySubmitter> = self.in_process.clone();
        self.deps = Deps::notifying(
            repo(),
            self.config.clone(),
            self.store.clone(),
            self.deps.docks.clone(),
            submitter,
            notifier,
        );
        self
    }

    /// The same bench deployed with another config (in-process applies).
    pub fn with_config(mut self, config: Config, docks: Docks) -> Live {
        self.config = config;
        self.with_docks(docks, Worker::InProcess)
    }

    /// Provider requests that change something (creates, updates, deletes).
    pub fn mutations(&self) -> u64 {
        self.sandbox
            .counters()
            .per_route
            .iter()
            .filter(|(route, _)| {
                ["POST ", "PUT ", "PATCH ", "DELETE "]
                    .iter()
                    .any(|m| route.starts_with(m))
            })
            .map(|(_, n)| *n)
            .sum()
    }

    /// Runs the scheduled sync handler on the fixture event.
    pub async fn scheduled_sync(
        &self,
    ) -> Result<stackdock_functions::sync::SyncOutcome, stackdock_functions::FunctionError> {
        stackdock_functions::sync::handler(event("example-eventbridge-schedule.json"), &self.deps)
            .await
    }

    /// One request through the API router of a local run (every route, unsigned served).
    pub async fn call(&self, request: Request<Body>) -> Reply {
        self.call_with(api::ApiOptions::local(), request).await
    }

    /// One request through the API router configured as `options` (a deployed function's).
    pub async fn call_with(&self, options: api::ApiOptions, request: Request<Body>) -> Reply {
        let response = api::router_with(self.deps.clone(), options)
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            content_type,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(request(Method::GET, uri, Body::empty())).await
    }

    pub async fn post(&self, uri: &str, body: impl Into<Body>) -> Reply {
        self.call(request(Method::POST, uri, body.into())).await
    }
}

pub fn request(method: Method, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .expect("request")
}

/// A request as the Function URL delivers it (IAM request context from the fixture), with the
/// method, path and body replaced.
pub fn function_url_request(method: Method, uri: &str, body: &str) -> Request<Body> {
    let path = repo().join("fixtures/events/example-function-url-request-iam.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    let lambda = lambda_http::request::from_str(&text).expect("a Function URL event");
    let (mut parts, _) = lambda.into_parts();
    parts.method = method;
    parts.uri = uri.parse().expect("uri");
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Request::from_parts(parts, Body::from(body.to_owned()))
}

/// A Function URL request signed by `caller` (the IAM request context's `userArn`).
pub fn signed(method: Method, uri: &str, body: &str, caller: &str) -> Request<Body> {
    let mut request = function_url_request(method, uri, body);
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) =
        request.extensions_mut().get_mut()
        && let Some(iam) = ctx.authorizer.as_mut().and_then(|a| a.iam.as_mut())
    {
        iam.user_arn = Some(caller.to_owned());
        return request;
    }
    panic!("the fixture carries an IAM request context");
}

/// The options of a deployed function: `STACKDOCK_API_ROUTES` and `STACKDOCK_APPLY_CALLERS`.
pub fn deployed(routes: &str, apply_callers: &str) -> api::ApiOptions {
    api::ApiOptions::from_lookup(|name| match name {
        api::ROUTES_VAR => Some(routes.to_owned()),
        api::APPLY_CALLERS_VAR => Some(apply_callers.to_owned()),
        _ => None,
    })
    .expect("valid options")
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts an error reply: the status, the code, and the body's shape.
    pub fn error(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.content_type.starts_with("application/json"),
            "{self:?}"
        );
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body
    }
}

/// Prints the line `scripts/reliability.sh` turns into a row of RELIABILITY.md's Security
/// section. A test calls it last, once every assertion of the boundary has passed.
pub fn held(boundary: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unnamed test");
    eprintln!("RELIABILITY security {boundary} -> held (functions::{test})");
}

impl Live {
    /// Someone retags the Vultr server `label` in the provider's console: an out-of-band change
    /// the next sync flags as drift.
    pub fn retag_by_hand(&self, label: &str, tags: &[&str]) {
        self.sandbox
            .mutate(stackdock_sandbox::Mutation::new(
                stackdock_sandbox::Provider::Vultr,
                stackdock_sandbox::Kind::Instance,
                label,
                stackdock_sandbox::Change::SetTags {
                    tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                },
            ))
            .expect("out-of-band change");
    }
}
