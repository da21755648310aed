//! The DynamoDB table layout, as public constants the SAM template (`infra/template.yaml`) mirrors,
//! and `create_tables` for local use (moto, a developer account). Production tables come from the
//! template; a test in this module keeps the constants and the layout in one piece.
//!
//! Every table is named `<prefix>-<table>`; attribute names are the records' JSON names.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};

use super::error::{Class, build_failed, classify};
use crate::StoreError;

/// The universal tables, one per kind (the same names as `Kind::table()`).
pub const RECORD_TABLES: [&str; 7] = [
    "servers",
    "blockVolumes",
    "buckets",
    "databases",
    "webServices",
    "domains",
    "domainRecords",
];
/// Partition key of the universal tables.
pub const DOCK_ID: &str = "dockId";
/// Sort key of the universal tables.
pub const PROVIDER_RESOURCE_ID: &str = "providerResourceId";
/// The org attribute: partition key of `docks`, `runs`, `intents`, and of [`ORG_INDEX`].
pub const ORG_ID: &str = "orgId";
/// The global secondary index of every universal table: partition key [`ORG_ID`], projecting
/// the keys and [`INDEX_ATTRIBUTES`] (`INCLUDE`), not `ALL`: every record's `fullApiData` (the
/// bulk of it, up to 64 KiB) is not stored a second time. The org inventory reads records from
/// it, then their `fullApiData` by key.
pub const ORG_INDEX: &str = "orgId-index";

/// The non-key attributes [`ORG_INDEX`] projects: every record attribute of every kind but
/// `fullApiData` and `provisioningError`, which are read by key (the SAM template's
/// `NonKeyAttributes` must equal it; a test reads the template).
pub const INDEX_ATTRIBUTES: [&str; 64] = [
    "provider",
    "name",
    "status",
    "region",
    "updatedAt",
    "missingSince",
    "contentHash",
    "fullApiDataTruncated",
    "managedBy",
    "provisioningSource",
    "provisioningState",
    "provisionedAt",
    "protect",
    "drift",
    "applied",
    "instanceType",
    "ipAddress",
    "image",
    "tags",
    "sizeGb",
    "attachedToInstance",
    "attachedToInstanceLabel",
    "mountId",
    "blockType",
    "filesystemType",
    "cluster",
    "hostname",
    "s3Endpoint",
    "sizeBytes",
    "objectCount",
    "engine",
    "version",
    "host",
    "port",
    "subtype",
    "productionUrl",
    "defaultUrl",
    "customDomains",
    "repo",
    "framework",
    "providerStatus",
    "lastDeployAt",
    "lastDeployId",
    "lastCommitSha",
    "envVarNames",
    "build",
    "expiresAt",
    "zoneName",
    "dnsHosted",
    "assignedNameservers",
    "registrar",
    "recordsCount",
    "recordsDigest",
    "zone",
    "fqdn",
    "type",
    "value",
    "ttl",
    "priority",
    "weight",
    "flags",
    "tag",
    "proxied",
    "managed",
];

/// Per-dock sync status: partition key [`ORG_ID`], sort key [`DOCK_ID`].
pub const DOCKS: &str = "docks";
/// Run records (the audit log): partition key [`ORG_ID`], sort key [`RUN_ID`]; TTL [`TTL`];
/// the [`RUNS_INDEX`].
pub const RUNS: &str = "runs";
/// The global secondary index of `runs` that lists an org's runs newest first: partition key
/// [`ORG_ID`], sort key [`STARTED_KEY`], projection `ALL`. Only run headers carry
/// [`STARTED_KEY`], so the index holds no chunk (it is sparse) and a page is a page of runs.
pub const RUNS_INDEX: &str = "orgId-startedKey-index";
/// A run header's start and id, `<RFC 3339 with nine fractional digits>#<run id>`: text order is
/// (start, id) order.
pub const STARTED_KEY: &str = "startedKey";
/// Sort key of `runs`.
pub const RUN_ID: &str = "runId";
/// Leases: partition key [`LEASE_NAME`]; TTL [`TTL`].
pub const LOCKS: &str = "locks";
/// Partition key of `locks`.
pub const LEASE_NAME: &str = "name";
/// Create intents: partition key [`ORG_ID`], sort key [`ADDRESS`].
pub const INTENTS: &str = "intents";
/// Sort key of `intents`.
pub const ADDRESS: &str = "address";
/// The TTL attribute of `runs` and `locks`: epoch seconds of the item's `expiresAt`.
pub const TTL: &str = "ttl";

