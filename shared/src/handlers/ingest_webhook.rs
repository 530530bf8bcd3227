//! Webhook ingestion (function `ingest-webhook`): verify over the raw body, parse, store each
//! mention once with its `MentionReceived` event, acknowledge.

use std::sync::Arc;

use http::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use crate::app::cases::{CaseDesk, ReplyOutcome};
use crate::app::ingest::Ingest;
use crate::config::Secrets;
use crate::domain::{CaseReply, ReplySource};
use crate::error::StoreError;
use crate::http::{Request, Response, json, problem, route, text, too_large, unrouted};
use crate::platforms::{Item, OwnReply, Parsed, WebhookError, meta, telegram, x};
use crate::ports::{Announce, BlobStore, CaseStore, MentionStore};
use crate::stores::{Budgets, LookupQueue, PendingReplies, Settings};
use crate::time::Clock;

const SOURCE: &str = "ingest-webhook";

/// The platform secrets; a platform without its secret answers 404.
pub struct WebhookSecrets {
    pub meta_app_secret: Option<SecretString>,
    pub meta_verify_token: Option<SecretString>,
    pub x_consumer_secret: Option<SecretString>,
    pub telegram_secret_token: Option<SecretString>,
}

impl WebhookSecrets {
    pub fn from_secrets(secrets: &Secrets) -> Self {
        WebhookSecrets {
            meta_app_secret: secrets.meta_app_secret.clone(),
            meta_verify_token: secrets.meta_verify_token.clone(),
            x_consumer_secret: secrets.x_consumer_secret.clone(),
            telegram_secret_token: secrets.telegram_secret_token.clone(),
        }
    }
}

