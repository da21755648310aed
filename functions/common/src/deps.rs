//! `Deps`: what every handler works with — the deployed config, the store, the docks' adapters
//! and the apply submitter — built once per cold start and shared by every invocation.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use stackdock_core::config::{self, Config, DEFAULT_SECRET_PREFIX, LambdaTarget};
use stackdock_core::plan::Plan;
use stackdock_engine::{
    Adapters, CREDENTIAL_TTL, CredentialResolver, DefaultResolver, Docks, EngineError, PlanOptions,
    ProviderFactory, SecretsManagerResolver, plan_current,
};
use stackdock_store::{DynamoStore, Store};

use crate::notify::Notifier;
use crate::plans::RecentPlans;
use crate::{
    APPLY_STATE_MACHINE_VAR, ApplySubmitter, FunctionError, InProcessSubmitter, LambdaSubmitter,
    StateMachineSubmitter,
};

/// The config file's name beside the bootstrap (the default of `STACKDOCK_CONFIG`).
const CONFIG_FILE: &str = "stackdock.toml";

/// Everything a handler needs, built once.
#[derive(Debug)]
pub struct Deps {
    /// The deployed stackdock.toml, parsed once.
    pub config: Config,
    /// Directory `user_data_file` paths are relative to.
    pub config_dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub docks: Docks,
    pub submitter: Arc<dyn ApplySubmitter>,
    pub plan_options: PlanOptions,
    /// How long an apply holds the org's lease before renewing.
    pub lease_ttl: Duration,
    /// Per-resource readiness wait of an apply.
    pub ready_timeout: Duration,
    pub(crate) recent_plans: RecentPlans,
    /// Where `[notify]` messages go (the sync's plan step and the apply worker send).
    pub notifier: Notifier,
    /// The sync-dock function's docks, built per dock when it is synced (`docks_for`).
    on_demand: Option<OnDemand>,
}

/// What builds one dock's adapter when it is synced, and the last one built (a warm container
/// syncing the same dock again reuses it and its credential, which heals as any does).
#[derive(Debug)]
struct OnDemand {
    resolver: Arc<dyn CredentialResolver>,
    factory: Arc<dyn ProviderFactory>,
    last: std::sync::Mutex<Option<(String, Docks)>>,
}

/// `STACKDOCK_SYNC_DOCK=1`: the function syncs one dock per invocation (the sync state machine's
/// sync-dock function), so it resolves only that dock's credential, when it syncs it, instead of
/// every dock's at the cold start.
pub const SYNC_DOCK_VAR: &str = "STACKDOCK_SYNC_DOCK";

