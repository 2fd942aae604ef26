//! The HTTP Task against a real HTTP server on 127.0.0.1: what arrives at the server, what the
//! task hands its state, and how it fails.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response};
use serde_json::{Value, json};
use stepwise_tasks::{CallContext, Config, Integrations, Outcome};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct ServerState {
    seen: Vec<Seen>,
    /// The access token /secure accepts.
    valid_token: Option<String>,
    tokens_issued: usize,
    /// `expires_in` of the tokens /token issues.
    expires_in: u64,
    /// What /token answers with instead of a token.
    token_status: Option<u16>,
}

struct Server {
    base: String,
    port: u16,
    state: Arc<Mutex<ServerState>>,
}

impl Server {
    async fn start() -> Server {
        let state = Arc::new(Mutex::new(ServerState {
            expires_in: 3600,
            ..ServerState::default()
        }));
        let shared = state.clone();
        let app = Router::new().fallback(move |req: Request<Body>| {
            let state = shared.clone();
            async move { answer(state, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            state,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("lock").seen.clone()
    }

    fn last(&self) -> Seen {
        self.seen().pop().expect("the server saw a request")
    }

    fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

async fn answer(state: Arc<Mutex<ServerState>>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 10 << 20)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    state.lock().expect("lock").seen.push(seen.clone());

    let reply = |status: u16, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("response")
    };
    let path = seen.path.as_str();
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().expect("a status");
        return reply(code, "application/json", r#"{"message":"nope"}"#.into());
    }
    match path {
        "/echo" => {
            let headers: BTreeMap<String, String> = seen
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            let echo = json!({
                "method": seen.method.as_str(),
                "query": seen.query,
                "headers": headers,
                "body": body,
            });
            reply(200, "application/json", echo.to_string())
        }
        "/text" => reply(200, "text/plain; charset=utf-8", "hello, world".into()),
        "/not-json" => reply(200, "application/json", "{not json".into()),
        "/empty" => Response::builder()
            .status(204)
            .body(Body::empty())
            .expect("response"),
        "/multi" => Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("x-many", "one")
            .header("x-many", "two")
            .body(Body::from("[1,2,3]"))
            .expect("response"),
        "/image" => reply(200, "image/png", "PNG...".into()),
        "/big" => reply(200, "text/plain", "x".repeat(300 * 1024)),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            reply(200, "text/plain", "late".into())
        }
        "/redirect" => {
            let to = seen
                .query
                .as_deref()
                .and_then(|q| q.strip_prefix("to="))
                .unwrap_or("/echo")
                .to_owned();
            Response::builder()
                .status(302)
                .header("location", to)
                .body(Body::empty())
                .expect("response")
        }
        "/token" => {
            let mut s = state.lock().expect("lock");
            if let Some(code) = s.token_status {
                return reply(
                    code,
                    "application/json",
                    r#"{"error":"invalid_client"}"#.into(),
                );
            }
            s.tokens_issued += 1;
            let token = format!("tok-{}", s.tokens_issued);
            s.valid_token = Some(token.clone());
            let answer =
                json!({"access_token": token, "token_type": "Bearer", "expires_in": s.expires_in});
            reply(200, "application/json", answer.to_string())
        }
        "/secure" => {
            let want = state
                .lock()
                .expect("lock")
                .valid_token
                .clone()
                .map(|t| format!("Bearer {t}"));
            if want.is_some() && seen.header("authorization") == want.as_deref() {
                reply(200, "application/json", r#"{"ok":true}"#.into())
            } else {
                reply(
                    401,
                    "application/json",
                    r#"{"error":"unauthorized"}"#.into(),
                )
            }
        }
        _ => reply(404, "text/plain", "no such path".into()),
    }
}

const API_KEY_CONNECTION: &str = r#"
[connections.keyed]
auth = "api_key"
api_key_name = "x-api-key"
api_key_value = "secret-key"
"#;

fn integrations(config: &str) -> Integrations {
    Integrations::new(Arc::new(
        Config::parse(config, "stepwise.toml").expect("a valid configuration"),
    ))
}

fn ctx() -> CallContext {
    CallContext::new("eu-west-3", "111122223333")
}

const KEYED: &str = "arn:aws:events:eu-west-3:111122223333:connection/keyed/0f1e2d3c";

fn call(endpoint: String, method: &str, connection: &str) -> Value {
    json!({
        "ApiEndpoint": endpoint,
        "Method": method,
        "Authentication": {"ConnectionArn": connection}
    })
}

async fn invoke(i: &Integrations, parameters: &Value) -> Outcome {
    i.call("arn:aws:states:::http:invoke", parameters, &ctx())
        .await
        .expect("the HTTP Task is one of the crate's integrations")
}

fn succeeded(o: Outcome) -> Value {
    match o {
        Outcome::Succeeded(v) => v,
        Outcome::Failed { error, cause } => panic!("failed: {error}: {cause}"),
    }
}

fn failed(o: Outcome) -> (String, String) {
    match o {
        Outcome::Failed { error, cause } => (error, cause),
        Outcome::Succeeded(v) => panic!("succeeded: {v}"),
    }
}

#[tokio::test]
async fn a_get_sends_headers_and_query_parameters_as_given() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    let mut p = call(s.url("/echo?fixed=1"), "GET", KEYED);
    p["Headers"] = json!({"X-Custom": "custom value", "Accept": "application/json", "X-Count": 3});
    p["QueryParameters"] = json!({"currency": "usd", "q": "two words & more", "ids": [1, 2]});
    let result = succeeded(invoke(&i, &p).await);

    let seen = s.last();
    assert_eq!(seen.method, Method::GET);
    assert_eq!(seen.path, "/echo");
    assert_eq!(
        seen.query.as_deref(),
        Some("fixed=1&currency=usd&q=two%20words%20%26%20more&ids=1&ids=2")
    );
    assert_eq!(seen.header("x-custom"), Some("custom value"));
    assert_eq!(seen.header("x-count"), Some("3"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("x-api-key"), Some("secret-key"));
    assert_eq!(
        seen.header("user-agent"),
        Some("Amazon|StepFunctions|HttpInvoke|eu-west-3")
    );
    assert_eq!(seen.header("range"), Some("bytes=0-262144"));
    assert_eq!(
        seen.header("content-type"),
        None,
        "no body, no content-type"
    );
    assert_eq!(seen.body, "");

    // The result: {Headers, ResponseBody, StatusCode, StatusText}, in that order.
    let keys: Vec<&str> = result
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["Headers", "ResponseBody", "StatusCode", "StatusText"]
    );
    assert_eq!(result["StatusCode"], 200);
    assert_eq!(result["StatusText"], "OK");
    assert_eq!(
        result["Headers"]["content-type"],
        json!(["application/json"])
    );
    assert!(result["Headers"]["content-length"].is_array());
    // A JSON body is handed over as JSON.
    assert_eq!(result["ResponseBody"]["method"], "GET");
    assert_eq!(
        result["ResponseBody"]["headers"]["x-custom"],
        "custom value"
    );
}

#[tokio::test]
async fn a_post_sends_its_json_body() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    let mut p = call(s.url("/echo"), "POST", KEYED);
    let body = json!({"Card": {"Number": "1234567890", "Expiry": "09/25"}, "amount": 12.5, "tags": ["a", "b"]});
    p["RequestBody"] = body.clone();
    let result = succeeded(invoke(&i, &p).await);
    let seen = s.last();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(
        seen.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&seen.body).expect("JSON arrived"),
        body
    );
    assert_eq!(result["StatusCode"], 200);

