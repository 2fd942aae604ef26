//! How history is kept: the events one commit adds to an execution are stored together, as one
//! chunk (its first and last event ids and their text, one event per line, deflated when that
//! is smaller). A 10-state execution's 22 events are 4.6 KB of JSON, mostly the same names and
//! the same data again; deflated together they are under 0.5 KB, where stored one row per event
//! (with the execution's ARN as each row's key) they took 8.3 KB of SQLite.
//!
//! Each backend stores a chunk as `(execution, first_id, last_id, codec, body)` and reads the
//! chunks that overlap the ids asked for; this module makes and opens them. An event's text
//! is exactly what was committed (the history digest folds it), and JSON written by serde_json
//! has no raw line breaks, so a line is an event.

use crate::{Result, StoreError};

/// The events as text, one per line.
pub const PLAIN: i64 = 0;
/// The same, deflated (raw DEFLATE, RFC 1951).
pub const DEFLATED: i64 = 1;

/// Below this many bytes a chunk is kept as it is (deflating saves too little to pay).
const DEFLATE_FROM: usize = 256;

/// The most events in one chunk: a read of a page of history inflates whole chunks, so a
/// commit of thousands of events (an inline Map's) is cut into chunks of this many.
pub const MAX_EVENTS: usize = 64;

/// One commit's events of one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub execution: String,
    pub first_id: u64,
    pub last_id: u64,
    pub codec: i64,
    pub body: Vec<u8>,
}

/// A batch's events, `(execution, id, text)` in commit order, as chunks: one per execution and
/// run of consecutive ids, of at most [`MAX_EVENTS`].
pub fn chunks(events: &[(String, u64, String)]) -> Vec<Chunk> {
    // Each execution's events in a batch are in order; executions interleave.
    // (execution, first id, last id, texts), and where each execution's latest run is: the
    // driver commits batches of thousands of events, so no search through the runs per event.
    let mut runs: Vec<(&str, u64, u64, Vec<&str>)> = Vec::new();
    let mut latest: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (execution, id, text) in events {
        let open = latest
            .get(execution.as_str())
            .map(|&i| &mut runs[i])
            .filter(|(_, _, last, texts)| *last + 1 == *id && texts.len() < MAX_EVENTS);
        match open {
            Some((_, _, last, texts)) => {
                *last = *id;
                texts.push(text);
            }
            None => {
                latest.insert(execution, runs.len());
                runs.push((execution, *id, *id, vec![text]));
            }
        }
    }
    runs.into_iter()
        .map(|(execution, first_id, last_id, texts)| {
            let plain = texts.join("\n").into_bytes();
            let (codec, body) = match deflate(&plain) {
                Some(smaller) => (DEFLATED, smaller),
                None => (PLAIN, plain),
            };
            Chunk {
                execution: execution.to_owned(),
                first_id,
                last_id,
                codec,
                body,
            }
        })
        .collect()
}

thread_local! {
    /// One compressor per thread, reset between chunks: making one allocates and clears
    /// hundreds of KB of tables, which cost more than deflating a chunk.
    static COMPRESSOR: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::fast(), false));
}

/// `plain` deflated, if that is worth it.
fn deflate(plain: &[u8]) -> Option<Vec<u8>> {
    if plain.len() < DEFLATE_FROM {
        return None;
    }
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        // Only a result smaller than the text is kept: the output never needs more room.
        let mut out = Vec::with_capacity(plain.len());
        let status = c
            .compress_vec(plain, &mut out, flate2::FlushCompress::Finish)
            .ok()?;
        (status == flate2::Status::StreamEnd && out.len() < plain.len()).then_some(out)
    })
}

/// The events with ids in `from..=to` of a chunk starting at `first_id`, appended to `out`.
pub fn read_into(
    first_id: u64,
    codec: i64,
    body: &[u8],
    (from, to): (u64, u64),
    out: &mut Vec<String>,
) -> Result<()> {
    let text: std::borrow::Cow<'_, str> = match codec {
        PLAIN => std::str::from_utf8(body)
            .map_err(|e| corrupt(first_id, &e))?
            .into(),
        DEFLATED => inflate(body).map_err(|e| corrupt(first_id, &e))?.into(),
        other => {
            return Err(StoreError::Backend(format!(
                "history chunk at event {first_id}: unknown codec {other}"
            )));
        }
    };
    for (id, line) in (first_id..).zip(text.split('\n')) {
        if id > to {
            break;
        }
        if id >= from {
            out.push(line.to_owned());
        }
    }
    Ok(())
}

