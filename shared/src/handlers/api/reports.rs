//! `/v1/reports`: reports requested (the `report` function makes them from the events), listed,
//! and fetched — each file through the API, and on AWS also as a time-limited download link.

use chrono::{Duration, NaiveDate};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Call, Handled, bad, not_found};
use crate::domain::{Event, EventKind, ReportMeta, ReportPeriod};
use crate::handlers::report::{check_period, period_days};
use crate::http::json;
use crate::stores::Marker;
use crate::time::wib_date;

/// How long a download link lasts.
const LINK_MINUTES: u64 = 15;
/// Days of reports listed without `from`.
const LIST_DAYS: i64 = 92;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestInput {
    period: ReportPeriod,
    /// The first WIB day; for a daily report also `date`.
    #[serde(default)]
    from: Option<NaiveDate>,
    /// The last WIB day (a weekly or monthly report works it out from `from`).
    #[serde(default)]
    to: Option<NaiveDate>,
    #[serde(default)]
    date: Option<NaiveDate>,
}

/// The days a request names: a daily report's `date` (or `from`), else `from` and `to`.
fn days_of(input: &RequestInput) -> Result<(NaiveDate, NaiveDate), String> {
    let from = match (input.date, input.from) {
        (Some(_), Some(_)) => return Err("give date or from, not both".into()),
        (Some(d), None) | (None, Some(d)) => d,
        (None, None) => return Err("from: the report's first day (or date for a daily report)".into()),
    };
    period_days(input.period, from, input.to)
}

#[derive(Serialize)]
struct Requested {
    id: String,
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
    /// Where the report appears once made.
    location: String,
}

/// `POST /v1/reports`: a report of a period is made (and announced) shortly; the same
/// `Idempotency-Key` again requests nothing more. The same period requested again replaces
/// the report with fresh figures.
pub(super) async fn request(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: RequestInput = call.body("report request {period, from, to} or {period: daily, date}")?;
    let (from, to) = days_of(&input).map_err(bad)?;
    let today = wib_date(call.now());
    check_period(input.period, from, to, today, call.state.report_max_days).map_err(bad)?;
    let id = crate::report::build::report_id(input.period, from, to);
    let event = Event::new("api", EventKind::ReportRequested { period: input.period, from, to }, call.now());
    let record = serde_json::json!({"report": id, "by": call.who.subject});
    let events = std::slice::from_ref(&event);
    if call.state.markers.mark_once(Marker::ReportRequest, &call.creation_id(), &record, call.now(), events).await? {
        call.state.announce.announce(events).await;
    }
    let location = format!("/v1/reports/{id}");
    Ok(json(StatusCode::ACCEPTED, &Requested { id, period: input.period, from, to, location }))
}

/// One file of a report.
#[derive(Serialize)]
struct FileView {
    name: String,
    /// `html`, `csv` or `json`.
    format: &'static str,
    /// `id` or `en` (the JSON has both: label codes).
    lang: &'static str,
    /// Read through the API (needs the same credential).
    path: String,
    /// On AWS, a link that works without a credential for 15 minutes.
    download_url: Option<String>,
}

#[derive(Serialize)]
struct ReportView {
    id: String,
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
    created_at: chrono::DateTime<chrono::Utc>,
    files: Vec<FileView>,
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

async fn view(call: &Call<'_>, meta: ReportMeta, links: bool) -> Result<ReportView, super::ApiError> {
    let mut files = Vec::new();
    for key in &meta.objects {
        let name = file_name(key).to_string();
        let format = if name.ends_with(".html") {
            "html"
        } else if name.ends_with(".csv") {
            "csv"
        } else {
            "json"
        };
        let lang = if name.contains(".en.") { "en" } else { "id" };
        let download_url = if links {
            call.state.blobs.download_url(key, std::time::Duration::from_secs(LINK_MINUTES * 60)).await.map_err(
                |e| {
                    super::ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("the report store is unavailable: {e}"),
                    )
                },
            )?
        } else {
            None
        };
        files.push(FileView {
            path: format!("/v1/reports/{}/files/{name}", meta.id),
            name,
            format,
            lang,
            download_url,
        });
    }
    Ok(ReportView {
        id: meta.id,
        period: meta.period,
        from: meta.from,
        to: meta.to,
        created_at: meta.created_at,
        files,
    })
}

#[derive(Serialize)]
struct ReportList {
    items: Vec<ReportView>,
}

