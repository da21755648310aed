//! An in-memory provider for engine tests: it keeps resources, answers like an adapter would, and
//! counts every call so tests can assert that a converged apply makes none.
//!
//! It is a fake of a provider account, not of our code: the engine cannot tell it from an adapter.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::{Attrs, is_owner_tag};
use stackdock_core::{FieldValue, Kind, Record};

use crate::{DockContext, ErrorClass, PowerAction, Provider, ProviderError, Request};

/// Calls made, per operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub check: usize,
    pub list: usize,
    pub get: usize,
    pub find_owned: usize,
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub power: usize,
}

impl Calls {
    /// Calls that change something at the provider.
    pub fn mutations(&self) -> usize {
        self.create + self.update + self.delete + self.power
    }
}

#[derive(Debug, Default)]
struct State {
    /// (kind, id) → record; also remembers each resource's tags (for `find_owned`).
    resources: BTreeMap<(Kind, String), (Record, Vec<String>)>,
    next_id: u64,
    calls: Calls,
    failing_lists: Vec<Kind>,
    /// The next create is performed but answered with a transient error (a lost response).
    lose_next_create_response: bool,
    failing_creates: Vec<String>,
    /// How long each create takes (an apply that outlives its lease).
    create_delay: Option<std::time::Duration>,
}

/// An in-memory provider account.
#[derive(Debug)]
pub struct FakeProvider {
    ctx: DockContext,
    state: Mutex<State>,
}

