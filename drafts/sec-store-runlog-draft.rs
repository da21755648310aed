//! A run's actions and log lines, kept apart from the run itself: a run that grows with every
//! action (an apply of 5,000 actions is ~1.5 MB) must fit neither in one DynamoDB item (400 KB)
//! nor be rewritten whole on every action. Both stores keep the run's header (everything but
//! `actions` and `log`) in one item or row, and its entries in chunks of at most
//! [`CHUNK_BYTES`] of JSON each, keyed by part and number, with a digest so a write sends only
//! the chunks that changed (appending an action rewrites the last chunk, not the run).
//!
//! It decides the layout only; the backends read and write it.

use crate::{ActionResult, LogLine, RunRecord, StoreError};

/// The largest chunk of entries, in bytes of JSON: well below DynamoDB's 400 KB item limit.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// The longest message one entry keeps (a provider's error text can be long): longer ones are
/// cut, so one entry always fits a chunk.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Which list of the run a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Part {
    Actions,
    Log,
}

impl Part {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Part::Actions => "a",
            Part::Log => "l",
        }
    }

    pub(crate) fn parse(key: &str) -> Option<Part> {
        match key {
            "a" => Some(Part::Actions),
            "l" => Some(Part::Log),
            _ => None,
        }
    }
}

/// One chunk: consecutive entries of one part as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) part: Part,
    pub(crate) seq: usize,
    pub(crate) body: String,
    pub(crate) digest: String,
}

impl Chunk {
    /// `a#000003`: the chunk's name (DynamoDB sort key; SQLite `part` and `seq` columns).
    pub(crate) fn name(&self) -> String {
        chunk_name(self.part, self.seq)
    }
}

pub(crate) fn chunk_name(part: Part, seq: usize) -> String {
    format!("{}#{seq:06}", part.key())
}

/// The run's header (no actions, no log) and its chunks in order.
pub(crate) fn split(run: &RunRecord) -> Result<(RunRecord, Vec<Chunk>), StoreError> {
    let mut header = run.clone();
    let actions = std::mem::take(&mut header.actions);
    let log = std::mem::take(&mut header.log);
    let mut chunks = chunk(Part::Actions, actions.into_iter().map(cut_action), &run.run_id)?;
    chunks.extend(chunk(Part::Log, log.into_iter().map(cut_line), &run.run_id)?);
    Ok((header, chunks))
}

/// A run from its header and the bodies of its chunks (any order).
pub(crate) fn join(
    mut header: RunRecord,
    mut chunks: Vec<(Part, usize, String)>,
) -> Result<RunRecord, StoreError> {
    chunks.sort_by_key(|(part, seq, _)| (*part, *seq));
    let context = format!("run `{}`", header.run_id);
    for (part, seq, body) in chunks {
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt(format!("{context}: chunk {part:?} {seq}: {e}"));
        match part {
            Part::Actions => header
                .actions
                .extend(serde_json::from_str::<Vec<ActionResult>>(&body).map_err(corrupt)?),
            Part::Log => header
                .log
                .extend(serde_json::from_str::<Vec<LogLine>>(&body).map_err(corrupt)?),
        }
    }
    Ok(header)
}

fn chunk<T: serde::Serialize>(
    part: Part,
    entries: impl Iterator<Item = T>,
    run_id: &str,
) -> Result<Vec<Chunk>, StoreError> {
    let mut chunks = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    let mut flush = |current: &mut Vec<String>, size: &mut usize| {
        if current.is_empty() {
            return;
        }
        let body = format!("[{}]", current.join(","));
        let digest = blake3::hash(body.as_bytes()).to_hex()[..32].to_owned();
        chunks.push(Chunk {
            part,
            seq: chunks.len(),
            body,
            digest,
        });
        current.clear();
        *size = 2;
    };
    for entry in entries {
        let text = serde_json::to_string(&entry).map_err(|e| {
            StoreError::Backend(format!("run `{run_id}`: cannot serialize an entry: {e}"))
        })?;
        if size + text.len() + 1 > CHUNK_BYTES {
            flush(&mut current, &mut size);
        }
        size += text.len() + 1;
        current.push(text);
    }
    flush(&mut current, &mut size);
    Ok(chunks)
}

fn cut(message: &mut String) {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("… (cut: longer than 16 KiB)");
    }
}

fn cut_action(mut action: ActionResult) -> ActionResult {
    cut(&mut action.message);
    action
}

fn cut_line(mut line: LogLine) -> LogLine {
    cut(&mut line.message);
    line
}
