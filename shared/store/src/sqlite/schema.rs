//! The SQLite schema: versioned migrations (`PRAGMA user_version`) and the columns of the universal
//! tables, derived from the serialized shape of `Record` so that one mapping serves every kind.
//!
//! It owns table layout only; what is written when is decided in `records`, `sync` and friends.

use std::collections::BTreeMap;

use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;
use stackdock_core::{ApiData, Kind, ProviderKind, Record};

use super::error::sql;
use crate::StoreError;

/// Migrations in order; `PRAGMA user_version` is the number applied. Each is frozen once released:
/// a change of layout is a new entry, never an edit.
///
/// The universal tables are created with their identity columns only; every other column is
/// derived from `Record`'s JSON (see [`Layout`]) and added by [`ensure_record_columns`]. That keeps
/// one generic mapping for every kind, and a new optional `Record` field needs no migration. A
/// rename or removal of a field does: it goes here.
const MIGRATIONS: &[&str] = &[
    // 1: universal tables, docks, runs, locks, intents.
    r#"
    CREATE TABLE servers (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX servers_orgId ON servers (orgId);
    CREATE TABLE blockVolumes (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX blockVolumes_orgId ON blockVolumes (orgId);
    CREATE TABLE buckets (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX buckets_orgId ON buckets (orgId);
    CREATE TABLE databases (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX databases_orgId ON databases (orgId);
    CREATE TABLE webServices (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX webServices_orgId ON webServices (orgId);
    CREATE TABLE domains (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX domains_orgId ON domains (orgId);

    CREATE TABLE docks (
        orgId TEXT NOT NULL,
        dockId TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        provider TEXT NOT NULL,
        lastSyncAt TEXT,
        lastAttemptAt TEXT,
        lastError TEXT);
    CREATE INDEX docks_orgId ON docks (orgId);

    -- startedAt, expiresAt: RFC 3339 with nine fractional digits, so text order is time order.
    CREATE TABLE runs (
        runId TEXT NOT NULL PRIMARY KEY,
        orgId TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        startedAt TEXT NOT NULL,
        finishedAt TEXT,
        body TEXT NOT NULL,
        expiresAt TEXT);
    CREATE INDEX runs_orgId_startedAt ON runs (orgId, startedAt);

    -- acquiredAt, expiresAt: fixed-width RFC 3339, compared as text in the lease upsert.
    CREATE TABLE locks (
        name TEXT NOT NULL PRIMARY KEY,
        owner TEXT NOT NULL,
        acquiredAt TEXT NOT NULL,
        expiresAt TEXT NOT NULL);

    CREATE TABLE intents (
        orgId TEXT NOT NULL,
        address TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (orgId, address));
    "#,
    // 2: the provider's catalog on the dock status (issue 19, item 4; its shared form since
    // issue 21 part 5).
    r#"
    ALTER TABLE docks ADD COLUMN catalog TEXT;
    "#,
    // 3: DNS records, one row per record in their own universal table (issue 17).
    r#"
    CREATE TABLE domainRecords (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX domainRecords_orgId ON domainRecords (orgId);
    "#,
    // 4: the universal webServices record (issue 18) replaces the placeholder's `environment`
    // and `gitRepo` columns. No provider ever wrote a web service before it, so the table is
    // recreated empty (its columns are then added from the record as for every table).
    r#"
    DROP TABLE webServices;
    CREATE TABLE webServices (
        orgId TEXT NOT NULL, dockId TEXT NOT NULL, providerResourceId TEXT NOT NULL,
        PRIMARY KEY (dockId, providerResourceId));
    CREATE INDEX webServices_orgId ON webServices (orgId);
    "#,
    // 5: fingerprints of the values web services' environment variables resolve to, on the dock
    // status (issue 18; JSON, address -> entry -> fingerprint; never a value).
    r#"
    ALTER TABLE docks ADD COLUMN envFingerprints TEXT;
    "#,
];

/// The schema version this build writes and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings a database up to [`SCHEMA_VERSION`], or refuses one written by a newer StackDock.
///
/// Runs in one immediate transaction, so two processes opening the same new file do not both
/// migrate: the second waits (busy timeout) and then sees the version the first wrote.
pub(crate) fn migrate(conn: &mut Connection, layout: &Layout) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("schema: begin migration"))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql("schema: read user_version"))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {version}, newer than the {SCHEMA_VERSION} this \
             StackDock understands; upgrade the stackdock binary (or point it at another database)"
        )));
    }
    let start = usize::try_from(version).map_err(|_| {
        StoreError::Corrupt(format!(
            "the database has a negative schema version {version}"
        ))
    })?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(start) {
        let number = index + 1;
        tx.execute_batch(migration)
            .map_err(|e| StoreError::Backend(format!("schema: apply migration {number}: {e}")))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(sql("schema: write user_version"))?;
    ensure_record_columns(&tx, layout)?;
    tx.commit().map_err(sql("schema: commit migration"))
}

/// Adds every column `Record` serializes that a universal table lacks (additive only).
fn ensure_record_columns(conn: &Connection, layout: &Layout) -> Result<(), StoreError> {
    for kind in Kind::ALL {
        let table = kind.table();
        let existing = table_columns(conn, table)?;
        for column in layout.columns(kind) {
            if existing.iter().any(|name| name == &column.name) {
                continue;
            }
            let ddl = format!(
                "ALTER TABLE {} ADD COLUMN {} {}",
                quote(table),
                quote(&column.name),
                column.codec.declared_type()
            );
            conn.execute(&ddl, [])
                .map_err(sql(&format!("{table}: add column `{}`", column.name)))?;
        }
    }
    Ok(())
}

/// The column names of a table, in declaration order.
pub(crate) fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote(table)))
        .map_err(sql(&format!("{table}: read columns")))?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>("name"))
        .map_err(sql(&format!("{table}: read columns")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql(&format!("{table}: read columns")))?;
    Ok(names)
}

