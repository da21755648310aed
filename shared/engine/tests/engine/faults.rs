//! The fault matrix: every route the real adapters use (found from the sandbox's counters after a
//! full sync, apply and update of the example fleet, plus the look-ups a lost create response
//! triggers) × the sandbox's fault kinds, each on a fresh sandbox and store. Listing routes are
//! faulted during a sync, create and update routes during an apply.
//!
//! Checked for every cell: the run ends within a bound, without a panic, and either succeeds or
//! fails with an error naming the dock, the route and the class of the cause; nothing is marked
//! missing because of a fault; no resource is created twice (counted by label in the sandbox);
//! after the fault is gone a re-run converges, leaves no intent behind, and every managed record
//! names a resource that exists. Each cell prints `RELIABILITY fault <route> <fault> -> <outcome>`
//! on stderr (an outcome starting with `FAIL` is a violation; the test fails on any).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt};
use stackdock_core::config::{Config, DockConfig};
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::{Kind, ProviderKind};
use stackdock_engine::{
    ApplyOptions, ApplyReport, Docks, EngineError, PlanOptions, ProviderFactory, StaticResolver,
    SyncOptions, SyncReport, apply, plan_current, sync,
};
use stackdock_providers::http::{self, ClientConfig, DockSettings, RetryPolicy};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, DockContext, Tuning};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SbKind, Provider, Sandbox, SandboxConfig, SandboxHandle,
};
use stackdock_store::sqlite::SqliteStore;
use stackdock_store::{Outcome, Store};

const ORG: &str = "acme";
/// One attempt's budget: a `Timeout` fault hangs longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long the faulted run may take (generous: a loaded 2-core CI machine).
const RUN_BOUND: Duration = Duration::from_secs(60);
/// Cells run at once, each on its own sandbox and store.
const PARALLEL: usize = 8;

/// The real adapters with retries tuned for speed: 1 ms backoff, 2 s per call.
#[derive(Debug)]
struct FastAdapters {
    client: http::Client,
}

impl FastAdapters {
    fn new() -> FastAdapters {
        FastAdapters {
            client: http::Client::new(ClientConfig {
                connect_timeout: Duration::from_secs(2),
                request_timeout: REQUEST_TIMEOUT,
                ..ClientConfig::default()
            })
            .expect("http client"),
        }
    }
}

impl ProviderFactory for FastAdapters {
    fn build(
        &self,
        dock: &DockConfig,
        ctx: DockContext,
        credential: Credential,
    ) -> Result<Arc<dyn stackdock_providers::Provider>, EngineError> {
        let mut settings = DockSettings::new(&ctx, credential, dock.endpoint.as_deref());
        settings.retry = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            max_elapsed: Duration::from_secs(2),
        };
        Ok(stackdock_providers::connect_with(
            ctx,
            &self.client,
            settings,
            Tuning {
                poll: PollPolicy::fast(),
            },
        ))
    }
}

fn sb(p: ProviderKind) -> Provider {
    // The sandbox names each provider as `stackdock.toml` does (`ProviderKind::as_str`).
    p.as_str()
        .parse()
        .unwrap_or_else(|e| panic!("the sandbox speaks every provider StackDock has: {e}"))
}

fn sb_kind(k: Kind) -> SbKind {
    match k {
        Kind::Servers => SbKind::Instance,
        Kind::BlockVolumes => SbKind::Volume,
        Kind::Databases => SbKind::Database,
        Kind::Buckets => SbKind::Bucket,
        Kind::Domains => SbKind::Domain,
        Kind::DomainRecords => SbKind::DomainRecord,
        Kind::WebServices => SbKind::WebService,
    }
}

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example fleet, and a variant that changes a field of every kind in place.
fn sources() -> (String, String) {
    let base = std::fs::read_to_string(repo().join("stackdock.toml")).expect("example fleet");
    let mut updated = base.clone();
    for (entry, from, to) in [
        (
            "[servers.web-1]",
            "plan = \"vc2-1c-1gb\"",
            "plan = \"vc2-2c-4gb\"",
        ),
        (
            "[servers.web-2]",
            "tags = [\"web\", \"production\"]",
            "tags = [\"web\"]",
        ),
        (
            "[servers.worker-1]",
            "plan = \"s-1vcpu-1gb\"",
            "plan = \"s-2vcpu-2gb\"",
        ),
        (
            "[servers.monitor-1]",
            "plan = \"g6-nanode-1\"",
            "plan = \"g6-standard-1\"",
        ),
        (
            "[databases.app-db]",
            "plan = \"vultr-dbaas-hobbyist-cc-1-25-1\"",
            "plan = \"vultr-dbaas-startup-cc-1-55-2\"",
        ),
        ("[block_volumes.web-1-data]", "size_gb = 40", "size_gb = 50"),
        (
            "[block_volumes.worker-scratch]",
            "size_gb = 100",
            "size_gb = 110",
        ),
        (
            "[block_volumes.monitor-data]",
            "size_gb = 20",
            "size_gb = 30",
        ),
    ] {
        let start = updated.find(entry).expect("entry in the example fleet");
        let at = start + updated[start..].find(from).expect("field in the entry");
        updated.replace_range(at..at + from.len(), to);
    }
    (base, updated)
}

