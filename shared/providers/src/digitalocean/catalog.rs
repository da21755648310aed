//! DigitalOcean's catalogs — regions, sizes, public images and 1-Click apps (`GET /regions`,
//! `/sizes`, `/images`, `/1-clicks?type=droplet`) — read into the shared [`Catalog`], and the
//! words its plan-time check uses. The check itself is `crate::catalog::check`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::DigitalOcean;
use super::client::{null_default, value_id};
use crate::ProviderError;
use crate::catalog::{App, Catalog, CatalogTerms, Image, Plan, Region};
use crate::http::ListOptions;

/// DigitalOcean's words: sizes, and images that are numeric ids (snapshots, custom images) are
/// the account's own, not in the public listing.
pub static TERMS: CatalogTerms = CatalogTerms {
    provider: "digitalocean",
    plan: "size",
    routes: [
        "`GET /v2/regions`",
        "`GET /v2/sizes`",
        "`GET /v2/images`",
        "`GET /v2/1-clicks`",
    ],
    unlisted_image: |image| !image.is_empty() && image.chars().all(|c| c.is_ascii_digit()),
    // A droplet 1-Click is deployed by its slug as the droplet's image ([do-spec]
    // oneClicks_list.yml; droplets_create.yml `image`).
    apps_are_images: true,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RegionWire {
    #[serde(deserialize_with = "null_default")]
    slug: String,
    #[serde(deserialize_with = "null_default")]
    name: String,
    available: Option<bool>,
    #[serde(deserialize_with = "null_default")]
    sizes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SizeWire {
    #[serde(deserialize_with = "null_default")]
    slug: String,
    available: Option<bool>,
    vcpus: Option<u64>,
    memory: Option<u64>,
    disk: Option<u64>,
    price_monthly: Option<f64>,
    #[serde(deserialize_with = "null_default")]
    regions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImageWire {
    id: Value,
    slug: Option<String>,
    #[serde(deserialize_with = "null_default")]
    distribution: String,
    #[serde(deserialize_with = "null_default")]
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OneClickWire {
    #[serde(deserialize_with = "null_default")]
    slug: String,
    #[serde(rename = "type", deserialize_with = "null_default")]
    kind: String,
}

fn region(r: RegionWire) -> Region {
    Region {
        id: r.slug,
        name: r.name,
        available: r.available != Some(false),
    }
}

/// A size, offered where its own list says or where a region lists it.
fn plan(s: SizeWire, regions: &[RegionWire]) -> Plan {
    let mut offered: BTreeSet<String> = s.regions.into_iter().collect();
    offered.extend(
        regions
            .iter()
            .filter(|r| r.sizes.contains(&s.slug))
            .map(|r| r.slug.clone()),
    );
    Plan {
        id: s.slug,
        vcpus: s.vcpus,
        memory_mb: s.memory,
        disk_gb: s.disk,
        monthly_usd: s.price_monthly,
        available: s.available != Some(false),
        regions: Some(offered.into_iter().collect()),
    }
}

/// An image by its slug, or its id when it has none.
fn image(i: ImageWire) -> Option<Image> {
    let id = i
        .slug
        .filter(|s| !s.is_empty())
        .or_else(|| value_id(&i.id))?;
    let name = match (i.distribution.is_empty(), i.name.is_empty()) {
        (false, false) => format!("{} {}", i.distribution, i.name),
        (true, _) => i.name,
        (false, true) => i.distribution,
    };
    Some(Image { id, name })
}

/// The catalog from DigitalOcean's listings.
fn assemble(
    regions: Vec<RegionWire>,
    sizes: Vec<SizeWire>,
    images: Vec<ImageWire>,
    one_clicks: Vec<OneClickWire>,
) -> Catalog {
    Catalog {
        fetched_at: None,
        plans: sizes.into_iter().map(|s| plan(s, &regions)).collect(),
        regions: regions.into_iter().map(region).collect(),
        images: images.into_iter().filter_map(image).collect(),
        apps: one_clicks
            .into_iter()
            .map(|a| App {
                name: a.slug.clone(),
                id: a.slug,
                vendor: a.kind,
                images: Vec::new(),
            })
            .collect(),
    }
}

impl DigitalOcean {
    /// The catalogs, every page of each, read at once.
    pub(super) async fn fetch_catalog(&self) -> Result<Catalog, ProviderError> {
        let all = ListOptions::new();
        let client = &self.account.client;
        // [do-spec] oneClicks_list.yml: one response, no paging; `type` picks droplet apps.
        let droplet_apps = ListOptions::new().query("type", "droplet").whole();
        let (regions, sizes, images, one_clicks) = futures::try_join!(
            client.list::<RegionWire>("/regions", "regions", &all),
            client.list::<SizeWire>("/sizes", "sizes", &all),
            client.list::<ImageWire>("/images", "images", &all),
            client.list::<OneClickWire>("/1-clicks", "1_clicks", &droplet_apps),
        )?;
        Ok(assemble(regions, sizes, images, one_clicks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::check;
    use stackdock_core::plan::ResourceSpec;
    use stackdock_core::{FieldValue, Kind};

    fn items<T: serde::de::DeserializeOwned>(text: &str, key: &str) -> Vec<T> {
        let v: Value = serde_json::from_str(text).expect("fixture parses");
        serde_json::from_value(v[key].clone()).expect("fixture decodes")
    }

    fn catalog() -> Catalog {
        assemble(
            items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/regions.json"
                )),
                "regions",
            ),
            items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/sizes.json"
                )),
                "sizes",
            ),
            items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/images.json"
                )),
                "images",
            ),
            items(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../fixtures/digitalocean/1-clicks.json"
                )),
                "1_clicks",
            ),
        )
    }

    fn spec(fields: &[(&str, &str)]) -> ResourceSpec {
        ResourceSpec {
            name: "web-1".to_owned(),
            owner_tag: "stackdock-0123456789abcdef".to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), FieldValue::from(*v)))
                .collect(),
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
                    "unknown size `zzzzzz` for digitalocean; list them with `stackdock catalog <dock> plans` (`GET /v2/sizes`)",
                ],
            ),
            // A droplet 1-Click deploys by its slug, as the image or as the app.
            (
                Kind::Servers,
                &[
                    ("region", "nyc3"),
                    ("plan", "s-1vcpu-1gb"),
                    ("image", "wordpress-24-04"),
                ],
                &[],
            ),
            (
                Kind::Servers,
                &[
                    ("region", "nyc3"),
                    ("plan", "s-1vcpu-1gb"),
                    ("app", "wordpres-24-04"),
                ],
                &["unknown app `wordpres-24-04` for digitalocean; did you mean `wordpress-24-04`?"],
            ),
            (Kind::BlockVolumes, &[("region", "fra1")], &[]),
            (
                Kind::BlockVolumes,
                &[("region", "fra2")],
                &["unknown region `fra2` for digitalocean; did you mean `fra1`?"],
            ),
        ];
        for (kind, fields, want) in cases {
            let got = check(&TERMS, &cat, *kind, &spec(fields));
            assert_eq!(got, *want, "{fields:?}");
        }
    }

    #[test]
    fn the_stored_catalog_checks_like_the_read_one_and_stays_small() {
        let full = catalog();
        let text = full.to_stored();
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
                crate::catalog::check_stored(&TERMS, &text, Kind::Servers, &s).expect("readable"),
                check(&TERMS, &full, Kind::Servers, &s),
                "{region} {plan} {image}"
            );
        }

        // DigitalOcean's real catalog is about 15 regions, 150 sizes each offered in most
        // regions, 250-odd public images and 100-odd droplet 1-Clicks. The stored form must
        // stay well under DynamoDB's 400 KB item.
        let regions: Vec<RegionWire> = (0..15)
            .map(|i| RegionWire {
                slug: format!("rgn{i}"),
                name: format!("Region number {i}"),
                available: Some(true),
                sizes: (0..150).map(|s| format!("s-{s}vcpu-{s}gb-intel")).collect(),
            })
            .collect();
        let sizes = (0..150)
            .map(|i| SizeWire {
                slug: format!("s-{i}vcpu-{i}gb-intel"),
                available: Some(true),
                vcpus: Some(i),
                memory: Some(i * 1024),
                disk: Some(i * 25),
                price_monthly: Some(6.0 * i as f64),
                regions: (0..15).map(|r| format!("rgn{r}")).collect(),
            })
            .collect();
        let images = (0..250)
            .map(|i| ImageWire {
                id: Value::from(100_000_000 + i),
                slug: Some(format!("some-one-click-app-{i}-24-04")),
                distribution: "Ubuntu".into(),
                name: format!("Some one-click application {i} on 24.04"),
            })
            .collect();
        let apps = (0..120)
            .map(|i| OneClickWire {
                slug: format!("some-one-click-app-{i}-24-04"),
                kind: "droplet".into(),
            })
            .collect();
        let stored = assemble(regions, sizes, images, apps).to_stored().len();
        eprintln!("stored catalog of DigitalOcean's size: {stored} bytes");
        assert!(stored < 100 * 1024, "{stored} bytes");
    }
}
