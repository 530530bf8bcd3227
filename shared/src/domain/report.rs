//! Reports: what was produced for which period, and where it is stored.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::labels::vocabulary;

vocabulary! {
    /// Report period kinds.
    ReportPeriod, "report period" {
        Daily => "daily",
        Weekly => "weekly",
        Monthly => "monthly",
        Custom => "custom",
    }
}

/// A produced report: its period (WIB days, inclusive) and its stored objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMeta {
    pub id: String,
    pub period: ReportPeriod,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Blob keys of the rendered files (HTML, CSV, JSON).
    pub objects: Vec<String>,
}
