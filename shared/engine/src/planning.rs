//! Planning against the store: each dock's sync state derived from its status, the pure plan
//! computed, and drift written back to the records.

use stackdock_core::notify::Occurrence;
use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use stackdock_core::config::Config;
use stackdock_core::env_values::EnvFingerprints;
use stackdock_core::plan::{ActionKind, DockState, Plan, plan_checked};
use stackdock_core::record::{DockStatus, DriftEntry, dock_id};
use stackdock_core::{Kind, Record};
use stackdock_providers::check_plan_catalog;
use stackdock_store::Store;

use crate::{Docks, EngineError};

/// How old a dock's last complete sync may be before its plan is blocked.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    pub max_age: Duration,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            max_age: Duration::from_secs(60 * 60),
        }
    }
}

/// Each configured dock's state at `now`.
pub fn dock_states(
    config: &Config,
    statuses: &[DockStatus],
    now: Timestamp,
    max_age: Duration,
) -> BTreeMap<String, DockState> {
    config
        .docks
        .keys()
        .map(|name| {
            let id = dock_id(&config.settings.org, name);
            let state = match statuses.iter().find(|s| s.dock_id == id) {
                None => DockState::NeverSynced,
                Some(s) => match (&s.last_error, s.last_sync_at) {
                    (Some(error), _) => DockState::Failed {
                        error: error.clone(),
                    },
                    (None, None) => DockState::NeverSynced,
                    (None, Some(at)) => {
                        let age = now.duration_since(at);
                        if age.as_secs_f64() > max_age.as_secs_f64() {
                            DockState::Stale {
                                last_sync_at: at.to_string(),
                            }
                        } else {
                            DockState::Fresh
                        }
                    }
                },
            };
            (name.clone(), state)
        })
        .collect()
}

/// The plan of `config` against the store's current inventory, with each desired resource
/// checked against its provider's catalogs (unknown regions, sizes, images become `error`
/// actions): against the catalog stored on the dock's status while it is fresh (or, for a dock
/// without an adapter, such as in the API functions, whatever is stored), sending no request;
/// else through the dock's adapter, which reads it. A catalog that cannot be read skips that
/// check with a warning: the provider's own validation still refuses a bad request at apply
/// time.
pub async fn plan_current(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: PlanOptions,
) -> Result<Plan, EngineError> {
    let inventory = store.inventory(&config.settings.org, None).await?;
    plan_against(config, docks, store, &inventory, opts).await
}

/// Like [`plan_current`], against `inventory` (the store's, read by the caller) — what the
/// apply's steps use to read the inventory once per step.
pub async fn plan_against(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    inventory: &[Record],
    opts: PlanOptions,
) -> Result<Plan, EngineError> {
    let org = &config.settings.org;
    let statuses = store.dock_statuses(org).await?;
    let now = Timestamp::now();
    let states = dock_states(config, &statuses, now, opts.max_age);
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in &config.resources {
        if states.get(resource.dock.as_str()) != Some(&DockState::Fresh) {
            continue;
        }
        let spec = resource.spec(org);
        let status = statuses
            .iter()
            .find(|s| s.dock_id == dock_id(org, &resource.dock));
        let provider = docks.get(&resource.dock);
        // A fresh stored catalog is checked without a request; without an adapter (the API
        // functions hold no provider secret) a stale one still is, as the best there is.
        let stored = status.and_then(|s| {
            let fresh = crate::catalog::fresh_stored(s, now).is_some();
            (fresh || provider.is_none())
                .then(|| s.catalog.as_deref().map(|c| (s.provider, c)))
                .flatten()
        });
        let found = match (stored, provider) {
            (Some((kind_of, catalog)), _) => {
                check_plan_catalog(kind_of, catalog, resource.kind, &spec)
            }
            (None, Some(provider)) => provider
                .validate(resource.kind, &spec)
                .await
                .map_err(|e| e.to_string()),
            (None, None) => Ok(Vec::new()),
        };
        match found {
            Ok(found) if !found.is_empty() => {
                problems.insert(resource.address(), found);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(address = %resource.address(), error = %e, "catalog check skipped")
            }
        }
    }
    // Each address's fingerprints come from its own dock's status: an entry moved to another
    // dock is compared once that dock has synced it.
    let services: BTreeMap<String, String> = config
        .resources
        .iter()
        .filter(|r| r.kind == Kind::WebServices)
        .map(|r| (r.address(), dock_id(org, &r.dock)))
        .collect();
    let fingerprints: EnvFingerprints = statuses
        .iter()
        .flat_map(|s| {
            s.env_fingerprints
                .iter()
                .filter(|(address, _)| services.get(*address) == Some(&s.dock_id))
        })
        .map(|(address, fps)| (address.clone(), fps.clone()))
        .collect();
    Ok(plan_checked(
        config,
        inventory,
        &states,
        &problems,
        &fingerprints,
    ))
}

/// Writes the plan's drift onto the records (and clears drift that is gone); returns how many
/// records changed.
pub async fn record_drift(
    plan: &Plan,
    config: &Config,
    store: &dyn Store,
) -> Result<usize, EngineError> {
    Ok(record_drift_noting(plan, config, store).await?.0)
}

/// [`record_drift`], also returning the occurrences its writes are: a record whose drift flags go
/// from none to some (or to other fields) drifted, one whose flags clear is resolved.
pub async fn record_drift_noting(
    plan: &Plan,
    config: &Config,
    store: &dyn Store,
) -> Result<(usize, Vec<Occurrence>), EngineError> {
    let org = &config.settings.org;
    let drift: BTreeMap<(String, Option<Kind>, String), Vec<DriftEntry>> = plan
        .of_kind(ActionKind::Drift)
        .filter_map(|a| {
            let id = a.provider_id.clone()?;
            let entries = a
                .changes
                .iter()
                .map(|c| DriftEntry {
                    field: c.field.clone(),
                    desired: c.before.clone(),
                    actual: c.after.clone(),
                })
                .collect();
            Some(((dock_id(org, &a.dock), a.kind, id), entries))
        })
        .collect();
    let blocked: Vec<String> = plan
        .of_kind(ActionKind::Blocked)
        .map(|a| dock_id(org, &a.dock))
        .collect();
    let mut changed = Vec::new();
    let mut occurrences = Vec::new();
    for mut record in store.inventory(org, None).await? {
        if blocked.iter().any(|b| record.dock_id == *b) {
            continue;
        }
        let want = drift
            .get(&(
                record.dock_id.to_string(),
                Some(record.kind()),
                record.provider_resource_id.to_string(),
            ))
            .cloned()
            .unwrap_or_default();
        if record.drift != want {
            let dock = record
                .dock_id
                .strip_prefix(&format!("{org}/"))
                .unwrap_or(&record.dock_id)
                .to_owned();
            let address = record.managed_by.as_deref().map_or_else(
                || format!("{} {}", record.kind().config_key(), record.name),
                str::to_owned,
            );
            let fields = |d: &[DriftEntry]| d.iter().map(|e| e.field.clone()).collect::<Vec<_>>();
            if want.is_empty() {
                occurrences.push(Occurrence::DriftGone { dock, address });
            } else if fields(&want) != fields(&record.drift) {
                occurrences.push(Occurrence::Drift {
                    dock,
                    address,
                    provider_id: record.provider_resource_id.to_string(),
                    fields: fields(&want),
                });
            }
            record.drift = want;
            changed.push(record);
        }
    }
    Ok((store.put_records(&changed).await?, occurrences))
}
