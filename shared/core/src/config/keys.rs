//! The keys of the `[stackdock]`, `[docks.<name>]` and `credentials` tables, and the few rules that
//! span several keys. Resource keys live in [`crate::schema`]; together the two are the single
//! source the validator and the JSON Schema generator read, so neither keeps its own copy.

use crate::schema::FieldType;
use crate::{Kind, ProviderKind};

/// The type of a key outside resource tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// A plain value, typed like resource fields.
    Field(FieldType),
    /// The `credentials = { env = "…" }` / `{ secret = "…" }` reference table.
    Credentials,
    /// A zone's `[[domains."<zone>".records]]`: an array of tables of [`RECORD_KEYS`].
    Records,
    /// A record's `value`: a string, an array of strings (TXT split into strings), or
    /// `{ server = "<servers entry>" }`.
    RecordValue,
}

/// A default value, as the JSON Schema shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDefault {
    None,
    Bool(bool),
    Str(&'static str),
}

/// One key of a settings, dock or credentials table.
#[derive(Debug, Clone, Copy)]
pub struct TableKey {
    pub key: &'static str,
    pub ty: KeyType,
    pub required: bool,
    pub default: KeyDefault,
    /// A JSON Schema `pattern` the validator enforces by hand with the same meaning.
    pub pattern: Option<&'static str>,
    pub doc: &'static str,
}

macro_rules! table_key {
    ($key:expr, $ty:expr, $required:expr, $default:expr, $pattern:expr, $doc:expr) => {
        TableKey {
            key: $key,
            ty: $ty,
            required: $required,
            default: $default,
            pattern: $pattern,
            doc: $doc,
        }
    };
}

/// Pattern of dock names (also the key of `[docks.<name>]`).
pub const DOCK_NAME_PATTERN: &str = "^[a-z0-9-]+$";
/// Pattern of an environment variable name.
pub const ENV_VAR_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
/// Characters DynamoDB allows in a table name.
pub const TABLE_PREFIX_PATTERN: &str = "^[A-Za-z0-9_.-]{1,200}$";
/// An EventBridge schedule expression.
pub const SCHEDULE_PATTERN: &str = r"^(rate|cron)\(.+\)$";
/// A zone name: lowercase labels of `a-z`, `0-9` and `-`, at least two, no trailing dot (the
/// validator also checks label and name lengths).
pub const ZONE_NAME_PATTERN: &str =
    "^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$";
/// An http(s) URL.
pub const ENDPOINT_PATTERN: &str = "^https?://[^/\\s]+";

/// Keys of `[stackdock]`.
pub const SETTINGS_KEYS: &[TableKey] = &[
    table_key!(
        "org",
        KeyType::Field(FieldType::Str),
        true,
        KeyDefault::None,
        None,
        "Organisation id: scopes every record and dock id (`<org>/<dock>`) in the shared tables."
    ),
    table_key!(
        "prune",
        KeyType::Field(FieldType::Bool),
        false,
        KeyDefault::Bool(false),
        None,
        "Delete resources StackDock created once their entry is removed from this file."
    ),
    table_key!(
        "drift",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::Str("flag"),
        None,
        "`flag`: record and report drift, change nothing; `remediate`: also apply the plan that removes it."
    ),
    table_key!(
        "table_prefix",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::Str("stackdock"),
        Some(TABLE_PREFIX_PATTERN),
        "Prefix of the DynamoDB table names (letters, digits, `_`, `-`, `.`)."
    ),
    table_key!(
        "schedule",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::None,
        Some(SCHEDULE_PATTERN),
        "EventBridge schedule of the scheduled sync, e.g. `rate(15 minutes)` or `cron(0 * * * ? *)`."
    ),
];

