//! Who is calling, and may they: AWS Signature Version 4 on every API request, checked against
//! the keys the server is given, and IAM-style policy statements on each key.
//!
//! With no keys configured, requests are not checked (the server then listens on loopback
//! only, unless told `--allow-anonymous`). With keys, a request must carry a SigV4 signature
//! (the `Authorization` header, or a presigned query) made with a known key's secret, over the
//! request as received (its payload hash included), dated within 5 minutes of the server's
//! clock; then the key's policy must allow the action on its resource. The refusals are AWS's
//! (`MissingAuthenticationTokenException`, `IncompleteSignatureException`,
//! `UnrecognizedClientException`, `InvalidSignatureException`, `AccessDeniedException`, all
//! HTTP 400 as Step Functions answers them).
//!
//! The policy language is the part of IAM's identity-based policies that applies here:
//! `Statement`s with `Effect` (`Allow`/`Deny`), `Action`/`NotAction` (`states:StartExecution`,
//! with `*` and `?` wildcards, case-insensitive) and `Resource`/`NotResource` (ARNs, with
//! wildcards). An explicit Deny wins; otherwise an Allow that matches allows; otherwise the
//! request is denied. Conditions, principals and resource-based policies are not supported
//! (a statement with a `Condition` is refused when the keys are loaded).
//!
//! Each key acts in an account: its own `account`, else the server's. Its state machines and
//! activities are made in that account and only that account's are listed
//! ([`stepwise_service::caller`]); an ARN of another account is refused before any policy is
//! read, as AWS refuses a cross-account call that no resource-based policy allows.
//!
//! Executions call this server too (`aws-sdk:sfn:*` Tasks). When it has keys, it trusts its
//! executions with a secret of its own ([`Keys::trust_executions`]): such a call is signed with
//! the key id `EXECUTION_KEY_PREFIX` + the execution's account and acts in that account.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// How far a request's date may be from the server's clock.
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The longest a presigned request may stay valid (`X-Amz-Expires`): a week, SigV4's limit.
const MAX_PRESIGNED_EXPIRES: u64 = 7 * 24 * 60 * 60;

/// The keys file: `{"keys": [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    pub keys: Vec<KeySpec>,
}

/// One access key: its secret, who it is, and what it may do.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySpec {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The IAM user's name (in `arn:aws:iam::ACCOUNT:user/NAME`); the key id if none.
    #[serde(default)]
    pub user: Option<String>,
    /// The account (12 digits) the key acts in; the server's if none.
    #[serde(default)]
    pub account: Option<String>,
    /// An identity-based policy document; none: everything is allowed (as an account's root).
    #[serde(default)]
    pub policy: Option<PolicyDocument>,
}

/// An IAM policy document (the supported part).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    #[serde(default)]
    pub version: Option<String>,
    pub statement: OneOrMany<Statement>,
}

/// One statement.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(default)]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(default)]
    pub action: Option<OneOrMany<String>>,
    #[serde(default)]
    pub not_action: Option<OneOrMany<String>>,
    #[serde(default)]
    pub resource: Option<OneOrMany<String>>,
    #[serde(default)]
    pub not_resource: Option<OneOrMany<String>>,
    #[serde(default)]
    pub condition: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// A JSON value that may be one item or a list of them, as IAM writes `Action` and `Resource`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn items(&self) -> &[T] {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t),
            OneOrMany::Many(v) => v,
        }
    }
}

/// Where the key ids of this server's own executions start (the account follows).
pub const EXECUTION_KEY_PREFIX: &str = "STEPWISEEXECUTION";

/// The keys a server checks requests against.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    keys: HashMap<String, Key>,
    /// The secret this server's executions sign their calls to it with.
    executions: Option<String>,
}

/// A caller the signature proved.
#[derive(Debug, Clone)]
pub struct Key {
    secret: String,
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    pub principal: String,
    /// The account the key acts in.
    pub account: String,
    policy: Option<PolicyDocument>,
}

/// Whether `account` is an AWS account id: 12 digits.
fn is_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// The account field of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:…`), when it has one.
fn account_of(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    (fields.next() == Some("arn"))
        .then(|| fields.nth(3))
        .flatten()
        .filter(|a| !a.is_empty())
}

