//! The sandbox's in-memory state: one ordered table per resource collection,
//! compact resource records (rendered to full provider JSON only when served),
//! the public mutation types for out-of-band changes, and small helpers for ids,
//! timestamps and deterministic generation.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::collection::Collection;
use crate::editable::Editable;
use crate::emulation::{self, EMULATIONS};
use crate::http::Listing;
use crate::pagination::Page;
use crate::{Kind, Provider, SandboxError};

/// An insertion-ordered table with lookup by key (the provider's id).
///
/// Listings serve each row's JSON from a cache kept beside the rows: an entry is used only while
/// the row's fingerprint (a hash of everything its rendering reads) is the one it was rendered
/// at, so a changed row, or a row whose rendering reads a changed neighbour, is rendered again.
/// A provider's servers do this work on their own CPUs; the sandbox shares the client's, and
/// without the cache a benchmark would mostly measure the sandbox building JSON.
#[derive(Debug)]
pub(crate) struct Table<T> {
    rows: BTreeMap<u64, T>,
    keys: HashMap<String, u64>,
    next: u64,
    rendered: HashMap<u64, (u64, Arc<RawValue>)>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            keys: HashMap::new(),
            next: 0,
            rendered: HashMap::new(),
        }
    }
}

/// A fingerprint of everything a rendering reads (see [`Table::render_page`]).
pub(crate) fn fingerprint(parts: &impl Hash) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

impl<T> Table<T> {
    pub(crate) fn insert(&mut self, key: String, row: T) {
        if let Some(old) = self.keys.remove(&key) {
            self.rows.remove(&old);
            self.rendered.remove(&old);
        }
        let seq = self.next;
        self.next += 1;
        self.keys.insert(key, seq);
        self.rows.insert(seq, row);
    }

    pub(crate) fn get(&self, key: &str) -> Option<&T> {
        self.keys.get(key).and_then(|s| self.rows.get(s))
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        let seq = *self.keys.get(key)?;
        self.rows.get_mut(&seq)
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.keys.contains_key(key)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<T> {
        let seq = self.keys.remove(key)?;
        self.rendered.remove(&seq);
        self.rows.remove(&seq)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }

    /// Keeps only the rows matching `keep` (a deleted DNS zone's records go with it).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let rows = &self.rows;
        let gone: std::collections::HashSet<u64> = rows
            .iter()
            .filter(|(_, row)| !keep(row))
            .map(|(seq, _)| *seq)
            .collect();
        self.keys.retain(|_, seq| !gone.contains(seq));
        for seq in gone {
            self.rows.remove(&seq);
            self.rendered.remove(&seq);
        }
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.rows.values_mut()
    }

    /// Positions (insertion sequence numbers) of the rows matching `pred`, in order.
    pub(crate) fn select(&self, mut pred: impl FnMut(&T) -> bool) -> Vec<u64> {
        self.rows
            .iter()
            .filter(|(_, row)| pred(row))
            .map(|(seq, _)| *seq)
            .collect()
    }

    pub(crate) fn by_seq(&self, seq: u64) -> Option<&T> {
        self.rows.get(&seq)
    }

    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.keys.clear();
        self.rendered.clear();
    }

    /// The JSON of the rows at `seqs` as a listing serves them, in order, each then observed
    /// (a listing is a poll: pending rows move on). A row is rendered only when its
    /// `fingerprint` differs from the one its cached JSON was rendered at.
    pub(crate) fn render_page(
        &mut self,
        seqs: &[u64],
        fingerprint: impl Fn(&T) -> u64,
        render: impl Fn(&T) -> Value,
        observe: impl Fn(&mut T),
    ) -> Vec<Arc<RawValue>> {
        let mut items = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let Some(row) = self.rows.get_mut(seq) else {
                continue;
            };
            let print = fingerprint(row);
            let json = match self.rendered.get(seq) {
                Some((at, json)) if *at == print => Arc::clone(json),
                _ => {
                    // Serializing a `Value` cannot fail: its keys are strings, its numbers finite.
                    let json: Arc<RawValue> = serde_json::value::to_raw_value(&render(row))
                        .map_or_else(|_| Arc::from(RawValue::NULL.to_owned()), Arc::from);
                    self.rendered.insert(*seq, (print, Arc::clone(&json)));
                    json
                }
            };
            items.push(json);
            observe(row);
        }
        items
    }
}

