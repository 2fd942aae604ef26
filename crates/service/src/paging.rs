//! Pagination for every List* action and GetExecutionHistory: page sizes as AWS counts them and
//! opaque `nextToken`s.
//!
//! A token is URL-safe base64 of a small JSON object naming the list it belongs to (`list`), the
//! request it continues (`scope`, e.g. the state machine ARN and filter) and where to continue
//! (`after`). A token from another list or another request, or one that is not ours at all, is
//! `InvalidToken`, as on AWS ("keep all other arguments unchanged").

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::ServiceError;

/// The page size when `maxResults` is absent or 0.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest `maxResults` the model allows.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The number of items to return for a request's `maxResults` (absent or 0: 100; at most 1000).
/// Negative values cannot reach here (the model rejects them); they count as the default.
pub fn page_size(max_results: Option<i64>) -> usize {
    match max_results {
        Some(n) if n > 0 => usize::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE)),
        _ => DEFAULT_PAGE_SIZE,
    }
}

/// Makes a `nextToken` for list `list` (e.g. `ListStateMachines`), continuing request `scope`
/// after `after`.
pub fn encode_token<T: Serialize>(list: &str, scope: &str, after: &T) -> String {
    let payload = json!({ "list": list, "scope": scope, "after": after });
    URL_SAFE_NO_PAD.encode(payload.to_string())
}

/// Reads a `nextToken` made by [`encode_token`] for the same list and scope.
pub fn decode_token<T: DeserializeOwned>(
    list: &str,
    scope: &str,
    token: &str,
) -> Result<T, ServiceError> {
    let invalid = || ServiceError::invalid_token("Invalid token");
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    let payload: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if payload["list"] != list || payload["scope"] != scope {
        return Err(invalid());
    }
    serde_json::from_value(payload["after"].clone()).map_err(|_| invalid())
}

/// Reads the request's `nextToken`, if any.
pub fn token_of<T: DeserializeOwned>(
    token: Option<&str>,
    list: &str,
    scope: &str,
) -> Result<Option<T>, ServiceError> {
    token
        .map(|token| decode_token(list, scope, token))
        .transpose()
}

/// One page of a list: the items and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Cuts a page from items fetched with one extra (`limit + 1`): if the extra one is there, there
/// is a next page, continuing after the last item kept (`key` gives its cursor).
pub fn cut_page<T, K: Serialize>(
    mut fetched: Vec<T>,
    limit: usize,
    list: &str,
    scope: &str,
    key: impl Fn(&T) -> K,
) -> Page<T> {
    if fetched.len() > limit {
        fetched.truncate(limit);
        let next_token = fetched
            .last()
            .map(|last| encode_token(list, scope, &key(last)));
        Page {
            items: fetched,
            next_token,
        }
    } else {
        Page {
            items: fetched,
            next_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None), 100);
        assert_eq!(page_size(Some(0)), 100);
        assert_eq!(page_size(Some(7)), 7);
        assert_eq!(page_size(Some(1000)), 1000);
        assert_eq!(page_size(Some(5000)), 1000);
    }

    #[test]
    fn tokens_round_trip_within_their_list_and_scope() {
        let t = encode_token("ListStateMachines", "", &"sm-042");
        let after: String = decode_token("ListStateMachines", "", &t).unwrap();
        assert_eq!(after, "sm-042");
        assert!(t.len() < 1024);
        let other_list = decode_token::<String>("ListActivities", "", &t).unwrap_err();
        assert_eq!(other_list.code, "InvalidToken");
        let other_scope = decode_token::<String>("ListStateMachines", "arn", &t).unwrap_err();
        assert_eq!(other_scope.code, "InvalidToken");
        for junk in ["", "not base64!", "eyJ4IjoxfQ", "AAAA"] {
            let e = decode_token::<String>("ListStateMachines", "", junk).unwrap_err();
            assert_eq!(e.code, "InvalidToken", "{junk}");
            assert_eq!(e.message, "Invalid Token: 'Invalid token'");
        }
    }

    #[test]
    fn cutting_pages() {
        let page = cut_page(vec![1, 2, 3], 2, "L", "", |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        let after: i32 = decode_token("L", "", page.next_token.as_deref().unwrap()).unwrap();
        assert_eq!(after, 2);
        let last = cut_page(vec![1, 2], 2, "L", "", |n| *n);
        assert_eq!(last.next_token, None);
    }
}