impl FakeProvider {
    pub fn new(ctx: DockContext) -> FakeProvider {
        FakeProvider {
            ctx,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock only happens in a failing test; keep going with its data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn calls(&self) -> Calls {
        self.state().calls
    }

    pub fn reset_calls(&self) {
        self.state().calls = Calls::default();
    }

    /// Adds a resource as if someone created it outside StackDock.
    pub fn insert(&self, record: Record) {
        let record = self.stamp(record);
        self.state().resources.insert(
            (record.kind(), record.provider_resource_id.to_string()),
            (record, Vec::new()),
        );
    }

    /// Changes a resource out of band (drift).
    pub fn mutate(&self, kind: Kind, id: &str, f: impl FnOnce(&mut Record)) -> bool {
        let mut st = self.state();
        let Some((record, _)) = st.resources.get_mut(&(kind, id.to_owned())) else {
            return false;
        };
        f(record);
        *record = record.clone().with_hash();
        true
    }

    /// Deletes a resource out of band.
    pub fn remove(&self, kind: Kind, id: &str) -> bool {
        self.state()
            .resources
            .remove(&(kind, id.to_owned()))
            .is_some()
    }

    pub fn resources(&self, kind: Kind) -> Vec<Record> {
        self.state()
            .resources
            .values()
            .filter(|(r, _)| r.kind() == kind)
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Makes every listing of `kind` fail with a transient error.
    pub fn fail_list(&self, kind: Kind) {
        self.state().failing_lists.push(kind);
    }

    /// Makes the next create succeed at the provider but answer with a transient error.
    pub fn lose_next_create_response(&self) {
        self.state().lose_next_create_response = true;
    }

    /// Makes every create take `delay` before it answers.
    pub fn delay_creates(&self, delay: std::time::Duration) {
        self.state().create_delay = Some(delay);
    }

    /// Makes creates of `name` fail as invalid.
    pub fn fail_create_of(&self, name: &str) {
        self.state().failing_creates.push(name.to_owned());
    }

    /// Creates of `name` succeed again.
    pub fn accept_create_of(&self, name: &str) {
        self.state().failing_creates.retain(|n| n != name);
    }

    fn stamp(&self, mut record: Record) -> Record {
        record.org_id = self.ctx.org.as_str().into();
        record.dock_id = self.ctx.dock_id.as_str().into();
        record.provider = self.ctx.provider;
        record.with_hash()
    }

    fn err(&self, class: ErrorClass, route: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::new(class, &self.ctx.dock, route, message)
    }
}

/// Writes the spec's fields onto a record, the way a provider would report them back.
fn apply_fields(
    record: &mut Record,
    fields: &stackdock_core::VecMap<stackdock_core::CompactString, FieldValue>,
    owner_tag: Option<&str>,
    attach_to_id: Option<&str>,
) {
    let s = |k: &str| {
        fields
            .get(k)
            .and_then(FieldValue::as_str)
            .map(str::to_owned)
    };
    if let Some(region) = s("region") {
        record.region = Some(region.into());
    }
    match &mut record.attrs {
        Attrs::Servers(a) => {
            if let Some(plan) = s("plan") {
                a.instance_type = Some(plan);
            }
            if let Some(image) = s("image") {
                a.image = Some(image);
            }
            if let Some(tags) = fields.get("tags").and_then(FieldValue::as_set) {
                let owner: Vec<String> =
                    a.tags.iter().filter(|t| is_owner_tag(t)).cloned().collect();
                a.tags = tags.iter().cloned().chain(owner).collect();
            }
            if let Some(tag) = owner_tag {
                a.tags.insert(tag.to_owned());
            }
        }
        Attrs::BlockVolumes(a) => {
            if let Some(size) = fields.get("size_gb").and_then(FieldValue::as_int) {
                a.size_gb = Some(size);
            }
            if fields.contains_key("attach_to") || attach_to_id.is_some() {
                a.attached_to_instance = attach_to_id.map(str::to_owned);
                a.attached_to_instance_label = s("attach_to");
            }
            if let Some(bt) = s("block_type") {
                a.block_type = Some(bt);
            }
        }
        Attrs::Buckets(a) => {
            if let Some(cluster) = s("cluster") {
                a.cluster = Some(cluster);
            }
        }
        Attrs::Databases(a) => {
            a.engine = s("engine").or(a.engine.take());
            a.version = s("version").or(a.version.take());
            a.instance_type = s("plan").or(a.instance_type.take());
        }
        Attrs::WebServices(_) | Attrs::Domains(_) | Attrs::DomainRecords(_) => {}
    }
}

#[async_trait]
impl Provider for FakeProvider {
    fn context(&self) -> &DockContext {
        &self.ctx
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.state().calls.check += 1;
        Ok(())
    }

    async fn list(&self, kind: Kind) -> Result<Vec<Record>, ProviderError> {
        let mut st = self.state();
        st.calls.list += 1;
        if st.failing_lists.contains(&kind) {
            return Err(self.err(
                ErrorClass::Transient,
                &format!("GET /{}", kind.table()),
                "listing failed (injected)",
            ));
        }
        Ok(st
            .resources
            .values()
            .filter(|(r, _)| r.kind() == kind)
            .map(|(r, _)| r.clone())
            .collect())
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ProviderError> {
        let mut st = self.state();
        st.calls.get += 1;
        Ok(st
            .resources
            .get(&(kind, id.to_owned()))
            .map(|(r, _)| r.clone()))
    }

    async fn find_owned(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let mut st = self.state();
        st.calls.find_owned += 1;
        Ok(st
            .resources
            .values()
            .filter(|(r, tags)| r.kind() == kind && tags.contains(&spec.owner_tag))
            .map(|(r, _)| r.clone())
            .collect())
    }

    async fn create(&self, kind: Kind, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST /{}", kind.table());
        let delay = self.state().create_delay;
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let mut st = self.state();
        st.calls.create += 1;
        if st.failing_creates.contains(&request.spec.name) {
            return Err(self.err(
                ErrorClass::Invalid,
                &route,
                format!("{} rejected (injected)", request.spec.name),
            ));
        }
        st.next_id += 1;
        let id = format!("fake-{}-{}", kind.table(), st.next_id);
        let mut record = Record::new("", "", self.ctx.provider, kind, &id, &request.spec.name);
        record.status = if kind == Kind::Servers {
            "running"
        } else {
            "active"
        }
        .into();
        apply_fields(
            &mut record,
            &request.spec.fields,
            Some(&request.spec.owner_tag),
            request.attach_to_id,
        );
        record.full_api_data = serde_json::json!({ "id": id, "label": request.spec.name }).into();
        let record = self.stamp(record);
        st.resources.insert(
            (kind, id),
            (record.clone(), vec![request.spec.owner_tag.clone()]),
        );
        if std::mem::take(&mut st.lose_next_create_response) {
            return Err(self.err(
                ErrorClass::Transient,
                &route,
                "500 Internal Server Error after the create (injected)",
            ));
        }
        Ok(record)
    }

    async fn update(
        &self,
        kind: Kind,
        id: &str,
        changes: &[FieldChange],
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        let route = format!("PATCH /{}/{{id}}", kind.table());
        let mut st = self.state();
        st.calls.update += 1;
        let Some((record, _)) = st.resources.get_mut(&(kind, id.to_owned())) else {
            return Err(self.err(ErrorClass::NotFound, &route, format!("{id} not found")));
        };
        let mut fields = stackdock_core::VecMap::new();
        for c in changes {
            match (c.field.as_str(), &c.after) {
                ("name", Some(FieldValue::Str(name))) => record.name = name.as_str().into(),
                (_, Some(v)) => {
                    fields.insert(c.field.as_str().into(), v.clone());
                }
                (_, None) => {}
            }
        }
        apply_fields(record, &fields, None, request.attach_to_id);
        *record = record.clone().with_hash();
        Ok(record.clone())
    }

    async fn delete(&self, kind: Kind, id: &str) -> Result<(), ProviderError> {
        let mut st = self.state();
        st.calls.delete += 1;
        st.resources.remove(&(kind, id.to_owned()));
        Ok(())
    }

    /// Servers change state at once: `running` or `stopped`.
    async fn power(&self, kind: Kind, id: &str, action: PowerAction) -> Result<(), ProviderError> {
        let route = format!("POST /{}/{{id}}/{action}", kind.table());
        let mut st = self.state();
        st.calls.power += 1;
        let Some((record, _)) = st.resources.get_mut(&(kind, id.to_owned())) else {
            return Err(self.err(ErrorClass::NotFound, &route, format!("{id} not found")));
        };
        if kind != Kind::Servers {
            return Err(self.err(ErrorClass::Invalid, &route, "only servers have power"));
        }
        record.status = action.target_status().into();
        *record = record.clone().with_hash();
        Ok(())
    }

    async fn wait_power(
        &self,
        kind: Kind,
        id: &str,
        _action: PowerAction,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        self.wait_ready(kind, id, timeout).await
    }

    async fn wait_ready(
        &self,
        kind: Kind,
        id: &str,
        _timeout: Duration,
    ) -> Result<Record, ProviderError> {
        let st = self.state();
        st.resources
            .get(&(kind, id.to_owned()))
            .map(|(r, _)| r.clone())
            .ok_or_else(|| {
                self.err(
                    ErrorClass::NotFound,
                    &format!("GET /{}/{{id}}", kind.table()),
                    format!("{id} not found"),
                )
            })
    }
}
