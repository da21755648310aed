//! Parses `stackdock.toml` with spans and validates it into a [`Config`], reporting every mistake at
//! once (a TOML syntax error, which stops the parse, is the one exception).
//!
//! The walk reads the toml crate's spanned tree (`DeTable`), checks each table against the key
//! tables of [`crate::schema`] and [`super::keys`], then checks what spans entries (docks referenced
//! by resources, attachments, duplicate labels). It never opens a file and never echoes a value that
//! looks like a credential.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::credentials::{is_credential_key, looks_like_token};
use super::keys::{
    CREDENTIAL_KEYS, DOCK_KEYS, SETTINGS_KEYS, TableKey, allowed_values, exactly_one_of, names,
    positive,
};
use super::report::Report;
use super::validate::{
    EndpointError, did_you_mean, dock_name_error, endpoint_error, env_var_valid, org_error,
    schedule_error, suggest, table_prefix_error, user_data_path_error,
};
use super::{Config, CredentialRef, DesiredResource, Diagnostics, DockConfig, DriftMode, Settings};
use crate::dock_settings::{Declarations, DockSettingSpec, DockSettings};
use crate::schema::{self, COMMON_KEYS, FieldType, KeySpec};
use crate::{FieldValue, Kind, ProviderKind};

pub(super) type Key<'i> = Spanned<DeString<'i>>;
pub(super) type Item<'i> = Spanned<DeValue<'i>>;

/// Parses and validates `source` (the contents of `file`, named as the user named it).
///
/// # Errors
///
/// Every mistake found, in file order, each with its line, a caret and what would be valid.
pub fn parse(file: &str, source: &str) -> Result<Config, Diagnostics> {
    parse_declared(file, source, ProviderKind::dock_settings)
}

/// [`parse`] with the providers' dock settings taken from `declarations` ([`parse`] passes
/// [`ProviderKind::dock_settings`]; tests pass declarations with settings).
pub(crate) fn parse_declared(
    file: &str,
    source: &str,
    declarations: Declarations,
) -> Result<Config, Diagnostics> {
    let mut report = Report::new(file, source);
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(err) => {
            report.syntax(&err);
            return Err(report.finish());
        }
    };
    let config = Walker {
        report: &mut report,
        declarations,
    }
    .config(root.get_ref());
    match config {
        Some(config) if report.is_empty() => Ok(config),
        _ => {
            if report.is_empty() {
                // Every path that leaves a part unread reports why; this keeps the contract
                // (an `Err` always says something) should one ever be missed.
                report.error(
                    0..0,
                    "the configuration is incomplete",
                    "see the documentation of stackdock.toml",
                );
            }
            Err(report.finish())
        }
    }
}

/// A value read from the file, with where it was written.
#[derive(Debug, Clone)]
pub(super) struct At<T> {
    pub(super) value: T,
    pub(super) key: Range<usize>,
    pub(super) span: Range<usize>,
}

/// A dock as far as it could be read: resources are checked against whatever is known.
#[derive(Debug)]
pub(super) struct DockDraft {
    pub(super) name: String,
    pub(super) provider: Option<ProviderKind>,
    credentials: Option<CredentialRef>,
    endpoint: Option<String>,
    regions: Option<BTreeSet<String>>,
    settings: DockSettings,
}

/// A resource as far as it could be read.
#[derive(Debug)]
pub(super) struct ResourceDraft {
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) name_span: Range<usize>,
    dock: Option<At<String>>,
    protect: bool,
    id: Option<String>,
    ignore_changes: BTreeSet<String>,
    allow_replace: bool,
    pub(super) fields: BTreeMap<String, At<FieldValue>>,
}

impl ResourceDraft {
    fn address(&self) -> String {
        super::address(self.kind, &self.name)
    }

    fn str_field(&self, key: &str) -> Option<&At<FieldValue>> {
        self.fields.get(key)
    }
}

pub(super) struct Walker<'r, 's> {
    pub(super) report: &'r mut Report<'s>,
    /// The dock settings each provider declares.
    pub(super) declarations: Declarations,
}

