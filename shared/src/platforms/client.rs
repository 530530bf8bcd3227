//! The HTTP client for platform APIs: base URLs from configuration, timeouts, and rate-limit
//! answers (429 with reset headers) turned into a typed "come back at" error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

/// Why a platform call did not give us data.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The platform asks us to wait; do not call again before `until`.
    #[error("rate limited until {until}")]
    RateLimited { until: DateTime<Utc> },
    /// The credential is expired or refused (Graph code 190, HTTP 401).
    #[error("credential refused: {0}")]
    Unauthorized(String),
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    /// The URL is stripped: query strings carry API keys.
    #[error("request failed: {0}")]
    Transport(reqwest::Error),
    #[error("unexpected response: {0}")]
    Shape(String),
}

/// A configured client; one per process.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
}

/// Longest body read from a platform (pages of comments and feeds are far smaller).
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Wait when a 429 gives no reset header.
const DEFAULT_BACKOFF_SECONDS: i64 = 60;

impl From<reqwest::Error> for ApiError {
    fn from(e: reqwest::Error) -> Self {
        ApiError::Transport(e.without_url())
    }
}

impl ApiClient {
    pub fn new() -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("pantau/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ApiClient { http })
    }

    /// GETs a URL with query parameters and optional bearer token; returns the body, or
    /// `None` for 304 Not Modified.
    pub async fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        bearer: Option<&str>,
        extra: &[(&str, String)],
        now: DateTime<Utc>,
    ) -> Result<Option<(HeaderMap, Vec<u8>)>, ApiError> {
        let mut request = self.http.get(url).query(query);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        for (name, value) in extra {
            request = request.header(*name, value);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let body = response.bytes().await?;
        if body.len() > MAX_BODY {
            return Err(ApiError::Shape(format!("body of {} bytes exceeds {MAX_BODY}", body.len())));
        }
        let text = || String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        match status {
            s if s.is_success() => Ok(Some((headers, body.to_vec()))),
            StatusCode::TOO_MANY_REQUESTS => Err(ApiError::RateLimited { until: reset_at(&headers, now) }),
            StatusCode::UNAUTHORIZED => Err(ApiError::Unauthorized(text())),
            s => {
                Err(graph_error(s.as_u16(), &body, now)
                    .unwrap_or(ApiError::Status { status: s.as_u16(), body: text() }))
            }
        }
    }

    /// GETs JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, String)],
        bearer: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<T, ApiError> {
        let (_, body) = self
            .get(url, query, bearer, &[], now)
            .await?
            .ok_or_else(|| ApiError::Shape("304 without a conditional request".into()))?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Shape(e.to_string()))
    }
}

/// When a rate limit ends: `x-rate-limit-reset` (epoch seconds, X), `retry-after` (seconds).
pub(crate) fn reset_at(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    let header =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    if let Some(epoch) = header("x-rate-limit-reset").and_then(|s| DateTime::from_timestamp(s, 0)) {
        return epoch.max(now);
    }
    let seconds = header("retry-after").unwrap_or(DEFAULT_BACKOFF_SECONDS);
    now + chrono::Duration::seconds(seconds.clamp(1, 86_400))
}

/// Meta Graph errors `{"error": {"code": …}}`: 190 is an expired token; 4, 17, 32 and 613
/// are rate limits; YouTube's quota errors are `403` with reason `quotaExceeded`.
fn graph_error(status: u16, body: &[u8], now: DateTime<Utc>) -> Option<ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let message = error.get("message").and_then(|m| m.as_str()).unwrap_or_default().to_string();
    match error.get("code").and_then(|c| c.as_i64()) {
        Some(190) => return Some(ApiError::Unauthorized(message)),
        Some(4 | 17 | 32 | 613) => return Some(ApiError::RateLimited { until: now + chrono::Duration::minutes(15) }),
        _ => {}
    }
    let quota = error.get("errors").and_then(|e| e.as_array()).is_some_and(|errors| {
        errors
            .iter()
            .any(|e| matches!(e.get("reason").and_then(|r| r.as_str()), Some("quotaExceeded" | "rateLimitExceeded")))
    });
    (status == 403 && quota).then(|| ApiError::RateLimited { until: now + chrono::Duration::hours(1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rate_limit_resets_come_from_the_headers() {
        let now = Utc.with_ymd_and_hms(2026, 11, 16, 3, 0, 0).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit-reset", "1794801600".parse().unwrap());
        assert_eq!(reset_at(&headers, now), DateTime::from_timestamp(1_794_801_600, 0).unwrap());
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "120".parse().unwrap());
        assert_eq!(reset_at(&headers, now), now + chrono::Duration::seconds(120));
        assert_eq!(reset_at(&HeaderMap::new(), now), now + chrono::Duration::seconds(DEFAULT_BACKOFF_SECONDS));
    }

    #[test]
    fn graph_and_youtube_errors_are_classified() {
        let now = Utc::now();
        let expired = br#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190}}"#;
        assert!(matches!(graph_error(400, expired, now), Some(ApiError::Unauthorized(_))));
        let limited = br#"{"error":{"message":"Application request limit reached","code":4}}"#;
        assert!(matches!(graph_error(400, limited, now), Some(ApiError::RateLimited { .. })));
        let quota = br#"{"error":{"code":403,"message":"quota","errors":[{"reason":"quotaExceeded","domain":"youtube.quota"}]}}"#;
        assert!(matches!(graph_error(403, quota, now), Some(ApiError::RateLimited { .. })));
        assert!(graph_error(500, b"oops", now).is_none());
    }
}
