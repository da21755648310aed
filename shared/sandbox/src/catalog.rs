//! Static catalogs: the fixture files (compiled in with `include_str!`), the
//! DigitalOcean region/size/image catalogs parsed from them, and the plan/type
//! tables the Vultr and Linode objects derive their specs from.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

macro_rules! fixture {
    ($provider:literal, $file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/",
            $provider,
            "/",
            $file
        ))
    };
}

pub(crate) const VULTR_ACCOUNT: &str = fixture!("vultr", "account.json");
pub(crate) const VULTR_INSTANCES: &str = fixture!("vultr", "instances.json");
pub(crate) const VULTR_BLOCKS: &str = fixture!("vultr", "blocks.json");
pub(crate) const VULTR_DATABASES: &str = fixture!("vultr", "databases.json");
pub(crate) const VULTR_DOMAINS: &str = fixture!("vultr", "domains.json");

pub(crate) const DO_ACCOUNT: &str = fixture!("digitalocean", "account.json");
pub(crate) const DO_DROPLETS: &str = fixture!("digitalocean", "droplets.json");
pub(crate) const DO_VOLUMES: &str = fixture!("digitalocean", "volumes.json");
pub(crate) const DO_DOMAINS: &str = fixture!("digitalocean", "domains.json");
const DO_REGIONS: &str = fixture!("digitalocean", "regions.json");
const DO_SIZES: &str = fixture!("digitalocean", "sizes.json");
const DO_IMAGES: &str = fixture!("digitalocean", "images.json");
pub(crate) const DO_ONE_CLICKS: &str = fixture!("digitalocean", "1-clicks.json");

pub(crate) const LINODE_PROFILE: &str = fixture!("linode", "profile.json");
pub(crate) const LINODE_ACCOUNT: &str = fixture!("linode", "account.json");
pub(crate) const LINODE_INSTANCES: &str = fixture!("linode", "instances.json");
pub(crate) const LINODE_VOLUMES: &str = fixture!("linode", "volumes.json");
pub(crate) const LINODE_BUCKETS: &str = fixture!("linode", "buckets.json");
pub(crate) const LINODE_DOMAINS: &str = fixture!("linode", "domains.json");

pub(crate) const VERCEL_USER: &str = fixture!("vercel", "user.json");
pub(crate) const VERCEL_DOMAINS: &str = fixture!("vercel", "domains.json");
pub(crate) const CLOUDFLARE_ZONES: &str = fixture!("cloudflare", "zones.json");
pub(crate) const CLOUDFLARE_BUCKETS: &str = fixture!("cloudflare", "buckets.json");
pub(crate) const CLOUDFLARE_DATABASES: &str = fixture!("cloudflare", "databases.json");
pub(crate) const CLOUDFLARE_PAGES: &str = fixture!("cloudflare", "pages-projects.json");
pub(crate) const CLOUDFLARE_WORKERS: &str = fixture!("cloudflare", "workers-scripts.json");
pub(crate) const CLOUDFLARE_TOKEN: &str = fixture!("cloudflare", "token.json");

/// Parse a fixture, falling back to `null` (a broken fixture shows up in tests).
pub(crate) fn parse(text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(err) => {
            tracing::error!(%err, "sandbox fixture is not valid JSON");
            Value::Null
        }
    }
}

