//! The `/v1` HTTP API (function `api`, and `pantau serve`).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use http::{Method, StatusCode};
use serde::Serialize;

use crate::auth::{AuthError, Authenticator, Credential, Role};
use crate::cursor::CursorSigner;
use crate::domain::{Category, Mention, MentionKey, Platform, Sentiment};
use crate::error::StoreError;
use crate::http::{Request, Response, json, json_document, no_route, problem, route};
use crate::ingest::{Ingest, MAX_BATCH, MentionInput};
use crate::platforms::Item;
use crate::ports::{Announce, ConfigStore, MentionQuery, MentionStore};
use crate::time::{Clock, wib_day_start};

/// Default and maximum page sizes of list routes.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
/// Default look-back of a mention listing without `from`.
pub const DEFAULT_RANGE_DAYS: i64 = 30;
/// Longest range one listing may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// What the API needs.
pub struct ApiState {
    pub mentions: Arc<dyn MentionStore>,
    pub config: Arc<dyn ConfigStore>,
    /// Gets events committed by ingestion moving.
    pub announce: Arc<dyn Announce>,
    pub auth: Authenticator,
    pub cursors: CursorSigner,
    pub clock: Arc<dyn Clock>,
}

/// A client error with the detail to show.
struct BadRequest(StatusCode, String);

impl From<AuthError> for BadRequest {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AuthError::Forbidden { .. } | AuthError::NoRole { .. } => StatusCode::FORBIDDEN,
            AuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        BadRequest(status, e.to_string())
    }
}

impl From<StoreError> for BadRequest {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(detail) => BadRequest(StatusCode::BAD_REQUEST, detail),
            other => {
                tracing::error!(error = %other, retryable = other.is_retryable(), "store failed");
                let status = if other.is_retryable() {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                BadRequest(status, "the store is not available; try again later".into())
            }
        }
    }
}

fn bad(detail: impl Into<String>) -> BadRequest {
    BadRequest(StatusCode::BAD_REQUEST, detail.into())
}

/// Serves one API request.
#[tracing::instrument(skip_all, fields(method = %request.method(), path = %request.uri().path()))]
pub async fn handle(state: &ApiState, credential: &Credential, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let (route, params) = match route(request.method().as_str(), &path) {
        Ok(found) => found,
        Err(method_mismatch) => return no_route(method_mismatch),
    };
    let result = match (request.method(), route.path) {
        (&Method::GET, "/v1/openapi.json") => Ok(json_document(StatusCode::OK, OPENAPI)),
        (&Method::GET, "/v1/mentions") => list_mentions(state, credential, request.uri().query()).await,
        (&Method::POST, "/v1/mentions") => ingest_mentions(state, credential, request.body()).await,
        (&Method::GET, "/v1/mentions/{key}") => {
            get_mention(state, credential, params.first().copied().unwrap_or("")).await
        }
        _ => return no_route(true),
    };
    result.unwrap_or_else(|BadRequest(status, detail)| problem(status, &detail))
}

#[derive(Serialize)]
struct MentionPage {
    items: Vec<Mention>,
    next_cursor: Option<String>,
}

fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, BadRequest> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    // A bare date is a WIB day.
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(wib_day_start)
        .map_err(|_| bad(format!("{name} must be an RFC 3339 time or a YYYY-MM-DD date (WIB), got {value:?}")))
}

fn parse_label<T: std::str::FromStr>(value: &str) -> Result<T, BadRequest>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| bad(e.to_string()))
}

