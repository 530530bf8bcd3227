//! Tokens checked ahead: a publishing account whose token expires within a week is announced
//! once per account and expiry, so someone renews it before posts start to wait.

use chrono::{DateTime, Duration, Utc};
use serde_json::Map;

use super::Publishers;
use crate::app::alerts::{raised, wib_text};
use crate::domain::AlertKind;
use crate::error::StoreError;
use crate::ports::PublishError;
use crate::stores::{Marker, Markers};

/// How long before expiry the office is warned.
pub const WARN_DAYS: i64 = 7;

/// Checks every account's token; returns how many warnings went out.
pub async fn check_tokens(
    publishers: &Publishers,
    markers: &dyn Markers,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut warned = 0;
    for ((platform, account), publisher) in publishers.iter() {
        let expiry = match publisher.token_expiry().await {
            Ok(Some(at)) => at,
            Ok(None) => continue,
            Err(PublishError::Unauthorized(reason)) => {
                tracing::error!(%platform, %account, reason, "publishing token refused");
                now
            }
            Err(e) => {
                tracing::warn!(%platform, %account, error = %e, "could not check the token; next run tries again");
                continue;
            }
        };
        if expiry - now > Duration::days(WARN_DAYS) {
            continue;
        }
        let mut data = Map::new();
        data.insert("platform".into(), platform.as_str().into());
        data.insert("account".into(), account.as_str().into());
        data.insert("expires_at".into(), crate::time::sortable(expiry).into());
        data.insert("expires_wib".into(), wib_text(expiry).into());
        data.insert("action".into(), "renew the token and put it in the secret".into());
        let id = format!("{platform}:{account}:{}", expiry.date_naive());
        let event = raised("watch", AlertKind::TokenExpiry, data.clone(), now);
        if markers.mark_once(Marker::TokenExpiry, &id, &serde_json::Value::Object(data), now, &[event]).await? {
            warned += 1;
        }
    }
    Ok(warned)
}
