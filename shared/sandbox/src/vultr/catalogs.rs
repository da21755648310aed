//! Vultr's read-only catalogs (`/regions`, `/plans`, `/os`, `/applications`), cursor-paged like
//! every other listing and rendered with the fields of [vultr-spec]'s `region`, `plan`, `os`
//! and `app` objects.

use std::collections::HashMap;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::bad;
use crate::catalog::{self, VULTR_OS, VULTR_PLANS, VULTR_REGIONS, static_list};
use crate::pagination::{self, Page, PageMode};
use crate::server::App;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/vultr/v2/regions", static_list("regions", regions, paged))
        .route("/vultr/v2/plans", static_list("plans", plans, paged))
        .route("/vultr/v2/os", static_list("os", os, paged))
        .route(
            "/vultr/v2/applications",
            static_list("applications", applications, paged),
        )
}

fn paged(total: usize, q: &HashMap<String, String>, mode: PageMode) -> Result<Page, Response> {
    pagination::vultr(total, q, mode).map_err(|m| bad(&m))
}

/// Regions where the high-frequency plans are sold (the others have sold out of them).
const HIGH_FREQUENCY: &[&str] = &["ewr", "ord", "lax", "ams", "fra", "nrt"];

/// A region's city, country and continent.
fn place(id: &str) -> (&'static str, &'static str, &'static str) {
    match id {
        "ewr" => ("New Jersey", "US", "North America"),
        "ord" => ("Chicago", "US", "North America"),
        "dfw" => ("Dallas", "US", "North America"),
        "sea" => ("Seattle", "US", "North America"),
        "lax" => ("Los Angeles", "US", "North America"),
        "atl" => ("Atlanta", "US", "North America"),
        "mia" => ("Miami", "US", "North America"),
        "sjc" => ("Silicon Valley", "US", "North America"),
        "yto" => ("Toronto", "CA", "North America"),
        "mex" => ("Mexico City", "MX", "North America"),
        "ams" => ("Amsterdam", "NL", "Europe"),
        "lhr" => ("London", "GB", "Europe"),
        "fra" => ("Frankfurt", "DE", "Europe"),
        "cdg" => ("Paris", "FR", "Europe"),
        "waw" => ("Warsaw", "PL", "Europe"),
        "mad" => ("Madrid", "ES", "Europe"),
        "sto" => ("Stockholm", "SE", "Europe"),
        "syd" => ("Sydney", "AU", "Australia"),
        "nrt" => ("Tokyo", "JP", "Asia"),
        "sgp" => ("Singapore", "SG", "Asia"),
        "icn" => ("Seoul", "KR", "Asia"),
        "blr" => ("Bangalore", "IN", "Asia"),
        "bom" => ("Mumbai", "IN", "Asia"),
        "jnb" => ("Johannesburg", "ZA", "Africa"),
        _ => ("", "", ""),
    }
}

fn regions(_: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    Ok(VULTR_REGIONS
        .iter()
        .map(|id| {
            let (city, country, continent) = place(id);
            json!({
                "id": id, "city": city, "country": country, "continent": continent,
                "options": ["ddos_protection", "block_storage_high_perf"],
            })
        })
        .collect())
}

/// `type`: `all` (the default), `vc2`, `vhf`, `voc`, … ([vultr-spec] list-plans).
fn plans(q: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    let wanted = q.get("type").map(String::as_str).filter(|t| *t != "all");
    Ok(VULTR_PLANS
        .iter()
        .map(|p| {
            let kind = p.id.split('-').next().unwrap_or_default();
            let locations: &[&str] = if kind == "vhf" {
                HIGH_FREQUENCY
            } else {
                VULTR_REGIONS
            };
            (kind, p, locations)
        })
        .filter(|(kind, _, _)| wanted.is_none_or(|w| w == *kind))
        .map(|(kind, p, locations)| {
            json!({
                "id": p.id, "name": p.id, "vcpu_count": p.vcpus, "ram": p.ram_mb,
                "disk": p.disk_gb, "disk_count": 1, "bandwidth": p.bandwidth_gb,
                "monthly_cost": monthly_cost(p.ram_mb, kind), "type": kind,
                "locations": locations,
            })
        })
        .collect())
}

/// A price in whole dollars (the document's `monthly_cost` is an integer).
fn monthly_cost(ram_mb: u32, kind: &str) -> u32 {
    let base = (ram_mb / 1024).max(1) * 5;
    if kind == "vc2" { base } else { base + base / 5 }
}

fn os(_: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    Ok(VULTR_OS
        .iter()
        .map(|(id, name)| {
            let family = name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            json!({"id": id, "name": name, "arch": "x64", "family": family})
        })
        .collect())
}

/// The applications: one-click ones (deployed with `app_id`) and marketplace ones (with
/// `image_id`).
pub(super) const VULTR_APPS: &[(u32, &str, &str, &str, &str)] = &[
    // id, name, short name, type, marketplace image id
    (37, "Docker", "docker", "one-click", ""),
    (2, "WordPress", "wordpress", "one-click", ""),
    (
        1028,
        "OpenLiteSpeed WordPress",
        "openlitespeedwordpress",
        "marketplace",
        "openlitespeed-wordpress",
    ),
    (1405, "GitLab", "gitlab", "marketplace", "gitlab"),
];

/// `type`: `all` (the default), `one-click` or `marketplace` ([vultr-spec] list-applications).
fn applications(q: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    let wanted = q.get("type").map(String::as_str).filter(|t| *t != "all");
    Ok(VULTR_APPS
        .iter()
        .filter(|(_, _, _, kind, _)| wanted.is_none_or(|w| w == *kind))
        .map(|(id, name, short, kind, image)| {
            let vendor = if *kind == "one-click" {
                "vultr"
            } else {
                "vendor"
            };
            json!({
                "id": id, "name": name, "short_name": short,
                "deploy_name": format!("{name} on {}", catalog::vultr_os_name(2284)),
                "type": kind, "vendor": vendor, "image_id": image,
            })
        })
        .collect())
}
