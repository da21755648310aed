//! What a proposal changes in the docks themselves: a dock's provider, credential reference,
//! endpoint and regions decide where StackDock sends provider tokens, so a reviewer must see a
//! change to them as a change, first (design §11), not find it by reading the diff of the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ProviderKind;
use crate::config::DockConfig;

/// How a dock differs between the deployed config and a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DockChangeKind {
    /// The proposal adds the dock.
    Added,
    /// The proposal changes the dock's settings.
    Changed,
    /// The proposal removes the dock.
    Removed,
}

impl DockChangeKind {
    /// The symbol the renderers put before the dock, as for resource actions.
    pub fn symbol(self) -> &'static str {
        match self {
            DockChangeKind::Added => "+",
            DockChangeKind::Changed => "~",
            DockChangeKind::Removed => "-",
        }
    }
}

/// One dock setting before and after. `None` on a side where the dock does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockSettingChange {
    /// `provider`, `credentials`, `endpoint` or `regions`.
    pub setting: String,
    pub deployed: Option<String>,
    pub proposed: Option<String>,
}

/// A dock the proposal adds, removes or changes, with every setting that differs (all of them for
/// an added or removed dock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockChange {
    pub dock: String,
    pub provider: ProviderKind,
    pub change: DockChangeKind,
    pub settings: Vec<DockSettingChange>,
}

/// The dock changes from `deployed` to `proposed`, by dock name. Empty when every dock is the same.
pub fn dock_changes(
    deployed: &BTreeMap<String, DockConfig>,
    proposed: &BTreeMap<String, DockConfig>,
) -> Vec<DockChange> {
    let names: std::collections::BTreeSet<&String> =
        deployed.keys().chain(proposed.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (before, after) = (deployed.get(name), proposed.get(name));
            let change = match (before, after) {
                (None, Some(_)) => DockChangeKind::Added,
                (Some(_), None) => DockChangeKind::Removed,
                (Some(b), Some(a)) if b != a => DockChangeKind::Changed,
                _ => return None,
            };
            let (b, a) = (before.map(settings), after.map(settings));
            // The common settings in their fixed order, then the provider-specific ones by key.
            let mut keys: Vec<&str> = COMMON.to_vec();
            let specific: std::collections::BTreeSet<&str> = [&b, &a]
                .into_iter()
                .flatten()
                .flat_map(|s| s.keys().copied())
                .filter(|k| !COMMON.contains(k))
                .collect();
            keys.extend(specific);
            let settings = keys
                .into_iter()
                .filter_map(|setting| {
                    let side = |s: &Option<BTreeMap<&str, String>>| {
                        s.as_ref().map(|s| {
                            s.get(setting)
                                .cloned()
                                .unwrap_or_else(|| NOT_SET.to_owned())
                        })
                    };
                    let (deployed, proposed) = (side(&b), side(&a));
                    (deployed != proposed).then(|| DockSettingChange {
                        setting: setting.to_owned(),
                        deployed,
                        proposed,
                    })
                })
                .collect();
            let provider = after.or(before).map(|d| d.provider)?;
            Some(DockChange {
                dock: name.clone(),
                provider,
                change,
                settings,
            })
        })
        .collect()
}

/// The settings every dock has, in the order they are shown (its provider's own come after).
const COMMON: [&str; 4] = ["provider", "credentials", "endpoint", "regions"];

/// How a provider-specific setting the dock does not give is shown.
const NOT_SET: &str = "(not set)";

