//! EventBridge bus: PutEvents in chunks of 10, retrying only the entries that failed.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::domain::Event;
use crate::error::BusError;
use crate::ports::{EventBus, PublishReport};

/// PutEvents accepts at most 10 entries per call.
pub const MAX_PUT_EVENTS: usize = 10;
const ATTEMPTS: u32 = 4;

/// Publishes to one named bus.
#[derive(Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        EventBridgeBus { client, bus_name: bus_name.into() }
    }

    fn entry(&self, event: &Event) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(&event.source)
            .detail_type(event.kind.detail_type())
            .detail(event.published_detail().to_string())
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(event.created_at.timestamp()))
            .build()
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[Event]) -> Result<PublishReport, BusError> {
        let mut report = PublishReport::default();
        for chunk in events.chunks(MAX_PUT_EVENTS) {
            let mut pending: Vec<&Event> = chunk.iter().collect();
            for attempt in 0..ATTEMPTS {
                let entries = pending.iter().map(|e| self.entry(e)).collect();
                let out = self
                    .client
                    .put_events()
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| BusError { bus: self.bus_name.clone(), source: e.into() })?;
                let results = out.entries();
                let mut retry = Vec::new();
                for (i, event) in pending.iter().enumerate() {
                    // Result entries are positional; a missing one counts as failed.
                    match results.get(i) {
                        Some(r) if r.error_code().is_none() && r.event_id().is_some() => {
                            report.published.push(event.id.clone())
                        }
                        Some(r) if attempt + 1 == ATTEMPTS => report.failed.push((
                            event.id.clone(),
                            format!("{}: {}", r.error_code().unwrap_or("unknown"), r.error_message().unwrap_or("")),
                        )),
                        None if attempt + 1 == ATTEMPTS => {
                            report.failed.push((event.id.clone(), "no result entry".into()))
                        }
                        _ => retry.push(*event),
                    }
                }
                if retry.is_empty() {
                    break;
                }
                tracing::warn!(bus = %self.bus_name, failed = retry.len(), attempt, "PutEvents entries failed; retrying them");
                pending = retry;
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
        }
        Ok(report)
    }
}
