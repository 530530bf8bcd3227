//! The `/v1` HTTP API (function `api`, and `pantau serve`). Every request is checked in the
//! order docs/design.md fixes: credential (401), role (403, from the route table), then input.

mod accounts;
mod answers;
mod authors;
mod cases;
mod insight;
mod mentions;
mod posts;
mod reports;
mod settings;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use http::{HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::app::cases::CaseDesk;
use crate::app::publishing::publisher::PublishService;
use crate::auth::{AuthError, Authenticator, Credential, Principal, Role};
use crate::cursor::CursorSigner;
use crate::error::StoreError;
use crate::http::{Access, Request, Response, Route, json_document, problem_with, route, too_large, unrouted};
use crate::ports::{
    Announce, BlobStore, CaseStore, CounterStore, MediaProbe, MentionStore, OccurrenceStore, Position, PostStore,
    ReportStore,
};
use crate::stores::{AlertLog, AnswerLibrary, FeedbackStore, KnownAccounts, Markers, PendingReplies, Settings};
use crate::time::{Clock, wib_day_start};

pub use answers::{Suggestion, suggest};

/// Default and maximum page sizes of list routes.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
/// Default look-back of a mention listing without `from`.
pub const DEFAULT_RANGE_DAYS: i64 = 30;
/// Longest range one listing may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../../openapi.json");

/// What the API needs.
pub struct ApiState {
    pub mentions: Arc<dyn MentionStore>,
    pub cases: Arc<dyn CaseStore>,
    /// Taxonomy, holiday calendar and SLA policy.
    pub settings: Arc<dyn Settings>,
    /// Office replies held until their case opens.
    pub pending: Arc<dyn PendingReplies>,
    pub answers: Arc<dyn AnswerLibrary>,
    /// The office's known accounts.
    pub accounts: Arc<dyn KnownAccounts>,
    pub feedback: Arc<dyn FeedbackStore>,
    pub alerts: Arc<dyn AlertLog>,
    /// Queued lookups: the ingest batch goes through the same path as webhooks.
    pub lookups: Arc<dyn crate::stores::LookupQueue>,
    pub counters: Arc<dyn CounterStore>,
    pub posts: Arc<dyn PostStore>,
    pub occurrences: Arc<dyn OccurrenceStore>,
    /// Series made into occurrences, replies sent from the inbox.
    pub publishing: Arc<PublishService>,
    /// Checks a post's images can be fetched.
    pub media: Arc<dyn MediaProbe>,
    pub reports: Arc<dyn ReportStore>,
    /// Where report files are (read back, or linked for download).
    pub blobs: Arc<dyn BlobStore>,
    /// Report requests, once per request.
    pub markers: Arc<dyn Markers>,
    pub report_max_days: i64,
    /// Gets events committed by ingestion moving.
    pub announce: Arc<dyn Announce>,
    pub auth: Authenticator,
    pub cursors: CursorSigner,
    pub clock: Arc<dyn Clock>,
}

/// A refused request: status, the detail to show and extension members.
pub(crate) struct ApiError(StatusCode, String, serde_json::Map<String, serde_json::Value>);

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError(status, detail.into(), serde_json::Map::new())
    }
}

pub(crate) fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, detail)
}

pub(crate) fn not_found(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, detail)
}

pub(crate) fn conflict(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, detail)
}

/// `204 No Content` (a deletion).
fn no_content() -> Response {
    http::Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Bytes::new())
        .unwrap_or_else(|_| crate::http::problem(StatusCode::INTERNAL_SERVER_ERROR, "response could not be built"))
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AuthError::Forbidden { .. } | AuthError::NoRole { .. } => StatusCode::FORBIDDEN,
            AuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(detail) => bad(detail),
            StoreError::Conflict { .. } => {
                conflict("the item changed while this request was handled; read it again and retry")
            }
            other => {
                tracing::error!(error = %other, retryable = other.is_retryable(), "store failed");
                let status = if other.is_retryable() {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                ApiError::new(status, "the store is not available; try again later")
            }
        }
    }
}

type Handled = Result<Response, ApiError>;

