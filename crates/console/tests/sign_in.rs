//! Signing in to the console on a server with access keys, driven without a socket: the
//! session cookie and its attributes, 401 without a session, a wrong secret refused as an
//! unknown key is, the CSRF header on state-changing calls, each call held to the key's
//! policy (AccessDeniedException as the API words it), and signing out.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use stepwise_api::auth::Keys;
use stepwise_runtime::RuntimeConfig;
use stepwise_service::types::{CreateStateMachineInput, StartExecutionInput};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};
use tower::ServiceExt;

const KEYS: &str = r#"{"keys": [
  {"accessKeyId": "AKADMIN", "secretAccessKey": "admin-secret", "user": "alice"},
  {"accessKeyId": "AKREAD", "secretAccessKey": "read-secret", "user": "rita", "policy": {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["states:Describe*", "states:List*", "states:GetExecutionHistory"], "Resource": "*"}]}},
  {"accessKeyId": "AKOTHER", "secretAccessKey": "other-secret", "user": "olga", "account": "111122223333"}
]}"#;

const WAITING: &str =
    r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}}"#;

async fn app(secure: bool) -> (Router, Arc<Service>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("store"));
    let service = Service::start(store, Arns::default(), RuntimeConfig::default())
        .await
        .expect("service");
    let keys = Keys::parse(KEYS, "123456789012").expect("keys");
    let api = Arc::new(stepwise_api::Api::new(service.clone()).with_keys(keys.clone()));
    let app = stepwise_api::router(api).merge(stepwise_console::router_with(
        service.clone(),
        stepwise_console::Access::new(keys, secure),
    ));
    (app, service)
}

struct Answer {
    status: StatusCode,
    set_cookie: Option<String>,
    body: Value,
}

/// `GET uri` with the session cookie, if any.
async fn get(app: &Router, uri: &str, cookie: Option<&str>) -> Answer {
    call(app, "GET", uri, cookie, None, None).await
}

