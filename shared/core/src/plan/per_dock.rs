//! Planning dock by dock (design §10): each dock's part of the plan is computed from that dock's
//! records alone, and the parts are combined into the one plan [`super::plan`] returns — the same
//! actions, digests and renderings, whoever computes the parts and in what order.
//!
//! The one thing a dock needs from the others is what its DNS records follow: the address of a
//! server on another dock, or that the plan creates that server anew. Each dock lends those
//! facts first ([`dock_facts`]: cheap, it plans only the servers some record follows), then every
//! dock is planned with all the facts ([`plan_dock`]), then [`combine`] orders the actions and
//! takes the digests. A caller with the whole inventory in memory (the CLI) runs the three steps
//! in a row ([`plan_with`]); a fan-out runs the first two per dock, in separate invocations,
//! and only the facts and the parts travel.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt, HashSet};

use crate::config::{Config, DesiredResource, address};
use crate::env_values::EnvFingerprints;
use crate::record::{Attrs, Record, dock_id};
use crate::{Kind, ProviderKind};

use super::diff::{DockPlanner, Index, blocked};
use super::dns::{DnsFacts, ServerAddress};
use super::{Action, ActionKind, DockState, FORMAT_VERSION, Plan, Summary};

/// No fingerprints: no environment value is compared.
static NO_FINGERPRINTS: EnvFingerprints = BTreeMap::new();

/// What every dock's planning reads from the file, computed once per plan (or per invocation).
pub struct PlanContext<'a> {
    pub(super) config: &'a Config,
    /// Entries with `protect = true`, whatever their dock: a record left behind on another dock
    /// (its entry moved there) is still protected by its entry.
    pub(super) protected: HashSet<String>,
    /// Each dock's entries, in the file's order.
    desired_of: HashMap<&'a str, Vec<&'a DesiredResource>>,
    /// The server entries some DNS record follows (`servers.web-1`).
    followed: HashSet<String>,
    problems: &'a BTreeMap<String, Vec<String>>,
    /// Fingerprints of the values web services' environment variables resolve to now, by
    /// address (`crate::env_values`), as the docks' last syncs read them.
    env_fingerprints: &'a EnvFingerprints,
    hosts_dns: Box<dyn Fn(ProviderKind) -> bool + Send + Sync + 'a>,
}

impl std::fmt::Debug for PlanContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanContext")
            .field("org", &self.config.settings.org)
            .field("protected", &self.protected.len())
            .field("followed", &self.followed)
            .finish_non_exhaustive()
    }
}

impl<'a> PlanContext<'a> {
    /// The context of `config`, with the catalog problems found per address, planning DNS on the
    /// providers that declare it.
    pub fn new(config: &'a Config, problems: &'a BTreeMap<String, Vec<String>>) -> Self {
        PlanContext::with(config, problems, |p| p.supports(Kind::Domains))
    }

    pub(super) fn with(
        config: &'a Config,
        problems: &'a BTreeMap<String, Vec<String>>,
        hosts_dns: impl Fn(ProviderKind) -> bool + Send + Sync + 'a,
    ) -> Self {
        let mut desired_of: HashMap<&str, Vec<&DesiredResource>> = HashMap::new();
        let mut protected = HashSet::default();
        let mut followed = HashSet::default();
        for r in &config.resources {
            desired_of.entry(r.dock.as_str()).or_default().push(r);
            if r.protect {
                protected.insert(r.address());
            }
            if let Some(server) = r.str_field("server") {
                followed.insert(address(Kind::Servers, server));
            }
        }
        PlanContext {
            config,
            protected,
            desired_of,
            followed,
            problems,
            env_fingerprints: &NO_FINGERPRINTS,
            hosts_dns: Box::new(hosts_dns),
        }
    }

    /// Compares web services' environment values with `fingerprints` (what the docks' last
    /// syncs read); without them no value change is planned.
    pub fn with_env_fingerprints(mut self, fingerprints: &'a EnvFingerprints) -> Self {
        self.env_fingerprints = fingerprints;
        self
    }

    fn desired(&self, dock: &str) -> &[&'a DesiredResource] {
        self.desired_of.get(dock).map_or(&[], Vec::as_slice)
    }
}

/// What one dock lends the others: the addresses of its servers that records follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockFacts {
    servers: Vec<(String, ServerAddress)>,
}

/// One dock's part of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct DockPlan {
    actions: Vec<Action>,
    /// The dock's share of the inventory digest: one hash per record.
    lines: Vec<[u8; 32]>,
}