    // A content-type given by the definition is kept.
    p["Headers"] = json!({"Content-Type": "application/vnd.api+json"});
    succeeded(invoke(&i, &p).await);
    assert_eq!(
        s.last().header("content-type"),
        Some("application/vnd.api+json")
    );

    // Every method AWS lists reaches the server as itself.
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
        let p = call(s.url("/echo"), method, KEYED);
        let r = succeeded(invoke(&i, &p).await);
        assert_eq!(s.last().method.as_str(), method);
        assert_eq!(r["StatusCode"], 200, "{method}");
    }
}

#[tokio::test]
async fn url_encoded_bodies_follow_each_array_format() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    let body = json!({
        "customer": "cus 1",
        "items": ["a", "b"],
        "metadata": {"order_details": "monthly report"}
    });
    let cases = [
        (
            None,
            "customer=cus%201&items%5B0%5D=a&items%5B1%5D=b&metadata%5Border_details%5D=monthly%20report",
        ),
        (
            Some("INDICES"),
            "customer=cus%201&items%5B0%5D=a&items%5B1%5D=b&metadata%5Border_details%5D=monthly%20report",
        ),
        (
            Some("REPEAT"),
            "customer=cus%201&items=a&items=b&metadata%5Border_details%5D=monthly%20report",
        ),
        (
            Some("COMMAS"),
            "customer=cus%201&items=a,b&metadata%5Border_details%5D=monthly%20report",
        ),
        (
            Some("BRACKETS"),
            "customer=cus%201&items%5B%5D=a&items%5B%5D=b&metadata%5Border_details%5D=monthly%20report",
        ),
    ];
    for (format, want) in cases {
        let mut p = call(s.url("/echo"), "POST", KEYED);
        p["Headers"] = json!({"Content-Type": "application/x-www-form-urlencoded"});
        p["RequestBody"] = body.clone();
        p["Transform"] = match format {
            Some(f) => {
                json!({"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": f}})
            }
            None => json!({"RequestBodyEncoding": "URL_ENCODED"}),
        };
        succeeded(invoke(&i, &p).await);
        let seen = s.last();
        assert_eq!(seen.body, want, "{format:?}");
        assert_eq!(
            seen.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }

    // NONE is the JSON body.
    let mut p = call(s.url("/echo"), "POST", KEYED);
    p["RequestBody"] = body.clone();
    p["Transform"] = json!({"RequestBodyEncoding": "NONE"});
    succeeded(invoke(&i, &p).await);
    assert_eq!(
        serde_json::from_str::<Value>(&s.last().body).expect("JSON"),
        body
    );
}

