//! URL encoding for the HTTP Task: query strings, and `RequestBody` as
//! `application/x-www-form-urlencoded` under `Transform.RequestBodyEncoding = URL_ENCODED`.
//!
//! Every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, so a
//! space is `%20` and brackets in keys are `%5B`/`%5D`, as in the request AWS's guide shows
//! (`description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data`).
//! Nested objects become `key[sub]`; arrays follow the `ArrayFormat`.

use serde_json::Value;

/// How arrays in a URL-encoded body are written (`RequestEncodingOptions.ArrayFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArrayFormat {
    /// `array[0]=a&array[1]=b` (AWS's default).
    #[default]
    Indices,
    /// `array=a&array=b`
    Repeat,
    /// `array=a,b`
    Commas,
    /// `array[]=a&array[]=b`
    Brackets,
}

impl ArrayFormat {
    /// The format an `ArrayFormat` value names, if it is one AWS knows.
    pub fn parse(name: &str) -> Option<ArrayFormat> {
        Some(match name {
            "INDICES" => ArrayFormat::Indices,
            "REPEAT" => ArrayFormat::Repeat,
            "COMMAS" => ArrayFormat::Commas,
            "BRACKETS" => ArrayFormat::Brackets,
            _ => return None,
        })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (as a space); a malformed escape is kept as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// `name=value&…`, each side percent-encoded.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits a written query string (`a=1&b=two%20words`) into decoded pairs.
pub fn parse_query(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches('?')
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(part), String::new()),
        })
        .collect()
}

/// The text a scalar stands for in a URL: strings as they are, numbers and booleans as JSON
/// writes them, `null` as nothing. Objects and arrays as their JSON text.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A JSON object as a form body: `{"a": {"b": [1, 2]}}` with `Indices` is
/// `a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=2`. Empty objects and arrays contribute nothing.
pub fn url_encode_object(body: &serde_json::Map<String, Value>, format: ArrayFormat) -> String {
    let mut out = Vec::new();
    for (key, value) in body {
        flatten(key, value, format, &mut out);
    }
    out.join("&")
}

fn flatten(key: &str, value: &Value, format: ArrayFormat, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{key}[{k}]"), v, format, out);
            }
        }
        Value::Array(items) => {
            let all_scalars = items.iter().all(|v| !v.is_object() && !v.is_array());
            match format {
                ArrayFormat::Commas if all_scalars => {
                    if !items.is_empty() {
                        let joined: Vec<String> = items
                            .iter()
                            .map(|v| percent_encode(&scalar_text(v)))
                            .collect();
                        out.push(format!("{}={}", percent_encode(key), joined.join(",")));
                    }
                }
                // Commas cannot say where a nested object or array starts and ends: those are
                // written with indices, which can.
                ArrayFormat::Indices | ArrayFormat::Commas => {
                    for (i, v) in items.iter().enumerate() {
                        flatten(&format!("{key}[{i}]"), v, format, out);
                    }
                }
                ArrayFormat::Brackets => {
                    for v in items {
                        flatten(&format!("{key}[]"), v, format, out);
                    }
                }
                ArrayFormat::Repeat => {
                    for v in items {
                        flatten(key, v, format, out);
                    }
                }
            }
        }
        scalar => out.push(format!(
            "{}={}",
            percent_encode(key),
            percent_encode(&scalar_text(scalar))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(body: Value, format: ArrayFormat) -> String {
        url_encode_object(body.as_object().expect("an object"), format)
    }

    #[test]
    fn arrays_follow_each_format_as_the_guide_shows() {
        let body = json!({"array": ["a", "b", "c", "d"]});
        let decoded = |f| percent_decode(&encode(body.clone(), f));
        assert_eq!(
            decoded(ArrayFormat::Indices),
            "array[0]=a&array[1]=b&array[2]=c&array[3]=d"
        );
        assert_eq!(
            decoded(ArrayFormat::Repeat),
            "array=a&array=b&array=c&array=d"
        );
        assert_eq!(decoded(ArrayFormat::Commas), "array=a,b,c,d");
        assert_eq!(
            decoded(ArrayFormat::Brackets),
            "array[]=a&array[]=b&array[]=c&array[]=d"
        );
    }

    #[test]
    fn the_guides_invoice_body_encodes_byte_for_byte() {
        let body = json!({
            "description": "Monthly subscription",
            "metadata": {"order_details": "monthly report data"},
            "customer": "1234567890"
        });
        assert_eq!(
            encode(body, ArrayFormat::Indices),
            "description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data&customer=1234567890"
        );
    }

    #[test]
    fn scalars_nesting_and_empties() {
        let body = json!({
            "n": 1.5, "t": true, "z": null, "e": [], "o": {},
            "deep": {"list": [{"k": "v"}, 2]},
            "amp": "a&b=c"
        });
        assert_eq!(
            percent_decode(&encode(body.clone(), ArrayFormat::Indices)),
            "n=1.5&t=true&z=&deep[list][0][k]=v&deep[list][1]=2&amp=a&b=c"
        );
        // The reserved characters in a value stay escaped on the wire.
        assert!(encode(body.clone(), ArrayFormat::Indices).ends_with("amp=a%26b%3Dc"));
        assert_eq!(
            percent_decode(&encode(body.clone(), ArrayFormat::Brackets)),
            "n=1.5&t=true&z=&deep[list][][k]=v&deep[list][]=2&amp=a&b=c"
        );
        // Commas falls back to indices for an array holding objects.
        assert_eq!(
            percent_decode(&encode(body, ArrayFormat::Commas)),
            "n=1.5&t=true&z=&deep[list][0][k]=v&deep[list][1]=2&amp=a&b=c"
        );
    }

    #[test]
    fn commas_escape_each_item_and_keep_the_separator() {
        assert_eq!(
            encode(json!({"a": ["x y", "1,2"]}), ArrayFormat::Commas),
            "a=x%20y,1%2C2"
        );
    }

    #[test]
    fn percent_encoding_round_trips_unicode_and_reserved_characters() {
        let text = "héllo wörld/?#[]@!$&'()*+,;=%~-._";
        let encoded = percent_encode(text);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%-._~".contains(&b)),
            "{encoded}"
        );
        assert_eq!(percent_decode(&encoded), text);
    }

    #[test]
    fn query_strings_parse_and_render() {
        let pairs = parse_query("?a=1&b=two%20words&flag&c=x+y&bad=%zz");
        assert_eq!(
            pairs,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "two words".to_owned()),
                ("flag".to_owned(), String::new()),
                ("c".to_owned(), "x y".to_owned()),
                ("bad".to_owned(), "%zz".to_owned()),
            ]
        );
        assert_eq!(query_string(&pairs[..2]), "a=1&b=two%20words".to_owned());
    }

    #[test]
    fn array_formats_have_awss_names() {
        assert_eq!(ArrayFormat::parse("COMMAS"), Some(ArrayFormat::Commas));
        assert_eq!(ArrayFormat::parse("commas"), None);
    }
}