/// What the webhook function needs.
pub struct WebhookState {
    pub mentions: Arc<dyn MentionStore>,
    /// The office's own replies seen on a platform are recorded on the case they answer (with
    /// SLA clocks from the settings), or held until it opens.
    pub cases: Arc<dyn CaseStore>,
    pub settings: Arc<dyn Settings>,
    pub pending: Arc<dyn PendingReplies>,
    /// Messages that arrive as ids only, for the poll to resolve.
    pub lookups: Arc<dyn LookupQueue>,
    /// Where deliveries we cannot map are kept for inspection…
    pub quarantine: Arc<dyn BlobStore>,
    /// …at most this many per platform and hour (so replays cannot fill it).
    pub quarantine_per_hour: u32,
    pub budgets: Arc<dyn Budgets>,
    pub announce: Arc<dyn Announce>,
    pub secrets: WebhookSecrets,
    pub clock: Arc<dyn Clock>,
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a [u8]> {
    request.headers().get(name).map(|v| v.as_bytes())
}

fn query_param(request: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn not_configured() -> Response {
    problem(StatusCode::NOT_FOUND, "this platform is not configured")
}

fn unauthorized(platform: &str) -> Response {
    tracing::warn!(platform, reason = "signature missing or wrong", "webhook refused");
    crate::telemetry::emit_metric("SignatureFailures", 1.0, &[("Platform", platform)], chrono::Utc::now());
    problem(StatusCode::UNAUTHORIZED, "signature missing or wrong")
}

/// Serves one webhook request.
#[tracing::instrument(skip_all, fields(method = %request.method(), path = %request.uri().path()))]
pub async fn handle(state: &WebhookState, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let route = match route(request.method().as_str(), &path) {
        Ok((route, _)) => route,
        Err(_) => return unrouted(&path),
    };
    if request.body().len() > route.max_body {
        return too_large(route.max_body);
    }
    let s = &state.secrets;
    let body = request.body();
    let parsed = match (request.method(), route.path) {
        (&Method::GET, "/webhooks/meta") => {
            let Some(token) = &s.meta_verify_token else { return not_configured() };
            let mode = query_param(&request, "hub.mode");
            let given = query_param(&request, "hub.verify_token");
            let challenge = query_param(&request, "hub.challenge");
            return match meta::handshake(mode.as_deref(), given.as_deref(), challenge.as_deref(), token.expose_secret())
            {
                Some(challenge) => text(StatusCode::OK, challenge),
                None => {
                    tracing::warn!(platform = "meta", reason = "handshake token or mode wrong", "webhook refused");
                    problem(StatusCode::FORBIDDEN, "verify token or mode does not match")
                }
            };
        }
        (&Method::POST, "/webhooks/meta") => {
            let Some(secret) = &s.meta_app_secret else { return not_configured() };
            if !meta::verify(header(&request, "x-hub-signature-256"), body, secret.expose_secret()) {
                return unauthorized("meta");
            }
            meta::parse(body, state.clock.now())
        }
        (&Method::GET, "/webhooks/x") => {
            let Some(secret) = &s.x_consumer_secret else { return not_configured() };
            return match query_param(&request, "crc_token") {
                // Only short token-like values: signing arbitrary input would let anyone obtain
                // a valid signature for a forged JSON body.
                Some(token) if x::is_crc_token(&token) => {
                    json(StatusCode::OK, &x::crc_response(&token, secret.expose_secret()))
                }
                Some(_) => problem(
                    StatusCode::BAD_REQUEST,
                    "crc_token must be 1 to 128 letters, digits or -_=+/. and not a JSON value",
                ),
                None => problem(StatusCode::BAD_REQUEST, "crc_token is required"),
            };
        }
        (&Method::POST, "/webhooks/x") => {
            let Some(secret) = &s.x_consumer_secret else { return not_configured() };
            if !x::verify(header(&request, "x-twitter-webhooks-signature"), body, secret.expose_secret()) {
                return unauthorized("x");
            }
            x::parse(body)
        }
        (&Method::POST, "/webhooks/telegram") => {
            let Some(secret) = &s.telegram_secret_token else { return not_configured() };
            if !telegram::verify(header(&request, "x-telegram-bot-api-secret-token"), secret.expose_secret()) {
                return unauthorized("telegram");
            }
            telegram::parse(body)
        }
        _ => return unrouted(&path),
    };
    let platform = match route.path {
        "/webhooks/meta" => "meta",
        "/webhooks/x" => "x",
        _ => "telegram",
    };
    // Every platform delivers a JSON object: anything else is refused before it can be kept.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return problem(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    }
    match parsed {
        Ok(parsed) => store(state, platform, body, parsed).await,
        Err(WebhookError::Malformed(detail)) => {
            problem(StatusCode::BAD_REQUEST, &format!("body is not valid JSON: {detail}"))
        }
    }
}

/// Stores what the delivery holds; `MentionReceived` goes out only for new or edited
/// messages. A body we could not fully map is kept in the quarantine for inspection.
async fn store(state: &WebhookState, platform: &'static str, body: &[u8], parsed: Parsed) -> Response {
    let now = state.clock.now();
    if parsed.unmapped > 0 && !quarantine(state, platform, body, parsed.unmapped).await {
        // Not kept, so not acknowledged: the platform will deliver it again.
        return problem(StatusCode::SERVICE_UNAVAILABLE, "could not keep the delivery; retry later");
    }
    let ingest = Ingest { mentions: state.mentions.as_ref(), lookups: state.lookups.as_ref(), source: SOURCE, now };
    let mut ignored = parsed.ignored;
    let unmapped = parsed.unmapped;
    let (replies, items): (Vec<Item>, Vec<Item>) =
        parsed.items.into_iter().partition(|i| matches!(i, Item::OwnReply(_)));
    for reply in replies {
        let Item::OwnReply(reply) = reply else { continue };
        match record_reply(state, reply).await {
            Ok(true) => {}
            Ok(false) => ignored += 1,
            Err(err) => {
                tracing::error!(platform, error = %err, "could not record the office's reply; asking the platform to retry");
                return problem(StatusCode::SERVICE_UNAVAILABLE, "could not store the delivery; retry later");
            }
        }
    }
    let outcome = ingest.apply(items).await;
    // Whatever was committed is announced, even when a later item failed.
    state.announce.announce(&outcome.events).await;
    if let Some(err) = outcome.error {
        // The platform retries; what was stored is skipped as a duplicate then.
        tracing::error!(platform, error = %err, retryable = err.is_retryable(), "store failed; asking the platform to retry");
        return problem(StatusCode::SERVICE_UNAVAILABLE, "could not store the delivery; retry later");
    }
    let stats = outcome.stats;
    if stats.failed > 0 {
        // Keep the delivery for inspection: some of its items could not be stored.
        quarantine(state, platform, body, stats.failed).await;
    }
    tracing::info!(
        platform,
        stored = stats.stored,
        duplicates = stats.duplicates,
        edited = stats.edited,
        removed = stats.removed,
        ignored,
        unmapped,
        "webhook delivery stored"
    );
    let mut body = serde_json::to_value(&stats).unwrap_or_default();
    if let Some(map) = body.as_object_mut() {
        map.insert("ignored".into(), ignored.into());
        map.insert("unmapped".into(), unmapped.into());
    }
    json(StatusCode::OK, &body)
}

/// Records the office's reply on the case of the message it answers (no case: nothing to do).
async fn record_reply(state: &WebhookState, reply: OwnReply) -> Result<bool, StoreError> {
    let response = CaseReply {
        id: reply.id,
        at: reply.at,
        by: "akun resmi".into(),
        text: reply.text,
        url: reply.url,
        answer_id: None,
        source: ReplySource::Platform,
    };
    let desk =
        CaseDesk { cases: state.cases.as_ref(), settings: state.settings.as_ref(), pending: state.pending.as_ref() };
    Ok(match desk.record_reply(&reply.parent, response).await? {
        ReplyOutcome::Recorded(_) => {
            tracing::info!(case = %reply.parent, "office reply seen on the platform; response recorded");
            true
        }
        ReplyOutcome::Held => true,
        _ => false,
    })
}

/// Keeps a delivery we could not map, and counts it as a CloudWatch metric (embedded metric
/// format, so the log line is the metric). Returns whether the body was kept.
async fn quarantine(state: &WebhookState, platform: &'static str, body: &[u8], unmapped: usize) -> bool {
    let now = state.clock.now();
    let hour = now.format("%Y-%m-%dT%H").to_string();
    let window_end = now + chrono::Duration::hours(1);
    match state.budgets.take(&format!("quarantine:{platform}:{hour}"), state.quarantine_per_hour, window_end).await {
        Ok(true) => {}
        Ok(false) => {
            // Acknowledged but not kept: the hour's budget is spent (a replay flood).
            tracing::debug!(platform, unmapped, "quarantine budget of the hour spent; delivery not kept");
            crate::telemetry::emit_metric("QuarantineDropped", 1.0, &[("Platform", platform)], now);
            return true;
        }
        Err(err) => {
            tracing::error!(platform, error = %err, "could not check the quarantine budget");
            return false;
        }
    }
    let key = format!("quarantine/{platform}/{}/{}.json", crate::time::wib_date(now), uuid::Uuid::now_v7());
    if let Err(err) = state.quarantine.put_blob(&key, body.to_vec(), "application/json").await {
        tracing::error!(platform, error = %err, "could not quarantine an unmapped delivery");
        return false;
    }
    tracing::warn!(platform, unmapped, quarantined = %key, "delivery had items of a shape we do not map");
    crate::telemetry::emit_metric("UnmappedWebhookItems", unmapped as f64, &[("platform", platform)], now);
    true
}