#[tokio::test]
async fn non_2xx_statuses_fail_with_their_code_and_status_text() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    for (code, text) in [
        (404, "Not Found"),
        (500, "Internal Server Error"),
        (400, "Bad Request"),
        (503, "Service Unavailable"),
        (429, "Too Many Requests"),
    ] {
        let p = call(s.url(&format!("/status/{code}")), "GET", KEYED);
        let (error, cause) = failed(invoke(&i, &p).await);
        assert_eq!(error, format!("States.Http.StatusCode.{code}"));
        assert_eq!(cause, text);
    }
}

#[tokio::test]
async fn response_bodies_that_are_not_json_are_strings() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    let r = succeeded(invoke(&i, &call(s.url("/text"), "GET", KEYED)).await);
    assert_eq!(r["ResponseBody"], "hello, world");
    assert_eq!(
        r["Headers"]["content-type"],
        json!(["text/plain; charset=utf-8"])
    );
    let r = succeeded(invoke(&i, &call(s.url("/not-json"), "GET", KEYED)).await);
    assert_eq!(r["ResponseBody"], "{not json");
    let r = succeeded(invoke(&i, &call(s.url("/empty"), "DELETE", KEYED)).await);
    assert_eq!(r["StatusCode"], 204);
    assert_eq!(r["StatusText"], "No Content");
    assert_eq!(r["ResponseBody"], "");
    // A header sent twice keeps both values; any 2xx succeeds.
    let r = succeeded(invoke(&i, &call(s.url("/multi"), "POST", KEYED)).await);
    assert_eq!(r["StatusCode"], 201);
    assert_eq!(r["StatusText"], "Created");
    assert_eq!(r["Headers"]["x-many"], json!(["one", "two"]));
    assert_eq!(r["ResponseBody"], json!([1, 2, 3]));
}

#[tokio::test]
async fn binary_and_oversized_responses_are_refused() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    let (error, cause) = failed(invoke(&i, &call(s.url("/image"), "GET", KEYED)).await);
    assert_eq!(error, "States.Runtime");
    assert!(cause.contains("image/png"), "{cause}");
    let (error, _) = failed(invoke(&i, &call(s.url("/big"), "GET", KEYED)).await);
    assert_eq!(error, "States.DataLimitExceeded");
}

#[tokio::test]
async fn basic_auth_and_connection_parameters_reach_the_server() {
    let s = Server::start().await;
    let i = integrations(
        r#"
[connections.basic]
auth = "basic"
username = "myUsername"
password = "myPassword"
headers = { "X-Tenant" = "from-connection" }
query = { region = "from-connection" }
body = { mode = "from-connection" }
"#,
    );
    let mut p = call(s.url("/echo"), "POST", "basic");
    p["Headers"] = json!({"x-tenant": "from-definition", "X-Other": "kept"});
    p["QueryParameters"] = json!({"region": "from-definition", "page": 2});
    p["RequestBody"] = json!({"mode": "from-definition", "name": "kept"});
    succeeded(invoke(&i, &p).await);
    let seen = s.last();
    // base64("myUsername:myPassword")
    assert_eq!(
        seen.header("authorization"),
        Some("Basic bXlVc2VybmFtZTpteVBhc3N3b3Jk")
    );
    assert_eq!(seen.header("x-tenant"), Some("from-connection"));
    assert_eq!(seen.headers.get_all("x-tenant").iter().count(), 1);
    assert_eq!(seen.header("x-other"), Some("kept"));
    assert_eq!(seen.query.as_deref(), Some("page=2&region=from-connection"));
    assert_eq!(
        serde_json::from_str::<Value>(&seen.body).expect("JSON"),
        json!({"mode": "from-connection", "name": "kept"})
    );
}

