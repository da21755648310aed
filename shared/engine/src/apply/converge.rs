//! Changes to what exists: updates in place (power, attachment, the rest), the release of a
//! replaced resource, and deletes.

use jiff::Timestamp;
use stackdock_core::plan::{Action, FieldChange, ResourceSpec};
use stackdock_core::record::{ProvisioningSource, ProvisioningState, RecordKey};
use stackdock_core::{FieldValue, Kind, Record};
use stackdock_providers::{PowerAction, Request};

use crate::{EngineError, env_values};
use stackdock_core::env_values::ENV_VALUES;

use super::Executor;

impl Executor<'_> {
    /// After a recreate, the gone record no longer belongs to the entry.
    pub(super) async fn release_old(
        &self,
        action: &Action,
        kind: Kind,
        old: &str,
    ) -> Result<(), EngineError> {
        let key = RecordKey {
            dock_id: self.dock_id(action),
            kind,
            provider_resource_id: old.to_owned(),
        };
        if let Some(mut gone) = self.store.get(&key).await? {
            gone.managed_by = None;
            gone.provisioning_state = Some(ProvisioningState::Deprovisioning);
            self.store.put_records(&[gone]).await?;
        }
        Ok(())
    }

    pub(super) async fn attach_target(
        &self,
        action: &Action,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Option<String>, EngineError> {
        if kind != Kind::BlockVolumes {
            return Ok(None);
        }
        let Some(server) = spec.fields.get("attach_to").and_then(FieldValue::as_str) else {
            return Ok(None);
        };
        let address = stackdock_core::config::address(Kind::Servers, server);
        let did = self.dock_id(action);
        let records = self
            .store
            .inventory(&self.config.settings.org, Some(&did))
            .await?;
        let live = records
            .iter()
            .filter(|r| r.kind() == Kind::Servers && r.missing_since.is_none());
        let found: Vec<&Record> = live
            .clone()
            .filter(|r| r.managed_by.as_deref() == Some(address.as_str()))
            .collect();
        let found = if found.is_empty() {
            live.filter(|r| r.name == server).collect()
        } else {
            found
        };
        match found.as_slice() {
            [one] => Ok(Some(one.provider_resource_id.to_string())),
            [] => Err(EngineError::Invalid(format!(
                "attach_to = \"{server}\": no server of that name exists in dock `{}`",
                action.dock
            ))),
            many => Err(EngineError::Invalid(format!(
                "attach_to = \"{server}\": {} servers have that name in dock `{}`; pin the server with `id`",
                many.len(),
                action.dock
            ))),
        }
    }

    pub(super) async fn update(&self, action: &Action, kind: Kind) -> Result<String, EngineError> {
        let provider = self.provider(action)?;
        let spec = self.spec(action)?;
        let id = action
            .provider_id
            .clone()
            .ok_or_else(|| EngineError::Invalid("an update without a provider id".into()))?;
        let stored = self.stored(action, kind, &id).await?;
        // `power` is not a field the provider's update writes: it is one of the server's power
        // actions, sent after the other changes and waited for like a create.
        let power = action.changes.iter().find(|c| c.field == "power");
        let provider_changes: Vec<FieldChange> = action
            .changes
            .iter()
            .filter(|c| c.field != "protect" && c.field != "power")
            .cloned()
            .collect();
        let mut record = if provider_changes.is_empty() {
            stored.clone()
        } else {
            let attach_to_id = if provider_changes.iter().any(|c| c.field == "attach_to") {
                self.attach_target(action, kind, spec).await?
            } else {
                None
            };
            let env = if provider_changes
                .iter()
                .any(|c| c.field == "env" || c.field == ENV_VALUES)
            {
                crate::env_values::resolve(spec, &Self::address(action), &self.opts.secrets).await?
            } else {
                None
            };
            let request = Request {
                spec,
                user_data: None,
                attach_to_id: attach_to_id.as_deref(),
                env: env.as_ref(),
            };
            let updated = provider
                .update(kind, &id, &provider_changes, request)
                .await?;
            // Settled is enough after an update: a server someone powered off stays off (waiting
            // for `running` would time out); only a change still in progress is waited for.
            let mut r = if updated.status == "pending" {
                provider
                    .wait_ready(kind, &id, self.opts.ready_timeout)
                    .await?
            } else {
                updated
            };
            r.keep_bookkeeping_of(&stored);
            r.updated_at = Some(Timestamp::now());
            if let Some(values) = &env {
                let fingerprints =
                    values.fingerprints(&self.dock_id(action), &Self::address(action));
                env_values::record_sent(&mut r, &provider_changes, spec, &fingerprints);
            }
            r
        };
        if let Some(change) = power {
            let target = change.after.as_ref().and_then(FieldValue::as_str);
            let power = target.and_then(PowerAction::to_reach).ok_or_else(|| {
                EngineError::Invalid(format!(
                    "{}: `power` must be \"on\" or \"off\"",
                    Self::address(action)
                ))
            })?;
            // The other changes may have left it there already (a DigitalOcean resize powers
            // the droplet on): a power action that changes nothing is not sent, since providers
            // refuse it (DigitalOcean: 422 "already powered on").
            if record.status != power.target_status() {
                provider.power(kind, &id, power).await?;
                let mut r = provider
                    .wait_power(kind, &id, power, self.opts.ready_timeout)
                    .await?;
                r.keep_bookkeeping_of(&stored);
                r.updated_at = Some(Timestamp::now());
                record = r;
            }
        }
        for c in provider_changes.iter().chain(power) {
            if let Some(after) = &c.after
                && c.field != "name"
                && c.field != ENV_VALUES
            {
                record
                    .applied
                    .insert(c.field.as_str().into(), after.clone());
            }
        }
        record.protect = spec.protect;
        record.drift.clear();
        self.store.put_records(&[record]).await?;
        Ok(id)
    }

    pub(super) async fn delete(
        &self,
        action: &Action,
        kind: Kind,
        id: &str,
    ) -> Result<(), EngineError> {
        let provider = self.provider(action)?;
        let mut record = self.stored(action, kind, id).await?;
        // Re-checked here, not only in the plan: the store is the authority on who created what.
        if record.provisioning_source != ProvisioningSource::Api || record.protect {
            return Err(EngineError::Invalid(format!(
                "refusing to delete {} {id}: {}",
                kind.noun(),
                if record.protect {
                    "it is protected"
                } else {
                    "StackDock did not create it"
                }
            )));
        }
        record.provisioning_state = Some(ProvisioningState::Deprovisioning);
        self.store
            .put_records(std::slice::from_ref(&record))
            .await?;
        provider.delete(kind, id).await?;
        let now = Timestamp::now();
        record.missing_since = Some(now);
        record.updated_at = Some(now);
        self.store.put_records(&[record]).await?;
        Ok(())
    }
}
