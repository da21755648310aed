//! Integration tests: a real sandbox on 127.0.0.1, exercised over HTTP with reqwest.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
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

/// A sandbox with the fixtures loaded.
async fn start_with_fixtures() -> SandboxHandle {
    let sb = start().await;
    sb.seed_fixtures();
    sb
}

/// A sandbox with `n` generated resources of `kind` on `p`.
async fn start_with_bulk(p: Provider, kind: Kind, n: usize) -> SandboxHandle {
    let sb = start().await;
    sb.seed_bulk(p, kind, n).expect("bulk");
    sb
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// One provider's API on a sandbox, called with the sandbox's token for it.
#[derive(Clone, Copy)]
struct Api<'a> {
    sb: &'a SandboxHandle,
    p: Provider,
}

fn api(sb: &SandboxHandle, p: Provider) -> Api<'_> {
    Api { sb, p }
}

impl Api<'_> {
    /// The URL of `path` under the provider's prefix (an absolute URL stays as it is).
    fn url(self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sb.base_url(self.p))
        }
    }

    /// A request to `path` with the provider's token and `headers`: the status, the headers and
    /// the body (`null` when empty, a string when not JSON).
    async fn send(
        self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, Value) {
        let mut req = client()
            .request(method, self.url(path))
            .bearer_auth(self.sb.token(self.p));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
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

    /// A request without extra headers.
    async fn call(
        self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, HeaderMap, Value) {
        self.send(method, path, body, &[]).await
    }

    async fn get(self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.call(Method::GET, path, None).await;
        (s, v)
    }

    async fn post(self, path: &str, body: Value) -> (u16, Value) {
        let (s, _, v) = self.call(Method::POST, path, Some(body)).await;
        (s, v)
    }

    async fn delete(self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.call(Method::DELETE, path, None).await;
        (s, v)
    }

    /// A GET of `path` with an `X-Filter` header (Linode).
    async fn get_filtered(self, path: &str, filter: &str) -> (u16, Value) {
        let (s, _, v) = self
            .send(Method::GET, path, None, &[("X-Filter", filter)])
            .await;
        (s, v)
    }

    /// The status `pick` reads from each of three GETs of `path` (each a poll).
    async fn three_polls(self, path: &str, pick: impl Fn(&Value) -> Value) -> Vec<String> {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let (_, v) = self.get(path).await;
            statuses.push(pick(&v).as_str().expect("status").to_owned());
        }
        statuses
    }

    /// Every page of Vultr's `/instances` at `per_page`, following the `next` cursors.
    async fn cursor_pages(self, per_page: u32) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut cursor = String::new();
        loop {
            let path = format!("/instances?per_page={per_page}&cursor={cursor}");
            let (s, v) = self.get(&path).await;
            assert_eq!(s, 200);
            cursor = v["meta"]["links"]["next"]
                .as_str()
                .expect("next")
                .to_owned();
            pages.push(v);
            if cursor.is_empty() {
                return pages;
            }
        }
    }
}

/// The APIs of the three providers with servers on a sandbox: Vultr, DigitalOcean, Linode.
fn apis(sb: &SandboxHandle) -> (Api<'_>, Api<'_>, Api<'_>) {
    let [vultr, ocean, linode] =
        [Provider::Vultr, Provider::Digitalocean, Provider::Linode].map(|p| api(sb, p));
    (vultr, ocean, linode)
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

/// The status a plain request to the control API answers.
async fn control_status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.expect("send").status().as_u16()
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
        (
            Provider::Cloudflare,
            "/zones",
            json!({"success": false, "errors": [{"code": 10000, "message": "Authentication error"}], "messages": [], "result": null}),
        ),
    ];
    for (p, path, want) in cases {
        let url = api(&sb, p).url(path);
        let wrong = c.get(&url).bearer_auth("nope").send().await.expect("send");
        assert_eq!(wrong.status().as_u16(), 401, "{p}");
        assert_eq!(wrong.json::<Value>().await.expect("json"), want, "{p}");
        let missing = c.get(&url).send().await.expect("send");
        assert_eq!(missing.status().as_u16(), 401, "{p}");
    }
    let counters = sb.counters();
    assert_eq!(counters.route("GET /vultr/v2/instances"), 2);
    assert_eq!(counters.provider(Provider::Linode), 2);
    assert_eq!(counters.total, 8);
    sb.shutdown().await;
}