/// `POST uri` with the session cookie and the CSRF token, if any, and a JSON body.
async fn post(
    app: &Router,
    uri: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Answer {
    call(app, "POST", uri, cookie, csrf, body).await
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(t) = csrf {
        req = req.header(stepwise_console::CSRF_HEADER, t);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let res = app.clone().oneshot(req).await.expect("answer");
    let status = res.status();
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    Answer {
        status,
        set_cookie,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// Signs in; the cookie to send back and the CSRF token.
async fn sign_in(app: &Router, id: &str, secret: &str) -> (String, String) {
    let a = call(
        app,
        "POST",
        "/console/api/login",
        None,
        None,
        Some(json!({"accessKeyId": id, "secretAccessKey": secret})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let set = a.set_cookie.expect("a session cookie");
    let pair = set.split(';').next().expect("name=value").to_owned();
    let csrf = a.body["csrfToken"]
        .as_str()
        .expect("a CSRF token")
        .to_owned();
    (pair, csrf)
}

async fn running_execution(service: &Service) -> (String, String) {
    let sm = service
        .create_state_machine(CreateStateMachineInput::new(
            "waits",
            WAITING,
            "arn:aws:iam::123456789012:role/R",
        ))
        .await
        .expect("created")
        .state_machine_arn;
    let x = service
        .start_execution(StartExecutionInput::new(&sm).name("long"))
        .await
        .expect("started")
        .execution_arn;
    (sm, x)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_asks_for_a_key_and_keeps_the_session_in_a_strict_http_only_cookie() {
    let (app, service) = app(false).await;
    // The page itself loads; what it reads does not, without a session.
    let page = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    assert_eq!(page.status(), StatusCode::OK);
    let s = get(&app, "/console/api/session", None).await;
    assert_eq!(
        s.body,
        json!({"required": true, "user": null, "csrfToken": null})
    );
    for uri in [
        "/console/api/state-machines",
        "/console/api/executions",
        "/console/api/execution?arn=x",
        "/console/api/execution/stream?arn=x",
    ] {
        let a = get(&app, uri, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(a.body["error"], "NotSignedIn", "{uri}");
    }
    let a = post(
        &app,
        "/console/api/execution/start",
        Some("stepwise_session=0123"),
        None,
        Some(json!({"stateMachineArn": "x"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "a made-up session");

    // A wrong secret and an unknown key get one answer, and no cookie.
    let wrong = post(
        &app,
        "/console/api/login",
        None,
        None,
        Some(json!({"accessKeyId": "AKADMIN", "secretAccessKey": "admin-secreT"})),
    )
    .await;
    let unknown = post(
        &app,
        "/console/api/login",
        None,
        None,
        Some(json!({"accessKeyId": "AKNOBODY", "secretAccessKey": "admin-secret"})),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        wrong.body["message"],
        "The access key ID or the secret access key is not valid."
    );
    assert!(wrong.set_cookie.is_none() && unknown.set_cookie.is_none());

    // The right one: a cookie the page's scripts cannot read and other sites cannot send.
    let a = post(
        &app,
        "/console/api/login",
        None,
        None,
        Some(json!({"accessKeyId": "AKADMIN", "secretAccessKey": "admin-secret"})),
    )
    .await;
    assert_eq!(
        a.body["user"], "arn:aws:iam::123456789012:user/alice",
        "{}",
        a.body
    );
    let set = a.set_cookie.expect("cookie");
    assert!(set.starts_with("stepwise_session="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let id = set.split(';').next().expect("pair");
    assert_eq!(id.len(), "stepwise_session=".len() + 64, "256 random bits");

    let (cookie, _) = sign_in(&app, "AKADMIN", "admin-secret").await;
    let (sm, _) = running_execution(&service).await;
    let list = get(&app, "/console/api/state-machines", Some(&cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["stateMachines"][0]["stateMachineArn"],
        sm.as_str()
    );
    let s = get(&app, "/console/api/session", Some(&cookie)).await;
    assert_eq!(s.body["user"], "arn:aws:iam::123456789012:user/alice");

    // Signed out: the session is gone on the server, not only in the browser.
    let out = post(&app, "/console/api/logout", Some(&cookie), None, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.set_cookie.expect("cleared").contains("Max-Age=0"));
    let after = get(&app, "/console/api/state-machines", Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_cookie_is_secure() {
    let (app, service) = app(true).await;
    let a = post(
        &app,
        "/console/api/login",
        None,
        None,
        Some(json!({"accessKeyId": "AKREAD", "secretAccessKey": "read-secret"})),
    )
    .await;
    assert!(a.set_cookie.expect("cookie").contains("; Secure"));
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_is_held_to_the_keys_policy_and_posts_need_the_csrf_token() {
    let (app, service) = app(false).await;
    let (sm, x) = running_execution(&service).await;
    let (reader, reader_csrf) = sign_in(&app, "AKREAD", "read-secret").await;
    let enc = |s: &str| s.replace(':', "%3A");

    // A read-only key sees everything...
    let seen = get(
        &app,
        &format!("/console/api/execution?arn={}", enc(&x)),
        Some(&reader),
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.body["execution"]["status"], "RUNNING");
    let listed = get(
        &app,
        &format!("/console/api/executions?stateMachineArn={}", enc(&sm)),
        Some(&reader),
    )
    .await;
    assert_eq!(listed.body["executions"][0]["executionArn"], x.as_str());

    // ...and changes nothing: AWS's AccessDeniedException, naming the user, action and resource.
    let stop = post(
        &app,
        "/console/api/execution/stop",
        Some(&reader),
        Some(&reader_csrf),
        Some(json!({"executionArn": x})),
    )
    .await;
    assert_eq!(stop.status, StatusCode::BAD_REQUEST);
    assert_eq!(stop.body["error"], "AccessDeniedException");
    assert_eq!(
        stop.body["message"],
        format!(
            "User: arn:aws:iam::123456789012:user/rita is not authorized to perform: \
             states:StopExecution on resource: {x} because no identity-based policy allows \
             the states:StopExecution action"
        )
    );
    for (uri, body) in [
        ("/console/api/execution/redrive", json!({"executionArn": x})),
        (
            "/console/api/execution/start",
            json!({"stateMachineArn": sm}),
        ),
        (
            "/console/api/state-machine/version",
            json!({"stateMachineArn": sm, "definition": WAITING}),
        ),
    ] {
        let a = post(&app, uri, Some(&reader), Some(&reader_csrf), Some(body)).await;
        assert_eq!(
            a.body["error"], "AccessDeniedException",
            "{uri}: {}",
            a.body
        );
    }
    let still = get(
        &app,
        &format!("/console/api/execution?arn={}", enc(&x)),
        Some(&reader),
    )
    .await;
    assert_eq!(still.body["execution"]["status"], "RUNNING");

    // A POST with the session cookie but without its CSRF token (what a forged request from
    // another page would be): refused before anything is done, even for a key that may stop.
    let (admin, admin_csrf) = sign_in(&app, "AKADMIN", "admin-secret").await;
    for token in [None, Some(reader_csrf.as_str()), Some("")] {
        let a = post(
            &app,
            "/console/api/execution/stop",
            Some(&admin),
            token,
            Some(json!({"executionArn": x})),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert_eq!(a.body["error"], "InvalidCsrfToken");
    }
    let a = post(
        &app,
        "/console/api/execution/stop",
        Some(&admin),
        Some(&admin_csrf),
        Some(json!({"executionArn": x})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let stopped = get(
        &app,
        &format!("/console/api/execution?arn={}", enc(&x)),
        Some(&admin),
    )
    .await;
    assert_eq!(stopped.body["execution"]["status"], "ABORTED");
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keys_the_console_needs_no_sign_in() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("store"));
    let service = Service::start(store, Arns::default(), RuntimeConfig::default())
        .await
        .expect("service");
    let app = stepwise_console::router(service.clone());
    let s = get(&app, "/console/api/session", None).await;
    assert_eq!(s.body["required"], false);
    let (sm, x) = running_execution(&service).await;
    let a = post(
        &app,
        "/console/api/execution/stop",
        None,
        None,
        Some(json!({"executionArn": x})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let login = post(
        &app,
        "/console/api/login",
        None,
        None,
        Some(json!({"accessKeyId": "AKADMIN", "secretAccessKey": "admin-secret"})),
    )
    .await;
    assert_eq!(login.body["error"], "NoSignInNeeded");
    assert!(!sm.is_empty());
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_another_account_sees_only_its_accounts_machines() {
    let (app, service) = app(false).await;
    let (home_sm, home_x) = running_execution(&service).await;
    let (other, other_csrf) = sign_in(&app, "AKOTHER", "other-secret").await;
    let enc = |s: &str| s.replace(':', "%3A");

    let list = get(&app, "/console/api/state-machines", Some(&other)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["stateMachines"], json!([]), "not the server's");
    for uri in [
        format!("/console/api/state-machine?arn={}", enc(&home_sm)),
        format!("/console/api/execution?arn={}", enc(&home_x)),
    ] {
        let seen = get(&app, &uri, Some(&other)).await;
        assert_eq!(seen.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(seen.body["error"], "AccessDeniedException");
        assert!(
            seen.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("because no resource-based policy allows")),
            "{}",
            seen.body
        );
    }
    // What it starts from the console is its account's.
    let created = service.create_state_machine(CreateStateMachineInput::new(
        "waits",
        WAITING,
        "arn:aws:iam::111122223333:role/R",
    ));
    let mine = stepwise_service::caller::in_account("111122223333", created)
        .await
        .expect("created")
        .state_machine_arn;
    assert_eq!(
        mine,
        "arn:aws:states:us-east-1:111122223333:stateMachine:waits"
    );
    let list = get(&app, "/console/api/state-machines", Some(&other)).await;
    assert_eq!(list.body["stateMachines"][0]["stateMachineArn"], mine);
    assert_eq!(list.body["stateMachines"].as_array().map(Vec::len), Some(1));
    let started = post(
        &app,
        "/console/api/execution/start",
        Some(&other),
        Some(&other_csrf),
        Some(json!({"stateMachineArn": mine, "input": "{}"})),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let x = started.body["executionArn"].as_str().expect("an ARN");
    assert!(
        x.starts_with("arn:aws:states:us-east-1:111122223333:execution:waits:"),
        "{x}"
    );
    service.shutdown();
}