impl Keys {
    /// The keys of `file` (JSON), for the account `account`; an error says what is wrong.
    pub fn parse(text: &str, account: &str) -> Result<Keys, String> {
        let file: KeysFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for k in file.keys {
            if k.access_key_id.is_empty() || k.secret_access_key.is_empty() {
                return Err("a key needs an accessKeyId and a secretAccessKey".into());
            }
            if let Some(policy) = &k.policy {
                for s in policy.statement.items() {
                    if s.condition.is_some() {
                        return Err(format!(
                            "the key {}: Condition is not supported in policies",
                            k.access_key_id
                        ));
                    }
                    if s.action.is_some() == s.not_action.is_some() {
                        return Err(format!(
                            "the key {}: a statement needs exactly one of Action and NotAction",
                            k.access_key_id
                        ));
                    }
                    if s.resource.is_some() == s.not_resource.is_some() {
                        return Err(format!(
                            "the key {}: a statement needs exactly one of Resource and NotResource",
                            k.access_key_id
                        ));
                    }
                }
            }
            let account = match k.account {
                Some(a) if is_account(&a) => a,
                Some(a) => {
                    return Err(format!(
                        "the key {}: the account '{a}' is not 12 digits",
                        k.access_key_id
                    ));
                }
                None => account.to_owned(),
            };
            if k.access_key_id.starts_with(EXECUTION_KEY_PREFIX) {
                return Err(format!(
                    "the key {}: ids starting with {EXECUTION_KEY_PREFIX} are the server's own",
                    k.access_key_id
                ));
            }
            let user = k.user.clone().unwrap_or_else(|| k.access_key_id.clone());
            let key = Key {
                secret: k.secret_access_key,
                principal: format!("arn:aws:iam::{account}:user/{user}"),
                account,
                policy: k.policy,
            };
            if keys.insert(k.access_key_id.clone(), key).is_some() {
                return Err(format!("the key {} is given twice", k.access_key_id));
            }
        }
        Ok(Keys {
            keys,
            executions: None,
        })
    }

