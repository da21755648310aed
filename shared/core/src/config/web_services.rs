//! `[web_services.<name>]`: the checks a web service entry needs beyond its flat keys — its
//! `subtype`, its name at the provider, `repo`, custom `domains`, and the `env` table, whose values
//! come only by reference (a literal value would end up in a reviewed file).
//!
//! `env` becomes two managed fields (crate::web_service): `env`, the set of `NAME@target` entries
//! a plan compares with the names the provider reports, and `env_sources`, the reference each
//! entry's value is read from at apply time (`NAME@target=secret:<name>` or `=env:<VAR>`), which
//! is never compared.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::{DeTable, DeValue};

use super::parse::{At, Item, Key, ResourceDraft, Walker, found};
use super::validate::{did_you_mean, env_var_valid};
use crate::FieldValue;
use crate::web_service::{
    READ_ONLY_SUBTYPES, REPO_PROVIDERS, SUBTYPES, Subtype, domain_error, env_entry, name_error,
    repo_error, subtype,
};

/// The keys of one `env` source table.
const SOURCE_KEYS: [&str; 3] = ["secret", "env", "targets"];

impl Walker<'_, '_> {
    /// Checks a web service entry read by `resource` and turns its `env` table into the `env` and
    /// `env_sources` fields.
    pub(super) fn web_service(
        &mut self,
        draft: &mut ResourceDraft,
        env: Option<(&Key<'_>, &Item<'_>)>,
        what: &str,
    ) {
        let subtype = self.subtype(draft, what);
        if let Some(s) = subtype
            && let Some(e) = name_error(s, &draft.name)
        {
            self.report.error(
                draft.name_span.clone(),
                format!("`{}` is not a valid name for {}", draft.name, s.what),
                format!("the name is the project's name at the provider: {e}"),
            );
        }
        if let Some(repo) = draft.fields.get("repo")
            && let FieldValue::Str(r) = &repo.value
            && let Some(e) = repo_error(r)
        {
            self.report.error(
                repo.span.clone(),
                format!("`repo` of {what} is not a repository path"),
                e,
            );
        }
        if let Some(host) = draft.fields.get("repo_provider") {
            if let FieldValue::Str(h) = &host.value
                && !REPO_PROVIDERS.contains(&h.as_str())
            {
                self.report.error(
                    host.span.clone(),
                    format!("unknown repo_provider `{h}` in {what}"),
                    did_you_mean(h, REPO_PROVIDERS, "git hosts"),
                );
            }
            if !draft.fields.contains_key("repo") {
                self.report.error(
                    host.key.clone(),
                    format!("{what} names `repo_provider` without a `repo`"),
                    "give the repository (`repo = \"owner/name\"`), or remove `repo_provider` for a direct-upload project",
                );
            }
        }
        if let Some(domains) = draft.fields.get("domains")
            && let FieldValue::Set(list) = &domains.value
        {
            for d in list {
                if let Some(e) = domain_error(d) {
                    self.report.error(
                        super::parse::element_span(self.report.source(), &domains.span, d),
                        format!("`{d}` in `domains` of {what} is not a domain"),
                        e,
                    );
                }
            }
        }
        let Some((key, item)) = env else { return };
        let Some(table) = self.table(
            item,
            &format!("`env` of {what}"),
            "`[web_services.<name>.env]` with `NAME = { secret = \"…\" }`",
        ) else {
            return;
        };
        let mut entries = BTreeSet::new();
        let mut sources = BTreeSet::new();
        for (name_key, value) in table {
            let name = name_key.get_ref().as_ref();
            let var = format!("`env.{name}` of {what}");
            if !env_var_valid(name) {
                self.report.error(
                    name_key.span(),
                    format!("{var}: `{name}` is not an environment variable name"),
                    "letters, digits and `_`, not starting with a digit, e.g. `API_URL`",
                );
                continue;
            }
            let sources_of = match value.get_ref() {
                DeValue::Table(t) => vec![(t, value.span(), false)],
                DeValue::Array(items) => {
                    let mut tables = Vec::new();
                    for i in items.iter() {
                        match i.get_ref() {
                            DeValue::Table(t) => tables.push((t, i.span(), true)),
                            other => self.report.error(
                                i.span(),
                                format!(
                                    "{var} must be an array of source tables, found {} in it",
                                    found(other)
                                ),
                                "write each as `{ secret = \"…\", targets = [\"production\"] }`",
                            ),
                        }
                    }
                    tables
                }
                DeValue::String(_) => {
                    // Never echo the value: it may be the secret itself.
                    self.report.secret(
                        value.span(),
                        format!("{var} is a literal value, which would end up in a reviewed file, the store and the plan"),
                        format!("store the value as a secret and reference it: `{name} = {{ secret = \"<Secrets Manager name>\" }}` (or `{{ env = \"<VAR>\" }}` locally); rotate it if it was ever committed"),
                    );
                    continue;
                }
                other => {
                    self.report.error(
                        value.span(),
                        format!("{var} must be a source table, found {}", found(other)),
                        format!("write `{name} = {{ secret = \"<Secrets Manager name>\" }}`"),
                    );
                    continue;
                }
            };
            let mut taken: BTreeMap<String, ()> = BTreeMap::new();
            for (source_table, span, in_array) in sources_of {
                let Some((reference, targets)) =
                    self.env_source(source_table, span.clone(), &var, subtype, in_array)
                else {
                    continue;
                };
                for target in targets {
                    if taken.insert(target.clone(), ()).is_some() {
                        self.report.error(
                            span.clone(),
                            format!("{var} gives environment `{target}` two values"),
                            "give each environment one source: split `targets` between the entries",
                        );
                        continue;
                    }
                    let entry = env_entry(name, &target);
                    sources.insert(format!("{entry}={reference}"));
                    entries.insert(entry);
                }
            }
        }
        for (field, set) in [("env", entries), ("env_sources", sources)] {
            draft.fields.insert(
                field.to_owned(),
                At {
                    value: FieldValue::Set(set.into()),
                    key: key.span(),
                    span: item.span(),
                },
            );
        }
    }

