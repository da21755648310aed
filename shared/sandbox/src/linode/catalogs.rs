//! Linode's read-only catalogs (`/regions`, `/linode/types`, `/images`, `/linode/stackscripts`),
//! page-numbered like every other listing and rendered with exactly the fields of
//! [linode-spec]'s `Region`, `LinodeType`, `Image` and `StackScript` (whose objects allow no
//! other). StackScripts are filtered with `X-Filter` (`mine`, `username`, `is_public`, `label`).

use std::collections::HashMap;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::filter::{Field, Filterable, matches, parse_filter};
use super::page_of;
use crate::catalog::{LINODE_REGIONS, LINODE_TYPES, static_list};
use crate::pagination::{Page, PageMode};
use crate::server::App;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/linode/v4/regions", static_list("data", regions, paged))
        .route("/linode/v4/linode/types", static_list("data", types, paged))
        .route("/linode/v4/images", static_list("data", images, paged))
        .route(
            "/linode/v4/linode/stackscripts",
            static_list("data", stackscripts, paged),
        )
}

fn paged(total: usize, q: &HashMap<String, String>, mode: PageMode) -> Result<Page, Response> {
    page_of(total, q, mode)
}

fn regions(_: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    Ok(LINODE_REGIONS
        .iter()
        .map(|id| {
            let country = id.split('-').next().unwrap_or_default();
            let country = match country {
                "eu" => "de",
                "ap" => "sg",
                "se" => "se",
                other => other,
            };
            json!({
                "id": id, "label": id, "country": country, "status": "ok",
                "site-type": "core",
                "capabilities": ["Linodes", "Block Storage", "Object Storage"],
                "resolvers": {"ipv4": "192.0.2.1,192.0.2.2", "ipv6": "2001:db8::1"},
                "placement_group_limits": {
                    "maximum_linodes_per_pg": 5,
                    "maximum_pgs_per_customer": 100,
                },
            })
        })
        .collect())
}

fn types(_: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    Ok(LINODE_TYPES
        .iter()
        .map(|t| {
            let class = if t.id.contains("nanode") {
                "nanode"
            } else if t.id.contains("dedicated") {
                "dedicated"
            } else if t.gpus > 0 {
                "gpu"
            } else {
                "standard"
            };
            let monthly = f64::from(t.memory_mb / 1024).max(1.0) * 5.0;
            json!({
                "id": t.id, "label": t.id, "class": class, "disk": t.disk_mb,
                "memory": t.memory_mb, "vcpus": t.vcpus, "gpus": t.gpus,
                "network_out": 1000, "transfer": t.transfer_gb,
                "price": {"hourly": monthly / 730.0, "monthly": monthly},
                "region_prices": [],
                "addons": {"backups": {"price": {"hourly": 0.003, "monthly": 2.0}, "region_prices": []}},
                "successor": null,
            })
        })
        .collect())
}

/// The public images (`linode/…`); the account has no private ones.
pub(crate) const LINODE_IMAGES: &[(&str, &str, bool)] = &[
    // id, label, deprecated
    ("linode/ubuntu24.04", "Ubuntu 24.04 LTS", false),
    ("linode/ubuntu22.04", "Ubuntu 22.04 LTS", false),
    ("linode/debian12", "Debian 12", false),
    ("linode/almalinux9", "AlmaLinux 9", false),
    ("linode/alpine3.20", "Alpine 3.20", false),
    ("linode/ubuntu20.04", "Ubuntu 20.04 LTS", true),
    ("linode/debian11", "Debian 11", true),
];

fn images(_: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    Ok(LINODE_IMAGES
        .iter()
        .map(|(id, label, deprecated)| {
            let vendor = label.split_whitespace().next().unwrap_or_default();
            json!({
                "id": id, "label": label, "vendor": vendor, "description": null,
                "is_public": true, "deprecated": deprecated, "status": "available",
                "type": "manual", "size": 2500, "total_size": 2500,
                "created": "2024-04-25T00:00:00", "updated": "2024-04-25T00:00:00",
                "created_by": "linode", "eol": null, "expiry": null,
                "capabilities": [], "tags": [], "regions": [],
            })
        })
        .collect())
}

/// One StackScript: (id, label, username, images, public).
struct StackScript(
    u64,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
);

/// The profile's user (`fixtures/linode/profile.json`): its StackScripts are `mine`.
const ME: &str = "sandbox-ops";

/// Linode's own (the Marketplace's), someone else's public ones and the account's own.
const STACKSCRIPTS: &[StackScript] = &[
    StackScript(
        401_697,
        "WordPress One-Click",
        "linode",
        &["linode/ubuntu22.04", "linode/ubuntu24.04"],
        true,
    ),
    StackScript(
        607_026,
        "Docker One-Click",
        "linode",
        &["linode/ubuntu22.04", "linode/ubuntu24.04"],
        true,
    ),
    StackScript(
        913_277,
        "Grafana One-Click",
        "linode",
        &["linode/ubuntu22.04"],
        true,
    ),
    StackScript(
        1_000_001,
        "someone's dotfiles",
        "someone",
        &["any/all"],
        true,
    ),
    StackScript(1_000_002, "hardening", ME, &["any/all"], false),
];

impl Filterable for StackScript {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        Some(match name {
            "id" => Field::Num(self.0),
            "label" => Field::Str(self.1),
            "username" => Field::Str(self.2),
            "mine" => Field::Bool(self.2 == ME),
            "is_public" => Field::Bool(self.4),
            _ => return None,
        })
    }
}

fn stackscripts(_: &HashMap<String, String>, headers: &HeaderMap) -> Result<Vec<Value>, Response> {
    let filter = parse_filter(headers)?;
    let mut out = Vec::new();
    for s in STACKSCRIPTS {
        if matches(s, &filter)? {
            let StackScript(id, label, username, images, public) = s;
            out.push(json!({
                "id": id, "label": label, "username": username, "images": images,
                "is_public": public, "mine": *username == ME,
                "description": "", "rev_note": "", "script": "#!/bin/bash\n",
                "created": "2024-01-01T00:00:00", "updated": "2024-01-01T00:00:00",
                "deployments_active": 1, "deployments_total": 10,
                "user_defined_fields": [], "user_gravatar_id": "",
            }));
        }
    }
    Ok(out)
}

/// The images StackScript `id` runs on (`any/all`: every one), if it exists.
pub(super) fn stackscript_images(id: u64) -> Option<&'static [&'static str]> {
    STACKSCRIPTS.iter().find(|s| s.0 == id).map(|s| s.3)
}
