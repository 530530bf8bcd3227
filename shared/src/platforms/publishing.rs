//! What every publishing client shares: one HTTP client with timeouts, a call whose failure
//! says whether the platform may have acted, and fetching an image to upload.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::ports::PublishError;

/// Largest image fetched to upload (X's limit for images).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// The HTTP client publishers share (one per process).
#[derive(Clone)]
pub struct Http {
    pub(crate) client: reqwest::Client,
}

impl Http {
    pub fn new() -> Result<Http, PublishError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("pantau/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PublishError::Unavailable(e.without_url().to_string()))?;
        Ok(Http { client })
    }
}

/// A platform's answer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Sends a request. No connection at all means nothing was sent (`Unavailable`); anything
/// after the request left (a timeout, a reset) leaves the outcome open (`Unknown`). URLs are
/// never in the error (they may carry tokens).
pub async fn call(request: reqwest::RequestBuilder) -> Result<Answer, PublishError> {
    let response = request.send().await.map_err(|e| {
        let e = e.without_url();
        if e.is_connect() { PublishError::Unavailable(e.to_string()) } else { PublishError::Unknown(e.to_string()) }
    })?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(|e| PublishError::Unknown(e.without_url().to_string()))?;
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Ok(Answer { status, headers, body })
}

/// The image at `url`, to upload.
pub async fn fetch_image(http: &Http, url: &str) -> Result<(Bytes, String), PublishError> {
    let response = http
        .client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| PublishError::Unavailable(format!("the image could not be fetched: {}", e.without_url())))?;
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("image/jpeg")
        .to_string();
    let bytes = response.bytes().await.map_err(|e| PublishError::Unavailable(e.without_url().to_string()))?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(PublishError::Refused {
            reason: format!("the image is larger than {MAX_IMAGE_BYTES} bytes"),
            duplicate: false,
        });
    }
    Ok((bytes, kind))
}

#[async_trait::async_trait]
impl crate::ports::MediaProbe for Http {
    async fn probe(&self, url: &str) -> Result<(), String> {
        let head = self.client.head(url).send().await.map_err(|e| format!("unreachable ({})", e.without_url()))?;
        let response = if head.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            self.client.get(url).send().await.map_err(|e| format!("unreachable ({})", e.without_url()))?
        } else {
            head
        };
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let kind = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !kind.starts_with("image/") {
            return Err(format!("not an image (Content-Type {kind:?})"));
        }
        Ok(())
    }
}

/// Text as a platform may give it back: NFC, spaces collapsed, and each link masked (X rewrites
/// links to t.co), so what was sent can be recognised among what was posted.
pub fn comparable(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let nfc: String = text.nfc().collect();
    nfc.split_whitespace()
        .map(|w| if w.starts_with("http://") || w.starts_with("https://") { "<link>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// When a platform's post time is at or after `since` (unknown times are let through).
pub fn not_before(created: Option<&str>, since: DateTime<Utc>) -> bool {
    created
        .and_then(|t| {
            DateTime::parse_from_rfc3339(t).ok().or_else(|| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
        })
        .is_none_or(|t| t.with_timezone(&Utc) >= since)
}

/// How long Graph says to wait: the largest `estimated_time_to_regain_access` (minutes) of its
/// business use case usage header, 15 minutes when it says nothing.
fn graph_wait(headers: &HeaderMap) -> chrono::Duration {
    let minutes = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .and_then(|usage| {
            let per_case = usage.as_object()?.values().filter_map(Value::as_array).flatten();
            per_case.filter_map(|u| u["estimated_time_to_regain_access"].as_i64()).max()
        })
        .filter(|m| *m > 0)
        .unwrap_or(15);
    chrono::Duration::minutes(minutes.min(24 * 60))
}

/// Meta's Graph error codes, read as publishing outcomes.
pub fn graph_failure(status: u16, headers: &HeaderMap, body: &Value) -> PublishError {
    let error = &body["error"];
    let code = error["code"].as_i64();
    let message = error["message"].as_str().unwrap_or("").to_string();
    let reason = format!("Graph error {}: {message}", code.map_or("?".to_string(), |c| c.to_string()));
    match code {
        Some(190) | Some(10) | Some(200..=299) => PublishError::Unauthorized(reason),
        Some(4 | 17 | 32 | 613 | 80001 | 130429 | 131056) => PublishError::RateLimited { wait: graph_wait(headers) },
        Some(506) => PublishError::Refused { reason, duplicate: true },
        Some(1 | 2) => PublishError::Unknown(reason),
        _ if status >= 500 => PublishError::Unknown(reason),
        _ => PublishError::Refused { reason, duplicate: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_and_posted_texts_compare_with_links_masked() {
        assert_eq!(
            comparable("Info  beasiswa https://jatimprov.go.id/b #JatimCerdas"),
            comparable("Info beasiswa https://t.co/AbC123 #JatimCerdas")
        );
        assert_ne!(comparable("satu"), comparable("dua"));
    }

    #[test]
    fn graph_codes_say_what_happened() {
        let none = HeaderMap::new();
        let body = |code: i64| serde_json::json!({"error": {"message": "m", "type": "OAuthException", "code": code}});
        assert!(matches!(graph_failure(400, &none, &body(190)), PublishError::Unauthorized(_)));
        assert_eq!(
            graph_failure(400, &none, &body(613)),
            PublishError::RateLimited { wait: chrono::Duration::minutes(15) }
        );
        assert!(matches!(graph_failure(400, &none, &body(506)), PublishError::Refused { duplicate: true, .. }));
        assert!(matches!(graph_failure(400, &none, &body(100)), PublishError::Refused { duplicate: false, .. }));
        assert!(matches!(graph_failure(500, &none, &body(2)), PublishError::Unknown(_)));
        let mut usage = HeaderMap::new();
        let header = r#"{"1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 42}]}"#;
        usage.insert("x-business-use-case-usage", header.parse().unwrap());
        assert_eq!(
            graph_failure(400, &usage, &body(32)),
            PublishError::RateLimited { wait: chrono::Duration::minutes(42) }
        );
    }
}