fn oauth_config(s: &Server, extra: &str) -> String {
    format!(
        r#"
[connections.oauth]
auth = "oauth_client_credentials"
authorization_endpoint = "{}"
client_id = "my-client"
client_secret = "my-secret"
{extra}
"#,
        s.url("/token")
    )
}

#[tokio::test]
async fn oauth_tokens_are_fetched_reused_and_refreshed_after_a_401() {
    let s = Server::start().await;
    let i = integrations(&oauth_config(&s, "oauth_body = { scope = \"orders\" }"));
    let p = call(s.url("/secure"), "GET", "oauth");

    let r = succeeded(invoke(&i, &p).await);
    assert_eq!(r["ResponseBody"], json!({"ok": true}));
    let token_calls = s.seen_at("/token");
    assert_eq!(token_calls.len(), 1);
    let t = &token_calls[0];
    assert_eq!(t.method, Method::POST);
    // base64("my-client:my-secret")
    assert_eq!(
        t.header("authorization"),
        Some("Basic bXktY2xpZW50Om15LXNlY3JldA==")
    );
    assert_eq!(
        t.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(t.body, "grant_type=client_credentials&scope=orders");
    assert_eq!(s.last().header("authorization"), Some("Bearer tok-1"));

    // The token is kept for the next call.
    succeeded(invoke(&i, &p).await);
    assert_eq!(s.seen_at("/token").len(), 1);
    assert_eq!(s.last().header("authorization"), Some("Bearer tok-1"));

    // The API stops accepting it: the call is refused once, a new token is fetched, the call
    // is made again with it.
    s.state.lock().expect("lock").valid_token = Some("revoked".into());
    let r = succeeded(invoke(&i, &p).await);
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(s.seen_at("/token").len(), 2);
    let secure = s.seen_at("/secure");
    assert_eq!(secure.len(), 4);
    assert_eq!(secure[2].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(secure[3].header("authorization"), Some("Bearer tok-2"));
}

#[tokio::test]
async fn oauth_tokens_about_to_expire_are_replaced_and_a_second_401_fails() {
    let s = Server::start().await;
    // A token that expires within 60 seconds is not used again.
    s.state.lock().expect("lock").expires_in = 30;
    let i = integrations(&oauth_config(&s, "http_method = \"GET\""));
    let p = call(s.url("/secure"), "GET", "oauth");
    succeeded(invoke(&i, &p).await);
    succeeded(invoke(&i, &p).await);
    let tokens = s.seen_at("/token");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0].method, Method::GET);
    assert_eq!(
        tokens[0].query.as_deref(),
        Some("grant_type=client_credentials")
    );
    assert_eq!(s.last().header("authorization"), Some("Bearer tok-2"));

    // An API that refuses every token: one refresh, then the 401 is the task's error.
    let p = call(s.url("/status/401"), "GET", "oauth");
    let (error, cause) = failed(invoke(&i, &p).await);
    assert_eq!(error, "States.Http.StatusCode.401");
    assert_eq!(cause, "Unauthorized");
    assert_eq!(s.seen_at("/status/401").len(), 2);
}

#[tokio::test]
async fn a_failing_token_endpoint_fails_the_task_with_the_connection_state() {
    let s = Server::start().await;
    s.state.lock().expect("lock").token_status = Some(401);
    let i = integrations(&oauth_config(&s, ""));
    let (error, cause) = failed(invoke(&i, &call(s.url("/secure"), "GET", "oauth")).await);
    assert_eq!(error, "Events.ConnectionResource.InvalidConnectionState");
    assert!(
        cause.contains("'oauth'") && cause.contains("401"),
        "{cause}"
    );
    assert!(s.seen_at("/secure").is_empty());
}