/// Keys of `[notify]`.
pub const NOTIFY_KEYS: &[TableKey] = &[
    table_key!(
        "on",
        KeyType::Field(FieldType::StrList),
        false,
        KeyDefault::None,
        None,
        "What is sent, once per new occurrence: `drift` (a managed resource changed outside StackDock, and again when that is gone), `unmanaged` (a resource appeared that no entry declares), `sync_failed` (a dock's sync failed, and again when it syncs), `apply_failed` (an apply ended with failed actions). Default: all four."
    ),
    table_key!(
        "webhook",
        KeyType::Credentials,
        false,
        KeyDefault::None,
        None,
        "A Slack-compatible incoming-webhook URL, by reference only (it lets anyone post): `{ secret = \"<Secrets Manager name>\" }`, or `{ env = \"VAR\" }` for the CLI. Deployed to Lambda, only a secret under the stack's `SecretPrefix`."
    ),
    table_key!(
        "sns",
        KeyType::Field(FieldType::Bool),
        false,
        KeyDefault::Bool(false),
        None,
        "Also publish to the stack's SNS topic (`NotifyTopic`, its ARN in `STACKDOCK_NOTIFY_TOPIC_ARN`): the deployed functions always; the CLI when `STACKDOCK_NOTIFY_TOPIC_ARN` is set (else a warning)."
    ),
];

/// Keys of `[docks.<name>]`.
pub const DOCK_KEYS: &[TableKey] = &[
    table_key!(
        "provider",
        KeyType::Field(FieldType::Str),
        true,
        KeyDefault::None,
        None,
        "The cloud provider of this account."
    ),
    table_key!(
        "credentials",
        KeyType::Credentials,
        true,
        KeyDefault::None,
        None,
        "Where the API token comes from, by reference only: `{ env = \"VAR\" }` or `{ secret = \"<Secrets Manager name or ARN>\" }`. Deployed to Lambda, only a secret under the stack's `SecretPrefix` (`stackdock validate --target lambda`)."
    ),
    table_key!(
        "endpoint",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::None,
        Some(ENDPOINT_PATTERN),
        "http(s) URL replacing the provider's base URL, version path included (e.g. a sandbox). Deployed to Lambda, only the provider's published https API or an origin in the stack's `AllowedEndpoints`."
    ),
    table_key!(
        "regions",
        KeyType::Field(FieldType::StrList),
        false,
        KeyDefault::None,
        None,
        "Limit sync to these regions (default: all); resources must be in one of them."
    ),
];

/// Keys of a dock's `credentials` table: exactly one of them.
pub const CREDENTIAL_KEYS: &[TableKey] = &[
    table_key!(
        "env",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::None,
        Some(ENV_VAR_PATTERN),
        "Name of the environment variable holding the API token."
    ),
    table_key!(
        "secret",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::None,
        None,
        "Name or ARN of the AWS Secrets Manager secret holding the API token."
    ),
];

/// Keys of a DNS zone, `[domains."<zone>"]` (the zone's name is the table's key).
pub const ZONE_KEYS: &[TableKey] = &[
    table_key!(
        "dock",
        KeyType::Field(FieldType::Str),
        true,
        KeyDefault::None,
        None,
        "Name of the dock whose provider hosts the zone."
    ),
    table_key!(
        "protect",
        KeyType::Field(FieldType::Bool),
        false,
        KeyDefault::Bool(false),
        None,
        "Never delete this zone, even with `prune = true`; persists after the entry is removed."
    ),
    table_key!(
        "records",
        KeyType::Records,
        false,
        KeyDefault::None,
        None,
        "The zone's records, one `[[domains.\"<zone>\".records]]` table each. Records in the zone that no entry declares are reported as unmanaged and never touched."
    ),
];