/// One cell's world: a fresh sandbox, an in-memory store, the fleet pointed at the sandbox.
struct World {
    sandbox: SandboxHandle,
    base: Config,
    updated: Config,
    docks: Docks,
    store: Arc<dyn Store>,
}

impl World {
    async fn new(factory: &FastAdapters) -> World {
        let sandbox = Sandbox::start(
            SandboxConfig::default()
                .with_pending_polls(1)
                .with_action_polls(1),
        )
        .await
        .expect("sandbox");
        sandbox.seed_fixtures();
        let (base, updated) = sources();
        let configure = |source: &str| {
            let mut config =
                stackdock_core::config::parse("stackdock.toml", source).expect("valid config");
            for dock in config.docks.values_mut() {
                dock.endpoint = Some(sandbox.base_url(sb(dock.provider)));
            }
            config
        };
        let (base, updated) = (configure(&base), configure(&updated));
        let tokens = StaticResolver(
            ProviderKind::ALL
                .into_iter()
                .map(|p| (p, Credential::new(sandbox.token(sb(p)))))
                .collect(),
        );
        let docks = Docks::build(&base, &tokens, factory).await;
        assert!(docks.failures.is_empty(), "{:?}", docks.failures);
        World {
            sandbox,
            base,
            updated,
            docks,
            store: Arc::new(SqliteStore::open_in_memory().expect("store")),
        }
    }

    fn config(&self, phase: Phase) -> &Config {
        match phase {
            Phase::Update => &self.updated,
            _ => &self.base,
        }
    }

    async fn sync(&self) -> Result<SyncReport, EngineError> {
        sync(
            &self.base,
            &self.docks,
            self.store.as_ref(),
            &SyncOptions::default(),
        )
        .await
    }

    async fn plan(&self, config: &Config) -> Plan {
        plan_current(
            config,
            &self.docks,
            self.store.as_ref(),
            PlanOptions::default(),
        )
        .await
        .expect("plan")
    }

    async fn apply(&self, config: &Config, plan: &Plan) -> Result<ApplyReport, EngineError> {
        let mut opts = ApplyOptions::new("faults", "fault-matrix", repo());
        opts.ready_timeout = Duration::from_secs(10);
        apply(plan, config, &self.docks, self.store.as_ref(), &opts).await
    }

    /// Sync, plan, apply without faults; the failures of the apply, if any.
    async fn converge(&self, config: &Config) -> Result<(), String> {
        self.sync().await.map_err(|e| format!("sync: {e}"))?;
        let plan = self.plan(config).await;
        let report = self
            .apply(config, &plan)
            .await
            .map_err(|e| format!("apply: {e}"))?;
        let failed: Vec<String> = report
            .run
            .actions
            .iter()
            .filter(|a| a.outcome != Outcome::Succeeded)
            .map(|a| format!("{}: {}", a.target, a.message))
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }

    /// `(provider id, kind)` of every record already marked missing.
    async fn missing(&self) -> BTreeSet<String> {
        self.store
            .inventory(ORG, None)
            .await
            .expect("inventory")
            .into_iter()
            .filter(|r| r.missing_since.is_some())
            // The record a refused create leaves (`failed:<address>`) is born missing: nothing
            // ever existed at the provider, so no resource was marked missing.
            .filter(|r| !r.provider_resource_id.starts_with("failed:"))
            .map(|r| format!("{} {}", r.dock_id, r.provider_resource_id))
            .collect()
    }

