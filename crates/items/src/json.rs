//! The elements of a JSON array, found in a buffer that grows a chunk at a time, without
//! parsing the whole document: the array is the top-level value, or the one an
//! `ItemsPointer` (RFC 6901) points to inside it. Values passed over on the way (other keys,
//! earlier array elements) are scanned, not parsed, and each element is parsed alone.

use serde_json::Value;

/// What the scanner needs next, or found.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// The buffer ends too soon: append more (or, at the end of the object, it is truncated).
    NeedMore,
    /// The next element, `buf[start..end]`.
    Element { start: usize, end: usize },
    /// The array has ended.
    End,
    /// The document is not what was expected (the cause to fail with).
    Invalid(String),
}

/// Where the scanner is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Going down the pointer's tokens, at the start of a value.
    Descend,
    /// Inside an object looking for `token`: at a key or at the object's end.
    InObject,
    /// Inside an array looking for element `index`, having passed `seen`.
    InArray {
        index: usize,
        seen: usize,
    },
    /// Passing over a value (another key's, an earlier element's).
    Passing(Skip, Box<Phase>),
    /// Inside the items' array: at an element, or its end.
    Items {
        first: bool,
    },
    /// Taking an element.
    Taking(Skip, usize),
    Done,
}

/// The state of a value being passed over, so that scanning resumes where the buffer ended.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Skip {
    at: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
    scalar: bool,
    started: bool,
}

impl Skip {
    fn at(at: usize) -> Skip {
        Skip {
            at,
            ..Skip::default()
        }
    }

    /// Scans on; the value's end when it is in `buf`.
    fn advance(&mut self, buf: &[u8], eof: bool) -> Option<usize> {
        let mut i = self.at;
        if !self.started {
            let &c = buf.get(i)?;
            self.started = true;
            match c {
                b'{' | b'[' => self.depth = 1,
                b'"' => self.in_string = true,
                _ => self.scalar = true,
            }
            i += 1;
        }
        while i < buf.len() {
            let c = buf[i];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
            } else if self.scalar {
                if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    return Some(i);
                }
            } else {
                match c {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.at = i;
        (eof && self.scalar).then_some(i)
    }

    /// Moves the scan position left by `by` bytes (the buffer's consumed front was dropped).
    fn shift(&mut self, by: usize) {
        self.at -= by;
    }
}

/// Finds the elements of the array at `pointer` in a JSON document fed to it in pieces.
#[derive(Debug)]
pub struct ArrayScanner {
    tokens: Vec<String>,
    phase: Phase,
    /// Where scanning goes on in the buffer.
    pos: usize,
}

const NOT_ITERABLE: &str = "Attempting to map over non-iterable node.";

impl ArrayScanner {
    /// `pointer`: `None` or `""` for the top-level array.
    pub fn new(pointer: Option<&str>) -> ArrayScanner {
        let tokens = pointer
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.split('/')
                    .skip(1)
                    .map(|t| t.replace("~1", "/").replace("~0", "~"))
                    .collect()
            })
            .unwrap_or_default();
        ArrayScanner {
            tokens,
            phase: Phase::Descend,
            pos: 0,
        }
    }

    /// The first byte the scanner still needs: the caller may drop everything before it.
    pub fn keep_from(&self) -> usize {
        match &self.phase {
            Phase::Taking(_, start) => *start,
            _ => self.pos,
        }
    }

    /// The caller dropped the first `by` bytes of the buffer.
    pub fn shift(&mut self, by: usize) {
        self.pos -= by;
        match &mut self.phase {
            Phase::Taking(skip, start) => {
                skip.shift(by);
                *start -= by;
            }
            Phase::Passing(skip, _) => skip.shift(by),
            _ => {}
        }
    }

    /// The next thing found in `buf` (all of the document received so far, less what was
    /// dropped); `eof` when no more will come.
    pub fn next(&mut self, buf: &[u8], eof: bool) -> Step {
        loop {
            let truncated = || {
                if eof {
                    Step::Invalid("The JSON object ended unexpectedly.".into())
                } else {
                    Step::NeedMore
                }
            };
            match self.phase.clone() {
                Phase::Done => return Step::End,
                Phase::Descend => {
                    let Some(i) = skip_ws(buf, self.pos) else {
                        return truncated();
                    };
                    self.pos = i;
                    match (buf[i], self.tokens.first()) {
                        (b'[', None) => {
                            self.pos += 1;
                            self.phase = Phase::Items { first: true };
                        }
                        (_, None) => return Step::Invalid(NOT_ITERABLE.into()),
                        (b'{', Some(_)) => {
                            self.pos += 1;
                            self.phase = Phase::InObject;
                        }
                        (b'[', Some(t)) => match t.parse::<usize>() {
                            Ok(index) => {
                                self.pos += 1;
                                self.phase = Phase::InArray { index, seen: 0 };
                            }
                            Err(_) => return Step::Invalid(self.missing()),
                        },
                        _ => return Step::Invalid(self.missing()),
                    }
                }
                Phase::InObject => {
                    let Some(i) = skip_ws_and(buf, self.pos, b',') else {
                        return truncated();
                    };
                    if buf[i] == b'}' {
                        return Step::Invalid(self.missing());
                    }
                    // A key, a colon, and the value's start.
                    let Some((key, after)) = key_at(buf, i) else {
                        return truncated();
                    };
                    let Some(colon) = skip_ws(buf, after) else {
                        return truncated();
                    };
                    if buf[colon] != b':' {
                        return Step::Invalid(invalid());
                    }
                    let Some(value) = skip_ws(buf, colon + 1) else {
                        return truncated();
                    };
                    self.pos = value;
                    if Some(&key) == self.tokens.first() {
                        self.tokens.remove(0);
                        self.phase = Phase::Descend;
                    } else {
                        self.phase = Phase::Passing(Skip::at(value), Box::new(Phase::InObject));
                    }
                }
                Phase::InArray { index, seen } => {
                    let Some(i) = skip_ws_and(buf, self.pos, b',') else {
                        return truncated();
                    };
                    self.pos = i;
                    if buf[i] == b']' {
                        return Step::Invalid(self.missing());
                    }
                    if seen == index {
                        self.tokens.remove(0);
                        self.phase = Phase::Descend;
                    } else {
                        let next = Phase::InArray {
                            index,
                            seen: seen + 1,
                        };
                        self.phase = Phase::Passing(Skip::at(i), Box::new(next));
                    }
                }
                Phase::Passing(mut skip, then) => match skip.advance(buf, eof) {
                    Some(end) => {
                        self.pos = end;
                        self.phase = *then;
                    }
                    None => {
                        self.phase = Phase::Passing(skip, then);
                        return truncated();
                    }
                },
                Phase::Items { first } => {
                    let Some(i) = skip_ws(buf, self.pos) else {
                        return truncated();
                    };
                    let i = match buf[i] {
                        b']' => {
                            self.pos = i + 1;
                            self.phase = Phase::Done;
                            return Step::End;
                        }
                        b',' if !first => match skip_ws(buf, i + 1) {
                            Some(j) => j,
                            None => return truncated(),
                        },
                        _ if first => i,
                        _ => return Step::Invalid(invalid()),
                    };
                    self.pos = i;
                    self.phase = Phase::Taking(Skip::at(i), i);
                }
                Phase::Taking(mut skip, start) => match skip.advance(buf, eof) {
                    Some(end) => {
                        self.pos = end;
                        self.phase = Phase::Items { first: false };
                        return Step::Element { start, end };
                    }
                    None => {
                        self.phase = Phase::Taking(skip, start);
                        return truncated();
                    }
                },
            }
        }
    }

    fn missing(&self) -> String {
        NOT_ITERABLE.into()
    }
}