/// A dock's settings as shown, by setting. Defaults are spelled out (the endpoint a dock without
/// one calls, "all" regions), so a change from the default reads as one. A provider-specific
/// setting is present only when given.
fn settings(dock: &DockConfig) -> BTreeMap<&str, String> {
    // Destructured so that a new dock setting cannot be added without deciding how it is shown.
    let DockConfig {
        name: _,
        provider,
        credentials,
        endpoint,
        regions,
        settings,
    } = dock;
    let common = [
        provider.to_string(),
        credentials.to_string(),
        endpoint
            .clone()
            .unwrap_or_else(|| format!("{} (the provider's default)", provider.default_endpoint())),
        regions.as_ref().map_or_else(
            || "all".to_owned(),
            |r| r.iter().map(String::as_str).collect::<Vec<_>>().join(", "),
        ),
    ];
    COMMON
        .into_iter()
        .zip(common)
        .chain(settings.iter().map(|(k, v)| {
            // A string as written, like the endpoint; other values as the plan shows fields.
            (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldValue;
    use crate::config::CredentialRef;
    use crate::dock_settings::DockSettings;

    fn dock(name: &str, provider: ProviderKind) -> DockConfig {
        DockConfig {
            name: name.to_owned(),
            provider,
            credentials: CredentialRef::Secret(format!("stackdock/{name}")),
            endpoint: None,
            regions: None,
            settings: DockSettings::default(),
        }
    }

    fn docks(list: &[DockConfig]) -> BTreeMap<String, DockConfig> {
        list.iter().map(|d| (d.name.clone(), d.clone())).collect()
    }

    #[test]
    fn the_same_docks_are_no_change() {
        let d = docks(&[
            dock("a", ProviderKind::Vultr),
            dock("b", ProviderKind::Linode),
        ]);
        assert!(dock_changes(&d, &d).is_empty());
    }

    /// A change's settings as (setting, deployed, proposed).
    fn shown(change: &DockChange) -> Vec<(&str, Option<&str>, Option<&str>)> {
        change
            .settings
            .iter()
            .map(|s| {
                (
                    s.setting.as_str(),
                    s.deployed.as_deref(),
                    s.proposed.as_deref(),
                )
            })
            .collect()
    }

    #[test]
    fn a_changed_endpoint_and_credential_are_listed_with_both_sides() {
        let deployed = docks(&[dock("a", ProviderKind::Vultr)]);
        let mut changed = dock("a", ProviderKind::Vultr);
        changed.endpoint = Some("https://collector.example.net/v2".to_owned());
        changed.credentials = CredentialRef::Env("AWS_SECRET_ACCESS_KEY".to_owned());
        let changes = dock_changes(&deployed, &docks(&[changed]));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, DockChangeKind::Changed);
        let shown = shown(&changes[0]);
        assert_eq!(
            shown,
            [
                (
                    "credentials",
                    Some("Secrets Manager secret stackdock/a"),
                    Some("environment variable AWS_SECRET_ACCESS_KEY")
                ),
                (
                    "endpoint",
                    Some("https://api.vultr.com/v2 (the provider's default)"),
                    Some("https://collector.example.net/v2")
                ),
            ]
        );
    }

    #[test]
    fn added_and_removed_docks_show_every_setting_on_their_side() {
        let deployed = docks(&[dock("old", ProviderKind::Linode)]);
        let mut new = dock("new", ProviderKind::DigitalOcean);
        new.regions = Some(["nyc3".to_owned(), "ams3".to_owned()].into());
        let changes = dock_changes(&deployed, &docks(&[new]));
        let kinds: Vec<(&str, DockChangeKind, usize)> = changes
            .iter()
            .map(|c| (c.dock.as_str(), c.change, c.settings.len()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("new", DockChangeKind::Added, 4),
                ("old", DockChangeKind::Removed, 4)
            ]
        );
        assert!(changes[0].settings.iter().all(|s| s.deployed.is_none()));
        assert_eq!(
            changes[0].settings[3].proposed.as_deref(),
            Some("ams3, nyc3")
        );
        assert!(changes[1].settings.iter().all(|s| s.proposed.is_none()));
        assert_eq!(changes[1].provider, ProviderKind::Linode);
    }

    #[test]
    fn a_changed_provider_setting_is_listed_after_the_common_ones() {
        let with = |pairs: &[(&str, &str)]| -> DockConfig {
            let mut d = dock("cf", ProviderKind::Linode);
            d.settings = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), FieldValue::from(*v)))
                .collect();
            d
        };
        let deployed = docks(&[with(&[
            ("account_id", "023e105f4ecef8ad9ca31a8372d0c353"),
            ("team_id", "team_old"),
        ])]);
        let proposed = docks(&[with(&[("account_id", "9a7806061c88ada191ed06f989cc3dac")])]);
        let changes = dock_changes(&deployed, &proposed);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, DockChangeKind::Changed);
        let shown = shown(&changes[0]);
        assert_eq!(
            shown,
            [
                (
                    "account_id",
                    Some("023e105f4ecef8ad9ca31a8372d0c353"),
                    Some("9a7806061c88ada191ed06f989cc3dac")
                ),
                ("team_id", Some("team_old"), Some(NOT_SET)),
            ]
        );
        let added = dock_changes(&BTreeMap::new(), &proposed);
        assert_eq!(
            added[0].settings.len(),
            5,
            "the four common settings and account_id"
        );
        assert_eq!(added[0].settings[4].setting, "account_id");
    }
}
