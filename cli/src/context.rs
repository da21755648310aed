//! What every command needs, built once: the config, the store and the docks' adapters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use stackdock_core::config::{self, Config, DockConfig};
use stackdock_engine::{Docks, EngineError, EnvResolver, ProviderFactory};
use stackdock_providers::{Credential, DockContext, Provider};
use stackdock_store::Store;
use stackdock_store::sqlite::SqliteStore;

/// Reads and validates the config file.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read {} (run in the directory of your stackdock.toml, or pass --config PATH)", path.display())
    })?;
    let source = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{} is not valid UTF-8 (first invalid byte at offset {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(config::parse(&path.display().to_string(), &source)?)
}

/// The directory `user_data_file` paths are relative to.
pub fn config_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Opens the store named by `--store`.
pub fn open_store(spec: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if path.is_empty() {
            bail!("--store sqlite: needs a path, e.g. sqlite:.stackdock/stackdock.db");
        }
        let store = SqliteStore::open(Path::new(path)).with_context(|| format!("cannot open the store {path}"))?;
        return Ok(Arc::new(store));
    }
    bail!("unknown store `{spec}`; use sqlite:PATH (e.g. sqlite:.stackdock/stackdock.db)")
}

/// Builds every dock's adapter; docks whose credential is missing are recorded as failures.
pub async fn docks(config: &Config) -> Docks {
    Docks::build(config, &EnvResolver, &Adapters).await
}

/// The real provider adapters.
#[derive(Debug)]
struct Adapters;

impl ProviderFactory for Adapters {
    fn build(&self, dock: &DockConfig, ctx: DockContext, credential: Credential) -> Result<Arc<dyn Provider>, EngineError> {
        stackdock_providers::connect(ctx, dock.endpoint.as_deref(), credential).map_err(EngineError::from)
    }
}