/// The dock's records of the org, by position: what its planner reads.
fn own<'r>(ctx: &PlanContext<'_>, dock: &str, records: &[&'r Record]) -> Vec<&'r Record> {
    let org = &ctx.config.settings.org;
    let id = dock_id(org, dock);
    records
        .iter()
        .copied()
        .filter(|r| r.org_id == org && r.dock_id == id)
        .collect()
}

fn planner<'a>(
    ctx: &'a PlanContext<'a>,
    dock: &'a str,
    provider: ProviderKind,
    records: Vec<&'a Record>,
    index: Index,
) -> DockPlanner<'a> {
    DockPlanner {
        config: ctx.config,
        dock,
        provider,
        index,
        claimed: vec![false; records.len()],
        records,
        actions: Vec::new(),
        problems: ctx.problems,
        env_fingerprints: ctx.env_fingerprints,
        protected: &ctx.protected,
    }
}

/// The facts `dock` lends: the address of each of its servers some record follows (a server the
/// plan adopts included), or that the plan creates, recreates or replaces it (known after
/// apply). Plans only those servers.
pub fn dock_facts(
    ctx: &PlanContext<'_>,
    dock: &str,
    records: &[&Record],
    state: &DockState,
) -> DockFacts {
    let mut facts = DockFacts::default();
    let Some(config) = ctx.config.docks.get(dock) else {
        return facts;
    };
    if ctx.followed.is_empty() {
        return facts;
    }
    let records = own(ctx, dock, records);
    for r in &records {
        if let (Attrs::Servers(attrs), Some(owner), None) =
            (&r.attrs, &r.managed_by, r.missing_since)
            && ctx.followed.contains(owner.as_str())
        {
            let address = match &attrs.ip_address {
                Some(ip) => ServerAddress::Known(ip.clone()),
                None => ServerAddress::Unreported,
            };
            facts.servers.push((owner.to_string(), address));
        }
    }
    if *state != DockState::Fresh {
        return facts;
    }
    let followed: Vec<&DesiredResource> = ctx
        .desired(dock)
        .iter()
        .copied()
        .filter(|r| r.kind == Kind::Servers && ctx.followed.contains(&r.address()))
        .collect();
    if followed.is_empty() {
        return facts;
    }
    let pins = followed.iter().any(|r| r.id.is_some());
    let index = Index::of(&records, pins);
    let mut planner = planner(ctx, dock, config.provider, records.clone(), index);
    for server in followed {
        planner.plan_resource(server);
    }
    for a in &planner.actions {
        // A server this plan adopts keeps the address it has.
        if a.allowed
            && a.action == ActionKind::Adopt
            && let (Some(entry), Some(id)) = (&a.address, &a.provider_id)
            && let Some(ip) = records.iter().find_map(|r| match &r.attrs {
                Attrs::Servers(s) if r.provider_resource_id == id => s.ip_address.clone(),
                _ => None,
            })
        {
            facts
                .servers
                .push((entry.clone(), ServerAddress::Known(ip)));
            continue;
        }
        let coming = a.allowed
            && matches!(
                a.action,
                ActionKind::Create | ActionKind::Recreate | ActionKind::Replace
            );
        if coming && let Some(entry) = &a.address {
            facts
                .servers
                .push((entry.clone(), ServerAddress::AfterApply));
        }
    }
    facts
}

/// Every dock's facts together, for [`plan_dock`]. A server the plan (re)creates is known after
/// apply, whatever its record says.
pub fn merge_facts<'f>(
    ctx: &PlanContext<'_>,
    lent: impl IntoIterator<Item = &'f DockFacts>,
) -> DnsFacts {
    let mut servers: HashMap<String, ServerAddress> = HashMap::new();
    for facts in lent {
        for (entry, address) in &facts.servers {
            match address {
                ServerAddress::AfterApply => {
                    servers.insert(entry.clone(), ServerAddress::AfterApply);
                }
                known => {
                    servers
                        .entry(entry.clone())
                        .or_insert_with(|| known.clone());
                }
            }
        }
    }
    DnsFacts::new(ctx.config, servers)
}

