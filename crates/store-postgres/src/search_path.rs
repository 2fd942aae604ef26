//! The schema a connection's `options` put first on its `search_path`: libpq's way to name a
//! schema in a URL (`postgres://u@h/db?options=-csearch_path%3Dname`), which the store makes
//! if it is missing and keeps its tables in.

/// The first schema named by the last `search_path` setting in `options` (the server's
/// command-line switches, as libpq's `options` parameter or `PGOPTIONS` pass them: `-c
/// name=value`, `-cname=value` or `--name=value`), as the server resolves it: an unquoted name
/// folded to lower case, a double-quoted one kept as written. `None` when `options` sets no
/// `search_path`, or when its first entry is `$user` (the server's own rules then apply).
pub(crate) fn first_schema(options: Option<&str>) -> Option<String> {
    let args = split(options?);
    let mut found = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let setting = if arg == "-c" {
            it.next().map(String::as_str)
        } else if let Some(rest) = arg.strip_prefix("--") {
            Some(rest)
        } else {
            arg.strip_prefix("-c")
        };
        let Some((name, value)) = setting.and_then(|s| s.split_once('=')) else {
            continue;
        };
        if name.replace('-', "_").eq_ignore_ascii_case("search_path") {
            found = Some(value.to_owned());
        }
    }
    let path = found?;
    let first = first_entry(&path)?;
    (first != "$user" && !first.is_empty()).then_some(first)
}

/// The server's splitting of `options` (`pg_split_opts`): on white space, a backslash taking
/// the next character as it is.
fn split(options: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        args.push(cur);
    }
    args
}

/// The first entry of a `search_path` value: `"Quoted"` as written (`""` inside is one `"`),
/// anything else trimmed and folded to lower case.
fn first_entry(path: &str) -> Option<String> {
    let path = path.trim_start();
    if let Some(rest) = path.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    name.push('"');
                } else {
                    return Some(name);
                }
            } else {
                name.push(c);
            }
        }
        None
    } else {
        let first = path.split(',').next()?.trim();
        Some(first.to_ascii_lowercase())
    }
}

/// `name` as an SQL identifier, quoted (so any name, and none can inject anything).
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_the_first_on_the_search_path_in_every_form_the_server_takes() {
        for (options, want) in [
            ("-csearch_path=app", Some("app")),
            ("-c search_path=app", Some("app")),
            ("--search_path=app", Some("app")),
            ("--search-path=app", Some("app")),
            (
                "-c statement_timeout=5s -c search_path=app,public",
                Some("app"),
            ),
            ("-c search_path=first -c search_path=second", Some("second")),
            ("-c search_path=MyApp", Some("myapp")),
            ("-c search_path=\"MyApp\",public", Some("MyApp")),
            ("-c search_path=\"a\"\"b\"", Some("a\"b")),
            ("-c search_path=\\ app", Some("app")),
            ("-c search_path=\"$user\",public", None),
            ("-c search_path=$user", None),
            ("-c statement_timeout=5s", None),
            ("-c search_path=", None),
            ("", None),
        ] {
            assert_eq!(
                first_schema(Some(options)).as_deref(),
                want,
                "options {options:?}"
            );
        }
        assert_eq!(first_schema(None), None);
    }

    #[test]
    fn a_quoted_identifier_cannot_close_its_quotes() {
        assert_eq!(quoted("app"), "\"app\"");
        assert_eq!(
            quoted("x\"; DROP TABLE t; --"),
            "\"x\"\"; DROP TABLE t; --\""
        );
    }
}