/// Whether the string at `v` carries the secret marker at its start.
fn marked_secret(v: &Value) -> bool {
    v.as_str().expect("secret").starts_with(SECRET_MARKER)
}

#[tokio::test]
async fn fixtures_seed_realistic_state_with_marked_secrets() {
    let sb = start_with_fixtures().await;
    let (vultr, ocean, linode) = apis(&sb);
    let (s, v) = vultr.get("/instances").await;
    assert_eq!(s, 200);
    assert_eq!(v["meta"]["total"], 3);
    assert_eq!(v["meta"]["links"]["next"], "");
    let first = &v["instances"][0];
    assert_eq!(first["label"], "legacy-mail");
    assert!(marked_secret(&first["default_password"]));
    assert!(first["kvm"].as_str().expect("kvm").contains(SECRET_MARKER));
    let (_, dbs) = vultr.get("/databases").await;
    let kafka = &dbs["databases"][1];
    assert!(marked_secret(&kafka["password"]));
    assert!(marked_secret(&kafka["access_key"]));
    let (_, blocks) = vultr.get("/blocks").await;
    assert_eq!(
        blocks["blocks"][0]["attached_to_instance_label"],
        "legacy-mail"
    );
    let (s, acct) = vultr.get("/account").await;
    assert_eq!(
        (s, acct["account"]["email"].clone()),
        (200, json!("ops@sandbox.example"))
    );
    let (_, prof) = linode.get("/profile").await;
    assert_eq!(prof["username"], "sandbox-ops");
    let (_, vols) = linode.get("/volumes").await;
    assert_eq!(vols["data"][0]["linode_label"], "vpn-gateway");
    assert_eq!(vols["data"][1]["linode_label"], Value::Null);
    let (_, regions) = ocean.get("/regions").await;
    assert!(regions["meta"]["total"].as_u64().expect("total") >= 10);
    let (_, sizes) = ocean.get("/sizes?per_page=3&page=2").await;
    assert_eq!(sizes["sizes"].as_array().expect("sizes").len(), 3);
    let (_, images) = ocean.get("/images").await;
    assert!(images["images"].as_array().expect("images").len() >= 5);
    sb.shutdown().await;
}

