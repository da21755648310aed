//! The dock catalogs (regions, plans, images, marketplace apps) as the store keeps them: on the
//! dock's status (`docks` table, `catalog` attribute) with the time they were read, used for
//! [`CATALOG_TTL`] before they are read again. The sync, `stackdock catalog` and the plan-time
//! checks all go through here, so a catalog is read from a provider at most once a day per dock
//! unless someone asks for it (`--refresh`).

use jiff::Timestamp;
use stackdock_core::config::Config;
use stackdock_core::record::{DockStatus, dock_id};
use stackdock_providers::{CATALOG_TTL, Catalog, Provider};
use stackdock_store::Store;

use crate::{Docks, EngineError};

/// The stored catalog of `status`, if it has a readable one read less than the TTL ago.
pub(crate) fn fresh_stored(status: &DockStatus, now: Timestamp) -> Option<Catalog> {
    let stored = Catalog::from_stored(status.catalog.as_deref()?).ok()?;
    stored.is_fresh(now, CATALOG_TTL).then_some(stored)
}

/// The catalog to store on `status`: read from the provider when the stored one is missing,
/// unreadable or older than the TTL, or when `force`. `None`: keep what is stored (it is fresh,
/// the provider has no catalog, or the read failed, which is logged).
pub(crate) async fn refresh(
    provider: &dyn Provider,
    status: &DockStatus,
    now: Timestamp,
    force: bool,
) -> Option<String> {
    if !force && fresh_stored(status, now).is_some() {
        return None;
    }
    match provider.catalog().await {
        Ok(Some(mut catalog)) => {
            catalog.fetched_at = Some(now);
            Some(catalog.to_stored())
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(dock = %status.name, error = %e, "catalog not read; the stored one is kept");
            None
        }
    }
}

/// A dock's catalog as `stackdock catalog` shows it.
#[derive(Debug, Clone)]
pub struct DockCatalog {
    pub catalog: Catalog,
    /// Read from the provider by this call (else: the store's copy, still fresh).
    pub read_now: bool,
}

/// The catalog of dock `name`: the store's copy while it is fresh (no provider request), else
/// (or with `refresh`) read from the provider through `docks` and stored on the dock's status.
///
/// # Errors
/// The dock is not in the config, its provider has no catalog, its credential is missing, or
/// the provider or the store failed.
pub async fn dock_catalog(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    name: &str,
    refresh: bool,
) -> Result<DockCatalog, EngineError> {
    let dock = config.docks.get(name).ok_or_else(|| {
        EngineError::Invalid(format!(
            "no dock `{name}` in the config; `stackdock docks` lists them"
        ))
    })?;
    if stackdock_providers::registered(dock.provider)
        .catalog
        .is_none()
    {
        return Err(EngineError::Invalid(format!(
            "{} docks have no catalog of regions, plans, images or apps here",
            stackdock_providers::declaration(dock.provider).display_name
        )));
    }
    let org = &config.settings.org;
    let id = dock_id(org, name);
    let now = Timestamp::now();
    let status = store
        .dock_statuses(org)
        .await?
        .into_iter()
        .find(|s| s.dock_id == id);
    if !refresh && let Some(catalog) = status.as_ref().and_then(|s| fresh_stored(s, now)) {
        return Ok(DockCatalog {
            catalog,
            read_now: false,
        });
    }
    let provider = docks.get(name).ok_or_else(|| EngineError::Credential {
        dock: name.to_owned(),
        message: docks
            .failures
            .get(name)
            .cloned()
            .unwrap_or_else(|| "no adapter to read the catalog with".to_owned()),
    })?;
    let Some(mut catalog) = provider.catalog().await? else {
        return Err(EngineError::Invalid(format!(
            "dock `{name}` has no catalog"
        )));
    };
    catalog.fetched_at = Some(now);
    let mut status = status.unwrap_or_else(|| DockStatus {
        org_id: org.clone(),
        dock_id: id,
        name: name.to_owned(),
        provider: dock.provider,
        last_sync_at: None,
        last_attempt_at: None,
        last_error: None,
        catalog: None,
        env_fingerprints: Default::default(),
    });
    status.catalog = Some(catalog.to_stored());
    store.put_dock_status(&status).await?;
    Ok(DockCatalog {
        catalog,
        read_now: true,
    })
}
