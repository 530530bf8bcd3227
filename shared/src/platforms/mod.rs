//! Platforms: webhook verification and payload parsing at the boundary.

pub mod meta;
pub mod telegram;
pub mod x;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::NewMention;

/// What one webhook delivery contained.
#[derive(Debug, Default)]
pub struct Parsed {
    pub mentions: Vec<NewMention>,
    /// Items acknowledged but deliberately not stored (statuses, the office's own posts…).
    pub ignored: usize,
    /// Items of a shape we do not map yet (kept for inspection, never refused).
    pub unmapped: usize,
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("signature missing or wrong")]
    BadSignature,
    #[error("body is not valid JSON: {0}")]
    Malformed(String),
}

/// HMAC-SHA256 of a body.
pub fn hmac_sha256(secret: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks `expected` (an HMAC over `body`) in constant time.
pub fn verify_hmac(secret: &[u8], body: &[u8], expected: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(body);
    mac.verify_slice(expected).is_ok()
}

/// Base64 of an HMAC-SHA256 (X's signatures and CRC).
pub fn hmac_base64(secret: &[u8], body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret, body))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))
}

pub(crate) fn from_epoch(seconds: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(seconds, 0)
}