    /// Desired resources present more than once (or, with `exact`, not exactly once), by label.
    /// A DNS record has no label of its own (its entry is its identity): `dangling` checks each
    /// by id, and a record created twice is an unmanaged duplicate the converged plan reports.
    fn miscounted(&self, config: &Config, exact: bool) -> Vec<String> {
        config
            .resources
            .iter()
            .filter(|r| r.kind != Kind::DomainRecords)
            .filter_map(|r| {
                let provider = sb(config.docks[r.dock.as_str()].provider);
                let n = self
                    .sandbox
                    .resources(provider, sb_kind(r.kind))
                    .expect("resources")
                    .iter()
                    .filter(|s| s.label == r.name)
                    .count();
                let wrong = if exact { n != 1 } else { n > 1 };
                wrong.then(|| format!("{} `{}` exists {n} times", r.kind.noun(), r.name))
            })
            .collect()
    }

    /// Managed records that are neither at the provider nor marked missing.
    async fn dangling(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in self.store.inventory(ORG, None).await.expect("inventory") {
            if r.managed_by.is_none() || r.missing_since.is_some() {
                continue;
            }
            let provider = sb(r.provider);
            let exists = self
                .sandbox
                .resources(provider, sb_kind(r.kind()))
                .expect("resources")
                .iter()
                .any(|s| {
                    // A record's id is `<zone>/<record id>`; the sandbox knows the record id.
                    let id = match r.kind() {
                        Kind::DomainRecords => r.provider_resource_id.rsplit('/').next(),
                        _ => Some(r.provider_resource_id.as_str()),
                    };
                    Some(s.id.as_str()) == id
                });
            if !exists {
                out.push(format!(
                    "{} {} ({})",
                    r.kind().noun(),
                    r.provider_resource_id,
                    r.managed_by.unwrap_or_default()
                ));
            }
        }
        out
    }
}

/// When a route is used, so when its fault is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Listing every dock.
    Sync,
    /// Planning (DigitalOcean's catalogs, fetched to check sizes, regions and images).
    Plan,
    /// Creating the example fleet (and resolving a lost create response).
    Apply,
    /// Changing a field of every kind in place.
    Update,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Sync => "sync",
            Phase::Plan => "plan",
            Phase::Apply => "apply",
            Phase::Update => "update",
        }
    }
}

fn fault_name(f: &Fault) -> String {
    match f {
        Fault::Latency { ms } => format!("latency_{ms}ms"),
        Fault::RateLimited { retry_after } => match retry_after {
            Some(s) => format!("rate_limited_retry_after_{s}s"),
            None => "rate_limited".into(),
        },
        Fault::Status { code } => format!("status_{code}"),
        Fault::CreateThen500 => "create_then_500".into(),
        Fault::Timeout { ms } => format!("timeout_{ms}ms"),
        Fault::MalformedJson => "malformed_json".into(),
        Fault::TruncatedBody => "truncated_body".into(),
        Fault::PaginationLoop => "pagination_loop".into(),
        Fault::EmptyPage => "empty_page".into(),
        Fault::OkWithErrorBody => "ok_with_error_body".into(),
        Fault::OversizedBody { bytes } => format!("oversized_body_{bytes}"),
        Fault::SlowBody {
            chunk_bytes,
            delay_ms,
        } => format!("slow_body_{chunk_bytes}b_per_{delay_ms}ms"),
    }
}

/// Every fault kind the sandbox has.
fn every_fault() -> Vec<Fault> {
    vec![
        Fault::Latency { ms: 50 },
        Fault::RateLimited {
            retry_after: Some(1),
        },
        Fault::Status { code: 502 },
        Fault::CreateThen500,
        Fault::Timeout { ms: 1500 },
        Fault::MalformedJson,
        Fault::TruncatedBody,
        Fault::PaginationLoop,
        Fault::EmptyPage,
        Fault::OkWithErrorBody,
        Fault::SlowBody {
            chunk_bytes: 256,
            delay_ms: 2,
        },
    ]
}

/// The representative subset for the other routes: what can lose a listing (listing routes), a
/// poll's answer (reads during an apply) or a change's answer (mutating routes).
fn subset(route: &str, phase: Phase) -> Vec<Fault> {
    let (status, timeout) = (Fault::Status { code: 502 }, Fault::Timeout { ms: 1500 });
    match (route.starts_with("GET "), phase) {
        (true, Phase::Sync) => vec![
            status,
            timeout,
            Fault::MalformedJson,
            Fault::EmptyPage,
            Fault::OkWithErrorBody,
        ],
        (true, Phase::Plan) => vec![status, Fault::MalformedJson],
        (true, _) => vec![status, timeout],
        (false, _) => vec![status, Fault::CreateThen500, timeout, Fault::MalformedJson],
    }
}