async fn list_mentions(state: &ApiState, credential: &Credential, query: Option<&str>) -> Result<Response, BadRequest> {
    state.auth.authorize(credential, Role::Viewer).await?;
    let mut params: HashMap<String, String> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if params.insert(name.to_string(), value.to_string()).is_some() {
            return Err(bad(format!("parameter {name} is given more than once")));
        }
    }
    const KNOWN: [&str; 8] = ["from", "to", "platform", "category", "sentiment", "topic", "limit", "cursor"];
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad(format!("unknown parameter {unknown}; known: {}", KNOWN.join(", "))));
    }
    let to = params.get("to").map(|v| parse_time("to", v)).transpose()?.unwrap_or_else(|| state.clock.now());
    let from = params
        .get("from")
        .map(|v| parse_time("from", v))
        .transpose()?
        .unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
    if from >= to {
        return Err(bad("from must be before to"));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(bad(format!("a listing may cover at most {MAX_RANGE_DAYS} days")));
    }
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(bad(format!(
                    "limit must be a whole number from 1 (at most {MAX_LIMIT} are returned), got {v:?}"
                )));
            }
            Ok(n) => n.min(MAX_LIMIT),
        },
    };
    let after = params.get("cursor").map(|c| state.cursors.verify(c)).transpose().map_err(|e| bad(e.to_string()))?;
    let query = MentionQuery {
        from,
        to,
        platform: params.get("platform").map(|v| parse_label::<Platform>(v)).transpose()?,
        category: params.get("category").map(|v| parse_label::<Category>(v)).transpose()?,
        sentiment: params.get("sentiment").map(|v| parse_label::<Sentiment>(v)).transpose()?,
        topic: params.get("topic").cloned(),
        limit,
        after,
    };
    let page = state.mentions.list_mentions(&query).await?;
    let next_cursor = page.next.as_ref().map(|p| state.cursors.sign(p));
    Ok(json(StatusCode::OK, &MentionPage { items: page.items, next_cursor }))
}

async fn get_mention(state: &ApiState, credential: &Credential, raw_key: &str) -> Result<Response, BadRequest> {
    state.auth.authorize(credential, Role::Viewer).await?;
    let decoded = percent_encoding::percent_decode_str(raw_key)
        .decode_utf8()
        .map_err(|_| bad("the mention key is not valid percent-encoded UTF-8"))?;
    let key: MentionKey = decoded.parse().map_err(|e: crate::domain::DomainError| bad(e.to_string()))?;
    match state.mentions.get_mention(&key).await? {
        Some(mention) => Ok(json(StatusCode::OK, &mention)),
        None => Err(BadRequest(StatusCode::NOT_FOUND, format!("no mention {key}"))),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestBody {
    mentions: Vec<serde_json::Value>,
}

/// `POST /v1/mentions`: a batch of normalised mentions from another app. The whole batch is
/// checked first (a bad item refuses the batch, naming it); then each is stored once.
async fn ingest_mentions(state: &ApiState, credential: &Credential, body: &[u8]) -> Result<Response, BadRequest> {
    state.auth.authorize(credential, Role::Ingest).await?;
    let body: IngestBody =
        serde_json::from_slice(body).map_err(|e| bad(format!("body must be {{\"mentions\": [...]}}: {e}")))?;
    if body.mentions.is_empty() || body.mentions.len() > MAX_BATCH {
        return Err(bad(format!("send 1 to {MAX_BATCH} mentions per request, got {}", body.mentions.len())));
    }
    let mut items = Vec::with_capacity(body.mentions.len());
    for (i, raw) in body.mentions.into_iter().enumerate() {
        let input: MentionInput = serde_json::from_value(raw).map_err(|e| bad(format!("mentions[{i}]: {e}")))?;
        let mention = input.into_new().map_err(|e| bad(format!("mentions[{i}].{e}")))?;
        items.push(Item::Message { mention: Box::new(mention), edit: false });
    }
    let ingest = Ingest {
        mentions: state.mentions.as_ref(),
        config: state.config.as_ref(),
        source: "api",
        now: state.clock.now(),
    };
    let outcome = ingest.apply(items).await;
    state.announce.announce(&outcome.events).await;
    if let Some(err) = outcome.error {
        return Err(err.into());
    }
    Ok(json(StatusCode::OK, &outcome.stats))
}