/// Quotes an SQL identifier. Our identifiers are camelCase field names (never user input), but
/// quoting keeps names like `version` or `port` from ever meaning a keyword.
pub(crate) fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// How a JSON attribute of a record is kept in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// Strings, numbers and timestamps as themselves (text, integer, real), so plain SQL reads them.
    Scalar,
    /// Lists and objects (`tags`, `fullApiData`, `drift`, `applied`) as JSON text.
    Json,
    /// Booleans (`protect`) as 0/1.
    Bool,
}

impl Codec {
    /// Column type. Scalar columns are untyped (no affinity) so a number stays a number and a
    /// string a string, exactly as serialized.
    fn declared_type(self) -> &'static str {
        match self {
            Codec::Scalar => "",
            Codec::Json => "TEXT",
            Codec::Bool => "INTEGER",
        }
    }
}

/// One column of a universal table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// The record's JSON attribute name, which is the column name.
    pub(crate) name: String,
    pub(crate) codec: Codec,
}

/// The columns of every universal table, derived once per store from `Record`'s serialization.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    tables: BTreeMap<Kind, Vec<Column>>,
    /// Each table's upsert statement, built once (a sync runs it for every changed record).
    upserts: BTreeMap<Kind, String>,
    /// Each table's sync upsert: inserts a new record whole, but on an existing one sets only the
    /// observed columns, leaving the apply-owned ones (`crate::APPLY_OWNED`) as they are.
    observed_upserts: BTreeMap<Kind, String>,
    /// Each table's quoted column list for a SELECT, in `columns` order, built once (a sync reads
    /// every record it rewrites by key).
    selects: BTreeMap<Kind, String>,
}

impl Layout {
    /// Serializes an empty record of each kind and takes its attribute names as columns, and the
    /// JSON type of each value as its codec. `fullApiData` is set to an object first: its default
    /// is `null`, which would not tell it apart from an unset scalar.
    pub(crate) fn derive() -> Result<Layout, StoreError> {
        let mut tables: BTreeMap<Kind, Vec<Column>> = BTreeMap::new();
        for kind in Kind::ALL {
            let mut sample = Record::new("", "", ProviderKind::Vultr, kind, "", "");
            sample.full_api_data = ApiData::from_value(&Value::Object(serde_json::Map::new()));
            let json = serde_json::to_value(&sample).map_err(|e| {
                StoreError::Backend(format!("{}: serialize a sample record: {e}", kind.table()))
            })?;
            let Value::Object(fields) = json else {
                return Err(StoreError::Backend(format!(
                    "{}: a record does not serialize to a JSON object",
                    kind.table()
                )));
            };
            let columns = fields
                .into_iter()
                // `kind` is the table itself.
                .filter(|(name, _)| name != KIND_ATTRIBUTE)
                .map(|(name, value)| Column {
                    name,
                    codec: match value {
                        Value::Array(_) | Value::Object(_) => Codec::Json,
                        Value::Bool(_) => Codec::Bool,
                        Value::Null | Value::Number(_) | Value::String(_) => Codec::Scalar,
                    },
                })
                .collect::<Vec<Column>>();
            // By name: `row` finds an attribute's column by binary search.
            let mut columns = columns;
            columns.sort_by(|a, b| a.name.cmp(&b.name));
            tables.insert(kind, columns);
        }
        let selects: BTreeMap<Kind, String> = tables
            .iter()
            .map(|(kind, columns)| {
                let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
                (*kind, names.join(", "))
            })
            .collect();
        let statements = |observed_only: bool| {
            tables
                .iter()
                .map(|(kind, columns)| {
                    let list = selects.get(kind).map_or("", String::as_str);
                    let sql = upsert_statement(kind.table(), columns, list, observed_only);
                    (*kind, sql)
                })
                .collect::<BTreeMap<Kind, String>>()
        };
        Ok(Layout {
            upserts: statements(false),
            observed_upserts: statements(true),
            tables,
            selects,
        })
    }