#[tokio::test]
async fn denied_and_unlisted_hosts_are_never_called() {
    let s = Server::start().await;
    let denied = integrations(&format!(
        "[http]\ndeny_hosts = [\"127.0.0.1\"]\nallow_hosts = [\"127.0.0.1\"]\n{API_KEY_CONNECTION}"
    ));
    let (error, cause) = failed(invoke(&denied, &call(s.url("/echo"), "GET", KEYED)).await);
    assert_eq!(error, "Stepwise.Http.HostNotAllowed");
    assert!(
        cause.contains("127.0.0.1") && cause.contains("deny_hosts"),
        "{cause}"
    );

    let unlisted = integrations(&format!(
        "[http]\nallow_hosts = [\"*.example.com\"]\n{API_KEY_CONNECTION}"
    ));
    let (error, cause) = failed(invoke(&unlisted, &call(s.url("/echo"), "GET", KEYED)).await);
    assert_eq!(error, "Stepwise.Http.HostNotAllowed");
    assert!(cause.contains("allow_hosts"), "{cause}");
    assert!(s.seen().is_empty(), "{:?}", s.seen());

    let allowed = integrations(&format!(
        "[http]\nallow_hosts = [\"127.0.0.1\"]\ndeny_hosts = [\"localhost\"]\n{API_KEY_CONNECTION}"
    ));
    succeeded(invoke(&allowed, &call(s.url("/echo"), "GET", KEYED)).await);
    assert_eq!(s.seen().len(), 1);

    // A redirect to a refused host is not followed.
    let to = format!("http://localhost:{}/echo", s.port);
    let (error, cause) = failed(
        invoke(
            &allowed,
            &call(s.url(&format!("/redirect?to={to}")), "GET", KEYED),
        )
        .await,
    );
    assert_eq!(error, "Stepwise.Http.HostNotAllowed");
    assert!(cause.contains("localhost"), "{cause}");
    assert!(s.seen_at("/echo").len() == 1, "{:?}", s.seen());
    // One to an allowed host is.
    let r = succeeded(
        invoke(
            &allowed,
            &call(
                s.url(&format!("/redirect?to={}", s.url("/echo"))),
                "GET",
                KEYED,
            ),
        )
        .await,
    );
    assert_eq!(r["ResponseBody"]["method"], "GET");
}

#[tokio::test]
async fn a_refused_connection_is_a_socket_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let i = integrations(API_KEY_CONNECTION);
    let p = call(format!("http://127.0.0.1:{port}/x"), "GET", KEYED);
    let (error, cause) = failed(invoke(&i, &p).await);
    assert_eq!(error, "States.Http.Socket");
    assert!(cause.contains(&format!("127.0.0.1:{port}")), "{cause}");
    assert!(cause.contains("Connection refused"), "{cause}");
}

#[tokio::test]
async fn a_call_without_an_answer_in_time_is_a_socket_error() {
    let s = Server::start().await;
    let i = integrations(&format!(
        "[http]\ntimeout_seconds = 1\n{API_KEY_CONNECTION}"
    ));
    let (error, cause) = failed(invoke(&i, &call(s.url("/slow"), "GET", KEYED)).await);
    assert_eq!(error, "States.Http.Socket");
    assert!(cause.contains("timed out after 1 seconds"), "{cause}");
}

#[tokio::test]
async fn bad_parameters_fail_before_anything_is_sent() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);

    let mut p = call(s.url("/echo"), "GET", KEYED);
    p["Headers"] = json!({"Authorization": "Bearer mine"});
    let (error, cause) = failed(invoke(&i, &p).await);
    assert_eq!(error, "States.Runtime");
    assert!(cause.contains("'Authorization'"), "{cause}");

    let mut p = call(s.url("/echo"), "GET", KEYED);
    p.as_object_mut().expect("object").remove("ApiEndpoint");
    let (error, cause) = failed(invoke(&i, &p).await);
    assert_eq!(error, "States.Runtime");
    assert_eq!(cause, "The field 'ApiEndpoint' is required but was missing");

    let mut p = call(s.url("/echo"), "GET", KEYED);
    p.as_object_mut().expect("object").remove("Authentication");
    let (error, _) = failed(invoke(&i, &p).await);
    assert_eq!(error, "States.Runtime");

    assert!(s.seen().is_empty(), "{:?}", s.seen());
}

/// A connection the configuration does not name: the request goes, without authorization.
#[tokio::test]
async fn a_connection_not_configured_sends_without_authorization() {
    let s = Server::start().await;
    let i = integrations(API_KEY_CONNECTION);
    let p = call(
        s.url("/echo"),
        "GET",
        "arn:aws:events:eu-west-3:111122223333:connection/missing/1",
    );
    succeeded(invoke(&i, &p).await);
    let seen = s.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(seen[0].header("x-api-key"), None);
}

#[tokio::test]
async fn http_invoke_uses_the_configured_region() {
    let s = Server::start().await;
    let i = integrations(&format!(
        "[server]\nregion = \"ap-south-1\"\n{API_KEY_CONNECTION}"
    ));
    succeeded(i.http_invoke(&call(s.url("/echo"), "GET", KEYED)).await);
    assert_eq!(
        s.last().header("user-agent"),
        Some("Amazon|StepFunctions|HttpInvoke|ap-south-1")
    );
}