    /// Accept calls from this server's own executions, signed with a secret made here (32
    /// random bytes, returned for the executions' client; see [`EXECUTION_KEY_PREFIX`]). Each
    /// acts in its execution's account with every action allowed there (execution roles'
    /// policies are not modelled).
    pub fn trust_executions(mut self) -> Result<(Keys, String), String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers: {e}"))?;
        let secret = hex::encode(bytes);
        self.executions = Some(secret.clone());
        Ok((self, secret))
    }

    /// The key with this id: a configured one, or one of this server's executions.
    fn key(&self, access_key_id: &str) -> Option<Cow<'_, Key>> {
        if let Some(key) = self.keys.get(access_key_id) {
            return Some(Cow::Borrowed(key));
        }
        let secret = self.executions.as_ref()?;
        let account = access_key_id
            .strip_prefix(EXECUTION_KEY_PREFIX)
            .filter(|a| is_account(a))?;
        Some(Cow::Owned(Key {
            secret: secret.clone(),
            principal: format!("arn:aws:sts::{account}:assumed-role/StepwiseExecution/execution"),
            account: account.to_owned(),
            policy: None,
        }))
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key with this id and secret (the console's sign-in), or none: an unknown id and a
    /// wrong secret get one answer. The secrets are compared as SHA-256 digests in constant
    /// time, so neither their content nor their length shows in the time taken.
    pub fn by_secret(&self, access_key_id: &str, secret: &str) -> Option<&Key> {
        let given = Sha256::digest(secret.as_bytes());
        let key = self.keys.get(access_key_id);
        let expected = Sha256::digest(key.map_or(&[][..], |k| k.secret.as_bytes()));
        let same = constant_time_eq(&given, &expected);
        key.filter(|_| same)
    }

    /// The key that signed this request, once its signature is checked.
    pub fn authenticate(
        &self,
        request: &SignedRequest<'_>,
        now: SystemTime,
    ) -> Result<Cow<'_, Key>, ApiError> {
        let sig = Signature::of(request)?;
        let key = self.key(&sig.access_key).ok_or_else(|| {
            ApiError::client(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
        let date = parse_amz_date(&sig.date).ok_or_else(|| {
            ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{}'.",
                    sig.date
                ),
            )
        })?;
        if !sig.scope_date_matches() {
            return Err(invalid_signature());
        }
        check_skew(date, now, &sig.date)?;
        if let Some(expires) = sig.expires {
            if now > date + Duration::from_secs(expires) {
                return Err(ApiError::client(
                    "InvalidSignatureException",
                    "Signature expired: the presigned request's X-Amz-Expires has passed.",
                ));
            }
        }
        let signing_key =
            aws_sigv4::sign::v4::generate_signing_key(&key.secret, date, &sig.region, &sig.service);
        let signed_with = |whitespace: Whitespace| {
            let canonical = canonical_request(request, &sig, whitespace);
            let string_to_sign = format!(
                "AWS4-HMAC-SHA256\n{}\n{}\n{}",
                sig.date,
                sig.scope,
                hex::encode(Sha256::digest(canonical.as_bytes()))
            );
            let expected =
                aws_sigv4::sign::v4::calculate_signature(&signing_key, string_to_sign.as_bytes());
            constant_time_eq(expected.as_bytes(), sig.signature.as_bytes())
        };
        // The SDKs differ on whitespace other than spaces in header values; whichever family
        // signed the request, its canonical form is one of the two.
        let accepted = signed_with(Whitespace::All)
            || (has_other_whitespace(request, &sig) && signed_with(Whitespace::Spaces));
        if !accepted {
            return Err(invalid_signature());
        }
        Ok(key)
    }

    /// Whether `key` may call `action` (`states:StartExecution`) on `resource`: a resource of
    /// another account never (no resource-based policy can allow it here), else as the key's
    /// policy says.
    pub fn authorize(&self, key: &Key, action: &str, resource: &str) -> Result<(), ApiError> {
        if account_of(resource).is_some_and(|owner| owner != key.account) {
            return Err(denied(key, action, resource, Refused::OtherAccount));
        }
        let Some(policy) = &key.policy else {
            return Ok(());
        };
        let mut allowed = false;
        for s in policy.statement.items() {
            if !statement_matches(s, action, resource) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Err(denied(key, action, resource, Refused::Denied)),
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            Ok(())
        } else {
            Err(denied(key, action, resource, Refused::NotAllowed))
        }
    }
}

/// Why a call is refused.
enum Refused {
    /// A Deny statement matches.
    Denied,
    /// No Allow statement matches.
    NotAllowed,
    /// The resource is another account's.
    OtherAccount,
}

fn denied(key: &Key, action: &str, resource: &str, why: Refused) -> ApiError {
    let why = match why {
        Refused::Denied => "with an explicit deny in an identity-based policy".to_owned(),
        Refused::NotAllowed => {
            format!("because no identity-based policy allows the {action} action")
        }
        Refused::OtherAccount => {
            format!("because no resource-based policy allows the {action} action")
        }
    };
    ApiError::client(
        "AccessDeniedException",
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
            key.principal
        ),
    )
}

fn statement_matches(s: &Statement, action: &str, resource: &str) -> bool {
    let action_ok = match (&s.action, &s.not_action) {
        (Some(a), _) => a.items().iter().any(|p| wildcard(p, action, false)),
        (None, Some(n)) => !n.items().iter().any(|p| wildcard(p, action, false)),
        (None, None) => false,
    };
    let resource_ok = match (&s.resource, &s.not_resource) {
        (Some(r), _) => r.items().iter().any(|p| wildcard(p, resource, true)),
        (None, Some(n)) => !n.items().iter().any(|p| wildcard(p, resource, true)),
        (None, None) => false,
    };
    action_ok && resource_ok
}

/// IAM's wildcard match: `*` any run of characters, `?` any one; actions compare without
/// case, resources (ARNs) with it.
fn wildcard(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if case_sensitive {
            s.chars().collect()
        } else {
            s.chars().flat_map(char::to_lowercase).collect()
        }
    };
    let (p, t) = (fold(pattern), fold(text));
    // Iterative glob matching with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The parts of a request a signature covers.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A request's SigV4 signature, from its `Authorization` header or its query.