#[tokio::test]
async fn vultr_cursor_pagination_and_max_page_size() {
    let sb = start_with_bulk(Provider::Vultr, Kind::Instance, 250).await;
    let vultr = api(&sb, Provider::Vultr);
    let pages = vultr.cursor_pages(100).await;
    let mut ids = HashSet::new();
    for v in &pages {
        assert_eq!(v["meta"]["total"], 250);
        for i in v["instances"].as_array().expect("array") {
            ids.insert(i["id"].as_str().expect("id").to_owned());
        }
    }
    assert_eq!((ids.len(), pages.len()), (250, 3));
    let (s, v) = vultr.get("/instances?per_page=501").await;
    assert_eq!(s, 400);
    assert_eq!(v["status"], 400);
    assert!(v["error"].is_string());
    let (_, v) = vultr.get("/instances?tag=team:t3").await;
    assert_eq!(v["meta"]["total"], 25);
    let (s, v) = vultr
        .get("/instances/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(
        (s, v),
        (404, json!({"error": "instance not found", "status": 404}))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn digitalocean_pages_links_and_rate_limit_headers() {
    let sb = start_with_bulk(Provider::Digitalocean, Kind::Instance, 45).await;
    let ocean = api(&sb, Provider::Digitalocean);
    let mut url = ocean.url("/droplets?per_page=20");
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (s, headers, v) = ocean.call(Method::GET, &url, None).await;
        assert_eq!(s, 200);
        for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
            assert!(headers.contains_key(name), "{name}");
        }
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
    let (s, v) = ocean.get("/droplets?per_page=201").await;
    assert_eq!(s, 400);
    assert_eq!(v["id"], "bad_request");
    let (s, v) = ocean.get("/droplets/1").await;
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
    let sb = start_with_bulk(Provider::Linode, Kind::Instance, 120).await;
    let linode = api(&sb, Provider::Linode);
    let (s, headers, v) = linode
        .call(Method::GET, "/linode/instances?page_size=50&page=3", None)
        .await;
    assert_eq!(s, 200);
    assert!(headers.contains_key("x-ratelimit-limit"));
    assert_eq!(
        (v["page"].clone(), v["pages"].clone(), v["results"].clone()),
        (json!(3), json!(3), json!(120))
    );
    assert_eq!(v["data"].as_array().expect("data").len(), 20);
    let (s, v) = linode.get("/linode/instances?page_size=501").await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["field"], "page_size");
    let (_, v) = linode
        .get_filtered("/linode/instances", r#"{"label": "bulk-linode-000007"}"#)
        .await;
    assert_eq!(v["results"], 1);
    assert_eq!(v["data"][0]["label"], "bulk-linode-000007");
    let (_, v) = linode
        .get_filtered("/linode/instances", r#"{"tags": "team:t4"}"#)
        .await;
    assert_eq!(v["results"], 12);
    let (s, v) = linode.get("/linode/instances/1").await;
    assert_eq!((s, v), (404, json!({"errors": [{"reason": "Not found"}]})));
    sb.shutdown().await;
}

#[tokio::test]
async fn creates_are_pending_then_running() {
    let sb = start().await;
    // Vultr
    let vultr = api(&sb, Provider::Vultr);
    let body = json!({"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "sbx-new", "tags": ["t1"]});
    let (s, v) = vultr.post("/instances", body).await;
    assert_eq!(s, 202);
    let inst = &v["instance"];
    assert_eq!(
        (inst["status"].clone(), inst["power_status"].clone()),
        (json!("pending"), json!("stopped"))
    );
    assert_eq!(inst["server_status"], "installingbooting");
    assert!(marked_secret(&inst["default_password"]));
    let id = inst["id"].as_str().expect("id").to_owned();
    let statuses = vultr
        .three_polls(&format!("/instances/{id}"), |v| {
            v["instance"]["status"].clone()
        })
        .await;
    assert_eq!(statuses, ["pending", "pending", "active"]);
    let body = json!({"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 2284, "app_id": 3});
    let (s, v) = vultr.post("/instances", body).await;
    assert_eq!(s, 400);
    assert_eq!(v["status"], 400);

    // DigitalOcean
    let ocean = api(&sb, Provider::Digitalocean);
    let body = json!({"name": "sbx-new", "region": "nyc3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "tags": ["t1"]});
    let (s, v) = ocean.post("/droplets", body).await;
    assert_eq!(s, 202);
    assert_eq!(v["droplet"]["status"], "new");
    let action_href = v["links"]["actions"][0]["href"]
        .as_str()
        .expect("href")
        .to_owned();
    assert!(action_href.starts_with(&sb.url()));
    let id = v["droplet"]["id"].as_u64().expect("id");
    let statuses = ocean
        .three_polls(&format!("/droplets/{id}"), |v| {
            v["droplet"]["status"].clone()
        })
        .await;
    assert_eq!(statuses, ["new", "new", "active"]);
    let action_statuses = ocean
        .three_polls(&action_href, |v| v["action"]["status"].clone())
        .await;
    assert_eq!(action_statuses, ["in-progress", "in-progress", "completed"]);
    let actions = format!("/droplets/{id}/actions");
    let resize = json!({"type": "resize", "size": "s-2vcpu-4gb"});
    let (s, v) = ocean.post(&actions, resize.clone()).await;
    assert_eq!((s, v["id"].clone()), (422, json!("unprocessable_entity")));
    let (s, _) = ocean.post(&actions, json!({"type": "power_off"})).await;
    assert_eq!(s, 201);
    let (s, v) = ocean.post(&actions, resize).await;
    assert_eq!(s, 201);
    assert_eq!(v["action"]["status"], "in-progress");

    // Linode
    let linode = api(&sb, Provider::Linode);
    let create = |root_pass: &str| json!({"region": "us-east", "type": "g6-nanode-1", "image": "linode/debian12", "label": "sbx-new", "root_pass": root_pass});
    let (s, v) = linode.post("/linode/instances", create("short")).await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["field"], "root_pass");
    let secret = "a-very-long-root-password-42";
    let (s, v) = linode.post("/linode/instances", create(secret)).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "provisioning");
    assert!(!v.to_string().contains(secret));
    let id = v["id"].as_u64().expect("id");
    let statuses = linode
        .three_polls("/linode/instances", |v| {
            let mut listed = v["data"].as_array().expect("data").iter();
            listed.find(|i| i["id"] == id).expect("listed")["status"].clone()
        })
        .await;
    assert_eq!(statuses, ["provisioning", "provisioning", "running"]);
    let body = json!({"region": "us-east", "type": "g6-nanode-1", "label": "sbx-new"});
    let (s, v) = linode.post("/linode/instances", body).await;
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
    let (vultr, linode) = (api(&sb, Provider::Vultr), api(&sb, Provider::Linode));
    sb.add_fault(
        FaultRule::new(
            "GET /vultr/v2/instances",
            Fault::RateLimited {
                retry_after: Some(3),
            },
        )
        .times(1),
    );
    let (s, headers, v) = vultr.call(Method::GET, "/instances", None).await;
    assert_eq!(s, 429);
    assert_eq!(
        headers.get("retry-after").and_then(|h| h.to_str().ok()),
        Some("3")
    );
    assert_eq!(v["status"], 429);
    let (s, _) = vultr.get("/instances").await;
    assert_eq!(s, 200, "the rule was limited to one request");

    sb.add_fault(
        FaultRule::new(
            "GET /digitalocean/v2/droplets",
            Fault::RateLimited { retry_after: None },
        )
        .times(1),
    );
    let (s, headers, _) = api(&sb, Provider::Digitalocean)
        .call(Method::GET, "/droplets", None)
        .await;
    assert_eq!(s, 429);
    assert!(headers.get("retry-after").is_none());

    sb.add_fault(FaultRule::new("POST /vultr/v2/instances", Fault::CreateThen500).times(1));
    let body = json!({"region": "ams", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "ghost"});
    let (s, v) = vultr.post("/instances", body).await;
    assert_eq!(s, 500);
    assert_eq!(v["status"], 500);
    let (_, v) = vultr.get("/instances?label=ghost").await;
    assert_eq!(
        v["meta"]["total"], 1,
        "the resource was created although the answer was 500"
    );

    sb.add_fault(FaultRule::new("* /linode/v4/*", Fault::Status { code: 503 }).times(1));
    let (s, v) = linode.get("/volumes").await;
    assert_eq!(s, 503);
    assert!(v["errors"][0]["reason"].is_string());

    sb.add_fault(FaultRule::new("GET /linode/v4/volumes", Fault::OkWithErrorBody).times(1));
    let (s, v) = linode.get("/volumes").await;
    assert_eq!(s, 200);
    assert!(v.get("errors").is_some());

    sb.add_fault(FaultRule::new("GET /vultr/v2/blocks", Fault::MalformedJson).times(1));
    let (s, v) = vultr.get("/blocks").await;
    assert_eq!(s, 200);
    assert!(v.is_string(), "body does not parse as JSON");

    sb.add_fault(FaultRule::new("GET /vultr/v2/blocks", Fault::TruncatedBody).times(1));
    let res = client()
        .get(vultr.url("/blocks"))
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
        .get(vultr.url("/account"))
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
    let (s, v) = vultr.get("/account").await;
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
    let sb = start_with_bulk(Provider::Vultr, Kind::Instance, 30).await;
    let vultr = api(&sb, Provider::Vultr);
    sb.add_fault(FaultRule::new("GET /vultr/v2/instances", Fault::PaginationLoop).times(1));
    let (_, first) = vultr.get("/instances?per_page=10").await;
    let next = first["meta"]["links"]["next"]
        .as_str()
        .expect("next")
        .to_owned();
    let (_, again) = vultr
        .get(&format!("/instances?per_page=10&cursor={next}"))
        .await;
    assert_eq!(
        first["instances"], again["instances"],
        "the next cursor repeats the page"
    );

    sb.add_fault(FaultRule::new("GET /linode/v4/linode/instances", Fault::EmptyPage).times(1));
    sb.seed_bulk(Provider::Linode, Kind::Instance, 60)
        .expect("bulk");
    let (_, v) = api(&sb, Provider::Linode)
        .get("/linode/instances?page_size=25&page=2")
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
    let linode = api(&sb, Provider::Linode);
    sb.set_rate_limit(Provider::Linode, RateLimit::new(3, Duration::from_secs(60)));
    let mut codes = Vec::new();
    let mut retry = None;
    for _ in 0..4 {
        let (s, h, _) = linode.call(Method::GET, "/volumes", None).await;
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
    assert_eq!(linode.get("/volumes").await.0, 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn gpu_droplets_are_omitted_from_the_default_listing() {
    let sb = start_with_fixtures().await;
    let ocean = api(&sb, Provider::Digitalocean);
    let (_, v) = ocean.get("/droplets").await;
    let names: Vec<&str> = v["droplets"]
        .as_array()
        .expect("droplets")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["grafana-legacy", "staging-scratch"]);
    assert_eq!(v["meta"]["total"], 2);
    let (_, v) = ocean.get("/droplets?type=gpus").await;
    assert_eq!(v["droplets"][0]["name"], "ml-trainer");
    assert!(v["droplets"][0]["gpu_info"].is_object());
    assert_eq!(v["meta"]["total"], 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn non_empty_bucket_delete_is_refused() {
    let sb = start_with_fixtures().await;
    let linode = api(&sb, Provider::Linode);
    let (s, v) = linode
        .delete("/object-storage/buckets/us-east/old-site-assets")
        .await;
    assert_eq!(s, 400);
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("not empty")
    );
    let (s, _) = linode
        .delete("/object-storage/buckets/eu-central/empty-scratch")
        .await;
    assert_eq!(s, 200);
    let (_, v) = linode.get("/object-storage/buckets").await;
    assert_eq!(v["results"], 1);
    assert!(v["data"][0].get("id").is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn bulk_seed_2000_pages_through_every_provider() {
    let sb = start().await;
    for p in [Provider::Vultr, Provider::Digitalocean, Provider::Linode] {
        sb.seed_bulk(p, Kind::Instance, 2000).expect("bulk");
    }
    sb.seed_bulk(Provider::Linode, Kind::Bucket, 2000)
        .expect("bulk");
    let pages = api(&sb, Provider::Vultr).cursor_pages(500).await;
    let n: usize = pages
        .iter()
        .map(|v| v["instances"].as_array().expect("instances").len())
        .sum();
    assert_eq!(n, 2000);
    let (_, v) = api(&sb, Provider::Digitalocean)
        .get("/droplets?per_page=200&page=10")
        .await;
    assert_eq!(v["droplets"].as_array().expect("droplets").len(), 200);
    assert!(v["links"]["pages"].get("next").is_none());
    let linode = api(&sb, Provider::Linode);
    let (_, v) = linode.get("/linode/instances?page_size=500&page=4").await;
    assert_eq!(
        (
            v["pages"].clone(),
            v["data"].as_array().expect("data").len()
        ),
        (json!(4), 500)
    );
    let (_, v) = linode.get("/object-storage/buckets?page_size=500").await;
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
    let sb = start_with_fixtures().await;
    sb.mutate(Mutation::new(
        Provider::Vultr,
        Kind::Instance,
        "ci-runner",
        Change::SetPlan {
            plan: "vc2-4c-8gb".into(),
        },
    ))
    .expect("mutate");
    let (_, v) = api(&sb, Provider::Vultr)
        .get("/instances?label=ci-runner")
        .await;
    assert_eq!(v["instances"][0]["plan"], "vc2-4c-8gb");
    assert_eq!(v["instances"][0]["vcpu_count"], 4);

    let c = client();
    let control = format!("{}/_sandbox", sb.url());
    let tag = json!({"provider": "digitalocean", "kind": "instance", "target": "grafana-legacy", "op": "add_tag", "tag": "drifted"});
    let mutate = c.post(format!("{control}/mutate"));
    assert_eq!(control_status(mutate.json(&tag)).await, 200);
    let (_, v) = api(&sb, Provider::Digitalocean)
        .get("/droplets?tag_name=drifted")
        .await;
    assert_eq!(v["droplets"][0]["name"], "grafana-legacy");

    let delete =
        json!({"provider": "linode", "kind": "instance", "target": "build-cache", "op": "delete"});
    let mutate = c.post(format!("{control}/mutate"));
    assert_eq!(control_status(mutate.json(&delete)).await, 200);
    let build_cache = || {
        sb.resources(Provider::Linode, Kind::Instance)
            .expect("res")
            .find_by_label("build-cache")
            .is_some()
    };
    assert!(!build_cache());

    let fault = json!({"route": "GET /linode/v4/volumes", "times": 1, "fault": {"kind": "status", "code": 502}});
    let add = c.post(format!("{control}/faults"));
    assert_eq!(control_status(add.json(&fault)).await, 200);
    let (s, v) = api(&sb, Provider::Linode).get("/volumes").await;
    assert_eq!(s, 502);
    assert!(
        v.as_str().is_some_and(|t| t.contains("502 Bad Gateway")),
        "nginx HTML"
    );

    let counters: Value = get_value(&c, format!("{control}/counters")).await;
    assert_eq!(counters["per_route"]["GET /linode/v4/volumes"], 1);
    let clear = c.delete(format!("{control}/faults"));
    assert_eq!(control_status(clear).await, 200);
    assert_eq!(
        control_status(c.post(format!("{control}/reset"))).await,
        200
    );
    assert_eq!(sb.counters().total, 0);
    assert!(build_cache());
    let res: Value = get_value(&c, format!("{control}/resources/vultr/instances")).await;
    assert_eq!(res["count"], 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn volumes_attach_detach_and_resize_rules() {
    let sb = start_with_fixtures().await;
    // DigitalOcean: shrink refused with 422
    let ocean = api(&sb, Provider::Digitalocean);
    let body = json!({"name": "sbx-vol", "region": "fra1", "size_gigabytes": 50});
    let (_, v) = ocean.post("/volumes", body).await;
    let vid = v["volume"]["id"].as_str().expect("id").to_owned();
    let actions = format!("/volumes/{vid}/actions");
    let shrink = json!({"type": "resize", "size_gigabytes": 20, "region": "fra1"});
    let (s, v) = ocean.post(&actions, shrink).await;
    assert_eq!((s, v["id"].clone()), (422, json!("unprocessable_entity")));
    let attach = json!({"type": "attach", "droplet_id": 401_000_001, "region": "fra1"});
    let (s, v) = ocean.post(&actions, attach).await;
    assert_eq!(s, 202);
    assert_eq!(v["action"]["type"], "attach_volume");
    let (_, v) = ocean.get("/droplets/401000001").await;
    assert_eq!(v["droplet"]["volume_ids"].as_array().expect("ids").len(), 2);
    // Vultr block attach / grow only
    let vultr = api(&sb, Provider::Vultr);
    let ci_cache = id_of(&sb, Provider::Vultr, Kind::Volume, "ci-cache");
    let ci_runner = id_of(&sb, Provider::Vultr, Kind::Instance, "ci-runner");
    let attach = json!({"instance_id": ci_runner, "live": true});
    let (s, _) = vultr
        .post(&format!("/blocks/{ci_cache}/attach"), attach)
        .await;
    assert_eq!(s, 204);
    let (_, v) = vultr.get(&format!("/blocks/{ci_cache}")).await;
    assert_eq!(v["block"]["attached_to_instance"], json!(ci_runner));
    let shrink = Some(json!({"size_gb": 20}));
    let (s, _, _) = vultr
        .call(Method::PATCH, &format!("/blocks/{ci_cache}"), shrink)
        .await;
    assert_eq!(s, 400);
    // Linode volume create attached
    let body = json!({"label": "sbx-vol", "linode_id": 52000001, "size": 30});
    let (s, v) = api(&sb, Provider::Linode).post("/volumes", body).await;
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
    let sb = start_with_fixtures().await;
    let vultr = api(&sb, Provider::Vultr);
    let block = id_of(&sb, Provider::Vultr, Kind::Volume, "ci-cache");
    let instance = id_of(&sb, Provider::Vultr, Kind::Instance, "ci-runner");
    // The listed object with `id` of the collection `key`.
    let listed = async |key: &str, id: &str| {
        let (_, v) = vultr.get(&format!("/{key}?per_page=500")).await;
        v[key]
            .as_array()
            .expect("list")
            .iter()
            .find(|b| b["id"] == json!(id))
            .cloned()
            .expect("listed")
    };
    // Listed once (rendered and cached), then attached through the API.
    assert_eq!(listed("blocks", &block).await["attached_to_instance"], "");
    let attach = json!({"instance_id": instance, "live": true});
    let (s, _) = vultr.post(&format!("/blocks/{block}/attach"), attach).await;
    assert_eq!(s, 204);
    let b = listed("blocks", &block).await;
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
    assert_eq!(listed("instances", &instance).await["label"], "ci-runner-2");
    assert_eq!(
        listed("blocks", &block).await["attached_to_instance_label"],
        "ci-runner-2"
    );
    sb.shutdown().await;
}

/// What the providers' specs say and the sandbox once got wrong (issue 16, item 7): each case
/// here failed before the sandbox was corrected.
#[tokio::test]
async fn requests_are_checked_as_the_published_specs_say() {
    let sb = start().await;
    let (vultr, ocean, linode) = apis(&sb);
    // Vultr `sshkey_id` takes the account's key ids (UUIDs) only.
    let base = json!({"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "keys"});
    let with_keys = |keys: Value| {
        let mut b = base.clone();
        b["sshkey_id"] = keys;
        b
    };
    let (s, v) = vultr
        .post("/instances", with_keys(json!(["deploy-key"])))
        .await;
    assert_eq!((s, v["error"].clone()), (400, json!("Invalid SSH key ID.")));
    let key_id = json!(["3b8066a7-b438-455a-9688-44afc9a3597f"]);
    let (s, _) = vultr.post("/instances", with_keys(key_id)).await;
    assert_eq!(s, 202);

    // DigitalOcean checks tag names sent inline with a create, not only on `POST /tags`, and
    // refuses volume names that are not lowercase.
    let droplet = json!({"name": "tagged", "region": "nyc3", "size": "s-1vcpu-1gb",
                         "image": "ubuntu-24-04-x64", "tags": ["env=prod"]});
    let (s, v) = ocean.post("/droplets", droplet).await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["message"].as_str().expect("message").contains("env=prod"),
        "{v}"
    );
    let volume = |name: &str, tags: Value| json!({"name": name, "region": "nyc3", "size_gigabytes": 10, "tags": tags});
    for (name, tags) in [("Pg_Data", json!([])), ("pg-data", json!(["a b"]))] {
        let (s, v) = ocean.post("/volumes", volume(name, tags)).await;
        assert_eq!(s, 422, "{name}: {v}");
    }

    // Linode `authorized_keys` is public key text.
    let keyed = |keys: Value| {
        json!({"region": "us-east", "type": "g6-nanode-1", "label": "keyed",
               "authorized_keys": keys})
    };
    let (s, v) = linode
        .post("/linode/instances", keyed(json!(["512189"])))
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].clone()),
        (400, json!("authorized_keys"))
    );
    let key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f ops@acme";
    let (s, v) = linode.post("/linode/instances", keyed(json!([key]))).await;
    assert_eq!(s, 200, "{v}");

    // Linode labels as the spec's patterns have them: a letter first, no doubled separators.
    let bad_labels = [
        ("/linode/instances", "1web", json!({"type": "g6-nanode-1"})),
        (
            "/linode/instances",
            "web..1",
            json!({"type": "g6-nanode-1"}),
        ),
        ("/volumes", "d", json!({"size": 10})),
        ("/volumes", "pg__data", json!({"size": 10})),
    ];
    for (path, label, mut body) in bad_labels {
        body["region"] = json!("us-east");
        body["label"] = json!(label);
        let (s, v) = linode.post(path, body).await;
        assert_eq!(
            (s, v["errors"][0]["field"].clone()),
            (400, json!("label")),
            "{label}"
        );
    }

    // Vultr lists databases whole: no cursor, `meta` is `{total}`.
    let (s, v) = vultr.get("/databases?per_page=1").await;
    assert_eq!(s, 200);
    assert_eq!(
        v["meta"],
        json!({"total": v["databases"].as_array().map_or(0, Vec::len)})
    );

    // A bucket this account owns, created again: 200 with that bucket, unchanged.
    let bucket = json!({"label": "twice", "region": "us-east"});
    let (s, first) = linode.post("/object-storage/buckets", bucket.clone()).await;
    assert_eq!(s, 200);
    let (s, again) = linode.post("/object-storage/buckets", bucket).await;
    assert_eq!((s, again), (200, first));
}

/// DigitalOcean tag names are case-insensitive and keep their first capitalisation.
#[tokio::test]
async fn digitalocean_tags_keep_their_first_capitalisation() {
    let sb = start().await;
    let ocean = api(&sb, Provider::Digitalocean);
    for name in ["PROD", "prod"] {
        let (s, v) = ocean.post("/tags", json!({"name": name})).await;
        assert_eq!(
            (s, v["tag"]["name"].clone()),
            (201, json!("PROD")),
            "{name}"
        );
    }
    let droplet = json!({"name": "cased", "region": "nyc3", "size": "s-1vcpu-1gb",
                         "image": "ubuntu-24-04-x64", "tags": ["prod", "Web"]});
    let (s, v) = ocean.post("/droplets", droplet).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["droplet"]["tags"], json!(["PROD", "Web"]));
    let id = v["droplet"]["id"].as_u64().expect("id");
    // Listing by either spelling finds it; untagging by another spelling removes the tag.
    let (_, v) = ocean.get("/droplets?tag_name=web").await;
    assert_eq!(v["droplets"].as_array().map(Vec::len), Some(1));
    let body = json!({"resources": [{"resource_id": id.to_string(), "resource_type": "droplet"}]});
    let (s, _, _) = ocean
        .call(Method::DELETE, "/tags/prod/resources", Some(body))
        .await;
    assert_eq!(s, 204);
    let (_, v) = ocean.get(&format!("/droplets/{id}")).await;
    assert_eq!(v["droplet"]["tags"], json!(["Web"]));
}

/// A Linode resize is reported as `migrating`, and a disk that grew with an upsize (Linode's
/// default `allow_auto_disk_resize`) no longer fits the smaller plan.
#[tokio::test]
async fn linode_resize_migrates_and_an_auto_resized_disk_blocks_the_downsize() {
    let sb = Sandbox::start(SandboxConfig::default().with_pending_polls(1))
        .await
        .expect("sandbox starts");
    let linode = api(&sb, Provider::Linode);
    let mut ids = Vec::new();
    for label in ["grows-disk", "keeps-disk"] {
        let body = json!({"region": "us-east", "type": "g6-nanode-1", "label": label});
        let (s, v) = linode.post("/linode/instances", body).await;
        assert_eq!(s, 200, "{v}");
        let id = v["id"].as_u64().expect("id");
        let _ = linode.get(&format!("/linode/instances/{id}")).await;
        ids.push(id);
    }
    let resize = async |id: u64, ty: &str, auto: Option<bool>| {
        let mut body = json!({"type": ty});
        if let Some(a) = auto {
            body["allow_auto_disk_resize"] = json!(a);
        }
        linode
            .post(&format!("/linode/instances/{id}/resize"), body)
            .await
    };
    for (id, auto) in [(ids[0], None), (ids[1], Some(false))] {
        let (s, v) = resize(id, "g6-standard-2", auto).await;
        assert_eq!(s, 200, "{v}");
        for want in ["migrating", "offline"] {
            let (_, v) = linode.get(&format!("/linode/instances/{id}")).await;
            assert_eq!(v["status"], want);
        }
    }
    let (s, v) = resize(ids[0], "g6-nanode-1", Some(false)).await;
    assert_eq!(
        (s, v["errors"][0]["field"].clone()),
        (400, json!("type")),
        "{v}"
    );
    let (s, v) = resize(ids[1], "g6-nanode-1", Some(false)).await;
    assert_eq!(s, 200, "{v}");
}