/// One request as a route handler sees it: the caller, decoded path parameters, the query and
/// the body.
pub(crate) struct Call<'a> {
    pub state: &'a ApiState,
    pub who: Principal,
    pub params: Vec<String>,
    query: Option<String>,
    body: Bytes,
    idempotency_key: Option<String>,
}

impl Call<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    /// The case flow over this API's stores.
    fn desk(&self) -> CaseDesk<'_> {
        let s = self.state;
        CaseDesk { cases: s.cases.as_ref(), settings: s.settings.as_ref(), pending: s.pending.as_ref() }
    }

    /// The first path parameter.
    fn param(&self) -> &str {
        self.params.first().map(String::as_str).unwrap_or("")
    }

    /// The query, refusing parameters not in `known` and repeated ones.
    fn query(&self, known: &[&str]) -> Result<Query, ApiError> {
        let mut values = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes()) {
            if !known.contains(&name.as_ref()) {
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(bad(format!("unknown parameter {name}; known: {known}")));
            }
            if values.insert(name.to_string(), value.to_string()).is_some() {
                return Err(bad(format!("parameter {name} is given more than once")));
            }
        }
        Ok(Query(values))
    }

    /// The JSON body as `T` (which refuses unknown fields). The body must be an object: serde
    /// would also read a struct from an array of its fields in order, which no client means.
    fn body<T: DeserializeOwned>(&self, what: &str) -> Result<T, ApiError> {
        if self.body.is_empty() {
            return Err(bad(format!("send {what} as a JSON body")));
        }
        if self.body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(bad(format!("invalid {what}: the body must be a JSON object")));
        }
        serde_json::from_slice(&self.body).map_err(|e| bad(format!("invalid {what}: {e}")))
    }

    /// A stable id for what this request creates: derived from the `Idempotency-Key` (so a
    /// retried request addresses the same item), else fresh.
    fn creation_id(&self) -> String {
        match &self.idempotency_key {
            Some(key) => {
                let digest = Sha256::digest(format!("{}\n{}", self.who.subject, key).as_bytes());
                hex::encode(&digest[..16])
            }
            None => uuid::Uuid::now_v7().simple().to_string(),
        }
    }

    /// Whether the client sent an `Idempotency-Key`.
    fn is_idempotent(&self) -> bool {
        self.idempotency_key.is_some()
    }

    /// Signs a page position for this listing.
    fn cursor(&self, scope: &str, position: Option<&Position>) -> Option<String> {
        position.map(|p| self.state.cursors.sign(&Position(format!("{scope}|{}", p.0))))
    }

    /// Reads a cursor issued for this listing.
    fn position(&self, scope: &str, cursor: Option<&String>) -> Result<Option<Position>, ApiError> {
        let Some(cursor) = cursor else { return Ok(None) };
        let signed = self.state.cursors.verify(cursor).map_err(|e| bad(e.to_string()))?;
        match signed.0.split_once('|') {
            Some((s, p)) if s == scope => Ok(Some(Position(p.to_string()))),
            _ => Err(bad("invalid cursor: it belongs to another listing")),
        }
    }
}

/// Query parameters of one request.
pub(crate) struct Query(HashMap<String, String>);

impl Query {
    fn get(&self, name: &str) -> Option<&String> {
        self.0.get(name)
    }

    /// A vocabulary label (`platform=x`, `status=baru`…).
    fn label<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name).map(|v| v.parse().map_err(|e: T::Err| bad(format!("{name}: {e}")))).transpose()
    }

    /// `limit`: default 50; 0 or junk is refused; above the cap it is clamped (however many
    /// digits it has).
    fn limit(&self) -> Result<usize, ApiError> {
        let Some(v) = self.get("limit") else { return Ok(DEFAULT_LIMIT) };
        let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        if !digits || v.bytes().all(|b| b == b'0') {
            return Err(bad(format!(
                "limit must be a whole number from 1 (at most {MAX_LIMIT} are returned), got {v:?}"
            )));
        }
        Ok(v.parse::<usize>().map_or(MAX_LIMIT, |n| n.min(MAX_LIMIT)))
    }

    /// An RFC 3339 time, or a bare date meaning the start of that WIB day; years 2000–2100.
    fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        let parsed = match DateTime::parse_from_rfc3339(value) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(wib_day_start),
        };
        match parsed {
            Some(t) if (MIN_YEAR..=MAX_YEAR).contains(&t.year()) => Ok(Some(t)),
            Some(_) => Err(bad(format!("{name} must be in the years {MIN_YEAR} to {MAX_YEAR}, got {value:?}"))),
            None => Err(bad(format!("{name} must be an RFC 3339 time or a YYYY-MM-DD date (WIB), got {value:?}"))),
        }
    }

    /// A WIB date `YYYY-MM-DD`; years 2000–2100.
    fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(d) if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) => Ok(Some(d)),
            Ok(_) => Err(bad(format!("{name} must be in the years {MIN_YEAR} to {MAX_YEAR}, got {value:?}"))),
            Err(_) => Err(bad(format!("{name} must be a YYYY-MM-DD date (WIB), got {value:?}"))),
        }
    }
}

