//! JSON text that is not JSON, described in Jackson's words, as AWS describes it.
//!
//! AWS parses JSON with Jackson and passes its message through: in a definition's
//! `INVALID_JSON_DESCRIPTION` diagnostic, e.g. `Unrecognized token 'not': was expecting (JSON
//! String, Number, Array, Object or token 'null', 'true' or 'false')` with the location
//! `[Source: (String)"not a definition"; line: 1, column: 4]`, and in the API's answers to bad
//! execution input, task output and request bodies ([`parse_json`]). serde_json tells us *that*
//! the text is not JSON; this small scanner finds the first problem the way Jackson reports it.

use std::fmt;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, DiagnosticCode};

/// Why a text is not JSON, as Jackson says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSyntaxError {
    /// Jackson's message without its location, e.g. `Unexpected character (''' (code 39)): was
    /// expecting double-quote to start field name`: what AWS quotes in InvalidExecutionInput.
    pub message: String,
    /// Jackson's location, e.g. `[Source: (String)"{'a'"; line: 1, column: 2]` (empty when the
    /// text is well-formed but nested deeper than the parser goes).
    pub location: String,
}

impl fmt::Display for JsonSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonSyntaxError {}

/// Parses JSON text (one value, with nothing after it but whitespace); text that is not JSON is
/// described as Jackson describes it.
pub fn parse_json(text: &str) -> Result<Value, JsonSyntaxError> {
    let parsed = serde_json::from_str(text);
    parsed.map_err(|e| {
        let chars: Vec<char> = text.chars().collect();
        match scan(&chars) {
            Some(problem) => JsonSyntaxError {
                message: problem.message,
                location: source_location(&chars, problem.at),
            },
            // Well-formed to Jackson, refused by serde_json: nested deeper than it parses.
            None => JsonSyntaxError {
                message: format!("The JSON text is nested too deeply ({e})"),
                location: String::new(),
            },
        }
    })
}

/// The first problem in `chars`, or `None` when Jackson would read it.
fn scan(chars: &[char]) -> Option<Problem> {
    let mut scanner = Scanner {
        chars,
        pos: 0,
        depth: 0,
    };
    scanner.document().err()
}

/// Jackson shows at most this many characters of the source in a location.
const MAX_SNIPPET_CHARS: usize = 500;

/// Jackson's default limit on nesting; deeper documents are refused without recursing further.
const MAX_DEPTH: usize = 1000;

const VALUE_LIST: &str = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// The `INVALID_JSON_DESCRIPTION` diagnostic for text that is not JSON.
pub(super) fn diagnose(text: &str) -> Diagnostic {
    let chars: Vec<char> = text.chars().collect();
    let Some(problem) = scan(&chars) else {
        // Well-formed, but deeper than we parse.
        return Diagnostic::error(
            DiagnosticCode::TooDeeplyNested,
            crate::messages::TOO_DEEPLY_NESTED,
            None,
        );
    };
    let location = source_location(&chars, problem.at);
    Diagnostic::error(
        DiagnosticCode::InvalidJsonDescription,
        format!("{}\n at {location}", problem.message),
        Some(location),
    )
}

/// Jackson's location text for a position (the count of characters consumed).
fn source_location(chars: &[char], consumed: usize) -> String {
    let (line, column) = line_column(chars, consumed);
    format!(
        "[Source: {}; line: {line}, column: {column}]",
        snippet(chars)
    )
}

fn snippet(chars: &[char]) -> String {
    let shown: String = chars.iter().take(MAX_SNIPPET_CHARS).collect();
    if chars.len() > MAX_SNIPPET_CHARS {
        format!(
            "(String)\"{shown}\"[truncated {} chars]",
            chars.len() - MAX_SNIPPET_CHARS
        )
    } else {
        format!("(String)\"{shown}\"")
    }
}

/// 1-based line, and Jackson's column: characters consumed on the line, plus one.
fn line_column(chars: &[char], consumed: usize) -> (usize, usize) {
    let mut line = 1;
    let mut row_start = 0;
    for (i, &c) in chars.iter().enumerate().take(consumed) {
        if c == '\n' {
            line += 1;
            row_start = i + 1;
        }
    }
    (line, consumed - row_start + 1)
}

