//! Linode's catalogs — regions, types, images and StackScripts (`GET /regions`,
//! `/linode/types`, `/images`, `/linode/stackscripts`) — read into the shared [`Catalog`].
//!
//! Public StackScripts number in the tens of thousands, most of them one user's experiment, and
//! the listing has no notion of "popular": reading them all would cost a hundred page requests
//! (against a 200-per-minute budget for collections) and a stored catalog far over DynamoDB's
//! 400 KB item. So the apps are the account's own StackScripts plus those Linode itself
//! publishes (username `linode`: the Marketplace apps, about 150), in one filtered listing
//! ([linode-docs] filtering: `X-Filter` with `+or`). Any other public StackScript is still
//! deployable by id: the plan says it is not in the catalog and how to look at it.

use serde::Deserialize;
use serde_json::json;

use super::Linode;
use crate::ProviderError;
use crate::catalog::{App, Catalog, CatalogTerms, Image, Plan, Region};
use crate::http::ListOptions;

/// Linode's words: types; `private/<id>` images are the account's own.
pub static TERMS: CatalogTerms = CatalogTerms {
    provider: "linode",
    plan: "type",
    routes: [
        "`GET /v4/regions`",
        "`GET /v4/linode/types`",
        "`GET /v4/images`",
        "`GET /v4/linode/stackscripts`",
    ],
    unlisted_image: |image| image.starts_with("private/"),
    // A StackScript runs on an image; it is not one.
    apps_are_images: false,
};

/// The StackScripts listed: the account's own and Linode's.
pub(super) fn stackscript_filter() -> String {
    json!({"+or": [{"mine": true}, {"username": "linode"}]}).to_string()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RegionWire {
    id: String,
    label: String,
    country: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PriceWire {
    monthly: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TypeWire {
    id: String,
    vcpus: Option<u64>,
    memory: Option<u64>,
    /// MB.
    disk: Option<u64>,
    price: PriceWire,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImageWire {
    id: String,
    label: String,
    deprecated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StackScriptWire {
    id: u64,
    label: String,
    username: String,
    images: Vec<String>,
}

fn assemble(
    regions: Vec<RegionWire>,
    types: Vec<TypeWire>,
    images: Vec<ImageWire>,
    scripts: Vec<StackScriptWire>,
) -> Catalog {
    Catalog {
        fetched_at: None,
        regions: regions
            .into_iter()
            .map(|r| Region {
                name: if r.country.is_empty() {
                    r.label
                } else {
                    format!("{} ({})", r.label, r.country.to_uppercase())
                },
                id: r.id,
                available: true,
            })
            .collect(),
        plans: types
            .into_iter()
            .map(|t| Plan {
                id: t.id,
                vcpus: t.vcpus,
                memory_mb: t.memory,
                disk_gb: t.disk.map(|mb| mb / 1024),
                monthly_usd: t.price.monthly,
                available: true,
                regions: None,
            })
            .collect(),
        images: images
            .into_iter()
            .map(|i| Image {
                name: if i.deprecated {
                    format!("{} (deprecated)", i.label)
                } else {
                    i.label
                },
                id: i.id,
            })
            .collect(),
        apps: scripts
            .into_iter()
            .map(|s| App {
                id: s.id.to_string(),
                name: s.label,
                vendor: s.username,
                // `any/all`: the StackScript runs on every image.
                images: if s.images.iter().any(|i| i == "any/all") {
                    Vec::new()
                } else {
                    s.images
                },
            })
            .collect(),
    }
}

impl Linode {
    /// The four listings, every page of each, read at once.
    pub(super) async fn fetch_catalog(&self) -> Result<Catalog, ProviderError> {
        let all = ListOptions::new();
        let scripts = ListOptions::new().header("X-Filter", stackscript_filter());
        let client = &self.account.client;
        let (regions, types, images, scripts) = futures::try_join!(
            client.list::<RegionWire>("/regions", "data", &all),
            client.list::<TypeWire>("/linode/types", "data", &all),
            client.list::<ImageWire>("/images", "data", &all),
            client.list::<StackScriptWire>("/linode/stackscripts", "data", &scripts),
        )?;
        Ok(assemble(regions, types, images, scripts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::check;
    use stackdock_core::plan::ResourceSpec;
    use stackdock_core::{FieldValue, Kind};

    fn catalog() -> Catalog {
        assemble(
            vec![RegionWire {
                id: "us-east".into(),
                label: "Newark, NJ".into(),
                country: "us".into(),
            }],
            vec![TypeWire {
                id: "g6-nanode-1".into(),
                vcpus: Some(1),
                memory: Some(1024),
                disk: Some(25600),
                price: PriceWire { monthly: Some(5.0) },
            }],
            vec![ImageWire {
                id: "linode/ubuntu24.04".into(),
                label: "Ubuntu 24.04 LTS".into(),
                deprecated: false,
            }],
            vec![
                StackScriptWire {
                    id: 401_697,
                    label: "WordPress One-Click".into(),
                    username: "linode".into(),
                    images: vec!["linode/ubuntu22.04".into()],
                },
                StackScriptWire {
                    id: 10,
                    label: "mine".into(),
                    username: "me".into(),
                    images: vec!["any/all".into()],
                },
            ],
        )
    }

    fn server(fields: &[(&str, &str)]) -> Vec<String> {
        let spec = ResourceSpec {
            name: "web-1".into(),
            owner_tag: "stackdock-0123456789abcdef".into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), FieldValue::from(*v)))
                .collect(),
            protect: false,
        };
        check(&TERMS, &catalog(), Kind::Servers, &spec)
    }

    #[test]
    fn specs_against_a_linode_catalog() {
        let ok = [("region", "us-east"), ("plan", "g6-nanode-1")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut f = ok.to_vec();
            f.extend_from_slice(extra);
            server(&f)
        };
        assert!(with(&[("image", "linode/ubuntu24.04")]).is_empty());
        assert!(with(&[("image", "private/1234")]).is_empty());
        assert_eq!(
            server(&[
                ("region", "us-eats"),
                ("plan", "g6-nanode1"),
                ("image", "linode/ubuntu24.4")
            ]),
            vec![
                "unknown region `us-eats` for linode; did you mean `us-east`?",
                "unknown type `g6-nanode1` for linode; did you mean `g6-nanode-1`?",
                "unknown image `linode/ubuntu24.4` for linode; did you mean `linode/ubuntu24.04`?",
            ]
        );
        // A StackScript runs on the images it names (any, for `any/all`).
        assert!(with(&[("image", "linode/ubuntu24.04"), ("app", "10")]).is_empty());
        assert_eq!(
            with(&[("image", "linode/ubuntu24.04"), ("app", "401697")]),
            vec![
                "app `401697` on linode does not deploy on image `linode/ubuntu24.04`; it takes: linode/ubuntu22.04"
            ]
        );
        assert_eq!(
            with(&[("image", "linode/ubuntu24.04"), ("app", "999")]),
            vec![
                "unknown app `999` for linode; list them with `stackdock catalog <dock> apps` (`GET /v4/linode/stackscripts`)"
            ]
        );
    }
}