/// Years a time or date in a query may name (arithmetic on them can then never overflow).
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2100;

/// Refuses an array among the items of `value[field]` where each item is read as a struct (serde
/// would take the array as the struct's fields in order).
fn items_are_objects(value: &serde_json::Value, field: &str) -> Result<(), ApiError> {
    let items = value.get(field).and_then(serde_json::Value::as_array).map_or(&[][..], Vec::as_slice);
    match items.iter().position(serde_json::Value::is_array) {
        Some(i) => Err(bad(format!("{field}[{i}] must be an object"))),
        None => Ok(()),
    }
}

/// Percent-decodes a path parameter.
fn decode(raw: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| bad("a path parameter is not valid percent-encoded UTF-8"))
}

/// Serves one API request: credential, role, then the route.
#[tracing::instrument(skip_all, fields(method = %request.method(), path = %request.uri().path()))]
pub async fn handle(state: &ApiState, credential: &Credential, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let route = match route(request.method().as_str(), &path) {
        Ok((route, _)) => route,
        Err(_) => return unrouted(&path),
    };
    match authorize(state, credential, route).await {
        Ok(who) => serve(state, who, route, request).await,
        Err(refused) => refused,
    }
}

/// Checks the credential (401, with the scheme to use) and then the role the route needs (403),
/// before anything of the request is read. Public routes need neither.
pub async fn authorize(state: &ApiState, credential: &Credential, route: &Route) -> Result<Principal, Response> {
    match route.access {
        Access::Public => Ok(Principal::new("anonymous", Role::Viewer)),
        Access::Role(needed) => state.auth.authorize(credential, needed).await.map_err(|e| {
            let challenge = e == AuthError::Unauthenticated;
            let mut response = respond(Err(e.into()));
            if challenge {
                // RFC 9110: a 401 names the scheme to authenticate with.
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }),
    }
}

/// Serves a request its caller is allowed to make.
pub async fn serve(state: &ApiState, who: Principal, route: &Route, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if request.body().len() > route.max_body {
        return too_large(route.max_body);
    }
    let raw_params = crate::http::match_path(route.path, &path).unwrap_or_default();
    let params = match raw_params.into_iter().map(decode).collect::<Result<Vec<_>, _>>() {
        Ok(params) => params,
        Err(e) => return respond(Err(e)),
    };
    // A key that cannot be used is refused rather than ignored: ignoring it would let a retry
    // act twice.
    let idempotency_key = match request.headers().get("idempotency-key").map(|v| v.to_str().map(str::trim)) {
        None => None,
        Some(Ok(key))
            if !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY
                && key.bytes().all(|b| (b' '..=b'~').contains(&b)) =>
        {
            Some(key.to_string())
        }
        Some(_) => {
            return respond(Err(bad(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))));
        }
    };
    let method = request.method().clone();
    let call = Call {
        state,
        who,
        params,
        query: request.uri().query().map(str::to_string),
        body: request.into_body(),
        idempotency_key,
    };
    let handled = match (method, route.path) {
        (Method::GET, "/v1/openapi.json") => Ok(json_document(StatusCode::OK, OPENAPI)),
        (Method::GET, "/v1/mentions") => mentions::list(&call).await,
        (Method::POST, "/v1/mentions") => mentions::ingest(&call).await,
        (Method::GET, "/v1/mentions/{key}") => mentions::get(&call).await,
        (Method::POST, "/v1/mentions/{key}/correction") => mentions::correct(&call).await,
        (Method::GET, "/v1/feedback") => mentions::feedback(&call).await,
        (Method::GET, "/v1/cases") => cases::inbox(&call).await,
        (Method::GET, "/v1/cases/{id}") => cases::get(&call).await,
        (Method::POST, "/v1/cases/{id}/transitions") => cases::transition(&call).await,
        (Method::PUT, "/v1/cases/{id}/assignment") => cases::assign(&call).await,
        (Method::POST, "/v1/cases/{id}/replies") => cases::reply(&call).await,
        (Method::GET, "/v1/answers") => answers::list(&call).await,
        (Method::POST, "/v1/answers") => answers::create(&call).await,
        (Method::GET, "/v1/answers/{id}") => answers::get(&call).await,
        (Method::PUT, "/v1/answers/{id}") => answers::update(&call).await,
        (Method::DELETE, "/v1/answers/{id}") => answers::delete(&call).await,
        (Method::GET, "/v1/accounts") => accounts::list(&call).await,
        (Method::GET, "/v1/accounts/{account}") => accounts::get(&call).await,
        (Method::PUT, "/v1/accounts/{account}") => accounts::put(&call).await,
        (Method::DELETE, "/v1/accounts/{account}") => accounts::delete(&call).await,
        (Method::GET, "/v1/taxonomy") => settings::get_taxonomy(&call).await,
        (Method::PUT, "/v1/taxonomy") => settings::put_taxonomy(&call).await,
        (Method::GET, "/v1/holidays") => settings::get_holidays(&call).await,
        (Method::PUT, "/v1/holidays") => settings::put_holidays(&call).await,
        (Method::GET, "/v1/sla") => settings::get_sla(&call).await,
        (Method::PUT, "/v1/sla") => settings::put_sla(&call).await,
        (Method::GET, "/v1/alerts") => insight::alerts(&call).await,
        (Method::GET, "/v1/stats") => insight::stats(&call).await,
        (Method::GET, "/v1/posts") => posts::list_posts(&call).await,
        (Method::POST, "/v1/posts") => posts::create_post(&call).await,
        (Method::GET, "/v1/posts/{id}") => posts::get_post(&call).await,
        (Method::PUT, "/v1/posts/{id}") => posts::update_post(&call).await,
        (Method::POST, "/v1/posts/{id}/approval") => posts::approve_post(&call).await,
        (Method::GET, "/v1/series") => posts::list_series(&call).await,
        (Method::POST, "/v1/series") => posts::create_series(&call).await,
        (Method::GET, "/v1/series/{id}") => posts::get_series(&call).await,
        (Method::PUT, "/v1/series/{id}") => posts::update_series(&call).await,
        (Method::DELETE, "/v1/series/{id}") => posts::cancel_series(&call).await,
        (Method::GET, "/v1/occurrences") => posts::list_occurrences(&call).await,
        (Method::GET, "/v1/occurrences/{id}") => posts::get_occurrence(&call).await,
        (Method::PUT, "/v1/occurrences/{id}") => posts::move_occurrence(&call).await,
        (Method::POST, "/v1/occurrences/{id}/skip") => posts::skip_occurrence(&call).await,
        (Method::POST, "/v1/occurrences/{id}/confirmation") => posts::confirm_occurrence(&call).await,
        (Method::GET, "/v1/best-times") => posts::best_times(&call).await,
        (Method::POST, "/v1/reports") => reports::request(&call).await,
        (Method::GET, "/v1/reports") => reports::list(&call).await,
        (Method::GET, "/v1/reports/{id}") => reports::get(&call).await,
        (Method::GET, "/v1/reports/{id}/files/{name}") => reports::file(&call).await,
        (Method::GET, "/v1/authors/{author}") => authors::export(&call).await,
        (Method::DELETE, "/v1/authors/{author}") => authors::erase(&call).await,
        _ => return unrouted(&path),
    };
    respond(handled)
}

fn respond(handled: Handled) -> Response {
    handled.unwrap_or_else(|ApiError(status, detail, extensions)| problem_with(status, &detail, extensions))
}
