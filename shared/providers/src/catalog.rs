//! The providers' catalogs in one shape — regions, plans, images and marketplace apps — as
//! `stackdock catalog` shows them, as the store keeps them (the `docks` table's `catalog`
//! attribute, with the time they were read), and the one plan-time check of a spec against
//! them, with "did you mean" suggestions, that serves every provider.
//!
//! Each provider fills a [`Catalog`] from its own listings (`<provider>/catalog.rs`) and
//! declares its words for them in a [`CatalogTerms`]; nothing here names a provider. The check
//! is a pure function of the catalog and the spec: it never sends a request.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::{FieldValue, Kind};

/// How long a stored catalog is used before it is read again from the provider (by the sync,
/// `stackdock catalog` and the plan-time checks): a day. Regions, plans and images change a few
/// times a year; `stackdock catalog --refresh` reads it at once.
pub const CATALOG_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// One part of a catalog, as `stackdock catalog DOCK <section>` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Regions,
    Plans,
    Images,
    Apps,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Regions,
        Section::Plans,
        Section::Images,
        Section::Apps,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Regions => "regions",
            Section::Plans => "plans",
            Section::Images => "images",
            Section::Apps => "apps",
        }
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Section {
    type Err = String;

    fn from_str(s: &str) -> Result<Section, String> {
        Section::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not a catalog section; use regions, plans, images or apps")
            })
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A region (Vultr `ewr`, DigitalOcean `nyc3`, Linode `us-east`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// What the config's `region` takes.
    pub id: String,
    /// The provider's name for it (a city, a label).
    #[serde(default)]
    pub name: String,
    /// Whether new resources can be created there.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub available: bool,
}

/// A server plan (Vultr plan, DigitalOcean size, Linode type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// What the config's `plan` takes.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_gb: Option<u64>,
    /// The list price per month, in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_usd: Option<f64>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub available: bool,
    /// The regions that offer it; `None`: every region (the provider does not restrict it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
}

/// A public image: what the config's `image` takes, in the provider's vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// A marketplace application (Vultr application, DigitalOcean 1-Click, Linode StackScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// What the config takes for it (see [`CatalogTerms::apps_are_images`]).
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Who publishes it, or its type (`marketplace`, `droplet`, a username).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vendor: String,
    /// The images it deploys on (Linode StackScripts); empty: not restricted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

/// One dock's catalog, as read from its provider at `fetched_at`. Its JSON is the stored form
/// and the `--format json` output: stable field names, entries in the provider's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// When it was read (set by whoever stores it; `None` before that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<Timestamp>,
    pub regions: Vec<Region>,
    pub plans: Vec<Plan>,
    pub images: Vec<Image>,
    pub apps: Vec<App>,
}

