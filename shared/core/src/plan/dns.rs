//! DNS in the plan. A zone is planned like any resource (matched by owner, then adopted by name;
//! created when declared and missing; deleted only by the rules every kind follows). Its records
//! are matched in three passes, per dock:
//!
//! 1. by owner: the record StackDock applied for this entry (`managedBy` is the entry's address,
//!    which is its identity `<fqdn> <TYPE> <value>`, or `… servers.<name>` for a record that
//!    follows a server, so such a record stays matched while the server's address changes);
//! 2. by identity (fqdn, type, value) among unmanaged records: adopted, as a same-named resource
//!    is;
//! 3. by (fqdn, type) for a single-valued change: the one record StackDock owns for that name and
//!    type whose entry is gone, when exactly one new entry of that name and type is left, is
//!    updated in place to the new value rather than deleted and created again.
//!
//! What no pass matches is created. Provider-managed records (SOA, apex NS) are never planned,
//! not even reported; undeclared records are `unmanaged` (or deleted, with `prune`, when StackDock
//! created them), as for every kind.
//!
//! A record whose value follows a server (`value = { server = "web-1" }`) takes the address of
//! that server's record, on whatever dock it is. When the same plan creates, recreates or
//! replaces the server, the address is known only after apply: the record's spec carries
//! `server` without `value`, apply resolves it, and `depends_on` (`order.rs`) orders the record
//! after the server.

use foldhash::{HashMap, HashMapExt, HashSet};

use crate::config::{Config, DesiredResource, address};
use crate::record::{Attrs, Record};
use crate::{FieldValue, Kind};

use super::diff::{DockPlanner, Match};
use super::{ActionKind, FieldChange};

/// What the plan knows of a server's primary IPv4, for the records that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAddress {
    /// The server's record has this address, and the plan leaves the server in place.
    Known(String),
    /// The plan creates, recreates or replaces the server: its address is known after apply.
    AfterApply,
    /// StackDock manages the server, but the provider has not reported its address yet (it is
    /// still being built): a record that follows it keeps the value it has, and one that does
    /// not exist yet is created with the address apply reads once the server is ready.
    Unreported,
}

/// What planning records needs from beyond their dock, computed once per plan from what every
/// dock lends (`per_dock::merge_facts`).
#[derive(Debug, Clone)]
pub struct DnsFacts {
    /// The address of every server entry of the org, by the entry's address (`servers.web-1`).
    servers: HashMap<String, ServerAddress>,
    /// The addresses of every record entry in the file.
    declared: HashSet<String>,
}

impl DnsFacts {
    /// From the file and every server's address as the docks lent them.
    pub(super) fn new(config: &Config, servers: HashMap<String, ServerAddress>) -> DnsFacts {
        let declared = config
            .resources
            .iter()
            .filter(|r| r.kind == Kind::DomainRecords)
            .map(DesiredResource::address)
            .collect();
        DnsFacts { servers, declared }
    }
}

/// A declared record with its value resolved as far as the plan can.
struct Resolved<'r> {
    entry: &'r DesiredResource,
    /// The entry with `value` set when it follows a server whose address is known.
    effective: DesiredResource,
    /// `(fqdn, type, value)` as a row names it, when the value is known.
    identity: Option<String>,
    /// The server entry whose new address the record takes after apply.
    after_apply: Option<String>,
}

