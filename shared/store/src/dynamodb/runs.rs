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
use super::error::{Class, classify};
use super::sync::WRITE_CONCURRENCY;
use super::tables::{ORG_ID, RUN_ID, RUNS, RUNS_INDEX, STARTED_KEY, TTL};
use crate::runlog::{self, Chunk, Digests, Part};
use crate::{RunCursor, RunRecord, RunsPage, RunsRequest, StoreError};

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
    item.insert(
        STARTED_KEY.to_owned(),
        AttributeValue::S(RunCursor::of(&header).sort_key()),
    );
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
/// How many index pages one `runs_page` reads at most: a page of one `kind` among many runs of
/// others ends early with a `next` rather than reading the whole log.
const MAX_INDEX_PAGES: usize = 8;
/// Runs read at once by `list`.
const READ_CONCURRENCY: usize = 8;

/// The newest `limit` runs, whole: a page of headers from the [`RUNS_INDEX`], then each run
/// (header and chunks) by key.
pub(crate) async fn list(
    store: &DynamoStore,
    org: &str,
    limit: usize,
) -> Result<Vec<RunRecord>, StoreError> {
    let request = RunsRequest {
        limit,
        ..RunsRequest::default()
    };
    let headers = page(store, org, &request).await?.runs;
    let runs: Vec<Option<RunRecord>> = futures::stream::iter(headers)
        .map(|header| async move { get(store, org, &header.run_id).await })
        .buffered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    // A run gone between the two reads expired meanwhile.
    Ok(runs.into_iter().flatten().collect())
}

/// One page of run headers, newest first, from the [`RUNS_INDEX`] (eventually consistent, as
/// every index read). The cursor is the last run's [`STARTED_KEY`]; the next page starts strictly
/// below it.
pub(crate) async fn page(
    store: &DynamoStore,
    org: &str,
    request: &RunsRequest,
) -> Result<RunsPage, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table} ({RUNS_INDEX}): list a page of the runs of org `{org}`");
    let limit = request.limit.max(1);
    let mut runs: Vec<RunRecord> = Vec::with_capacity(limit);
    let mut start: Option<Item> = None;
    for _ in 0..MAX_INDEX_PAGES {
        let mut query = store
            .client()
            .query()
            .table_name(&table)
            .index_name(RUNS_INDEX)
            .scan_index_forward(false)
            .expression_attribute_names("#o", ORG_ID)
            .expression_attribute_values(":o", AttributeValue::S(org.to_owned()))
            .set_exclusive_start_key(start.take());
        query = match &request.after {
            Some(after) => query
                .key_condition_expression("#o = :o AND #s < :s")
                .expression_attribute_names("#s", STARTED_KEY)
                .expression_attribute_values(":s", AttributeValue::S(after.sort_key())),
            None => query.key_condition_expression("#o = :o"),
        };
        query = match request.kind {
            // The filter applies after `Limit`: read a full page of any kind and keep this one.
            Some(kind) => query
                .filter_expression("#kind = :kind")
                .expression_attribute_names("#kind", "kind")
                .expression_attribute_values(":kind", AttributeValue::S(kind.as_str().to_owned())),
            None => query.limit(i32::try_from(limit - runs.len()).unwrap_or(i32::MAX)),
        };
        let output = query
            .send()
            .await
            .map_err(|e| classify(context.as_str(), e))?;
        for mut item in output.items.unwrap_or_default() {
            item.remove(STARTED_KEY);
            take_digests(&mut item, &context)?;
            runs.push(decode(item, &context)?);
        }
        let more = output.last_evaluated_key;
        if runs.len() >= limit {
            let cut = runs.len() > limit;
            runs.truncate(limit);
            let next = (cut || more.is_some())
                .then(|| runs.last().map(RunCursor::of))
                .flatten();
            return Ok(RunsPage { runs, next });
        }
        match more {
            None => return Ok(RunsPage { runs, next: None }),
            Some(key) => start = Some(key),
        }
    }
    // The read budget ran out before the page filled: continue where the index stopped.
    let next = match start.as_ref().and_then(|key| key.get(STARTED_KEY)) {
        Some(AttributeValue::S(sort_key)) => {
            Some(RunCursor::parse_sort_key(sort_key).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{context}: `{STARTED_KEY}` `{sort_key}` is not a start and a run id"
                ))
            })?)
        }
        _ => None,
    };
    Ok(RunsPage { runs, next })
}

/// Gives every run header of `org` written before the [`RUNS_INDEX`] existed its
/// [`STARTED_KEY`], so the index lists it; returns how many it updated. Reads the org's whole
/// partition once (a Query of the base table), so it is an upgrade step (`stackdock tables
/// upgrade`), not something a sync does. Idempotent: a header that has the key is left alone, and
/// the update is conditional on the header still lacking it.
pub(crate) async fn index_runs(store: &DynamoStore, org: &str) -> Result<usize, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table}: index the runs of org `{org}`");
    let items = super::query::query_projected(
        store,
        &table,
        None,
        ORG_ID,
        org,
        Some(&[RUN_ID, "startedAt", STARTED_KEY, CHUNK_PART]),
    )
    .await?;
    let mut updated = 0;
    for item in items {
        if item.contains_key(CHUNK_PART) || item.contains_key(STARTED_KEY) {
            continue;
        }
        let (Some(AttributeValue::S(run_id)), Some(AttributeValue::S(started))) =
            (item.get(RUN_ID), item.get("startedAt"))
        else {
            continue;
        };
        let started_at = started.parse().map_err(|e| {
            StoreError::Corrupt(format!(
                "{context}: run `{run_id}` starts at `{started}`: {e}"
            ))
        })?;
        let sort_key = RunCursor {
            started_at,
            run_id: run_id.clone(),
        }
        .sort_key();
        store.count_write();
        let result = store
            .client()
            .update_item()
            .table_name(&table)
            .set_key(Some(key(org, run_id.clone())))
            .update_expression("SET #s = :s")
            .condition_expression("attribute_exists(#r) AND attribute_not_exists(#s)")
            .expression_attribute_names("#s", STARTED_KEY)
            .expression_attribute_names("#r", RUN_ID)
            .expression_attribute_values(":s", AttributeValue::S(sort_key))
            .send()
            .await;
        match result {
            Ok(_) => updated += 1,
            Err(e) => {
                let failure = classify(context.as_str(), e);
                // Indexed (or expired) meanwhile: nothing to do.
                if failure.class != Class::ConditionFailed {
                    return Err(failure.into());
                }
            }
        }
    }
    Ok(updated)
}

fn decode(mut item: Item, context: &str) -> Result<RunRecord, StoreError> {
    // Derived from `expiresAt`; not a field of the record.
    item.remove(TTL);
    from_item(item, context)
}
