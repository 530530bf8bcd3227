//! The `report` function: volume by platform and WIB day for a period, read from the daily
//! counters (never the mentions), stored as JSON and CSV and recorded in the reports table.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use crate::domain::{EventKind, ReportMeta, ReportPeriod};
use crate::ports::{BlobStore, CounterStore, ReportStore};
use crate::schedule::ScheduleName;
use crate::time::{Clock, wib_date};

use super::{FunctionError, Trigger, not_mine};

/// What `report` needs.
pub struct ReportState {
    pub counters: Arc<dyn CounterStore>,
    pub reports: Arc<dyn ReportStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
}

/// The figures of one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Volume {
    pub period: ReportPeriod,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: u64,
    pub by_platform: BTreeMap<String, u64>,
    pub by_day: BTreeMap<NaiveDate, BTreeMap<String, u64>>,
}

/// The WIB days a scheduled report covers: the day, week (Mon–Sun) or month before `today`.
pub fn scheduled_period(schedule: ScheduleName, today: NaiveDate) -> Option<(ReportPeriod, NaiveDate, NaiveDate)> {
    let yesterday = today.pred_opt()?;
    match schedule {
        ScheduleName::ReportDaily => Some((ReportPeriod::Daily, yesterday, yesterday)),
        ScheduleName::ReportWeekly => {
            let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            Some((ReportPeriod::Weekly, this_monday - Duration::days(7), this_monday - Duration::days(1)))
        }
        ScheduleName::ReportMonthly => {
            let first_this = today.with_day(1)?;
            let last_prev = first_this.pred_opt()?;
            Some((ReportPeriod::Monthly, last_prev.with_day(1)?, last_prev))
        }
        _ => None,
    }
}

pub async fn handle(state: &ReportState, trigger: Trigger) -> Result<ReportMeta, FunctionError> {
    let (period, from, to) = match &trigger {
        Trigger::Schedule(name) => {
            scheduled_period(*name, wib_date(state.clock.now())).ok_or_else(|| not_mine("report", &trigger))?
        }
        Trigger::Event(EventKind::ReportRequested { period, from, to }) if from <= to => (*period, *from, *to),
        other => return Err(not_mine("report", other)),
    };
    let volume = count(state.counters.as_ref(), period, from, to).await?;
    let base = format!("reports/{period}/{from}_{to}");
    let json = serde_json::to_vec_pretty(&volume).map_err(|e| FunctionError::Rejected(e.to_string()))?;
    let mut csv = String::from("hari,platform,jumlah\n");
    for (day, platforms) in &volume.by_day {
        for (platform, n) in platforms {
            csv.push_str(&format!("{day},{platform},{n}\n"));
        }
    }
    let blob_err = |e: crate::error::BlobError| FunctionError::Retryable(e.to_string());
    state.blobs.put_blob(&format!("{base}/report.json"), json, "application/json").await.map_err(blob_err)?;
    state
        .blobs
        .put_blob(&format!("{base}/report.csv"), csv.into_bytes(), "text/csv; charset=utf-8")
        .await
        .map_err(blob_err)?;
    let meta = ReportMeta {
        id: format!("{period}-{from}"),
        period,
        from,
        to,
        created_at: state.clock.now(),
        objects: vec![format!("{base}/report.json"), format!("{base}/report.csv")],
    };
    state.reports.put_report(&meta).await?;
    tracing::info!(report = %meta.id, total = volume.total, "report stored");
    Ok(meta)
}

/// Mentions of WIB days `from..=to` by platform, from the daily counters.
pub async fn count(
    counters: &dyn CounterStore,
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Volume, FunctionError> {
    let mut volume = Volume { period, from, to, total: 0, by_platform: BTreeMap::new(), by_day: BTreeMap::new() };
    for c in counters.counts(from, to).await? {
        let Some(platform) = c.key.strip_prefix("platform#") else { continue };
        let n = u64::try_from(c.n).unwrap_or(0);
        volume.total += n;
        *volume.by_platform.entry(platform.to_string()).or_default() += n;
        *volume.by_day.entry(c.day).or_default().entry(platform.to_string()).or_default() += n;
    }
    Ok(volume)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn scheduled_periods_cover_the_previous_day_week_and_month() {
        // 2026-11-30 is a Monday
        assert_eq!(
            scheduled_period(ScheduleName::ReportDaily, d(2026, 11, 30)),
            Some((ReportPeriod::Daily, d(2026, 11, 29), d(2026, 11, 29)))
        );
        assert_eq!(
            scheduled_period(ScheduleName::ReportWeekly, d(2026, 11, 30)),
            Some((ReportPeriod::Weekly, d(2026, 11, 23), d(2026, 11, 29)))
        );
        assert_eq!(
            scheduled_period(ScheduleName::ReportMonthly, d(2026, 12, 1)),
            Some((ReportPeriod::Monthly, d(2026, 11, 1), d(2026, 11, 30)))
        );
        assert_eq!(
            scheduled_period(ScheduleName::ReportMonthly, d(2027, 1, 1)),
            Some((ReportPeriod::Monthly, d(2026, 12, 1), d(2026, 12, 31)))
        );
        assert_eq!(scheduled_period(ScheduleName::Poll, d(2026, 12, 1)), None);
    }
}