thread_local! {
    /// One decompressor per thread, reset between chunks (as [`COMPRESSOR`]).
    static DECOMPRESSOR: std::cell::RefCell<flate2::Decompress> =
        std::cell::RefCell::new(flate2::Decompress::new(false));
}

/// A deflated chunk's text.
fn inflate(body: &[u8]) -> std::result::Result<String, String> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        d.reset(false);
        let mut out = Vec::with_capacity(body.len() * 8);
        loop {
            let (read, written) = (d.total_in(), d.total_out());
            let rest = body.get(read as usize..).unwrap_or_default();
            let status = d
                .decompress_vec(rest, &mut out, flate2::FlushDecompress::None)
                .map_err(|e| e.to_string())?;
            if status == flate2::Status::StreamEnd {
                break;
            }
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(4096));
            } else if d.total_in() == read && d.total_out() == written {
                // Room left, nothing read or written, no end: the stream is cut short.
                return Err("the deflated data ends early".into());
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    })
}

fn corrupt(first_id: u64, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Backend(format!(
        "history chunk at event {first_id} is unreadable: {e}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(execution: &str, id: u64) -> (String, u64, String) {
        (
            execution.to_owned(),
            id,
            format!(
                r#"{{"id":{id},"type":"PassStateEntered","input":"{{\"n\":\"line\\nbreak\"}}"}}"#
            ),
        )
    }

    #[test]
    fn a_batch_becomes_one_chunk_per_execution_and_run_of_ids_and_reads_back_exactly() {
        let mut events = Vec::new();
        for id in 1..=12 {
            events.push(event("a", id));
            if id <= 2 {
                events.push(event("b", id + 40));
            }
        }
        events.push(event("a", 20)); // not next to 12: a chunk of its own
        let made = chunks(&events);
        let spans: Vec<_> = made
            .iter()
            .map(|c| (c.execution.as_str(), c.first_id, c.last_id, c.codec))
            .collect();
        assert_eq!(
            spans,
            [
                ("a", 1, 12, DEFLATED),
                ("b", 41, 42, PLAIN),
                ("a", 20, 20, PLAIN)
            ]
        );
        assert!(made[0].body.len() < 200, "{} bytes", made[0].body.len());
        let mut out = Vec::new();
        read_into(1, made[0].codec, &made[0].body, (3, 5), &mut out).expect("read");
        let want: Vec<String> = (3..=5).map(|id| event("a", id).2).collect();
        assert_eq!(out, want);
        out.clear();
        read_into(41, made[1].codec, &made[1].body, (0, u64::MAX), &mut out).expect("read");
        assert_eq!(out, [event("b", 41).2, event("b", 42).2]);
    }

    #[test]
    fn a_long_run_is_cut_into_chunks_of_at_most_max_events() {
        let events: Vec<_> = (1..=600).map(|id| event("a", id)).collect();
        let made = chunks(&events);
        let spans: Vec<_> = made.iter().map(|c| (c.first_id, c.last_id)).collect();
        assert_eq!(spans.len(), 10);
        assert_eq!(spans[..2], [(1, 64), (65, 128)]);
        assert_eq!(spans[9], (577, 600));
        let mut out = Vec::new();
        read_into(449, made[7].codec, &made[7].body, (500, 520), &mut out).expect("read");
        assert_eq!(out.len(), 13);
        assert_eq!(out[0], event("a", 500).2);
    }

    #[test]
    fn a_damaged_chunk_is_an_error_not_a_panic() {
        let mut out = Vec::new();
        assert!(read_into(1, DEFLATED, b"\xff\x00garbage", (1, 9), &mut out).is_err());
        assert!(read_into(1, PLAIN, b"\xff\xfe", (1, 9), &mut out).is_err());
        assert!(read_into(1, 7, b"{}", (1, 9), &mut out).is_err());
        // A deflated chunk cut short ends in an error, not a loop.
        let events: Vec<_> = (1..=40).map(|id| event("a", id)).collect();
        let whole = &chunks(&events)[0];
        assert_eq!(whole.codec, DEFLATED);
        let cut = &whole.body[..whole.body.len() / 2];
        assert!(read_into(1, DEFLATED, cut, (1, 40), &mut out).is_err());
        // And the compressor and decompressor are fine after it.
        read_into(1, DEFLATED, &whole.body, (1, 40), &mut out).expect("whole");
        assert_eq!(out.len(), 40);
    }
}
