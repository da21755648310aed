//! Vultr's catalogs — regions, plans, operating systems and applications (`GET /regions`,
//! `/plans`, `/os`, `/applications`) — read into the shared [`Catalog`] in the config's own
//! vocabulary: an operating system is the image `os:<id>`, a one-click application `app:<id>`
//! and a marketplace application `image:<image_id>` ([vultr-spec] create-instance `os_id`,
//! `app_id`, `image_id`).

use serde::Deserialize;

use super::Vultr;
use crate::ProviderError;
use crate::catalog::{App, Catalog, CatalogTerms, Image, Plan, Region};
use crate::http::ListOptions;

/// Vultr's words: plans; a snapshot is the account's own, not in a public listing.
pub static TERMS: CatalogTerms = CatalogTerms {
    provider: "vultr",
    plan: "plan",
    routes: [
        "`GET /v2/regions`",
        "`GET /v2/plans`",
        "`GET /v2/os`",
        "`GET /v2/applications`",
    ],
    unlisted_image: |image| image.starts_with("snapshot:"),
    // `image = "app:<id>"` / `"image:<image_id>"` deploys an application.
    apps_are_images: true,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RegionWire {
    id: String,
    city: String,
    country: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PlanWire {
    id: String,
    vcpu_count: Option<u64>,
    ram: Option<u64>,
    disk: Option<u64>,
    // The document says integer; the API prices some plans in cents (2.5): read as a number.
    monthly_cost: Option<f64>,
    locations: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OsWire {
    id: u64,
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppWire {
    id: u64,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    vendor: String,
    image_id: String,
}

/// An application as the config's `image` (and `app`) names it: a marketplace app by its image
/// id, a one-click app by its id.
fn app(a: AppWire) -> App {
    let id = if a.kind == "marketplace" && !a.image_id.is_empty() {
        format!("image:{}", a.image_id)
    } else {
        format!("app:{}", a.id)
    };
    App {
        id,
        name: a.name,
        vendor: if a.vendor.is_empty() {
            a.kind
        } else {
            a.vendor
        },
        images: Vec::new(),
    }
}

fn assemble(
    regions: Vec<RegionWire>,
    plans: Vec<PlanWire>,
    os: Vec<OsWire>,
    apps: Vec<AppWire>,
) -> Catalog {
    Catalog {
        fetched_at: None,
        regions: regions
            .into_iter()
            .map(|r| Region {
                name: [r.city, r.country]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                id: r.id,
                available: true,
            })
            .collect(),
        plans: plans
            .into_iter()
            .map(|p| Plan {
                id: p.id,
                vcpus: p.vcpu_count,
                memory_mb: p.ram,
                disk_gb: p.disk,
                monthly_usd: p.monthly_cost,
                // A plan sold out everywhere lists no location.
                available: !p.locations.is_empty(),
                regions: Some(p.locations),
            })
            .collect(),
        images: os
            .into_iter()
            .map(|o| Image {
                id: format!("os:{}", o.id),
                name: o.name,
            })
            .collect(),
        apps: apps.into_iter().map(app).collect(),
    }
}

impl Vultr {
    /// The four listings, every page of each, read at once.
    pub(super) async fn fetch_catalog(&self) -> Result<Catalog, ProviderError> {
        let all = ListOptions::new();
        let client = &self.account.client;
        let (regions, plans, os, apps) = futures::try_join!(
            client.list::<RegionWire>("/regions", "regions", &all),
            client.list::<PlanWire>("/plans", "plans", &all),
            client.list::<OsWire>("/os", "os", &all),
            client.list::<AppWire>("/applications", "applications", &all),
        )?;
        Ok(assemble(regions, plans, os, apps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::check;
    use stackdock_core::plan::ResourceSpec;
    use stackdock_core::{FieldValue, Kind};

    fn catalog() -> Catalog {
        let region = |id: &str| RegionWire {
            id: id.into(),
            city: "City".into(),
            country: "US".into(),
        };
        let plan = |id: &str, at: &[&str]| PlanWire {
            id: id.into(),
            vcpu_count: Some(1),
            ram: Some(1024),
            disk: Some(25),
            monthly_cost: Some(5.0),
            locations: at.iter().map(|s| (*s).to_owned()).collect(),
        };
        assemble(
            vec![region("ewr"), region("ord"), region("fra")],
            vec![
                plan("vc2-1c-1gb", &["ewr", "ord", "fra"]),
                plan("vhf-1c-1gb", &["ewr"]),
                plan("vc2-24c-96gb", &[]),
            ],
            vec![OsWire {
                id: 2284,
                name: "Ubuntu 24.04 LTS x64".into(),
            }],
            vec![
                AppWire {
                    id: 37,
                    name: "Docker".into(),
                    kind: "one-click".into(),
                    vendor: "vultr".into(),
                    image_id: String::new(),
                },
                AppWire {
                    id: 1028,
                    name: "OpenLiteSpeed WordPress".into(),
                    kind: "marketplace".into(),
                    vendor: "LiteSpeed_Technologies".into(),
                    image_id: "openlitespeed-wordpress".into(),
                },
            ],
        )
    }

    fn spec(fields: &[(&str, &str)]) -> ResourceSpec {
        ResourceSpec {
            name: "web-1".into(),
            owner_tag: "stackdock-0123456789abcdef".into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), FieldValue::from(*v)))
                .collect(),
            protect: false,
        }
    }

    #[test]
    fn specs_against_a_vultr_catalog() {
        let cat = catalog();
        let server = |r: &str, p: &str, i: &str| {
            check(
                &TERMS,
                &cat,
                Kind::Servers,
                &spec(&[("region", r), ("plan", p), ("image", i)]),
            )
        };
        assert_eq!(server("ewr", "vc2-1c-1gb", "os:2284"), Vec::<String>::new());
        // Applications deploy through `image`: one-click by id, marketplace by image id.
        assert!(server("ewr", "vc2-1c-1gb", "app:37").is_empty());
        assert!(server("ewr", "vc2-1c-1gb", "image:openlitespeed-wordpress").is_empty());
        // A snapshot is the account's own.
        assert!(server("ewr", "vc2-1c-1gb", "snapshot:0c5d1c5e").is_empty());
        assert_eq!(
            server("ewrr", "vc2-1c-1gbb", "os:2285"),
            vec![
                "unknown region `ewrr` for vultr; did you mean `ewr`?",
                "unknown plan `vc2-1c-1gbb` for vultr; did you mean `vc2-1c-1gb`?",
                "unknown image `os:2285` for vultr; did you mean `os:2284`?",
            ]
        );
        assert_eq!(
            server("fra", "vhf-1c-1gb", "os:2284"),
            vec![
                "plan `vhf-1c-1gb` is not available in region `fra` on vultr; it is offered in: ewr"
            ]
        );
        assert_eq!(
            server("fra", "vc2-24c-96gb", "os:2284"),
            vec!["plan `vc2-24c-96gb` is not available for new servers on vultr"]
        );
        assert_eq!(
            check(
                &TERMS,
                &cat,
                Kind::BlockVolumes,
                &spec(&[("region", "ord")])
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            check(
                &TERMS,
                &cat,
                Kind::Servers,
                &spec(&[("region", "ewr"), ("plan", "vc2-1c-1gb"), ("app", "app:38")])
            ),
            vec!["unknown app `app:38` for vultr; did you mean `app:37`?"]
        );
    }
}