/// Each provider's main listing and main create route: every fault is tried on them.
const MAIN_ROUTES: [&str; 6] = [
    "GET /vultr/v2/instances",
    "POST /vultr/v2/instances",
    "GET /digitalocean/v2/droplets",
    "POST /digitalocean/v2/droplets",
    "GET /linode/v4/linode/instances",
    "POST /linode/v4/linode/instances",
];

/// Routes the adapters use, by the phase that first uses them: a full sync, the example fleet's
/// creates, a lost response of every create route, and an in-place change of every kind.
async fn discover(factory: &FastAdapters) -> BTreeMap<String, Phase> {
    fn note(routes: &mut BTreeMap<String, Phase>, w: &World, phase: Phase) {
        for route in w.sandbox.counters().per_route.keys() {
            routes.entry(route.clone()).or_insert(phase);
        }
        w.sandbox.reset_counters();
    }
    let mut routes: BTreeMap<String, Phase> = BTreeMap::new();
    let w = World::new(factory).await;
    w.sync().await.expect("sync");
    note(&mut routes, &w, Phase::Sync);
    w.plan(&w.base).await;
    note(&mut routes, &w, Phase::Plan);
    w.converge(&w.base)
        .await
        .expect("the example fleet converges");
    note(&mut routes, &w, Phase::Apply);
    w.converge(&w.updated).await.expect("the update converges");
    note(&mut routes, &w, Phase::Update);

    // Lost create responses: the look-ups by ownership tag.
    let w = World::new(factory).await;
    w.sync().await.expect("sync");
    w.sandbox.reset_counters();
    for route in routes
        .iter()
        .filter(|(r, p)| **p == Phase::Apply && r.starts_with("POST "))
        .map(|(r, _)| r.clone())
        .collect::<Vec<_>>()
    {
        w.sandbox
            .add_fault(FaultRule::new(route, Fault::CreateThen500).times(1));
    }
    // A volume whose create answer was lost is found but not attached: that action fails.
    let _ = w.converge(&w.base).await;
    note(&mut routes, &w, Phase::Apply);
    routes
}

/// `(dock, route, class)` named by a classified error message
/// (`dock `x`: GET /instances: transient failure: …`).
fn classified(message: &str) -> Option<(String, String, String)> {
    const CLASSES: [&str; 6] = [
        "not found",
        "unauthorized",
        "rate limited",
        "transient failure",
        "invalid request",
        "conflict",
    ];
    let rest = &message[message.find("dock `")? + 6..];
    let (dock, rest) = rest.split_once("`: ")?;
    let (route, rest) = rest.split_once(": ")?;
    let method_ok = ["GET /", "POST /", "PUT /", "PATCH /", "DELETE /"]
        .iter()
        .any(|m| route.starts_with(m));
    let class = CLASSES.iter().find(|c| rest.starts_with(**c))?;
    method_ok.then(|| (dock.to_owned(), route.to_owned(), (*class).to_owned()))
}

/// The sandbox route as the adapter names it: without the provider prefix, up to the first id.
fn adapter_route(route: &str) -> String {
    let (method, path) = route.split_once(' ').unwrap_or(("", route));
    let path = Provider::from_path(path).map_or(path, |p| &path[p.prefix().len()..]);
    let stem = path.split('{').next().unwrap_or(path);
    format!("{method} {stem}")
}