#[derive(Debug)]
struct Signature {
    access_key: String,
    /// `DATE/REGION/SERVICE/aws4_request`.
    scope: String,
    scope_date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    /// `X-Amz-Date` (`20240101T000000Z`).
    date: String,
    /// A presigned request's `X-Amz-Expires`.
    expires: Option<u64>,
    presigned: bool,
}

impl Signature {
    fn of(r: &SignedRequest<'_>) -> Result<Signature, ApiError> {
        let query = r.query.unwrap_or_default();
        let q = |name: &str| -> Option<String> {
            query.split('&').find_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k == name).then(|| percent_decode(v))
            })
        };
        if q("X-Amz-Signature").is_some() {
            return Self::presigned(q);
        }
        let Some(auth) = r.headers.get("authorization") else {
            return Err(ApiError::client(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ));
        };
        let auth = auth.to_str().map_err(|_| incomplete("Authorization"))?;
        let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth}"
                ),
            ));
        };
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let mut missing = Vec::new();
        for (name, v) in [
            ("Credential", credential),
            ("Signature", signature),
            ("SignedHeaders", signed),
        ] {
            if v.is_none() {
                missing.push(format!("Authorization header requires '{name}' parameter."));
            }
        }
        let date = r.headers.get("x-amz-date").and_then(|v| v.to_str().ok());
        if date.is_none() {
            missing.push(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            );
        }
        let (Some(credential), Some(signed), Some(signature), Some(date)) =
            (credential, signed, signature, date)
        else {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!("{} Authorization={auth}", missing.join(" ")),
            ));
        };
        Self::parts(credential, signed, signature, date, None, false)
    }

    fn presigned(q: impl Fn(&str) -> Option<String>) -> Result<Signature, ApiError> {
        if q("X-Amz-Algorithm").as_deref() != Some("AWS4-HMAC-SHA256") {
            return Err(incomplete("X-Amz-Algorithm"));
        }
        let credential = q("X-Amz-Credential").ok_or_else(|| incomplete("X-Amz-Credential"))?;
        let signed = q("X-Amz-SignedHeaders").ok_or_else(|| incomplete("X-Amz-SignedHeaders"))?;
        let signature = q("X-Amz-Signature").ok_or_else(|| incomplete("X-Amz-Signature"))?;
        let date = q("X-Amz-Date").ok_or_else(|| incomplete("X-Amz-Date"))?;
        let expires = match q("X-Amz-Expires") {
            None => None,
            Some(e) => match e.parse::<u64>() {
                Ok(n) if n <= MAX_PRESIGNED_EXPIRES => Some(n),
                _ => {
                    return Err(ApiError::client(
                        "IncompleteSignatureException",
                        format!(
                            "X-Amz-Expires must be a number of seconds from 0 to {MAX_PRESIGNED_EXPIRES} (a week). X-Amz-Expires={e}"
                        ),
                    ));
                }
            },
        };
        Self::parts(&credential, &signed, &signature, &date, expires, true)
    }

    fn parts(
        credential: &str,
        signed: &str,
        signature: &str,
        date: &str,
        expires: Option<u64>,
        presigned: bool,
    ) -> Result<Signature, ApiError> {
        let (access_key, scope) = credential.split_once('/').ok_or_else(|| {
            ApiError::client(
                "IncompleteSignatureException",
                format!("Credential should be scoped to a valid region. Credential={credential}"),
            )
        })?;
        let fields: Vec<&str> = scope.split('/').collect();
        let [scope_date, region, service, terminator] = fields[..] else {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Credential should be scoped to correct service: 'states'. Credential={credential}"
                ),
            ));
        };
        if terminator != "aws4_request" {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
                ),
            ));
        }
        Ok(Signature {
            access_key: access_key.to_owned(),
            scope: scope.to_owned(),
            scope_date: scope_date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            signed_headers: signed.split(';').map(str::to_owned).collect(),
            signature: signature.to_owned(),
            date: date.to_owned(),
            expires,
            presigned,
        })
    }

    fn scope_date_matches(&self) -> bool {
        self.date.get(..8) == Some(self.scope_date.as_str())
    }
}

fn incomplete(what: &str) -> ApiError {
    ApiError::client(
        "IncompleteSignatureException",
        format!("The request signature is missing or malformed: {what}"),
    )
}

