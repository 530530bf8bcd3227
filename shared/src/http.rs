//! HTTP types shared by the Lambda adapters and the local server: requests with a raw body,
//! JSON and problem+json (RFC 9457) responses, and the route table of the HTTP API.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::auth::Role;

/// A request with its exact body bytes (signatures are computed over them).
pub type Request = http::Request<Bytes>;
/// A response with a byte body.
pub type Response = http::Response<Bytes>;

fn with_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Browsers must take the declared type (an echoed challenge is text, never HTML).
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, "application/json", body.into()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &format!("response could not be encoded: {e}")),
    }
}

/// A JSON document that is already serialised (the OpenAPI document).
pub fn json_document(status: StatusCode, body: &'static str) -> Response {
    with_type(status, "application/json", Bytes::from_static(body.as_bytes()))
}

/// A file as it was stored (a report's HTML, CSV or JSON), optionally to be saved under a name.
pub fn file(status: StatusCode, content_type: &'static str, body: Bytes, disposition: Option<&str>) -> Response {
    let mut response = with_type(status, content_type, body);
    if let Some(value) = disposition.and_then(|d| HeaderValue::from_str(d).ok()) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A plain-text response (webhook handshakes echo text).
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response {
    with_type(status, "text/plain; charset=utf-8", body.into())
}

/// An RFC 9457 problem: `{type, title, status, detail}`.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    problem_with(status, detail, serde_json::Map::new())
}

/// A problem with extension members (for example `allowed` on an invalid transition).
pub fn problem_with(
    status: StatusCode,
    detail: &str,
    extensions: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let mut body = extensions;
    body.insert("type".into(), "about:blank".into());
    body.insert("title".into(), status.canonical_reason().unwrap_or("Error").into());
    body.insert("status".into(), status.as_u16().into());
    body.insert("detail".into(), detail.into());
    with_type(status, "application/problem+json", serde_json::Value::Object(body).to_string().into())
}

/// Which function serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    IngestWebhook,
    Api,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential (webhooks prove themselves by signature; the OpenAPI document is public).
    Public,
    /// A credential whose role allows this one.
    Role(Role),
}

/// One route of the HTTP API: the same set as `infra/template.yaml` declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    pub access: Access,
    /// Largest body the route takes: a larger `Content-Length` is refused before reading.
    pub max_body: usize,
}

/// Webhook deliveries are small; larger bodies are refused before any HMAC work.
pub const WEBHOOK_MAX_BODY: usize = 256 * 1024;
/// Most `/v1` requests carry a small JSON document or nothing.
pub const API_MAX_BODY: usize = 64 * 1024;
/// The ingest batch of 500 mentions.
pub const INGEST_MAX_BODY: usize = 4 * 1024 * 1024;
/// The largest body any route takes.
pub const MAX_BODY: usize = INGEST_MAX_BODY;
/// Longest request target (path and query) taken; longer is a 414.
pub const MAX_URI: usize = 8 * 1024;

const fn hook(method: &'static str, path: &'static str) -> Route {
    Route { method, path, function: Function::IngestWebhook, access: Access::Public, max_body: WEBHOOK_MAX_BODY }
}

const fn api(method: &'static str, path: &'static str, role: Role) -> Route {
    Route { method, path, function: Function::Api, access: Access::Role(role), max_body: API_MAX_BODY }
}

/// An API route that takes a larger body.
const fn api_up_to(method: &'static str, path: &'static str, role: Role, max_body: usize) -> Route {
    Route { max_body, ..api(method, path, role) }
}

