//! Delimited text as Step Functions parses it (the guide's "How Step Functions parses input
//! CSV files"): records end at a newline outside quotes; `"` quotes (so a field may hold the
//! delimiter and newlines) and `""` inside quotes is one `"`; a backslash keeps the backslash,
//! quote or delimiter after it and is dropped before anything else; every field is a string;
//! a short row gets empty strings, extra fields are skipped.

/// Why a record could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incomplete {
    /// The buffer ends inside the record: more bytes are needed (or it is the last one).
    NeedMore,
}

/// Parses one record from `buf`: its fields and the bytes it took (its newline included).
/// At `eof`, a record without a final newline ends at the end of `buf`; an empty `buf` has no
/// record. A record that is an empty line has no fields.
pub fn record(
    buf: &[u8],
    delimiter: u8,
    eof: bool,
) -> Result<Option<(Vec<String>, usize)>, Incomplete> {
    if buf.is_empty() {
        return if eof {
            Ok(None)
        } else {
            Err(Incomplete::NeedMore)
        };
    }
    let mut fields = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\\' {
            let Some(&next) = buf.get(i + 1) else {
                if eof {
                    i += 1;
                    continue;
                }
                return Err(Incomplete::NeedMore);
            };
            if next == b'\\' || next == b'"' || next == delimiter {
                field.push(next);
                i += 2;
            } else {
                // Dropped: the character after it stays.
                i += 1;
            }
            continue;
        }
        if quoted {
            if c == b'"' {
                match buf.get(i + 1) {
                    Some(b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    Some(_) => {
                        quoted = false;
                        i += 1;
                    }
                    None if eof => {
                        quoted = false;
                        i += 1;
                    }
                    None => return Err(Incomplete::NeedMore),
                }
            } else {
                field.push(c);
                i += 1;
            }
            continue;
        }
        match c {
            b'"' => {
                // `""` outside quotes is a quote too (the guide's `{""MyKey"":...}`), unless
                // it is a whole empty field.
                let Some(&next) = buf.get(i + 1) else {
                    if eof {
                        i += 1;
                        continue;
                    }
                    return Err(Incomplete::NeedMore);
                };
                if next == b'"' {
                    let after = match buf.get(i + 2) {
                        Some(&a) => Some(a),
                        None if eof => None,
                        None => return Err(Incomplete::NeedMore),
                    };
                    let whole = field.is_empty()
                        && after.is_none_or(|a| a == delimiter || a == b'\n' || a == b'\r');
                    if !whole {
                        field.push(b'"');
                    }
                    i += 2;
                } else {
                    quoted = true;
                    i += 1;
                }
            }
            b'\n' => {
                if field.last() == Some(&b'\r') {
                    field.pop();
                }
                let empty_line = fields.is_empty() && field.is_empty() && i == line_start(buf);
                if !empty_line {
                    fields.push(text(field));
                }
                return Ok(Some((fields, i + 1)));
            }
            c if c == delimiter => {
                fields.push(text(std::mem::take(&mut field)));
                i += 1;
            }
            _ => {
                field.push(c);
                i += 1;
            }
        }
    }
    if !eof {
        return Err(Incomplete::NeedMore);
    }
    if field.last() == Some(&b'\r') {
        field.pop();
    }
    fields.push(text(field));
    Ok(Some((fields, buf.len())))
}

/// A line that is only `\r\n` or `\n` is empty.
fn line_start(buf: &[u8]) -> usize {
    usize::from(buf.first() == Some(&b'\r'))
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, delimiter: u8) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut buf = text.as_bytes();
        while let Ok(Some((fields, used))) = record(buf, delimiter, true) {
            if !fields.is_empty() {
                out.push(fields);
            }
            buf = &buf[used..];
        }
        out
    }

    #[test]
    fn the_guides_example_row_parses_as_the_guide_shows() {
        let row = "abc,123,\"This string contains commas, a double quotation marks (\"\"), and a newline (\n)\",{\"\"MyKey\"\":\"\"MyValue\"\"},\"[1,2,3]\"\n";
        assert_eq!(
            all(row, b','),
            [[
                "abc",
                "123",
                "This string contains commas, a double quotation marks (\"), and a newline (\n)",
                "{\"MyKey\":\"MyValue\"}",
                "[1,2,3]"
            ]]
        );
    }

    #[test]
    fn backslashes_escape_themselves_quotes_and_the_delimiter_only() {
        assert_eq!(
            all(
                "path,size\nC:\\\\Program Files\\\\MyApp.exe,6534512\n",
                b','
            ),
            [
                vec!["path", "size"],
                vec!["C:\\Program Files\\MyApp.exe", "6534512"]
            ]
        );
        assert_eq!(all("a\\,b,c\\d\n", b','), [["a,b", "cd"]]);
        assert_eq!(all("a\\|b|c\n", b'|'), [["a|b", "c"]]);
    }

    #[test]
    fn crlf_empty_lines_and_a_last_line_without_newline() {
        assert_eq!(
            all("a;b\r\n\r\n,\nx;y", b';'),
            [vec!["a", "b"], vec![","], vec!["x", "y"]]
        );
        assert_eq!(all(",,\n", b','), [["", "", ""]]);
        assert_eq!(
            all("\"\",a\"\"b,\"x\"\"y\"\n", b','),
            [["", "a\"b", "x\"y"]]
        );
    }

    #[test]
    fn a_record_cut_by_the_buffer_asks_for_more() {
        assert_eq!(record(b"a,\"b\nc", b',', false), Err(Incomplete::NeedMore));
        assert_eq!(record(b"a,b", b',', false), Err(Incomplete::NeedMore));
        assert_eq!(
            record(b"a,\"b\nc\"\nnext", b',', false),
            Ok(Some((vec!["a".into(), "b\nc".into()], 8)))
        );
    }
}
