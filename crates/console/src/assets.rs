//! The page and its assets, compiled into the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

/// `GET /`: the console's one page (it routes by the URL's `#fragment`).
pub async fn index() -> Response {
    page(INDEX, "text/html; charset=utf-8")
}

/// `GET /console/assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "app.js" => page(APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => page(APP_CSS, "text/css; charset=utf-8"),
        _ => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The assets change with the binary; a restarted server must not serve stale ones.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
