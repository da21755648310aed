//! The diff: desired entries matched against stored records, and every safety rule applied.
//!
//! # Guarantees
//! - Never plans a `delete` of a resource that StackDock did not create (`provisioningSource` is
//!   not `api`), that is protected (in the file or in the store), or while `prune` is off.
//! - Plans nothing but a `blocked` action for a dock whose last sync failed, is stale or never ran:
//!   no create, update, delete or drift is computed from an inventory that cannot be trusted.
//! - Adopts only an unambiguous match; two resources with the entry's name are an `error` naming
//!   both ids.

use std::collections::BTreeMap;

// foldhash, not SipHash: the planner's maps are keyed by our own ids, looked up once or twice
// per record, and SipHash was the largest single cost of a 100,000-resource plan (perf).
use foldhash::HashSet;
use hashbrown::HashTable;
use smallvec::SmallVec;
use std::hash::BuildHasher as _;

use crate::config::{Config, DesiredResource};
use crate::env_values::{ENV_VALUES, EnvFingerprints};
use crate::record::{ProvisioningSource, Record};
use crate::schema::{Change, default_value, field_rules, grow_only, settled_only};
use crate::{FieldValue, Kind, ProviderKind};

use super::{Action, ActionKind, DockState, FieldChange, Plan, ResourceSpec};

/// Plans `config` against `inventory` given each dock's sync state (by dock name; a dock with no
/// entry counts as never synced).
///
/// Records of other orgs, and of docks the config no longer declares, are ignored.
pub fn plan(config: &Config, inventory: &[Record], docks: &BTreeMap<String, DockState>) -> Plan {
    plan_checked(config, inventory, docks, &BTreeMap::new(), &BTreeMap::new())
}

/// [`plan`], with problems found by checking desired resources against the providers' catalogs
/// (unknown region, size or image; by address). A resource with problems gets an `error` action
/// instead of any change, and the resource it matched is not reported as unmanaged.
pub fn plan_checked(
    config: &Config,
    inventory: &[Record],
    docks: &BTreeMap<String, DockState>,
    problems: &BTreeMap<String, Vec<String>>,
    env_fingerprints: &EnvFingerprints,
) -> Plan {
    super::per_dock::plan_with(config, inventory, docks, problems, env_fingerprints, |p| {
        p.supports(Kind::Domains)
    })
}

pub(super) fn blocked(
    dock: &str,
    provider: ProviderKind,
    state: &DockState,
    desired: usize,
) -> Action {
    let why = match state {
        DockState::Fresh => "its inventory is fresh".to_owned(),
        DockState::NeverSynced => {
            "it has never been synced completely; run `stackdock sync`".to_owned()
        }
        DockState::Failed { error } => {
            format!("its last sync failed: {error}; fix that and run `stackdock sync`")
        }
        DockState::Stale { last_sync_at } => {
            format!(
                "its inventory is stale (last complete sync {last_sync_at}); run `stackdock sync`"
            )
        }
    };
    Action {
        action: ActionKind::Blocked,
        address: None,
        dock: dock.to_owned(),
        provider,
        kind: None,
        name: None,
        provider_id: None,
        changes: Vec::new(),
        reason: format!(
            "nothing planned for dock `{dock}` ({desired} desired resource{}) because {why}",
            if desired == 1 { "" } else { "s" }
        ),
        spec: None,
        depends_on: Vec::new(),
        allowed: false,
    }
}

pub(super) struct DockPlanner<'a> {
    pub(super) config: &'a Config,
    pub(super) dock: &'a str,
    pub(super) provider: ProviderKind,
    pub(super) records: Vec<&'a Record>,
    /// Look-ups by id, owner and name: matching stays O(1) per entry at 100,000 resources.
    pub(super) index: Index,
    /// Which of `records` an entry has matched (by position: no hashing, and the leftovers are
    /// one pass in inventory order).
    pub(super) claimed: Vec<bool>,
    pub(super) actions: Vec<Action>,
    pub(super) problems: &'a BTreeMap<String, Vec<String>>,
    pub(super) env_fingerprints: &'a EnvFingerprints,
    /// Addresses of the entries with `protect = true`.
    pub(super) protected: &'a HashSet<String>,
}

