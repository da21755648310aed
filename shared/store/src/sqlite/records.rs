//! Universal records in their SQLite tables: one generic mapping between a `Record`'s JSON and a
//! row (column = attribute), and the reads and upserts built on it.
//!
//! It never decides whether a record should be written; `sync` and `put_records` do.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Row, params_from_iter};
use serde_json::{Map, Value};
use stackdock_core::record::RecordKey;
use stackdock_core::{ApiData, Kind, Record};

use super::error::{sql, unreadable};
use super::schema::{Codec, Column, KIND_ATTRIBUTE, Layout, quote};
use super::timestamp;
use crate::StoreError;
use crate::rules::Seen;

/// Every record of `org` (or of one of its docks), sorted by (dock, kind, provider id).
pub(crate) fn inventory(
    conn: &Connection,
    layout: &Layout,
    org: &str,
    dock_id: Option<&str>,
) -> Result<Vec<Record>, StoreError> {
    let mut records = Vec::new();
    for kind in Kind::ALL {
        match dock_id {
            Some(dock) => records.extend(select(
                conn,
                layout,
                kind,
                "\"orgId\" = ?1 AND \"dockId\" = ?2",
                &[org, dock],
            )?),
            None => records.extend(select(conn, layout, kind, "\"orgId\" = ?1", &[org])?),
        }
    }
    records.sort_by_key(Record::key);
    Ok(records)
}

/// At most `limit` records of `org` of `kind` on a dock, with ids above `after`, in id order: the
/// read of one step of an inventory page.
pub(crate) fn after(
    conn: &Connection,
    layout: &Layout,
    org: &str,
    kind: Kind,
    dock_id: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Record>, StoreError> {
    let condition = format!(
        "\"orgId\" = ?1 AND \"dockId\" = ?2 AND \"providerResourceId\" > ?3 ORDER BY \"providerResourceId\" LIMIT {limit}"
    );
    select(
        conn,
        layout,
        kind,
        &condition,
        &[org, dock_id, after.unwrap_or("")],
    )
}

/// One record by key.
pub(crate) fn get(
    conn: &Connection,
    layout: &Layout,
    key: &RecordKey,
) -> Result<Option<Record>, StoreError> {
    get_in_dock(
        conn,
        layout,
        key.kind,
        &key.dock_id,
        &key.provider_resource_id,
    )
}

/// The record of `kind` with provider id `id` on a dock.
pub(crate) fn get_in_dock(
    conn: &Connection,
    layout: &Layout,
    kind: Kind,
    dock_id: &str,
    id: &str,
) -> Result<Option<Record>, StoreError> {
    let mut found = select(
        conn,
        layout,
        kind,
        "\"dockId\" = ?1 AND \"providerResourceId\" = ?2",
        &[dock_id, id],
    )?;
    Ok(found.pop())
}

/// What the sync rules read of the stored records of one kind on one dock, by provider id: five
/// columns per row, no record built.
pub(crate) fn load_seen(
    conn: &Connection,
    kind: Kind,
    dock_id: &str,
) -> Result<BTreeMap<String, Seen>, StoreError> {
    let table = kind.table();
    let context = format!("{table}: read the stored records of dock `{dock_id}`");
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT \"providerResourceId\", \"contentHash\", \"missingSince\", \"updatedAt\", \
             \"region\" FROM {} WHERE \"dockId\" = ?1",
            quote(table)
        ))
        .map_err(sql(&context))?;
    let mut rows = stmt.query([dock_id]).map_err(sql(&context))?;
    let mut seen = BTreeMap::new();
    while let Some(row) = rows.next().map_err(sql(&context))? {
        // `whose`: the record the value belongs to, once its id is read.
        let text =
            |index: usize, column: &str, whose: &str| -> Result<Option<String>, StoreError> {
                row.get::<_, Option<String>>(index).map_err(|e| {
                    StoreError::Corrupt(format!(
                        "{table}: {whose} of dock `{dock_id}`: column `{column}`: {e}"
                    ))
                })
            };
        let id = text(0, "providerResourceId", "a record")?.unwrap_or_default();
        let whose = format!("`{id}`");
        let text = |index: usize, column: &str| text(index, column, &whose);
        let time = |index: usize, column: &str| -> Result<Option<Timestamp>, StoreError> {
            text(index, column)?
                .map(|t| timestamp::parse(&t, &format!("{table}: `{id}`: column `{column}`")))
                .transpose()
        };
        let entry = Seen {
            content_hash: text(1, "contentHash")?.unwrap_or_default(),
            missing_since: time(2, "missingSince")?,
            updated_at: time(3, "updatedAt")?,
            region: text(4, "region")?,
        };
        seen.insert(id, entry);
    }
    Ok(seen)
}

