//! Events on the `pantau` bus. Each is written to the outbox together with the state change it
//! announces, then relayed; consumers are idempotent because delivery is at least once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::labels::{Category, Priority, Sentiment};
use super::mention::MentionKey;
use super::report::ReportPeriod;

/// What happened, with its detail. The variant name is the EventBridge detail-type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "detail-type", content = "detail")]
pub enum EventKind {
    MentionReceived {
        key: MentionKey,
    },
    MentionClassified {
        key: MentionKey,
        category: Category,
        sentiment: Sentiment,
        priority: Priority,
    },
    AlertRaised {
        kind: super::alert::AlertKind,
        #[serde(flatten)]
        data: serde_json::Map<String, Value>,
    },
    ReportRequested {
        period: ReportPeriod,
        from: NaiveDate,
        to: NaiveDate,
    },
    PostPublished {
        post: String,
        occurrence: String,
        platform: String,
        platform_post_id: String,
    },
}

impl EventKind {
    /// The EventBridge detail-type.
    pub fn detail_type(&self) -> &'static str {
        match self {
            EventKind::MentionReceived { .. } => "MentionReceived",
            EventKind::MentionClassified { .. } => "MentionClassified",
            EventKind::AlertRaised { .. } => "AlertRaised",
            EventKind::ReportRequested { .. } => "ReportRequested",
            EventKind::PostPublished { .. } => "PostPublished",
        }
    }

    /// Parses a detail-type and detail as received from the bus.
    pub fn from_parts(detail_type: &str, detail: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "detail-type": detail_type, "detail": detail }))
    }

    /// The detail object alone.
    pub fn detail(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut map)) => map.remove("detail").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }
}

/// An event with its identity, ready for the outbox and the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable id (outbox key); carried in the detail as `event_id` so consumers can dedupe.
    pub id: String,
    /// `pantau.<function>`.
    pub source: String,
    pub kind: EventKind,
    pub created_at: DateTime<Utc>,
}

impl Event {
    pub fn new(function: &str, kind: EventKind, at: DateTime<Utc>) -> Self {
        Event { id: uuid::Uuid::now_v7().to_string(), source: format!("pantau.{function}"), kind, created_at: at }
    }

    /// The detail as published: the kind's fields plus `event_id`.
    pub fn published_detail(&self) -> Value {
        let mut detail = self.kind.detail();
        if let Value::Object(map) = &mut detail {
            map.insert("event_id".into(), Value::String(self.id.clone()));
        }
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_type_and_detail_round_trip() {
        let kind = EventKind::MentionClassified {
            key: "x:9".parse().unwrap(),
            category: Category::Hater,
            sentiment: Sentiment::Negatif,
            priority: Priority::P1,
        };
        assert_eq!(kind.detail_type(), "MentionClassified");
        let detail = kind.detail();
        assert_eq!(detail["category"], "hater");
        assert_eq!(EventKind::from_parts("MentionClassified", detail).unwrap(), kind);
        assert!(EventKind::from_parts("MentionReceived", serde_json::json!({"key": "nope"})).is_err());
    }

    #[test]
    fn published_detail_carries_the_event_id() {
        let event =
            Event::new("ingest-webhook", EventKind::MentionReceived { key: "x:1".parse().unwrap() }, Utc::now());
        assert_eq!(event.source, "pantau.ingest-webhook");
        let detail = event.published_detail();
        assert_eq!(detail["event_id"], event.id.as_str());
        assert_eq!(detail["key"], "x:1");
    }
}
