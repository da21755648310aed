//! `[docks.<name>]`: a dock's provider, credentials (by reference only), endpoint, regions and
//! the settings its provider declares.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::CredentialRef;
use super::keys::{CREDENTIAL_KEYS, DOCK_KEYS, names};
use super::parse::{DockDraft, Item, Key, Walker, element_span, table_specs};
use super::validate::{EndpointError, dock_name_error, endpoint_error, env_var_valid};
use crate::dock_settings::{DockSettingSpec, DockSettings};
use crate::{FieldValue, ProviderKind};

impl Walker<'_, '_> {
    pub(super) fn docks(&mut self, t: &DeTable<'_>) -> BTreeMap<String, DockDraft> {
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

    pub(super) fn dock(&mut self, name: &str, t: &DeTable<'_>, header: Range<usize>) -> DockDraft {
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
    pub(super) fn dock_settings(
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
}