/// One provider's state: its tables and id counters.
pub(crate) trait Store: Any + Send + std::fmt::Debug {
    /// Forget the resources (what else a reset keeps, such as id counters, is the store's choice).
    fn clear(&mut self);
    /// How many resources `seed_bulk` has generated (it numbers them on from there).
    fn bulk_counter(&mut self) -> &mut u64;
}

/// A stored resource: how the out-of-band API addresses and summarises it, and how a read
/// (a `GET` or a listing: a poll) moves a pending one on.
pub(crate) trait Resource {
    /// Its key in its table: the provider's id (Linode buckets: `region/label`).
    fn key(&self) -> String;
    /// The label / name a mutation or a peek may address it by instead of its key.
    fn label(&self) -> &str;
    fn summary(&self) -> ResourceSummary;
    /// One observation: a pending resource moves one poll closer to its target status.
    fn observe(&mut self) {}
    /// The fields the common out-of-band changes set (none unless the kind names them).
    fn editable(&mut self) -> Editable<'_> {
        Editable::default()
    }
    /// A change of the kind's own, which no [`Editable`] field takes: false when it does not
    /// apply to the kind.
    fn change(&mut self, _change: &Change) -> bool {
        false
    }
}

/// What [`Table::mutate`] did.
#[derive(Debug)]
pub(crate) enum Mutated<T> {
    /// Removed this row.
    Deleted(T),
    /// Changed the row with this key.
    Changed(String),
}

impl<T: Resource> Table<T> {
    /// The row `target` names: by key first, else the first row with that label.
    pub(crate) fn find(&self, target: &str) -> Option<&T> {
        self.get(target)
            .or_else(|| self.values().find(|r| r.label() == target))
    }

    /// The key of the row a mutation addresses.
    pub(crate) fn target(&self, m: &Mutation) -> Result<String, SandboxError> {
        self.find(&m.target).map(T::key).ok_or_else(|| not_found(m))
    }

    pub(crate) fn summaries(&self) -> Vec<ResourceSummary> {
        self.values().map(T::summary).collect()
    }

    /// An out-of-band change of the row `m` addresses: `Delete` removes it; any other change goes
    /// to the row's [`Editable`] fields, else to [`Resource::change`].
    pub(crate) fn mutate(&mut self, m: &Mutation) -> Result<Mutated<T>, SandboxError> {
        let key = self.target(m)?;
        if m.change == Change::Delete {
            let row = self.remove(&key).ok_or_else(|| not_found(m))?;
            return Ok(Mutated::Deleted(row));
        }
        let row = self.get_mut(&key).ok_or_else(|| not_found(m))?;
        if row.editable().apply(&m.change) || row.change(&m.change) {
            Ok(Mutated::Changed(key))
        } else {
            Err(bad_change(m))
        }
    }

    /// A create: the new row's JSON (still pending), then the row stored, observed once at
    /// once when resources are configured not to stay pending.
    pub(crate) fn create(
        &mut self,
        mut row: T,
        pending_polls: u32,
        render: impl FnOnce(&T) -> Value,
    ) -> Value {
        let json = render(&row);
        if pending_polls == 0 {
            row.observe();
        }
        self.insert(row.key(), row);
        json
    }

    /// The listing page `page` of the rows at `seqs` (see [`Table::render_page`]).
    pub(crate) fn listing(
        &mut self,
        seqs: &[u64],
        page: Page,
        fingerprint: impl Fn(&T) -> u64,
        render: impl Fn(&T) -> Value,
    ) -> Listing {
        let items = self.render_page(&seqs[page.range.clone()], fingerprint, render, T::observe);
        Listing { page, items }
    }
}

/// How a provider numbers the resources `seed_bulk` generates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BulkPlan {
    /// Regions, taken in turn.
    pub(crate) regions: &'static [&'static str],
    /// Seconds between two resources' creation times.
    pub(crate) spacing: i64,
}

