//! `/v1/alerts` (what was raised, newest first) and `/v1/stats` (counts for dashboards).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use http::StatusCode;
use serde::Serialize;

use super::{Call, DEFAULT_RANGE_DAYS, Handled, bad};
use crate::domain::{AlertKind, AlertRecord};
use crate::http::json;
use crate::ports::Position;
use crate::stores::alerts::months;
use crate::time::{sortable, wib_date};

const SCOPE: &str = "alerts";
/// Longest range of a stats request, in days.
const MAX_STATS_DAYS: i64 = 92;
/// Alert records read per page of a month.
const ALERT_PAGE: usize = 200;
/// Open cases counted at most for the dashboard.
const MAX_COUNTED_CASES: usize = 10_000;

#[derive(Serialize)]
struct AlertPage {
    items: Vec<AlertRecord>,
    next_cursor: Option<String>,
}

/// `GET /v1/alerts?from=&to=&kind=&limit=&cursor=`.
pub(super) async fn alerts(call: &Call<'_>) -> Handled {
    let q = call.query(&["from", "to", "kind", "limit", "cursor"])?;
    let to = q.time("to")?.unwrap_or_else(|| call.now() + Duration::seconds(1));
    let from = q.time("from")?.unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
    if from >= to {
        return Err(bad("from must be before to"));
    }
    if to - from > Duration::days(super::MAX_RANGE_DAYS) {
        return Err(bad(format!("a listing may cover at most {} days", super::MAX_RANGE_DAYS)));
    }
    let limit = q.limit()?;
    let after = call.position(SCOPE, q.get("cursor"))?;
    let kind = q.label::<AlertKind>("kind")?;
    let mut found: Vec<(String, AlertRecord)> = Vec::new();
    for month in months(wib_date(from), wib_date(to)) {
        if found.len() > limit {
            break;
        }
        let mut page_after = None;
        loop {
            let page = call.state.alerts.alerts_of_month(month, ALERT_PAGE, page_after.as_ref()).await?;
            for record in page.items {
                let sort = format!("{}#{}", sortable(record.raised_at), record.id);
                let in_range = record.raised_at >= from && record.raised_at < to;
                let before_cursor = after.as_ref().is_none_or(|Position(p)| sort < *p);
                if in_range && before_cursor && kind.is_none_or(|k| k == record.kind) {
                    found.push((sort, record));
                }
            }
            match page.next {
                Some(next) => page_after = Some(next),
                None => break,
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    let next = (found.len() > limit).then(|| Position(found[limit - 1].0.clone()));
    found.truncate(limit);
    let next_cursor = call.cursor(SCOPE, next.as_ref());
    Ok(json(StatusCode::OK, &AlertPage { items: found.into_iter().map(|(_, r)| r).collect(), next_cursor }))
}

#[derive(Serialize)]
struct Day {
    day: NaiveDate,
    counts: BTreeMap<String, i64>,
}

#[derive(Serialize, Default)]
struct CaseCounts {
    open: usize,
    by_status: BTreeMap<String, usize>,
    /// Open cases past their nearest due time.
    overdue: usize,
}

#[derive(Serialize)]
struct Stats {
    from: NaiveDate,
    to: NaiveDate,
    totals: BTreeMap<String, i64>,
    days: Vec<Day>,
    cases: CaseCounts,
}

/// `GET /v1/stats?from=&to=`: daily counters (WIB days, inclusive) and the open cases now.
pub(super) async fn stats(call: &Call<'_>) -> Handled {
    let q = call.query(&["from", "to"])?;
    let today = wib_date(call.now());
    let to = q.date("to")?.unwrap_or(today);
    let from = q.date("from")?.unwrap_or(to - Duration::days(6));
    if from > to {
        return Err(bad("from must not be after to"));
    }
    if (to - from).num_days() >= MAX_STATS_DAYS {
        return Err(bad(format!("stats may cover at most {MAX_STATS_DAYS} days")));
    }
    let mut totals = BTreeMap::new();
    let mut days: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for count in call.state.counters.counts(from, to).await? {
        // Hourly counters feed spike detection only.
        if count.key.starts_with("hour#") || count.n == 0 {
            continue;
        }
        *totals.entry(count.key.clone()).or_insert(0) += count.n;
        days.entry(count.day).or_default().insert(count.key, count.n);
    }
    let mut cases = CaseCounts::default();
    let now = call.now();
    let mut after = None;
    loop {
        let page = call.state.cases.open_cases(super::MAX_LIMIT, after.as_ref()).await?;
        for case in &page.items {
            cases.open += 1;
            *cases.by_status.entry(case.status.to_string()).or_insert(0) += 1;
            if case.due_at < now {
                cases.overdue += 1;
            }
        }
        match page.next {
            Some(next) if cases.open < MAX_COUNTED_CASES => after = Some(next),
            _ => break,
        }
    }
    let days = days.into_iter().map(|(day, counts)| Day { day, counts }).collect();
    Ok(json(StatusCode::OK, &Stats { from, to, totals, days, cases }))
}