/// Inserts or replaces a record exactly as given, in the table of its kind. Takes the record by
/// value: its `fullApiData` moves into the row instead of being copied.
pub(crate) fn upsert(conn: &Connection, layout: &Layout, record: Record) -> Result<(), StoreError> {
    RowWriter::new(conn, layout, false).write(prepare(layout, record))
}

/// Sets `missingSince` of a stored record, nothing else.
pub(crate) fn mark_missing(
    conn: &Connection,
    kind: Kind,
    dock_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let table = kind.table();
    let context = format!("{table}: mark `{id}` on dock `{dock_id}` missing");
    conn.prepare_cached(&format!(
        "UPDATE {} SET \"missingSince\" = ?1 WHERE \"dockId\" = ?2 AND \"providerResourceId\" = ?3",
        quote(table)
    ))
    .map_err(sql(&context))?
    .execute(rusqlite::params![now.to_string(), dock_id, id])
    .map_err(sql(&context))?;
    Ok(())
}

/// Upserts the observed half of many records (a sync's changed ones): new records are inserted
/// whole, stored ones keep their apply-owned columns. From [`PARALLEL_ROWS`] on, the rows are built on
/// a second thread while this one writes them: SQLite has one writer, and building a row (its
/// attributes as SQL values) costs about as much as writing it, so the other core would idle.
pub(crate) fn upsert_all(
    conn: &Connection,
    layout: &Layout,
    records: Vec<Record>,
) -> Result<(), StoreError> {
    let mut writer = RowWriter::new(conn, layout, true);
    if records.len() < PARALLEL_ROWS {
        return records
            .into_iter()
            .try_for_each(|record| writer.write(prepare(layout, record)));
    }
    std::thread::scope(|scope| {
        let (rows, built) = std::sync::mpsc::sync_channel::<Prepared>(256);
        scope.spawn(move || {
            for record in records {
                // The writer stops at its first failure and drops its end: stop too.
                if rows.send(prepare(layout, record)).is_err() {
                    break;
                }
            }
        });
        built.iter().try_for_each(|row| writer.write(row))
    })
}

/// Batches from this size build their rows on a second thread (a thread costs tens of
/// microseconds; a row a few).
const PARALLEL_ROWS: usize = 512;

/// A record made ready for its table: its key for messages, and its column values.
struct Prepared {
    kind: Kind,
    id: String,
    dock: String,
    values: Result<Vec<SqlValue>, StoreError>,
}

fn prepare(layout: &Layout, record: Record) -> Prepared {
    let kind = record.kind();
    let (id, dock) = (
        record.provider_resource_id.to_string(),
        record.dock_id.to_string(),
    );
    Prepared {
        kind,
        values: to_row(kind.table(), layout.columns(kind), record),
        id,
        dock,
    }
}

/// Writes prepared rows, keeping the upsert statement of the kind last written: rows come in
/// runs of one kind, and looking a statement up in the cache hashes its whole SQL text.
struct RowWriter<'c> {
    conn: &'c Connection,
    layout: &'c Layout,
    statement: Option<(Kind, rusqlite::CachedStatement<'c>)>,
    /// Whether an existing row keeps its apply-owned columns (a sync's write).
    observed_only: bool,
}

impl<'c> RowWriter<'c> {
    fn new(conn: &'c Connection, layout: &'c Layout, observed_only: bool) -> RowWriter<'c> {
        RowWriter {
            conn,
            layout,
            statement: None,
            observed_only,
        }
    }

    fn write(&mut self, row: Prepared) -> Result<(), StoreError> {
        let Prepared {
            kind,
            id,
            dock,
            values,
        } = row;
        let values = values?;
        let context = || format!("{}: upsert `{id}` on dock `{dock}`", kind.table());
        let statement = match &mut self.statement {
            Some((cached, statement)) if *cached == kind => statement,
            slot => {
                let sql_text = if self.observed_only {
                    self.layout.observed_upsert_sql(kind)
                } else {
                    self.layout.upsert_sql(kind)
                };
                let statement = self
                    .conn
                    .prepare_cached(sql_text)
                    .map_err(|e| sql(&context())(e))?;
                &mut slot.insert((kind, statement)).1
            }
        };
        statement
            .execute(params_from_iter(values))
            .map_err(|e| sql(&context())(e))?;
        Ok(())
    }
}