/// The changes a plan still holds, or "" when it has none.
fn left_to_do(plan: &Plan) -> String {
    plan.changes()
        .map(|a| {
            format!(
                "{} {}",
                a.action.as_str(),
                a.address.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one cell saw: the outcome line and any violations.
struct Cell {
    route: String,
    fault: Fault,
    outcome: String,
}

async fn run_cell(factory: Arc<FastAdapters>, route: String, phase: Phase, fault: Fault) -> Cell {
    let w = World::new(&factory).await;
    let config = w.config(phase).clone();
    let mut violations: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // Before the fault: a synced store (sync), a plan of creates (apply), a converged fleet and a
    // plan of in-place changes (update).
    let plan = match phase {
        Phase::Sync | Phase::Plan => None,
        Phase::Apply => {
            w.sync().await.expect("sync");
            Some(w.plan(&config).await)
        }
        Phase::Update => {
            w.converge(&w.base).await.expect("converge");
            w.sync().await.expect("sync");
            Some(w.plan(&config).await)
        }
    };
    if matches!(phase, Phase::Sync | Phase::Plan) {
        w.sync().await.expect("sync");
    }
    let missing_before = w.missing().await;
    let before = w.sandbox.counters().route(&route);
    w.sandbox
        .add_fault(FaultRule::new(route.clone(), fault.clone()));

    // The faulted run; a panic is caught and reported as one.
    let task = {
        let (world, config) = (&w, &config);
        std::panic::AssertUnwindSafe(async move {
            match plan {
                None if phase == Phase::Plan => plan_current(
                    config,
                    &world.docks,
                    world.store.as_ref(),
                    PlanOptions::default(),
                )
                .await
                .map(|plan| {
                    plan.actions
                        .into_iter()
                        .filter(|a| matches!(a.action, ActionKind::Error | ActionKind::Blocked))
                        .map(|a| a.reason)
                        .collect::<Vec<_>>()
                }),
                None => world.sync().await.map(|r| {
                    r.docks
                        .into_iter()
                        .filter_map(|d| d.error)
                        .collect::<Vec<_>>()
                }),
                Some(plan) => world.apply(config, &plan).await.map(|r| {
                    r.run
                        .actions
                        .into_iter()
                        .filter(|a| a.outcome == Outcome::Failed)
                        .map(|a| a.message)
                        .collect::<Vec<_>>()
                }),
            }
        })
        .catch_unwind()
    };
    let result = tokio::time::timeout(RUN_BOUND, task).await;
    w.sandbox.clear_faults();
    let fired = w.sandbox.counters().route(&route) > before;
    let outcome_of_run = match result {
        Err(_) => {
            violations.push(format!("did not end within {RUN_BOUND:?}"));
            String::new()
        }
        Ok(Err(panic)) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            violations.push(format!("panicked: {why}"));
            String::new()
        }
        Ok(Ok(Err(e))) => match classified(&e.to_string()) {
            Some((dock, r, class)) => format!("refused: {class} (dock `{dock}`, {r})"),
            None => {
                violations.push(format!("an unclassified error: {e}"));
                String::new()
            }
        },
        Ok(Ok(Ok(errors))) if errors.is_empty() => "ok".to_owned(),
        Ok(Ok(Ok(errors))) => {
            let mut seen = BTreeSet::new();
            for e in &errors {
                match classified(e) {
                    Some((dock, r, class)) => {
                        seen.insert(format!("{class} (dock `{dock}`, {r})"));
                    }
                    None => violations.push(format!("an unclassified error: {e}")),
                }
            }
            let want = adapter_route(&route);
            if fired && !seen.iter().any(|s| s.contains(&want)) {
                notes.push(format!("the faulted route {want} is not the one named"));
            }
            format!(
                "{} error{}: {}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                seen.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    };

    // Nothing marked missing by the faulted run; no duplicate even before the re-run.
    let newly_missing: Vec<String> = w
        .missing()
        .await
        .difference(&missing_before)
        .cloned()
        .collect();
    let untold = NO_TOTAL.iter().find(|(at, _)| route.contains(at));
    if let (false, Fault::EmptyPage, Some((_, whose))) = (newly_missing.is_empty(), &fault, untold)
    {
        // A known limit, not a fix: these answers carry no total, so an empty page cannot be told
        // from an empty list. The records are marked missing (never deleted: missing is not a
        // plan action) until the next sync lists them again, which the checks below require.
        notes.push(format!(
            "LIMIT: {whose} no total, so an empty page reads as an empty list; {} marked missing until the next sync",
            newly_missing.len()
        ));
    } else if !newly_missing.is_empty() {
        violations.push(format!(
            "marked missing although nothing was deleted: {}",
            newly_missing.join(", ")
        ));
    }
    violations.extend(w.miscounted(&config, false));
    if outcome_of_run == "ok" && matches!(phase, Phase::Apply | Phase::Update) {
        // An apply that reports success has done everything: nothing is left to plan.
        w.sync().await.expect("sync");
        let left = left_to_do(&w.plan(&config).await);
        if !left.is_empty() {
            violations.push(format!("the apply reported success but left {left}"));
        }
    }

    // The fault gone: a re-run converges, resolves every intent, and the store matches the world.
    match phase {
        Phase::Sync | Phase::Plan => match w.sync().await {
            Ok(r) if r.failed().next().is_none() => {}
            Ok(r) => violations.push(format!(
                "the re-sync failed: {:?}",
                r.failed().map(|d| d.error.clone()).collect::<Vec<_>>()
            )),
            Err(e) => violations.push(format!("the re-sync failed: {e}")),
        },
        Phase::Apply | Phase::Update => {
            if let Err(e) = w.converge(&config).await {
                violations.push(format!("the re-run failed: {e}"));
            }
            violations.extend(w.miscounted(&config, true));
        }
    }
    w.sync().await.expect("sync");
    let again = w.plan(&config).await;
    if matches!(phase, Phase::Apply | Phase::Update) {
        let left = left_to_do(&again);
        if !left.is_empty() {
            violations.push(format!("not converged: {left}"));
        }
    } else if again.summary.blocked + again.summary.error > 0 {
        violations.push(format!(
            "the plan after the fault is blocked or in error: {:?}",
            again
                .of_kind(ActionKind::Blocked)
                .chain(again.of_kind(ActionKind::Error))
                .map(|a| a.reason.clone())
                .collect::<Vec<_>>()
        ));
    }
    let intents = w.store.intents(ORG).await.expect("intents");
    if !intents.is_empty() {
        violations.push(format!(
            "intents left: {}",
            intents
                .iter()
                .map(|i| i.address.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    violations.extend(
        w.dangling()
            .await
            .into_iter()
            .map(|d| format!("a managed record without its resource: {d}")),
    );
    let missing_after: Vec<String> = w
        .missing()
        .await
        .difference(&missing_before)
        .cloned()
        .collect();
    if !missing_after.is_empty() {
        violations.push(format!(
            "missing after the re-run: {}",
            missing_after.join(", ")
        ));
    }

    let outcome = if !violations.is_empty() {
        format!("FAIL: {}", violations.join("; "))
    } else if !fired {
        "not reached (the route was not requested)".to_owned()
    } else {
        let mut o = format!("{}: {outcome_of_run}", phase.name());
        if matches!(phase, Phase::Sync | Phase::Plan) {
            o.push_str("; nothing marked missing");
        } else {
            o.push_str("; no duplicate");
        }
        o.push_str(if matches!(phase, Phase::Sync | Phase::Plan) {
            "; re-sync clean, no intent left"
        } else {
            "; re-run converged, no intent left"
        });
        for n in notes {
            o.push_str("; ");
            o.push_str(&n);
        }
        o
    };
    Cell {
        route,
        fault,
        outcome,
    }
}

/// Listings whose answers carry no total (documented so), with whose they are: an empty page
/// there is a documented limit, not a violation.
const NO_TOTAL: [(&str, &str); 2] = [
    (
        "/vercel/",
        "Vercel's list pages (`pagination` is `{count, next, prev}`) carry",
    ),
    (
        "/workers/scripts",
        "Cloudflare's Workers listing (the common envelope and `result`) carries",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_under_every_fault_ends_classified_and_loses_nothing() {
    let factory = Arc::new(FastAdapters::new());
    let routes = discover(&factory).await;
    let mut cells: Vec<(String, Phase, Fault)> = Vec::new();
    for (route, phase) in &routes {
        let faults = if MAIN_ROUTES.contains(&route.as_str()) {
            every_fault()
        } else {
            subset(route, *phase)
        };
        cells.extend(faults.into_iter().map(|f| (route.clone(), *phase, f)));
    }
    for main in MAIN_ROUTES {
        assert!(routes.contains_key(main), "{main} is used: {routes:?}");
    }
    eprintln!(
        "RELIABILITY fault-sampling {} routes used by the adapters (from the sandbox counters after a sync, the example fleet's apply, lost create responses and an in-place update); every fault kind on each provider's main list and create route ({}); on the other listing routes Status 502, Timeout, MalformedJson, EmptyPage and OkWithErrorBody; on the plan-time catalog routes Status 502 and MalformedJson; on reads during an apply (readiness polls, look-ups) Status 502 and Timeout; on mutating routes Status 502, CreateThen500, Timeout and MalformedJson; {} cells",
        routes.len(),
        MAIN_ROUTES.join(", "),
        cells.len()
    );
    let results: Vec<Cell> = futures::stream::iter(cells)
        .map(|(route, phase, fault)| run_cell(Arc::clone(&factory), route, phase, fault))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut results = results;
    results.sort_by(|a, b| (&a.route, fault_name(&a.fault)).cmp(&(&b.route, fault_name(&b.fault))));
    let mut failures = Vec::new();
    for c in &results {
        let line = format!(
            "RELIABILITY fault {} {} -> {}",
            c.route,
            fault_name(&c.fault),
            c.outcome
        );
        eprintln!("{line}");
        if c.outcome.starts_with("FAIL") {
            failures.push(line);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