/// A dock's records (as positions in [`DockPlanner::records`]) by (kind, provider id), (kind,
/// owning address) and, for unmanaged live records, (kind, name). Positions keep inventory order;
/// every use of them is order-independent, and the tables are only looked up, never iterated, so
/// hashing keeps the plan deterministic.
pub(super) struct Index {
    /// Whether an entry of the dock pins an `id`: `by_id` is filled only then.
    pins: bool,
    by_id: Lookup,
    by_owner: Lookup,
    unmanaged_by_name: Lookup,
}

/// The records under one key: nearly always one, so one is kept inline.
pub(super) type Positions = SmallVec<[usize; 1]>;

impl Index {
    pub(super) fn of(records: &[&Record], pins: bool) -> Index {
        let mut index = Index::sized(records.len(), pins);
        for at in 0..records.len() {
            index.add(records, at);
        }
        index
    }

    /// Empty, with room for `records` records: rehashing while a table grew was a tenth of a
    /// large plan.
    pub(super) fn sized(records: usize, pins: bool) -> Index {
        Index {
            pins,
            by_id: Lookup::new(if pins { records } else { 0 }, |r| {
                Some(&r.provider_resource_id)
            }),
            by_owner: Lookup::new(records, |r| r.managed_by.as_deref()),
            unmanaged_by_name: Lookup::new(0, |r| Some(&r.name)),
        }
    }

    /// Files `records[at]` under its keys.
    pub(super) fn add(&mut self, records: &[&Record], at: usize) {
        let r = records[at];
        if r.provider_managed() {
            return;
        }
        if self.pins {
            self.by_id.insert(records, at);
        }
        // Never adopted by name (a Pages entry named like a Worker is not that Worker).
        if r.read_only().is_some() {
            return;
        }
        match &r.managed_by {
            Some(_) => self.by_owner.insert(records, at),
            None if r.missing_since.is_none() => self.unmanaged_by_name.insert(records, at),
            None => {}
        }
    }

    /// The records pinned by `id`, owned by `address`, or unmanaged and named `name`.
    pub(super) fn by_id(&self, records: &[&Record], kind: Kind, id: &str) -> Positions {
        self.by_id.get(records, kind, id)
    }

    pub(super) fn by_owner(&self, records: &[&Record], kind: Kind, address: &str) -> Positions {
        self.by_owner.get(records, kind, address)
    }

    pub(super) fn unmanaged_by_name(
        &self,
        records: &[&Record],
        kind: Kind,
        name: &str,
    ) -> Positions {
        self.unmanaged_by_name.get(records, kind, name)
    }
}

/// Records by a key each carries itself (its provider id, owner or name), as positions in the
/// dock's records. A slot holds only the position, and the key is read back from the record on a
/// hit: at 100,000 resources a map of (kind, key) → positions (40 bytes a slot, 2.7 MB for a dock
/// of 33,000 records; 0.6 MB now) outgrew a core's cache, and its probes were three quarters of
/// the matching pass's own time (perf).
struct Lookup {
    table: HashTable<usize>,
    state: foldhash::fast::RandomState,
    key: fn(&Record) -> Option<&str>,
}

impl Lookup {
    fn new(capacity: usize, key: fn(&Record) -> Option<&str>) -> Self {
        Lookup {
            table: HashTable::with_capacity(capacity),
            state: foldhash::fast::RandomState::default(),
            key,
        }
    }

    fn insert(&mut self, records: &[&Record], at: usize) {
        let Lookup { table, state, key } = self;
        let hash_of = |r: &Record| state.hash_one((r.kind(), key(r)));
        table.insert_unique(hash_of(records[at]), at, |&p| hash_of(records[p]));
    }

