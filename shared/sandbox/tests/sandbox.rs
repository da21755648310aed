//! Integration tests: a real sandbox on 127.0.0.1, exercised over HTTP with reqwest.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use stackdock_sandbox::{
    Change, Fault, FaultRule, Kind, Mutation, Provider, RateLimit, SECRET_MARKER, Sandbox,
    SandboxConfig, SandboxHandle,
};

async fn start() -> SandboxHandle {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn call(
    sb: &SandboxHandle,
    p: Provider,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", sb.base_url(p))
    };
    let mut req = client().request(method, url).bearer_auth(sb.token(p));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, value)
}

/// The id of the resource labelled `label`.
fn id_of(sb: &SandboxHandle, p: Provider, kind: Kind, label: &str) -> String {
    let resources = sb.resources(p, kind).expect("resources");
    resources.find_by_label(label).expect("labelled").id.clone()
}

/// The JSON a plain GET of `url` answers (the control API).
async fn get_value(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    let res = c.get(url).send().await.expect("send");
    res.json().await.expect("json")
}

async fn get(sb: &SandboxHandle, p: Provider, path: &str) -> (u16, Value) {
    let (s, _, v) = call(sb, p, Method::GET, path, None).await;
    (s, v)
}

async fn post(sb: &SandboxHandle, p: Provider, path: &str, body: Value) -> (u16, Value) {
    let (s, _, v) = call(sb, p, Method::POST, path, Some(body)).await;
    (s, v)
}

#[tokio::test]
async fn wrong_or_missing_token_is_401_in_each_providers_format() {
    let sb = start().await;
    let c = client();
    let cases = [
        (
            Provider::Vultr,
            "/instances",
            json!({"error": "Invalid API token.", "status": 401}),
        ),
        (
            Provider::Digitalocean,
            "/droplets",
            json!({"id": "unauthorized", "message": "Unable to authenticate you"}),
        ),
        (
            Provider::Linode,
            "/linode/instances",
            json!({"errors": [{"reason": "Invalid Token"}]}),
        ),
    ];
    for (p, path, want) in cases {
        let url = format!("{}{path}", sb.base_url(p));
        let wrong = c.get(&url).bearer_auth("nope").send().await.expect("send");
        assert_eq!(wrong.status().as_u16(), 401, "{p}");
        assert_eq!(wrong.json::<Value>().await.expect("json"), want, "{p}");
        let missing = c.get(&url).send().await.expect("send");
        assert_eq!(missing.status().as_u16(), 401, "{p}");
    }
    let counters = sb.counters();
    assert_eq!(counters.route("GET /vultr/v2/instances"), 2);
    assert_eq!(counters.provider(Provider::Linode), 2);
    assert_eq!(counters.total, 6);
    sb.shutdown().await;
}

#[tokio::test]
async fn fixtures_seed_realistic_state_with_marked_secrets() {
    let sb = start().await;
    sb.seed_fixtures();
    let (s, v) = get(&sb, Provider::Vultr, "/instances").await;
    assert_eq!(s, 200);
    assert_eq!(v["meta"]["total"], 3);
    assert_eq!(v["meta"]["links"]["next"], "");
    let first = &v["instances"][0];
    assert_eq!(first["label"], "legacy-mail");
    assert!(
        first["default_password"]
            .as_str()
            .expect("pw")
            .starts_with(SECRET_MARKER)
    );
    assert!(first["kvm"].as_str().expect("kvm").contains(SECRET_MARKER));
    let (_, dbs) = get(&sb, Provider::Vultr, "/databases").await;
    let kafka = &dbs["databases"][1];
    assert!(
        kafka["password"]
            .as_str()
            .expect("pw")
            .starts_with(SECRET_MARKER)
    );
    assert!(
        kafka["access_key"]
            .as_str()
            .expect("key")
            .starts_with(SECRET_MARKER)
    );
    let (_, blocks) = get(&sb, Provider::Vultr, "/blocks").await;
    assert_eq!(
        blocks["blocks"][0]["attached_to_instance_label"],
        "legacy-mail"
    );
    let (s, acct) = get(&sb, Provider::Vultr, "/account").await;
    assert_eq!(
        (s, acct["account"]["email"].clone()),
        (200, json!("ops@sandbox.example"))
    );
    let (_, prof) = get(&sb, Provider::Linode, "/profile").await;
    assert_eq!(prof["username"], "sandbox-ops");
    let (_, vols) = get(&sb, Provider::Linode, "/volumes").await;
    assert_eq!(vols["data"][0]["linode_label"], "vpn-gateway");
    assert_eq!(vols["data"][1]["linode_label"], Value::Null);
    let (_, regions) = get(&sb, Provider::Digitalocean, "/regions").await;
    assert!(regions["meta"]["total"].as_u64().expect("total") >= 10);
    let (_, sizes) = get(&sb, Provider::Digitalocean, "/sizes?per_page=3&page=2").await;
    assert_eq!(sizes["sizes"].as_array().expect("sizes").len(), 3);
    let (_, images) = get(&sb, Provider::Digitalocean, "/images").await;
    assert!(images["images"].as_array().expect("images").len() >= 5);
    sb.shutdown().await;
}