    /// The subtype an entry declares, reporting an unknown or read-only one.
    fn subtype(&mut self, draft: &ResourceDraft, what: &str) -> Option<&'static Subtype> {
        let at = draft.fields.get("subtype")?;
        let FieldValue::Str(name) = &at.value else {
            return None;
        };
        if let Some(s) = subtype(name) {
            return Some(s);
        }
        let list = SUBTYPES
            .iter()
            .map(|s| format!("`{}` ({})", s.name, s.what))
            .collect::<Vec<_>>()
            .join(", ");
        match READ_ONLY_SUBTYPES.iter().find(|(n, _)| n == name) {
            Some((_, why)) => self.report.error(
                at.span.clone(),
                format!("{what} declares `subtype = \"{name}\"`, which cannot be declared"),
                format!("{why}; declarable subtypes: {list}"),
            ),
            None => self.report.error(
                at.span.clone(),
                format!("unknown subtype `{name}` in {what}"),
                did_you_mean(
                    name,
                    SUBTYPES.iter().map(|s| s.name),
                    &format!("subtypes: {list}"),
                ),
            ),
        }
        None
    }

    /// One `{ secret = "…" | env = "…", targets = […] }`: its reference (`secret:<name>` or
    /// `env:<VAR>`) and its environments (all of the subtype's when `targets` is left out, which
    /// only a lone source may do).
    fn env_source(
        &mut self,
        t: &DeTable<'_>,
        span: std::ops::Range<usize>,
        var: &str,
        subtype: Option<&Subtype>,
        in_array: bool,
    ) -> Option<(String, Vec<String>)> {
        let present = self.known_keys(t, var, &SOURCE_KEYS);
        let secret = self.string(&present, "secret", var);
        let env = self.string(&present, "env", var);
        let reference = match (secret, env) {
            (Some(s), None) if !s.value.trim().is_empty() => format!("secret:{}", s.value),
            (Some(s), None) => {
                self.report.error(
                    s.span,
                    format!("`secret` of {var} is empty"),
                    "give the Secrets Manager secret's name or ARN",
                );
                return None;
            }
            (None, Some(e)) if env_var_valid(&e.value) => format!("env:{}", e.value),
            (None, Some(e)) => {
                self.report.error(
                    e.span,
                    format!("`env` of {var} is not an environment variable name"),
                    "name the variable that holds the value: letters, digits and `_`",
                );
                return None;
            }
            (Some(_), Some(e)) => {
                self.report.error(
                    e.key,
                    format!("{var} gives both `secret` and `env`"),
                    "give exactly one source",
                );
                return None;
            }
            (None, None) => {
                self.report.error(
                    span,
                    format!("{var} names no source"),
                    "give `secret = \"<Secrets Manager name>\"` (or `env = \"<VAR>\"` locally)",
                );
                return None;
            }
        };
        let all: Vec<String> = subtype
            .map(|s| s.targets.iter().map(|t| (*t).to_owned()).collect())
            .unwrap_or_default();
        let Some((k, v)) = present.get("targets") else {
            if in_array {
                self.report.error(
                    span,
                    format!("{var} has several sources, and one of them names no `targets`"),
                    "give each source its environments, e.g. `targets = [\"production\"]`",
                );
                return None;
            }
            return Some((reference, all));
        };
        let at = self.typed(k, v, crate::schema::FieldType::StrList, var)?;
        let FieldValue::Set(targets) = at.value else {
            return None;
        };
        if targets.is_empty() {
            self.report.error(
                at.span,
                format!("`targets` of {var} is empty"),
                "name at least one environment, or leave `targets` out for all of them",
            );
            return None;
        }
        let mut ok = Vec::new();
        for target in targets {
            match subtype {
                Some(s) if !s.targets.contains(&target.as_str()) => self.report.error(
                    super::parse::element_span(self.report.source(), &at.span, &target),
                    format!(
                        "`{target}` in `targets` of {var} is not an environment of {}",
                        s.what
                    ),
                    did_you_mean(&target, s.targets.iter().copied(), "environments"),
                ),
                _ => ok.push(target),
            }
        }
        Some((reference, ok))
    }
}