fn invalid_signature() -> ApiError {
    ApiError::client(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation \
         for details.",
    )
}

/// A request dated too far from now is refused, in AWS's words.
fn check_skew(date: SystemTime, now: SystemTime, shown: &str) -> Result<(), ApiError> {
    let fmt = |t: SystemTime| {
        chrono::DateTime::<chrono::Utc>::from(t)
            .format("%Y%m%dT%H%M%SZ")
            .to_string()
    };
    if date + MAX_SKEW < now {
        return Err(ApiError::client(
            "InvalidSignatureException",
            format!(
                "Signature expired: {shown} is now earlier than {} ({} - 5 min.)",
                fmt(now - MAX_SKEW),
                fmt(now)
            ),
        ));
    }
    if date > now + MAX_SKEW {
        return Err(ApiError::client(
            "InvalidSignatureException",
            format!(
                "Signature not yet current: {shown} is still later than {} ({} + 5 min.)",
                fmt(now + MAX_SKEW),
                fmt(now)
            ),
        ));
    }
    Ok(())
}

fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let t = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ").ok()?;
    Some(t.and_utc().into())
}

/// How a signer collapses whitespace in a header value. SigV4 says "sequential spaces"; botocore
/// (and so boto3 and the AWS CLI) trims and collapses every kind of whitespace (tabs too), the
/// Rust SDK's aws-sigv4 only spaces.
#[derive(Debug, Clone, Copy)]
enum Whitespace {
    All,
    Spaces,
}

/// Whether a signed header's value holds whitespace other than spaces (where the two rules differ).
fn has_other_whitespace(r: &SignedRequest<'_>, sig: &Signature) -> bool {
    sig.signed_headers.iter().any(|name| {
        r.headers.get_all(name.as_str()).iter().any(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .any(|c| c.is_whitespace() && c != ' ')
        })
    })
}

/// A header value as `whitespace`'s signers canonicalize it.
fn canonical_value(value: &str, whitespace: Whitespace) -> String {
    match whitespace {
        Whitespace::All => value.split_whitespace().collect::<Vec<_>>().join(" "),
        Whitespace::Spaces => value
            .split(' ')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// SigV4's canonical request for `r` as `sig` signed it.
fn canonical_request(r: &SignedRequest<'_>, sig: &Signature, whitespace: Whitespace) -> String {
    let path = if r.path.is_empty() { "/" } else { r.path };
    // The path as the SDKs sign it for non-S3 services: each segment URI-encoded (twice: once
    // as sent, once in the canonical form).
    let canonical_path = path
        .split('/')
        .map(|seg| uri_encode(&percent_decode(seg), false))
        .map(|seg| uri_encode(&seg, false))
        .collect::<Vec<_>>()
        .join("/");
    let mut params: Vec<(String, String)> = r
        .query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), true),
                uri_encode(&percent_decode(v), true),
            )
        })
        .filter(|(k, _)| !(sig.presigned && k == "X-Amz-Signature"))
        .collect();
    params.sort();
    let query = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &sig.signed_headers {
        let values: Vec<String> = r
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| canonical_value(&String::from_utf8_lossy(v.as_bytes()), whitespace))
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    let payload = r
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| hex::encode(Sha256::digest(r.body)));
    format!(
        "{}\n{canonical_path}\n{query}\n{headers}\n{}\n{payload}",
        r.method,
        sig.signed_headers.join(";")
    )
}

/// SigV4's URI encoding: everything but `A-Z a-z 0-9 - _ . ~` (and `/` in a path).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The same, keeping `/` (a path's separators).
const UNRESERVED_PATH: &percent_encoding::AsciiSet = &UNRESERVED.remove(b'/');

