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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::domain::EventKind;

    fn events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let key = format!("x:{i}").parse().unwrap();
                Event::new("ingest-webhook", EventKind::MentionReceived { key }, chrono::Utc::now())
            })
            .collect()
    }

    fn ok_entry(i: usize) -> PutEventsResultEntry {
        PutEventsResultEntry::builder().event_id(format!("eb-{i}")).build()
    }

    fn failed_entry() -> PutEventsResultEntry {
        PutEventsResultEntry::builder().error_code("ThrottlingException").error_message("slow down").build()
    }

    #[tokio::test]
    async fn only_failed_entries_are_sent_again() {
        let calls: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let seen = calls.clone();
        let rule = mock!(Client::put_events).then_compute_output(move |req| {
            let details: Vec<String> =
                req.entries().iter().map(|e| e.detail().unwrap_or_default().to_string()).collect();
            let mut calls = seen.lock().unwrap();
            calls.push(details.clone());
            // First call: entries 3 and 7 are throttled; everything else succeeds.
            let entries = (0..details.len())
                .map(|i| if calls.len() == 1 && (i == 3 || i == 7) { failed_entry() } else { ok_entry(i) });
            PutEventsOutput::builder().set_entries(Some(entries.collect())).failed_entry_count(0).build()
        });
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, [&rule]);
        let bus = EventBridgeBus::new(client, "pantau");
        let events = events(12);
        let report = bus.publish(&events).await.unwrap();
        let calls = calls.lock().unwrap();
        assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 2, 2], "chunks of 10, then the two failed");
        assert!(calls[1][0].contains(&events[3].id) && calls[1][1].contains(&events[7].id));
        assert_eq!(report.published.len(), 12);
        assert!(report.failed.is_empty());
    }

    #[tokio::test]
    async fn entries_that_keep_failing_are_reported_not_dropped() {
        let rule = mock!(Client::put_events).then_compute_output(|req| {
            let entries =
                req.entries().iter().enumerate().map(|(i, _)| if i == 0 { failed_entry() } else { ok_entry(i) });
            PutEventsOutput::builder().set_entries(Some(entries.collect())).failed_entry_count(1).build()
        });
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, [&rule]);
        let events = events(3);
        let report = EventBridgeBus::new(client, "pantau").publish(&events).await.unwrap();
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].0, events[0].id);
        assert!(report.failed[0].1.contains("ThrottlingException"));
        assert_eq!(report.published, vec![events[1].id.clone(), events[2].id.clone()]);
    }
}
