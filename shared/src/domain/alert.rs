//! Alerts for people on duty: their kinds and the record kept of each one raised.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::labels::vocabulary;

vocabulary! {
    /// What an `AlertRaised` is about.
    AlertKind, "alert kind" {
        /// A hater with a large following (classification or a correction).
        InfluentialHater => "influential_hater",
        /// A volume or negative-share spike starting or ending.
        Spike => "spike",
        SlaReminder => "sla_reminder",
        SlaBreach => "sla_breach",
        /// Many SLA alerts of one run in one message.
        SlaDigest => "sla_digest",
        /// The holiday calendar does not cover the coming weeks.
        Calendar => "calendar",
        /// A platform refused a post or reply for good.
        PublishFailed => "publish_failed",
        /// A post's outcome is unknown and the platform cannot be read back: a person checks.
        PublishUnconfirmed => "publish_unconfirmed",
        /// A publishing account's credentials were refused: its posts wait.
        ChannelUnhealthy => "channel_unhealthy",
        /// A publishing account's token expires within a week.
        TokenExpiry => "token_expiry",
        /// A report was produced (its headline numbers and where to read it).
        ReportReady => "report_ready",
    }
}

vocabulary! {
    /// Where an SLA clock stands when it alerts.
    SlaStage, "SLA stage" {
        /// Due soon.
        Pengingat => "pengingat",
        /// Past due.
        Terlewat => "terlewat",
    }
}

/// One raised alert as kept for `GET /v1/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The `AlertRaised` event id.
    pub id: String,
    pub kind: AlertKind,
    pub raised_at: DateTime<Utc>,
    pub title: String,
    pub body: String,
    pub data: Map<String, Value>,
    /// Channels it reached.
    pub delivered: Vec<String>,
    /// Channels that refused it for good (not tried again).
    #[serde(default)]
    pub failed: Vec<String>,
}

impl AlertRecord {
    /// Whether the alert names one of `keys` as its mention or case.
    pub fn names_any(&self, keys: &std::collections::HashSet<String>) -> bool {
        ["key", "case"]
            .iter()
            .any(|field| self.data.get(*field).and_then(Value::as_str).is_some_and(|k| keys.contains(k)))
    }
}
