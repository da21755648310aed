//! Checks that need the whole file: the docks resources name, what their providers support,
//! labels, regions, attachments, and labels that differ only in case.

use std::collections::BTreeMap;

use super::parse::{DockDraft, ResourceDraft, Walker, element_span};
use super::validate::did_you_mean;
use crate::schema;
use crate::{FieldValue, Kind, ProviderKind};

impl Walker<'_, '_> {
    /// Checks that need the whole file: docks referenced by resources, what their providers
    /// support, labels, regions, attachments and labels that differ only in case.
    pub(super) fn cross_check(
        &mut self,
        docks: &BTreeMap<String, DockDraft>,
        resources: &[ResourceDraft],
    ) {
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
    pub(super) fn attachments(&mut self, resources: &[ResourceDraft]) {
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
    pub(super) fn case_duplicates(&mut self, resources: &[ResourceDraft]) {
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