/// One table's key schema and options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's name without the prefix (`servers`, `runs`, …).
    pub table: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
    /// Whether the table has the [`ORG_INDEX`] global secondary index.
    pub org_index: bool,
    /// Whether TTL is enabled on [`TTL`].
    pub ttl: bool,
    /// Whether the table has the [`RUNS_INDEX`] (only `runs`).
    pub runs_index: bool,
}

const fn record_table(table: &'static str) -> TableSpec {
    TableSpec {
        table,
        partition_key: DOCK_ID,
        sort_key: Some(PROVIDER_RESOURCE_ID),
        org_index: true,
        ttl: false,
        runs_index: false,
    }
}

/// Every table StackDock uses. All keys are strings (`S`); billing is on demand.
pub const TABLES: [TableSpec; 11] = [
    record_table(RECORD_TABLES[0]),
    record_table(RECORD_TABLES[1]),
    record_table(RECORD_TABLES[2]),
    record_table(RECORD_TABLES[3]),
    record_table(RECORD_TABLES[4]),
    record_table(RECORD_TABLES[5]),
    record_table(RECORD_TABLES[6]),
    TableSpec {
        table: DOCKS,
        partition_key: ORG_ID,
        sort_key: Some(DOCK_ID),
        org_index: false,
        ttl: false,
        runs_index: false,
    },
    TableSpec {
        table: RUNS,
        partition_key: ORG_ID,
        sort_key: Some(RUN_ID),
        org_index: false,
        ttl: true,
        runs_index: true,
    },
    TableSpec {
        table: LOCKS,
        partition_key: LEASE_NAME,
        sort_key: None,
        org_index: false,
        ttl: true,
        runs_index: false,
    },
    TableSpec {
        table: INTENTS,
        partition_key: ORG_ID,
        sort_key: Some(ADDRESS),
        org_index: false,
        ttl: false,
        runs_index: false,
    },
];

/// `<prefix>-<table>`.
pub fn table_name(prefix: &str, table: &str) -> String {
    format!("{prefix}-{table}")
}

/// How long `create_tables` waits for one table to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// Creates every table of `prefix` that does not exist (on demand billing, TTL where stated) and
/// waits until all are ACTIVE; returns their names. Existing tables are left as they are.
pub(crate) async fn create_all(client: &Client, prefix: &str) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::with_capacity(TABLES.len());
    for spec in &TABLES {
        let name = table_name(prefix, spec.table);
        create(client, &name, spec).await?;
        names.push(name);
    }
    for (spec, name) in TABLES.iter().zip(&names) {
        wait_active(client, name).await?;
        if spec.ttl {
            enable_ttl(client, name).await?;
        }
    }
    Ok(names)
}