    /// In inventory order.
    fn get(&self, records: &[&Record], kind: Kind, wanted: &str) -> Positions {
        let hash = self.state.hash_one((kind, Some(wanted)));
        let mut found: Positions = self
            .table
            .iter_hash(hash)
            .copied()
            .filter(|&p| {
                let r = records[p];
                r.kind() == kind && (self.key)(r) == Some(wanted)
            })
            .collect();
        found.sort_unstable();
        found
    }
}

/// How a desired entry matched the inventory (records by position).
pub(super) enum Match {
    Managed(usize),
    Adopt(usize),
    Missing(usize),
    None,
    /// Unsatisfiable; the records involved are claimed so they are not also reported unmanaged.
    Error(String, Vec<usize>),
}

impl<'a> DockPlanner<'a> {
    pub(super) fn action(
        &self,
        action: ActionKind,
        resource: &DesiredResource,
        record: Option<&Record>,
    ) -> Action {
        Action {
            action,
            address: Some(resource.address()),
            dock: self.dock.to_owned(),
            provider: self.provider,
            kind: Some(resource.kind),
            name: Some(resource.name.to_string()),
            provider_id: record.map(|r| r.provider_resource_id.to_string()),
            changes: Vec::new(),
            reason: String::new(),
            spec: None,
            depends_on: Vec::new(),
            allowed: true,
        }
    }

    pub(super) fn spec(&self, resource: &DesiredResource) -> ResourceSpec {
        resource.spec(&self.config.settings.org)
    }

    fn find(&self, resource: &DesiredResource, address: &str) -> Match {
        let records = &self.records;
        if let Some(id) = &resource.id {
            let Some(&at) = self.index.by_id(records, resource.kind, id).first() else {
                return Match::Error(
                    format!(
                        "`id = \"{id}\"` pins {address} to a {} that dock `{}` does not have; remove the pin to create it, or correct the id",
                        resource.kind.noun(),
                        self.dock
                    ),
                    Vec::new(),
                );
            };
            let record = records[at];
            if let Some(why) = record.read_only() {
                return Match::Error(
                    format!(
                        "`id = \"{id}\"` pins {address} to a resource StackDock cannot manage: {why}; remove the entry (the inventory still reports it)"
                    ),
                    vec![at],
                );
            }
            return match (&record.managed_by, record.missing_since) {
                (Some(owner), _) if owner != address => Match::Error(
                    format!(
                        "{} {id} is already managed by {owner}; one resource can belong to one entry only",
                        resource.kind.noun()
                    ),
                    Vec::new(),
                ),
                (_, Some(_)) => Match::Error(
                    format!(
                        "{} {id} pinned by {address} is gone from the provider; remove the `id` pin to create a new one",
                        resource.kind.noun()
                    ),
                    vec![at],
                ),
                (Some(_), None) => Match::Managed(at),
                (None, None) => Match::Adopt(at),
            };
        }
        let managed = self.index.by_owner(records, resource.kind, address);
        let live: Vec<usize> = managed
            .iter()
            .copied()
            .filter(|&at| records[at].missing_since.is_none())
            .collect();
        match live.as_slice() {
            &[one] => return Match::Managed(one),
            [] => {}
            many => {
                return Match::Error(
                    format!(
                        "{address} manages {} resources ({}); pin the right one with `id = \"…\"`",
                        many.len(),
                        self.ids(many)
                    ),
                    many.to_vec(),
                );
            }
        }
        match self
            .index
            .unmanaged_by_name(records, resource.kind, &resource.name)
            .as_slice()
        {
            &[one] => Match::Adopt(one),
            // Several gone records of one entry: the lowest id, so the plan does not depend on
            // inventory order.
            [] => managed
                .iter()
                .copied()
                .min_by_key(|&at| &records[at].provider_resource_id)
                .map_or(Match::None, Match::Missing),
            many => Match::Error(
                format!(
                    "{} {} resources in dock `{}` are named `{}` ({}); pin one with `id = \"…\"` in {address}",
                    many.len(),
                    resource.kind.noun(),
                    self.dock,
                    resource.name,
                    self.ids(many)
                ),
                many.to_vec(),
            ),
        }
    }

