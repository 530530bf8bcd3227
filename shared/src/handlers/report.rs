//! The `report` function (schedules `report-daily` 07:00 WIB, `report-weekly` Monday 07:00,
//! `report-monthly` the 1st 07:00; and `ReportRequested` from `POST /v1/reports`): the report of
//! a period built from the counters and indexes (`crate::report`), written as JSON, HTML and CSV
//! in Bahasa Indonesia and English, the objects first and the record last (a failure midway
//! publishes nothing), then announced once per content on the notifier channels.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::Map;
use sha2::Digest;

use crate::app::alerts::raised;
use crate::domain::{AlertKind, EventKind, ReportMeta, ReportPeriod};
use crate::ports::{
    Announce, BlobStore, CaseStore, CounterStore, MentionReader, OccurrenceStore, PostStore, ReportStore,
};
use crate::report::{self, Lang, Report, Sources};
use crate::schedule::ScheduleName;
use crate::stores::{AlertLog, Marker, Markers, Settings};
use crate::time::{Clock, wib_date};

use super::{FunctionError, Trigger, not_mine};

/// Longest report by default, in days (`PANTAU_REPORT_MAX_DAYS`, at most [`MAX_REPORT_DAYS`]).
pub const DEFAULT_REPORT_DAYS: i64 = 92;
/// A report and the period before it are read in one counter read of at most 366 days.
pub const MAX_REPORT_DAYS: i64 = 183;

/// What `report` needs.
pub struct ReportState {
    pub counters: Arc<dyn CounterStore>,
    pub cases: Arc<dyn CaseStore>,
    pub mentions: Arc<dyn MentionReader>,
    pub alerts: Arc<dyn AlertLog>,
    pub occurrences: Arc<dyn OccurrenceStore>,
    pub posts: Arc<dyn PostStore>,
    pub settings: Arc<dyn Settings>,
    pub reports: Arc<dyn ReportStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub markers: Arc<dyn Markers>,
    pub announce: Arc<dyn Announce>,
    pub max_days: i64,
    pub clock: Arc<dyn Clock>,
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

/// Why a requested period cannot be reported, in words; `today` is the WIB date now.
pub fn check_period(
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    max_days: i64,
) -> Result<(), String> {
    if from > to {
        return Err(format!("the period is reversed: from {from} is after to {to}"));
    }
    if from > today || to > today {
        return Err(format!("the period reaches into the future: today is {today} (WIB)"));
    }
    let days = (to - from).num_days() + 1;
    if days > max_days {
        return Err(format!("the period has {days} days; a report covers at most {max_days}"));
    }
    match period {
        ReportPeriod::Daily if from != to => Err("a daily report covers one day: from and to are the same date".into()),
        ReportPeriod::Weekly if from.weekday().num_days_from_monday() != 0 || days != 7 => {
            Err("a weekly report covers Monday to Sunday: from is a Monday, to the Sunday after".into())
        }
        ReportPeriod::Monthly
            if from.day() != 1 || to.succ_opt().is_none_or(|n| n.day() != 1) || from.month() != to.month() =>
        {
            Err("a monthly report covers one calendar month: from is its first day, to its last".into())
        }
        _ => Ok(()),
    }
}

/// The last day of a period that starts on `from`: the same day, the Sunday after, the month's
/// last day; a custom period needs `to`.
pub fn period_days(
    period: ReportPeriod,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), String> {
    let to = match (period, to) {
        (_, Some(to)) => to,
        (ReportPeriod::Daily, None) => from,
        (ReportPeriod::Weekly, None) => from + Duration::days(6),
        (ReportPeriod::Monthly, None) => {
            let next = if from.month() == 12 {
                NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)
            };
            next.and_then(|n| n.pred_opt()).ok_or("from: not a month's first day")?
        }
        (ReportPeriod::Custom, None) => return Err("to: the last day of a custom report".into()),
    };
    Ok((from, to))
}

