//! A run's actions and log lines kept apart from the run itself (issue 19, item 6): a run grows
//! with every action (an apply of 5,000 actions is over 1 MB of JSON), which neither fits one
//! DynamoDB item (400 KB) nor should be rewritten whole for every action it records.
//!
//! A run is stored as its header (every field but `actions` and `log`, plus the digest of each
//! chunk) and its entries in chunks: consecutive entries of one list as a JSON array of at most
//! [`CHUNK_BYTES`]. Chunks are filled from the start, so appending an entry changes only the last
//! chunk of its list (or adds one), and a writer that knows the stored digests sends only the
//! chunks that changed. A reader takes the chunks the header names, checks each against its digest
//! and joins them in order.
//!
//! It decides the layout and what every store keeps of a run ([`prepare`]); the backends read and
//! write it. SQLite keeps a whole prepared run in one row (no item limit), so both stores return
//! the same run for the same `put_run`.

use crate::{RunRecord, StoreError};

/// The largest chunk body, in bytes of JSON text: well below DynamoDB's 400 KB item limit, and
/// small enough that the chunk an append rewrites stays cheap.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The longest message (of an action, a log line, or the run's error) a store keeps, in bytes:
/// longer ones are cut at a character boundary and say so, so one entry always fits a chunk and
/// the header an item.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// What replaces the end of a message longer than [`MAX_MESSAGE_BYTES`].
const CUT_MARK: &str = " … (cut: longer than 16 KiB)";

/// Which list of the run a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Part {
    Actions,
    Log,
}

impl Part {
    pub(crate) const ALL: [Part; 2] = [Part::Actions, Part::Log];

    /// The part's key in a chunk's name and item (`a`, `l`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Part::Actions => "a",
            Part::Log => "l",
        }
    }

    pub(crate) fn parse(key: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|part| part.key() == key)
    }
}

/// One chunk: consecutive entries of one list, as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) part: Part,
    /// Its place in its list, from 0.
    pub(crate) seq: usize,
    pub(crate) body: String,
    pub(crate) digest: String,
}

/// The digests of a run's chunks, per list, in order: what the header holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Digests {
    pub(crate) actions: Vec<String>,
    pub(crate) log: Vec<String>,
}

impl Digests {
    pub(crate) fn of(chunks: &[Chunk]) -> Digests {
        let mut digests = Digests::default();
        for chunk in chunks {
            digests.list_mut(chunk.part).push(chunk.digest.clone());
        }
        digests
    }

    pub(crate) fn list(&self, part: Part) -> &[String] {
        match part {
            Part::Actions => &self.actions,
            Part::Log => &self.log,
        }
    }

    fn list_mut(&mut self, part: Part) -> &mut Vec<String> {
        match part {
            Part::Actions => &mut self.actions,
            Part::Log => &mut self.log,
        }
    }

    /// Whether the stored chunk `(part, seq)` has `digest` (so it need not be written again).
    pub(crate) fn holds(&self, part: Part, seq: usize, digest: &str) -> bool {
        self.list(part)
            .get(seq)
            .is_some_and(|stored| stored == digest)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.log.is_empty()
    }
}

/// The digest of a chunk body (hex, 128 bits of BLAKE3: a changed chunk is never taken for the
/// stored one).
pub(crate) fn digest(body: &str) -> String {
    let mut hex = blake3::hash(body.as_bytes()).to_hex().to_string();
    hex.truncate(32);
    hex
}

/// The run exactly as every store keeps it: with its default expiry when it has none
/// (`RunRecord::default_expiry`), and messages longer than [`MAX_MESSAGE_BYTES`] cut.
///
/// # Errors
/// A run id holding `#` (the separator of chunk names) is refused: no StackDock run id has one.
pub(crate) fn prepare(run: &RunRecord) -> Result<RunRecord, StoreError> {
    if run.run_id.is_empty() || run.run_id.contains('#') {
        return Err(StoreError::Backend(format!(
            "refusing to write run `{}`: a run id is not empty and holds no `#` (a bug in the \
             caller)",
            run.run_id
        )));
    }
    let mut run = run.clone();
    if run.expires_at.is_none() {
        run.expires_at = run.default_expiry();
    }
    for action in &mut run.actions {
        cut(&mut action.message);
    }
    for line in &mut run.log {
        cut(&mut line.message);
    }
    if let Some(error) = &mut run.error {
        cut(error);
    }
    Ok(run)
}

