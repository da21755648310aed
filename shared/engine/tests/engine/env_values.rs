//! A web service's environment values through sync, plan and apply (issue 18): a secret rotated
//! after an apply is planned as "value changed" by name only, the apply sends the new value, and
//! the plan then settles; the value and its fingerprint appear in no plan, record or log line.

use std::sync::Arc;
use std::time::Duration;

use stackdock_core::env_values::ENV_VALUES;
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::render;
use stackdock_engine::{
    ApplyOptions, DefaultResolver, PlanOptions, SecretsManagerResolver, SyncOptions, apply,
    plan_current, sync,
};
use stackdock_sandbox::{Kind as SbKind, Provider, SECRET_MARKER};
use stackdock_store::testing::MotoServer;

use crate::sandbox::Live;
use crate::support::capture_logs;

const SECRET: &str = "stackdock/site-api-url";
/// The two values the secret holds in turn: each carries the sandbox's secret marker, which the
/// audit below searches every output for.
fn first() -> String {
    format!("https://api-v1.internal.example/{SECRET_MARKER}first-value")
}

fn second() -> String {
    format!("https://api-v2.internal.example/{SECRET_MARKER}second-value")
}

const SITE: &str = r#"
[web_services.site]
dock = "vercel-main"
subtype = "project"
framework = "vite"
env.API_URL = { secret = "stackdock/site-api-url", targets = ["production", "preview"] }
"#;

struct Run<'a> {
    live: &'a Live,
    secrets: Arc<DefaultResolver>,
}

