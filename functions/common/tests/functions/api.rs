//! Every API route's status codes and bodies, through the router (`oneshot`), on a synced bench.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use stackdock_engine::lease_name;
use stackdock_functions::api::MAX_BODY_BYTES;
use stackdock_sandbox::{Change, Kind as SbKind, Mutation, Provider};
use stackdock_store::RunStatus;

use stackdock_functions::api::Caller;

use crate::support::{
    Live, ORG, Worker, deployed, function_url_request, held, repo, request, signed,
};

async fn synced() -> Live {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    live
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_inventory_and_unknown_routes() {
    let live = synced().await;

    let health = live.get("/v1/health").await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    let body = health.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["org"], ORG);
    assert_eq!(body["store"], "reachable");
    assert_eq!(body["docks"], 5);
    assert_eq!(body["docks_synced"], 5);

    let all = live.get("/v1/inventory").await;
    assert_eq!(all.status, StatusCode::OK);
    let total = all.json()["count"].as_u64().expect("count");
    assert!(total > 0);
    let servers = live
        .get("/v1/inventory?kind=servers&dock=vultr-main")
        .await
        .json();
    let records = servers["records"].as_array().expect("records");
    assert_eq!(servers["count"].as_u64(), Some(records.len() as u64));
    assert!(!records.is_empty() && (records.len() as u64) < total);
    assert!(
        records.iter().all(|r| r["dockId"] == "acme/vultr-main"),
        "{servers}"
    );
    let by_table_name = live.get("/v1/inventory?kind=blockVolumes").await;
    assert_eq!(by_table_name.status, StatusCode::OK);

    live.get("/v1/inventory?kind=routers")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");
    live.get("/v1/inventory?dock=aws-main")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");

    live.get("/v1/runs/apply-nope")
        .await
        .error(StatusCode::NOT_FOUND, "run_not_found");
    live.get("/v2/plan")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    live.get("/")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    live.call(request(Method::DELETE, "/v1/plan", Body::empty()))
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    live.post("/v1/health", "")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    live.get("/v1/apply")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_plan_in_three_formats() {
    let live = synced().await;
    let json = live.get("/v1/plan").await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(json.content_type.starts_with("application/json"));
    let plan = json.json();
    assert_eq!(plan["org"], ORG);
    assert!(
        plan["digest"].as_str().is_some_and(|d| d.len() == 64),
        "{plan}"
    );
    assert!(plan["summary"]["create"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(
        live.get("/v1/plan?format=json").await.json()["digest"],
        plan["digest"]
    );

    let markdown = live.get("/v1/plan?format=markdown").await;
    assert_eq!(markdown.status, StatusCode::OK);
    assert!(markdown.content_type.starts_with("text/markdown"));
    assert!(markdown.text.contains("servers.web-1"), "{}", markdown.text);

    let text = live.get("/v1/plan?format=text").await;
    assert_eq!(text.status, StatusCode::OK);
    assert!(text.content_type.starts_with("text/plain"));
    assert!(!text.text.contains('\u{1b}'), "no colour codes over HTTP");

    live.get("/v1/plan?format=yaml")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposed_config_is_planned_or_refused_with_diagnostics() {
    let live = synced().await;
    let fleet = std::fs::read_to_string(repo().join("stackdock.toml")).expect("fleet");

    // Unchanged proposal: the same actions as the deployed config (the digests differ only
    // because the bench's deployed config points the docks at the sandbox).
    let same = live.post("/v1/plan", fleet.clone()).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    let deployed = live.get("/v1/plan").await.json();
    assert_eq!(same.json()["actions"], deployed["actions"]);
    assert_eq!(
        same.json()["inventory_digest"],
        deployed["inventory_digest"]
    );

    // A proposal adding a server and a dock: the server is planned, the new dock is blocked
    // (never synced), and nothing was applied.
    live.sandbox.reset_counters();
    let grown = format!(
        "{fleet}\n[docks.do-staging]\nprovider = \"digitalocean\"\ncredentials = {{ env = \"DO_STAGING\" }}\n\n[servers.web-3]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\n"
    );
    let proposed = live.post("/v1/plan?format=json", grown).await;
    assert_eq!(proposed.status, StatusCode::OK, "{}", proposed.text);
    let plan = proposed.json();
    let actions = plan["actions"].as_array().expect("actions");
    assert!(
        actions
            .iter()
            .any(|a| a["action"] == "create" && a["address"] == "servers.web-3"),
        "{plan}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a["action"] == "blocked" && a["dock"] == "do-staging"),
        "{plan}"
    );
    assert_ne!(plan["digest"], deployed["digest"]);
    assert_eq!(live.mutations(), 0, "planning a proposal never applies");

    // Invalid: every diagnostic with its place.
    let broken = fleet.replace("plan = \"vc2-1c-1gb\"", "plan = 42");
    let body = live
        .post("/v1/plan", broken.clone())
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_config");
    let diagnostics = body["diagnostics"].as_array().expect("diagnostics");
    assert!(!diagnostics.is_empty());
    let line = broken
        .lines()
        .position(|l| l == "plan = 42")
        .expect("the broken line")
        + 1;
    let first = &diagnostics[0];
    assert_eq!(first["file"], "stackdock.toml");
    assert_eq!(first["line"].as_u64(), Some(line as u64), "{body}");
    assert_eq!(first["column"].as_u64(), Some(8), "{body}");
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|m| m.contains("plan")),
        "{body}"
    );
    assert!(first.get("help").is_some());

    let syntax = live
        .post("/v1/plan", "[stackdock\norg = \"acme\"\n")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_config");
    assert_eq!(
        syntax["diagnostics"][0]["line"].as_u64(),
        Some(1),
        "{syntax}"
    );

    // An inline credential is refused and never echoed back.
    let token = "dop_v1_4f1c2b9a7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a";
    let leaky = fleet.replace(
        "credentials = { env = \"DIGITALOCEAN_TOKEN\" }",
        &format!("token = \"{token}\""),
    );
    let leak = live.post("/v1/plan", leaky).await;
    let body = leak.error(StatusCode::BAD_REQUEST, "invalid_config");
    assert!(!leak.text.contains(token), "{}", leak.text);
    assert!(!leak.text.contains("4f1c2b9a7e6d"), "{}", leak.text);
    assert!(
        body["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["line"].as_u64().is_some())),
        "{body}"
    );

    let not_utf8 = live.post("/v1/plan", vec![0xff_u8, 0xfe, 0x00]).await;
    not_utf8.error(StatusCode::BAD_REQUEST, "invalid_config");

    let huge = live.post("/v1/plan", vec![b'#'; MAX_BODY_BYTES + 1]).await;
    huge.error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let huge_apply = live.post("/v1/apply", vec![b' '; MAX_BODY_BYTES + 1]).await;
    huge_apply.error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_submission_locked_stale_and_accepted() {
    let live = synced().await;
    let reviewed = live.get("/v1/plan").await.json();
    let digest = reviewed["digest"].as_str().expect("digest").to_owned();
    let body = format!("{{\"plan_digest\": \"{digest}\"}}");

    live.post("/v1/apply", "{\"plan_digest\": ")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    live.post("/v1/apply", "{\"digest\": \"abc\"}")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");

    // Another apply holds the lease: 423 naming the holder and the expiry.
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
    let locked = live
        .post("/v1/apply", body.clone())
        .await
        .error(StatusCode::LOCKED, "locked");
    assert_eq!(locked["holder"], "cli:laptop:42");
    assert_eq!(locked["expires_at"], lease.expires_at.to_string());
    live.store.release_lease(&lease).await.expect("release");

    // The inventory changes after the review: 409 with what changed, and no run.
    live.sandbox
        .mutate(Mutation::new(
            Provider::Linode,
            SbKind::Instance,
            live.sandbox
                .resources(Provider::Linode, SbKind::Instance)
                .expect("sandbox")
                .0[0]
                .label
                .clone(),
            Change::SetLabel {
                label: "renamed-by-hand".into(),
            },
        ))
        .expect("change");
    live.scheduled_sync().await.expect("sync");
    let stale = live
        .post("/v1/apply", body.clone())
        .await
        .error(StatusCode::CONFLICT, "stale_plan");
    let reasons = stale["reasons"].as_array().expect("reasons");
    assert!(
        reasons
            .iter()
            .any(|r| r == "the inventory changed since the plan was made"),
        "{stale}"
    );
    let current = stale["current_digest"].as_str().expect("current digest");
    assert_ne!(current, digest);
    let unknown = live
        .post("/v1/apply", "{\"plan_digest\": \"feed\"}")
        .await
        .error(StatusCode::CONFLICT, "stale_plan");
    assert!(
        unknown["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("feed"))
    );

    // The current plan, submitted through the Function URL: 202, run by the worker, with the
    // caller's IAM identity as the run's actor.
    live.sandbox.reset_counters();
    let accepted = live
        .call(function_url_request(
            Method::POST,
            "/v1/apply",
            &format!("{{\"plan_digest\": \"{current}\"}}"),
        ))
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    let run_id = accepted.json()["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    live.in_process.wait().await;
    let run = live.get(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(run.status, StatusCode::OK);
    let run = run.json();
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["kind"], "apply");
    assert_eq!(run["actor"], "arn:aws:iam::1234567890:user/Admin");
    assert_eq!(run["planDigest"], current);
    assert!(live.mutations() > 0);
    let stored = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(stored.status, RunStatus::Succeeded);

    // Unsigned local calls (cargo lambda watch; STACKDOCK_API_ROUTES unset) are recorded as such,
    // never as `unknown`.
    let plan = live.get("/v1/plan").await.json();
    let again = live
        .post(
            "/v1/apply",
            format!(
                "{{\"plan_digest\": \"{}\"}}",
                plan["digest"].as_str().expect("digest")
            ),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text);
    live.in_process.wait().await;
    let id = again.json()["run_id"].as_str().expect("id").to_owned();
    let run = live
        .store
        .get_run(ORG, &id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.actor, Caller::LOCAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_lists_the_flagged_records() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    let empty = live.get("/v1/drift").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json()["count"], 0);

    // Converge, then change a managed field by hand and sync: the record is flagged.
    let digest = live.get("/v1/plan").await.json()["digest"].clone();
    let submitted = live
        .post("/v1/apply", format!("{{\"plan_digest\": {digest}}}"))
        .await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.text);
    live.in_process.wait().await;
    live.scheduled_sync().await.expect("sync");
    live.sandbox
        .mutate(Mutation::new(
            Provider::Digitalocean,
            SbKind::Instance,
            "worker-1",
            Change::SetPlan {
                plan: "s-2vcpu-2gb".into(),
            },
        ))
        .expect("change");
    live.scheduled_sync().await.expect("sync");
    let drift = live.get("/v1/drift").await.json();
    assert_eq!(drift["count"], 1, "{drift}");
    let entry = &drift["drift"][0];
    assert_eq!(entry["address"], "servers.worker-1");
    assert_eq!(entry["dock"], "do-main");
    assert_eq!(entry["kind"], "servers");
    assert_eq!(entry["drift"][0]["field"], "plan", "{drift}");
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ci/stackdock-apply";
const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/stackdock-apply/gh-run-7";
const PR_ROLE: &str = "arn:aws:sts::123456789012:assumed-role/stackdock-plan/gh-pr-12";

/// The current plan's digest as an apply body.
async fn apply_body(live: &Live) -> String {
    let digest = live.get("/v1/plan").await.json()["digest"].clone();
    format!("{{\"plan_digest\": {digest}}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_function_refuses_apply_and_records_nothing() {
    let live = Live::with(|s| s, Worker::Manual).await;
    live.scheduled_sync().await.expect("sync");
    let runs_before = live.store.list_runs(ORG, 100).await.expect("runs").len();
    let body = apply_body(&live).await;

    let plan_fn = deployed("plan", ROLE);
    // Even a caller on the apply list: the plan function does not apply.
    for caller in [PR_ROLE, SESSION] {
        let refused = live
            .call_with(
                plan_fn.clone(),
                signed(Method::POST, "/v1/apply", &body, caller),
            )
            .await
            .error(StatusCode::FORBIDDEN, "apply_not_served");
        assert_eq!(refused["caller"], caller);
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains("ApplyApiFunctionUrl")),
            "{refused}"
        );
    }
    assert!(
        live.queue.0.lock().expect("queue").is_empty(),
        "nothing submitted"
    );
    let runs_after = live.store.list_runs(ORG, 100).await.expect("runs").len();
    assert_eq!(runs_after, runs_before, "nothing recorded");

    // What the plan function does serve, it serves to a signed caller.
    let plan = live
        .call_with(
            plan_fn.clone(),
            signed(Method::GET, "/v1/plan", "", PR_ROLE),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    let proposed = live
        .call_with(
            plan_fn.clone(),
            signed(Method::POST, "/v1/plan", &fleet_on_secrets(), PR_ROLE),
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK, "{}", proposed.text);
    for path in ["/v1/inventory", "/v1/drift", "/v1/health"] {
        let reply = live
            .call_with(plan_fn.clone(), signed(Method::GET, path, "", PR_ROLE))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
    held(
        "the plan function refuses apply, even for a listed caller; nothing recorded or submitted (item 1)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apply_function_applies_only_for_listed_callers() {
    let live = Live::with(|s| s, Worker::Manual).await;
    live.scheduled_sync().await.expect("sync");
    let body = apply_body(&live).await;
    let apply_fn = deployed(
        "apply",
        &format!(" {ROLE} , arn:aws:iam::123456789012:user/alice"),
    );

    let refused = live
        .call_with(
            apply_fn.clone(),
            signed(Method::POST, "/v1/apply", &body, PR_ROLE),
        )
        .await
        .error(StatusCode::FORBIDDEN, "apply_not_allowed");
    assert_eq!(refused["caller"], PR_ROLE);
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(PR_ROLE) && message.contains("ApplyCallers"),
        "{refused}"
    );
    assert!(live.queue.0.lock().expect("queue").is_empty());
    assert!(
        live.store
            .list_runs(ORG, 100)
            .await
            .expect("runs")
            .iter()
            .all(|r| r.actor != PR_ROLE),
        "a refused apply is not recorded"
    );

    // An empty list refuses everyone.
    live.call_with(
        deployed("apply", ""),
        signed(Method::POST, "/v1/apply", &body, SESSION),
    )
    .await
    .error(StatusCode::FORBIDDEN, "apply_not_allowed");

    // The role's session is admitted and recorded as the actor.
    let accepted = live
        .call_with(
            apply_fn.clone(),
            signed(Method::POST, "/v1/apply", &body, SESSION),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    let run_id = accepted.json()["run_id"].as_str().expect("id").to_owned();
    assert_eq!(*live.queue.0.lock().expect("queue"), vec![run_id.clone()]);
    let run = live
        .store
        .get_run(ORG, &run_id)
        .await
        .expect("get")
        .expect("run");
    assert_eq!(run.actor, SESSION);

    // The apply function serves the reviewer's reads, not proposals or the inventory.
    for (method, path, code) in [
        (Method::POST, "/v1/plan", "route_not_served"),
        (Method::GET, "/v1/inventory", "route_not_served"),
        (Method::GET, "/v1/drift", "route_not_served"),
        (Method::GET, "/v1/report", "route_not_served"),
    ] {
        live.call_with(apply_fn.clone(), signed(method, path, "", SESSION))
            .await
            .error(StatusCode::FORBIDDEN, code);
    }
    for path in ["/v1/plan", "/v1/health", &format!("/v1/runs/{run_id}")] {
        let reply = live
            .call_with(apply_fn.clone(), signed(Method::GET, path, "", SESSION))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
    held("the apply function applies only for the IAM callers of STACKDOCK_APPLY_CALLERS (item 1)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployed_function_refuses_requests_without_an_iam_caller() {
    let live = Live::with(|s| s, Worker::Manual).await;
    live.scheduled_sync().await.expect("sync");
    let body = apply_body(&live).await;
    for routes in ["plan", "apply"] {
        let options = deployed(routes, ROLE);
        for (method, path) in [
            (Method::GET, "/v1/plan"),
            (Method::GET, "/v1/health"),
            (Method::POST, "/v1/apply"),
        ] {
            live.call_with(
                options.clone(),
                request(method, path, Body::from(body.clone())),
            )
            .await
            .error(StatusCode::UNAUTHORIZED, "no_caller");
        }
    }
    assert!(live.queue.0.lock().expect("queue").is_empty());
    assert!(
        live.store
            .list_runs(ORG, 100)
            .await
            .expect("runs")
            .iter()
            .all(|r| r.kind != stackdock_store::RunKind::Apply),
        "no apply recorded"
    );
    held(
        "a deployed function refuses a request without a verified IAM caller; the actor is that caller (item 10)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_for_another_org_is_refused() {
    let live = synced().await;
    let fleet = std::fs::read_to_string(repo().join("stackdock.toml")).expect("fleet");
    let other = fleet.replace("org = \"acme\"", "org = \"globex\"");
    assert_ne!(other, fleet);
    let refused = live
        .post("/v1/plan", other)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "wrong_org");
    assert_eq!(refused["org"], ORG);
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("globex") && m.contains("acme")),
        "{refused}"
    );
    held("a proposal for another org is refused (item 10)");
}

/// A listener on 127.0.0.1 standing for the endpoint a hostile proposal names: it counts every
/// connection and keeps every byte it is sent.
struct Witness {
    url: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    heard: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Witness {
    async fn start() -> Witness {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/v2", listener.local_addr().expect("addr"));
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, keep) = (connections.clone(), heard.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let keep = keep.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0_u8; 16 * 1024];
                    if let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await
                    {
                        keep.lock().expect("heard").extend_from_slice(&buf[..n]);
                    }
                    let _ = socket
                        .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
                        .await;
                });
            }
        });
        Witness {
            url,
            connections,
            heard,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Issue 19 item 11: a proposal that points an existing dock at another endpoint or another
/// credential is planned from the stored inventory: the new endpoint hears nothing (no request, no
/// `Authorization` header), and the deployed endpoint hears nothing on the proposal's behalf. The
/// plan shows the dock change first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_moving_a_dock_sends_nothing_to_its_new_endpoint() {
    let live = synced().await;
    let witness = Witness::start().await;
    let fleet = std::fs::read_to_string(repo().join("stackdock.toml")).expect("fleet");
    let vultr =
        "[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { env = \"VULTR_API_KEY\" }\n";
    assert!(
        fleet.contains(vultr),
        "the fleet's vultr dock changed shape"
    );
    let deployed_url = live.sandbox.base_url(Provider::Vultr);
    let proposals = [
        (
            "endpoint",
            format!(
                "[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = {{ env = \"VULTR_API_KEY\" }}\nendpoint = \"{}\"\n",
                witness.url
            ),
        ),
        (
            "credentials",
            format!(
                "[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = {{ env = \"AWS_SECRET_ACCESS_KEY\" }}\nendpoint = \"{deployed_url}\"\n"
            ),
        ),
        (
            "both",
            format!(
                "[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = {{ env = \"AWS_SESSION_TOKEN\" }}\nendpoint = \"{}\"\n",
                witness.url
            ),
        ),
    ];
    for (what, dock) in proposals {
        live.sandbox.reset_counters();
        let proposal = fleet.replace(vultr, &dock);
        let json = live.post("/v1/plan?format=json", proposal.clone()).await;
        assert_eq!(json.status, StatusCode::OK, "{what}: {}", json.text);
        let plan = json.json();
        let change = plan["dock_changes"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["dock"] == "vultr-main"))
            .unwrap_or_else(|| panic!("{what}: no dock change for vultr-main in {plan}"));
        assert_eq!(change["change"], "changed", "{what}");
        let markdown = live.post("/v1/plan?format=markdown", proposal).await;
        assert_eq!(markdown.status, StatusCode::OK, "{what}: {}", markdown.text);
        assert!(
            markdown.text.find("This proposal changes") < markdown.text.find("Plan digest"),
            "{what}: the dock changes come first:\n{}",
            markdown.text
        );
        assert_eq!(
            live.sandbox.counters().provider(Provider::Vultr),
            0,
            "{what}: the deployed Vultr endpoint heard from the proposal"
        );
    }
    // Give a request that was sent (it would be, asynchronously, by a background task) time to land.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let heard = String::from_utf8_lossy(&witness.heard.lock().expect("heard")).to_ascii_lowercase();
    assert_eq!(
        witness.connections(),
        0,
        "the new endpoint was contacted: {heard}"
    );
    assert!(!heard.contains("authorization"), "{heard}");
    held(
        "a proposal moving a dock sends no request and no Authorization header to its new endpoint (item 11)",
    );
}

/// In a deployed plan function a proposal must hold to the Lambda target as the deployed config
/// does: a pull request that would be refused at deploy (an environment credential, an endpoint
/// off the provider's API) is refused at review with the diagnostics, and nothing is planned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployed_plan_function_refuses_a_proposal_the_deployment_would_refuse() {
    let live = synced().await;
    let fleet = std::fs::read_to_string(repo().join("stackdock.toml")).expect("fleet");
    let plan_fn = || deployed("plan", "");
    // The fleet's docks read environment variables: fine locally, refused deployed.
    let refused = live
        .call_with(plan_fn(), signed(Method::POST, "/v1/plan", &fleet, PR_ROLE))
        .await;
    let body = refused.error(StatusCode::BAD_REQUEST, "invalid_config");
    let diagnostics = body["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 5, "one per dock: {body}");
    let line = fleet
        .lines()
        .position(|l| l.contains("VULTR_API_KEY"))
        .expect("vultr credentials")
        + 1;
    assert_eq!(diagnostics[0]["line"].as_u64(), Some(line as u64), "{body}");
    assert!(
        diagnostics[0]["help"]
            .as_str()
            .is_some_and(|h| h.contains("Secrets Manager")),
        "{body}"
    );

    // The same fleet on secrets under the prefix passes the boundary and is planned.
    let planned = live
        .call_with(
            plan_fn(),
            signed(Method::POST, "/v1/plan", &fleet_on_secrets(), PR_ROLE),
        )
        .await;
    assert_eq!(planned.status, StatusCode::OK, "{}", planned.text);
    // Locally (no routes set) the environment credentials are planned as before.
    assert_eq!(live.post("/v1/plan", fleet).await.status, StatusCode::OK);
    held(
        "the deployed plan function refuses a proposal outside the Lambda target, with diagnostics (item 2)",
    );
}

/// The example fleet as a deployment must write it: every dock's credential a secret under the
/// default prefix.
fn fleet_on_secrets() -> String {
    let fleet = std::fs::read_to_string(repo().join("stackdock.toml")).expect("fleet");
    let secrets = fleet
        .replace(
            "{ env = \"VULTR_API_KEY\" }",
            "{ secret = \"stackdock/vultr\" }",
        )
        .replace(
            "{ env = \"DIGITALOCEAN_TOKEN\" }",
            "{ secret = \"stackdock/do\" }",
        )
        .replace(
            "{ env = \"LINODE_TOKEN\" }",
            "{ secret = \"stackdock/linode\" }",
        )
        .replace(
            "{ env = \"CLOUDFLARE_API_TOKEN\" }",
            "{ secret = \"stackdock/cloudflare\" }",
        )
        .replace(
            "{ env = \"VERCEL_TOKEN\" }",
            "{ secret = \"stackdock/vercel\" }",
        );
    assert!(
        !secrets.contains("env ="),
        "a dock kept an environment credential"
    );
    secrets
}

/// `/v1/health` names the docks that cannot be trusted from the stored statuses too: the API
/// functions resolve no credential, so their own dock failures are always empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_the_docks_whose_last_sync_failed_without_adapters() {
    use stackdock_core::ProviderKind;
    let live = Live::build(
        |s| s,
        Worker::InProcess,
        vec![
            ProviderKind::Vultr,
            ProviderKind::DigitalOcean,
            ProviderKind::Cloudflare,
            ProviderKind::Vercel,
        ],
    )
    .await;
    assert!(live.scheduled_sync().await.is_err(), "linode-main fails");
    // The API functions' shape: no adapters, nothing resolved.
    let api = live.with_docks(stackdock_engine::Docks::default(), Worker::Manual);
    let body = api.get("/v1/health").await.json();
    assert_eq!(
        body["docks_unavailable"],
        serde_json::json!(["linode-main"]),
        "{body}"
    );
    assert_eq!(body["docks_synced"], 4, "{body}");
}