/// Every route, as API Gateway and `pantau serve` expose them, with the role each needs.
pub const ROUTES: &[Route] = &[
    hook("GET", "/webhooks/meta"),
    hook("POST", "/webhooks/meta"),
    hook("GET", "/webhooks/x"),
    hook("POST", "/webhooks/x"),
    hook("POST", "/webhooks/telegram"),
    Route { method: "GET", path: "/v1/openapi.json", function: Function::Api, access: Access::Public, max_body: 0 },
    api("GET", "/v1/mentions", Role::Viewer),
    api_up_to("POST", "/v1/mentions", Role::Ingest, INGEST_MAX_BODY),
    api("GET", "/v1/mentions/{key}", Role::Viewer),
    api("POST", "/v1/mentions/{key}/correction", Role::Operator),
    api("GET", "/v1/feedback", Role::Admin),
    api("GET", "/v1/cases", Role::Viewer),
    api("GET", "/v1/cases/{id}", Role::Viewer),
    api("POST", "/v1/cases/{id}/transitions", Role::Operator),
    api("PUT", "/v1/cases/{id}/assignment", Role::Operator),
    api("POST", "/v1/cases/{id}/replies", Role::Operator),
    api("GET", "/v1/answers", Role::Viewer),
    api("POST", "/v1/answers", Role::Operator),
    api("GET", "/v1/answers/{id}", Role::Viewer),
    api("PUT", "/v1/answers/{id}", Role::Operator),
    api("DELETE", "/v1/answers/{id}", Role::Operator),
    api("GET", "/v1/accounts", Role::Viewer),
    api("GET", "/v1/accounts/{account}", Role::Viewer),
    api("PUT", "/v1/accounts/{account}", Role::Operator),
    api("DELETE", "/v1/accounts/{account}", Role::Admin),
    api("GET", "/v1/taxonomy", Role::Viewer),
    api_up_to("PUT", "/v1/taxonomy", Role::Admin, 1024 * 1024),
    api("GET", "/v1/holidays", Role::Viewer),
    api_up_to("PUT", "/v1/holidays", Role::Admin, 256 * 1024),
    api("GET", "/v1/sla", Role::Viewer),
    api("PUT", "/v1/sla", Role::Admin),
    api("GET", "/v1/alerts", Role::Viewer),
    api("GET", "/v1/stats", Role::Viewer),
    api("GET", "/v1/posts", Role::Viewer),
    api("POST", "/v1/posts", Role::Operator),
    api("GET", "/v1/posts/{id}", Role::Viewer),
    api("PUT", "/v1/posts/{id}", Role::Operator),
    api("POST", "/v1/posts/{id}/approval", Role::Operator),
    api("GET", "/v1/series", Role::Viewer),
    api("POST", "/v1/series", Role::Operator),
    api("GET", "/v1/series/{id}", Role::Viewer),
    api("PUT", "/v1/series/{id}", Role::Operator),
    api("DELETE", "/v1/series/{id}", Role::Operator),
    api("GET", "/v1/occurrences", Role::Viewer),
    api("GET", "/v1/occurrences/{id}", Role::Viewer),
    api("PUT", "/v1/occurrences/{id}", Role::Operator),
    api("POST", "/v1/occurrences/{id}/skip", Role::Operator),
    api("POST", "/v1/occurrences/{id}/confirmation", Role::Operator),
    api("GET", "/v1/best-times", Role::Viewer),
    api("POST", "/v1/reports", Role::Operator),
    api("GET", "/v1/reports", Role::Viewer),
    api("GET", "/v1/reports/{id}", Role::Viewer),
    api("GET", "/v1/reports/{id}/files/{name}", Role::Viewer),
    api("GET", "/v1/authors/{author}", Role::Admin),
    api("DELETE", "/v1/authors/{author}", Role::Admin),
];

/// Matches a request path against a route template; returns the `{param}` values, still
/// percent-encoded as they arrived.
pub fn match_path<'a>(template: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let mut params = Vec::new();
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) if ts.starts_with('{') && ts.ends_with('}') && !ps.is_empty() => params.push(ps),
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// Finds the route for a method and path. `Err(true)` when the path exists with another method.
pub fn route<'a>(method: &str, path: &'a str) -> Result<(&'static Route, Vec<&'a str>), bool> {
    let mut path_known = false;
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method == method {
                return Ok((route, params));
            }
            path_known = true;
        }
    }
    Err(path_known)
}

/// The methods a path accepts, in route-table order (none for an unknown path).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    ROUTES.iter().filter(|r| match_path(r.path, path).is_some()).map(|r| r.method).collect()
}

/// The response for a request no route takes: 405 with the `Allow` header RFC 9110 requires
/// when the path exists with other methods, else 404.
pub fn unrouted(path: &str) -> Response {
    let allowed = allowed_methods(path);
    if allowed.is_empty() {
        return no_route(false);
    }
    let mut response = no_route(true);
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The refusal of a body larger than a route takes.
pub fn too_large(max_body: usize) -> Response {
    problem(StatusCode::PAYLOAD_TOO_LARGE, &format!("the body is larger than this route takes ({max_body} bytes)"))
}

/// The response for a request no route takes, without `Allow` (see [`unrouted`]).
fn no_route(method_mismatch: bool) -> Response {
    if method_mismatch {
        problem(StatusCode::METHOD_NOT_ALLOWED, "this path does not accept that method")
    } else {
        problem(StatusCode::NOT_FOUND, "no such route")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments_only() {
        assert_eq!(match_path("/v1/mentions/{key}", "/v1/mentions/x%3A1"), Some(vec!["x%3A1"]));
        assert_eq!(match_path("/v1/mentions/{key}", "/v1/mentions/"), None);
        assert_eq!(match_path("/v1/mentions/{key}", "/v1/mentions/a/b"), None);
        assert_eq!(match_path("/v1/mentions", "/v1/mentions"), Some(vec![]));
        assert!(route("DELETE", "/v1/mentions").unwrap_err());
        assert!(!route("GET", "/nope").unwrap_err());
        assert_eq!(route("POST", "/webhooks/telegram").unwrap().0.function, Function::IngestWebhook);
    }

    #[test]
    fn a_wrong_method_is_told_what_the_path_accepts() {
        let r = unrouted("/v1/answers/abc");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, PUT, DELETE");
        let r = unrouted("/v1/nope");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.headers().get(header::ALLOW).is_none());
    }

    #[test]
    fn problems_are_rfc9457() {
        let r = problem(StatusCode::BAD_REQUEST, "limit must be a number");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/problem+json");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(body["detail"], "limit must be a number");
    }
}
