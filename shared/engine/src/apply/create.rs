//! Creates: the intent recorded first, the request sent once, and a lost response resolved by
//! the ownership tag, never by sending it again; then the record written as StackDock's.

use std::path::{Component, Path};

use jiff::Timestamp;
use stackdock_core::plan::{Action, ResourceSpec};
use stackdock_core::record::{ProvisioningSource, ProvisioningState};
use stackdock_core::schema::default_value;
use stackdock_core::{FieldValue, Kind, Record};
use stackdock_providers::{ErrorClass, PowerAction, Provider, Request};
use stackdock_store::{Intent, StoreError};

use crate::{EngineError, failed};
use stackdock_core::env_values::ENV_VALUES;

use super::{Executor, managed_keys};

impl Executor<'_> {
    pub(super) async fn create(&self, action: &Action, kind: Kind) -> Result<String, EngineError> {
        let provider = self.provider(action)?;
        let spec = self.spec(action)?;
        let address = Self::address(action);
        let org = &self.config.settings.org;
        let intent = Intent {
            org_id: org.clone(),
            address: address.clone(),
            dock_id: self.dock_id(action),
            kind,
            name: spec.name.clone(),
            owner_tag: spec.owner_tag.clone(),
            run_id: self.run_id.clone(),
            created_at: Timestamp::now(),
        };
        let attach_to_id = self.attach_target(action, kind, spec).await?;
        match self.store.put_intent(&intent).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                // A previous run recorded this create and did not finish: the resource may exist.
                self.say(&format!("  an earlier apply began creating {address}; looking it up by its ownership tag"));
                if let Some(found) = self
                    .find_single_owned(provider.as_ref(), kind, spec, &address)
                    .await?
                {
                    if !attached_as_asked(&found, attach_to_id.as_deref()) {
                        let id = found.provider_resource_id.clone();
                        self.finish_create(action, kind, spec, found).await?;
                        return Err(EngineError::Invalid(format!(
                            "{} {id} of an earlier apply was found by its ownership tag but is not attached; run apply again to attach it",
                            kind.noun()
                        )));
                    }
                    return self.finish_create(action, kind, spec, found).await;
                }
                self.store.clear_intent(org, &address).await?;
                self.store.put_intent(&intent).await?;
            }
            Err(e) => return Err(e.into()),
        }

        let user_data = match spec
            .fields
            .get("user_data_file")
            .and_then(FieldValue::as_str)
        {
            Some(path) if kind == Kind::Servers => {
                Some(read_user_data(&self.opts.config_dir, path)?)
            }
            _ => None,
        };
        let env = crate::env_values::resolve(spec, &address, &self.opts.secrets).await?;
        let request = Request {
            spec,
            user_data: user_data.as_deref(),
            attach_to_id: attach_to_id.as_deref(),
            env: env.as_ref(),
        };
        // The values' fingerprints are recorded only when the create answered: a resource found
        // by its tag after a lost answer may hold fewer of them (the next plan sets them).
        let (created, sent) = match provider.create(kind, request).await {
            Ok(record) => (record, env.as_ref()),
            Err(e) if matches!(e.class, ErrorClass::Transient | ErrorClass::RateLimited) => {
                // The request may have been performed even though the answer was lost.
                self.say(&format!(
                    "  create answered `{e}`; looking for the resource by its ownership tag"
                ));
                match self
                    .find_single_owned(provider.as_ref(), kind, spec, &address)
                    .await?
                {
                    Some(found) if !attached_as_asked(&found, attach_to_id.as_deref()) => {
                        // The volume exists but the attach that follows its create failed (or
                        // was never sent): keep the volume, report the action as failed so the
                        // run does not claim a state it did not reach; the next plan attaches.
                        let id = found.provider_resource_id.clone();
                        self.finish_create(action, kind, spec, found).await?;
                        return Err(EngineError::Invalid(format!(
                            "{e}; {} {id} was found by its ownership tag but is not attached; run apply again to attach it",
                            kind.noun()
                        )));
                    }
                    Some(found) if !unfinished(&found, spec).is_empty() => {
                        // A web service's create is several requests (the project, then its
                        // domains and variables): one answered with an error may have left it
                        // half-made. Keep it, report the action failed; the next plan finishes it.
                        let id = found.provider_resource_id.clone();
                        let fields = unfinished(&found, spec).join(", ");
                        self.finish_create(action, kind, spec, found).await?;
                        return Err(EngineError::Invalid(format!(
                            "{e}; {} {id} was found by its ownership tag but its {fields} are not yet as stackdock.toml says; run apply again to finish it",
                            kind.noun()
                        )));
                    }
                    Some(found) => (found, None),
                    None => {
                        self.store.clear_intent(org, &address).await?;
                        let e = EngineError::Invalid(format!(
                            "{e}; no resource with the ownership tag {} exists, so nothing was created; run apply again",
                            spec.owner_tag
                        ));
                        self.refused(action, kind, spec, &e, user_data.as_deref())
                            .await?;
                        return Err(e);
                    }
                }
            }
            Err(e) => {
                self.store.clear_intent(org, &address).await?;
                let e = EngineError::from(e);
                self.refused(action, kind, spec, &e, user_data.as_deref())
                    .await?;
                return Err(e);
            }
        };
        let mut created = created;
        if let Some(values) = sent {
            let fingerprints = values.fingerprints(&self.dock_id(action), &address);
            created.applied.insert(
                ENV_VALUES.into(),
                stackdock_core::env_values::applied_value(&fingerprints),
            );
        }
        self.finish_create(action, kind, spec, created).await
    }

    pub(super) async fn find_single_owned(
        &self,
        provider: &dyn Provider,
        kind: Kind,
        spec: &ResourceSpec,
        address: &str,
    ) -> Result<Option<Record>, EngineError> {
        let mut found = provider.find_owned(kind, spec).await?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            n => Err(EngineError::Invalid(format!(
                "{n} resources carry the ownership tag {} of {address} ({}); delete the extra ones by hand, then run apply again",
                spec.owner_tag,
                found
                    .iter()
                    .map(|r| r.provider_resource_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    pub(super) async fn finish_create(
        &self,
        action: &Action,
        kind: Kind,
        spec: &ResourceSpec,
        created: Record,
    ) -> Result<String, EngineError> {
        let provider = self.provider(action)?;
        let id = created.provider_resource_id.clone();
        let mut record = created;
        record.managed_by = Some(Self::address(action).into());
        record.provisioning_source = ProvisioningSource::Api;
        record.provisioning_state = Some(ProvisioningState::Provisioning);
        record.protect = spec.protect;
        let sent = record.applied.remove(ENV_VALUES);
        record.applied = desired_values(&record, kind, spec);
        record.applied.extend(sent.map(|v| (ENV_VALUES.into(), v)));
        record.updated_at = Some(Timestamp::now());
        self.store
            .put_records(std::slice::from_ref(&record))
            .await?;
        self.store
            .clear_intent(&self.config.settings.org, &Self::address(action))
            .await?;
        if self.defer_ready {
            return Ok(id.to_string());
        }

        let ready = provider
            .wait_ready(kind, &id, self.opts.ready_timeout)
            .await;
        // A server declared `power = "off"` is built (providers boot what they create), then
        // powered off and waited for.
        let ready = match ready {
            Ok(r) if kind == Kind::Servers && spec_power(spec) == Some("off") => {
                let off = PowerAction::Off;
                match provider.power(kind, &id, off).await {
                    Ok(()) => {
                        provider
                            .wait_power(kind, &id, off, self.opts.ready_timeout)
                            .await
                    }
                    Err(e) => Err(e),
                }
                .or_else(|e| if r.status == "stopped" { Ok(r) } else { Err(e) })
            }
            other => other,
        };
        let mut latest = match ready {
            Ok(mut r) => {
                r.keep_bookkeeping_of(&record);
                r.provisioning_state = Some(ProvisioningState::Provisioned);
                r.provisioned_at = Some(Timestamp::now());
                r
            }
            Err(e) => {
                record.provisioning_state = Some(ProvisioningState::Failed);
                record.provisioning_error = Some(failed::scrubbed(&e.to_string(), &[]));
                self.store.put_records(&[record]).await?;
                return Err(e.into());
            }
        };
        latest.provisioning_error = None;
        latest.updated_at = Some(Timestamp::now());
        self.store.put_records(&[latest]).await?;
        // The record an earlier refused create of this entry left is done with.
        let refused = failed::refused_key(&self.dock_id(action), kind, &Self::address(action));
        if let Some(old) = self.store.get(&refused).await?
            && old.is_refused_create()
        {
            self.store
                .put_records(&[failed::cleared(old, Timestamp::now())])
                .await?;
        }
        Ok(id.to_string())
    }

    /// Records a create the provider refused (nothing was made) on the entry's own record,
    /// `provisioningState = failed` with the error, so the inventory, the report and the API
    /// say why; the next plan creates the entry again.
    pub(super) async fn refused(
        &self,
        action: &Action,
        kind: Kind,
        spec: &ResourceSpec,
        error: &EngineError,
        user_data: Option<&str>,
    ) -> Result<(), EngineError> {
        let provider = self
            .config
            .docks
            .get(&action.dock)
            .map(|d| d.provider)
            .ok_or_else(|| EngineError::Invalid(format!("no dock `{}`", action.dock)))?;
        let dock_id = self.dock_id(action);
        let address = Self::address(action);
        let owner = failed::Owner {
            org: &self.config.settings.org,
            dock_id: &dock_id,
            provider,
            address: &address,
        };
        let text = failed::scrubbed(&error.to_string(), user_data.as_slice());
        let record = failed::refused_record(&owner, kind, spec, text, Timestamp::now());
        self.store.put_records(&[record]).await?;
        Ok(())
    }
}

/// The `power` a server's spec asks for (`on` when the entry leaves it out).
fn spec_power(spec: &ResourceSpec) -> Option<&str> {
    match spec.fields.get("power") {
        Some(v) => v.as_str(),
        None => Some("on"),
    }
}

/// The spec's values of the managed keys: what StackDock just applied.
fn desired_values(
    record: &Record,
    kind: Kind,
    spec: &ResourceSpec,
) -> stackdock_core::VecMap<stackdock_core::CompactString, FieldValue> {
    managed_keys(record, kind, spec)
        .filter_map(|k| {
            let value = spec
                .fields
                .get(k)
                .cloned()
                .or_else(|| default_value(kind, k));
            value.map(|v| (k.into(), v))
        })
        .collect()
}

/// Reads `user_data_file`, refusing paths that leave the config's directory.
fn read_user_data(config_dir: &Path, relative: &str) -> Result<String, EngineError> {
    let rel = Path::new(relative);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return Err(EngineError::Invalid(format!(
            "user_data_file `{relative}` must be a path inside the config's directory"
        )));
    }
    let path = config_dir.join(rel);
    std::fs::read_to_string(&path)
        .map_err(|e| EngineError::Invalid(format!("user_data_file `{}`: {e}", path.display())))
}

/// The fields of a web service a create sets in requests after the first (custom domains,
/// variables) that `record` does not have as `spec` asks.
fn unfinished(record: &Record, spec: &ResourceSpec) -> Vec<&'static str> {
    if record.kind() != Kind::WebServices {
        return Vec::new();
    }
    ["domains", "env"]
        .into_iter()
        .filter(|key| {
            let want = spec.fields.get(*key).and_then(FieldValue::as_set);
            let have = record.field(key);
            want.cloned().unwrap_or_default()
                != have
                    .as_ref()
                    .and_then(FieldValue::as_set)
                    .cloned()
                    .unwrap_or_default()
        })
        .collect()
}

/// Whether a found volume is attached where the create asked (always true without an attach).
fn attached_as_asked(record: &Record, attach_to_id: Option<&str>) -> bool {
    let Some(server) = attach_to_id else {
        return true;
    };
    match &record.attrs {
        stackdock_core::record::Attrs::BlockVolumes(v) => {
            v.attached_to_instance.as_deref() == Some(server)
        }
        _ => true,
    }
}
