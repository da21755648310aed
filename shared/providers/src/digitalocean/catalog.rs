//! The region, size and image catalogs (`GET /regions`, `/sizes`, `/images`) and the plan-time
//! check of a spec against them, with "did you mean" suggestions.
//!
//! Fetched once per adapter (the catalogs change rarely and a plan validates many entries); the
//! check itself is a pure function of the catalog and the spec. It never changes anything.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::{FieldValue, Kind};

use super::DigitalOcean;
use super::client::{null_default, value_id};
use crate::ProviderError;
use crate::http::ListOptions;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct RegionWire {
    #[serde(deserialize_with = "null_default")]
    pub slug: String,
    pub available: Option<bool>,
    #[serde(deserialize_with = "null_default")]
    pub sizes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct SizeWire {
    #[serde(deserialize_with = "null_default")]
    pub slug: String,
    pub available: Option<bool>,
    #[serde(deserialize_with = "null_default")]
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct ImageWire {
    pub id: Value,
    pub slug: Option<String>,
}

/// What validation checks against.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct Catalog {
    pub regions: Vec<RegionWire>,
    pub sizes: Vec<SizeWire>,
    pub images: Vec<ImageWire>,
}

impl Catalog {
    /// The compact form the sync stores on the dock's status for plans that send no provider
    /// request (the API functions): slugs and availability only — each size's regions (a region's
    /// own size list says the same and is dropped), image slugs (ids are never checked). About
    /// 39 KB for a catalog the size of DigitalOcean's real one (15 regions, 150 sizes each offered
    /// everywhere, 250 image slugs), a tenth of DynamoDB's 400 KB item limit.
    pub(super) fn compact(&self) -> String {
        let compact = Catalog {
            regions: self
                .regions
                .iter()
                .map(|r| RegionWire {
                    slug: r.slug.clone(),
                    available: r.available,
                    sizes: Vec::new(),
                })
                .collect(),
            sizes: self
                .sizes
                .iter()
                .map(|s| SizeWire {
                    slug: s.slug.clone(),
                    available: s.available,
                    regions: s.regions.clone(),
                })
                .collect(),
            images: self
                .images
                .iter()
                .filter(|i| i.slug.is_some())
                .map(|i| ImageWire {
                    id: Value::Null,
                    slug: i.slug.clone(),
                })
                .collect(),
        };
        serde_json::to_string(&compact).unwrap_or_default()
    }
}

/// The check of `spec` against a catalog in its compact form (see [`Catalog::compact`]).
///
/// # Errors
/// The text is not a compact catalog (then the caller skips the check).
pub(crate) fn check_compact(
    text: &str,
    kind: Kind,
    spec: &ResourceSpec,
) -> Result<Vec<String>, String> {
    let catalog: Catalog = serde_json::from_str(text)
        .map_err(|e| format!("the stored digitalocean catalog is unreadable: {e}"))?;
    Ok(check(&catalog, kind, spec))
}

/// The closest candidate to `wanted`, if it is close enough to be a typo.
fn suggest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(wanted, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn unknown<'a>(what: &str, wanted: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    match suggest(wanted, candidates) {
        Some(s) => format!("unknown {what} `{wanted}` for digitalocean; did you mean `{s}`?"),
        None => format!(
            "unknown {what} `{wanted}` for digitalocean; check it against DigitalOcean's {what} slugs (`GET /v2/{what}s`)"
        ),
    }
}