fn invalid() -> String {
    "The JSON object is not valid JSON.".into()
}

fn skip_ws(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find(|&i| !buf[i].is_ascii_whitespace())
}

/// Skips whitespace and at most one `sep`, and the whitespace after it.
fn skip_ws_and(buf: &[u8], from: usize, sep: u8) -> Option<usize> {
    let i = skip_ws(buf, from)?;
    if buf[i] == sep {
        skip_ws(buf, i + 1)
    } else {
        Some(i)
    }
}

/// The object key starting at `buf[i]` (a JSON string) and the index after it.
fn key_at(buf: &[u8], i: usize) -> Option<(String, usize)> {
    let mut skip = Skip::at(i);
    let end = skip.advance(buf, false)?;
    let key: String = serde_json::from_slice(&buf[i..end]).ok()?;
    Some((key, end))
}

/// Parses an element found by the scanner.
pub fn parse_element(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("The JSON object is not valid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `doc` `chunk` bytes at a time; the elements found, or the cause of failure.
    fn elements(doc: &str, pointer: Option<&str>, chunk: usize) -> Result<Vec<Value>, String> {
        let mut scanner = ArrayScanner::new(pointer);
        let bytes = doc.as_bytes();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut out = Vec::new();
        loop {
            let eof = fed == bytes.len();
            match scanner.next(&buf, eof) {
                Step::NeedMore => {
                    let keep = scanner.keep_from();
                    buf.drain(..keep);
                    scanner.shift(keep);
                    let until = (fed + chunk).min(bytes.len());
                    buf.extend_from_slice(&bytes[fed..until]);
                    fed = until;
                }
                Step::Element { start, end } => out.push(parse_element(&buf[start..end])?),
                Step::End => return Ok(out),
                Step::Invalid(cause) => return Err(cause),
            }
        }
    }

    #[test]
    fn elements_of_every_kind_at_every_chunk_size() {
        let doc = r#" [ {"a": [1, {"b": "x]}\"y"}]}, "s,t", 12.5e3 , true, null, [[]], -7 ] "#;
        let want: Vec<Value> = serde_json::from_str(doc).unwrap_or_default();
        for chunk in 1..=doc.len() {
            assert_eq!(
                elements(doc, None, chunk).as_ref(),
                Ok(&want),
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn items_pointer_descends_through_objects_and_indices() {
        let doc = r#"{"skip": {"items": [0]}, "data": {"x": 1, "items": [{"id": 1}, {"id": 2}]}, "later": 3}"#;
        for chunk in [1, 3, 7, 1000] {
            assert_eq!(
                elements(doc, Some("/data/items"), chunk),
                Ok(vec![
                    serde_json::json!({"id": 1}),
                    serde_json::json!({"id": 2})
                ])
            );
        }
        let nested = r#"{"a/b": [[9], [1, 2]]}"#;
        assert_eq!(
            elements(nested, Some("/a~1b/1"), 2),
            Ok(vec![serde_json::json!(1), serde_json::json!(2)])
        );
    }

    #[test]
    fn what_is_not_an_array_fails_as_aws_words_it() {
        assert_eq!(elements(r#"{"a": 1}"#, None, 4), Err(NOT_ITERABLE.into()));
        assert_eq!(
            elements(r#"{"a": 1}"#, Some("/a"), 4),
            Err(NOT_ITERABLE.into())
        );
        assert_eq!(
            elements(r#"{"a": 1}"#, Some("/b"), 4),
            Err(NOT_ITERABLE.into())
        );
        assert!(elements(r#"[1, 2"#, None, 4).is_err());
        assert!(elements(r#"[1 2]"#, None, 4).is_err());
    }
}