fn char_desc(c: char) -> String {
    let code = c as u32;
    if c.is_control() {
        format!("(CTRL-CHAR, code {code})")
    } else if code > 255 {
        format!("'{c}' (code {code} / 0x{code:x})")
    } else {
        format!("'{c}' (code {code})")
    }
}

struct Problem {
    message: String,
    /// Characters consumed when the problem was seen.
    at: usize,
}

type Scan<T = ()> = Result<T, Problem>;

struct Scanner<'a> {
    chars: &'a [char],
    pos: usize,
    depth: usize,
}

impl Scanner<'_> {
    fn fail<T>(&self, message: impl Into<String>, at: usize) -> Scan<T> {
        Err(Problem {
            message: message.into(),
            at,
        })
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.chars.get(self.pos) {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// The next significant character, consumed.
    fn next(&mut self) -> Option<char> {
        self.skip_ws();
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unexpected<T>(&self, c: char, expecting: &str) -> Scan<T> {
        self.fail(
            format!("Unexpected character ({}): {expecting}", char_desc(c)),
            self.pos,
        )
    }

    fn end_of_input<T>(&self, what: &str) -> Scan<T> {
        self.fail(format!("Unexpected end-of-input: {what}"), self.pos)
    }

    fn document(&mut self) -> Scan {
        match self.next() {
            None => self.fail("No content to map due to end-of-input", self.pos),
            Some(c) => {
                self.value(c)?;
                self.trailing()
            }
        }
    }

    /// Anything after the root value but whitespace. Jackson reads the next token: one it cannot
    /// read fails as anywhere else; one it can is refused as a trailing token.
    fn trailing(&mut self) -> Scan {
        let Some(c) = self.next() else {
            return Ok(());
        };
        let at = self.pos;
        let token = match c {
            '{' => "START_OBJECT",
            '[' => "START_ARRAY",
            '"' => "VALUE_STRING",
            't' => "VALUE_TRUE",
            'f' => "VALUE_FALSE",
            'n' => "VALUE_NULL",
            _ => "VALUE_NUMBER_INT",
        };
        if !matches!(c, '{' | '[') {
            // Only its first token is read: a scalar must be whole, an object or array open.
            self.value(c)?;
        }
        let token = if token == "VALUE_NUMBER_INT"
            && self.chars[at - 1..self.pos]
                .iter()
                .any(|c| matches!(c, '.' | 'e' | 'E'))
        {
            "VALUE_NUMBER_FLOAT"
        } else {
            token
        };
        self.fail(
            format!(
                "Trailing token (of type {token}) found after value (bound as `com.fasterxml.jackson.databind.JsonNode`): not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`"
            ),
            at,
        )
    }

    /// A value whose first character `c` was just consumed.
    fn value(&mut self, c: char) -> Scan {
        match c {
            '{' | '[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return self.fail(
                        format!(
                            "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH})",
                            self.depth
                        ),
                        self.pos,
                    );
                }
                let result = if c == '{' {
                    self.object()
                } else {
                    self.array()
                };
                self.depth -= 1;
                result
            }
            '"' => self.string(),
            '-' | '0'..='9' => self.number(c),
            ']' | '}' | ',' | ':' => self.unexpected(c, "expected a value"),
            c if c.is_alphabetic() || c == '_' || c == '$' => self.token(c),
            c => self.unexpected(c, &format!("expected a valid value {VALUE_LIST}")),
        }
    }

    /// `true`, `false`, `null`, or an unrecognized word.
    fn token(&mut self, first: char) -> Scan {
        let start = self.pos - 1;
        while let Some(&c) = self.chars.get(self.pos) {
            if c.is_alphanumeric() || c == '_' || c == '$' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        match word.as_str() {
            "true" | "false" | "null" => Ok(()),
            _ => {
                let _ = first;
                self.fail(
                    format!("Unrecognized token '{word}': was expecting {VALUE_LIST}"),
                    self.pos,
                )
            }
        }
    }

    fn number(&mut self, first: char) -> Scan {
        let mut c = Some(first);
        if first == '-' {
            c = self.chars.get(self.pos).copied();
            match c {
                Some(d) if d.is_ascii_digit() => self.pos += 1,
                Some(d) => {
                    self.pos += 1;
                    return self.fail(
                        format!(
                            "Unexpected character ({}) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value",
                            char_desc(d)
                        ),
                        self.pos,
                    );
                }
                None => return self.end_of_input("in numeric value"),
            }
        }
        if c == Some('0') && self.chars.get(self.pos).is_some_and(char::is_ascii_digit) {
            self.pos += 1;
            return self.fail(
                "Invalid numeric value: Leading zeroes not allowed",
                self.pos,
            );
        }
        self.digits();
        if self.chars.get(self.pos) == Some(&'.') {
            self.pos += 1;
            if !self.digits() {
                return self.bad_number_char("Decimal point not followed by a digit");
            }
        }
        if matches!(self.chars.get(self.pos), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.chars.get(self.pos), Some('+' | '-')) {
                self.pos += 1;
            }
            if !self.digits() {
                return self.bad_number_char("Exponent indicator not followed by a digit");
            }
        }
        Ok(())
    }

    fn bad_number_char(&mut self, what: &str) -> Scan {
        match self.chars.get(self.pos).copied() {
            Some(c) => {
                self.pos += 1;
                self.fail(
                    format!(
                        "Unexpected character ({}) in numeric value: {what}",
                        char_desc(c)
                    ),
                    self.pos,
                )
            }
            None => self.end_of_input("in numeric value"),
        }
    }

    fn digits(&mut self) -> bool {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(char::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn string(&mut self) -> Scan {
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return self.end_of_input("was expecting closing quote for a string value");
            };
            self.pos += 1;
            match c {
                '"' => return Ok(()),
                '\\' => {
                    let Some(&e) = self.chars.get(self.pos) else {
                        return self.end_of_input("was expecting closing quote for a string value");
                    };
                    self.pos += 1;
                    match e {
                        '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' => {}
                        'u' => {
                            for _ in 0..4 {
                                match self.chars.get(self.pos) {
                                    Some(h) if h.is_ascii_hexdigit() => self.pos += 1,
                                    Some(&h) => {
                                        self.pos += 1;
                                        return self.fail(
                                            format!(
                                                "Unexpected character ({}): expected a hex-digit for character escape sequence",
                                                char_desc(h)
                                            ),
                                            self.pos,
                                        );
                                    }
                                    None => {
                                        return self.end_of_input(
                                            "was expecting closing quote for a string value",
                                        );
                                    }
                                }
                            }
                        }
                        other => {
                            return self.fail(
                                format!("Unrecognized character escape {}", char_desc(other)),
                                self.pos,
                            );
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return self.fail(
                        format!(
                            "Illegal unquoted character ({}): has to be escaped using backslash to be included in string value",
                            char_desc(c)
                        ),
                        self.pos,
                    );
                }
                _ => {}
            }
        }
    }

    /// The input ended inside an object or array opened at `open_at`.
    fn unclosed(&self, kind: &str, open_at: usize) -> Scan {
        let (line, column) = line_column(self.chars, open_at);
        self.end_of_input(&format!(
            "expected close marker for {kind} (start marker at [Source: {}; line: {line}, column: {column}])",
            snippet(self.chars)
        ))
    }

    fn object(&mut self) -> Scan {
        let open_at = self.pos - 1;
        let mut first = true;
        loop {
            match self.next() {
                None => {
                    return self.unclosed("Object", open_at);
                }
                Some('}') if first => return Ok(()),
                Some('"') => self.string()?,
                Some(c) => {
                    return self.unexpected(c, "was expecting double-quote to start field name");
                }
            }
            first = false;
            match self.next() {
                Some(':') => {}
                Some(c) => {
                    return self
                        .unexpected(c, "was expecting a colon to separate field name and value");
                }
                None => {
                    return self.unclosed("Object", open_at);
                }
            }
            match self.next() {
                Some(c) => self.value(c)?,
                None => {
                    return self.unclosed("Object", open_at);
                }
            }
            match self.next() {
                Some(',') => {}
                Some('}') => return Ok(()),
                Some(c) => {
                    return self.unexpected(c, "was expecting comma to separate Object entries");
                }
                None => {
                    return self.unclosed("Object", open_at);
                }
            }
        }
    }

    fn array(&mut self) -> Scan {
        let open_at = self.pos - 1;
        let mut first = true;
        loop {
            match self.next() {
                None => {
                    return self.unclosed("Array", open_at);
                }
                Some(']') if first => return Ok(()),
                Some(c) => self.value(c)?,
            }
            first = false;
            match self.next() {
                Some(',') => {}
                Some(']') => return Ok(()),
                Some(c) => {
                    return self.unexpected(c, "was expecting comma to separate Array entries");
                }
                None => {
                    return self.unclosed("Array", open_at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> (String, Option<String>) {
        let d = diagnose(text);
        assert_eq!(d.code, DiagnosticCode::InvalidJsonDescription);
        (d.message, d.location)
    }

    #[test]
    fn unrecognized_token_as_aws_reports_it() {
        let (m, loc) = message("not a definition");
        assert_eq!(
            m,
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
        );
        assert_eq!(
            loc.as_deref(),
            Some("[Source: (String)\"not a definition\"; line: 1, column: 4]")
        );
    }

    #[test]
    fn unterminated_object() {
        let (m, _) = message("{\"a\": 1");
        assert!(
            m.starts_with("Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)\"{\\\"a\\\": 1\"; line: 1, column: 1])")
                || m.starts_with("Unexpected end-of-input: expected close marker for Object"),
            "{m}"
        );
    }

    #[test]
    fn trailing_comma_and_missing_colon() {
        assert!(message("{\"a\": 1,}").0.starts_with(
            "Unexpected character ('}' (code 125)): was expecting double-quote to start field name"
        ));
        assert!(message("{\"a\" 1}").0.starts_with(
            "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"
        ));
        assert!(message("[1 2]").0.starts_with(
            "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"
        ));
    }

    #[test]
    fn line_and_column_count_newlines() {
        let (_, loc) = message("{\n  \"a\": tru\n}");
        assert!(loc.unwrap_or_default().ends_with("line: 2, column: 11]"));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let (m, _) = message(&"[".repeat(200_000));
        assert!(m.starts_with("Document nesting depth (1001) exceeds the maximum allowed (1000)"));
        let deep_but_valid = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert_eq!(
            diagnose(&deep_but_valid).code,
            DiagnosticCode::TooDeeplyNested
        );
    }

    #[test]
    fn parse_json_gives_jacksons_message_without_the_location() {
        // AWS's recorded InvalidExecutionInput details (LocalStack's snapshots of AWS).
        let e = parse_json("not some json").unwrap_err();
        assert_eq!(
            e.message,
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        );
        assert_eq!(
            e.location,
            "[Source: (String)\"not some json\"; line: 1, column: 4]"
        );
        assert_eq!(
            parse_json("{'not': 'json'").unwrap_err().message,
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name"
        );
        assert_eq!(
            parse_json("").unwrap_err().message,
            "No content to map due to end-of-input"
        );
        assert_eq!(
            parse_json(" {\"a\": [1, 2.5e3, \"é\"]} ").unwrap(),
            serde_json::json!({"a": [1, 2.5e3, "é"]})
        );
    }

    #[test]
    fn content_after_the_value_is_refused() {
        assert_eq!(
            parse_json("{} x").unwrap_err().message,
            "Unrecognized token 'x': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        );
        assert_eq!(
            parse_json("{} {}").unwrap_err().message,
            "Trailing token (of type START_OBJECT) found after value (bound as `com.fasterxml.jackson.databind.JsonNode`): not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`"
        );
        assert!(
            parse_json("1 2.5")
                .unwrap_err()
                .message
                .contains("VALUE_NUMBER_FLOAT")
        );
        assert_eq!(
            diagnose("{\"StartAt\": \"A\"} ]").code,
            DiagnosticCode::InvalidJsonDescription
        );
    }

    #[test]
    fn deep_but_well_formed_text_is_not_described_in_serde_words_alone() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = parse_json(&deep).unwrap_err();
        assert!(
            e.message.starts_with("The JSON text is nested too deeply"),
            "{e}"
        );
    }

    #[test]
    fn long_sources_are_truncated() {
        let text = format!("{{\"a\": x{}", " ".repeat(600));
        let (_, loc) = message(&text);
        assert!(loc.unwrap_or_default().contains("[truncated 107 chars]"));
    }
}
