//! Things that must happen once, recorded with the event that announces them: a digest of SLA
//! alerts per run (kind `sla_digest`, id = the run's time) and the warning that the holiday
//! calendar runs out (kind `calendar_warning`, id = the missing year).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::domain::Event;
use crate::error::StoreError;
use crate::ports::DocumentStore;

/// What a marker records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// One digest of SLA alerts for a run.
    SlaDigest,
    /// One warning per year missing from the holiday calendar.
    CalendarWarning,
    /// One warning per publishing account and token expiry.
    TokenExpiry,
    /// One call for a person per occurrence whose outcome cannot be read back.
    Unconfirmed,
    /// One announcement per report and content (a retried run announces nothing new).
    ReportAnnounced,
    /// One report request per request id (the API's `Idempotency-Key`).
    ReportRequest,
}

impl Marker {
    fn kind(self) -> &'static str {
        match self {
            Marker::SlaDigest => "sla_digest",
            Marker::CalendarWarning => "calendar_warning",
            Marker::TokenExpiry => "token_expiry",
            Marker::Unconfirmed => "unconfirmed",
            Marker::ReportAnnounced => "report_announced",
            Marker::ReportRequest => "report_request",
        }
    }

    /// How long the marker is kept: as long as a repeat must be prevented.
    fn keep(self) -> Duration {
        match self {
            Marker::SlaDigest => Duration::days(30),
            Marker::CalendarWarning => Duration::days(400),
            Marker::TokenExpiry | Marker::Unconfirmed => Duration::days(60),
            Marker::ReportAnnounced | Marker::ReportRequest => Duration::days(30),
        }
    }
}

/// Markers of things done once.
#[async_trait]
pub trait Markers: Send + Sync {
    /// Records `id` with its events, unless it was recorded already; returns whether this call
    /// recorded it (and so wrote the events).
    async fn mark_once(
        &self,
        marker: Marker,
        id: &str,
        record: &Value,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> Markers for T {
    async fn mark_once(
        &self,
        marker: Marker,
        id: &str,
        record: &Value,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool, StoreError> {
        match self.swap_doc(marker.kind(), id, None, record, Some(now + marker.keep()), events).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