impl Deps {
    /// Deps from parts (tests, or a caller that built its own store and adapters); `user_data_file`
    /// paths resolve against the current directory.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        docks: Docks,
        submitter: Arc<dyn ApplySubmitter>,
    ) -> Arc<Deps> {
        Deps::new_in(PathBuf::from("."), config, store, docks, submitter)
    }

    /// Like `new`, with the directory of stackdock.toml.
    pub fn new_in(
        config_dir: PathBuf,
        config: Config,
        store: Arc<dyn Store>,
        docks: Docks,
        submitter: Arc<dyn ApplySubmitter>,
    ) -> Arc<Deps> {
        Deps::build(
            config_dir,
            config,
            store,
            docks,
            submitter,
            (Notifier::default(), None),
        )
    }

    /// Like `new_in`, sending `[notify]` messages through `notifier` (the deployed functions',
    /// or a test's pointed at moto).
    pub fn notifying(
        config_dir: PathBuf,
        config: Config,
        store: Arc<dyn Store>,
        docks: Docks,
        submitter: Arc<dyn ApplySubmitter>,
        notifier: Notifier,
    ) -> Arc<Deps> {
        Deps::build(
            config_dir,
            config,
            store,
            docks,
            submitter,
            (notifier, None),
        )
    }

    /// Deps of a function that syncs one dock per invocation: no dock is resolved now; each is
    /// built from `resolver` and `factory` when `docks_for` asks for it (the sync-dock function,
    /// `STACKDOCK_SYNC_DOCK=1`).
    pub fn on_demand(
        config_dir: PathBuf,
        config: Config,
        store: Arc<dyn Store>,
        resolver: Arc<dyn CredentialResolver>,
        factory: Arc<dyn ProviderFactory>,
        submitter: Arc<dyn ApplySubmitter>,
    ) -> Arc<Deps> {
        let on_demand = OnDemand {
            resolver,
            factory,
            last: std::sync::Mutex::new(None),
        };
        Deps::build(
            config_dir,
            config,
            store,
            Docks::default(),
            submitter,
            (Notifier::default(), Some(on_demand)),
        )
    }

    /// The one place a `Deps` is assembled: the defaults every function shares, and the
    /// submitter bound to it.
    fn build(
        config_dir: PathBuf,
        config: Config,
        store: Arc<dyn Store>,
        docks: Docks,
        submitter: Arc<dyn ApplySubmitter>,
        (notifier, on_demand): (Notifier, Option<OnDemand>),
    ) -> Arc<Deps> {
        let deps = Arc::new(Deps {
            config,
            config_dir,
            store,
            docks,
            submitter,
            plan_options: PlanOptions::default(),
            lease_ttl: Duration::from_secs(15 * 60),
            // Lambda stops a function after 15 minutes at most: leave room to record the run.
            ready_timeout: Duration::from_secs(10 * 60),
            recent_plans: RecentPlans::default(),
            notifier,
            on_demand,
        });
        deps.submitter.bind(Arc::downgrade(&deps));
        deps
    }

    /// The docks to sync `dock` with: all of them (built at the cold start), or, for the
    /// sync-dock function, that dock's alone, its credential resolved now (and reused while
    /// the same container syncs the same dock).
    pub(crate) async fn docks_for(&self, dock: &str) -> Docks {
        let Some(on_demand) = &self.on_demand else {
            return self.docks.clone();
        };
        let cached = on_demand.last.lock().ok().and_then(|last| {
            last.as_ref()
                .filter(|(n, _)| n == dock)
                .map(|(_, d)| d.clone())
        });
        if let Some(docks) = cached {
            return docks;
        }
        let mut one = self.config.clone();
        one.docks.retain(|name, _| name == dock);
        let docks = Docks::healing(
            &one,
            Arc::clone(&on_demand.resolver),
            Arc::clone(&on_demand.factory),
            CREDENTIAL_TTL,
        )
        .await;
        if let Ok(mut last) = on_demand.last.lock() {
            *last = Some((dock.to_owned(), docks.clone()));
        }
        docks
    }

    /// The deployed function's dependencies, from its environment:
    /// - `STACKDOCK_CONFIG`: path of stackdock.toml (default: `stackdock.toml` beside the
    ///   bootstrap, else in `LAMBDA_TASK_ROOT`);
    /// - `STACKDOCK_TABLE_PREFIX`: DynamoDB table prefix (default: the config's `table_prefix`);
    /// - `STACKDOCK_APPLY_STATE_MACHINE`: ARN of the apply state machine: a submitted apply starts
    ///   an execution of it (`StateMachineSubmitter`, the deployed stack);
    /// - `STACKDOCK_APPLY_FUNCTION`: name or ARN of the apply function, invoked asynchronously
    ///   when no state machine is named (`LambdaSubmitter`); when neither is set, applies run
    ///   in this process (`InProcessSubmitter`: `cargo lambda watch`, where no Lambda Invoke API
    ///   is reachable);
    /// - `STACKDOCK_CREATE_TABLES=1`: create missing tables first (local runs against moto);
    /// - `STACKDOCK_SYNC_DOCK=1`: the sync-dock function: each dock's credential is resolved
    ///   when that dock is synced, never every dock's (see [`SYNC_DOCK_VAR`]);
    /// - `STACKDOCK_NOTIFY_TOPIC_ARN`: the SNS topic of `[notify]`'s `sns = true` (the sync and
    ///   apply functions; `AWS_ENDPOINT_URL_SNS` or `AWS_ENDPOINT_URL` points it at moto);
    /// - the AWS SDK's usual variables (region, credentials, `AWS_ENDPOINT_URL` for moto).
    ///
    /// Credentials heal (`Docks::healing`): a dock whose credential cannot be resolved at the cold
    /// start is logged and resolved again on its next call, every credential is read again after
    /// `CREDENTIAL_TTL` (15 minutes) and when its provider answers 401/403. The API functions
    /// (`STACKDOCK_API_ROUTES` set) resolve no credential at all: their plans use the catalogs the
    /// sync stored and send no provider request.
    ///
    /// Every AWS client has the timeouts of [`aws_timeouts`].
    pub async fn from_env() -> Result<Arc<Deps>, FunctionError> {
        let path = config_path()?;
        let target = lambda_target(|name| std::env::var(name).ok())?;
        let config = load_config(&path, &target)?;
        let prefix = std::env::var("STACKDOCK_TABLE_PREFIX")
            .ok()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| config.settings.table_prefix.clone());
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(aws_timeouts())
            .load()
            .await;
        // One SDK configuration for every client of this cold start.
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &prefix)?;
        if std::env::var("STACKDOCK_CREATE_TABLES").is_ok_and(|v| v == "1") {
            // Local runs only (`cargo lambda watch` against moto): deployed tables come from
            // the SAM template, and the functions' roles may not create tables.
            let created = store.create_tables().await?;
            tracing::info!(
                tables = created.len(),
                "tables ensured (STACKDOCK_CREATE_TABLES=1)"
            );
        }
        let machine = std::env::var(APPLY_STATE_MACHINE_VAR)
            .ok()
            .filter(|arn| !arn.trim().is_empty());
        let function = std::env::var("STACKDOCK_APPLY_FUNCTION")
            .ok()
            .filter(|name| !name.trim().is_empty());
        let submitter: Arc<dyn ApplySubmitter> = match (machine, function) {
            (Some(arn), _) => Arc::new(StateMachineSubmitter::new(&sdk, arn.trim())),
            (None, Some(name)) => Arc::new(LambdaSubmitter::new(&sdk, name.trim())),
            (None, None) => {
                tracing::info!(
                    "neither STACKDOCK_APPLY_STATE_MACHINE nor STACKDOCK_APPLY_FUNCTION is set: submitted applies run in this process"
                );
                Arc::new(InProcessSubmitter::new())
            }
        };
        let dir = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        if std::env::var(SYNC_DOCK_VAR).is_ok_and(|v| v == "1") {
            tracing::info!(
                config = %path.display(),
                org = %config.settings.org,
                docks = config.docks.len(),
                table_prefix = %prefix,
                "dependencies ready; each dock's credential is resolved when it is synced ({SYNC_DOCK_VAR}=1)"
            );
            let resolver = DefaultResolver::with_secrets(SecretsManagerResolver::new(&sdk));
            return Ok(Deps::on_demand(
                dir,
                config,
                Arc::new(store),
                Arc::new(resolver),
                Arc::new(Adapters::default()),
                submitter,
            ));
        }
        let docks = if holds_no_secret() {
            tracing::info!(
                "STACKDOCK_API_ROUTES is set: this API function resolves no provider credential and sends no provider request"
            );
            Docks::default()
        } else {
            let resolver = DefaultResolver::with_secrets(SecretsManagerResolver::new(&sdk));
            Docks::healing(
                &config,
                Arc::new(resolver),
                Arc::new(Adapters::default()),
                CREDENTIAL_TTL,
            )
            .await
        };
        tracing::info!(
            config = %path.display(),
            org = %config.settings.org,
            docks = config.docks.len(),
            table_prefix = %prefix,
            "dependencies ready"
        );
        let notifier = Notifier::from_sdk(&sdk);
        Ok(Deps::notifying(
            dir,
            config,
            Arc::new(store),
            docks,
            submitter,
            notifier,
        ))
    }

    /// The deployed config's org.
    pub fn org(&self) -> &str {
        &self.config.settings.org
    }

    /// The current plan of the deployed config against the stored inventory.
    pub(crate) async fn plan_deployed(&self) -> Result<Plan, EngineError> {
        plan_current(
            &self.config,
            &self.docks,
            self.store.as_ref(),
            self.plan_options,
        )
        .await
    }

    /// Keeps a plan this process served, to explain a later stale digest.
    pub(crate) fn remember(&self, plan: &Plan) {
        self.recent_plans.remember(plan);
    }
}