/// The numbers of one generated resource.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Its number among the provider's generated resources (from 1).
    pub(crate) n: u64,
    /// Its global sequence number (secrets, addresses).
    pub(crate) seq: u64,
    pub(crate) region: String,
    pub(crate) created: i64,
}

/// Generate `n` resources of `kind` with `add` (`None`: the provider has no such kind).
pub(crate) fn seed_bulk<S: Store + Default>(
    st: &mut State,
    (provider, kind): (Provider, Kind),
    n: usize,
    plan: BulkPlan,
    add: Option<&dyn Collection<S>>,
) -> Result<(), SandboxError> {
    let first_seq = st.reserve_seq(n as u64);
    let store = st.store_mut::<S>();
    for k in 0..n as u64 {
        let counter = store.bulk_counter();
        *counter += 1;
        let b = *counter;
        // An unsupported kind still uses up one number before it fails, as it always has.
        let Some(add) = add else {
            return Err(unsupported(provider, kind));
        };
        let slot = Slot {
            n: b,
            seq: first_seq + k,
            region: plan.regions[(b as usize) % plan.regions.len()].to_owned(),
            created: BULK_EPOCH + (b as i64) * plan.spacing,
        };
        add.bulk(store, slot);
    }
    Ok(())
}

/// All providers' state: one [`Store`] per provider, created on first use.
#[derive(Debug, Default)]
pub(crate) struct State {
    stores: Vec<Box<dyn Store>>,
    /// Global sequence used for secrets and addresses of new resources.
    seq: u64,
}

impl State {
    /// The store of type `S`, if it was ever used.
    pub(crate) fn store<S: Store>(&self) -> Option<&S> {
        self.stores
            .iter()
            .find_map(|s| (&**s as &dyn Any).downcast_ref::<S>())
    }

    /// The store of type `S`, created empty on first use.
    pub(crate) fn store_mut<S: Store + Default>(&mut self) -> &mut S {
        let at = match self
            .stores
            .iter()
            .position(|s| (&**s as &dyn Any).is::<S>())
        {
            Some(at) => at,
            None => {
                self.stores.push(Box::<S>::default());
                self.stores.len() - 1
            }
        };
        let Some(store) = (&mut *self.stores[at] as &mut dyn Any).downcast_mut::<S>() else {
            unreachable!("the store at {at} was just found or made as this type");
        };
        store
    }

    /// A fresh number for secrets (`SANDBOX-SECRET-pw-<n>`) and addresses.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(crate) fn reserve_seq(&mut self, n: u64) -> u64 {
        let first = self.seq + 1;
        self.seq += n;
        first
    }

    pub(crate) fn clear(&mut self) {
        for store in &mut self.stores {
            store.clear();
        }
    }
}

/// Lifecycle knobs shared by the handlers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifecycle {
    /// GET/LIST observations a new resource stays pending for.
    pub(crate) pending_polls: u32,
    /// GETs a DigitalOcean action stays in-progress for.
    pub(crate) action_polls: u32,
}

/// A short description of one resource, for inspecting state from tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSummary {
    /// The provider's id (`"c1d2..."`, `"401000001"`, or for Linode buckets `"<region>/<label>"`).
    pub id: String,
    /// Label / name.
    pub label: String,
    /// The provider's status value (`active`, `pending`, `running`, `new`, ...).
    pub status: String,
    /// Region slug.
    pub region: String,
    /// Plan / size / type (or the volume size in GB for volumes).
    pub plan: String,
    /// Tags (Vultr databases: the single `tag`, if set).
    pub tags: Vec<String>,
}

impl ResourceSummary {
    pub(crate) fn new(
        id: impl ToString,
        label: &str,
        status: &str,
        region: &str,
        plan: impl ToString,
        tags: &[String],
    ) -> Self {
        ResourceSummary {
            id: id.to_string(),
            label: label.to_owned(),
            status: status.to_owned(),
            region: region.to_owned(),
            plan: plan.to_string(),
            tags: tags.to_vec(),
        }
    }
}

/// One observation of a resource pending for `pending` more: true when this one ends it.
pub(crate) fn countdown(pending: &mut u32) -> bool {
    if *pending == 0 {
        return false;
    }
    *pending -= 1;
    *pending == 0
}