/// Records of `kind` matching an SQL condition over `params` (?1, ?2, …).
fn select(
    conn: &Connection,
    layout: &Layout,
    kind: Kind,
    condition: &str,
    params: &[&str],
) -> Result<Vec<Record>, StoreError> {
    let table = kind.table();
    let columns = layout.columns(kind);
    let statement = format!(
        "SELECT {} FROM {} WHERE {condition}",
        layout.select_list(kind),
        quote(table)
    );
    let context = format!("{table}: read records");
    let mut stmt = conn.prepare_cached(&statement).map_err(sql(&context))?;
    let mut rows = stmt
        .query(params_from_iter(params.iter()))
        .map_err(sql(&context))?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(sql(&context))? {
        records.push(from_row(kind, columns, row)?);
    }
    Ok(records)
}

/// A record's column values, in `columns` order. `fullApiData`, the bulk of a record and already
/// JSON text, is taken out first and moved into its column.
fn to_row(
    table: &str,
    columns: &[Column],
    mut record: Record,
) -> Result<Vec<SqlValue>, StoreError> {
    let full = std::mem::take(&mut record.full_api_data).into_json();
    let mut values = super::row::to_values(&record, columns).map_err(|e| {
        StoreError::Backend(format!(
            "{table}: record `{}` on dock `{}`: {e}",
            record.provider_resource_id, record.dock_id
        ))
    })?;
    if let Some(slot) = super::row::position(columns, FULL_API_DATA) {
        // Already JSON text: moved into the row as it is.
        values[slot] = full.map_or(SqlValue::Null, SqlValue::Text);
    }
    Ok(values)
}

/// The record's attribute of the provider's whole object.
const FULL_API_DATA: &str = "fullApiData";

/// A record from a row selected with `columns`.
fn from_row(kind: Kind, columns: &[Column], row: &Row<'_>) -> Result<Record, StoreError> {
    let table = kind.table();
    let mut fields = Map::new();
    fields.insert(KIND_ATTRIBUTE.to_owned(), Value::from(table));
    let mut full = ApiData::null();
    for (index, column) in columns.iter().enumerate() {
        let context = || format!("{table}: column `{}`", column.name);
        let value = row.get_ref(index).map_err(|e| sql(&context())(e))?;
        if column.name == FULL_API_DATA {
            // Kept as the text it is stored as: checked to be JSON, not parsed into a tree.
            if let ValueRef::Text(bytes) = value {
                let text = std::str::from_utf8(bytes)
                    .map_err(|e| StoreError::Corrupt(format!("{}: not UTF-8: {e}", context())))?;
                full =
                    ApiData::from_json(text.to_owned()).map_err(|e| unreadable(&context())(e))?;
                continue;
            }
        }
        // NULL is left out rather than read as `null`, so `#[serde(default)]` fills in the empty
        // value (`tags: []`, not a failed read of `null` as a set).
        if let Some(value) = decode(column.codec, value, &context)? {
            fields.insert(column.name.clone(), value);
        }
    }
    let id = fields
        .get("providerResourceId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut record: Record = serde_json::from_value(Value::Object(fields))
        .map_err(unreadable(&format!("{table}: record `{id}`")))?;
    if !full.is_null() {
        record.full_api_data = full;
    }
    Ok(record)
}

fn decode(
    codec: Codec,
    value: ValueRef<'_>,
    context: &dyn Fn() -> String,
) -> Result<Option<Value>, StoreError> {
    let text = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| StoreError::Corrupt(format!("{}: not UTF-8: {e}", context())))
    };
    Ok(Some(match (codec, value) {
        (_, ValueRef::Null) => return Ok(None),
        (Codec::Bool, ValueRef::Integer(i)) => Value::Bool(i != 0),
        (Codec::Json, ValueRef::Text(bytes)) => {
            serde_json::from_slice(bytes).map_err(|e| unreadable(&context())(e))?
        }
        (_, ValueRef::Integer(i)) => Value::from(i),
        (_, ValueRef::Real(f)) => {
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        (_, ValueRef::Text(bytes)) => Value::String(text(bytes)?),
        (_, ValueRef::Blob(_)) => {
            return Err(StoreError::Corrupt(format!(
                "{}: holds a blob, expected text or a number",
                context()
            )));
        }
    }))
}