impl Run<'_> {
    async fn sync(&self) {
        let opts = SyncOptions {
            secrets: Arc::clone(&self.secrets),
            ..SyncOptions::default()
        };
        let report = sync(
            &self.live.config,
            &self.live.docks,
            self.live.store.as_ref(),
            &opts,
        )
        .await
        .expect("sync");
        assert_eq!(report.failed().count(), 0, "{:#?}", report.docks);
    }

    async fn plan(&self) -> Plan {
        plan_current(
            &self.live.config,
            &self.live.docks,
            self.live.store.as_ref(),
            PlanOptions::default(),
        )
        .await
        .expect("plan")
    }

    async fn apply(&self, plan: &Plan) {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut opts = ApplyOptions::new("test", "tester", repo);
        opts.secrets = Arc::clone(&self.secrets);
        let report = apply(
            plan,
            &self.live.config,
            &self.live.docks,
            self.live.store.as_ref(),
            &opts,
        )
        .await
        .expect("apply");
        assert_eq!(report.failed(), 0, "{:#?}", report.run.actions);
    }

    /// The values the sandbox's project holds for `API_URL`, as the provider keeps them.
    fn values_at_vercel(&self) -> Vec<String> {
        let project = self
            .live
            .sandbox
            .resource_json(Provider::Vercel, SbKind::WebService, "site")
            .expect("the project exists");
        project["env"]
            .as_array()
            .expect("env")
            .iter()
            .filter(|e| e["key"] == "API_URL")
            .map(|e| e["value"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

fn text(plan: &Plan) -> String {
    render::text::render(plan, &Default::default())
}

// One thread: the log capture sees the events of this thread only.
#[tokio::test(flavor = "current_thread")]
async fn a_rotated_secret_is_planned_as_a_changed_value_and_sent_once() {
    let (logs, _guard) = capture_logs();
    let moto = MotoServer::start();
    let sdk = moto.sdk_config();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    crate::secrets::put_secret(&client, SECRET, &first()).await;
    let live = Live::new(SITE).await;
    // No caching: the rotation below is read by the next sync, as by the next CLI process.
    let run = Run {
        live: &live,
        secrets: Arc::new(DefaultResolver::with_secrets(
            SecretsManagerResolver::new(&sdk).with_ttl(Duration::ZERO),
        )),
    };

    run.sync().await;
    let created = run.plan().await;
    run.apply(&created).await;
    assert_eq!(run.values_at_vercel(), [first()]);
    run.sync().await;
    let settled = run.plan().await;
    assert!(!settled.has_changes(), "{}", text(&settled));

    client
        .put_secret_value()
        .secret_id(SECRET)
        .secret_string(second())
        .send()
        .await
        .expect("rotate the secret");
    // The plan compares fingerprints the sync read: until the next sync nothing is known.
    assert!(!run.plan().await.has_changes());
    run.sync().await;
    let rotated = run.plan().await;
    let update = rotated
        .of_kind(ActionKind::Update)
        .find(|a| a.address.as_deref() == Some("web_services.site"))
        .unwrap_or_else(|| panic!("an update of the site:\n{}", text(&rotated)));
    assert_eq!(update.changes.len(), 1, "{:#?}", update.changes);
    assert_eq!(update.changes[0].field, ENV_VALUES);
    let shown = text(&rotated);
    assert!(
        shown.contains("~ env API_URL@production: value changed")
            && shown.contains("~ env API_URL@preview: value changed"),
        "{shown}"
    );
    let markdown = render::markdown::render(&rotated);
    assert!(
        markdown.contains("`~ env API_URL@production: value changed`"),
        "{markdown}"
    );

    run.apply(&rotated).await;
    assert_eq!(
        run.values_at_vercel(),
        [second()],
        "the new value was sent, once"
    );
    run.sync().await;
    let after = run.plan().await;
    assert!(!after.has_changes(), "{}", text(&after));

    // Neither value nor any fingerprint of one reaches a plan, a record or a log line; the
    // record keeps only fingerprints, under the scope's key.
    let records = live.store.inventory("acme", None).await.expect("inventory");
    let site = records
        .iter()
        .find(|r| r.managed_by.as_deref() == Some("web_services.site"))
        .expect("the site's record");
    let applied = format!("{:?}", site.applied.get(ENV_VALUES));
    assert!(applied.contains("API_URL@production="), "{applied}");
    let everything = format!(
        "{}{}{}{}{}",
        serde_json::to_string(&records).expect("records"),
        serde_json::to_string(&rotated).expect("plan"),
        shown,
        markdown,
        logs.text()
    );
    for value in [first(), second(), SECRET_MARKER.to_owned()] {
        assert!(!everything.contains(&value), "an environment value leaked");
    }
    // Reached only when the assertions above held.
    eprintln!(
        "RELIABILITY secret env-values searched records, plans (JSON, text, Markdown) and logs ({} bytes) for two rotated environment values and the sandbox secret marker -> none found",
        everything.len()
    );
    let fingerprint = applied
        .split("API_URL@production=")
        .nth(1)
        .expect("a fingerprint")
        .chars()
        .take(32)
        .collect::<String>();
    let public = format!(
        "{}{shown}{markdown}",
        serde_json::to_string(&rotated).expect("plan")
    );
    assert!(
        !public.contains(&fingerprint),
        "a plan names entries, never their fingerprints"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_cannot_be_read_at_sync_is_not_fingerprinted_nor_compared() {
    let live = Live::new(&SITE.replace(
        "{ secret = \"stackdock/site-api-url\"",
        "{ env = \"STACKDOCK_TEST_ENV_VALUE_UNSET\"",
    ))
    .await;
    let run = Run {
        live: &live,
        secrets: Arc::new(DefaultResolver::new()),
    };
    run.sync().await;
    let statuses = live.store.dock_statuses("acme").await.expect("statuses");
    assert!(
        statuses.iter().all(|s| s.env_fingerprints.is_empty()),
        "an unset variable is not fingerprinted"
    );
    let plan = run.plan().await;
    // The create still needs the value: it is an error at apply, not at plan.
    assert!(
        plan.of_kind(ActionKind::Create)
            .any(|a| a.address.as_deref() == Some("web_services.site")),
        "{}",
        text(&plan)
    );
    assert!(
        plan.actions
            .iter()
            .all(|a| a.changes.iter().all(|c| c.field != ENV_VALUES)),
        "{}",
        text(&plan)
    );
}