/// The resources of one provider collection, in listing order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources(pub Vec<ResourceSummary>);

impl Resources {
    /// How many resources there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first resource with this label / name.
    pub fn find_by_label(&self, label: &str) -> Option<&ResourceSummary> {
        self.0.iter().find(|r| r.label == label)
    }

    /// The resource with this id.
    pub fn find_by_id(&self, id: &str) -> Option<&ResourceSummary> {
        self.0.iter().find(|r| r.id == id)
    }

    /// All resources carrying `tag`.
    pub fn with_tag(&self, tag: &str) -> Vec<&ResourceSummary> {
        self.0
            .iter()
            .filter(|r| r.tags.iter().any(|t| t == tag))
            .collect()
    }

    /// Iterate over the summaries.
    pub fn iter(&self) -> std::slice::Iter<'_, ResourceSummary> {
        self.0.iter()
    }
}

/// An out-of-band change, as if someone used the provider's console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutation {
    /// The provider.
    pub provider: Provider,
    /// The collection.
    pub kind: Kind,
    /// Id of the resource, or its label / name (ids are tried first).
    pub target: String,
    /// What to change.
    #[serde(flatten)]
    pub change: Change,
}

impl Mutation {
    /// A mutation of `target` (id or label) in `provider`'s `kind` collection.
    pub fn new(provider: Provider, kind: Kind, target: impl Into<String>, change: Change) -> Self {
        Mutation {
            provider,
            kind,
            target: target.into(),
            change,
        }
    }
}

/// Which resource a mutation addresses (kept for API symmetry: ids first, then labels).
pub type Target = String;

/// The change carried by a [`Mutation`] (`"op"` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Rename (label / name).
    SetLabel {
        /// New label.
        label: String,
    },
    /// Change the plan (Vultr plan, DigitalOcean size slug, Linode type).
    SetPlan {
        /// New plan / size / type.
        plan: String,
    },
    /// Replace the tag set (Vultr databases: the first tag becomes `tag`).
    SetTags {
        /// New tags.
        tags: Vec<String>,
    },
    /// Add one tag.
    AddTag {
        /// The tag.
        tag: String,
    },
    /// Remove one tag.
    RemoveTag {
        /// The tag.
        tag: String,
    },
    /// Power the instance off (Vultr `power_status=stopped`, DO `off`, Linode `offline`).
    PowerOff,
    /// Power the instance on.
    PowerOn,
    /// Set the raw status value (e.g. `suspended`, `archive`, `migrating`).
    SetStatus {
        /// The provider's status string.
        status: String,
    },
    /// Resize a volume / block (GB).
    SetSize {
        /// New size in GB.
        size_gb: u64,
    },
    /// Set a Linode bucket's object count and byte size.
    SetObjects {
        /// Number of objects.
        objects: u64,
        /// Total size in bytes.
        size_bytes: u64,
    },
    /// Set a DNS record's value (`data` / `target`).
    SetData {
        /// The new value.
        data: String,
    },
    /// Set a DNS record's TTL.
    SetTtl {
        /// Seconds.
        ttl: u64,
    },
    /// Delete the resource.
    Delete,
}

impl Change {
    /// Whether this is a change of tags.
    pub(crate) fn is_tag_change(&self) -> bool {
        matches!(
            self,
            Change::SetTags { .. } | Change::AddTag { .. } | Change::RemoveTag { .. }
        )
    }
}

impl State {
    pub(crate) fn mutate(&mut self, m: &Mutation) -> Result<(), SandboxError> {
        emulation::of(m.provider).mutate(self, m)
    }

    pub(crate) fn summaries(
        &self,
        provider: Provider,
        kind: Kind,
    ) -> Result<Resources, SandboxError> {
        emulation::of(provider).summaries(self, kind).map(Resources)
    }

    /// Load every provider's fixtures.
    pub(crate) fn seed_fixtures(&mut self) {
        for e in EMULATIONS {
            e.seed_fixtures(self);
        }
    }
}