/// The items of a fixture list response under `key`.
pub(crate) fn items(text: &str, key: &str) -> Vec<Value> {
    match parse(text).get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// DigitalOcean catalogs (regions, sizes, images), indexed by slug.
#[derive(Debug)]
pub(crate) struct DoCatalog {
    pub(crate) regions: Vec<Value>,
    pub(crate) sizes: Vec<Value>,
    pub(crate) images: Vec<Value>,
    region_by_slug: HashMap<String, usize>,
    size_by_slug: HashMap<String, usize>,
    image_by_key: HashMap<String, usize>,
}

impl DoCatalog {
    fn load() -> Self {
        let regions = items(DO_REGIONS, "regions");
        let sizes = items(DO_SIZES, "sizes");
        let images = items(DO_IMAGES, "images");
        let index = |list: &[Value], key: &str| -> HashMap<String, usize> {
            list.iter()
                .enumerate()
                .filter_map(|(i, v)| Some((v.get(key)?.as_str()?.to_owned(), i)))
                .collect()
        };
        let region_by_slug = index(&regions, "slug");
        let size_by_slug = index(&sizes, "slug");
        let mut image_by_key = index(&images, "slug");
        for (i, img) in images.iter().enumerate() {
            if let Some(id) = img.get("id").and_then(Value::as_u64) {
                image_by_key.insert(id.to_string(), i);
            }
        }
        DoCatalog {
            regions,
            sizes,
            images,
            region_by_slug,
            size_by_slug,
            image_by_key,
        }
    }

    pub(crate) fn region(&self, slug: &str) -> Option<&Value> {
        self.region_by_slug.get(slug).map(|&i| &self.regions[i])
    }

    pub(crate) fn size(&self, slug: &str) -> Option<&Value> {
        self.size_by_slug.get(slug).map(|&i| &self.sizes[i])
    }

    /// An image by slug or numeric id.
    pub(crate) fn image(&self, key: &str) -> Option<&Value> {
        self.image_by_key.get(key).map(|&i| &self.images[i])
    }
}

/// The DigitalOcean catalog, parsed once.
pub(crate) fn digitalocean() -> &'static DoCatalog {
    static CATALOG: OnceLock<DoCatalog> = OnceLock::new();
    CATALOG.get_or_init(DoCatalog::load)
}

/// Vultr instance plan specs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VultrPlan {
    pub(crate) id: &'static str,
    pub(crate) vcpus: u32,
    pub(crate) ram_mb: u32,
    pub(crate) disk_gb: u32,
    pub(crate) bandwidth_gb: u32,
}

impl VultrPlan {
    /// A plan: its id, vCPUs, RAM (MB), disk (GB) and monthly bandwidth (GB).
    const fn new(
        id: &'static str,
        vcpus: u32,
        ram_mb: u32,
        disk_gb: u32,
        bandwidth_gb: u32,
    ) -> Self {
        VultrPlan {
            id,
            vcpus,
            ram_mb,
            disk_gb,
            bandwidth_gb,
        }
    }
}

pub(crate) const VULTR_PLANS: &[VultrPlan] = &[
    // id, vCPUs, RAM MB, disk GB, bandwidth GB
    VultrPlan::new("vc2-1c-0.5gb", 1, 512, 10, 500),
    VultrPlan::new("vc2-1c-1gb", 1, 1024, 25, 1024),
    VultrPlan::new("vc2-1c-2gb", 1, 2048, 55, 2048),
    VultrPlan::new("vc2-2c-2gb", 2, 2048, 65, 3072),
    VultrPlan::new("vc2-2c-4gb", 2, 4096, 80, 3072),
    VultrPlan::new("vc2-4c-8gb", 4, 8192, 160, 4096),
    VultrPlan::new("vc2-6c-16gb", 6, 16384, 320, 5120),
    VultrPlan::new("vhf-1c-1gb", 1, 1024, 32, 1024),
    VultrPlan::new("vhf-2c-4gb", 2, 4096, 128, 3072),
    VultrPlan::new("voc-c-2c-4gb-50s", 2, 4096, 50, 4096),
];

pub(crate) fn vultr_plan(id: &str) -> Option<&'static VultrPlan> {
    VULTR_PLANS.iter().find(|p| p.id == id)
}

pub(crate) const VULTR_REGIONS: &[&str] = &[
    "ewr", "ord", "dfw", "sea", "lax", "atl", "ams", "lhr", "fra", "sjc", "syd", "nrt", "sgp",
    "mia", "cdg", "waw", "yto", "icn", "blr", "jnb", "mex", "mad", "sto", "bom",
];

/// Vultr operating systems by `os_id`.
pub(crate) const VULTR_OS: &[(u32, &str)] = &[
    (2284, "Ubuntu 24.04 LTS x64"),
    (1743, "Ubuntu 22.04 LTS x64"),
    (2136, "Debian 12 x64 (bookworm)"),
    (542, "CentOS 9 Stream x64"),
    (2187, "Rocky Linux 9 x64"),
    (2076, "Alpine Linux x64"),
    (159, "Custom"),
    (186, "Application"),
    (164, "Snapshot"),
];

