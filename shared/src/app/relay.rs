//! The outbox relay: publishes events that were committed with their state change, then
//! forgets them. Publishing twice is harmless (consumers are idempotent); losing is not.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::Event;
use crate::error::StoreError;
use crate::ports::{Announce, EventBus, Outbox};

/// What one relay pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RelayStats {
    pub published: usize,
    pub failed: usize,
}

/// Publishes the given events and removes the published ones from the outbox. Events the bus
/// refuses stay pending for the next pass.
pub async fn relay_events(outbox: &dyn Outbox, bus: &dyn EventBus, events: &[Event]) -> Result<RelayStats, StoreError> {
    if events.is_empty() {
        return Ok(RelayStats::default());
    }
    let report = match bus.publish(events).await {
        Ok(report) => report,
        Err(err) => {
            tracing::warn!(error = %err, pending = events.len(), "bus unavailable; events stay in the outbox");
            return Ok(RelayStats { published: 0, failed: events.len() });
        }
    };
    for (id, reason) in &report.failed {
        tracing::warn!(event = %id, reason = %reason, "event not published; it stays in the outbox");
    }
    outbox.mark_published(&report.published).await?;
    Ok(RelayStats { published: report.published.len(), failed: report.failed.len() })
}

/// One sweep over pending events created at or before `created_before` (the scheduled relay).
pub async fn sweep(
    outbox: &dyn Outbox,
    bus: &dyn EventBus,
    created_before: DateTime<Utc>,
    batch: usize,
) -> Result<RelayStats, StoreError> {
    let mut total = RelayStats::default();
    loop {
        let pending = outbox.pending_events(created_before, batch).await?;
        let stats = relay_events(outbox, bus, &pending).await?;
        total.published += stats.published;
        total.failed += stats.failed;
        // Stop when the outbox is drained or the bus refuses (retry on the next schedule).
        if pending.len() < batch || stats.published == 0 {
            return Ok(total);
        }
    }
}

/// Publishes freshly committed events at once (AWS). If that fails they wait for the sweep.
pub struct InlineRelay {
    pub outbox: Arc<dyn Outbox>,
    pub bus: Arc<dyn EventBus>,
}

#[async_trait]
impl Announce for InlineRelay {
    async fn announce(&self, events: &[Event]) {
        if let Err(err) = relay_events(self.outbox.as_ref(), self.bus.as_ref(), events).await {
            tracing::warn!(error = %err, "relay after commit failed; the scheduled sweep will publish");
        }
    }
}
