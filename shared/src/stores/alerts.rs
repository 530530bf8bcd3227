//! Alerts raised, kept for `GET /v1/alerts` and data-subject requests: kind `alerts#YYYY-MM`
//! (the WIB month raised), id = the `AlertRaised` event id, kept for two years.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::{encode, get, page};
use crate::domain::AlertRecord;
use crate::error::StoreError;
use crate::ports::{DocumentStore, Page, Position};
use crate::time::wib_date;

/// How long an alert record is kept (the PDP search reaches as far).
pub const RETENTION_DAYS: i64 = 731;

/// The kind holding the alerts raised in one WIB month.
fn month_kind(day: NaiveDate) -> String {
    format!("alerts#{:04}-{:02}", day.year(), day.month())
}

/// First days of the months covering the WIB days `first..=last`, newest first.
pub fn months(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut months = Vec::new();
    let mut month = last.with_day(1).unwrap_or(last);
    while month >= first.with_day(1).unwrap_or(first) {
        months.push(month);
        match month.pred_opt().and_then(|d| d.with_day(1)) {
            Some(previous) => month = previous,
            None => break,
        }
    }
    months
}

/// The record of each alert raised.
#[async_trait]
pub trait AlertLog: Send + Sync {
    /// Saves (creates or updates) the record of an alert.
    async fn save_alert(&self, record: &AlertRecord) -> Result<(), StoreError>;
    /// The record of the alert raised at `raised_at` with this event id.
    async fn alert(&self, id: &str, raised_at: DateTime<Utc>) -> Result<Option<AlertRecord>, StoreError>;
    /// Alerts raised in the WIB month starting `month`, by id, a page at a time.
    async fn alerts_of_month(
        &self,
        month: NaiveDate,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<AlertRecord>, StoreError>;
    /// Removes a record (a data-subject erasure).
    async fn delete_alert(&self, record: &AlertRecord) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> AlertLog for T {
    async fn save_alert(&self, record: &AlertRecord) -> Result<(), StoreError> {
        let kind = month_kind(wib_date(record.raised_at));
        let value = encode(&kind, &record.id, record)?;
        self.put_doc(&kind, &record.id, &value, Some(record.raised_at + Duration::days(RETENTION_DAYS))).await
    }

    async fn alert(&self, id: &str, raised_at: DateTime<Utc>) -> Result<Option<AlertRecord>, StoreError> {
        get(self, &month_kind(wib_date(raised_at)), id).await
    }

    async fn alerts_of_month(
        &self,
        month: NaiveDate,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<AlertRecord>, StoreError> {
        let p = page(self, &month_kind(month), "", limit, after).await?;
        Ok(Page { items: p.items.into_iter().map(|(_, r)| r).collect(), next: p.next })
    }

    async fn delete_alert(&self, record: &AlertRecord) -> Result<(), StoreError> {
        self.delete_doc(&month_kind(wib_date(record.raised_at)), &record.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_cover_each_month_of_a_range_newest_first() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(months(d(2026, 11, 20), d(2027, 1, 3)), [d(2027, 1, 1), d(2026, 12, 1), d(2026, 11, 1)]);
        assert_eq!(months(d(2026, 11, 1), d(2026, 11, 30)), [d(2026, 11, 1)]);
        assert!(months(d(2026, 12, 1), d(2026, 11, 30)).is_empty());
        assert_eq!(month_kind(d(2027, 1, 3)), "alerts#2027-01");
    }
}