    /// The quoted column list of a kind's table, in [`Layout::columns`] order.
    pub(crate) fn select_list(&self, kind: Kind) -> &str {
        self.selects.get(&kind).map_or("", String::as_str)
    }

    /// The statement that inserts a record of `kind`, or replaces the stored one with the same key.
    pub(crate) fn upsert_sql(&self, kind: Kind) -> &str {
        self.upserts.get(&kind).map_or("", String::as_str)
    }

    /// The sync's upsert of a record of `kind`: a new one whole, an existing one's observed half.
    pub(crate) fn observed_upsert_sql(&self, kind: Kind) -> &str {
        self.observed_upserts.get(&kind).map_or("", String::as_str)
    }

    /// The columns of a kind's table (every kind has an entry: `derive` fills all of `Kind::ALL`).
    pub(crate) fn columns(&self, kind: Kind) -> &[Column] {
        self.tables.get(&kind).map_or(&[], Vec::as_slice)
    }
}

/// The upsert of a table with `columns`, whose quoted list is `list`.
fn upsert_statement(table: &str, columns: &[Column], list: &str, observed_only: bool) -> String {
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| c.name != "dockId" && c.name != "providerResourceId")
        .filter(|c| !observed_only || crate::rules::is_observed(&c.name))
        .map(|c| format!("{0} = excluded.{0}", quote(&c.name)))
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (\"dockId\", \"providerResourceId\") \
         DO UPDATE SET {}",
        quote(table),
        list,
        placeholders.join(", "),
        updates.join(", ")
    )
}

/// The tag attribute of `Attrs`: implied by the table, not stored as a column.
pub(crate) const KIND_ATTRIBUTE: &str = "kind";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_has_the_design_columns_with_their_codecs() {
        let layout = Layout::derive().expect("layout");
        let find = |kind: Kind, name: &str| {
            layout
                .columns(kind)
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.codec)
        };
        for kind in Kind::ALL {
            for name in [
                "orgId",
                "dockId",
                "provider",
                "providerResourceId",
                "name",
                "status",
                "region",
                "updatedAt",
                "missingSince",
                "contentHash",
                "managedBy",
                "provisioningSource",
                "provisioningState",
                "provisionedAt",
            ] {
                assert_eq!(find(kind, name), Some(Codec::Scalar), "{kind}: {name}");
            }
            for name in ["fullApiData", "drift", "applied"] {
                assert_eq!(find(kind, name), Some(Codec::Json), "{kind}: {name}");
            }
            assert_eq!(find(kind, "protect"), Some(Codec::Bool), "{kind}: protect");
            assert_eq!(find(kind, "kind"), None, "{kind}: kind is the table");
        }
        assert_eq!(find(Kind::Servers, "tags"), Some(Codec::Json));
        assert_eq!(find(Kind::Servers, "instanceType"), Some(Codec::Scalar));
        assert_eq!(find(Kind::BlockVolumes, "sizeGb"), Some(Codec::Scalar));
        assert_eq!(find(Kind::Buckets, "s3Endpoint"), Some(Codec::Scalar));
        assert_eq!(find(Kind::Databases, "port"), Some(Codec::Scalar));
        assert_eq!(
            find(Kind::WebServices, "productionUrl"),
            Some(Codec::Scalar)
        );
        assert_eq!(find(Kind::WebServices, "repo"), Some(Codec::Json));
        assert_eq!(find(Kind::WebServices, "build"), Some(Codec::Json));
        assert_eq!(find(Kind::WebServices, "envVarNames"), Some(Codec::Json));
        assert_eq!(find(Kind::WebServices, "gitRepo"), None);
        assert_eq!(find(Kind::Domains, "expiresAt"), Some(Codec::Scalar));
        assert_eq!(find(Kind::Domains, "tags"), None);
        assert_eq!(find(Kind::DomainRecords, "type"), Some(Codec::Scalar));
        assert_eq!(find(Kind::DomainRecords, "ttl"), Some(Codec::Scalar));
        assert_eq!(find(Kind::DomainRecords, "proxied"), Some(Codec::Bool));
        assert_eq!(find(Kind::DomainRecords, "managed"), Some(Codec::Bool));
    }
}