impl Catalog {
    /// The stored form (JSON).
    pub fn to_stored(&self) -> String {
        // Plain data of strings, numbers and lists: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A catalog from its stored form.
    ///
    /// # Errors
    /// The text is not a stored catalog (one written by an older StackDock, or damaged).
    pub fn from_stored(text: &str) -> Result<Catalog, String> {
        serde_json::from_str(text).map_err(|e| format!("the stored catalog is unreadable: {e}"))
    }

    /// Whether it was read less than `ttl` before `now`.
    pub fn is_fresh(&self, now: Timestamp, ttl: Duration) -> bool {
        self.fetched_at.is_some_and(|at| {
            let age = now.duration_since(at);
            age >= jiff::SignedDuration::ZERO && age.unsigned_abs() < ttl
        })
    }

    /// The number of entries of a section.
    pub fn len(&self, section: Section) -> usize {
        match section {
            Section::Regions => self.regions.len(),
            Section::Plans => self.plans.len(),
            Section::Images => self.images.len(),
            Section::Apps => self.apps.len(),
        }
    }
}

/// A provider's words for its catalog, used in messages, and how its vocabulary works.
#[derive(Debug)]
pub struct CatalogTerms {
    /// The provider's config name (`vultr`).
    pub provider: &'static str,
    /// What it calls a plan (`plan`, `size`, `type`).
    pub plan: &'static str,
    /// Where each section is listed, per [`Section::ALL`] (`GET /v2/regions`, …): named in the
    /// messages of values with no near match.
    pub routes: [&'static str; 4],
    /// An `image` the public listing cannot know (a private image or snapshot): not checked.
    pub unlisted_image: fn(&str) -> bool,
    /// The config's `image` also takes an app's id (Vultr `app:<id>` / `image:<id>`,
    /// DigitalOcean 1-Click slugs, which are image slugs).
    pub apps_are_images: bool,
}

/// The closest candidate to `wanted`, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(wanted, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

impl CatalogTerms {
    fn unknown<'a>(
        &self,
        section: Section,
        what: &str,
        wanted: &str,
        candidates: impl Iterator<Item = &'a str>,
    ) -> String {
        let provider = self.provider;
        match suggest(wanted, candidates) {
            Some(s) => format!("unknown {what} `{wanted}` for {provider}; did you mean `{s}`?"),
            None => format!(
                "unknown {what} `{wanted}` for {provider}; list them with `stackdock catalog <dock> {section}` ({})",
                self.routes[section as usize]
            ),
        }
    }
}

/// One message per problem of `spec` against `catalog` (servers: region, plan, image, app and
/// the plan's availability in the region; other kinds with a region: the region).
pub fn check(
    terms: &CatalogTerms,
    catalog: &Catalog,
    kind: Kind,
    spec: &ResourceSpec,
) -> Vec<String> {
    let field = |k: &str| spec.fields.get(k).and_then(FieldValue::as_str);
    let provider = terms.provider;
    let mut problems = Vec::new();
    // Every kind with a `region` is checked against the regions (buckets take Linode regions
    // too), but only when the catalog has any.
    let checks_region = matches!(kind, Kind::Servers | Kind::BlockVolumes);
    let region = field("region")
        .filter(|_| checks_region && !catalog.regions.is_empty())
        .and_then(|r| match catalog.regions.iter().find(|x| x.id == r) {
            Some(found) if !found.available => {
                problems.push(format!(
                    "region `{r}` is not available for new resources on {provider}"
                ));
                None
            }
            Some(found) => Some(found),
            None => {
                problems.push(terms.unknown(
                    Section::Regions,
                    "region",
                    r,
                    catalog.regions.iter().map(|x| x.id.as_str()),
                ));
                None
            }
        });
    if kind != Kind::Servers {
        return problems;
    }
    let noun = terms.plan;
    if let Some(plan) = field("plan").filter(|_| !catalog.plans.is_empty()) {
        match catalog.plans.iter().find(|p| p.id == plan) {
            None => problems.push(terms.unknown(
                Section::Plans,
                noun,
                plan,
                catalog.plans.iter().map(|p| p.id.as_str()),
            )),
            Some(found) if !found.available => problems.push(format!(
                "{noun} `{plan}` is not available for new servers on {provider}"
            )),
            Some(found) => {
                if let (Some(region), Some(offered)) = (region, &found.regions)
                    && !offered.contains(&region.id)
                {
                    let elsewhere: BTreeSet<&str> = offered.iter().map(String::as_str).collect();
                    problems.push(format!(
                        "{noun} `{plan}` is not available in region `{}` on {provider}{}",
                        region.id,
                        if elsewhere.is_empty() {
                            String::new()
                        } else {
                            format!(
                                "; it is offered in: {}",
                                elsewhere.into_iter().collect::<Vec<_>>().join(", ")
                            )
                        }
                    ));
                }
            }
        }
    }
    let app_ids = || catalog.apps.iter().map(|a| a.id.as_str());
    if let Some(image) = field("image").filter(|_| !catalog.images.is_empty()) {
        let known = catalog.images.iter().any(|i| i.id == image)
            || (terms.apps_are_images && app_ids().any(|a| a == image));
        if !known && !(terms.unlisted_image)(image) {
            let images = catalog.images.iter().map(|i| i.id.as_str());
            let candidates: Vec<&str> = if terms.apps_are_images {
                images.chain(app_ids()).collect()
            } else {
                images.collect()
            };
            problems.push(terms.unknown(Section::Images, "image", image, candidates.into_iter()));
        }
    }
    if let Some(app) = field("app") {
        match catalog.apps.iter().find(|a| a.id == app) {
            None => problems.push(terms.unknown(Section::Apps, "app", app, app_ids())),
            Some(found) => {
                if let Some(image) = field("image")
                    && !found.images.is_empty()
                    && !found.images.iter().any(|i| i == image)
                {
                    problems.push(format!(
                        "app `{app}` on {provider} does not deploy on image `{image}`; it takes: {}",
                        found.images.join(", ")
                    ));
                }
            }
        }
    }
    problems
}

/// [`check`] against a catalog in its stored form.
///
/// # Errors
/// The text is not a stored catalog (then the caller skips the check).
pub fn check_stored(
    terms: &CatalogTerms,
    text: &str,
    kind: Kind,
    spec: &ResourceSpec,
) -> Result<Vec<String>, String> {
    Ok(check(terms, &Catalog::from_stored(text)?, kind, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_only_for_near_misses() {
        let c = ["nyc1", "nyc3", "sfo3"];
        assert_eq!(suggest("nyc2", c.iter().copied()), Some("nyc1"));
        assert_eq!(suggest("sfo2", c.iter().copied()), Some("sfo3"));
        assert_eq!(suggest("tokyo-west", c.iter().copied()), None);
    }

    #[test]
    fn sections_parse_by_name_and_nothing_else() {
        for s in Section::ALL {
            assert_eq!(s.as_str().parse::<Section>(), Ok(s));
        }
        let e = "sizes".parse::<Section>().expect_err("not a section");
        assert!(e.contains("regions, plans, images or apps"), "{e}");
    }

    #[test]
    fn freshness_is_the_age_against_the_ttl() {
        let at: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let c = Catalog {
            fetched_at: Some(at),
            ..Catalog::default()
        };
        let hour = Duration::from_secs(3600);
        let later = |h: i64| at + jiff::SignedDuration::from_hours(h);
        assert!(c.is_fresh(later(1), 2 * hour));
        assert!(!c.is_fresh(later(2), 2 * hour));
        // A catalog from the future (a clock moved back) is not trusted.
        assert!(!c.is_fresh(later(-1), 2 * hour));
        assert!(!Catalog::default().is_fresh(at, hour));
    }

    #[test]
    fn the_stored_form_round_trips_and_leaves_defaults_out() {
        let c = Catalog {
            fetched_at: Some("2026-01-01T00:00:00Z".parse().expect("time")),
            regions: vec![Region {
                id: "ewr".into(),
                name: "New Jersey".into(),
                available: true,
            }],
            plans: vec![Plan {
                id: "vc2-1c-1gb".into(),
                vcpus: Some(1),
                memory_mb: Some(1024),
                disk_gb: Some(25),
                monthly_usd: Some(5.0),
                available: true,
                regions: Some(vec!["ewr".into()]),
            }],
            images: vec![],
            apps: vec![],
        };
        let text = c.to_stored();
        assert!(!text.contains("available"), "{text}");
        assert_eq!(Catalog::from_stored(&text), Ok(c));
        assert!(Catalog::from_stored("{\"regions\": 3}").is_err());
    }
}
