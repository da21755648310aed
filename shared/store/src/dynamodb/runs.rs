//! The `runs` table: the audit log of syncs, plans, applies and force-unlocks, keyed by org and
//! run id. A run is its header item (sort key the run id: the run's JSON attributes but `actions`
//! and `log`, plus the digests of its chunks) and one item per chunk of its entries (sort key
//! `<run id>#a#000003`, `crate::runlog`), so no run outgrows DynamoDB's 400 KB item limit. Every
//! item carries `ttl` (epoch seconds of the run's `expiresAt`), so DynamoDB expires a run whole.
//!
//! Writing a run reads its stored header (GetItem) and sends only the chunks whose digest changed,
//! then the header: recording one more action costs one chunk and the header, not the run.
//! Chunks are written before the header that names them; a reader checks every chunk against the
//! header's digest and reads again when a writer was between the two. A run rewritten with fewer
//! chunks leaves the surplus ones unnamed: no reader takes them, and they expire with their TTL
//! (no role may delete from the audit log).
//!
//! A write that fails between its chunks and its header leaves the stored header naming the
//! previous chunks. The next write of the run sends every chunk that differs from what that header
//! names, which repairs it as long as the run only grows (how StackDock writes runs: an apply
//! appends actions and log lines, the stale-run sweep a status and a line). Rewriting a chunk back
//! to exactly the content the stale header names would skip it; the run then reads as an error
//! naming the chunk, never as wrong entries.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, TryStreamExt};

use super::DynamoStore;
use super::codec::{Item, from_item, string_of, to_item};
use super::error::classify;
use super::query::query_eq;
use super::sync::WRITE_CONCURRENCY;
use super::tables::{ORG_ID, RUN_ID, RUNS, TTL};
use crate::runlog::{self, Chunk, Digests, Part};
use crate::{RunRecord, StoreError};

/// A header's digests of its action chunks and of its log chunks (lists of strings).
const ACTION_CHUNKS: &str = "actionChunks";
const LOG_CHUNKS: &str = "logChunks";
/// A chunk item's list (`a`, `l`), place in it, run id and JSON text.
const CHUNK_PART: &str = "chunkPart";
const CHUNK_SEQ: &str = "chunkSeq";
const CHUNK_RUN: &str = "chunkRun";
const CHUNK_BODY: &str = "chunkBody";

/// Reads of one run before a header and its chunks that keep disagreeing are an error.
const READ_ATTEMPTS: usize = 5;

/// Inserts or replaces a run.
pub(crate) async fn put(store: &DynamoStore, run: &RunRecord) -> Result<(), StoreError> {
    let run = runlog::prepare(run)?;
    let table = store.table(RUNS);
    let context = format!("{table}: write run `{}`", run.run_id);
    let ttl = run
        .expires_at
        .map(|at| AttributeValue::N(at.as_second().to_string()));
    let (header, chunks) = runlog::split(run)?;
    let stored = match get_header(store, &header.org_id, &header.run_id, true).await? {
        Some((_, digests)) => digests,
        None => Digests::default(),
    };
    let digests = Digests::of(&chunks);
    let changed: Vec<Chunk> = chunks
        .into_iter()
        .filter(|c| !stored.holds(c.part, c.seq, &c.digest))
        .collect();
    let (org, run_id) = (header.org_id.as_str(), header.run_id.as_str());
    futures::stream::iter(changed)
        .map(|chunk| {
            let mut item = chunk_item(org, run_id, &chunk);
            if let Some(ttl) = &ttl {
                item.insert(TTL.to_owned(), ttl.clone());
            }
            put_item(store, &table, item, &context)
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    let mut item = to_item(&header, &context)?;
    item.remove("actions");
    item.remove("log");
    item.insert(ACTION_CHUNKS.to_owned(), digest_list(&digests.actions));
    item.insert(LOG_CHUNKS.to_owned(), digest_list(&digests.log));
    if let Some(ttl) = ttl {
        item.insert(TTL.to_owned(), ttl);
    }
    put_item(store, &table, item, &context).await
}

async fn put_item(
    store: &DynamoStore,
    table: &str,
    item: Item,
    context: &str,
) -> Result<(), StoreError> {
    store.count_write();
    store
        .client()
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| classify(context, e))?;
    Ok(())
}

fn chunk_item(org: &str, run_id: &str, chunk: &Chunk) -> Item {
    Item::from([
        (ORG_ID.to_owned(), AttributeValue::S(org.to_owned())),
        (
            RUN_ID.to_owned(),
            AttributeValue::S(runlog::chunk_name(run_id, chunk.part, chunk.seq)),
        ),
        (CHUNK_RUN.to_owned(), AttributeValue::S(run_id.to_owned())),
        (
            CHUNK_PART.to_owned(),
            AttributeValue::S(chunk.part.key().to_owned()),
        ),
        (
            CHUNK_SEQ.to_owned(),
            AttributeValue::N(chunk.seq.to_string()),
        ),
        (CHUNK_BODY.to_owned(), AttributeValue::S(chunk.body.clone())),
    ])
}

fn digest_list(digests: &[String]) -> AttributeValue {
    AttributeValue::L(
        digests
            .iter()
            .map(|d| AttributeValue::S(d.clone()))
            .collect(),
    )
}

fn key(org: &str, sort_key: String) -> Item {
    Item::from([
        (ORG_ID.to_owned(), AttributeValue::S(org.to_owned())),
        (RUN_ID.to_owned(), AttributeValue::S(sort_key)),
    ])
}

/// The stored header of a run and its digests (strongly consistent). With `digests_only`, only
/// the digests are read (what a writer compares with).
async fn get_header(
    store: &DynamoStore,
    org: &str,
    run_id: &str,
    digests_only: bool,
) -> Result<Option<(Item, Digests)>, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table}: read run `{run_id}` of org `{org}`");
    let mut request = store
        .client()
        .get_item()
        .table_name(&table)
        .set_key(Some(key(org, run_id.to_owned())))
        .consistent_read(true);
    if digests_only {
        request = request
            .projection_expression("#a, #l")
            .expression_attribute_names("#a", ACTION_CHUNKS)
            .expression_attribute_names("#l", LOG_CHUNKS);
    }
    let output = request
        .send()
        .await
        .map_err(|e| classify(context.as_str(), e))?;
    let Some(mut item) = output.item else {
        return Ok(None);
    };
    let digests = take_digests(&mut item, &context)?;
    Ok(Some((item, digests)))
}