fn uri_encode(s: &str, encode_slash: bool) -> String {
    let set = if encode_slash {
        UNRESERVED
    } else {
        UNRESERVED_PATH
    };
    percent_encoding::utf8_percent_encode(s, set).to_string()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The IAM action name of a Step Functions action.
pub fn iam_action(action: &str) -> String {
    format!("states:{action}")
}

/// The resource an action acts on, for its policy check: the ARN its input names (the state
/// machine, execution, activity, Map Run or tagged resource; for a Create action, the ARN it
/// would create), else `*`.
pub fn resource_of(action: &str, input: &Value, arns: &stepwise_service::arn::Arns) -> String {
    let text = |k: &str| input.get(k).and_then(Value::as_str);
    for key in [
        "stateMachineArn",
        "executionArn",
        "activityArn",
        "mapRunArn",
        "resourceArn",
        "stateMachineAliasArn",
        "stateMachineVersionArn",
    ] {
        if let Some(arn) = text(key) {
            return arn.to_owned();
        }
    }
    match (action, text("name")) {
        ("CreateStateMachine", Some(name)) => arns.state_machine(name),
        ("CreateActivity", Some(name)) => arns.activity(name),
        // The alias of the state machine whose versions it routes to.
        ("CreateStateMachineAlias", Some(name)) => input
            .pointer("/routingConfiguration/0/stateMachineVersionArn")
            .and_then(Value::as_str)
            .map_or_else(
                || "*".to_owned(),
                |version| format!("{}:{name}", stepwise_service::Arns::unqualified(version)),
            ),
        _ => "*".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(wildcard(
            "states:Describe*",
            "states:describeexecution",
            false
        ));
        assert!(wildcard("states:*", "states:StartExecution", false));
        assert!(!wildcard(
            "states:Describe*",
            "states:StartExecution",
            false
        ));
        assert!(wildcard("states:Li?t*", "states:ListExecutions", false));
        assert!(wildcard(
            "arn:aws:states:*:*:stateMachine:orders-*",
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders-eu",
            true
        ));
        assert!(!wildcard(
            "arn:aws:states:*:*:stateMachine:Orders-*",
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders-eu",
            true
        ));
        assert!(wildcard("*", "", true));
        assert!(wildcard("a*b*c", "axxbyyc", true));
        assert!(!wildcard("a*b*c", "axxbyy", true));
    }

    fn keys(policy: &str) -> Keys {
        let text = format!(
            r#"{{"keys": [{{"accessKeyId": "AK", "secretAccessKey": "s", "user": "bob", "policy": {policy}}}]}}"#
        );
        Keys::parse(&text, "123456789012").expect("keys")
    }

    #[test]
    fn a_deny_wins_over_an_allow_and_nothing_allowed_is_denied() {
        let k = keys(
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
                {"Effect": "Deny", "Action": ["states:Delete*"], "Resource": "arn:aws:states:*:*:stateMachine:keep*"}
            ]}"#,
        );
        let key = &k.keys["AK"];
        let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:keep-me";
        assert!(k.authorize(key, "states:StartExecution", sm).is_ok());
        let e = k
            .authorize(key, "states:DeleteStateMachine", sm)
            .expect_err("denied");
        assert_eq!(e.error.code, "AccessDeniedException");
        assert_eq!(
            e.error.message,
            format!(
                "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: \
                 states:DeleteStateMachine on resource: {sm} with an explicit deny in an \
                 identity-based policy"
            )
        );
        let read_only = keys(
            r#"{"Statement": {"Effect": "Allow", "Action": ["states:Describe*", "states:List*"], "Resource": "*"}}"#,
        );
        let e = read_only
            .authorize(&read_only.keys["AK"], "states:StartExecution", sm)
            .expect_err("not allowed");
        assert!(
            e.error.message.ends_with(
                "because no identity-based policy allows the states:StartExecution action"
            ),
            "{}",
            e.error.message
        );
    }

    #[test]
    fn conditions_are_refused_when_the_keys_are_read() {
        let text = r#"{"keys": [{"accessKeyId": "AK", "secretAccessKey": "s", "policy": {"Statement": [
            {"Effect": "Allow", "Action": "states:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}}]}"#;
        let e = Keys::parse(text, "1").expect_err("refused");
        assert!(e.contains("Condition"), "{e}");
    }

    /// Found by reading the code while writing the `sigv4` fuzz target: an `X-Amz-Expires`
    /// past `SystemTime`'s range overflowed the expiry sum and panicked the request's task; a
    /// value that is not a number was ignored (the request never expired).
    #[test]
    fn a_presigned_request_that_expires_beyond_a_week_or_never_is_refused() {
        let k = Keys::parse(
            r#"{"keys": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s"}]}"#,
            "123456789012",
        )
        .expect("keys");
        let headers = HeaderMap::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        for expires in ["18446744073709551615", "604801", "abc", "-1"] {
            let query = format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fstates%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
            );
            let request = SignedRequest {
                method: "POST",
                path: "/",
                query: Some(&query),
                headers: &headers,
                body: b"{}",
            };
            let e = k.authenticate(&request, now).expect_err("refused");
            assert_eq!(e.error.code, "IncompleteSignatureException", "{expires}");
            assert_eq!(
                e.error.message,
                format!(
                    "X-Amz-Expires must be a number of seconds from 0 to 604800 (a week). X-Amz-Expires={expires}"
                )
            );
        }
    }

    /// Found by the `sigv4` fuzz target: the Rust SDK's signer keeps a tab in a header's value
    /// (it collapses spaces only), and such a request was refused as not matching its signature.
    #[test]
    fn a_header_with_a_tab_signed_by_the_rust_sdk_is_accepted() {
        let k = Keys::parse(
            r#"{"keys": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s"}]}"#,
            "123456789012",
        )
        .expect("keys");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let base = [("host", "localhost:8083"), ("x-custom", "a\t\tb  c")];
        let headers = sdk_signed(("AKIDEXAMPLE", "s"), &base, b"{}", now);
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: b"{}",
        };
        k.authenticate(&request, now).expect("accepted");
        // The tab is covered by the signature all the same: another value is refused.
        let mut changed = headers.clone();
        changed.insert("x-custom", "a\tb c d".parse().expect("value"));
        let request = SignedRequest {
            headers: &changed,
            ..request
        };
        let e = k.authenticate(&request, now).expect_err("refused");
        assert_eq!(e.error.code, "InvalidSignatureException");
    }

    #[test]
    fn a_request_signed_by_the_sdk_signer_is_accepted_and_a_changed_one_is_not() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let k = Keys::parse(
            &format!(
                r#"{{"keys": [{{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "{secret}"}}]}}"#
            ),
            "123456789012",
        )
        .expect("keys");
        let now = SystemTime::now();
        let body = br#"{"maxResults": 5}"#;
        let base = [
            ("host", "127.0.0.1:8083"),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "AWSStepFunctions.ListStateMachines"),
        ];
        let headers = sdk_signed(("AKIDEXAMPLE", secret), &base, body, now);
        let request = |body: &'static [u8], headers: &'static HeaderMap| SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers,
            body,
        };
        let headers: &'static HeaderMap = Box::leak(Box::new(headers));
        let key = k
            .authenticate(&request(body, headers), now)
            .expect("accepted");
        assert_eq!(key.principal, "arn:aws:iam::123456789012:user/AKIDEXAMPLE");
        let e = k
            .authenticate(&request(br#"{"maxResults": 6}"#, headers), now)
            .expect_err("a changed body");
        assert_eq!(e.error.code, "InvalidSignatureException");
        let later = now + Duration::from_secs(6 * 60);
        let e = k
            .authenticate(&request(body, headers), later)
            .expect_err("too late");
        assert!(
            e.error.message.starts_with("Signature expired: "),
            "{}",
            e.error.message
        );
    }

    /// A request's headers (`base` and what the AWS SDK's signer adds), signed with this key
    /// for `http://127.0.0.1:8083/`.
    fn sdk_signed(
        (id, secret): (&str, &str),
        base: &[(&'static str, &str)],
        body: &[u8],
        now: SystemTime,
    ) -> HeaderMap {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity = aws_credential_types::Credentials::new(id, secret, None, None, "t").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("states")
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let signable = SignableRequest::new(
            "POST",
            "http://127.0.0.1:8083/",
            base.iter().copied(),
            SignableBody::Bytes(body),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
        let mut headers = HeaderMap::new();
        for (n, v) in base {
            headers.insert(*n, v.parse().expect("value"));
        }
        for h in instructions.into_parts().0 {
            headers.insert(
                axum::http::HeaderName::from_bytes(h.name().as_bytes()).expect("name"),
                h.value().parse().expect("value"),
            );
        }
        headers
    }

    const HOST: &[(&str, &str)] = &[("host", "127.0.0.1:8083")];

    const TWO_ACCOUNTS: &str = r#"{"keys": [
        {"accessKeyId": "AKHOME", "secretAccessKey": "s1", "user": "ann"},
        {"accessKeyId": "AKOTHER", "secretAccessKey": "s2", "user": "bo", "account": "111122223333"}]}"#;

    #[test]
    fn a_key_acts_in_its_account_and_is_refused_another_accounts_resources() {
        let k = Keys::parse(TWO_ACCOUNTS, "123456789012").expect("keys");
        let home = k.by_secret("AKHOME", "s1").expect("home");
        let other = k.by_secret("AKOTHER", "s2").expect("other");
        assert_eq!(home.account, "123456789012");
        assert_eq!(other.account, "111122223333");
        assert_eq!(other.principal, "arn:aws:iam::111122223333:user/bo");
        let mine = "arn:aws:states:us-east-1:111122223333:stateMachine:orders";
        let theirs = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        k.authorize(other, "states:DescribeStateMachine", mine)
            .expect("its own");
        k.authorize(other, "states:ListStateMachines", "*")
            .expect("no resource");
        let e = k
            .authorize(other, "states:DescribeStateMachine", theirs)
            .expect_err("another account's");
        assert_eq!(e.error.code, "AccessDeniedException");
        assert_eq!(
            e.error.message,
            format!(
                "User: arn:aws:iam::111122223333:user/bo is not authorized to perform: \
                 states:DescribeStateMachine on resource: {theirs} because no resource-based \
                 policy allows the states:DescribeStateMachine action"
            )
        );
        k.authorize(home, "states:StartExecution", theirs)
            .expect("the home key's own");
        assert!(k.authorize(home, "states:StartExecution", mine).is_err());
    }

    #[test]
    fn accounts_are_twelve_digits_and_execution_key_ids_are_reserved() {
        for (key, says) in [
            (
                r#"{"accessKeyId": "A", "secretAccessKey": "s", "account": "12345"}"#,
                "not 12 digits",
            ),
            (
                r#"{"accessKeyId": "STEPWISEEXECUTION111122223333", "secretAccessKey": "s"}"#,
                "the server's own",
            ),
        ] {
            let e = Keys::parse(&format!(r#"{{"keys": [{key}]}}"#), "123456789012")
                .expect_err("refused");
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn executions_sign_in_their_account_with_the_servers_own_secret() {
        let k = Keys::parse(TWO_ACCOUNTS, "123456789012").expect("keys");
        let now = SystemTime::now();
        let body = b"{}";
        let id = format!("{EXECUTION_KEY_PREFIX}111122223333");
        let request = |headers| SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers,
            body,
        };
        // Not trusted yet: an unknown key.
        let headers = sdk_signed((&id, "whatever"), HOST, body, now);
        let e = k
            .authenticate(&request(&headers), now)
            .expect_err("unknown");
        assert_eq!(e.error.code, "UnrecognizedClientException");
        let (k, secret) = k.trust_executions().expect("trusted");
        assert_eq!(secret.len(), 64);
        let headers = sdk_signed((&id, &secret), HOST, body, now);
        let key = k.authenticate(&request(&headers), now).expect("accepted");
        assert_eq!(key.account, "111122223333");
        k.authorize(
            &key,
            "states:CreateStateMachine",
            "arn:aws:states:us-east-1:111122223333:stateMachine:m",
        )
        .expect("anything in its account");
        assert!(
            k.authorize(
                &key,
                "states:DescribeStateMachine",
                "arn:aws:states:us-east-1:123456789012:stateMachine:m",
            )
            .is_err()
        );
        // Another secret, or an id that names no account, is refused.
        let headers = sdk_signed((&id, "0123"), HOST, body, now);
        let e = k.authenticate(&request(&headers), now).expect_err("wrong");
        assert_eq!(e.error.code, "InvalidSignatureException");
        let headers = sdk_signed((EXECUTION_KEY_PREFIX, &secret), HOST, body, now);
        let e = k
            .authenticate(&request(&headers), now)
            .expect_err("no account");
        assert_eq!(e.error.code, "UnrecognizedClientException");
        // The console's sign-in takes configured keys only.
        assert!(k.by_secret(&id, &secret).is_none());
    }
}
