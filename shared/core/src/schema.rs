//! The field schema: which keys each kind takes in `stackdock.toml`, and, per provider and kind,
//! which of them are managed and whether a difference is changed in place or forces a replace.
//!
//! This table is the single source for the config validator, the JSON Schema of the file and the
//! plan engine's diff; no other module decides whether a field is mutable.

use crate::{FieldValue, Kind, ProviderKind};

mod checks;
#[cfg(test)]
mod tests;

pub use checks::{label_error, list_item_error, value_error};

/// The type of a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Int,
    Bool,
    StrList,
    /// A web service's `env` table: `NAME = { secret = "…", targets = […] }` per variable
    /// (`config::web_services`).
    Env,
}

impl FieldType {
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::Str => "a string",
            FieldType::Int => "an integer",
            FieldType::Bool => "a boolean (true or false)",
            FieldType::StrList => "an array of strings",
            FieldType::Env => "a table of environment variables (`NAME = { secret = \"…\" }`)",
        }
    }
}

/// One key of a resource table in `stackdock.toml`.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    pub ty: FieldType,
    pub required: bool,
    pub doc: &'static str,
}

/// Builds a `KeySpec` as a constant expression (so `&[…]` tables are promoted to statics).
macro_rules! key {
    ($key:expr, $ty:expr, $required:expr, $doc:expr) => {
        KeySpec {
            key: $key,
            ty: $ty,
            required: $required,
            doc: $doc,
        }
    };
}

/// Keys every resource takes, whatever its kind.
pub const COMMON_KEYS: &[KeySpec] = &[
    key!(
        "dock",
        FieldType::Str,
        true,
        "Name of the dock (a `[docks.<name>]` table) the resource lives on."
    ),
    key!(
        "protect",
        FieldType::Bool,
        false,
        "Never delete this resource, even with `prune = true`; persists after the entry is removed."
    ),
    key!(
        "id",
        FieldType::Str,
        false,
        "Pin the entry to an existing provider resource by its provider id."
    ),
    key!(
        "ignore_changes",
        FieldType::StrList,
        false,
        "Fields whose differences are neither drift nor updates."
    ),
    key!(
        "allow_replace",
        FieldType::Bool,
        false,
        "Allow apply to delete and recreate the resource when a field that cannot change in place differs."
    ),
];