/// Whether this process is one of the deployed API functions (`STACKDOCK_API_ROUTES` set, to
/// `plan` or `apply`), which hold no provider secret: their role has no `secretsmanager` action.
fn holds_no_secret() -> bool {
    std::env::var("STACKDOCK_API_ROUTES").is_ok_and(|v| !v.trim().is_empty())
}

/// The AWS SDK timeouts of every client (DynamoDB, Lambda, Secrets Manager): 3 s to connect,
/// 5 s per attempt and 12 s per operation, retries included. Chosen against the functions'
/// timeouts (api 30 s, sync 300 s, apply 900 s): a plan makes a few sequential store reads, so
/// one hung operation costs the API at most 12 s and still leaves time to answer with the error
/// instead of being killed; a DynamoDB or Lambda call that is healthy answers in milliseconds,
/// so 5 s per attempt only cuts a dead connection short. Secrets Manager reads use the same
/// numbers with their own retry policy (`secrets_retry`).
pub fn aws_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build()
}

/// Where stackdock.toml is: `STACKDOCK_CONFIG`, else beside the bootstrap, else in
/// `LAMBDA_TASK_ROOT` (SAM and `cargo lambda deploy --include` put extra files there).
fn config_path() -> Result<PathBuf, FunctionError> {
    if let Ok(path) = std::env::var("STACKDOCK_CONFIG")
        && !path.trim().is_empty()
    {
        return Ok(PathBuf::from(path));
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(CONFIG_FILE)));
    let in_task_root = std::env::var("LAMBDA_TASK_ROOT")
        .ok()
        .map(|root| Path::new(&root).join(CONFIG_FILE));
    let candidates: Vec<PathBuf> = beside_exe.into_iter().chain(in_task_root).collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            FunctionError::Config(format!(
                "not found (looked in {}); package it beside the bootstrap or set STACKDOCK_CONFIG",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The deployment's trust boundary for its config (design §11), from `lookup` (the process
/// environment): `STACKDOCK_SECRET_PREFIX` (default `stackdock/`) and `STACKDOCK_ALLOWED_ENDPOINTS`
/// (comma-separated origins).
///
/// # Errors
/// `FunctionError::Startup` naming a bad prefix or origin: the function does not start.
pub fn lambda_target(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<LambdaTarget, FunctionError> {
    let prefix = lookup("STACKDOCK_SECRET_PREFIX")
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SECRET_PREFIX.to_owned());
    let allowed = lookup("STACKDOCK_ALLOWED_ENDPOINTS").unwrap_or_default();
    LambdaTarget::from_list(&prefix, &allowed).map_err(|e| {
        FunctionError::Startup(format!(
            "STACKDOCK_SECRET_PREFIX / STACKDOCK_ALLOWED_ENDPOINTS: {e}"
        ))
    })
}

/// Reads the config and checks it for the Lambda target (`config::check_lambda`): a config that
/// points a dock anywhere but its provider's published API (or an allowed origin), or takes a
/// credential from anywhere but a secret under the prefix, is refused with every diagnostic.
///
/// # Errors
/// `FunctionError::Config` with every diagnostic (`file:line:column: message (help)`).
pub fn load_config(path: &Path, target: &LambdaTarget) -> Result<Config, FunctionError> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| FunctionError::Config(format!("cannot read {}: {e}", path.display())))?;
    config::check_lambda(&path.display().to_string(), &source, target).map_err(|diags| {
        FunctionError::Config(
            diags
                .0
                .iter()
                .map(|d| match &d.help {
                    Some(help) => format!("{}: {} (help: {help})", d.location(), d.message),
                    None => format!("{}: {}", d.location(), d.message),
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}
