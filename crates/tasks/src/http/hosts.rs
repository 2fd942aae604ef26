//! Which hosts the HTTP Task may reach: `[http] allow_hosts` and `deny_hosts` in stepwise.toml.
//!
//! A pattern is a host name or address written exactly (`api.example.com`, `127.0.0.1`, `::1`),
//! or `*.suffix`, which matches every name ending in `.suffix` (not `suffix` itself). Names
//! compare without regard to case. A denied host is refused even when it is also allowed; an
//! empty allow list allows every host not denied. AWS has no such lists (its HTTP Task reaches
//! whatever the network lets it): they are Stepwise's, so a definition cannot make the server
//! call its own neighbours unless the operator says so.

use crate::config::HttpConfig;

/// Why a host was refused, for the task's cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRefused {
    pub host: String,
    pub reason: &'static str,
}

impl std::fmt::Display for HostRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "The host '{}' {}", self.host, self.reason)
    }
}

impl std::error::Error for HostRefused {}

/// Whether `[http]` lets the HTTP Task call `host` (as a URL writes it; IPv6 in brackets or not).
pub fn check(config: &HttpConfig, host: &str) -> Result<(), HostRefused> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let refused = |reason| {
        Err(HostRefused {
            host: bare.to_owned(),
            reason,
        })
    };
    if config.deny_hosts.iter().any(|p| matches(p, bare)) {
        return refused("is in the [http] deny_hosts list of the Stepwise configuration");
    }
    if !config.allow_hosts.is_empty() && !config.allow_hosts.iter().any(|p| matches(p, bare)) {
        return refused("is not in the [http] allow_hosts list of the Stepwise configuration");
    }
    Ok(())
}

fn matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            // Bytes, not str slices: a host may hold non-ASCII characters.
            let (host, suffix) = (host.as_bytes(), suffix.as_bytes());
            host.len() > suffix.len() + 1
                && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                && host[host.len() - suffix.len() - 1] == b'.'
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Follows up to 10 redirects, but never to a host `[http]` refuses: the redirect ends the call
/// with a [`HostRefused`] error instead, before anything is sent there.
pub fn redirect_policy(config: &HttpConfig) -> reqwest::redirect::Policy {
    let config = config.clone();
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 10 {
            return attempt.error("too many redirects (more than 10)");
        }
        let refused = match attempt.url().host_str() {
            Some(host) => check(&config, host).err(),
            None => None,
        };
        match refused {
            Some(refused) => attempt.error(refused),
            None => attempt.follow(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(allow: &[&str], deny: &[&str]) -> HttpConfig {
        HttpConfig {
            allow_hosts: allow.iter().map(|s| s.to_string()).collect(),
            deny_hosts: deny.iter().map(|s| s.to_string()).collect(),
            ..HttpConfig::default()
        }
    }

    #[test]
    fn an_empty_allow_list_allows_all_but_the_denied() {
        let c = config(&[], &["169.254.169.254", "*.internal"]);
        assert!(check(&c, "api.example.com").is_ok());
        assert!(check(&c, "169.254.169.254").is_err());
        assert!(check(&c, "db.internal").is_err());
        assert!(check(&c, "DB.Internal").is_err());
        // `*.internal` is about names under it, not the name itself.
        assert!(check(&c, "internal").is_ok());
    }

    #[test]
    fn deny_wins_over_allow() {
        let c = config(&["*.example.com"], &["admin.example.com"]);
        assert!(check(&c, "api.example.com").is_ok());
        assert!(check(&c, "a.b.example.com").is_ok());
        let e = check(&c, "admin.example.com").expect_err("denied");
        assert!(e.to_string().contains("deny_hosts"), "{e}");
        let e = check(&c, "example.org").expect_err("not allowed");
        assert!(e.to_string().contains("allow_hosts"), "{e}");
        // A suffix match is on a label boundary.
        assert!(check(&c, "badexample.com").is_err());
        assert!(check(&c, "example.com").is_err());
    }

    #[test]
    fn ipv6_hosts_match_with_or_without_brackets() {
        let c = config(&["::1"], &[]);
        assert!(check(&c, "[::1]").is_ok());
        let c = config(&["[::1]"], &[]);
        assert!(check(&c, "::1").is_ok());
        assert!(check(&c, "127.0.0.1").is_err());
    }
}