/// Kind-specific keys (in the order they are documented).
pub fn kind_keys(kind: Kind) -> &'static [KeySpec] {
    use FieldType::{Int, Str, StrList};
    match kind {
        Kind::Servers => &[
            key!(
                "region",
                Str,
                true,
                "Provider region slug (e.g. `ewr`, `nyc3`, `us-east`)."
            ),
            key!(
                "plan",
                Str,
                true,
                "Plan / size / type slug (e.g. `vc2-1c-1gb`, `s-1vcpu-1gb`, `g6-nanode-1`). Changed in place; on Linode the disk keeps its size (`allow_auto_disk_resize = false`), so a later move back to a smaller plan still fits."
            ),
            key!(
                "image",
                Str,
                true,
                "Image to deploy: Vultr `os:<id>`, `app:<id>`, `image:<id>` or `snapshot:<id>`; DigitalOcean image slug; Linode image id."
            ),
            key!(
                "tags",
                StrList,
                false,
                "Tags (a set). StackDock adds its own ownership tag."
            ),
            key!(
                "app",
                Str,
                false,
                "Linode: a StackScript id (`stackdock catalog DOCK apps` lists the account's own and Linode's Marketplace ones), run at the first boot on `image`, which it must support; set at creation only. On Vultr and DigitalOcean an app is the deploy source itself, so it goes in `image` (`app:<id>` or `image:<image_id>`, a 1-Click image slug)."
            ),
            key!(
                "ssh_keys",
                StrList,
                false,
                "SSH keys installed at creation, in each provider's own terms: Vultr SSH key ids (UUIDs, from `GET /v2/ssh-keys`); DigitalOcean key ids or MD5 fingerprints (`aa:bb:…`, 16 pairs); Linode public key text (`ssh-ed25519 AAAA… comment`), sent as `authorized_keys`."
            ),
            key!(
                "user_data_file",
                Str,
                false,
                "Cloud-init user data file, relative to the config's directory (must stay inside it)."
            ),
            key!(
                "power",
                Str,
                false,
                "Power state: `\"on\"` (the default when the key is left out) or `\"off\"`. Changed in place with the provider's power actions (Vultr start/halt, DigitalOcean `power_on`/`power_off`, Linode boot/shutdown); a server powered off outside StackDock is drift, and a server still being built or booting is neither."
            ),
        ],
        Kind::BlockVolumes => &[
            key!(
                "region",
                Str,
                true,
                "Provider region slug; must match the server it attaches to."
            ),
            key!(
                "size_gb",
                Int,
                true,
                "Size in GB (grows in place; shrinking is refused)."
            ),
            key!(
                "attach_to",
                Str,
                false,
                "Name of a server in the same dock and region to attach to."
            ),
            key!(
                "block_type",
                Str,
                false,
                "Vultr block type: `high_perf` (NVMe, the default StackDock sends when it is not set) or `storage_opt` (HDD)."
            ),
        ],
        Kind::Buckets => &[
            key!(
                "region",
                Str,
                false,
                "Object storage region (Linode: e.g. `us-east`; Cloudflare R2: the location hint `apac`, `eeur`, `enam`, `weur`, `wnam` or `oc`); give `region` or `cluster`."
            ),
            key!(
                "cluster",
                Str,
                false,
                "Object storage cluster (Linode legacy: e.g. `us-east-1`); give `region` or `cluster`."
            ),
            key!(
                "jurisdiction",
                Str,
                false,
                "Cloudflare R2 jurisdiction: `default` (when not given), `eu` or `fedramp`. Part of the bucket's identity: a bucket of the same name in another jurisdiction is another bucket."
            ),
        ],
        Kind::Databases => &[
            key!(
                "engine",
                Str,
                true,
                "Database engine: Vultr `pg`, `mysql`, `redis`, …; Cloudflare `d1`."
            ),
            key!(
                "version",
                Str,
                false,
                "Engine version (e.g. `16`). Required on Vultr; D1 has none."
            ),
            key!(
                "plan",
                Str,
                false,
                "Database plan slug (e.g. `vultr-dbaas-startup-cc-1-55-2`). Required on Vultr; D1 has none."
            ),
            key!(
                "region",
                Str,
                false,
                "Provider region slug. Required on Vultr; on Cloudflare D1 the primary location hint (`wnam`, `enam`, `weur`, `eeur`, `apac`, `oc`), used at creation only."
            ),
        ],
        Kind::WebServices => &[
            key!(
                "subtype",
                Str,
                true,
                "`project` (a Vercel project) or `pages` (a Cloudflare Pages project). Cloudflare Workers are synced read-only as `worker` and cannot be declared."
            ),
            key!(
                "framework",
                Str,
                false,
                "Framework preset (Vercel `framework`, e.g. `nextjs`, `astro`, `vite`)."
            ),
            key!(
                "repo",
                Str,
                false,
                "Git repository whose pushes deploy, `owner/name` (GitLab: `group/subgroup/name`). Without it, a direct-upload project."
            ),
            key!(
                "repo_provider",
                Str,
                false,
                "Where `repo` lives: `github` (the default) or `gitlab`."
            ),
            key!(
                "production_branch",
                Str,
                false,
                "The branch that deploys to production (Cloudflare Pages; default `main`). Vercel deploys the repository's default branch and takes no `production_branch`."
            ),
            key!(
                "root_directory",
                Str,
                false,
                "The directory of the repository the project builds from (e.g. `apps/web`)."
            ),
            key!(
                "build_command",
                Str,
                false,
                "Build command (e.g. `npm run build`); the framework's default when not set."
            ),
            key!(
                "install_command",
                Str,
                false,
                "Install command (Vercel; e.g. `npm ci`)."
            ),
            key!(
                "output_directory",
                Str,
                false,
                "The build's output directory (Vercel `outputDirectory`, Pages `destination_dir`)."
            ),
            key!(
                "serverless_function_region",
                Str,
                false,
                "Vercel region the project's functions run in (e.g. `iad1`)."
            ),
            key!(
                "domains",
                StrList,
                false,
                "Custom domains attached to the project (e.g. `www.example.com`); their DNS records stay with their zone's entries."
            ),
            key!(
                "env",
                FieldType::Env,
                false,
                "Environment variables: `NAME = { secret = \"<Secrets Manager name>\" }` (or `{ env = \"VAR\" }` locally) with optional `targets` (default: every environment of the subtype: `production`, `preview`, and on Vercel `development`); a different value per environment is an array of such tables, each with its `targets`. Values are never written in the file, stored or shown; a literal value is an error."
            ),
        ],
        // Zones and their records are declared by `config::keys::{ZONE_KEYS, RECORD_KEYS}`: a zone
        // is not a `[<kind>.<name>]` resource table with the common keys.
        Kind::Domains | Kind::DomainRecords => &[],
    }
}

/// How a difference in a managed field is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The provider changes it in place: an `update`.
    InPlace,
    /// It cannot change in place: a `replace` (delete + create), only with `allow_replace`.
    Replace,
    /// Used at creation only; never diffed (the provider does not report it back).
    CreateOnly,
}