/// Keys of one DNS record, `[[domains."<zone>".records]]`.
pub const RECORD_KEYS: &[TableKey] = &[
    table_key!(
        "name",
        KeyType::Field(FieldType::Str),
        true,
        KeyDefault::None,
        None,
        "`@` for the apex, a name relative to the zone (`www`, `_dmarc`, `*.api`), or an absolute name with its trailing dot (`www.example.com.`); never the zone repeated without the dot."
    ),
    table_key!(
        "type",
        KeyType::Field(FieldType::Str),
        true,
        KeyDefault::None,
        None,
        "Record type, upper case; each provider hosts some of them (see the table below)."
    ),
    table_key!(
        "value",
        KeyType::RecordValue,
        true,
        KeyDefault::None,
        None,
        "A: an IPv4 address; AAAA: an IPv6 address; either may be `{ server = \"<name>\" }` to follow `servers.<name>` (A: its primary IPv4, AAAA: its IPv6). CNAME, MX, NS, SRV, PTR: a host name (the trailing dot is optional). TXT: a string of at most 255 characters, or an array of such strings. CAA: the property value (`letsencrypt.org`)."
    ),
    table_key!(
        "ttl",
        KeyType::Field(FieldType::Int),
        false,
        KeyDefault::None,
        None,
        "Time to live in seconds, at least the provider's minimum (see the table below); absent: the provider's default. Cloudflare: `ttl = 1` (or no `ttl`) is automatic, stored as no TTL; a proxied record's TTL is always automatic."
    ),
    table_key!(
        "priority",
        KeyType::Field(FieldType::Int),
        false,
        KeyDefault::None,
        None,
        "MX and SRV (required there): 0 to 65535, lower is preferred."
    ),
    table_key!(
        "weight",
        KeyType::Field(FieldType::Int),
        false,
        KeyDefault::None,
        None,
        "SRV (required there): 0 to 65535."
    ),
    table_key!(
        "port",
        KeyType::Field(FieldType::Int),
        false,
        KeyDefault::None,
        None,
        "SRV (required there): 0 to 65535."
    ),
    table_key!(
        "flags",
        KeyType::Field(FieldType::Int),
        false,
        KeyDefault::None,
        None,
        "CAA: 0 to 255 (default 0; 128 marks the property critical)."
    ),
    table_key!(
        "tag",
        KeyType::Field(FieldType::Str),
        false,
        KeyDefault::None,
        None,
        "CAA (required there): `issue`, `issuewild` or `iodef`."
    ),
    table_key!(
        "proxied",
        KeyType::Field(FieldType::Bool),
        false,
        KeyDefault::Bool(false),
        None,
        "Cloudflare only, A, AAAA and CNAME only: answer with Cloudflare's addresses and send the traffic through its proxy (changed in place). A proxied record's TTL is automatic, so it takes no `ttl`."
    ),
];

/// Which record types take a record key beyond `name`, `type`, `value` and `ttl`, and whether
/// they require it: `(key, types, required)`.
pub const RECORD_TYPE_KEYS: &[(&str, &[&str], bool)] = &[
    ("priority", &["MX", "SRV"], true),
    ("weight", &["SRV"], true),
    ("port", &["SRV"], true),
    ("flags", &["CAA"], false),
    ("tag", &["CAA"], true),
    ("proxied", &["A", "AAAA", "CNAME"], false),
];

/// The range of each integer record key: `(key, min, max)`. A TTL is 31 bits (RFC 2181 §8), and
/// its provider's minimum is checked beside this; priority, weight and port are 16 bits (RFC 2782),
/// CAA flags 8 (RFC 8659).
pub const RECORD_INT_RANGES: &[(&str, i64, i64)] = &[
    ("ttl", 1, 2_147_483_647),
    ("priority", 0, 65_535),
    ("weight", 0, 65_535),
    ("port", 0, 65_535),
    ("flags", 0, 255),
];

/// The CAA property tags (RFC 8659 §4).
pub const CAA_TAGS: [&str; 3] = ["issue", "issuewild", "iodef"];

/// The closed set of values a string key takes, if it has one.
pub fn allowed_values(key: &str) -> Option<Vec<&'static str>> {
    match key {
        "drift" => Some(vec!["flag", "remediate"]),
        "power" => Some(vec!["on", "off"]),
        "on" => Some(super::NotifyOn::ALL.map(super::NotifyOn::as_str).to_vec()),
        "provider" => Some(ProviderKind::ALL.map(ProviderKind::as_str).to_vec()),
        "type" => Some(crate::dns::RECORD_TYPES.to_vec()),
        "tag" => Some(CAA_TAGS.to_vec()),
        // Cloudflare R2 ([cf-go] r2/bucket.go `BucketNewParamsCfR2Jurisdiction`).
        "jurisdiction" => Some(vec!["default", "eu", "fedramp"]),
        _ => None,
    }
}

/// Keys of `kind` of which exactly one must be given.
pub fn exactly_one_of(kind: Kind) -> Option<&'static [&'static str]> {
    match kind {
        Kind::Buckets => Some(&["region", "cluster"]),
        _ => None,
    }
}

/// Whether a resource key holds a size that must be positive (every integer key does today).
pub fn positive(ty: FieldType) -> bool {
    ty == FieldType::Int
}

/// The names of a key table.
pub fn names(keys: &[TableKey]) -> Vec<&'static str> {
    keys.iter().map(|k| k.key).collect()
}