/// `dock`'s part of the plan, from its records (others' are ignored), its sync state and every
/// dock's facts.
pub fn plan_dock(
    ctx: &PlanContext<'_>,
    dock: &str,
    records: &[&Record],
    state: &DockState,
    facts: &DnsFacts,
) -> DockPlan {
    let records = own(ctx, dock, records);
    let config = ctx.config.docks.get(dock);
    let desired = ctx.desired(dock);
    let planned = config.is_some() && *state == DockState::Fresh;
    // The records' digest lines and the planner's index in one pass: a pass over a large dock's
    // records reads them from memory again (at 100,000 they are far out of cache).
    let mut index = planned.then(|| {
        let pins = desired.iter().any(|r| r.id.is_some());
        Index::sized(records.len(), pins)
    });
    let mut line = Vec::with_capacity(256);
    let lines = (0..records.len())
        .map(|at| {
            if let Some(index) = &mut index {
                index.add(&records, at);
            }
            super::digest::record_line(&mut line, records[at])
        })
        .collect();
    let (Some(config), Some(index)) = (config, index) else {
        let actions = match config {
            Some(config) => vec![blocked(dock, config.provider, state, desired.len())],
            None => Vec::new(),
        };
        return DockPlan { actions, lines };
    };
    let mut planner = planner(ctx, dock, config.provider, records, index);
    let dns = (ctx.hosts_dns)(config.provider);
    let mut dns_records = Vec::new();
    for resource in desired {
        match resource.kind {
            Kind::DomainRecords => dns_records.push(*resource),
            Kind::Domains if !dns => planner.dns_before_its_adapters(resource),
            _ => planner.plan_resource(resource),
        }
    }
    if dns && !dns_records.is_empty() {
        planner.plan_records(&dns_records, facts);
    }
    planner.plan_leftovers();
    DockPlan {
        actions: planner.actions,
        lines,
    }
}

/// The plan of the docks' parts: actions in execution order with their dependencies across docks,
/// and the digests. The inventory digest covers the records of the docks the file declares (the
/// records of a dock it no longer declares plan nothing, and their changes do not make a saved
/// plan stale).
pub fn combine(config: &Config, parts: Vec<DockPlan>) -> Plan {
    // Sized once: growing by doubling while appending the parts held up to twice the plan's
    // actions at its peak. The docks' lines stay apart (the digest merges them).
    let mut actions = Vec::with_capacity(parts.iter().map(|p| p.actions.len()).sum());
    let mut lines = Vec::with_capacity(parts.len());
    for mut part in parts {
        actions.append(&mut part.actions);
        lines.push(part.lines);
    }
    super::order::link_dependencies(&mut actions);
    super::order::sort(&mut actions);
    let config_digest = config.digest();
    let inventory_digest = super::digest::digest_of_lines(lines);
    let digest = super::digest::plan_digest(&config_digest, &inventory_digest, &actions);
    Plan {
        format_version: FORMAT_VERSION,
        org: config.settings.org.clone(),
        config_digest,
        inventory_digest,
        digest,
        summary: Summary::of(&actions),
        dock_changes: Vec::new(),
        actions,
    }
}

/// The three steps in a row over the whole inventory.
pub(super) fn plan_with(
    config: &Config,
    inventory: &[Record],
    docks: &BTreeMap<String, DockState>,
    problems: &BTreeMap<String, Vec<String>>,
    env_fingerprints: &EnvFingerprints,
    hosts_dns: impl Fn(ProviderKind) -> bool + Send + Sync,
) -> Plan {
    let ctx =
        PlanContext::with(config, problems, hosts_dns).with_env_fingerprints(env_fingerprints);
    let org = &config.settings.org;
    // The records split by dock in one pass: a pass per dock re-read every record, and at
    // 100,000 records that memory is far out of cache.
    let declared: HashMap<String, &str> = config
        .docks
        .keys()
        .map(|name| (dock_id(org, name), name.as_str()))
        .collect();
    let mut records_of: HashMap<&str, Vec<&Record>> = HashMap::new();
    for r in inventory.iter().filter(|r| r.org_id == org) {
        if let Some(&name) = declared.get(r.dock_id.as_str()) {
            records_of.entry(name).or_default().push(r);
        }
    }
    let state = |name: &str| docks.get(name).cloned().unwrap_or(DockState::NeverSynced);
    let no_records = Vec::new();
    let lent: Vec<DockFacts> = config
        .docks
        .keys()
        .map(|name| {
            let records = records_of.get(name.as_str()).unwrap_or(&no_records);
            dock_facts(&ctx, name, records, &state(name))
        })
        .collect();
    let facts = merge_facts(&ctx, &lent);
    let parts = config
        .docks
        .keys()
        .map(|name| {
            let records = records_of.get(name.as_str()).unwrap_or(&no_records);
            plan_dock(&ctx, name, records, &state(name), &facts)
        })
        .collect();
    combine(config, parts)
}