/// The run's header (no actions, no log) and its chunks: actions first, then log, each in order.
pub(crate) fn split(run: RunRecord) -> Result<(RunRecord, Vec<Chunk>), StoreError> {
    let mut header = run;
    let actions = std::mem::take(&mut header.actions);
    let log = std::mem::take(&mut header.log);
    let context = format!("run `{}`", header.run_id);
    let mut chunks = chunk(Part::Actions, &actions, &context)?;
    chunks.extend(chunk(Part::Log, &log, &context)?);
    Ok((header, chunks))
}

/// The name of a chunk of run `run_id`: `<run id>#a#000003` (the DynamoDB sort key).
pub(crate) fn chunk_name(run_id: &str, part: Part, seq: usize) -> String {
    format!("{run_id}#{}#{seq:06}", part.key())
}

/// A run from its header and the bodies of the chunks its digests name, in order. `body` gives
/// the stored body of `(part, seq)`, if any. `Ok(None)` when one is missing or is not the chunk
/// the header names (a writer replaced it meanwhile): read again.
pub(crate) fn join(
    mut header: RunRecord,
    digests: &Digests,
    mut body: impl FnMut(Part, usize) -> Option<String>,
) -> Result<Option<RunRecord>, StoreError> {
    for part in Part::ALL {
        for (seq, expected) in digests.list(part).iter().enumerate() {
            let Some(text) = body(part, seq) else {
                return Ok(None);
            };
            if digest(&text) != *expected {
                return Ok(None);
            }
            let corrupt = |e: serde_json::Error| {
                StoreError::Corrupt(format!(
                    "run `{}`: chunk {}: {e}",
                    header.run_id,
                    chunk_name(&header.run_id, part, seq)
                ))
            };
            match part {
                Part::Actions => header.actions.extend(
                    serde_json::from_str::<Vec<crate::ActionResult>>(&text).map_err(corrupt)?,
                ),
                Part::Log => header
                    .log
                    .extend(serde_json::from_str::<Vec<crate::LogLine>>(&text).map_err(corrupt)?),
            }
        }
    }
    Ok(Some(header))
}

/// Consecutive entries as JSON arrays of at most [`CHUNK_BYTES`] (an entry longer than that alone
/// in its chunk; [`prepare`] keeps every entry far shorter).
fn chunk<T: serde::Serialize>(
    part: Part,
    entries: &[T],
    context: &str,
) -> Result<Vec<Chunk>, StoreError> {
    let mut chunks = Vec::new();
    let mut body = String::from("[");
    for entry in entries {
        let text = serde_json::to_string(entry).map_err(|e| {
            StoreError::Backend(format!("{context}: cannot serialize an entry: {e}"))
        })?;
        // `[`, the entries, a comma before each but the first, `]`.
        if body.len() > 1 && body.len() + 1 + text.len() + 1 > CHUNK_BYTES {
            seal(part, &mut chunks, &mut body);
        }
        if body.len() > 1 {
            body.push(',');
        }
        body.push_str(&text);
    }
    if body.len() > 1 {
        seal(part, &mut chunks, &mut body);
    }
    Ok(chunks)
}

fn seal(part: Part, chunks: &mut Vec<Chunk>, body: &mut String) {
    body.push(']');
    let text = std::mem::replace(body, String::from("["));
    chunks.push(Chunk {
        part,
        seq: chunks.iter().filter(|c| c.part == part).count(),
        digest: digest(&text),
        body: text,
    });
}