/// `GET /v1/reports?period=&from=&to=`: reports starting in the range (default the last 92
/// days), newest first.
pub(super) async fn list(call: &Call<'_>) -> Handled {
    let q = call.query(&["period", "from", "to"])?;
    let today = wib_date(call.now());
    let to = q.date("to")?.unwrap_or(today);
    let from = q.date("from")?.unwrap_or(to - Duration::days(LIST_DAYS));
    if from > to {
        return Err(bad("from must not be after to"));
    }
    if (to - from).num_days() > 366 {
        return Err(bad("a listing may cover at most 366 days"));
    }
    let periods: Vec<ReportPeriod> = match q.label::<ReportPeriod>("period")? {
        Some(p) => vec![p],
        None => ReportPeriod::ALL.to_vec(),
    };
    let mut items = Vec::new();
    for period in periods {
        for meta in call.state.reports.list_reports(period, from, to).await? {
            items.push(view(call, meta, false).await?);
        }
    }
    items.sort_by(|a, b| b.from.cmp(&a.from).then_with(|| b.to.cmp(&a.to)).then_with(|| a.id.cmp(&b.id)));
    Ok(json(StatusCode::OK, &ReportList { items }))
}

/// A report id, `{period}-{from}-{to}`, as its parts.
fn parse_id(id: &str) -> Option<(ReportPeriod, NaiveDate, NaiveDate)> {
    let (period, days) = id.split_once('-')?;
    let period = period.parse().ok()?;
    if days.len() != 21 || days.as_bytes().get(10) != Some(&b'-') {
        return None;
    }
    let from = NaiveDate::parse_from_str(&days[..10], "%Y-%m-%d").ok()?;
    let to = NaiveDate::parse_from_str(&days[11..], "%Y-%m-%d").ok()?;
    Some((period, from, to))
}

async fn load(call: &Call<'_>) -> Result<ReportMeta, super::ApiError> {
    let id = call.param();
    let found = match parse_id(id) {
        Some((period, from, to)) => call.state.reports.get_report(period, from, to).await?,
        None => None,
    };
    found.ok_or_else(|| {
        not_found(format!("no report {id} (ids are {{period}}-{{from}}-{{to}}, e.g. daily-2026-11-16-2026-11-16)"))
    })
}

/// `GET /v1/reports/{id}`: the report's files, with download links where the store gives them.
pub(super) async fn get(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let meta = load(call).await?;
    Ok(json(StatusCode::OK, &view(call, meta, true).await?))
}

/// `GET /v1/reports/{id}/files/{name}`: one file as it was written.
pub(super) async fn file(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let meta = load(call).await?;
    let name = call.params.get(1).map(String::as_str).unwrap_or("");
    let Some(key) = meta.objects.iter().find(|k| file_name(k) == name) else {
        return Err(not_found(format!("report {} has no file {name}", meta.id)));
    };
    let bytes = call.state.blobs.get_blob(key).await.map_err(|e| {
        super::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("the report store is unavailable: {e}"))
    })?;
    let Some(bytes) = bytes else { return Err(not_found(format!("report {} lost its file {name}", meta.id))) };
    let content_type = if name.ends_with(".html") {
        "text/html; charset=utf-8"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    let disposition = name.ends_with(".csv").then(|| format!("attachment; filename=\"{}-{name}\"", meta.id));
    Ok(crate::http::file(StatusCode::OK, content_type, bytes.into(), disposition.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ids_name_their_period_and_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            parse_id("daily-2026-11-16-2026-11-16"),
            Some((ReportPeriod::Daily, d("2026-11-16"), d("2026-11-16")))
        );
        assert_eq!(
            parse_id("custom-2026-11-01-2026-11-20"),
            Some((ReportPeriod::Custom, d("2026-11-01"), d("2026-11-20")))
        );
        assert_eq!(parse_id("daily-2026-11-16"), None);
        assert_eq!(parse_id("yearly-2026-01-01-2026-12-31"), None);
        assert_eq!(parse_id("../../etc"), None);
    }

    #[test]
    fn a_request_names_its_days_by_period() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let input = |period, from: Option<&str>, to: Option<&str>, date: Option<&str>| RequestInput {
            period,
            from: from.map(d),
            to: to.map(d),
            date: date.map(d),
        };
        assert_eq!(
            days_of(&input(ReportPeriod::Daily, None, None, Some("2026-11-16"))),
            Ok((d("2026-11-16"), d("2026-11-16")))
        );
        assert_eq!(
            days_of(&input(ReportPeriod::Weekly, Some("2026-11-23"), None, None)),
            Ok((d("2026-11-23"), d("2026-11-29")))
        );
        assert_eq!(
            days_of(&input(ReportPeriod::Monthly, Some("2026-12-01"), None, None)),
            Ok((d("2026-12-01"), d("2026-12-31")))
        );
        assert!(days_of(&input(ReportPeriod::Custom, Some("2026-11-01"), None, None)).is_err());
        assert!(days_of(&input(ReportPeriod::Daily, Some("2026-11-01"), None, Some("2026-11-01"))).is_err());
    }
}
