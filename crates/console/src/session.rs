//! Signing in to the console when the server has access keys: the same keys (and the same
//! IAM-style policies) that SigV4 requests are checked against.
//!
//! The page posts an access key id and its secret to `/console/api/login`; the server checks
//! them (an unknown id and a wrong secret get one answer) and sets a session cookie: a random
//! 256-bit id, kept in memory for [`SESSION_LIFETIME`], `HttpOnly`, `SameSite=Strict`, and
//! `Secure` when the server speaks HTTPS. Every other `/console/api/*` call needs that
//! session (401 without it); a state-changing one (every `POST`) also needs the session's
//! CSRF token in the `X-Stepwise-Csrf` header (403 without it), which only a page of this
//! origin can read (from the login's answer or `GET /console/api/session`). Each call is then
//! authorized action by action with the key's policy, as the API authorizes it.
//!
//! With no keys the console needs no sign-in and every call is allowed, as the API allows it.
//! Sessions live in the server's memory: a restart signs everyone out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use stepwise_api::auth::{Key, Keys};

use crate::views::Console;

/// The session cookie's name.
pub const COOKIE: &str = "stepwise_session";
/// The header a state-changing call carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-stepwise-csrf";
/// How long a session lasts after sign-in (it is not extended by use).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// Who may use the console: the server's keys and the sessions signed in with them.
#[derive(Debug, Default)]
pub struct Access {
    keys: Keys,
    /// Mark the cookie `Secure` (the server speaks HTTPS).
    secure: bool,
    sessions: Mutex<HashMap<String, Session>>,
}

#[derive(Debug, Clone)]
struct Session {
    key: Arc<Key>,
    csrf: String,
    expires: Instant,
}

impl Access {
    /// Sign-in with `keys` (none: the console is open, as the API is); `secure` when served
    /// over HTTPS.
    pub fn new(keys: Keys, secure: bool) -> Access {
        Access {
            keys,
            secure,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub fn required(&self) -> bool {
        !self.keys.is_empty()
    }

    /// May `caller` call `action` (`StopExecution`) on `resource`? The API's policy check, with
    /// its AccessDeniedException.
    pub fn allow(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
    ) -> Result<(), stepwise_service::ServiceError> {
        match &caller.0 {
            Some(key) => self
                .keys
                .authorize(key, &stepwise_api::auth::iam_action(action), resource)
                .map_err(|e| e.error),
            None if self.required() => Err(stepwise_service::ServiceError::client(
                "NotSignedIn",
                "Sign in to use the console.",
            )),
            None => Ok(()),
        }
    }

    fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, COOKIE)?;
        let mut sessions = self.sessions.lock().ok()?;
        match sessions.get(&id) {
            Some(s) if s.expires > Instant::now() => Some((id, s.clone())),
            Some(_) => {
                sessions.remove(&id);
                None
            }
            None => None,
        }
    }

    fn cookie_header(&self, value: &str, max_age: Duration) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!(
            "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            max_age.as_secs()
        );
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The key a call is made with (none: no keys are configured).
#[derive(Debug, Clone, Default)]
pub struct Caller(Option<Arc<Key>>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}

/// One cookie's value from the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// 32 random bytes as hex.
fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

/// In front of every `/console/api/*` route but the sign-in ones: with keys configured, the
/// call needs a live session (401), and a `POST` its CSRF token (403); the session's key goes
/// to the handler as its [`Caller`].
pub async fn guard(
    State(console): State<Arc<Console>>,
    mut request: Request,
    next: Next,
) -> Response {
    let access = &console.access;
    if !access.required() {
        return next.run(request).await;
    }
    let Some((_, session)) = access.session(request.headers()) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "NotSignedIn",
            "Sign in to use the console.",
        );
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let sent = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
            return refusal(
                StatusCode::FORBIDDEN,
                "InvalidCsrfToken",
                "The request did not carry this session's CSRF token (X-Stepwise-Csrf).",
            );
        }
    }
    let account = session.key.account.clone();
    request.extensions_mut().insert(Caller(Some(session.key)));
    // The console acts in the key's account, as the API does.
    stepwise_service::caller::in_account(account, next.run(request)).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /console/api/session`: whether a sign-in is needed, and who is signed in (with the
/// CSRF token the page sends back on each `POST`).
pub async fn session(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let access = &console.access;
    let signed_in = access.session(&headers);
    Json(json!({
        "required": access.required(),
        "user": signed_in.as_ref().map(|(_, s)| s.key.principal.clone()),
        "csrfToken": signed_in.map(|(_, s)| s.csrf),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    access_key_id: String,
    secret_access_key: String,
}

/// `POST /console/api/login`: a key id and its secret; a session cookie if they are right.
/// (The JSON body needs `Content-Type: application/json`, which a cross-site form cannot send.)
pub async fn login(State(console): State<Arc<Console>>, Json(body): Json<LoginBody>) -> Response {
    let access = &console.access;
    if !access.required() {
        return refusal(
            StatusCode::BAD_REQUEST,
            "NoSignInNeeded",
            "This server has no access keys: the console needs no sign-in.",
        );
    }
    let Some(key) = access
        .keys
        .by_secret(body.access_key_id.trim(), &body.secret_access_key)
    else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "InvalidCredentials",
            "The access key ID or the secret access key is not valid.",
        );
    };
    let (Ok(id), Ok(csrf)) = (random_token(), random_token()) else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "No random numbers for a session.",
        );
    };
    let now = Instant::now();
    let session = Session {
        key: Arc::new(key.clone()),
        csrf: csrf.clone(),
        expires: now + SESSION_LIFETIME,
    };
    let principal = key.principal.clone();
    match access.sessions.lock() {
        Ok(mut sessions) => {
            sessions.retain(|_, s| s.expires > now);
            sessions.insert(id.clone(), session);
        }
        Err(_) => {
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "The session table is unusable.",
            );
        }
    }
    let mut res = Json(json!({"user": principal, "csrfToken": csrf})).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        access.cookie_header(&id, SESSION_LIFETIME),
    );
    res
}

/// `POST /console/api/logout`: ends the session and clears the cookie.
pub async fn logout(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let access = &console.access;
    if let Some((id, _)) = access.session(&headers)
        && let Ok(mut sessions) = access.sessions.lock()
    {
        sessions.remove(&id);
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, access.cookie_header("", Duration::ZERO));
    res
}
