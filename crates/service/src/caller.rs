//! The account a request acts in.
//!
//! A server with access keys gives each key an account (the server's own unless the key names
//! another). The front end that checked the key runs the request inside [`in_account`]; the
//! control plane then creates that caller's state machines and activities in its account and
//! lists only that account's. Every other action names its resource by ARN, and the front end
//! has already refused an ARN of another account (`AccessDeniedException`), so what is read or
//! changed through an ARN is the caller's own.
//!
//! Outside [`in_account`] (no keys configured, or the runtime itself, such as a nested
//! execution being started), the server's own account applies.

use std::future::Future;

tokio::task_local! {
    static ACCOUNT: String;
}

/// Runs `request` as a caller of `account`.
pub async fn in_account<F: Future>(account: impl Into<String>, request: F) -> F::Output {
    ACCOUNT.scope(account.into(), request).await
}

/// The account the current request acts in, when a front end set one.
pub fn account() -> Option<String> {
    ACCOUNT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_account_holds_inside_the_scope_only() {
        assert_eq!(account(), None);
        let inside = in_account("111122223333", async { account() }).await;
        assert_eq!(inside.as_deref(), Some("111122223333"));
        assert_eq!(account(), None);
    }
}
