//! Function handlers: the same code runs in each Lambda and in `pantau`.

pub mod api;
pub mod classify;
pub mod ingest_poll;
pub mod ingest_webhook;
pub mod publish;
pub mod report;
pub mod watch;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

use crate::domain::EventKind;
use crate::error::StoreError;
use crate::schedule::ScheduleName;

/// Source of scheduled events (EventBridge Scheduler input and the local scheduler).
pub const SCHEDULE_SOURCE: &str = "pantau.schedule";

/// Why an event-driven invocation failed, and whether Lambda should try it again.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// Something inside failed; a retry may succeed (Lambda retries, then the DLQ keeps it).
    #[error("temporary failure: {0}")]
    Retryable(String),
    /// The event itself is wrong or not for this function: no retry can help. It is logged
    /// and acknowledged, never retried.
    #[error("rejected event: {0}")]
    Rejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FunctionError {
    /// Whether retrying the same event may succeed. A store error about the item itself
    /// (unreadable, refused) will not; a contended or unavailable store may.
    pub fn is_retryable(&self) -> bool {
        match self {
            FunctionError::Retryable(_) => true,
            FunctionError::Rejected(_) => false,
            FunctionError::Store(e) => !matches!(e, StoreError::Invalid(_) | StoreError::Corrupt { .. }),
        }
    }
}

/// The function that consumes each event, as the template's bus rules route them.
pub fn consumer(kind: &EventKind) -> Option<&'static str> {
    match kind {
        EventKind::MentionReceived { .. } => Some("classify"),
        EventKind::ReportRequested { .. } => Some("report"),
        EventKind::AlertRaised { .. } => Some("watch"),
        EventKind::MentionClassified { .. } | EventKind::PostPublished { .. } => None,
    }
}

/// What started a bus- or schedule-driven function.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// A named schedule of the template.
    Schedule(ScheduleName),
    /// An event from the `pantau` bus.
    Event(EventKind),
}

impl Trigger {
    /// Reads an EventBridge event (bus rule or scheduler input).
    pub fn from_event(event: &EventBridgeEvent<Value>) -> Result<Self, FunctionError> {
        if event.source == SCHEDULE_SOURCE {
            let name = event
                .detail
                .get("schedule")
                .and_then(Value::as_str)
                .ok_or_else(|| FunctionError::Rejected("scheduled event without detail.schedule".into()))?;
            return name.parse().map(Trigger::Schedule).map_err(|e| FunctionError::Rejected(e.to_string()));
        }
        EventKind::from_parts(&event.detail_type, event.detail.clone())
            .map(Trigger::Event)
            .map_err(|e| FunctionError::Rejected(format!("{} event has a bad detail: {e}", event.detail_type)))
    }

    /// The event a schedule sends (what the template's `Input` holds).
    pub fn scheduled_event(schedule: ScheduleName) -> EventBridgeEvent<Value> {
        let mut event = EventBridgeEvent::default();
        event.source = SCHEDULE_SOURCE.to_string();
        event.detail_type = "Scheduled Event".to_string();
        event.detail = serde_json::json!({ "schedule": schedule.as_str() });
        event
    }
}

/// The answer to an event that is not for this function (a misrouted rule, a test event).
pub fn not_mine(function: &str, trigger: &Trigger) -> FunctionError {
    FunctionError::Rejected(format!("{function} does not handle {trigger:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_parse_schedules_and_bus_events() {
        let scheduled = Trigger::scheduled_event(ScheduleName::Relay);
        assert_eq!(Trigger::from_event(&scheduled).unwrap(), Trigger::Schedule(ScheduleName::Relay));
        let mut unknown = scheduled.clone();
        unknown.detail = serde_json::json!({"schedule": "hourly"});
        assert!(matches!(Trigger::from_event(&unknown), Err(FunctionError::Rejected(_))));
        let bus: EventBridgeEvent<Value> = serde_json::from_value(serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "MentionReceived", "source": "pantau.ingest-webhook",
            "account": "123456789012", "time": "2026-11-27T01:00:00Z", "region": "ap-southeast-3", "resources": [],
            "detail": {"key": "x:1", "event_id": "ev1"}
        }))
        .unwrap();
        assert!(matches!(Trigger::from_event(&bus).unwrap(), Trigger::Event(EventKind::MentionReceived { .. })));
        let mut broken = bus.clone();
        broken.detail = serde_json::json!({"key": 5});
        let rejected = Trigger::from_event(&broken).unwrap_err();
        assert!(matches!(rejected, FunctionError::Rejected(_)) && !rejected.is_retryable());
    }
}