    /// The provider ids of the records at `positions`, sorted, for a message.
    fn ids(&self, positions: &[usize]) -> String {
        let mut ids: Vec<&str> = positions
            .iter()
            .map(|&at| self.records[at].provider_resource_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.join(", ")
    }

    /// A zone declared before the DNS adapters exist (issue 17, step 2): an `error` naming what
    /// is missing, so no plan claims to create, adopt or leave alone what it cannot see. Its
    /// records share the error.
    pub(super) fn dns_before_its_adapters(&mut self, zone: &DesiredResource) {
        let records = self
            .config
            .resources
            .iter()
            .filter(|r| {
                r.kind == Kind::DomainRecords
                    && r.dock == zone.dock
                    && r.str_field("zone") == Some(zone.name.as_str())
            })
            .count();
        let mut a = self.action(ActionKind::Error, zone, None);
        a.reason = format!(
            "DNS on {} arrives with the adapters (issue 17): zone `{}` and its {records} record{} are not planned; `stackdock validate` checks them meanwhile",
            self.provider,
            zone.name,
            if records == 1 { "" } else { "s" }
        );
        a.allowed = false;
        self.actions.push(a);
    }

    pub(super) fn plan_resource(&mut self, resource: &DesiredResource) {
        let address = resource.address();
        let matched = self.find(resource, &address);
        if let Some(problems) = self.problems.get(&address)
            && !problems.is_empty()
        {
            if let Match::Managed(at) | Match::Adopt(at) | Match::Missing(at) = matched {
                self.claimed[at] = true;
            }
            let mut a = self.action(ActionKind::Error, resource, None);
            a.reason = problems.join("; ");
            a.allowed = false;
            self.actions.push(a);
            return;
        }
        self.plan_match(resource, matched);
    }

    /// The actions for `resource` once matched: create, recreate, adopt (and converge), converge,
    /// or the error that stops it.
    pub(super) fn plan_match(&mut self, resource: &DesiredResource, matched: Match) {
        match matched {
            Match::Error(reason, involved) => {
                for at in involved {
                    self.claimed[at] = true;
                }
                let mut a = self.action(ActionKind::Error, resource, None);
                a.reason = reason;
                a.allowed = false;
                self.actions.push(a);
            }
            Match::None => {
                let mut a = self.action(ActionKind::Create, resource, None);
                a.reason = format!(
                    "{} `{}` does not exist in dock `{}`",
                    resource.kind.noun(),
                    resource.name,
                    self.dock
                );
                a.changes = creation_changes(resource);
                a.spec = Some(self.spec(resource));
                self.actions.push(a);
            }
            Match::Missing(at) if self.records[at].is_refused_create() => {
                // The provider refused the last create: nothing exists to recreate.
                self.claimed[at] = true;
                let failed = self.records[at];
                let mut a = self.action(ActionKind::Create, resource, None);
                a.reason = format!(
                    "the last create of {} `{}` failed: {}",
                    resource.kind.noun(),
                    resource.name,
                    failed
                        .provisioning_error
                        .as_deref()
                        .unwrap_or("no error was recorded")
                );
                a.changes = creation_changes(resource);
                a.spec = Some(self.spec(resource));
                self.actions.push(a);
            }
            Match::Missing(at) => {
                self.claimed[at] = true;
                let gone = self.records[at];
                let created = gone.provisioning_source == ProvisioningSource::Api;
                let kind = if created {
                    ActionKind::Recreate
                } else {
                    ActionKind::Create
                };
                let mut a = self.action(kind, resource, Some(gone));
                a.reason = format!(
                    "{} {} ({}) is gone from the provider's complete listing",
                    if created { "the" } else { "the adopted" },
                    resource.kind.noun(),
                    gone.provider_resource_id
                );
                a.changes = creation_changes(resource);
                a.spec = Some(self.spec(resource));
                self.actions.push(a);
            }
            Match::Adopt(at) => {
                self.claimed[at] = true;
                let record = self.records[at];
                let mut a = self.action(ActionKind::Adopt, resource, Some(record));
                a.reason = format!(
                    "an unmanaged {} named `{}` ({}) exists; StackDock takes it over without a provider call",
                    resource.kind.noun(),
                    record.name,
                    record.provider_resource_id
                );
                a.spec = Some(self.spec(resource));
                self.actions.push(a);
                self.converge(resource, record, false);
            }
            Match::Managed(at) => {
                self.claimed[at] = true;
                self.converge(resource, self.records[at], true);
            }
        }
    }

    /// Plans the update, replace, drift and error actions that bring `record` to `resource`.
    pub(super) fn converge(&mut self, resource: &DesiredResource, record: &Record, managed: bool) {
        let mut in_place = Vec::new();
        let mut replace = Vec::new();
        let mut drift = Vec::new();
        let mut errors = Vec::new();

        if resource.id.is_some() && record.name != resource.name {
            in_place.push(FieldChange {
                field: "name".into(),
                before: Some(FieldValue::Str(record.name.clone())),
                after: Some(FieldValue::Str(resource.name.as_str().into())),
            });
        }
        for rule in field_rules(self.provider, resource.kind) {
            if rule.change == Change::CreateOnly || resource.ignore_changes.contains(rule.key) {
                continue;
            }
            let Some(desired) = resource
                .field(rule.key)
                .cloned()
                .or_else(|| default_value(resource.kind, rule.key))
            else {
                continue;
            };
            let desired = &desired;
            let actual = record.field(rule.key);
            if actual.is_none() && settled_only(resource.kind, rule.key) {
                continue;
            }
            if managed
                && let Some(applied) = record.applied.get(rule.key)
                && !rule.same(applied, actual.as_ref())
            {
                drift.push(FieldChange {
                    field: rule.key.to_owned(),
                    before: Some(applied.clone()),
                    after: actual.clone(),
                });
            }
            if rule.same(desired, actual.as_ref()) {
                continue;
            }
            let change = FieldChange {
                field: rule.key.to_owned(),
                before: actual.clone(),
                after: Some(desired.clone()),
            };
            if grow_only(resource.kind, rule.key)
                && let (Some(want), Some(have)) = (
                    desired.as_int(),
                    actual.as_ref().and_then(FieldValue::as_int),
                )
                && want < have
            {
                errors.push(format!(
                    "`{}` cannot shrink from {have} to {want}: providers only grow volumes; keep {have} or create a new volume",
                    rule.key
                ));
                continue;
            }
            match rule.change {
                Change::InPlace => in_place.push(change),
                Change::Replace => replace.push(change),
                Change::CreateOnly => {}
            }
        }
        if resource.kind == Kind::WebServices
            && let Some(change) = self.env_value_change(resource, record)
        {
            in_place.push(change);
        }
        if resource.protect != record.protect && (resource.protect || managed) {
            in_place.push(FieldChange {
                field: "protect".into(),
                before: Some(FieldValue::Bool(record.protect)),
                after: Some(FieldValue::Bool(resource.protect)),
            });
        }

        if !drift.is_empty() {
            let mut a = self.action(ActionKind::Drift, resource, Some(record));
            a.reason = format!(
                "changed outside StackDock since it was last applied: {}",
                drift
                    .iter()
                    .map(|c| c.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            a.changes = drift;
            a.allowed = false;
            self.actions.push(a);
        }
        for reason in errors {
            let mut a = self.action(ActionKind::Error, resource, Some(record));
            a.reason = reason;
            a.allowed = false;
            self.actions.push(a);
        }
        if !replace.is_empty() {
            let mut a = self.action(ActionKind::Replace, resource, Some(record));
            let fields = replace
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            (a.allowed, a.reason) = if record.provisioning_source != ProvisioningSource::Api {
                (
                    false,
                    format!(
                        "{fields} cannot change in place, and replacing would delete a resource StackDock did not create; recreate it by hand or revert the change"
                    ),
                )
            } else if record.protect || resource.protect {
                (
                    false,
                    format!(
                        "{fields} cannot change in place, and the resource is protected; remove `protect` to allow the replace"
                    ),
                )
            } else if !resource.allow_replace {
                (
                    false,
                    format!(
                        "{fields} cannot change in place; set `allow_replace = true` on {} to delete and recreate it",
                        resource.address()
                    ),
                )
            } else {
                (
                    true,
                    format!(
                        "{fields} cannot change in place: delete and recreate (allow_replace = true)"
                    ),
                )
            };
            if a.allowed {
                // The new resource is created with every desired value at once.
                replace.append(&mut in_place);
            }
            a.changes = replace;
            a.spec = Some(self.spec(resource));
            self.actions.push(a);
        }
        if !in_place.is_empty() {
            let mut a = self.action(ActionKind::Update, resource, Some(record));
            a.reason = format!(
                "{} differ{} from stackdock.toml",
                in_place
                    .iter()
                    .map(|c| match c.field.as_str() {
                        ENV_VALUES => "environment values",
                        field => field,
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                if in_place.len() == 1 && in_place[0].field != ENV_VALUES {
                    "s"
                } else {
                    ""
                }
            );
            a.changes = in_place;
            a.spec = Some(self.spec(resource));
            self.actions.push(a);
        }
    }

    /// The change that (re)sends web service environment values that changed since StackDock
    /// last sent them, or that it never sent (`crate::env_values`).
    fn env_value_change(&self, resource: &DesiredResource, record: &Record) -> Option<FieldChange> {
        if resource.ignore_changes.contains("env") {
            return None;
        }
        let set =
            |v: Option<&FieldValue>| v.and_then(FieldValue::as_set).cloned().unwrap_or_default();
        crate::env_values::value_change(
            &set(resource.field("env")),
            &set(record.field("env").as_ref()),
            self.env_fingerprints.get(&resource.address()),
            record.applied.get(ENV_VALUES),
        )
    }

    /// Records no entry matched: deleted when every safety rule allows, otherwise reported.
    pub(super) fn plan_leftovers(&mut self) {
        let prune = self.config.settings.prune;
        for (record, claimed) in self.records.iter().zip(&self.claimed) {
            if *claimed || record.missing_since.is_some() || record.provider_managed() {
                continue;
            }
            let (action, reason) = match (&record.managed_by, record.read_only()) {
                (None, Some(why)) => (ActionKind::Unmanaged, why.to_owned()),
                (None, None) => (
                    ActionKind::Unmanaged,
                    "in no entry of stackdock.toml; reported, never touched".to_owned(),
                ),
                (Some(owner), _) => {
                    let kept_because = if record.provisioning_source != ProvisioningSource::Api {
                        Some("StackDock did not create it")
                    } else if record.protect {
                        Some("it is protected")
                    } else if self.protected.contains(owner.as_str()) {
                        Some("its entry in stackdock.toml is protected")
                    } else if !prune {
                        Some("`prune` is off")
                    } else {
                        None
                    };
                    match kept_because {
                        None => (
                            ActionKind::Delete,
                            format!(
                                "{owner} was removed from stackdock.toml, StackDock created it and `prune = true`"
                            ),
                        ),
                        Some(why) => (
                            ActionKind::Unmanaged,
                            format!(
                                "{owner} was removed from stackdock.toml; not deleted because {why}"
                            ),
                        ),
                    }
                }
            };
            self.actions.push(Action {
                action,
                address: record.managed_by.as_deref().map(str::to_owned),
                dock: self.dock.to_owned(),
                provider: self.provider,
                kind: Some(record.kind()),
                name: Some(record.name.to_string()),
                provider_id: Some(record.provider_resource_id.to_string()),
                changes: Vec::new(),
                reason,
                spec: None,
                depends_on: Vec::new(),
                allowed: action == ActionKind::Delete,
            });
        }
    }
}

/// The fields a create sets, shown as changes from nothing.
fn creation_changes(resource: &DesiredResource) -> Vec<FieldChange> {
    resource
        .fields
        .iter()
        .map(|(k, v)| FieldChange {
            field: k.to_string(),
            before: None,
            after: Some(v.clone()),
        })
        .collect()
}