#[tokio::test]
async fn vultr_cursor_pagination_and_max_page_size() {
    let sb = start().await;
    sb.seed_bulk(Provider::Vultr, Kind::Instance, 250)
        .expect("bulk");
    let mut ids = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (s, v) = get(
            &sb,
            Provider::Vultr,
            &format!("/instances?per_page=100&cursor={cursor}"),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(v["meta"]["total"], 250);
        for i in v["instances"].as_array().expect("array") {
            ids.insert(i["id"].as_str().expect("id").to_owned());
        }
        pages += 1;
        cursor = v["meta"]["links"]["next"]
            .as_str()
            .expect("next")
            .to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!((ids.len(), pages), (250, 3));
    let (s, v) = get(&sb, Provider::Vultr, "/instances?per_page=501").await;
    assert_eq!(s, 400);
    assert_eq!(v["status"], 400);
    assert!(v["error"].is_string());
    let (_, v) = get(&sb, Provider::Vultr, "/instances?tag=team:t3").await;
    assert_eq!(v["meta"]["total"], 25);
    let (s, v) = get(
        &sb,
        Provider::Vultr,
        "/instances/00000000-0000-4000-8000-000000000000",
    )
    .await;
    assert_eq!(
        (s, v),
        (404, json!({"error": "instance not found", "status": 404}))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn digitalocean_pages_links_and_rate_limit_headers() {
    let sb = start().await;
    sb.seed_bulk(Provider::Digitalocean, Kind::Instance, 45)
        .expect("bulk");
    let mut url = format!(
        "{}/droplets?per_page=20",
        sb.base_url(Provider::Digitalocean)
    );
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (s, headers, v) = call(&sb, Provider::Digitalocean, Method::GET, &url, None).await;
        assert_eq!(s, 200);
        assert!(headers.contains_key("ratelimit-limit"));
        assert!(headers.contains_key("ratelimit-remaining"));
        assert!(headers.contains_key("ratelimit-reset"));
        assert_eq!(v["meta"]["total"], 45);
        seen += v["droplets"].as_array().expect("droplets").len();
        pages += 1;
        match v["links"]["pages"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&sb.url()),
                    "absolute link back at the sandbox: {next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (45, 3));
    let (s, v) = get(&sb, Provider::Digitalocean, "/droplets?per_page=201").await;
    assert_eq!(s, 400);
    assert_eq!(v["id"], "bad_request");
    let (s, v) = get(&sb, Provider::Digitalocean, "/droplets/1").await;
    assert_eq!(s, 404);
    assert_eq!(v["id"], "not_found");
    assert_eq!(
        v["message"],
        "The resource you were accessing could not be found."
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn linode_pages_and_x_filter() {
    let sb = start().await;
    sb.seed_bulk(Provider::Linode, Kind::Instance, 120)
        .expect("bulk");
    let (s, headers, v) = call(
        &sb,
        Provider::Linode,
        Method::GET,
        "/linode/instances?page_size=50&page=3",
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(headers.contains_key("x-ratelimit-limit"));
    assert_eq!(
        (v["page"].clone(), v["pages"].clone(), v["results"].clone()),
        (json!(3), json!(3), json!(120))
    );
    assert_eq!(v["data"].as_array().expect("data").len(), 20);
    let (s, v) = get(&sb, Provider::Linode, "/linode/instances?page_size=501").await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["field"], "page_size");
    let resp = client()
        .get(format!(
            "{}/linode/instances",
            sb.base_url(Provider::Linode)
        ))
        .bearer_auth(sb.token(Provider::Linode))
        .header("X-Filter", r#"{"label": "bulk-linode-000007"}"#)
        .send()
        .await
        .expect("send");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["results"], 1);
    assert_eq!(v["data"][0]["label"], "bulk-linode-000007");
    let resp = client()
        .get(format!(
            "{}/linode/instances",
            sb.base_url(Provider::Linode)
        ))
        .bearer_auth(sb.token(Provider::Linode))
        .header("X-Filter", r#"{"tags": "team:t4"}"#)
        .send()
        .await
        .expect("send");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["results"], 12);
    let (s, v) = get(&sb, Provider::Linode, "/linode/instances/1").await;
    assert_eq!((s, v), (404, json!({"errors": [{"reason": "Not found"}]})));
    sb.shutdown().await;
}

#[tokio::test]
async fn creates_are_pending_then_running() {
    let sb = start().await;
    // Vultr
    let (s, v) = post(
        &sb,
        Provider::Vultr,
        "/instances",
        json!({"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "sbx-new", "tags": ["t1"]}),
    )
    .await;
    assert_eq!(s, 202);
    let inst = &v["instance"];
    assert_eq!(
        (inst["status"].clone(), inst["power_status"].clone()),
        (json!("pending"), json!("stopped"))
    );
    assert_eq!(inst["server_status"], "installingbooting");
    assert!(
        inst["default_password"]
            .as_str()
            .expect("pw")
            .starts_with(SECRET_MARKER)
    );
    let id = inst["id"].as_str().expect("id").to_owned();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (_, v) = get(&sb, Provider::Vultr, &format!("/instances/{id}")).await;
        statuses.push(v["instance"]["status"].as_str().expect("status").to_owned());
    }
    assert_eq!(statuses, ["pending", "pending", "active"]);
    let (s, v) = post(
        &sb,
        Provider::Vultr,
        "/instances",
        json!({"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 2284, "app_id": 3}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["status"], 400);

    // DigitalOcean
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        "/droplets",
        json!({"name": "sbx-new", "region": "nyc3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "tags": ["t1"]}),
    )
    .await;
    assert_eq!(s, 202);
    assert_eq!(v["droplet"]["status"], "new");
    let action_href = v["links"]["actions"][0]["href"]
        .as_str()
        .expect("href")
        .to_owned();
    assert!(action_href.starts_with(&sb.url()));
    let id = v["droplet"]["id"].as_u64().expect("id");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (_, v) = get(&sb, Provider::Digitalocean, &format!("/droplets/{id}")).await;
        statuses.push(v["droplet"]["status"].as_str().expect("status").to_owned());
    }
    assert_eq!(statuses, ["new", "new", "active"]);
    let mut action_statuses = Vec::new();
    for _ in 0..3 {
        let (_, _, v) = call(&sb, Provider::Digitalocean, Method::GET, &action_href, None).await;
        action_statuses.push(v["action"]["status"].as_str().expect("status").to_owned());
    }
    assert_eq!(action_statuses, ["in-progress", "in-progress", "completed"]);
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        &format!("/droplets/{id}/actions"),
        json!({"type": "resize", "size": "s-2vcpu-4gb"}),
    )
    .await;
    assert_eq!((s, v["id"].clone()), (422, json!("unprocessable_entity")));
    let (s, _) = post(
        &sb,
        Provider::Digitalocean,
        &format!("/droplets/{id}/actions"),
        json!({"type": "power_off"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        &format!("/droplets/{id}/actions"),
        json!({"type": "resize", "size": "s-2vcpu-4gb"}),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(v["action"]["status"], "in-progress");

    // Linode
    let (s, v) = post(
        &sb,
        Provider::Linode,
        "/linode/instances",
        json!({"region": "us-east", "type": "g6-nanode-1", "image": "linode/debian12", "label": "sbx-new", "root_pass": "short"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["field"], "root_pass");
    let secret = "a-very-long-root-password-42";
    let (s, v) = post(
        &sb,
        Provider::Linode,
        "/linode/instances",
        json!({"region": "us-east", "type": "g6-nanode-1", "image": "linode/debian12", "label": "sbx-new", "root_pass": secret}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "provisioning");
    assert!(!v.to_string().contains(secret));
    let id = v["id"].as_u64().expect("id");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (_, v) = get(&sb, Provider::Linode, "/linode/instances").await;
        let found = v["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .expect("listed");
        statuses.push(found["status"].as_str().expect("status").to_owned());
    }
    assert_eq!(statuses, ["provisioning", "provisioning", "running"]);
    let (s, v) = post(
        &sb,
        Provider::Linode,
        "/linode/instances",
        json!({"region": "us-east", "type": "g6-nanode-1", "label": "sbx-new"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["errors"][0]["reason"],
        "Label must be unique among your linodes"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn faults_429_and_create_then_500_and_counters() {
    let sb = start().await;
    sb.add_fault(
        FaultRule::new(
            "GET /vultr/v2/instances",
            Fault::RateLimited {
                retry_after: Some(3),
            },
        )
        .times(1),
    );
    let (s, headers, v) = call(&sb, Provider::Vultr, Method::GET, "/instances", None).await;
    assert_eq!(s, 429);
    assert_eq!(
        headers.get("retry-after").and_then(|h| h.to_str().ok()),
        Some("3")
    );
    assert_eq!(v["status"], 429);
    let (s, _) = get(&sb, Provider::Vultr, "/instances").await;
    assert_eq!(s, 200, "the rule was limited to one request");

    sb.add_fault(
        FaultRule::new(
            "GET /digitalocean/v2/droplets",
            Fault::RateLimited { retry_after: None },
        )
        .times(1),
    );
    let (s, headers, _) = call(&sb, Provider::Digitalocean, Method::GET, "/droplets", None).await;
    assert_eq!(s, 429);
    assert!(headers.get("retry-after").is_none());

    sb.add_fault(FaultRule::new("POST /vultr/v2/instances", Fault::CreateThen500).times(1));
    let (s, v) = post(
        &sb,
        Provider::Vultr,
        "/instances",
        json!({"region": "ams", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "ghost"}),
    )
    .await;
    assert_eq!(s, 500);
    assert_eq!(v["status"], 500);
    let (_, v) = get(&sb, Provider::Vultr, "/instances?label=ghost").await;
    assert_eq!(
        v["meta"]["total"], 1,
        "the resource was created although the answer was 500"
    );

    sb.add_fault(FaultRule::new("* /linode/v4/*", Fault::Status { code: 503 }).times(1));
    let (s, v) = get(&sb, Provider::Linode, "/volumes").await;
    assert_eq!(s, 503);
    assert!(v["errors"][0]["reason"].is_string());

    sb.add_fault(FaultRule::new("GET /linode/v4/volumes", Fault::OkWithErrorBody).times(1));
    let (s, v) = get(&sb, Provider::Linode, "/volumes").await;
    assert_eq!(s, 200);
    assert!(v.get("errors").is_some());

    sb.add_fault(FaultRule::new("GET /vultr/v2/blocks", Fault::MalformedJson).times(1));
    let (s, v) = get(&sb, Provider::Vultr, "/blocks").await;
    assert_eq!(s, 200);
    assert!(v.is_string(), "body does not parse as JSON");

    sb.add_fault(FaultRule::new("GET /vultr/v2/blocks", Fault::TruncatedBody).times(1));
    let url = format!("{}/blocks", sb.base_url(Provider::Vultr));
    let res = client()
        .get(&url)
        .bearer_auth(sb.token(Provider::Vultr))
        .send()
        .await;
    let broken = match res {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken, "a truncated body must fail to read");

    sb.add_fault(FaultRule::new("GET /vultr/v2/account", Fault::Timeout { ms: 300 }).times(1));
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let res = quick
        .get(format!("{}/account", sb.base_url(Provider::Vultr)))
        .bearer_auth(sb.token(Provider::Vultr))
        .send()
        .await;
    assert!(res.is_err(), "times out");

    sb.add_fault(
        FaultRule::new(
            "GET /vultr/v2/account",
            Fault::SlowBody {
                chunk_bytes: 64,
                delay_ms: 5,
            },
        )
        .times(1),
    );
    let (s, v) = get(&sb, Provider::Vultr, "/account").await;
    assert_eq!(s, 200);
    assert_eq!(v["account"]["name"], "Sandbox Operations");

    let counters = sb.counters();
    assert_eq!(counters.route("GET /vultr/v2/instances"), 3);
    assert_eq!(counters.route("POST /vultr/v2/instances"), 1);
    assert!(counters.provider(Provider::Vultr) >= 8);
    sb.reset_counters();
    assert_eq!(sb.counters().total, 0);
    assert!(sb.faults().is_empty(), "limited rules are used up");
    sb.shutdown().await;
}

#[tokio::test]
async fn pagination_faults_loop_and_empty_page() {
    let sb = start().await;
    sb.seed_bulk(Provider::Vultr, Kind::Instance, 30)
        .expect("bulk");
    sb.add_fault(FaultRule::new("GET /vultr/v2/instances", Fault::PaginationLoop).times(1));
    let (_, first) = get(&sb, Provider::Vultr, "/instances?per_page=10").await;
    let next = first["meta"]["links"]["next"]
        .as_str()
        .expect("next")
        .to_owned();
    let (_, again) = get(
        &sb,
        Provider::Vultr,
        &format!("/instances?per_page=10&cursor={next}"),
    )
    .await;
    assert_eq!(
        first["instances"], again["instances"],
        "the next cursor repeats the page"
    );

    sb.add_fault(FaultRule::new("GET /linode/v4/linode/instances", Fault::EmptyPage).times(1));
    sb.seed_bulk(Provider::Linode, Kind::Instance, 60)
        .expect("bulk");
    let (_, v) = get(
        &sb,
        Provider::Linode,
        "/linode/instances?page_size=25&page=2",
    )
    .await;
    assert_eq!(v["data"].as_array().expect("data").len(), 0);
    assert_eq!(
        (v["page"].clone(), v["pages"].clone()),
        (json!(2), json!(3))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn token_bucket_rate_limit_answers_429_with_retry_after() {
    let sb = start().await;
    sb.set_rate_limit(Provider::Linode, RateLimit::new(3, Duration::from_secs(60)));
    let mut codes = Vec::new();
    let mut retry = None;
    for _ in 0..4 {
        let (s, h, _) = call(&sb, Provider::Linode, Method::GET, "/volumes", None).await;
        codes.push(s);
        if s == 429 {
            retry = h
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            assert_eq!(
                h.get("x-ratelimit-remaining").and_then(|v| v.to_str().ok()),
                Some("0")
            );
        }
    }
    assert_eq!(codes, [200, 200, 200, 429]);
    assert_eq!(retry.as_deref(), Some("20"));
    sb.clear_rate_limit(Provider::Linode);
    assert_eq!(get(&sb, Provider::Linode, "/volumes").await.0, 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn gpu_droplets_are_omitted_from_the_default_listing() {
    let sb = start().await;
    sb.seed_fixtures();
    let (_, v) = get(&sb, Provider::Digitalocean, "/droplets").await;
    let names: Vec<&str> = v["droplets"]
        .as_array()
        .expect("droplets")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["grafana-legacy", "staging-scratch"]);
    assert_eq!(v["meta"]["total"], 2);
    let (_, v) = get(&sb, Provider::Digitalocean, "/droplets?type=gpus").await;
    assert_eq!(v["droplets"][0]["name"], "ml-trainer");
    assert!(v["droplets"][0]["gpu_info"].is_object());
    assert_eq!(v["meta"]["total"], 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn non_empty_bucket_delete_is_refused() {
    let sb = start().await;
    sb.seed_fixtures();
    let (s, v) = call(
        &sb,
        Provider::Linode,
        Method::DELETE,
        "/object-storage/buckets/us-east/old-site-assets",
        None,
    )
    .await
    .into_pair();
    assert_eq!(s, 400);
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("not empty")
    );
    let (s, _) = call(
        &sb,
        Provider::Linode,
        Method::DELETE,
        "/object-storage/buckets/eu-central/empty-scratch",
        None,
    )
    .await
    .into_pair();
    assert_eq!(s, 200);
    let (_, v) = get(&sb, Provider::Linode, "/object-storage/buckets").await;
    assert_eq!(v["results"], 1);
    assert!(v["data"][0].get("id").is_none());
    sb.shutdown().await;
}

trait IntoPair {
    fn into_pair(self) -> (u16, Value);
}

impl IntoPair for (u16, reqwest::header::HeaderMap, Value) {
    fn into_pair(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

#[tokio::test]
async fn bulk_seed_2000_pages_through_every_provider() {
    let sb = start().await;
    for p in Provider::ALL {
        sb.seed_bulk(p, Kind::Instance, 2000).expect("bulk");
    }
    sb.seed_bulk(Provider::Linode, Kind::Bucket, 2000)
        .expect("bulk");
    let mut cursor = String::new();
    let mut n = 0;
    loop {
        let (_, v) = get(
            &sb,
            Provider::Vultr,
            &format!("/instances?per_page=500&cursor={cursor}"),
        )
        .await;
        n += v["instances"].as_array().expect("instances").len();
        cursor = v["meta"]["links"]["next"]
            .as_str()
            .expect("next")
            .to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(n, 2000);
    let (_, v) = get(
        &sb,
        Provider::Digitalocean,
        "/droplets?per_page=200&page=10",
    )
    .await;
    assert_eq!(v["droplets"].as_array().expect("droplets").len(), 200);
    assert!(v["links"]["pages"].get("next").is_none());
    let (_, v) = get(
        &sb,
        Provider::Linode,
        "/linode/instances?page_size=500&page=4",
    )
    .await;
    assert_eq!(
        (
            v["pages"].clone(),
            v["data"].as_array().expect("data").len()
        ),
        (json!(4), 500)
    );
    let (_, v) = get(
        &sb,
        Provider::Linode,
        "/object-storage/buckets?page_size=500",
    )
    .await;
    assert_eq!(v["results"], 2000);
    assert_eq!(
        sb.resources(Provider::Vultr, Kind::Instance)
            .expect("res")
            .len(),
        2000
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn out_of_band_mutations_and_control_api() {
    let sb = start().await;
    sb.seed_fixtures();
    sb.mutate(Mutation::new(
        Provider::Vultr,
        Kind::Instance,
        "ci-runner",
        Change::SetPlan {
            plan: "vc2-4c-8gb".into(),
        },
    ))
    .expect("mutate");
    let (_, v) = get(&sb, Provider::Vultr, "/instances?label=ci-runner").await;
    assert_eq!(v["instances"][0]["plan"], "vc2-4c-8gb");
    assert_eq!(v["instances"][0]["vcpu_count"], 4);

    let c = client();
    let control = format!("{}/_sandbox", sb.url());
    let r = c
        .post(format!("{control}/mutate"))
        .json(&json!({"provider": "digitalocean", "kind": "instance", "target": "grafana-legacy", "op": "add_tag", "tag": "drifted"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let (_, v) = get(&sb, Provider::Digitalocean, "/droplets?tag_name=drifted").await;
    assert_eq!(v["droplets"][0]["name"], "grafana-legacy");

    let r = c
        .post(format!("{control}/mutate"))
        .json(&json!({"provider": "linode", "kind": "instance", "target": "build-cache", "op": "delete"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        sb.resources(Provider::Linode, Kind::Instance)
            .expect("res")
            .find_by_label("build-cache")
            .is_none()
    );

    let r = c
        .post(format!("{control}/faults"))
        .json(&json!({"route": "GET /linode/v4/volumes", "times": 1, "fault": {"kind": "status", "code": 502}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let (s, v) = get(&sb, Provider::Linode, "/volumes").await;
    assert_eq!(s, 502);
    assert!(
        v.as_str().is_some_and(|t| t.contains("502 Bad Gateway")),
        "nginx HTML"
    );

    let counters: Value = get_value(&c, format!("{control}/counters")).await;
    assert_eq!(counters["per_route"]["GET /linode/v4/volumes"], 1);
    let r = c
        .delete(format!("{control}/faults"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let r = c
        .post(format!("{control}/reset"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(sb.counters().total, 0);
    assert!(
        sb.resources(Provider::Linode, Kind::Instance)
            .expect("res")
            .find_by_label("build-cache")
            .is_some()
    );
    let res: Value = get_value(&c, format!("{control}/resources/vultr/instances")).await;
    assert_eq!(res["count"], 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn volumes_attach_detach_and_resize_rules() {
    let sb = start().await;
    sb.seed_fixtures();
    // DigitalOcean: shrink refused with 422
    let (_, v) = post(
        &sb,
        Provider::Digitalocean,
        "/volumes",
        json!({"name": "sbx-vol", "region": "fra1", "size_gigabytes": 50}),
    )
    .await;
    let vid = v["volume"]["id"].as_str().expect("id").to_owned();
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        &format!("/volumes/{vid}/actions"),
        json!({"type": "resize", "size_gigabytes": 20, "region": "fra1"}),
    )
    .await;
    assert_eq!((s, v["id"].clone()), (422, json!("unprocessable_entity")));
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        &format!("/volumes/{vid}/actions"),
        json!({"type": "attach", "droplet_id": 401_000_001, "region": "fra1"}),
    )
    .await;
    assert_eq!(s, 202);
    assert_eq!(v["action"]["type"], "attach_volume");
    let (_, v) = get(&sb, Provider::Digitalocean, "/droplets/401000001").await;
    assert_eq!(v["droplet"]["volume_ids"].as_array().expect("ids").len(), 2);
    // Vultr block attach / grow only
    let ci_cache = id_of(&sb, Provider::Vultr, Kind::Volume, "ci-cache");
    let ci_runner = id_of(&sb, Provider::Vultr, Kind::Instance, "ci-runner");
    let (s, _) = post(
        &sb,
        Provider::Vultr,
        &format!("/blocks/{ci_cache}/attach"),
        json!({"instance_id": ci_runner, "live": true}),
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = get(&sb, Provider::Vultr, &format!("/blocks/{ci_cache}")).await;
    assert_eq!(v["block"]["attached_to_instance"], json!(ci_runner));
    let (s, _, _) = call(
        &sb,
        Provider::Vultr,
        Method::PATCH,
        &format!("/blocks/{ci_cache}"),
        Some(json!({"size_gb": 20})),
    )
    .await;
    assert_eq!(s, 400);
    // Linode volume create attached
    let (s, v) = post(
        &sb,
        Provider::Linode,
        "/volumes",
        json!({"label": "sbx-vol", "linode_id": 52000001, "size": 30}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["region"].clone(), v["status"].clone()),
        (json!("us-east"), json!("creating"))
    );
    sb.shutdown().await;
}

/// Listings serve cached JSON; every change must still show, including a change of the instance
/// a listed volume only refers to (its label in the volume's object).
#[tokio::test]
async fn listings_show_each_change_also_of_an_attached_instance() {
    let sb = start().await;
    sb.seed_fixtures();
    let block = id_of(&sb, Provider::Vultr, Kind::Volume, "ci-cache");
    let instance = id_of(&sb, Provider::Vultr, Kind::Instance, "ci-runner");
    let listed = |v: &Value, key: &str, id: &str| {
        v[key]
            .as_array()
            .expect("list")
            .iter()
            .find(|b| b["id"] == json!(id))
            .cloned()
            .expect("listed")
    };
    // Listed once (rendered and cached), then attached through the API.
    let (_, v) = get(&sb, Provider::Vultr, "/blocks?per_page=500").await;
    assert_eq!(listed(&v, "blocks", &block)["attached_to_instance"], "");
    let (s, _) = post(
        &sb,
        Provider::Vultr,
        &format!("/blocks/{block}/attach"),
        json!({"instance_id": instance, "live": true}),
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = get(&sb, Provider::Vultr, "/blocks?per_page=500").await;
    let b = listed(&v, "blocks", &block);
    assert_eq!(
        (
            b["attached_to_instance"].clone(),
            b["attached_to_instance_label"].clone()
        ),
        (json!(instance), json!("ci-runner"))
    );
    // The instance renamed out of band: its own listing and the block's both show it.
    sb.mutate(Mutation::new(
        Provider::Vultr,
        Kind::Instance,
        "ci-runner",
        Change::SetLabel {
            label: "ci-runner-2".into(),
        },
    ))
    .expect("rename");
    let (_, v) = get(&sb, Provider::Vultr, "/instances?per_page=500").await;
    assert_eq!(listed(&v, "instances", &instance)["label"], "ci-runner-2");
    let (_, v) = get(&sb, Provider::Vultr, "/blocks?per_page=500").await;
    assert_eq!(
        listed(&v, "blocks", &block)["attached_to_instance_label"],
        "ci-runner-2"
    );
    sb.shutdown().await;
}

/// What the providers' specs say and the sandbox once got wrong (issue 16, item 7): each case
/// here failed before the sandbox was corrected.
#[tokio::test]
async fn requests_are_checked_as_the_published_specs_say() {
    let sb = start().await;
    // Vultr `sshkey_id` takes the account's key ids (UUIDs) only.
    let base = json!({"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "keys"});
    let with_keys = |keys: Value| {
        let mut b = base.clone();
        b["sshkey_id"] = keys;
        b
    };
    let (s, v) = post(
        &sb,
        Provider::Vultr,
        "/instances",
        with_keys(json!(["deploy-key"])),
    )
    .await;
    assert_eq!((s, v["error"].clone()), (400, json!("Invalid SSH key ID.")));
    let (s, _) = post(
        &sb,
        Provider::Vultr,
        "/instances",
        with_keys(json!(["3b8066a7-b438-455a-9688-44afc9a3597f"])),
    )
    .await;
    assert_eq!(s, 202);

    // DigitalOcean checks tag names sent inline with a create, not only on `POST /tags`, and
    // refuses volume names that are not lowercase.
    let droplet = json!({"name": "tagged", "region": "nyc3", "size": "s-1vcpu-1gb",
                         "image": "ubuntu-24-04-x64", "tags": ["env=prod"]});
    let (s, v) = post(&sb, Provider::Digitalocean, "/droplets", droplet).await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["message"].as_str().expect("message").contains("env=prod"),
        "{v}"
    );
    let volume = |name: &str, tags: Value| json!({"name": name, "region": "nyc3", "size_gigabytes": 10, "tags": tags});
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        "/volumes",
        volume("Pg_Data", json!([])),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        "/volumes",
        volume("pg-data", json!(["a b"])),
    )
    .await;
    assert_eq!(s, 422, "{v}");

    // Linode `authorized_keys` is public key text.
    let linode = |keys: Value| {
        json!({"region": "us-east", "type": "g6-nanode-1", "label": "keyed",
               "authorized_keys": keys})
    };
    let (s, v) = post(
        &sb,
        Provider::Linode,
        "/linode/instances",
        linode(json!(["512189"])),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["field"].clone()),
        (400, json!("authorized_keys"))
    );
    let key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f ops@acme";
    let (s, v) = post(
        &sb,
        Provider::Linode,
        "/linode/instances",
        linode(json!([key])),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // Linode labels as the spec's patterns have them: a letter first, no doubled separators.
    for label in ["1web", "web..1"] {
        let body = json!({"region": "us-east", "type": "g6-nanode-1", "label": label});
        let (s, v) = post(&sb, Provider::Linode, "/linode/instances", body).await;
        assert_eq!(
            (s, v["errors"][0]["field"].clone()),
            (400, json!("label")),
            "{label}"
        );
    }
    for label in ["d", "pg__data"] {
        let body = json!({"region": "us-east", "size": 10, "label": label});
        let (s, v) = post(&sb, Provider::Linode, "/volumes", body).await;
        assert_eq!(
            (s, v["errors"][0]["field"].clone()),
            (400, json!("label")),
            "{label}"
        );
    }

    // Vultr lists databases whole: no cursor, `meta` is `{total}`.
    let (s, v) = get(&sb, Provider::Vultr, "/databases?per_page=1").await;
    assert_eq!(s, 200);
    assert_eq!(
        v["meta"],
        json!({"total": v["databases"].as_array().map_or(0, Vec::len)})
    );

    // A bucket this account owns, created again: 200 with that bucket, unchanged.
    let bucket = json!({"label": "twice", "region": "us-east"});
    let (s, first) = post(
        &sb,
        Provider::Linode,
        "/object-storage/buckets",
        bucket.clone(),
    )
    .await;
    assert_eq!(s, 200);
    let (s, again) = post(&sb, Provider::Linode, "/object-storage/buckets", bucket).await;
    assert_eq!((s, again), (200, first));
}

/// DigitalOcean tag names are case-insensitive and keep their first capitalisation.
#[tokio::test]
async fn digitalocean_tags_keep_their_first_capitalisation() {
    let sb = start().await;
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        "/tags",
        json!({"name": "PROD"}),
    )
    .await;
    assert_eq!((s, v["tag"]["name"].clone()), (201, json!("PROD")));
    let (s, v) = post(
        &sb,
        Provider::Digitalocean,
        "/tags",
        json!({"name": "prod"}),
    )
    .await;
    assert_eq!((s, v["tag"]["name"].clone()), (201, json!("PROD")));
    let droplet = json!({"name": "cased", "region": "nyc3", "size": "s-1vcpu-1gb",
                         "image": "ubuntu-24-04-x64", "tags": ["prod", "Web"]});
    let (s, v) = post(&sb, Provider::Digitalocean, "/droplets", droplet).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["droplet"]["tags"], json!(["PROD", "Web"]));
    let id = v["droplet"]["id"].as_u64().expect("id");
    // Listing by either spelling finds it; untagging by another spelling removes the tag.
    let (_, v) = get(&sb, Provider::Digitalocean, "/droplets?tag_name=web").await;
    assert_eq!(v["droplets"].as_array().map(Vec::len), Some(1));
    let body = json!({"resources": [{"resource_id": id.to_string(), "resource_type": "droplet"}]});
    let (s, _, _) = call(
        &sb,
        Provider::Digitalocean,
        Method::DELETE,
        "/tags/prod/resources",
        Some(body),
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = get(&sb, Provider::Digitalocean, &format!("/droplets/{id}")).await;
    assert_eq!(v["droplet"]["tags"], json!(["Web"]));
}

/// A Linode resize is reported as `migrating`, and a disk that grew with an upsize (Linode's
/// default `allow_auto_disk_resize`) no longer fits the smaller plan.
#[tokio::test]
async fn linode_resize_migrates_and_an_auto_resized_disk_blocks_the_downsize() {
    let sb = Sandbox::start(SandboxConfig::default().with_pending_polls(1))
        .await
        .expect("sandbox starts");
    let mut ids = Vec::new();
    for label in ["grows-disk", "keeps-disk"] {
        let body = json!({"region": "us-east", "type": "g6-nanode-1", "label": label});
        let (s, v) = post(&sb, Provider::Linode, "/linode/instances", body).await;
        assert_eq!(s, 200, "{v}");
        let id = v["id"].as_u64().expect("id");
        let _ = get(&sb, Provider::Linode, &format!("/linode/instances/{id}")).await;
        ids.push(id);
    }
    let resize = |id: u64, ty: &str, auto: Option<bool>| {
        let mut body = json!({"type": ty});
        if let Some(a) = auto {
            body["allow_auto_disk_resize"] = json!(a);
        }
        (format!("/linode/instances/{id}/resize"), body)
    };
    for (id, auto) in [(ids[0], None), (ids[1], Some(false))] {
        let (path, body) = resize(id, "g6-standard-2", auto);
        let (s, v) = post(&sb, Provider::Linode, &path, body).await;
        assert_eq!(s, 200, "{v}");
        let (_, v) = get(&sb, Provider::Linode, &format!("/linode/instances/{id}")).await;
        assert_eq!(v["status"], "migrating");
        let (_, v) = get(&sb, Provider::Linode, &format!("/linode/instances/{id}")).await;
        assert_eq!(v["status"], "offline");
    }
    let (path, body) = resize(ids[0], "g6-nanode-1", Some(false));
    let (s, v) = post(&sb, Provider::Linode, &path, body).await;
    assert_eq!(
        (s, v["errors"][0]["field"].clone()),
        (400, json!("type")),
        "{v}"
    );
    let (path, body) = resize(ids[1], "g6-nanode-1", Some(false));
    let (s, v) = post(&sb, Provider::Linode, &path, body).await;
    assert_eq!(s, 200, "{v}");
}