/// One message per problem of `spec` against the catalog (servers: region, size, image and the
/// size's availability in the region; volumes: region).
pub(super) fn check(catalog: &Catalog, kind: Kind, spec: &ResourceSpec) -> Vec<String> {
    let field = |k: &str| spec.fields.get(k).and_then(FieldValue::as_str);
    let mut problems = Vec::new();
    let region = field("region").and_then(|r| match catalog.regions.iter().find(|x| x.slug == r) {
        Some(found) if found.available == Some(false) => {
            problems.push(format!(
                "region `{r}` is not available for new resources on digitalocean"
            ));
            None
        }
        Some(found) => Some(found),
        None => {
            problems.push(unknown(
                "region",
                r,
                catalog.regions.iter().map(|x| x.slug.as_str()),
            ));
            None
        }
    });
    if kind != Kind::Servers {
        return problems;
    }
    if let Some(plan) = field("plan") {
        match catalog.sizes.iter().find(|s| s.slug == plan) {
            None => problems.push(unknown(
                "size",
                plan,
                catalog.sizes.iter().map(|s| s.slug.as_str()),
            )),
            Some(size) if size.available == Some(false) => problems.push(format!(
                "size `{plan}` is not available for new droplets on digitalocean"
            )),
            Some(size) => {
                if let Some(region) = region {
                    let offered = size.regions.contains(&region.slug)
                        || region.sizes.iter().any(|s| s == plan);
                    if !offered {
                        let elsewhere: BTreeSet<&str> =
                            size.regions.iter().map(String::as_str).collect();
                        problems.push(format!(
                            "size `{plan}` is not available in region `{}` on digitalocean{}",
                            region.slug,
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
    }
    if let Some(image) = field("image") {
        let known = catalog
            .images
            .iter()
            .any(|i| i.slug.as_deref() == Some(image) || value_id(&i.id).as_deref() == Some(image));
        // A private image or snapshot id is not in the public listing: only slugs are checked.
        let numeric = image.chars().all(|c| c.is_ascii_digit());
        if !known && !numeric {
            problems.push(unknown(
                "image",
                image,
                catalog.images.iter().filter_map(|i| i.slug.as_deref()),
            ));
        }
    }
    problems
}

impl DigitalOcean {
    /// The catalogs, fetched (all three at once, every page) on first use and kept.
    pub(super) async fn catalog(&self) -> Result<&Catalog, ProviderError> {
        self.catalog
            .get_or_try_init(|| async {
                let all = ListOptions::new();
                let (regions, sizes, images) = futures::try_join!(
                    self.account
                        .client
                        .list::<RegionWire>("/regions", "regions", &all),
                    self.account
                        .client
                        .list::<SizeWire>("/sizes", "sizes", &all),
                    self.account
                        .client
                        .list::<ImageWire>("/images", "images", &all),
                )?;
                Ok(Catalog {
                    regions,
                    sizes,
                    images,
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn items<T: serde::de::DeserializeOwned>(text: &str, key: &str) -> Vec<T> {
        let v: Value = serde_json::from_str(text).expect("fixture parses");
        serde_json::from_value(v[key].clone()).expect("fixture decodes")
    }

    fn catalog() -> Catalog {
        Catalog {
            regions: items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/regions.json"
                )),
                "regions",
            ),
            sizes: items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/sizes.json"
                )),
                "sizes",
            ),
            images: items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/images.json"
                )),
                "images",
            ),
        }
    }

    fn spec(fields: &[(&str, &str)]) -> ResourceSpec {
        ResourceSpec {
            name: "web-1".to_owned(),
            owner_tag: "stackdock-0123456789abcdef".to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), FieldValue::from(*v)))
                .collect::<BTreeMap<_, _>>(),
            protect: false,
        }
    }

    #[test]
    fn specs_against_the_fixture_catalog() {
        let cat = catalog();
        // (kind, fields, expected messages)
        type Case<'a> = (Kind, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                Kind::Servers,
                &[
                    ("region", "nyc3"),
                    ("plan", "s-1vcpu-1gb"),
                    ("image", "ubuntu-24-04-x64"),
                ],
                &[],
            ),
            (
                Kind::Servers,
                &[
                    ("region", "nyc3"),
                    ("plan", "s-1vcpu-1gbb"),
                    ("image", "ubuntu-24-04-x64"),
                ],
                &["unknown size `s-1vcpu-1gbb` for digitalocean; did you mean `s-1vcpu-1gb`?"],
            ),
            (
                Kind::Servers,
                &[
                    ("region", "nyc9"),
                    ("plan", "s-1vcpu-1gb"),
                    ("image", "ubuntu-24-04-x6"),
                ],
                &[
                    "unknown region `nyc9` for digitalocean; did you mean `nyc1`?",
                    "unknown image `ubuntu-24-04-x6` for digitalocean; did you mean `ubuntu-24-04-x64`?",
                ],
            ),
            (
                Kind::Servers,
                &[
                    ("region", "nyc3"),
                    ("plan", "gpu-h100x1-80gb"),
                    ("image", "160000006"),
                ],
                &[
                    "size `gpu-h100x1-80gb` is not available in region `nyc3` on digitalocean; it is offered in: atl1, tor1",
                ],
            ),
            (
                Kind::Servers,
                &[
                    ("region", "tor1"),
                    ("plan", "gpu-h100x1-80gb"),
                    ("image", "gpu-h100x1-base"),
                ],
                &[],
            ),
            (
                Kind::Servers,
                &[
                    ("region", "nyc3"),
                    ("plan", "zzzzzz"),
                    ("image", "99999999"),
                ],
                &[
                    "unknown size `zzzzzz` for digitalocean; check it against DigitalOcean's size slugs (`GET /v2/sizes`)",
                ],
            ),
            (Kind::BlockVolumes, &[("region", "fra1")], &[]),
            (
                Kind::BlockVolumes,
                &[("region", "fra2")],
                &["unknown region `fra2` for digitalocean; did you mean `fra1`?"],
            ),
        ];
        for (kind, fields, want) in cases {
            let got = check(&cat, *kind, &spec(fields));
            assert_eq!(got, *want, "{fields:?}");
        }
    }

    #[test]
    fn suggestions_are_only_for_near_misses() {
        let c = ["nyc1", "nyc3", "sfo3"];
        assert_eq!(suggest("nyc2", c.iter().copied()), Some("nyc1"));
        assert_eq!(suggest("sfo2", c.iter().copied()), Some("sfo3"));
        assert_eq!(suggest("tokyo-west", c.iter().copied()), None);
    }

    #[test]
    fn the_compact_catalog_checks_like_the_full_one_and_stays_small() {
        let full = catalog();
        let text = full.compact();
        let spec = |region: &str, plan: &str, image: &str| {
            spec(&[("region", region), ("plan", plan), ("image", image)])
        };
        for (region, plan, image) in [
            ("nyc3", "s-1vcpu-1gb", "ubuntu-24-04-x64"),
            ("nyc33", "s-1vcpu-1gbb", "ubuntu-24-04-x6"),
            ("nyc3", "s-1vcpu-1gb", "12345"),
        ] {
            let s = spec(region, plan, image);
            assert_eq!(
                check_compact(&text, Kind::Servers, &s).expect("readable"),
                check(&full, Kind::Servers, &s),
                "{region} {plan} {image}"
            );
        }

        // DigitalOcean's real catalog is about 15 regions, 150 sizes each offered in most
        // regions, and 200-odd public image slugs (distributions and 1-click apps).
        let regions: Vec<String> = (0..15).map(|i| format!("rgn{i}")).collect();
        let real = Catalog {
            regions: regions
                .iter()
                .map(|slug| RegionWire {
                    slug: slug.clone(),
                    available: Some(true),
                    sizes: (0..150).map(|i| format!("s-{i}vcpu-{i}gb-intel")).collect(),
                })
                .collect(),
            sizes: (0..150)
                .map(|i| SizeWire {
                    slug: format!("s-{i}vcpu-{i}gb-intel"),
                    available: Some(true),
                    regions: regions.clone(),
                })
                .collect(),
            images: (0..250)
                .map(|i| ImageWire {
                    id: Value::from(100_000_000 + i),
                    slug: Some(format!("some-one-click-app-{i}-24-04")),
                })
                .collect(),
        };
        let compact = real.compact().len();
        eprintln!("compact catalog of DigitalOcean's size: {compact} bytes");
        assert!(compact < 40 * 1024, "{compact} bytes");
    }
}
