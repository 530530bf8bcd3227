//! The `watch` function: the outbox relay sweep (schedule `relay`), and alert delivery
//! (`AlertRaised` → notifier). Spike and SLA watching arrive with the case-inbox work.

use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;

use crate::domain::EventKind;
use crate::ports::{ConfigStore, EventBus, Notification, Notifier, Outbox};
use crate::relay::{RelayStats, sweep};
use crate::time::Clock;

use super::{FunctionError, Trigger};

/// Config kind recording alerts already sent.
pub const NOTIFIED_KIND: &str = "notified";

/// Events younger than this are left to the relay that runs right after their commit.
pub const SWEEP_GRACE_SECONDS: i64 = 30;
const SWEEP_BATCH: usize = 100;

/// What `watch` needs.
pub struct WatchState {
    pub outbox: Arc<dyn Outbox>,
    /// Remembers notified alerts (kind `notified`), so a redelivered alert is not sent twice.
    pub config: Arc<dyn ConfigStore>,
    pub bus: Arc<dyn EventBus>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
}

/// What one invocation did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WatchOutcome {
    pub relayed: usize,
    pub relay_failed: usize,
    pub notified: usize,
}

pub async fn handle(state: &WatchState, trigger: Trigger) -> Result<WatchOutcome, FunctionError> {
    match trigger {
        Trigger::Schedule(name) if name == "relay" => {
            let before = state.clock.now() - Duration::seconds(SWEEP_GRACE_SECONDS);
            let RelayStats { published, failed } =
                sweep(state.outbox.as_ref(), state.bus.as_ref(), before, SWEEP_BATCH).await?;
            tracing::info!(published, failed, "outbox sweep");
            Ok(WatchOutcome { relayed: published, relay_failed: failed, ..Default::default() })
        }
        Trigger::Schedule(name) if name == "watch" => Ok(WatchOutcome::default()),
        Trigger::Event(EventKind::AlertRaised { kind, data }) => {
            let event_id = data.get("event_id").and_then(|v| v.as_str()).map(str::to_string);
            if let Some(id) = &event_id
                && state.config.get_config(NOTIFIED_KIND, id).await?.is_some()
            {
                return Ok(WatchOutcome::default());
            }
            let notification = Notification { title: format!("Peringatan Pantau: {kind}"), body: describe(&data) };
            state.notifier.notify(&notification).await.map_err(|e| FunctionError::Retryable(e.to_string()))?;
            if let Some(id) = &event_id {
                let at = serde_json::json!({ "at": crate::time::sortable(state.clock.now()) });
                state.config.put_config(NOTIFIED_KIND, id, &at).await?;
            }
            Ok(WatchOutcome { notified: 1, ..Default::default() })
        }
        other => Err(FunctionError::Unexpected(format!("watch does not handle {other:?}"))),
    }
}

fn describe(data: &serde_json::Map<String, Value>) -> String {
    data.iter()
        .filter(|(k, _)| k.as_str() != "event_id")
        .map(|(k, v)| format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect::<Vec<_>>()
        .join("\n")
}