/// A managed field of one provider's kind.
#[derive(Debug, Clone, Copy)]
pub struct FieldRule {
    pub key: &'static str,
    pub change: Change,
    /// The provider compares the values without regard to ASCII case (DigitalOcean tags: a tag
    /// keeps the capitalisation it was first created with, so `prod` and `PROD` are one tag).
    pub fold_case: bool,
}

impl FieldRule {
    /// Whether `desired` and `actual` are the same value as the provider sees them.
    pub fn same(&self, desired: &FieldValue, actual: Option<&FieldValue>) -> bool {
        let Some(actual) = actual else { return false };
        if !self.fold_case {
            return desired == actual;
        }
        let fold = |v: &FieldValue| match v {
            FieldValue::Str(s) => FieldValue::Str(s.to_ascii_lowercase()),
            FieldValue::Set(s) => FieldValue::set(s.iter().map(|t| t.to_ascii_lowercase())),
            other => other.clone(),
        };
        fold(desired) == fold(actual)
    }
}

macro_rules! rule {
    ($key:expr, $change:expr) => {
        FieldRule {
            key: $key,
            change: $change,
            fold_case: false,
        }
    };
    ($key:expr, $change:expr, fold_case) => {
        FieldRule {
            key: $key,
            change: $change,
            fold_case: true,
        }
    };
}

/// The managed fields of `kind` on `provider`. A kind key that is not listed here is not supported
/// by that provider (the validator says so).
pub fn field_rules(provider: ProviderKind, kind: Kind) -> &'static [FieldRule] {
    use Change::{CreateOnly, InPlace, Replace};
    use Kind::*;
    use ProviderKind::*;
    match (provider, kind) {
        (DigitalOcean, Servers) => &[
            rule!("region", Replace),
            rule!("plan", InPlace),
            rule!("image", Replace),
            rule!("tags", InPlace, fold_case),
            rule!("ssh_keys", CreateOnly),
            rule!("user_data_file", CreateOnly),
            rule!("power", InPlace),
        ],
        (Vultr, Servers) => &[
            rule!("region", Replace),
            rule!("plan", InPlace),
            rule!("image", Replace),
            rule!("tags", InPlace),
            rule!("ssh_keys", CreateOnly),
            rule!("user_data_file", CreateOnly),
            rule!("power", InPlace),
        ],
        (Linode, Servers) => &[
            rule!("region", Replace),
            rule!("plan", InPlace),
            rule!("image", Replace),
            rule!("tags", InPlace),
            rule!("app", CreateOnly),
            rule!("ssh_keys", CreateOnly),
            rule!("user_data_file", CreateOnly),
            rule!("power", InPlace),
        ],
        (Vultr, BlockVolumes) => &[
            rule!("region", Replace),
            rule!("size_gb", InPlace),
            rule!("attach_to", InPlace),
            rule!("block_type", Replace),
        ],
        (DigitalOcean | Linode, BlockVolumes) => &[
            rule!("region", Replace),
            rule!("size_gb", InPlace),
            rule!("attach_to", InPlace),
        ],
        // Linode has no CAA flags (0 only, which the config validator enforces): not managed.
        (Linode, DomainRecords) => &[
            rule!("value", InPlace),
            rule!("ttl", InPlace),
            rule!("priority", InPlace),
            rule!("weight", InPlace),
            rule!("port", InPlace),
            rule!("tag", InPlace),
        ],
        // Cloudflare (`PATCH`) also proxies A, AAAA and CNAME records, in place.
        (Cloudflare, DomainRecords) => &[
            rule!("value", InPlace),
            rule!("ttl", InPlace),
            rule!("priority", InPlace),
            rule!("weight", InPlace),
            rule!("port", InPlace),
            rule!("flags", InPlace),
            rule!("tag", InPlace),
            rule!("proxied", InPlace),
        ],
        // Every provider updates a record in place (DigitalOcean and Linode `PUT`, Vultr `PATCH`);
        // its name and type are its identity, so a change of either is another record.
        (_, DomainRecords) => &[
            rule!("value", InPlace),
            rule!("ttl", InPlace),
            rule!("priority", InPlace),
            rule!("weight", InPlace),
            rule!("port", InPlace),
            rule!("flags", InPlace),
            rule!("tag", InPlace),
        ],
        // A Vercel project (`PATCH /v9/projects/{idOrName}`) changes its settings in place;
        // domains and environment variables are sub-resources added and removed one by one. The
        // repository is linked at creation (`gitRepository`; [vercel-sdk] has no call that moves
        // a project to another one), and neither call sets the production branch (the
        // repository's default branch; the record reports `link.productionBranch`).
        // `env_sources` (where each value is read from) is used when a value is written and never
        // compared: the plan compares the names (`env`) and the values' hashes.
        (Vercel, WebServices) => &[
            rule!("subtype", Replace),
            rule!("framework", InPlace),
            rule!("repo", Replace),
            rule!("repo_provider", Replace),
            rule!("root_directory", InPlace),
            rule!("build_command", InPlace),
            rule!("install_command", InPlace),
            rule!("output_directory", InPlace),
            rule!("serverless_function_region", InPlace),
            rule!("domains", InPlace),
            rule!("env", InPlace),
            rule!("env_sources", CreateOnly),
        ],
        // A Cloudflare Pages project (`PATCH /accounts/{account_id}/pages/projects/{name}`, whose
        // body is the create body's project: [cf-spec] pages-project-update-project, [cf-go]
        // `ProjectEditParams`) changes its production branch, `build_config` and the variables of
        // `deployment_configs` in place; custom domains are a sub-resource added and removed one
        // by one. The git `source` is read-only in the document's project object (set when the
        // project is created, never by a `PATCH`): another repository or host is another project.
        (Cloudflare, WebServices) => &[
            rule!("subtype", Replace),
            rule!("repo", Replace),
            rule!("repo_provider", Replace),
            rule!("production_branch", InPlace),
            rule!("root_directory", InPlace),
            rule!("build_command", InPlace),
            rule!("output_directory", InPlace),
            rule!("domains", InPlace),
            rule!("env", InPlace),
            rule!("env_sources", CreateOnly),
        ],
        (Linode, Buckets) => &[rule!("region", Replace), rule!("cluster", Replace)],
        // R2 has no bucket update but the storage class: a location or jurisdiction is another
        // bucket.
        (Cloudflare, Buckets) => &[rule!("region", Replace), rule!("jurisdiction", Replace)],
        // D1 (`engine = "d1"`): the location hint is sent at creation and never reported back.
        (Cloudflare, Databases) => &[rule!("engine", Replace), rule!("region", CreateOnly)],
        (Vultr, Databases) => &[
            rule!("engine", Replace),
            rule!("version", Replace),
            rule!("plan", InPlace),
            rule!("region", Replace),
        ],
        _ => &[],
    }
}