pub(crate) fn vultr_os_name(os_id: u32) -> &'static str {
    VULTR_OS
        .iter()
        .find(|(id, _)| *id == os_id)
        .map_or("Custom", |(_, name)| name)
}

/// Linode instance type specs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinodeType {
    pub(crate) id: &'static str,
    pub(crate) disk_mb: u32,
    pub(crate) memory_mb: u32,
    pub(crate) vcpus: u32,
    pub(crate) gpus: u32,
    pub(crate) transfer_gb: u32,
}

impl LinodeType {
    /// A type: its id, disk (MB), memory (MB), vCPUs, GPUs and monthly transfer (GB).
    const fn new(
        id: &'static str,
        disk_mb: u32,
        memory_mb: u32,
        vcpus: u32,
        gpus: u32,
        transfer_gb: u32,
    ) -> Self {
        LinodeType {
            id,
            disk_mb,
            memory_mb,
            vcpus,
            gpus,
            transfer_gb,
        }
    }
}

pub(crate) const LINODE_TYPES: &[LinodeType] = &[
    // id, disk MB, memory MB, vCPUs, GPUs, transfer GB
    LinodeType::new("g6-nanode-1", 25600, 1024, 1, 0, 1000),
    LinodeType::new("g6-standard-1", 51200, 2048, 1, 0, 2000),
    LinodeType::new("g6-standard-2", 81920, 4096, 2, 0, 4000),
    LinodeType::new("g6-standard-4", 163840, 8192, 4, 0, 5000),
    LinodeType::new("g6-standard-6", 327680, 16384, 6, 0, 8000),
    LinodeType::new("g6-dedicated-2", 81920, 4096, 2, 0, 4000),
    LinodeType::new("g6-dedicated-4", 163840, 8192, 4, 0, 5000),
    LinodeType::new("g1-gpu-rtx6000-1", 655360, 32768, 8, 1, 16000),
];

pub(crate) fn linode_type(id: &str) -> Option<&'static LinodeType> {
    LINODE_TYPES.iter().find(|t| t.id == id)
}

pub(crate) const LINODE_REGIONS: &[&str] = &[
    "us-east",
    "us-central",
    "us-west",
    "us-southeast",
    "us-ord",
    "us-iad",
    "ca-central",
    "eu-central",
    "eu-west",
    "ap-south",
    "ap-northeast",
    "ap-southeast",
    "ap-west",
    "fr-par",
    "nl-ams",
    "se-sto",
    "jp-osa",
];

/// Linode Object Storage cluster id for a region (`us-east` → `us-east-1`).
pub(crate) fn linode_cluster(region: &str) -> String {
    format!("{region}-1")
}

/// Picks a read-only catalog's items for a request (its query and headers), or the provider's
/// error for a bad filter.
pub(crate) type PickItems = fn(
    &HashMap<String, String>,
    &axum::http::HeaderMap,
) -> Result<Vec<Value>, axum::response::Response>;

/// Pages a catalog of `total` items the provider's way.
pub(crate) type Pager = fn(
    usize,
    &HashMap<String, String>,
    crate::pagination::PageMode,
) -> Result<crate::pagination::Page, axum::response::Response>;

/// The `GET` of a read-only catalog (regions, plans, images, apps): the page `pager` picks of
/// what `items` picks, under `key`, with the page's envelope.
pub(crate) fn static_list(
    key: &'static str,
    items: PickItems,
    pager: Pager,
) -> axum::routing::MethodRouter<crate::server::App> {
    use axum::extract::{Extension, Query};
    axum::routing::get(
        move |Extension(mode): Extension<crate::pagination::PageMode>,
              headers: axum::http::HeaderMap,
              Query(q): crate::http::Q| async move {
            let items = items(&q, &headers)?;
            let page = pager(items.len(), &q, mode)?;
            let mut body = page.envelope;
            body.insert(key.to_owned(), Value::Array(items[page.range].to_vec()));
            Ok::<_, axum::response::Response>(crate::http::json(
                axum::http::StatusCode::OK,
                &Value::Object(body),
            ))
        },
    )
}
