//! HTTP types shared by the Lambda adapters and the local server: requests with a raw body,
//! JSON and problem+json (RFC 9457) responses, and the route table of the HTTP API.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// A request with its exact body bytes (signatures are computed over them).
pub type Request = http::Request<Bytes>;
/// A response with a byte body.
pub type Response = http::Response<Bytes>;

fn with_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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

/// A plain-text response (webhook handshakes echo text).
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response {
    with_type(status, "text/plain; charset=utf-8", body.into())
}

/// An RFC 9457 problem: `{type, title, status, detail}`.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    with_type(status, "application/problem+json", body.to_string().into())
}

/// Which function serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    IngestWebhook,
    Api,
}

/// One route of the HTTP API: the same set as `infra/template.yaml` declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
}

/// Every route, as API Gateway and `pantau serve` expose them.
pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/webhooks/meta", function: Function::IngestWebhook },
    Route { method: "POST", path: "/webhooks/meta", function: Function::IngestWebhook },
    Route { method: "GET", path: "/webhooks/x", function: Function::IngestWebhook },
    Route { method: "POST", path: "/webhooks/x", function: Function::IngestWebhook },
    Route { method: "POST", path: "/webhooks/telegram", function: Function::IngestWebhook },
    Route { method: "GET", path: "/v1/openapi.json", function: Function::Api },
    Route { method: "GET", path: "/v1/mentions", function: Function::Api },
    Route { method: "POST", path: "/v1/mentions", function: Function::Api },
    Route { method: "GET", path: "/v1/mentions/{key}", function: Function::Api },
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

/// The response for a request no route takes.
pub fn no_route(method_mismatch: bool) -> Response {
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
    fn problems_are_rfc9457() {
        let r = problem(StatusCode::BAD_REQUEST, "limit must be a number");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/problem+json");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(body["detail"], "limit must be a number");
    }
}