/// Where a report's files go: `reports/{period}/{from}_{to}/…`.
pub fn report_prefix(period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> String {
    format!("reports/{period}/{from}_{to}")
}

pub async fn handle(state: &ReportState, trigger: Trigger) -> Result<ReportMeta, FunctionError> {
    let today = wib_date(state.clock.now());
    let (period, from, to) = match &trigger {
        Trigger::Schedule(name) => scheduled_period(*name, today).ok_or_else(|| not_mine("report", &trigger))?,
        Trigger::Event(EventKind::ReportRequested { period, from, to }) => (*period, *from, *to),
        other => return Err(not_mine("report", other)),
    };
    check_period(period, from, to, today, state.max_days).map_err(FunctionError::Rejected)?;
    generate(state, period, from, to).await
}

/// Builds, writes, records and announces one report.
pub async fn generate(
    state: &ReportState,
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<ReportMeta, FunctionError> {
    let now = state.clock.now();
    let sources = Sources {
        counters: state.counters.as_ref(),
        cases: state.cases.as_ref(),
        mentions: state.mentions.as_ref(),
        alerts: state.alerts.as_ref(),
        occurrences: state.occurrences.as_ref(),
        posts: state.posts.as_ref(),
        settings: state.settings.as_ref(),
    };
    let built = report::build(&sources, period, from, to, now).await?;
    let prefix = report_prefix(period, from, to);
    let blob_err = |e: crate::error::BlobError| FunctionError::Retryable(e.to_string());
    let mut objects = Vec::new();
    for (name, bytes, content_type) in files(&built)? {
        let key = format!("{prefix}/{name}");
        state.blobs.put_blob(&key, bytes, content_type).await.map_err(blob_err)?;
        objects.push(key);
    }
    let meta = ReportMeta { id: built.id.clone(), period, from, to, created_at: now, objects };
    state.reports.put_report(&meta).await?;
    announce(state, &built).await?;
    tracing::info!(report = %meta.id, mentions = built.volume.total.value, cases = built.cases.opened, "report stored");
    Ok(meta)
}

/// Every file of a report: JSON, the HTML page and the CSV tables in each language.
/// A file of a report: name, bytes, content type.
pub type ReportFile = (String, Vec<u8>, &'static str);

pub fn files(r: &Report) -> Result<Vec<ReportFile>, FunctionError> {
    let json = serde_json::to_vec_pretty(r).map_err(|e| FunctionError::Rejected(e.to_string()))?;
    let mut files = vec![("report.json".to_string(), json, "application/json")];
    for lang in [Lang::Id, Lang::En] {
        let suffix = if lang == Lang::Id { String::new() } else { format!(".{}", lang.code()) };
        files.push((
            format!("report{suffix}.html"),
            report::html::render(r, lang).into_bytes(),
            "text/html; charset=utf-8",
        ));
        for table in report::csv::tables(r, lang) {
            let bytes = report::csv::encode(&table, lang);
            files.push((format!("{}{suffix}.csv", table.name), bytes, "text/csv; charset=utf-8"));
        }
    }
    Ok(files)
}

/// One `report_ready` alert per report and content: a rerun that finds the same figures (a
/// retried invocation) announces nothing again.
async fn announce(state: &ReportState, r: &Report) -> Result<(), FunctionError> {
    let mut content = serde_json::to_value(r).map_err(|e| FunctionError::Rejected(e.to_string()))?;
    content["generated_at"] = serde_json::Value::Null;
    let digest = hex::encode(&sha2::Sha256::digest(content.to_string().as_bytes())[..12]);
    let link = format!("GET /v1/reports/{}", r.id);
    let (title, message) = report::announce::headline(r, Lang::Id, &link);
    let mut data = Map::new();
    data.insert("report".into(), r.id.clone().into());
    data.insert("title".into(), title.into());
    data.insert("message".into(), message.into());
    let now = state.clock.now();
    let event = raised("report", AlertKind::ReportReady, data.clone(), now);
    let id = format!("{}:{digest}", r.id);
    if state
        .markers
        .mark_once(Marker::ReportAnnounced, &id, &serde_json::Value::Object(data), now, std::slice::from_ref(&event))
        .await?
    {
        state.announce.announce(std::slice::from_ref(&event)).await;
    }
    Ok(())
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

    #[test]
    fn periods_in_the_future_reversed_too_long_or_misshapen_are_refused() {
        let today = d(2026, 12, 3);
        let check = |p, from, to| check_period(p, from, to, today, DEFAULT_REPORT_DAYS);
        assert!(check(ReportPeriod::Custom, d(2026, 11, 1), d(2026, 12, 3)).is_ok());
        assert!(check(ReportPeriod::Custom, d(2026, 12, 2), d(2026, 12, 1)).unwrap_err().contains("reversed"));
        assert!(check(ReportPeriod::Custom, d(2026, 12, 1), d(2026, 12, 4)).unwrap_err().contains("future"));
        assert!(check(ReportPeriod::Custom, d(2026, 1, 1), d(2026, 12, 1)).unwrap_err().contains("at most 92"));
        assert!(check(ReportPeriod::Daily, d(2026, 12, 1), d(2026, 12, 2)).is_err());
        assert!(check(ReportPeriod::Weekly, d(2026, 11, 23), d(2026, 11, 29)).is_ok());
        assert!(check(ReportPeriod::Weekly, d(2026, 11, 24), d(2026, 11, 30)).is_err());
        assert!(check(ReportPeriod::Monthly, d(2026, 11, 1), d(2026, 11, 30)).is_ok());
        assert!(check(ReportPeriod::Monthly, d(2026, 11, 1), d(2026, 11, 29)).is_err());
    }
}