impl Walker<'_, '_> {
    fn config(&mut self, root: &DeTable<'_>) -> Option<Config> {
        let mut settings = None;
        let mut docks = BTreeMap::new();
        let mut resources = Vec::new();
        let mut zones = Vec::new();
        let mut notify = None;
        let mut saw_settings = false;
        let top: Vec<&str> = ["stackdock", "docks", "notify"]
            .into_iter()
            .chain(
                Kind::ALL
                    .into_iter()
                    .filter(|k| k.is_declared_at_top())
                    .map(Kind::config_key),
            )
            .collect();
        for (key, item) in root {
            let name = key.get_ref().as_ref();
            match name {
                "stackdock" => {
                    saw_settings = true;
                    if let Some(t) =
                        self.table(item, "`[stackdock]`", "`[stackdock]` with `org = \"…\"`")
                    {
                        settings = self.settings(t, item.span());
                    }
                }
                "docks" => {
                    if let Some(t) = self.table(item, "`docks`", "`[docks.<name>]` tables") {
                        docks = self.docks(t);
                    }
                }
                "notify" => {
                    if let Some(t) = self.table(
                        item,
                        "`[notify]`",
                        "`[notify]` with `webhook = { secret = \"…\" }` or `sns = true`",
                    ) {
                        notify = self.notify(t, item.span());
                    }
                }
                _ if name == Kind::Domains.config_key() => {
                    if let Some(t) = self.table(item, "`domains`", "`[domains.\"<zone>\"]` tables")
                    {
                        zones = self.zones(t);
                    }
                }
                _ => match Kind::parse(name) {
                    Some(kind) if !kind.is_declared_at_top() && kind.config_key() == name => {
                        self.scan(item, &format!("`{name}`"));
                        self.report.error(
                            key.span(),
                            format!("`[{name}]` is not a table of the file"),
                            "declare DNS records inside their zone: \
                             `[[domains.\"<zone>\".records]]`",
                        );
                    }
                    Some(kind) if kind.config_key() == name => {
                        if let Some(t) = self.table(
                            item,
                            &format!("`{name}`"),
                            &format!("`[{name}.<name>]` tables"),
                        ) {
                            for (rkey, ritem) in t {
                                if self.is_named_entry_credential(rkey, ritem, &format!("`{name}`"))
                                {
                                    continue;
                                }
                                if let Some(r) = self.resource(kind, rkey, ritem) {
                                    resources.push(r);
                                }
                            }
                        }
                    }
                    _ => self.top_level_unknown(key, item, &top),
                },
            }
        }
        if !saw_settings {
            self.report.error(
                0..0,
                "missing the `[stackdock]` table",
                "add `[stackdock]` with at least `org = \"<your org>\"`",
            );
        }
        self.cross_check(&docks, &resources);
        let dns = self.dns_check(&docks, &resources, &zones);

        let settings = settings?;
        let mut dock_configs = BTreeMap::new();
        for (name, d) in docks {
            let (Some(provider), Some(credentials)) = (d.provider, d.credentials) else {
                return None;
            };
            dock_configs.insert(
                name,
                DockConfig {
                    name: d.name,
                    provider,
                    credentials,
                    endpoint: d.endpoint,
                    regions: d.regions,
                    settings: d.settings,
                },
            );
        }
        let mut desired = Vec::new();
        for r in resources {
            desired.push(DesiredResource {
                kind: r.kind,
                dock: r.dock?.value.into(),
                name: r.name.into(),
                protect: r.protect,
                id: r.id,
                ignore_changes: r.ignore_changes,
                allow_replace: r.allow_replace,
                fields: r
                    .fields
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.value))
                    .collect(),
            });
        }
        desired.extend(dns);
        desired.sort_by(|a, b| (a.kind.rank(), &a.name).cmp(&(b.kind.rank(), &b.name)));
        Some(Config {
            settings,
            docks: dock_configs,
            resources: desired,
            notify,
        })
    }

    /// A top-level key that is neither a known table nor a kind of the file.
    fn top_level_unknown(&mut self, key: &Key<'_>, item: &Item<'_>, top: &[&str]) {
        let name = key.get_ref().as_ref();
        if self.is_inline_credential(key, item, "the top level") {
            return;
        }
        self.scan(item, &format!("`{name}`"));
        if SETTINGS_KEYS.iter().any(|k| k.key == name) {
            self.report.error(
                key.span(),
                format!("`{name}` is outside any table"),
                "move it under `[stackdock]` (keys above the first table header belong to no table)",
            );
            return;
        }
        let help = match Kind::parse(name) {
            Some(kind) => format!("did you mean `{}`?", kind.config_key()),
            None => did_you_mean(name, top.iter().copied(), "top-level tables"),
        };
        self.report.error(
            key.span(),
            format!("unknown top-level table `{name}`"),
            help,
        );
    }

    /// `item` as a table, or a type error saying what was expected.
    pub(super) fn table<'t, 'i>(
        &mut self,
        item: &'t Item<'i>,
        what: &str,
        expected: &str,
    ) -> Option<&'t DeTable<'i>> {
        match item.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                if !self.scan(item, what) {
                    self.report.error(
                        item.span(),
                        format!("{what} must be a table, found {}", found(other)),
                        format!("write it as {expected}"),
                    );
                }
                None
            }
        }
    }

    /// Reports every string in `item` that looks like a token. Returns whether one was found.
    pub(super) fn scan(&mut self, item: &Item<'_>, what: &str) -> bool {
        match item.get_ref() {
            DeValue::String(s) if looks_like_token(s) => {
                self.report.credential(
                    item.span(),
                    format!("the value of {what} looks like a credential written inline"),
                );
                true
            }
            DeValue::Array(items) => {
                let mut any = false;
                for i in items.iter() {
                    any |= self.scan(i, what);
                }
                any
            }
            DeValue::Table(t) => {
                let mut any = false;
                for (k, v) in t {
                    any |= self.scan(v, &format!("`{}` in {what}", k.get_ref()));
                }
                any
            }
            _ => false,
        }
    }

    /// A key that is unknown in its table and names a credential, or is itself a token.
    fn is_inline_credential(&mut self, key: &Key<'_>, item: &Item<'_>, table: &str) -> bool {
        let name = key.get_ref().as_ref();
        if looks_like_token(name) {
            self.report.credential(
                key.span(),
                format!("a key in {table} looks like a credential written inline"),
            );
            return true;
        }
        if is_credential_key(name) {
            self.report.credential(
                item.span(),
                format!("`{name}` in {table} looks like a credential written inline"),
            );
            return true;
        }
        false
    }

    /// An entry of `[docks]` or of a kind table that is a credential rather than a named table:
    /// a name that is itself a token, or `password = "…"` written where a table belongs. Names
    /// like `auth-proxy` are fine as table names.
    pub(super) fn is_named_entry_credential(
        &mut self,
        key: &Key<'_>,
        item: &Item<'_>,
        table: &str,
    ) -> bool {
        let name = key.get_ref().as_ref();
        if matches!(item.get_ref(), DeValue::Table(_)) && !looks_like_token(name) {
            return false;
        }
        self.is_inline_credential(key, item, table)
    }

    /// Splits a table into its known keys (checked for inline credentials) and reports the rest.
    pub(super) fn known_keys<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        what: &str,
        known: &[&str],
    ) -> BTreeMap<String, (&'t Key<'i>, &'t Item<'i>)> {
        self.known_keys_declared(table, what, known, &[])
    }

    /// [`Self::known_keys`], where a value of a declared dock setting that matches the setting's
    /// pattern is an identifier, not an inline credential (a 32-hex account id looks like a hex
    /// secret to [`looks_like_token`]).
    fn known_keys_declared<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        what: &str,
        known: &[&str],
        declared: &[DockSettingSpec],
    ) -> BTreeMap<String, (&'t Key<'i>, &'t Item<'i>)> {
        let mut out = BTreeMap::new();
        for (key, item) in table {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                // A table (`credentials`) is walked key by key by its own reader.
                let table = matches!(item.get_ref(), DeValue::Table(_));
                let identifier = declared
                    .iter()
                    .any(|s| s.key == name && s.pattern.is_some() && all_strings_match(item, s));
                if table || identifier || !self.scan(item, &format!("`{name}` in {what}")) {
                    out.insert(name.to_owned(), (key, item));
                }
                continue;
            }
            if known.contains(&"credentials") && names(CREDENTIAL_KEYS).contains(&name) {
                // `env = "…"` written on the dock itself: a reference, but in the wrong place.
                if !self.scan(item, &format!("`{name}` in {what}")) {
                    self.report.error(
                        key.span(),
                        format!("`{name}` of {what} belongs inside `credentials`"),
                        format!("write `credentials = {{ {name} = … }}` instead"),
                    );
                }
                continue;
            }
            if self.is_inline_credential(key, item, what)
                || self.scan(item, &format!("`{name}` in {what}"))
            {
                continue;
            }
            self.report.error(
                key.span(),
                format!("unknown key `{name}` in {what}"),
                did_you_mean(name, known.iter().copied(), "valid keys"),
            );
        }
        out
    }

    /// Reports the required keys missing from a table, pointing at its header.
    pub(super) fn required(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        specs: impl IntoIterator<Item = (&'static str, bool, &'static str)>,
        what: &str,
        header: Range<usize>,
    ) {
        for (key, required, doc) in specs {
            if required && !present.contains_key(key) {
                self.report.error(
                    header.clone(),
                    format!("{what} is missing the required key `{key}`"),
                    format!("add `{key} = …`: {doc}"),
                );
            }
        }
    }

    /// Reads a typed value, reporting a type error (with the expected type and what was found).
    pub(super) fn typed(
        &mut self,
        key: &Key<'_>,
        item: &Item<'_>,
        ty: FieldType,
        what: &str,
    ) -> Option<At<FieldValue>> {
        let name = key.get_ref().as_ref();
        let value = match (ty, item.get_ref()) {
            (FieldType::Str, DeValue::String(s)) => Some(FieldValue::Str(s.as_ref().into())),
            (FieldType::Bool, DeValue::Boolean(b)) => Some(FieldValue::Bool(*b)),
            (FieldType::Int, DeValue::Integer(i)) => {
                match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => Some(FieldValue::Int(n)),
                    Err(_) => {
                        self.report.error(
                            item.span(),
                            format!("`{name}` in {what} is out of range"),
                            "use a whole number that fits in 64 bits",
                        );
                        return None;
                    }
                }
            }
            (FieldType::StrList, DeValue::Array(items)) => {
                let mut set = BTreeSet::new();
                let mut ok = true;
                for i in items.iter() {
                    match i.get_ref() {
                        DeValue::String(s) => {
                            set.insert(s.to_string());
                        }
                        other => {
                            ok = false;
                            self.report.error(
                                i.span(),
                                format!("`{name}` in {what} must be an array of strings, found {} in it", found(other)),
                                format!("quote every element: `{name} = [\"a\", \"b\"]`"),
                            );
                        }
                    }
                }
                if !ok {
                    return None;
                }
                Some(FieldValue::Set(set.into()))
            }
            _ => None,
        };
        if let Some(value) = value {
            return Some(At {
                value,
                key: key.span(),
                span: item.span(),
            });
        }
        let text = self.report.source().get(item.span()).unwrap_or_default();
        let help = match (ty, item.get_ref()) {
            (FieldType::Str, DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_)) => {
                format!("quote it: `{name} = \"{text}\"`")
            }
            (FieldType::Str, _) => format!("write a string in quotes: `{name} = \"…\"`"),
            (FieldType::Int, DeValue::String(s)) if s.trim().parse::<i64>().is_ok() => {
                format!("remove the quotes: `{name} = {}`", s.trim())
            }
            (FieldType::Int, _) => {
                format!("write a whole number without quotes, e.g. `{name} = 40`")
            }
            (FieldType::Bool, DeValue::String(s)) if matches!(s.as_ref(), "true" | "false") => {
                format!("remove the quotes: `{name} = {s}`")
            }
            (FieldType::Bool, _) => format!("write `{name} = true` or `{name} = false`"),
            (FieldType::StrList, DeValue::String(_)) => {
                format!("make it an array: `{name} = [{text}]`")
            }
            (FieldType::StrList, _) => {
                format!("write an array of strings: `{name} = [\"a\", \"b\"]`")
            }
            (FieldType::Env, _) => {
                format!("write a table: `[<entry>.{name}]` with `NAME = {{ secret = \"…\" }}`")
            }
        };
        self.report.error(
            item.span(),
            format!(
                "`{name}` in {what} must be {}, found {}",
                ty.describe(),
                found(item.get_ref())
            ),
            help,
        );
        None
    }

    /// Reads a string key from a table read by [`Self::known_keys`].
    pub(super) fn string(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        key: &str,
        what: &str,
    ) -> Option<At<String>> {
        let (k, v) = present.get(key)?;
        let at = self.typed(k, v, FieldType::Str, what)?;
        match at.value {
            FieldValue::Str(s) => Some(At {
                value: s.to_string(),
                key: at.key,
                span: at.span,
            }),
            _ => None,
        }
    }

    pub(super) fn boolean(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        key: &str,
        what: &str,
    ) -> Option<bool> {
        let (k, v) = present.get(key)?;
        self.typed(k, v, FieldType::Bool, what)?.value.as_bool()
    }

    fn string_set(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        key: &str,
        what: &str,
    ) -> Option<At<BTreeSet<String>>> {
        let (k, v) = present.get(key)?;
        let at = self.typed(k, v, FieldType::StrList, what)?;
        match at.value {
            FieldValue::Set(s) => Some(At {
                value: s.into_iter().collect(),
                key: at.key,
                span: at.span,
            }),
            _ => None,
        }
    }

    /// A string key with a closed set of values (`provider`, `drift`).
    fn choice(&mut self, at: &At<String>, key: &str, what: &str) -> bool {
        let values = allowed_values(key).unwrap_or_default();
        if values.contains(&at.value.as_str()) {
            return true;
        }
        let list = values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match suggest(&at.value, values.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? valid values: {list}"),
            None => format!("valid values: {list}"),
        };
        self.report.error(
            at.span.clone(),
            format!("unknown {key} `{}` in {what}", at.value),
            help,
        );
        false
    }

    fn settings(&mut self, t: &DeTable<'_>, header: Range<usize>) -> Option<Settings> {
        let what = "`[stackdock]`";
        let names = names(SETTINGS_KEYS);
        let present = self.known_keys(t, what, &names);
        self.required(&present, table_specs(SETTINGS_KEYS), what, header);
        let org = self.string(&present, "org", what);
        if let Some(org) = &org
            && let Some(e) = org_error(&org.value)
        {
            self.report.error(
                org.span.clone(),
                format!("invalid `org` `{}`", org.value),
                e,
            );
        }
        let prune = self.boolean(&present, "prune", what).unwrap_or(false);
        let drift = match self.string(&present, "drift", what) {
            Some(d) if self.choice(&d, "drift", what) => {
                if d.value == "remediate" {
                    DriftMode::Remediate
                } else {
                    DriftMode::Flag
                }
            }
            _ => DriftMode::Flag,
        };
        let table_prefix = self.string(&present, "table_prefix", what);
        if let Some(p) = &table_prefix
            && let Some(e) = table_prefix_error(&p.value)
        {
            self.report.error(
                p.span.clone(),
                format!("invalid `table_prefix` `{}`", p.value),
                e,
            );
        }
        let schedule = self.string(&present, "schedule", what);
        if let Some(s) = &schedule
            && let Some(e) = schedule_error(&s.value)
        {
            self.report.error(
                s.span.clone(),
                format!(
                    "`schedule` `{}` is not an EventBridge schedule expression",
                    s.value
                ),
                e,
            );
        }
        Some(Settings {
            org: org?.value,
            prune,
            drift,
            table_prefix: table_prefix.map_or_else(|| "stackdock".to_owned(), |p| p.value),
            schedule: schedule.map(|s| s.value),
        })
    }

    fn docks(&mut self, t: &DeTable<'_>) -> BTreeMap<String, DockDraft> {
        let mut out = BTreeMap::new();
        for (key, item) in t {
            let name = key.get_ref().as_ref();
            if self.is_named_entry_credential(key, item, "`[docks]`") {
                continue;
            }
            let what = format!("dock `{name}`");
            if let Some(e) = dock_name_error(name) {
                self.report
                    .error(key.span(), format!("invalid dock name `{name}`"), e);
            }
            let Some(table) = self.table(
                item,
                &what,
                &format!("`[docks.{name}]` with `provider` and `credentials`"),
            ) else {
                continue;
            };
            out.insert(name.to_owned(), self.dock(name, table, item.span()));
        }
        out
    }

    fn dock(&mut self, name: &str, t: &DeTable<'_>, header: Range<usize>) -> DockDraft {
        let what = format!("dock `{name}`");
        // The provider decides which settings the dock takes, so it is read first; while it is
        // unknown (missing or misspelt, reported below) any provider's setting is let through.
        let declared_provider = t.iter().find_map(|(k, v)| match v.get_ref() {
            DeValue::String(s) if k.get_ref().as_ref() == "provider" => ProviderKind::parse(s),
            _ => None,
        });
        let own: &[DockSettingSpec] = declared_provider.map_or(&[][..], |p| (self.declarations)(p));
        let every: Vec<DockSettingSpec> = ProviderKind::ALL
            .into_iter()
            .flat_map(|p| (self.declarations)(p).iter().copied())
            .collect();
        let mut known = names(DOCK_KEYS);
        let mut foreign = Vec::new();
        match declared_provider {
            Some(_) => {
                known.extend(own.iter().map(|s| s.key));
                // A setting of another provider gets its own message below.
                for (k, _) in t {
                    let key = k.get_ref().as_ref();
                    if !known.contains(&key)
                        && let Some(s) = every.iter().find(|s| s.key == key)
                    {
                        foreign.push(s.key);
                    }
                }
                known.extend(foreign.iter().copied());
            }
            None => known.extend(every.iter().map(|s| s.key)),
        }
        // A value matching a pattern declared for its key is an identifier on any dock: on another
        // provider's dock it then gets "not a setting of …", not "looks like a credential".
        let mut present = self.known_keys_declared(t, &what, &known, &every);
        self.required(&present, table_specs(DOCK_KEYS), &what, header.clone());
        if let Some(provider) = declared_provider {
            for key in &foreign {
                if let Some((k, _)) = present.remove(*key) {
                    let takes = names(DOCK_KEYS)
                        .into_iter()
                        .chain(own.iter().map(|s| s.key))
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.report.error(
                        k.span(),
                        format!("`{key}` is not a setting of {provider} docks"),
                        format!("{provider} docks take: {takes}; remove `{key}`"),
                    );
                }
            }
            // Missing means not written: a value dropped as an inline credential was reported.
            let written = |key: &str| t.iter().any(|(k, _)| k.get_ref().as_ref() == key);
            self.required(
                &present,
                own.iter()
                    .filter(|s| !written(s.key))
                    .map(|s| (s.key, s.required, s.doc)),
                &what,
                header,
            );
        }
        let settings = self.dock_settings(&present, own, &what);
        let provider = self.string(&present, "provider", &what).and_then(|p| {
            self.choice(&p, "provider", &what)
                .then(|| ProviderKind::parse(&p.value))
                .flatten()
        });
        let credentials = present.get("credentials").and_then(|(_, item)| {
            self.credentials(
                item,
                &format!("the credentials of dock `{name}`"),
                &format!("dock `{name}`"),
            )
        });
        let endpoint = self.string(&present, "endpoint", &what);
        if let Some(e) = &endpoint {
            match endpoint_error(&e.value) {
                None => {}
                Some(EndpointError::UserInfo) => self.report.credential(
                    e.span.clone(),
                    format!("the `endpoint` of {what} carries a user name or password"),
                ),
                Some(EndpointError::NotHttp) => self.report.error(
                    e.span.clone(),
                    format!("`endpoint` of {what} is not an http(s) URL"),
                    "write the full base URL including the version path, e.g. `http://127.0.0.1:8080/v2`, or remove `endpoint` to use the provider's",
                ),
            }
        }
        let regions = self.string_set(&present, "regions", &what);
        if let Some(r) = &regions
            && r.value.is_empty()
        {
            self.report.error(
                r.span.clone(),
                format!("`regions` of {what} is empty: nothing would be synced"),
                "list the regions to sync, e.g. `regions = [\"ewr\"]`, or remove `regions` to sync all",
            );
        }
        DockDraft {
            name: name.to_owned(),
            provider,
            credentials,
            endpoint: endpoint.map(|e| e.value),
            regions: regions.map(|r| r.value),
            settings,
        }
    }

    /// Reads the provider-specific settings `declared` from a dock's keys: type, then pattern.
    fn dock_settings(
        &mut self,
        present: &BTreeMap<String, (&Key<'_>, &Item<'_>)>,
        declared: &[DockSettingSpec],
        what: &str,
    ) -> DockSettings {
        let mut settings = Vec::new();
        for spec in declared {
            let Some((k, v)) = present.get(spec.key) else {
                continue;
            };
            let Some(at) = self.typed(k, v, spec.ty, what) else {
                continue;
            };
            let strings: Vec<&str> = match &at.value {
                FieldValue::Str(s) => vec![s.as_str()],
                FieldValue::Set(set) => set.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            if let Some(bad) = strings.iter().find(|s| !spec.matches(s)) {
                let span = match &at.value {
                    FieldValue::Set(_) => element_span(self.report.source(), &at.span, bad),
                    _ => at.span.clone(),
                };
                // A value that looks like a token never gets here: unless it matches the
                // pattern, `known_keys_declared` reported it as an inline credential.
                self.report.error(
                    span,
                    format!(
                        "`{}` of {what} `{bad}` does not match `{}`",
                        spec.key,
                        spec.pattern.unwrap_or_default()
                    ),
                    format!("{}: {}", spec.key, spec.doc),
                );
                continue;
            }
            settings.push((spec.key.to_owned(), at.value));
        }
        settings.into_iter().collect()
    }

    /// A `{ env = "…" }` / `{ secret = "…" }` reference: `what` names the table in messages (`the
    /// credentials of dock `x``) and `owner` its keys (`dock `x``: "`env` of dock `x` …").
    pub(super) fn credentials(
        &mut self,
        item: &Item<'_>,
        what: &str,
        owner: &str,
    ) -> Option<CredentialRef> {
        let what = what.to_owned();
        if let DeValue::String(s) = item.get_ref()
            && env_var_valid(s)
        {
            // `credentials = "VAR"`: almost certainly meant as an environment variable.
            self.report.error(
                item.span(),
                format!("{what} must be a table, found a string"),
                format!("name the variable in a table: `credentials = {{ env = \"{s}\" }}`"),
            );
            return None;
        }
        let t = self.table(item, &what, "`credentials = { env = \"VAR\" }` or `credentials = { secret = \"<Secrets Manager name or ARN>\" }`")?;
        let names = names(CREDENTIAL_KEYS);
        let present = self.known_keys(t, &what, &names);
        let env = self.string(&present, "env", &what);
        let secret = self.string(&present, "secret", &what);
        let exactly_one = "give exactly one: `{ env = \"VAR\" }` or `{ secret = \"<Secrets Manager name or ARN>\" }`";
        match (env, secret) {
            (Some(env), None) => {
                if env_var_valid(&env.value) {
                    Some(CredentialRef::Env(env.value))
                } else {
                    self.report.error(
                        env.span,
                        format!("`env` of {owner} is not an environment variable name"),
                        "name the variable that holds the token: letters, digits and `_`, not starting with a digit, e.g. `VULTR_API_KEY`",
                    );
                    None
                }
            }
            (None, Some(secret)) => {
                if secret.value.trim().is_empty() {
                    self.report.error(
                        secret.span,
                        format!("`secret` of {owner} is empty"),
                        "give the Secrets Manager secret's name or ARN",
                    );
                    None
                } else {
                    Some(CredentialRef::Secret(secret.value))
                }
            }
            (Some(_), Some(secret)) => {
                self.report.error(
                    secret.key,
                    format!("{what} give both `env` and `secret`"),
                    exactly_one,
                );
                None
            }
            (None, None) => {
                // Only for an empty table: any key in it already got a more specific message.
                if t.is_empty() {
                    self.report
                        .error(item.span(), format!("{what} name no source"), exactly_one);
                }
                None
            }
        }
    }

    pub(super) fn resource(
        &mut self,
        kind: Kind,
        key: &Key<'_>,
        item: &Item<'_>,
    ) -> Option<ResourceDraft> {
        let name = key.get_ref().as_ref();
        let address = super::address(kind, name);
        let what = format!("`{address}`");
        let t = self.table(
            item,
            &what,
            &format!("`[{address}]` with `dock` and its keys"),
        )?;
        let specs: Vec<&KeySpec> = COMMON_KEYS.iter().chain(schema::kind_keys(kind)).collect();
        let names: Vec<&str> = specs.iter().map(|s| s.key).collect();
        let present = self.known_keys(t, &what, &names);
        self.required(
            &present,
            specs.iter().map(|s| (s.key, s.required, s.doc)),
            &what,
            item.span(),
        );
        let mut draft = ResourceDraft {
            kind,
            name: name.to_owned(),
            name_span: key.span(),
            dock: self.string(&present, "dock", &what),
            protect: self.boolean(&present, "protect", &what).unwrap_or(false),
            id: None,
            ignore_changes: BTreeSet::new(),
            allow_replace: self
                .boolean(&present, "allow_replace", &what)
                .unwrap_or(false),
            fields: BTreeMap::new(),
        };
        if let Some(id) = self.string(&present, "id", &what) {
            if id.value.trim().is_empty() {
                self.report.error(
                    id.span.clone(),
                    format!("`id` of {what} is empty"),
                    "give the provider's id of the resource to pin, or remove `id`",
                );
            }
            draft.id = Some(id.value);
        }
        if let Some(ignored) = self.string_set(&present, "ignore_changes", &what) {
            let kind_keys: Vec<&str> = schema::kind_keys(kind).iter().map(|k| k.key).collect();
            for field in &ignored.value {
                if !kind_keys.contains(&field.as_str()) {
                    self.report.error(
                        element_span(self.report.source(), &ignored.span, field),
                        format!(
                            "`ignore_changes` of {what} names `{field}`, which {}s do not have",
                            kind.noun()
                        ),
                        did_you_mean(
                            field,
                            kind_keys.iter().copied(),
                            &format!("fields of {}", kind.config_key()),
                        ),
                    );
                }
            }
            draft.ignore_changes = ignored.value;
        }
        for spec in schema::kind_keys(kind) {
            let Some((k, v)) = present.get(spec.key) else {
                continue;
            };
            if spec.ty == FieldType::Env {
                // Read with the entry's subtype below.
                continue;
            }
            let Some(at) = self.typed(k, v, spec.ty, &what) else {
                continue;
            };
            if positive(spec.ty)
                && let FieldValue::Int(n) = at.value
                && n < 1
            {
                self.report.error(
                    at.span.clone(),
                    format!("`{}` of {what} must be at least 1, found {n}", spec.key),
                    format!("sizes are whole GB, e.g. `{} = 40`", spec.key),
                );
            }
            if let FieldValue::Str(value) = &at.value
                && allowed_values(spec.key).is_some()
            {
                let choice = At {
                    value: value.to_string(),
                    key: at.key.clone(),
                    span: at.span.clone(),
                };
                if !self.choice(&choice, spec.key, &what) {
                    continue;
                }
            }
            draft.fields.insert(spec.key.to_owned(), at);
        }
        if kind == Kind::WebServices {
            self.web_service(&mut draft, present.get("env").copied(), &what);
        }
        if let Some(path) = draft.str_field("user_data_file")
            && let FieldValue::Str(p) = &path.value
            && let Some(e) = user_data_path_error(p)
        {
            self.report.error(
                path.span.clone(),
                format!("`user_data_file` of {what} must stay inside the config's directory: {e}"),
                "give a path relative to the directory of stackdock.toml, e.g. `cloud-init/web.yaml`",
            );
        }
        if let Some(keys) = exactly_one_of(kind) {
            let given: Vec<&At<FieldValue>> =
                keys.iter().filter_map(|k| draft.fields.get(*k)).collect();
            let list = keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            match given.as_slice() {
                [] if keys.iter().all(|k| !present.contains_key(*k)) => self.report.error(
                    item.span(),
                    format!("{what} needs {list}"),
                    format!("give exactly one of {list}, e.g. `region = \"us-east\"`"),
                ),
                [_, second, ..] => self.report.error(
                    second.key.clone(),
                    format!(
                        "{what} gives both {}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                    format!("give exactly one of {list}"),
                ),
                _ => {}
            }
        }
        Some(draft)
    }

    /// Checks that need the whole file: docks referenced by resources, what their providers
    /// support, labels, regions, attachments and labels that differ only in case.
    fn cross_check(&mut self, docks: &BTreeMap<String, DockDraft>, resources: &[ResourceDraft]) {
        for r in resources {
            let what = format!("`{}`", r.address());
            let Some(dock_at) = &r.dock else { continue };
            let Some(dock) = docks.get(&dock_at.value) else {
                let help = if docks.is_empty() {
                    format!(
                        "declare it: `[docks.{}]` with `provider` and `credentials`",
                        dock_at.value
                    )
                } else {
                    did_you_mean(
                        &dock_at.value,
                        docks.keys().map(String::as_str),
                        "declared docks",
                    )
                };
                self.report.error(
                    dock_at.span.clone(),
                    format!("{what} names unknown dock `{}`", dock_at.value),
                    help,
                );
                continue;
            };
            if let (Some(limit), Some(region)) = (&dock.regions, r.fields.get("region"))
                && let FieldValue::Str(region_name) = &region.value
                && !limit.contains(region_name.as_str())
            {
                self.report.error(
                    region.span.clone(),
                    format!("region `{region_name}` of {what} is outside the `regions` of dock `{}`", dock.name),
                    format!(
                        "dock `{}` syncs only {}; use one of them or add `{region_name}` to its `regions`",
                        dock.name,
                        limit.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            let Some(provider) = dock.provider else {
                continue;
            };
            if !provider.supports(r.kind) && !ProviderKind::ALL.iter().any(|p| p.supports(r.kind)) {
                self.report.error(
                    dock_at.span.clone(),
                    format!(
                        "no provider supports {} yet: {what} cannot be planned",
                        r.kind.config_key()
                    ),
                    format!(
                        "remove {what} for now; {}s come with the providers that host them",
                        r.kind.noun()
                    ),
                );
                continue;
            }
            if !provider.supports(r.kind) {
                let hosts: Vec<String> = ProviderKind::ALL
                    .into_iter()
                    .filter(|p| p.supports(r.kind))
                    .map(|p| format!("`{p}`"))
                    .collect();
                self.report.error(
                    dock_at.span.clone(),
                    format!(
                        "dock `{}` is a {provider} dock, and {provider} does not support {}",
                        dock.name,
                        r.kind.config_key()
                    ),
                    format!(
                        "{provider} supports {}; put {what} on a dock of {}",
                        provider
                            .kinds()
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        hosts.join(" or ")
                    ),
                );
                continue;
            }
            for setting in provider.dock_settings() {
                if setting.required_for.contains(&r.kind)
                    && dock.settings.raw(setting.key).is_none()
                {
                    self.report.error(
                        dock_at.span.clone(),
                        format!(
                            "dock `{}` has no `{}`, which {provider} {} need",
                            dock.name,
                            setting.key,
                            r.kind.config_key()
                        ),
                        format!(
                            "add `{} = …` to `[docks.{}]`: {}",
                            setting.key, dock.name, setting.doc
                        ),
                    );
                }
            }
            for key in schema::provider_required(provider, r.kind) {
                if !r.fields.contains_key(*key) {
                    let doc = schema::kind_keys(r.kind)
                        .iter()
                        .find(|k| k.key == *key)
                        .map_or("", |k| k.doc);
                    self.report.error(
                        r.name_span.clone(),
                        format!(
                            "{what} is missing `{key}`, which {provider} {} need",
                            r.kind.config_key()
                        ),
                        format!("add `{key} = …`: {doc}"),
                    );
                }
            }
            for (key, at) in &r.fields {
                if let FieldValue::Str(value) = &at.value
                    && let Some(e) = schema::value_error(provider, r.kind, key, value)
                {
                    self.report.error(
                        at.span.clone(),
                        format!("`{key}` of {what} is `{value}`, which {provider} refuses"),
                        e,
                    );
                }
                if schema::field_rule(provider, r.kind, key).is_none() {
                    // `env_sources` is read from `env`, not written.
                    let supported: Vec<&str> = schema::field_rules(provider, r.kind)
                        .iter()
                        .map(|f| f.key)
                        .filter(|k| *k != "env_sources")
                        .collect();
                    self.report.error(
                        at.key.clone(),
                        format!(
                            "`{key}` is not supported by {provider} {}",
                            r.kind.config_key()
                        ),
                        match schema::unsupported_hint(provider, r.kind, key) {
                            Some(hint) => format!("remove it: {hint}"),
                            None => format!(
                                "remove it; {provider} {} take {}",
                                r.kind.config_key(),
                                supported
                                    .iter()
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        },
                    );
                }
            }
            for (key, at) in &r.fields {
                let FieldValue::Set(items) = &at.value else {
                    continue;
                };
                for item in items {
                    if let Some(e) = schema::list_item_error(provider, key, item) {
                        self.report.error(
                            element_span(self.report.source(), &at.span, item),
                            format!("`{item}` in `{key}` of {what} would be refused by {provider}"),
                            e,
                        );
                    }
                }
            }
            if let Some(e) = schema::label_error(provider, r.kind, &r.name) {
                self.report.error(
                    r.name_span.clone(),
                    format!(
                        "`{}` is not a valid {provider} {} label",
                        r.name,
                        r.kind.noun()
                    ),
                    format!("the name is the label at the provider: {e}"),
                );
            }
        }
        self.attachments(resources);
        self.case_duplicates(resources);
    }

    /// `attach_to` must name a server on the same dock, in the same region.
    fn attachments(&mut self, resources: &[ResourceDraft]) {
        let servers: Vec<&ResourceDraft> = resources
            .iter()
            .filter(|r| r.kind == Kind::Servers)
            .collect();
        for r in resources {
            let Some(at) = r.fields.get("attach_to") else {
                continue;
            };
            let FieldValue::Str(target) = &at.value else {
                continue;
            };
            let Some(dock) = &r.dock else { continue };
            let what = format!("`{}`", r.address());
            let same_name: Vec<&&ResourceDraft> =
                servers.iter().filter(|s| s.name == target).collect();
            let Some(server) = same_name
                .iter()
                .find(|s| s.dock.as_ref().is_some_and(|d| d.value == dock.value))
                .or(same_name.first())
            else {
                let on_dock = servers
                    .iter()
                    .filter(|s| s.dock.as_ref().is_some_and(|d| d.value == dock.value))
                    .map(|s| s.name.as_str());
                self.report.error(
                    at.span.clone(),
                    format!("{what} attaches to `{target}`, but there is no `servers.{target}`"),
                    did_you_mean(
                        target,
                        on_dock,
                        &format!("servers on dock `{}`", dock.value),
                    ),
                );
                continue;
            };
            let server_dock = server
                .dock
                .as_ref()
                .map(|d| d.value.as_str())
                .unwrap_or_default();
            if server_dock != dock.value {
                self.report.error(
                    at.span.clone(),
                    format!(
                        "{what} is on dock `{}`, but `servers.{target}` is on dock `{server_dock}`",
                        dock.value
                    ),
                    "a volume attaches only to a server on the same dock: move one of them",
                );
                continue;
            }
            let region = |x: &ResourceDraft| {
                x.fields
                    .get("region")
                    .and_then(|f| f.value.as_str().map(str::to_owned))
            };
            if let (Some(vr), Some(sr)) = (region(r), region(server))
                && vr != sr
            {
                self.report.error(
                    at.span.clone(),
                    format!("{what} is in region `{vr}`, but `servers.{target}` is in `{sr}`"),
                    format!("a volume attaches only to a server in its region: set `region = \"{sr}\"` on the volume"),
                );
            }
        }
    }

    /// Two entries of one kind on one dock whose names differ only in case: providers compare
    /// labels case-insensitively, so adoption could not tell them apart.
    fn case_duplicates(&mut self, resources: &[ResourceDraft]) {
        let mut seen: BTreeMap<(Kind, String, String), &ResourceDraft> = BTreeMap::new();
        let mut ordered: Vec<&ResourceDraft> = resources.iter().collect();
        ordered.sort_by_key(|r| r.name_span.start);
        for r in ordered {
            let Some(dock) = &r.dock else { continue };
            let k = (r.kind, dock.value.clone(), r.name.to_lowercase());
            if let Some(first) = seen.get(&k) {
                self.report.error(
                    r.name_span.clone(),
                    format!(
                        "`{}` and `{}` on dock `{}` differ only in case",
                        first.address(),
                        r.address(),
                        dock.value
                    ),
                    "provider labels are matched case-insensitively: rename or remove one of them",
                );
            } else {
                seen.insert(k, r);
            }
        }
    }
}

/// `(key, required, doc)` of a settings/dock key table, for [`Walker::required`].
pub(super) fn table_specs(
    keys: &'static [TableKey],
) -> impl Iterator<Item = (&'static str, bool, &'static str)> {
    keys.iter().map(|k| (k.key, k.required, k.doc))
}

/// The span of the quoted element `value` inside an array at `array`, or the array itself.
/// Whether every string in `item` (the value, or each element of an array) matches `spec`'s
/// pattern, and there is at least one.
fn all_strings_match(item: &Item<'_>, spec: &DockSettingSpec) -> bool {
    match item.get_ref() {
        DeValue::String(s) => spec.matches(s),
        DeValue::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| matches!(i.get_ref(), DeValue::String(s) if spec.matches(s)))
        }
        _ => false,
    }
}

pub(super) fn element_span(source: &str, array: &Range<usize>, value: &str) -> Range<usize> {
    let text = source.get(array.clone()).unwrap_or_default();
    for quoted in [format!("\"{value}\""), format!("'{value}'")] {
        if let Some(i) = text.find(&quoted) {
            return array.start + i..array.start + i + quoted.len();
        }
    }
    array.clone()
}

/// What a value is, for "found …" in type errors.
pub(super) fn found(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { env = \"VULTR_API_KEY\" }\n";

    fn errors(body: &str) -> Vec<String> {
        let source = format!("{HEAD}{body}");
        match parse("t.toml", &source) {
            Ok(_) => Vec::new(),
            Err(d) => d.iter().map(|d| d.message.clone()).collect(),
        }
    }

    #[test]
    fn each_mistake_gets_its_message() {
        let cases: &[(&str, &str)] = &[
            (
                "[servers]\nweb = \"x\"\n",
                "`servers.web` must be a table, found a string",
            ),
            ("org = \"x\"\n", "unknown key `org` in dock `vultr-main`"),
            (
                "[block_volumes.data]\ndock = \"vultr-main\"\nregion = \"ewr\"\nsize_gb = 4.5\n",
                "`size_gb` in `block_volumes.data` must be an integer, found a float",
            ),
            (
                "[servers.web]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"p\"\nimage = \"i\"\ntags = [\"a\", 1]\n",
                "`tags` in `servers.web` must be an array of strings, found an integer in it",
            ),
            (
                "[buckets.assets]\ndock = \"vultr-main\"\nregion = \"ewr\"\n",
                "vultr does not support buckets",
            ),
            (
                "[web_services.x]\ndock = \"vultr-main\"\nsubtype = \"project\"\n",
                "vultr does not support web_services",
            ),
            (
                "[blockVolumes.x]\n",
                "unknown top-level table `blockVolumes`",
            ),
            (
                "[docks.x]\nprovider = \"vultr\"\ncredentials = { env = \"A\", secret = \"b\" }\n",
                "give both `env` and `secret`",
            ),
            (
                "[docks.x]\nprovider = \"vultr\"\ncredentials = { env = \"A\" }\nregions = []\n",
                "is empty: nothing would be synced",
            ),
        ];
        for (body, expected) in cases {
            let found = errors(body);
            assert!(
                found.iter().any(|m| m.contains(expected)),
                "{body:?}: expected {expected:?}, got {found:?}"
            );
        }
    }

    #[test]
    fn missing_tables_and_keys_point_at_the_header() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "missing the `[stackdock]` table", 1),
            (
                "[stackdock]\n",
                "`[stackdock]` is missing the required key `org`",
                1,
            ),
            (
                "[stackdock]\norg = \"a\"\n\n[docks.x]\ncredentials = { env = \"A\" }\n",
                "dock `x` is missing the required key `provider`",
                4,
            ),
        ];
        for (source, message, line) in cases {
            let Err(d) = parse("t.toml", source) else {
                panic!("{source:?} parsed");
            };
            let first = d.iter().find(|d| d.message == *message);
            assert_eq!(first.map(|d| d.line), Some(*line), "{source:?}: {d}");
        }
    }

    #[test]
    fn credentials_are_never_echoed() {
        let token = "dop_v1_3f8c2a9d71b4e6f05a2c9d8e7b6a5f4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a";
        let sources = [
            format!("[stackdock]\norg = \"acme\"\ntoken = \"{token}\"\n"),
            format!(
                "[stackdock]\norg = \"acme\"\n[docks.a]\nprovider = \"vultr\"\ncredentials = {{ env = \"{token}\" }}\n"
            ),
            // A syntax error on the line: the TOML parser stops, the line is still masked.
            format!("[stackdock]\norg = \"acme\"\ntoken = {token}\n"),
            format!("[stackdock]\norg = \"acme\"\n[servers.{token}]\ndock = \"a\"\n"),
            "[stackdock]\norg = \"acme\"\n[docks]\npassword = \"3f8c2a9d71b4e6f0\"\n".to_owned(),
            "[stackdock]\norg = \"acme\"\n[servers]\napi_key = \"3f8c2a9d71b4e6f0\"\n".to_owned(),
            format!(
                "[stackdock]\norg = \"acme\"\n[docks.a]\nprovider = \"vultr\"\ncredentials = {{ env = \"A\", x = \"{token}\" }}\nendpoint = \"https://u:{token}@h/v2\"\n"
            ),
        ];
        for source in sources {
            let Err(d) = parse("t.toml", &source) else {
                panic!("{source} parsed");
            };
            let out = d.to_string();
            assert!(!out.contains("3f8c2a9d71b4e6f0"), "{out}");
        }
    }

    #[test]
    fn credential_words_are_fine_as_names() {
        let source = format!(
            "{HEAD}\n[docks.auth-main]\nprovider = \"linode\"\ncredentials = {{ secret = \"stackdock/auth-token\" }}\n\n[servers.auth-proxy]\ndock = \"auth-main\"\nregion = \"us-east\"\nplan = \"g6-nanode-1\"\nimage = \"linode/ubuntu24.04\"\ntags = [\"token-service\"]\n"
        );
        if let Err(d) = parse("t.toml", &source) {
            panic!("{d}");
        }
    }

    #[test]
    fn a_valid_file_becomes_a_sorted_config_with_defaults() {
        let source = format!(
            "{HEAD}\n[block_volumes.data]\ndock = \"vultr-main\"\nregion = \"ewr\"\nsize_gb = 0x10\nattach_to = \"web\"\n\n[servers.web]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\ntags = [\"b\", \"a\", \"b\"]\nid = \"cb676a46-66fd-4dfb-b839-443f2e6c0b60\"\n"
        );
        let config = parse("t.toml", &source).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(config.settings.table_prefix, "stackdock");
        assert_eq!(config.settings.drift, DriftMode::Flag);
        assert_eq!(config.settings.schedule, None);
        let addresses: Vec<String> = config.resources.iter().map(|r| r.address()).collect();
        assert_eq!(addresses, ["servers.web", "block_volumes.data"]);
        let web = &config.resources[0];
        assert_eq!(
            web.id.as_deref(),
            Some("cb676a46-66fd-4dfb-b839-443f2e6c0b60")
        );
        assert_eq!(web.field("tags"), Some(&FieldValue::set(["a", "b"])));
        assert_eq!(
            config.resources[1].field("size_gb"),
            Some(&FieldValue::Int(16))
        );
        assert_eq!(
            config.dock("vultr-main").map(|d| &d.credentials),
            Some(&CredentialRef::Env("VULTR_API_KEY".to_owned()))
        );
    }
}
