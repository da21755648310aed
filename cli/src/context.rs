//! What every command needs, built once: the config, the store and the docks' adapters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use stackdock_core::config::{self, Config};
use stackdock_engine::{Adapters, CredentialResolver, DefaultResolver, Docks, ProviderFactory};
use stackdock_store::sqlite::SqliteStore;
use stackdock_store::{DynamoStore, Store};

/// Reads and validates the config file.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    let source = read_config(path)?;
    Ok(config::parse(&path.display().to_string(), &source)?)
}

/// Reads the config file and checks it for the Lambda target (`stackdock validate --target lambda`).
pub fn load_config_for(path: &Path, target: &config::LambdaTarget) -> anyhow::Result<Config> {
    let source = read_config(path)?;
    Ok(config::check_lambda(
        &path.display().to_string(),
        &source,
        target,
    )?)
}

fn read_config(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {} (run in the directory of your stackdock.toml, or pass --config PATH)",
            path.display()
        )
    })?;
    let source = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{} is not valid UTF-8 (first invalid byte at offset {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(source)
}

/// The `--kind` and `--dock` filters of a listing command, checked against the config: the kind
/// parsed (either spelling), an unknown dock refused with the docks the file declares.
pub fn kind_and_dock(
    config: &Config,
    kind: Option<&str>,
    dock: Option<&str>,
) -> anyhow::Result<Option<stackdock_core::Kind>> {
    let kind = kind
        .map(str::parse::<stackdock_core::Kind>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let Some(d) = dock
        && !config.docks.contains_key(d)
    {
        bail!(
            "unknown dock `{d}`; stackdock.toml declares: {}",
            config.docks.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(kind)
}

/// The directory `user_data_file` paths are relative to.
pub fn config_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Opens the store named by `--store`: `sqlite:PATH` or `dynamodb://PREFIX`.
pub async fn open_store(spec: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(prefix) = spec.strip_prefix("dynamodb://") {
        return Ok(Arc::new(open_dynamodb(prefix).await?));
    }
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if path.is_empty() {
            bail!("--store sqlite: needs a path, e.g. sqlite:.stackdock/stackdock.db");
        }
        let store = SqliteStore::open(Path::new(path))
            .with_context(|| format!("cannot open the store {path}"))?;
        return Ok(Arc::new(store));
    }
    bail!(
        "unknown store `{spec}`; use sqlite:PATH (e.g. sqlite:.stackdock/stackdock.db) or \
         dynamodb://PREFIX"
    )
}

/// Opens the DynamoDB tables `PREFIX-*`; region, credentials and endpoint come from the usual
/// AWS environment variables (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`, …).
pub async fn open_dynamodb(prefix: &str) -> anyhow::Result<DynamoStore> {
    DynamoStore::from_env(prefix)
        .await
        .with_context(|| format!("cannot open the store dynamodb://{prefix}"))
}

/// What a command works with: the config, the store and every dock's adapter, built once.
#[derive(Debug)]
pub struct Session {
    pub config: Config,
    pub config_path: PathBuf,
    pub store: Arc<dyn Store>,
    pub docks: Docks,
}

impl Session {
    /// Loads the config, opens the store and builds the adapters (credentials from the
    /// environment or Secrets Manager); docks whose credential is missing are recorded as
    /// failures, not errors.
    pub async fn open(config_path: &Path, store: &str) -> anyhow::Result<Session> {
        let config = load_config(config_path)?;
        let store = open_store(store).await?;
        Ok(Session::with(
            config,
            config_path,
            store,
            &DefaultResolver::new(),
            &Adapters::default(),
        )
        .await)
    }

    pub async fn with(
        config: Config,
        config_path: &Path,
        store: Arc<dyn Store>,
        resolver: &dyn CredentialResolver,
        factory: &dyn ProviderFactory,
    ) -> Session {
        let docks = Docks::build(&config, resolver, factory).await;
        Session {
            config,
            config_path: config_path.to_path_buf(),
            store,
            docks,
        }
    }

    /// Syncs every dock (see `commands::sync::refresh`).
    pub async fn refresh(&self) -> anyhow::Result<stackdock_engine::SyncReport> {
        crate::commands::refresh(self).await
    }
}