/// Removes the digest lists from a header item (a run written before runs were split has none:
/// its entries are inline, and it reads as it was written).
fn take_digests(item: &mut Item, context: &str) -> Result<Digests, StoreError> {
    let mut list = |name: &str| -> Result<Vec<String>, StoreError> {
        match item.remove(name) {
            None => Ok(Vec::new()),
            Some(AttributeValue::L(values)) => values
                .into_iter()
                .map(|v| match v {
                    AttributeValue::S(s) => Ok(s),
                    other => Err(StoreError::Corrupt(format!(
                        "{context}: `{name}` holds {other:?}, expected digests"
                    ))),
                })
                .collect(),
            Some(other) => Err(StoreError::Corrupt(format!(
                "{context}: `{name}` is {other:?}, expected a list of digests"
            ))),
        }
    };
    Ok(Digests {
        actions: list(ACTION_CHUNKS)?,
        log: list(LOG_CHUNKS)?,
    })
}

pub(crate) async fn get(
    store: &DynamoStore,
    org: &str,
    run_id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table}: read run `{run_id}` of org `{org}`");
    for _ in 0..READ_ATTEMPTS {
        let Some((item, digests)) = get_header(store, org, run_id, false).await? else {
            return Ok(None);
        };
        let header = decode(item, &context)?;
        if digests.is_empty() {
            return Ok(Some(header));
        }
        let mut keys = Vec::new();
        for part in Part::ALL {
            for seq in 0..digests.list(part).len() {
                keys.push((
                    table.clone(),
                    key(org, runlog::chunk_name(run_id, part, seq)),
                ));
            }
        }
        let found = super::batch::get_items(store, keys, &context).await?;
        let mut bodies = chunk_bodies(found.into_values().flatten());
        if let Some(run) = runlog::join(header, &digests, |part, seq| {
            bodies.remove(&(run_id.to_owned(), part, seq))
        })? {
            return Ok(Some(run));
        }
    }
    Err(StoreError::Corrupt(format!(
        "{context}: its chunks did not match the digests its header names in {READ_ATTEMPTS} \
         reads (a writer rewriting it, or a write that failed between its chunks and its \
         header); retry, or write the run again"
    )))
}

/// The bodies of chunk items by (run id, part, seq); other items are passed over.
fn chunk_bodies(items: impl IntoIterator<Item = Item>) -> HashMap<(String, Part, usize), String> {
    let mut bodies = HashMap::new();
    for mut item in items {
        let (Some(run), Some(part), Some(seq)) = (
            string_of(&item, CHUNK_RUN).map(str::to_owned),
            string_of(&item, CHUNK_PART).and_then(Part::parse),
            item.get(CHUNK_SEQ)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<usize>().ok()),
        ) else {
            continue;
        };
        if let Some(AttributeValue::S(body)) = item.remove(CHUNK_BODY) {
            bodies.insert((run, part, seq), body);
        }
    }
    bodies
}

/// The most recent runs of an org first (ties: run id, descending). Reads the org's partition
/// (headers and chunks), which TTL keeps bounded.
pub(crate) async fn list(
    store: &DynamoStore,
    org: &str,
    limit: usize,
) -> Result<Vec<RunRecord>, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table}: list the runs of org `{org}`");
    let (chunks, headers): (Vec<Item>, Vec<Item>) = query_eq(store, &table, None, ORG_ID, org)
        .await?
        .into_iter()
        .partition(|item| item.contains_key(CHUNK_PART));
    let mut runs = headers
        .into_iter()
        .map(|mut item| {
            let digests = take_digests(&mut item, &context)?;
            Ok((decode(item, &context)?, digests))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    runs.sort_by(|(a, _), (b, _)| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
    runs.truncate(limit);
    let mut bodies = chunk_bodies(chunks);
    let mut listed = Vec::with_capacity(runs.len());
    for (header, digests) in runs {
        let run_id = header.run_id.clone();
        let joined = runlog::join(header, &digests, |part, seq| {
            bodies.remove(&(run_id.clone(), part, seq))
        })?;
        match joined {
            Some(run) => listed.push(run),
            // Rewritten while the partition was read: read it alone (gone: expired meanwhile).
            None => listed.extend(get(store, org, &run_id).await?),
        }
    }
    Ok(listed)
}

fn decode(mut item: Item, context: &str) -> Result<RunRecord, StoreError> {
    // Derived from `expiresAt`; not a field of the record.
    item.remove(TTL);
    from_item(item, context)
}