#[cfg(test)]
mod tests {
    use crate::FieldValue;
    use crate::config::parse;

    /// A web service entry with every key and both forms of `env` reads into its fields: `env`
    /// the `NAME@target` entries (all of the subtype's environments when `targets` is left out),
    /// `env_sources` where each value comes from. On a Vercel dock it is valid as it is.
    #[test]
    fn an_entry_reads_into_env_entries_and_their_sources() {
        let source = r#"
[stackdock]
org = "acme"

[docks.vercel-main]
provider = "vercel"
credentials = { env = "VERCEL_TOKEN" }

[web_services.marketing]
dock = "vercel-main"
subtype = "project"
framework = "nextjs"
repo = "acme/marketing"
repo_provider = "github"
root_directory = "apps/web"
domains = ["www.example.com"]

[web_services.marketing.env]
API_URL = { secret = "stackdock/api-url" }
DATABASE_URL = [
  { secret = "stackdock/db-prod", targets = ["production"] },
  { env = "PREVIEW_DB", targets = ["preview", "development"] },
]
"#;
        let config = parse("stackdock.toml", source).expect("a valid Vercel project");
        assert_eq!(config.resources.len(), 1);
        // A subtype another provider hosts, and a key Vercel does not take, are refused.
        let pages = source.replace("subtype = \"project\"", "subtype = \"pages\"");
        let text = parse("stackdock.toml", &pages)
            .expect_err("pages on vercel")
            .to_string();
        assert!(
            text.contains("`pages` is a Cloudflare Pages project, hosted on cloudflare docks; a vercel dock takes `subtype = \"project\"` (a Vercel project)"),
            "{text}"
        );
        let branch = source.replace(
            "root_directory",
            "production_branch = \"main\"\nroot_directory",
        );
        let text = parse("stackdock.toml", &branch)
            .expect_err("no production branch on vercel")
            .to_string();
        assert!(
            text.contains("`production_branch` is not supported by vercel web_services"),
            "{text}"
        );

        // The entry as the walk reads it, before the provider check.
        let root = toml::de::DeTable::parse(source).expect("toml");
        let mut report = super::super::report::Report::new("stackdock.toml", source);
        let mut walker = super::super::parse::Walker {
            report: &mut report,
            declarations: crate::ProviderKind::dock_settings,
        };
        let toml::de::DeValue::Table(services) = root
            .get_ref()
            .get("web_services")
            .expect("web_services")
            .get_ref()
        else {
            panic!("a table");
        };
        let (key, item) = services.iter().next().expect("one entry");
        let draft = walker
            .resource(crate::Kind::WebServices, key, item)
            .expect("read");
        assert!(report.is_empty(), "the entry itself is valid");
        let field = |k: &str| draft.fields.get(k).map(|at| at.value.clone());
        assert_eq!(
            field("env"),
            Some(FieldValue::set([
                "API_URL@development",
                "API_URL@preview",
                "API_URL@production",
                "DATABASE_URL@development",
                "DATABASE_URL@preview",
                "DATABASE_URL@production",
            ]))
        );
        assert_eq!(
            field("env_sources"),
            Some(FieldValue::set([
                "API_URL@development=secret:stackdock/api-url",
                "API_URL@preview=secret:stackdock/api-url",
                "API_URL@production=secret:stackdock/api-url",
                "DATABASE_URL@development=env:PREVIEW_DB",
                "DATABASE_URL@preview=env:PREVIEW_DB",
                "DATABASE_URL@production=secret:stackdock/db-prod",
            ]))
        );
        assert_eq!(field("subtype"), Some(FieldValue::from("project")));
        assert_eq!(field("domains"), Some(FieldValue::set(["www.example.com"])));
    }
}
