//! The engine with the real adapters against the provider sandbox: the example fleet converges on
//! all three providers, drift on each managed field is found, adoption and ambiguity, a create that
//! answered 500, a dock whose listing fails, a kind no adapter has yet, and no secret in any output.

use std::collections::BTreeMap;
use std::sync::Arc;

use stackdock_core::config::Config;
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::{Kind, ProviderKind, render};
use stackdock_engine::{
    Adapters, ApplyOptions, Docks, PlanOptions, StaticResolver, SyncOptions, apply, plan_current,
    sync,
};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_sandbox::{
    Change, Fault, FaultRule, Kind as SbKind, Mutation, Provider, SECRET_MARKER, Sandbox,
    SandboxConfig, SandboxHandle,
};
use stackdock_store::Store;
use stackdock_store::sqlite::SqliteStore;

const ORG: &str = "acme";

pub(crate) struct Live {
    pub(crate) sandbox: SandboxHandle,
    pub(crate) config: Config,
    pub(crate) docks: Docks,
    pub(crate) store: Arc<dyn Store>,
}

fn sb(p: ProviderKind) -> Provider {
    // The sandbox names each provider as `stackdock.toml` does (`ProviderKind::as_str`).
    p.as_str()
        .parse()
        .unwrap_or_else(|e| panic!("the sandbox speaks every provider StackDock has: {e}"))
}

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Live {
    /// The repository's example fleet (plus `extra` entries) pointed at a fresh sandbox.
    pub(crate) async fn new(extra: &str) -> Live {
        let sandbox = Sandbox::start(
            SandboxConfig::default()
                .with_pending_polls(1)
                .with_action_polls(1),
        )
        .await
        .expect("sandbox");
        sandbox.seed_fixtures();
        let source =
            std::fs::read_to_string(repo().join("stackdock.toml")).expect("example fleet") + extra;
        let mut config =
            stackdock_core::config::parse("stackdock.toml", &source).expect("valid config");
        for dock in config.docks.values_mut() {
            dock.endpoint = Some(sandbox.base_url(sb(dock.provider)));
        }
        let tokens = StaticResolver(
            ProviderKind::ALL
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
        assert!(docks.failures.is_empty(), "{:?}", docks.failures);
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().expect("store"));
        Live {
            sandbox,
            config,
            docks,
            store,
        }
    }

    async fn sync(&self) -> stackdock_engine::SyncReport {
        sync(
            &self.config,
            &self.docks,
            self.store.as_ref(),
            &SyncOptions::default(),
        )
        .await
        .expect("sync")
    }

    async fn plan(&self) -> Plan {
        plan_current(
            &self.config,
            &self.docks,
            self.store.as_ref(),
            PlanOptions::default(),
        )
        .await
        .expect("plan")
    }

    async fn apply(&self, plan: &Plan) -> stackdock_engine::ApplyReport {
        apply(
            plan,
            &self.config,
            &self.docks,
            self.store.as_ref(),
            &ApplyOptions::new("test", "tester", repo()),
        )
        .await
        .expect("apply")
    }

    async fn converge(&self) -> stackdock_engine::ApplyReport {
        self.sync().await;
        let plan = self.plan().await;
        assert_eq!(
            plan.summary.error + plan.summary.blocked,
            0,
            "{:#?}",
            plan.actions
        );
        self.apply(&plan).await
    }

    fn mutations(&self) -> u64 {
        let counters = self.sandbox.counters();
        counters
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

    fn count_labelled(&self, provider: Provider, kind: SbKind, label: &str) -> usize {
        self.sandbox
            .resources(provider, kind)
            .expect("resources")
            .iter()
            .filter(|r| r.label == label)
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_fleet_converges_on_all_three_providers() {
    let live = Live::new("").await;
    let report = live.converge().await;
    assert_eq!(report.failed(), 0, "{:#?}", report.run.actions);
    assert_eq!(report.run.actions.len(), live.config.resources.len());

    live.sync().await;
    let plan = live.plan().await;
    assert!(
        !plan.has_changes(),
        "{}",
        render::text::render(&plan, &Default::default())
    );
    assert_eq!(plan.summary.drift, 0);

    live.sandbox.reset_counters();
    let again = live.apply(&plan).await;
    assert!(again.run.actions.is_empty());
    assert_eq!(
        live.mutations(),
        0,
        "a converged apply sends no create, update or delete"
    );
    for (provider, kind, label) in [
        (Provider::Vultr, SbKind::Instance, "web-1"),
        (Provider::Digitalocean, SbKind::Instance, "worker-1"),
        (Provider::Linode, SbKind::Instance, "monitor-1"),
        (Provider::Linode, SbKind::Bucket, "acme-assets"),
        (Provider::Vultr, SbKind::Database, "app-db"),
    ] {
        assert_eq!(live.count_labelled(provider, kind, label), 1, "{label}");
    }

    // The account's Workers script is synced read-only: in the inventory, unmanaged, reported
    // by the converged plan with the reason, and untouched by both applies.
    let records = live.store.inventory(ORG, None).await.expect("inventory");
    let worker = records
        .iter()
        .find(|r| r.provider_resource_id == "worker/acme-edge-auth")
        .expect("the fixture Worker is synced");
    assert!(worker.read_only().is_some() && worker.managed_by.is_none());
    let reported = plan
        .of_kind(stackdock_core::plan::ActionKind::Unmanaged)
        .find(|a| a.provider_id.as_deref() == Some("worker/acme-edge-auth"))
        .expect("the plan reports the Worker");
    assert!(reported.reason.contains("read-only"), "{}", reported.reason);
    assert!(
        live.sandbox
            .resource_json(Provider::Cloudflare, SbKind::Worker, "acme-edge-auth")
            .is_some()
    );
}

/// A dock lists exactly the kinds its provider's adapter has, and a sync stores DNS zones with
/// their records: the DigitalOcean fixture zone, its four provider-managed records (SOA and the
/// apex NS) marked so, and its own records named by their identity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_dock_lists_its_adapters_kinds_and_zones_sync_with_their_records() {
    let live = Live::new("").await;
    let report = live.sync().await;
    assert_eq!(report.docks.len(), live.config.docks.len());
    assert_eq!(
        report.failed().map(|d| d.dock.as_str()).collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "no dock fails"
    );
    let records = live.store.inventory(ORG, None).await.expect("inventory");
    assert!(!records.is_empty(), "the fixtures' resources were synced");
    for provider in ProviderKind::ALL {
        let listed: std::collections::BTreeSet<Kind> = records
            .iter()
            .filter(|r| r.provider == provider)
            .map(stackdock_core::Record::kind)
            .collect();
        assert!(
            listed.iter().all(|k| provider.supports(*k)),
            "{provider}: only its adapter's kinds are listed: {listed:?}"
        );
    }
    let zone = "grafana-legacy.example";
    let of_zone: Vec<&stackdock_core::Record> = records
        .iter()
        .filter(|r| r.kind() == Kind::DomainRecords)
        .filter(|r| r.provider_resource_id.starts_with(&format!("{zone}/")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r.kind() == Kind::Domains && r.name == zone),
        "the zone is stored"
    );
    assert_eq!(of_zone.len(), 9, "every record of the zone");
    assert_eq!(
        of_zone.iter().filter(|r| r.provider_managed()).count(),
        4,
        "SOA and the three apex NS records are the provider's"
    );
    assert!(
        of_zone
            .iter()
            .any(|r| r.name == "www.grafana-legacy.example CNAME grafana-legacy.example"),
        "{:?}",
        of_zone.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_on_each_managed_field_is_found() {
    let live = Live::new("").await;
    live.converge().await;
    let changes = [
        (
            Provider::Vultr,
            SbKind::Instance,
            "web-1",
            Change::SetPlan {
                plan: "vc2-2c-4gb".into(),
            },
        ),
        (
            Provider::Vultr,
            SbKind::Instance,
            "web-2",
            Change::SetTags {
                tags: vec!["web".into()],
            },
        ),
        (
            Provider::Digitalocean,
            SbKind::Instance,
            "worker-1",
            Change::SetPlan {
                plan: "s-2vcpu-2gb".into(),
            },
        ),
        (
            Provider::Linode,
            SbKind::Instance,
            "monitor-1",
            Change::SetPlan {
                plan: "g6-standard-1".into(),
            },
        ),
        (
            Provider::Vultr,
            SbKind::Volume,
            "web-1-data",
            Change::SetSize { size_gb: 80 },
        ),
        (
            Provider::Vultr,
            SbKind::Database,
            "app-db",
            Change::SetPlan {
                plan: "vultr-dbaas-startup-cc-1-55-2".into(),
            },
        ),
    ];
    for (provider, kind, label, change) in changes {
        live.sandbox
            .mutate(Mutation::new(provider, kind, label, change))
            .expect("out-of-band change");
    }
    // monitor-1 ignores its tags: this is neither drift nor an update.
    live.sandbox
        .mutate(Mutation::new(
            Provider::Linode,
            SbKind::Instance,
            "monitor-1",
            Change::AddTag {
                tag: "edited-by-hand".into(),
            },
        ))
        .expect("tag");
    live.sync().await;
    let plan = live.plan().await;
    let drift: BTreeMap<String, Vec<String>> = plan
        .of_kind(ActionKind::Drift)
        .map(|a| {
            (
                a.address.clone().unwrap_or_default(),
                a.changes.iter().map(|c| c.field.clone()).collect(),
            )
        })
        .collect();
    let expected: BTreeMap<String, Vec<String>> = [
        ("block_volumes.web-1-data", "size_gb"),
        ("databases.app-db", "plan"),
        ("servers.monitor-1", "plan"),
        ("servers.web-1", "plan"),
        ("servers.web-2", "tags"),
        ("servers.worker-1", "plan"),
    ]
    .into_iter()
    .map(|(a, f)| (a.to_owned(), vec![f.to_owned()]))
    .collect();
    assert_eq!(drift, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_by_name_and_an_ambiguous_name() {
    let extra = "\n[servers.ci-runner]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\n\
                 \n[servers.twin]\ndock = \"do-main\"\nregion = \"nyc3\"\nplan = \"s-1vcpu-1gb\"\nimage = \"ubuntu-24-04-x64\"\n";
    let live = Live::new(extra).await;
    for label in ["grafana-legacy", "staging-scratch"] {
        live.sandbox
            .mutate(Mutation::new(
                Provider::Digitalocean,
                SbKind::Instance,
                label,
                Change::SetLabel {
                    label: "twin".into(),
                },
            ))
            .expect("rename");
    }
    live.sync().await;
    let plan = live.plan().await;
    let adopt: Vec<_> = plan
        .of_kind(ActionKind::Adopt)
        .filter_map(|a| a.address.clone())
        .collect();
    assert_eq!(adopt, vec!["servers.ci-runner".to_owned()]);
    let errors: Vec<_> = plan.of_kind(ActionKind::Error).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].reason.contains("401000001") && errors[0].reason.contains("401000002"),
        "{}",
        errors[0].reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_answered_500_leaves_exactly_one_resource() {
    let live = Live::new("").await;
    live.sandbox
        .add_fault(FaultRule::new("POST /vultr/v2/instances", Fault::CreateThen500).times(1));
    let report = live.converge().await;
    assert_eq!(
        report.failed(),
        0,
        "resolved by ownership tag: {:#?}",
        report.run.actions
    );
    assert_eq!(
        live.count_labelled(Provider::Vultr, SbKind::Instance, "web-1"),
        1
    );
    assert_eq!(
        live.count_labelled(Provider::Vultr, SbKind::Instance, "web-2"),
        1
    );

    live.converge().await;
    assert_eq!(
        live.count_labelled(Provider::Vultr, SbKind::Instance, "web-1"),
        1,
        "a re-run creates nothing"
    );
    assert_eq!(
        live.count_labelled(Provider::Vultr, SbKind::Instance, "web-2"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_dock_leaves_the_others_synced_and_nothing_missing() {
    let live = Live::new("").await;
    live.converge().await;
    live.sandbox.add_fault(FaultRule::new(
        "GET /linode/v4/linode/instances",
        Fault::Status { code: 503 },
    ));
    let report = live.sync().await;
    let failed: Vec<_> = report.failed().map(|d| d.dock.clone()).collect();
    assert_eq!(failed, vec!["linode-main".to_owned()]);
    let linode = live
        .store
        .inventory(ORG, Some("acme/linode-main"))
        .await
        .expect("inventory");
    assert!(!linode.is_empty());
    assert!(
        linode.iter().all(|r| r.missing_since.is_none()),
        "a failed listing marks nothing missing"
    );
    let plan = live.plan().await;
    let blocked: Vec<_> = plan
        .of_kind(ActionKind::Blocked)
        .map(|a| a.dock.clone())
        .collect();
    assert_eq!(blocked, vec!["linode-main".to_owned()]);
    assert!(
        plan.of_kind(ActionKind::Blocked)
            .all(|a| a.reason.contains("503") || a.reason.contains("GET")),
        "names the cause"
    );
    assert!(!plan.has_changes());
}

/// Issue 19 item 6: a provider answering a listing with more than the per-response cap (4 MiB)
/// fails that dock's sync alone, as "response too large"; the other docks sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_response_fails_only_the_dock_whose_provider_sent_it() {
    let live = Live::new("").await;
    live.sandbox.add_fault(FaultRule::new(
        "GET /linode/v4/linode/instances",
        Fault::OversizedBody {
            bytes: stackdock_providers::http::MAX_BODY_BYTES + 1,
        },
    ));
    let report = live.sync().await;
    let failed: Vec<_> = report.failed().map(|d| d.dock.clone()).collect();
    assert_eq!(failed, vec!["linode-main".to_owned()]);
    let error = report
        .failed()
        .next()
        .and_then(|d| d.error.clone())
        .unwrap_or_default();
    assert!(error.contains("response too large"), "{error}");
    assert!(report.docks.len() >= 2, "the example fleet has other docks");
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    for status in &statuses {
        assert_eq!(
            status.last_sync_at.is_some(),
            status.name != "linode-main",
            "{}: only the oversized dock is unsynced",
            status.name
        );
    }
    eprintln!(
        "RELIABILITY security a provider response over the 4 MiB cap fails only its dock (item 6) -> held (engine::sandbox::an_oversized_response_fails_only_the_dock_whose_provider_sent_it)"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_a_record_a_log_line_a_plan_or_a_run() {
    let (logs, _guard) = crate::support::capture_logs();

    let live = Live::new("").await;
    let report = live.converge().await;
    assert_eq!(report.failed(), 0);
    live.sync().await;
    let plan = live.plan().await;

    let mut outputs: Vec<(String, String)> = vec![
        (
            "plan text".into(),
            render::text::render(&plan, &Default::default()),
        ),
        ("plan json".into(), render::json::render(&plan)),
        ("plan markdown".into(), render::markdown::render(&plan)),
        (
            "inventory".into(),
            serde_json::to_string(&live.store.inventory(ORG, None).await.expect("inventory"))
                .expect("json"),
        ),
        (
            "runs".into(),
            serde_json::to_string(&live.store.list_runs(ORG, 100).await.expect("runs"))
                .expect("json"),
        ),
    ];
    outputs.push(("logs".into(), logs.text()));
    let inventory = &outputs[3].1;
    assert!(
        inventory.contains("fullApiData"),
        "the records were searched"
    );
    assert!(
        inventory.contains("acme-site"),
        "the example's Vercel project (its deploy hooks and bypass keys dropped) was searched"
    );
    assert!(
        outputs[5].1.len() > 1000,
        "logs were captured at every level"
    );
    for (channel, text) in &outputs {
        assert!(
            !text.contains(SECRET_MARKER),
            "a sandbox secret leaked into {channel}"
        );
        for token in ProviderKind::ALL.map(|p| live.sandbox.token(sb(p))) {
            assert!(
                !text.contains(&token),
                "a provider token leaked into {channel}"
            );
        }
        // Reached only when the assertions above held: the line reports a search that found none.
        eprintln!(
            "RELIABILITY secret {} searched for the sandbox secret marker {SECRET_MARKER:?} (deploy hooks, bypass keys and variable values of the example's Vercel project among them) and the {} provider tokens ({} bytes) -> none found",
            channel.replace(' ', "-"),
            ProviderKind::ALL.len(),
            text.len()
        );
    }
}

/// Issue 21 part 4: a server powered off at the provider is drift on `power` (the baseline apply
/// recorded is `on`, the default) on every provider, and the next apply powers it on with the
/// provider's own action; a server declared `power = "off"` is created, then powered off, and
/// stays converged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_drift_is_found_and_applied_back_on_every_provider() {
    let cold = "\n[servers.cold-1]\ndock = \"do-main\"\nregion = \"nyc3\"\nplan = \"s-1vcpu-1gb\"\nimage = \"ubuntu-24-04-x64\"\npower = \"off\"\n";
    let live = Live::new(cold).await;
    let first = live.converge().await;
    assert_eq!(first.failed(), 0, "{:#?}", first.run.actions);
    live.sync().await;
    let settled = live.plan().await;
    assert!(!settled.has_changes(), "{:#?}", settled.actions);
    let stored = live.store.inventory(ORG, None).await.expect("inventory");
    let status_of = |records: &[stackdock_core::Record], address: &str| {
        records
            .iter()
            .find(|r| r.managed_by.as_deref() == Some(address))
            .map(|r| r.status.clone())
    };
    assert_eq!(
        status_of(&stored, "servers.cold-1").as_deref(),
        Some("stopped")
    );

    let servers = [
        (Provider::Vultr, "web-1"),
        (Provider::Digitalocean, "worker-1"),
        (Provider::Linode, "monitor-1"),
    ];
    for (provider, label) in servers {
        live.sandbox
            .mutate(Mutation::new(
                provider,
                SbKind::Instance,
                label,
                Change::PowerOff,
            ))
            .expect("powered off by hand");
    }
    live.sync().await;
    let plan = live.plan().await;
    let fields = |kind: ActionKind| -> BTreeMap<String, Vec<(String, String)>> {
        plan.of_kind(kind)
            .map(|a| {
                let changes = a
                    .changes
                    .iter()
                    .map(|c| {
                        let text = |v: &Option<stackdock_core::FieldValue>| {
                            v.as_ref()
                                .and_then(stackdock_core::FieldValue::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        (
                            c.field.clone(),
                            format!("{} -> {}", text(&c.before), text(&c.after)),
                        )
                    })
                    .collect();
                (a.address.clone().unwrap_or_default(), changes)
            })
            .collect()
    };
    let expected = |change: &str| -> BTreeMap<String, Vec<(String, String)>> {
        servers
            .iter()
            .map(|(_, label)| {
                (
                    format!("servers.{label}"),
                    vec![("power".to_owned(), change.to_owned())],
                )
            })
            .collect()
    };
    assert_eq!(fields(ActionKind::Drift), expected("on -> off"));
    assert_eq!(fields(ActionKind::Update), expected("off -> on"));

    live.sandbox.reset_counters();
    let report = live.apply(&plan).await;
    assert_eq!(report.failed(), 0, "{:#?}", report.run.actions);
    let sent = live.sandbox.counters();
    assert_eq!(sent.route("POST /vultr/v2/instances/{id}/start"), 1);
    assert_eq!(sent.route("POST /digitalocean/v2/droplets/{id}/actions"), 1);
    assert_eq!(sent.route("POST /linode/v4/linode/instances/{id}/boot"), 1);
    let stored = live.store.inventory(ORG, None).await.expect("inventory");
    for (_, label) in servers {
        let address = format!("servers.{label}");
        assert_eq!(
            status_of(&stored, &address).as_deref(),
            Some("running"),
            "{address}"
        );
    }
    live.sync().await;
    let after = live.plan().await;
    assert!(!after.has_changes(), "{:#?}", after.actions);
    assert_eq!(after.summary.drift, 0);
}

/// A Vercel project never deployed (no repository, so no production aliases) created with a
/// custom domain: after apply and a sync its domain is read from its domain listing, and the
/// plan asks for nothing (before, it asked to add the domain again, which Vercel refuses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_deployed_vercel_project_with_a_domain_plans_nothing_after_apply() {
    let extra = r#"
[web_services.quiet]
dock = "vercel-main"
subtype = "project"
framework = "vite"
domains = ["www.quiet.example"]
"#;
    let live = Live::new(extra).await;
    let report = live.converge().await;
    assert_eq!(report.failed(), 0, "{:#?}", report.run.actions);
    live.sync().await;
    let plan = live.plan().await;
    assert!(
        !plan.has_changes(),
        "{}",
        render::text::render(&plan, &Default::default())
    );
}