/// Cuts `message` to [`MAX_MESSAGE_BYTES`] with [`CUT_MARK`] at the end, at a char boundary.
fn cut(message: &mut String) {
    if message.len() <= MAX_MESSAGE_BYTES {
        return;
    }
    let mut end = MAX_MESSAGE_BYTES - CUT_MARK.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    message.push_str(CUT_MARK);
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::{ActionResult, Outcome, RunKind};

    fn action(i: usize, message: String) -> ActionResult {
        ActionResult {
            action: "create".into(),
            target: format!("servers.web-{i}"),
            dock: "vultr-main".into(),
            provider_id: Some(format!("id-{i}")),
            outcome: Outcome::Succeeded,
            message,
            at: Timestamp::from_second(1_700_000_000).expect("time"),
        }
    }

    fn run_with(actions: usize) -> RunRecord {
        let mut run = RunRecord::new(
            "apply-1",
            "acme",
            RunKind::Apply,
            "me",
            Timestamp::from_second(1_700_000_000).expect("time"),
        );
        run.actions = (0..actions).map(|i| action(i, "created".into())).collect();
        run.log(run.started_at, "started");
        run
    }

    fn rejoin(header: RunRecord, chunks: &[Chunk]) -> RunRecord {
        let digests = Digests::of(chunks);
        join(header, &digests, |part, seq| {
            chunks
                .iter()
                .find(|c| c.part == part && c.seq == seq)
                .map(|c| c.body.clone())
        })
        .expect("joins")
        .expect("every chunk is there")
    }

    #[test]
    fn chunks_stay_under_the_limit_and_join_back_in_order() {
        let run = prepare(&run_with(5_000)).expect("prepared");
        let (header, chunks) = split(run.clone()).expect("split");
        assert!(header.actions.is_empty() && header.log.is_empty());
        assert!(chunks.iter().all(|c| c.body.len() <= CHUNK_BYTES));
        let action_chunks = chunks.iter().filter(|c| c.part == Part::Actions).count();
        assert!(
            action_chunks > 10,
            "5,000 actions take many chunks: {action_chunks}"
        );
        assert_eq!(rejoin(header, &chunks), run);
    }

    #[test]
    fn appending_an_action_changes_only_the_last_chunk() {
        let before = split(prepare(&run_with(5_000)).expect("p"))
            .expect("split")
            .1;
        let after = split(prepare(&run_with(5_001)).expect("p"))
            .expect("split")
            .1;
        let stored = Digests::of(&before);
        let changed: Vec<_> = after
            .iter()
            .filter(|c| !stored.holds(c.part, c.seq, &c.digest))
            .collect();
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0].part, Part::Actions);
    }

    #[test]
    fn a_replaced_chunk_is_not_joined() {
        let (header, chunks) = split(prepare(&run_with(1_000)).expect("p")).expect("split");
        let digests = Digests::of(&chunks);
        // Chunk 1 of the actions as another writer left it: not what this header names.
        let joined = join(header, &digests, |part, seq| {
            if (part, seq) == (Part::Actions, 1) {
                return Some("[]".to_owned());
            }
            chunks
                .iter()
                .find(|c| c.part == part && c.seq == seq)
                .map(|c| c.body.clone())
        });
        assert_eq!(joined.expect("no error"), None);
    }

    #[test]
    fn long_messages_are_cut_at_a_char_boundary_and_say_so() {
        let mut run = run_with(1);
        run.actions[0].message = "é".repeat(MAX_MESSAGE_BYTES);
        run.error = Some("x".repeat(MAX_MESSAGE_BYTES + 1));
        let prepared = prepare(&run).expect("prepared");
        let message = &prepared.actions[0].message;
        assert!(message.len() <= MAX_MESSAGE_BYTES && message.ends_with(CUT_MARK));
        let error = prepared.error.as_deref().expect("error");
        assert!(error.len() <= MAX_MESSAGE_BYTES && error.ends_with(CUT_MARK));
        assert_eq!(
            prepare(&run_with(3)).expect("p").actions,
            run_with(3).actions
        );
    }

    #[test]
    fn run_ids_with_the_separator_are_refused() {
        let mut run = run_with(0);
        run.run_id = "apply-1#a#000000".into();
        assert!(prepare(&run).is_err());
    }
}