/// The rows attached to a removed resource, `owner`, become detached (`attached` is a row's
/// attachment).
pub(crate) fn detach<'a, T: 'a, K: PartialEq>(
    rows: impl Iterator<Item = &'a mut T>,
    attached: fn(&mut T) -> &mut Option<K>,
    owner: &K,
) {
    for row in rows {
        let field = attached(row);
        if field.as_ref() == Some(owner) {
            *field = None;
        }
    }
}

/// Apply a tag change to a tag list; returns false for changes that are not about tags.
pub(crate) fn apply_tag_change(tags: &mut Vec<String>, change: &Change) -> bool {
    match change {
        Change::SetTags { tags: new } => *tags = new.clone(),
        Change::AddTag { tag } => {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        Change::RemoveTag { tag } => tags.retain(|t| t != tag),
        _ => return false,
    }
    true
}

pub(crate) fn unsupported(provider: Provider, kind: Kind) -> SandboxError {
    SandboxError::Unsupported { provider, kind }
}

pub(crate) fn not_found(m: &Mutation) -> SandboxError {
    SandboxError::NotFound(format!("{} {:?} {}", m.provider, m.kind, m.target))
}

pub(crate) fn bad_change(m: &Mutation) -> SandboxError {
    SandboxError::Invalid(format!(
        "change {:?} does not apply to {} {:?}",
        m.change, m.provider, m.kind
    ))
}

// ---------------------------------------------------------------------------
// time, ids, addresses

/// Seconds since the Unix epoch, now.
pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// 2025-01-01T00:00:00Z: the epoch bulk-generated resources are created from.
pub(crate) const BULK_EPOCH: i64 = 1_735_689_600;

fn civil(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        Err(_) => "1970-01-01T00:00:00".to_owned(),
    }
}

/// Vultr style: `2026-05-04T12:31:07+00:00`.
pub(crate) fn time_vultr(secs: i64) -> String {
    format!("{}+00:00", civil(secs))
}

/// DigitalOcean style: `2026-05-04T12:31:07Z`.
pub(crate) fn time_do(secs: i64) -> String {
    format!("{}Z", civil(secs))
}

/// Linode style (no zone): `2026-05-04T12:31:07`.
pub(crate) fn time_linode(secs: i64) -> String {
    civil(secs)
}

/// Parse any of the three styles; unknown text gives [`BULK_EPOCH`].
pub(crate) fn parse_time(text: &str) -> i64 {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return ts.as_second();
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map_or(BULK_EPOCH, |z| z.timestamp().as_second())
}

/// splitmix64: a fast deterministic mixer for generated ids.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A deterministic, valid v4-looking UUID for `(salt, n)`.
pub(crate) fn det_uuid(salt: u64, n: u64) -> uuid::Uuid {
    let hi = mix(salt ^ n.rotate_left(17));
    let lo = mix(hi ^ n);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A public-looking address for sequence `n` (100.64.0.0/10 shared space, never routed).
pub(crate) fn public_ip(n: u64) -> u32 {
    u32::from(Ipv4Addr::new(100, 64, 0, 0)) + (n as u32 % 4_000_000)
}

/// A private address for sequence `n` (10.0.0.0/8).
pub(crate) fn private_ip(n: u64) -> u32 {
    u32::from(Ipv4Addr::new(10, 0, 0, 0)) + (n as u32 % 16_000_000)
}

pub(crate) fn ip_string(ip: u32) -> String {
    Ipv4Addr::from(ip).to_string()
}

pub(crate) fn parse_ip(text: &str) -> u32 {
    text.parse::<Ipv4Addr>().map(u32::from).unwrap_or(0)
}

/// Field helpers for reading fixture / request JSON.
pub(crate) mod fields {
    use serde_json::Value;

    pub(crate) fn string(v: &Value, key: &str) -> String {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    pub(crate) fn opt_string(v: &Value, key: &str) -> Option<String> {
        v.get(key).and_then(Value::as_str).map(str::to_owned)
    }

    pub(crate) fn uint(v: &Value, key: &str) -> u64 {
        v.get(key).and_then(Value::as_u64).unwrap_or(0)
    }

    pub(crate) fn strings(v: &Value, key: &str) -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
