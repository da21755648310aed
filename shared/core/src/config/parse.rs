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
    CREDENTIAL_KEYS, SETTINGS_KEYS, TableKey, allowed_values, exactly_one_of, names, positive,
};
use super::report::Report;
use super::validate::{
    did_you_mean, org_error, schedule_error, table_prefix_error, user_data_path_error,
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
    pub(super) credentials: Option<CredentialRef>,
    pub(super) endpoint: Option<String>,
    pub(super) regions: Option<BTreeSet<String>>,
    pub(super) settings: DockSettings,
}

/// A resource as far as it could be read.
#[derive(Debug)]
pub(super) struct ResourceDraft {
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) name_span: Range<usize>,
    pub(super) dock: Option<At<String>>,
    pub(super) protect: bool,
    pub(super) id: Option<String>,
    pub(super) ignore_changes: BTreeSet<String>,
    pub(super) allow_replace: bool,
    pub(super) fields: BTreeMap<String, At<FieldValue>>,
}

impl ResourceDraft {
    pub(super) fn address(&self) -> String {
        super::address(self.kind, &self.name)
    }

    pub(super) fn str_field(&self, key: &str) -> Option<&At<FieldValue>> {
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
    pub(super) fn known_keys_declared<'t, 'i>(
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
}

/// `(key, required, doc)` of a settings/dock key table, for [`Walker::required`].
pub(super) fn table_specs(
    keys: &'static [TableKey],
) -> impl Iterator<Item = (&'static str, bool, &'static str)> {
    keys.iter().map(|k| (k.key, k.required, k.doc))
}

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

/// The span of the quoted element `value` inside an array at `array`, or the array itself.
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