impl DockPlanner<'_> {
    /// Plans the records declared on this dock (every zone's together: pass 3 looks across
    /// entries).
    pub(super) fn plan_records(&mut self, entries: &[&DesiredResource], facts: &DnsFacts) {
        let mut pending = Vec::new();
        for entry in entries {
            match self.resolve(entry, facts) {
                Ok(resolved) => pending.push(resolved),
                Err(reason) => {
                    // The records this entry applied stay its own: not deleted, not unmanaged.
                    let owned =
                        self.index
                            .by_owner(&self.records, Kind::DomainRecords, &entry.address());
                    for at in owned {
                        self.claimed[at] = true;
                    }
                    let mut a = self.action(ActionKind::Error, entry, None);
                    a.reason = reason;
                    a.allowed = false;
                    self.actions.push(a);
                }
            }
        }
        // Passes 1 and 2.
        let mut unmatched = Vec::new();
        for resolved in pending {
            match self.find_record(&resolved) {
                Match::None => unmatched.push(resolved),
                matched => self.plan_record(&resolved, matched),
            }
        }
        // Pass 3, then creates.
        let revalued = self.revalued(&unmatched, &facts.declared);
        for (resolved, at) in unmatched.iter().zip(revalued) {
            let matched = at.map_or(Match::None, Match::Managed);
            self.plan_record(resolved, matched);
        }
    }

    fn resolve<'r>(
        &self,
        entry: &'r DesiredResource,
        facts: &DnsFacts,
    ) -> Result<Resolved<'r>, String> {
        let (Some(fqdn), Some(record_type)) = (entry.str_field("fqdn"), entry.str_field("type"))
        else {
            return Err(format!(
                "{} lacks its name or type; run `stackdock validate`",
                entry.address()
            ));
        };
        let mut effective = entry.clone();
        let Some(server) = entry.str_field("server") else {
            let identity = entry
                .str_field("value")
                .map(|v| crate::dns::identity(fqdn, record_type, v));
            return Ok(Resolved {
                entry,
                effective,
                identity,
                after_apply: None,
            });
        };
        let server_entry = address(Kind::Servers, server);
        if record_type != "A" {
            return Err(format!(
                "{} follows {server_entry}, but StackDock records a server's IPv4 address only; write the IPv6 address as the value",
                entry.address()
            ));
        }
        match facts.servers.get(&server_entry) {
            Some(ServerAddress::Known(ip)) => {
                effective
                    .fields
                    .insert("value".into(), FieldValue::Str(ip.as_str().into()));
                Ok(Resolved {
                    entry,
                    effective,
                    identity: Some(crate::dns::identity(fqdn, record_type, ip)),
                    after_apply: None,
                })
            }
            Some(ServerAddress::Unreported) => Ok(Resolved {
                entry,
                effective,
                identity: None,
                after_apply: None,
            }),
            Some(ServerAddress::AfterApply) => Ok(Resolved {
                entry,
                effective,
                identity: None,
                after_apply: Some(server_entry),
            }),
            None => Err(format!(
                "{} follows {server_entry}, whose address is not known: it has no synced record and this plan does not create it (see its own action); sync its dock, or fix that entry",
                entry.address()
            )),
        }
    }

    /// Passes 1 and 2: by owner, then an unmanaged record of the same identity (the lowest id
    /// when a provider holds the same record twice; the other stays unmanaged).
    fn find_record(&self, resolved: &Resolved<'_>) -> Match {
        let address = resolved.entry.address();
        let owned = self
            .index
            .by_owner(&self.records, Kind::DomainRecords, &address);
        let lowest = |at: &&usize| &self.records[**at].provider_resource_id;
        if let Some(&at) = owned
            .iter()
            .filter(|&&at| self.records[at].missing_since.is_none())
            .min_by_key(lowest)
        {
            return Match::Managed(at);
        }
        if let Some(identity) = &resolved.identity
            && let Some(&at) = self
                .index
                .unmanaged_by_name(&self.records, Kind::DomainRecords, identity)
                .iter()
                .filter(|&&at| !self.claimed[at])
                .min_by_key(lowest)
        {
            return Match::Adopt(at);
        }
        owned
            .iter()
            .min_by_key(lowest)
            .map_or(Match::None, |&at| Match::Missing(at))
    }

    /// Pass 3: for each unmatched entry, the record StackDock owns that it takes over with a new
    /// value — only where that (fqdn, type) has exactly one unmatched entry and exactly one live,
    /// unclaimed record whose entry is gone from the file.
    fn revalued(
        &self,
        unmatched: &[Resolved<'_>],
        declared: &HashSet<String>,
    ) -> Vec<Option<usize>> {
        let key = |fqdn: Option<&str>, t: Option<&str>| Some((fqdn?.to_owned(), t?.to_owned()));
        let mut entries: HashMap<(String, String), usize> = HashMap::new();
        for r in unmatched {
            if let Some(k) = key(r.entry.str_field("fqdn"), r.entry.str_field("type")) {
                *entries.entry(k).or_default() += 1;
            }
        }
        let mut orphans: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (at, record) in self.records.iter().enumerate() {
            let (Attrs::DomainRecords(attrs), Some(owner)) = (&record.attrs, &record.managed_by)
            else {
                continue;
            };
            if self.claimed[at]
                || record.missing_since.is_some()
                || attrs.managed
                || declared.contains(owner.as_str())
            {
                continue;
            }
            if let Some(k) = key(attrs.fqdn.as_deref(), attrs.record_type.as_deref()) {
                orphans.entry(k).or_default().push(at);
            }
        }
        unmatched
            .iter()
            .map(|r| {
                let k = key(r.entry.str_field("fqdn"), r.entry.str_field("type"))?;
                match (entries.get(&k), orphans.get(&k).map(Vec::as_slice)) {
                    (Some(1), Some(&[at])) => Some(at),
                    _ => None,
                }
            })
            .collect()
    }

    /// The actions of one record once matched: the shared create / recreate / adopt / converge
    /// rules, with the value of a record following a server that apply (re)creates shown as
    /// known after apply.
    fn plan_record(&mut self, resolved: &Resolved<'_>, matched: Match) {
        let first = self.actions.len();
        let follows = resolved.after_apply.as_deref();
        match matched {
            Match::Managed(at) => {
                self.claimed[at] = true;
                let record = self.records[at];
                self.converge(&resolved.effective, record, true);
                if let Some(server) = follows {
                    self.follow_after_apply(resolved.entry, record, server, first);
                }
            }
            other => self.plan_match(&resolved.effective, other),
        }
        if let Some(server) = follows {
            for a in &mut self.actions[first..] {
                if a.action.is_change()
                    && let Some(change) = a.changes.iter_mut().find(|c| c.field == "server")
                {
                    change.after = Some(FieldValue::Str(known_after_apply(server).into()));
                    change.field = "value".to_owned();
                }
            }
        }
    }

    /// Adds the change of a followed server's address to the record's update (or plans one).
    fn follow_after_apply(
        &mut self,
        entry: &DesiredResource,
        record: &Record,
        server: &str,
        first: usize,
    ) {
        let change = FieldChange {
            field: "value".to_owned(),
            before: record.field("value"),
            after: Some(FieldValue::Str(known_after_apply(server).into())),
        };
        if let Some(update) = self.actions[first..]
            .iter_mut()
            .find(|a| a.action == ActionKind::Update)
        {
            update.changes.insert(0, change);
            update.reason = format!("{server} is created anew: the record takes its new address");
            return;
        }
        let mut a = self.action(ActionKind::Update, entry, Some(record));
        a.reason = format!("{server} is created anew: the record takes its new address");
        a.changes = vec![change];
        a.spec = Some(self.spec(entry));
        self.actions.push(a);
    }
}

/// How a plan shows an address that exists only once apply has created the server.
fn known_after_apply(server: &str) -> String {
    format!("(the address of {server}, known after apply)")
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