/// Keys of `kind` that `provider` requires beside the kind's own required keys (a Vultr managed
/// database needs a version, plan and region; a D1 database none of them).
pub fn provider_required(provider: ProviderKind, kind: Kind) -> &'static [&'static str] {
    match (provider, kind) {
        (ProviderKind::Vultr, Kind::Databases) => &["version", "plan", "region"],
        _ => &[],
    }
}

/// What to write instead of a key `provider` does not take on `kind`, where the provider has
/// another way to say it.
pub fn unsupported_hint(provider: ProviderKind, kind: Kind, key: &str) -> Option<&'static str> {
    match (provider, kind, key) {
        (ProviderKind::Vultr, Kind::Servers, "app") => Some(
            "on Vultr an application is the deploy source: write it as `image = \"app:<id>\"` (one-click) or `image = \"image:<image_id>\"` (marketplace), as `stackdock catalog DOCK apps` lists them",
        ),
        (ProviderKind::DigitalOcean, Kind::Servers, "app") => Some(
            "on DigitalOcean a 1-Click app is an image: write its slug as `image` (`stackdock catalog DOCK apps` lists them)",
        ),
        _ => None,
    }
}

/// The rule for one field, if `provider` manages it on `kind`.
pub fn field_rule(provider: ProviderKind, kind: Kind, key: &str) -> Option<FieldRule> {
    field_rules(provider, kind)
        .iter()
        .copied()
        .find(|r| r.key == key)
}

/// The value a managed field has when the entry leaves it out (servers are `power = "on"`), so
/// the plan compares and apply records it like a written value.
pub fn default_value(kind: Kind, key: &str) -> Option<FieldValue> {
    match (kind, key) {
        (Kind::Servers, "power") => Some(FieldValue::Str("on".into())),
        _ => None,
    }
}

/// Whether `value` is the default of `key` (import leaves such keys out).
pub fn is_default(kind: Kind, key: &str, value: &FieldValue) -> bool {
    default_value(kind, key).as_ref() == Some(value)
}

/// Fields a resource reports only once it has settled: a server being built, booting or
/// shutting down is neither on nor off, so nothing is planned for (and no drift found in) its
/// power until the provider reports it running or stopped.
pub fn settled_only(kind: Kind, key: &str) -> bool {
    kind == Kind::Servers && key == "power"
}

/// Fields that may only grow (a decrease is an `error` action, not an update).
pub fn grow_only(kind: Kind, key: &str) -> bool {
    kind == Kind::BlockVolumes && key == "size_gb"
}