async fn create(client: &Client, name: &str, spec: &TableSpec) -> Result<(), StoreError> {
    let context = format!("{name}: create table");
    let key = |attribute: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(key_type)
            .build()
            .map_err(|e| build_failed(&context, e))
    };
    let string = |attribute: &str| {
        AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| build_failed(&context, e))
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.partition_key, KeyType::Hash)?)
        .attribute_definitions(string(spec.partition_key)?);
    if let Some(sort_key) = spec.sort_key {
        request = request
            .key_schema(key(sort_key, KeyType::Range)?)
            .attribute_definitions(string(sort_key)?);
    }
    if spec.org_index {
        let index = GlobalSecondaryIndex::builder()
            .index_name(ORG_INDEX)
            .key_schema(key(ORG_ID, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::Include)
                    .set_non_key_attributes(Some(
                        INDEX_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect(),
                    ))
                    .build(),
            )
            .build()
            .map_err(|e| build_failed(&context, e))?;
        request = request
            .attribute_definitions(string(ORG_ID)?)
            .global_secondary_indexes(index);
    }
    if spec.runs_index {
        let index = GlobalSecondaryIndex::builder()
            .index_name(RUNS_INDEX)
            .key_schema(key(ORG_ID, KeyType::Hash)?)
            .key_schema(key(STARTED_KEY, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| build_failed(&context, e))?;
        request = request
            .attribute_definitions(string(STARTED_KEY)?)
            .global_secondary_indexes(index);
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(error) => {
            let failure = classify(context, error);
            if failure.class == Class::TableExists {
                return Ok(());
            }
            Err(failure.into())
        }
    }
}

async fn wait_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let context = format!("{name}: wait until the table is ACTIVE");
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| classify(context.as_str(), e))?;
        let status = described
            .table
            .as_ref()
            .and_then(|t| t.table_status.clone());
        let indexes_active = described.table.as_ref().is_some_and(|table| {
            table.global_secondary_indexes().iter().all(|index| {
                index
                    .index_status
                    .as_ref()
                    .is_none_or(|s| *s == IndexStatus::Active)
            })
        });
        if status == Some(TableStatus::Active) && indexes_active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Backend(format!(
                "{context}: still {status:?} after {ACTIVE_TIMEOUT:?}; check the table in the \
                 console"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn enable_ttl(client: &Client, name: &str) -> Result<(), StoreError> {
    let context = format!("{name}: enable TTL on `{TTL}`");
    // Enabling TTL twice is a ValidationException: look first, so a re-run is a no-op.
    let described = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| classify(context.as_str(), e))?;
    let status = described
        .time_to_live_description
        .and_then(|d| d.time_to_live_status);
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL)
        .build()
        .map_err(|e| build_failed(&context, e))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| classify(context.as_str(), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use stackdock_core::Kind;

    use super::*;

    #[test]
    fn record_tables_are_the_kinds_tables() {
        let mut kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.table()).collect();
        let mut tables = RECORD_TABLES.to_vec();
        kinds.sort_unstable();
        tables.sort_unstable();
        assert_eq!(kinds, tables);
    }

    #[test]
    fn the_index_projects_every_record_attribute_but_the_keys_and_full_api_data() {
        let mut attributes = std::collections::BTreeSet::new();
        for kind in Kind::ALL {
            let record = stackdock_core::Record::new(
                "o",
                "o/d",
                stackdock_core::ProviderKind::Vultr,
                kind,
                "i",
                "n",
            );
            let json = serde_json::to_value(&record).expect("a record serializes");
            let fields = json.as_object().expect("an object");
            attributes.extend(fields.keys().cloned());
        }
        // `provisioningError`, like `fullApiData`, is read by key: records found through the
        // index are read whole (`records::inventory`), so an index created before it existed
        // needs no rebuild and `tables upgrade` nothing new.
        for excluded in [
            DOCK_ID,
            PROVIDER_RESOURCE_ID,
            ORG_ID,
            "kind",
            "fullApiData",
            "provisioningError",
        ] {
            attributes.remove(excluded);
        }
        let projected: std::collections::BTreeSet<String> =
            INDEX_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect();
        assert_eq!(projected, attributes);
        assert_eq!(
            projected.len(),
            INDEX_ATTRIBUTES.len(),
            "no attribute twice"
        );
        // DynamoDB: at most 100 projected non-key attributes over a table's indexes.
        assert!(INDEX_ATTRIBUTES.len() <= 100);
    }

    #[test]
    fn table_names_are_prefixed_and_unique() {
        let mut names: Vec<String> = TABLES.iter().map(|t| table_name("sd", t.table)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        assert!(names.contains(&"sd-blockVolumes".to_owned()));
    }
}
