//! The `watch` function. Schedule `relay`: the outbox sweep. Schedule `watch` (every 15
//! minutes): SLA reminders and breaches, automatic close of quiet cases, spike detection. Event
//! `AlertRaised`: the alert is recorded (for `GET /v1/alerts`) and sent to every notifier
//! channel once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{Case, Event, EventKind, RaisedAlert, SlaClock};
use crate::error::StoreError;
use crate::ports::{CaseStore, ConfigStore, CounterStore, EventBus, MentionStore, Notification, Notifier, Outbox};
use crate::relay::{RelayStats, sweep};
use crate::sla::SlaPolicy;
use crate::spike::{self, Metric, Reading, SpikeSettings};
use crate::time::{Clock, wib, wib_date};

use super::{FunctionError, Trigger};

const SOURCE: &str = "watch";
/// Events younger than this are left to the relay that runs right after their commit.
pub const SWEEP_GRACE_SECONDS: i64 = 30;
const SWEEP_BATCH: usize = 100;
/// Open cases read per page.
const CASE_PAGE: usize = 100;
/// Config kind of spike episodes (id: `{metric}:{series}`).
pub const EPISODE_KIND: &str = "spike";

/// Alert kinds.
pub const INFLUENTIAL_HATER: &str = "influential_hater";
pub const SPIKE: &str = "spike";
pub const SLA_REMINDER: &str = "sla_reminder";
pub const SLA_BREACH: &str = "sla_breach";
/// Many SLA alerts of one run in one message.
pub const SLA_DIGEST: &str = "sla_digest";
/// The holiday calendar does not cover the coming weeks.
pub const CALENDAR_ALERT: &str = "calendar";
/// Every alert kind `watch` raises or delivers.
pub const ALERT_KINDS: [&str; 6] = [INFLUENTIAL_HATER, SPIKE, SLA_REMINDER, SLA_BREACH, SLA_DIGEST, CALENDAR_ALERT];

/// What `watch` needs.
pub struct WatchState {
    pub outbox: Arc<dyn Outbox>,
    /// Alert records (kind `alerts#YYYY-MM`), spike episodes, SLA policy and calendar.
    pub config: Arc<dyn ConfigStore>,
    pub bus: Arc<dyn EventBus>,
    /// Every configured channel; each alert reaches each channel once.
    pub notifiers: Vec<Arc<dyn Notifier>>,
    pub cases: Arc<dyn CaseStore>,
    pub mentions: Arc<dyn MentionStore>,
    pub counters: Arc<dyn CounterStore>,
    pub spikes: SpikeSettings,
    pub clock: Arc<dyn Clock>,
}

/// What one invocation did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct WatchOutcome {
    pub relayed: usize,
    pub relay_failed: usize,
    pub notified: usize,
    pub cases_checked: usize,
    pub reminders: usize,
    pub breaches: usize,
    pub auto_closed: usize,
    /// Cases changed by someone else during the run; the next run looks again.
    pub cases_skipped: usize,
    pub spikes_started: usize,
    pub spikes_ended: usize,
}

/// One raised alert as kept for `GET /v1/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The `AlertRaised` event id.
    pub id: String,
    pub kind: String,
    pub raised_at: DateTime<Utc>,
    pub title: String,
    pub body: String,
    pub data: Map<String, Value>,
    /// Channels it reached.
    pub delivered: Vec<String>,
    /// Channels that refused it for good (not tried again).
    #[serde(default)]
    pub failed: Vec<String>,
}

/// Config kind holding the alerts of one WIB month.
pub fn alert_kind(month: NaiveDate) -> String {
    format!("alerts#{:04}-{:02}", month.year(), month.month())
}

/// The config kinds holding the alerts of the WIB days `first..=last`, newest month first.
pub fn alert_kinds(first: NaiveDate, last: NaiveDate) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut month = last.with_day(1).unwrap_or(last);
    while month >= first.with_day(1).unwrap_or(first) {
        kinds.push(alert_kind(month));
        match month.pred_opt().and_then(|d| d.with_day(1)) {
            Some(previous) => month = previous,
            None => break,
        }
    }
    kinds
}

pub async fn handle(state: &WatchState, trigger: Trigger) -> Result<WatchOutcome, FunctionError> {
    match trigger {
        Trigger::Schedule(name) if name == "relay" => {
            let before = state.clock.now() - Duration::seconds(SWEEP_GRACE_SECONDS);
            let RelayStats { published, failed } =
                sweep(state.outbox.as_ref(), state.bus.as_ref(), before, SWEEP_BATCH).await?;
            tracing::info!(published, failed, "outbox sweep");
            Ok(WatchOutcome { relayed: published, relay_failed: failed, ..Default::default() })
        }
        Trigger::Schedule(name) if name == "watch" => {
            let mut outcome = WatchOutcome::default();
            watch_cases(state, &mut outcome).await?;
            watch_spikes(state, &mut outcome).await?;
            watch_calendar(state).await?;
            let dropped = crate::cases::purge_pending_replies(state.config.as_ref(), state.clock.now()).await?;
            if dropped > 0 {
                tracing::info!(dropped, "office replies that never found a case dropped");
            }
            tracing::info!(?outcome, "watch run");
            Ok(outcome)
        }
        Trigger::Event(EventKind::AlertRaised { kind, data }) => deliver(state, kind, data).await,
        other => Err(FunctionError::Unexpected(format!("watch does not handle {other:?}"))),
    }
}

/// An `AlertRaised` event stamped with the time it was raised.
fn alert(kind: &str, mut data: Map<String, Value>, at: DateTime<Utc>) -> Event {
    data.insert("raised_at".into(), crate::time::sortable(at).into());
    Event::new(SOURCE, EventKind::AlertRaised { kind: kind.to_string(), data }, at)
}

/// A time as people read it: `27 Nov 2026 23:59 WIB`.
fn wib_text(at: DateTime<Utc>) -> String {
    at.with_timezone(&wib()).format("%d %b %Y %H:%M WIB").to_string()
}

// ---------------------------------------------------------------------------------------------
// SLA clocks and automatic close

/// Above this many SLA alerts in one run, one digest alert replaces them (no alert storms).
pub const DIGEST_AFTER: usize = 5;
/// Cases named in a digest at most.
const DIGEST_NAMES: usize = 20;
/// Config kind recording digests sent (id: the run's time).
const DIGEST_KIND: &str = "sla_digest";

/// What one run will change on one case.
struct Planned {
    read_at: u32,
    next: Case,
    /// SLA alerts: kind and data.
    alerts: Vec<(&'static str, Map<String, Value>)>,
    closed: bool,
}

async fn watch_cases(state: &WatchState, outcome: &mut WatchOutcome) -> Result<(), FunctionError> {
    let now = state.clock.now();
    let policy = crate::sla::load_policy(state.config.as_ref()).await?;
    let mut plans = Vec::new();
    let mut after = None;
    loop {
        let page = state.cases.open_cases(CASE_PAGE, after.as_ref()).await?;
        for case in &page.items {
            outcome.cases_checked += 1;
            if let Some(plan) = plan_case(state, case, now, &policy).await? {
                plans.push(plan);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let alerts: Vec<&(&str, Map<String, Value>)> = plans.iter().flat_map(|p| &p.alerts).collect();
    let digest = alerts.len() > DIGEST_AFTER;
    if digest {
        // The digest is written first: a crash after it may alert some cases twice, never not at all.
        let data = digest_data(&alerts);
        let record = Value::Object(data.clone());
        let event = alert(SLA_DIGEST, data, now);
        match state.config.swap_config(DIGEST_KIND, &crate::time::sortable(now), None, &record, &[event]).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for plan in plans {
        let events: Vec<Event> =
            if digest { Vec::new() } else { plan.alerts.iter().map(|(k, d)| alert(k, d.clone(), now)).collect() };
        match state.cases.update_case(&plan.next, plan.read_at, &events).await {
            Err(StoreError::Conflict { .. }) => {
                outcome.cases_skipped += 1;
                continue;
            }
            other => other?,
        }
        for (kind, _) in &plan.alerts {
            if *kind == SLA_BREACH {
                outcome.breaches += 1;
            } else {
                outcome.reminders += 1;
            }
        }
        if plan.closed {
            outcome.auto_closed += 1;
            tracing::info!(case = %plan.next.id, "case closed automatically");
        }
    }
    Ok(())
}

/// Reminders, breaches and automatic close due for one case now (`None`: nothing to do).
async fn plan_case(
    state: &WatchState,
    case: &Case,
    now: DateTime<Utc>,
    policy: &SlaPolicy,
) -> Result<Option<Planned>, StoreError> {
    let mut next = case.clone();
    let mut alerts = Vec::new();
    let reminder = Duration::hours(i64::from(policy.reminder_hours));
    for (clock, due) in case.running_clocks() {
        // Short clocks (the social-media target in hours) are reminded a quarter before.
        let lead = reminder.min((due - case.opened_at) / 4);
        let stage = if now > due {
            "terlewat"
        } else if now >= due - lead {
            "pengingat"
        } else {
            continue;
        };
        // A breach after a reminder is news; a reminder after a breach is not.
        if case.has_alert(clock, stage) || (stage == "pengingat" && case.has_alert(clock, "terlewat")) {
            continue;
        }
        let kind = if stage == "terlewat" { SLA_BREACH } else { SLA_REMINDER };
        alerts.push((kind, sla_alert_data(case, clock, stage, due)));
        next = next.alerted(RaisedAlert { clock, stage: stage.to_string(), at: now });
    }
    let mut closed = false;
    if let Some(close_at) = case.auto_close_at
        && now > close_at
    {
        if citizen_wrote_again(state, case).await? {
            next = next.citizen_wrote_again();
        } else if let Some(auto) = next.auto_close(now) {
            next = auto;
            closed = true;
        }
    }
    if next == *case {
        return Ok(None);
    }
    Ok(Some(Planned { read_at: case.revision, next, alerts, closed }))
}

/// One alert for many: counts by clock and stage, and the most urgent cases by name.
fn digest_data(alerts: &[&(&str, Map<String, Value>)]) -> Map<String, Value> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (_, d) in alerts {
        let key = format!(
            "{} {}",
            d.get("stage").and_then(Value::as_str).unwrap_or(""),
            d.get("clock_name").and_then(Value::as_str).unwrap_or("")
        );
        *counts.entry(key).or_insert(0) += 1;
    }
    let mut sorted: Vec<&Map<String, Value>> = alerts.iter().map(|(_, d)| d).collect();
    sorted.sort_by_key(|d| d.get("due_at").and_then(Value::as_str).unwrap_or("").to_string());
    let cases: Vec<Value> = sorted
        .iter()
        .take(DIGEST_NAMES)
        .map(|d| {
            let get = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
            Value::String(format!("{} ({} {}, {})", get("case"), get("stage"), get("clock_name"), get("due_wib")))
        })
        .collect();
    let mut data = Map::new();
    data.insert("alerts".into(), alerts.len().into());
    data.insert("by_stage".into(), serde_json::to_value(counts).unwrap_or(Value::Null));
    data.insert("cases".into(), cases.into());
    data
}

/// Whether the citizen wrote again (any newer message of the same author on that platform)
/// after the office's last response.
async fn citizen_wrote_again(state: &WatchState, case: &Case) -> Result<bool, StoreError> {
    let Some(last) = case.replies.iter().map(|r| r.at).max() else { return Ok(false) };
    let recent = state.mentions.mentions_by_author(&case.author_key, 20, None).await?.items;
    Ok(recent.iter().any(|m| m.key != case.mention_key && m.received_at > last && m.created_at > last))
}

fn clock_name(clock: SlaClock) -> &'static str {
    match clock {
        SlaClock::Triase => "triase",
        SlaClock::ResponMedsos => "respons media sosial",
        SlaClock::Respon => "respons pertama",
        SlaClock::Penyelesaian => "penyelesaian",
    }
}

fn sla_alert_data(case: &Case, clock: SlaClock, stage: &str, due: DateTime<Utc>) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("case".into(), case.id.clone().into());
    data.insert("clock".into(), clock.as_str().into());
    data.insert("clock_name".into(), clock_name(clock).into());
    data.insert("stage".into(), stage.into());
    data.insert("due_at".into(), crate::time::sortable(due).into());
    data.insert("due_wib".into(), wib_text(due).into());
    data.insert("category".into(), case.category.as_str().into());
    data.insert("priority".into(), case.priority.as_str().into());
    data.insert("status".into(), case.status.as_str().into());
    if let Some(assignee) = &case.assignee {
        data.insert("assignee".into(), assignee.clone().into());
    }
    data
}

/// Days ahead the holiday calendar must cover.
pub const CALENDAR_LOOKAHEAD_DAYS: i64 = 60;
/// Config kind recording calendar warnings sent (id: the year missing).
const CALENDAR_WARNING_KIND: &str = "calendar_warning";

/// Warns once per year when the holiday calendar does not cover the coming weeks (clocks there
/// would count holidays as working days).
async fn watch_calendar(state: &WatchState) -> Result<(), FunctionError> {
    let now = state.clock.now();
    let doc = crate::sla::load_calendar_doc(state.config.as_ref()).await?;
    let years: BTreeSet<i32> =
        [wib_date(now), wib_date(now + Duration::days(CALENDAR_LOOKAHEAD_DAYS))].iter().map(|d| d.year()).collect();
    for year in years.into_iter().filter(|y| !doc.years.contains(y)) {
        let mut data = Map::new();
        data.insert("missing_year".into(), year.into());
        data.insert("known_years".into(), serde_json::to_value(&doc.years).unwrap_or(Value::Null));
        data.insert("action".into(), "PUT /v1/holidays with the SKB of that year".into());
        let record = Value::Object(data.clone());
        let event = alert(CALENDAR_ALERT, data, now);
        match state.config.swap_config(CALENDAR_WARNING_KIND, &year.to_string(), None, &record, &[event]).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Spikes

/// An episode of one series: active from its first alert until it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Episode {
    active: bool,
    since: DateTime<Utc>,
    peak: f64,
    threshold: f64,
}

async fn watch_spikes(state: &WatchState, outcome: &mut WatchOutcome) -> Result<(), FunctionError> {
    let now = state.clock.now();
    let mut counts = spike::Counts::new();
    for day in spike::days_needed(now, &state.spikes) {
        for c in state.counters.counts(day, day).await? {
            counts.insert((c.day, c.key), c.n);
        }
    }
    let readings = spike::measure(&counts, now, &state.spikes);
    // Series measured now, and series with an open episode that went quiet (no reading).
    let mut by_id: BTreeMap<String, Option<Reading>> =
        readings.into_iter().map(|r| (format!("{}:{}", r.metric.as_str(), r.series), Some(r))).collect();
    for (id, value) in state.config.list_config(EPISODE_KIND).await? {
        if value.get("active").and_then(Value::as_bool) == Some(true) {
            by_id.entry(id).or_insert(None);
        }
    }
    for (id, reading) in by_id {
        match step_episode(state, &id, reading.as_ref(), now).await {
            Ok(Some(true)) => outcome.spikes_started += 1,
            Ok(Some(false)) => outcome.spikes_ended += 1,
            Ok(None) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Starts or ends an episode with its alert; `Some(true)` started, `Some(false)` ended.
async fn step_episode(
    state: &WatchState,
    id: &str,
    reading: Option<&Reading>,
    now: DateTime<Utc>,
) -> Result<Option<bool>, StoreError> {
    let stored = state.config.get_config(EPISODE_KIND, id).await?;
    let episode: Option<Episode> = stored.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok());
    let active = episode.as_ref().is_some_and(|e| e.active);
    let write = |next: &Episode, events: Vec<Event>| {
        let value = serde_json::to_value(next).unwrap_or(Value::Null);
        let stored = stored.clone();
        async move { state.config.swap_config(EPISODE_KIND, id, stored.as_ref(), &value, &events).await }
    };
    match (reading, episode) {
        (Some(r), _) if r.is_spike() && !active => {
            let next = Episode { active: true, since: now, peak: r.observed, threshold: r.threshold };
            write(&next, vec![alert(SPIKE, spike_data(r, "mulai", None), now)]).await?;
            Ok(Some(true))
        }
        (Some(r), Some(e)) if active && r.observed > e.peak => {
            write(&Episode { peak: r.observed, ..e }, Vec::new()).await?;
            Ok(None)
        }
        (reading, Some(e)) if active && reading.is_none_or(Reading::has_ended) => {
            let data = match reading {
                Some(r) => spike_data(r, "selesai", Some(&e)),
                None => {
                    let (metric, series) = id.split_once(':').unwrap_or((id, ""));
                    let mut d = Map::new();
                    d.insert("metric".into(), metric.into());
                    d.insert("series".into(), series.into());
                    d.insert("phase".into(), "selesai".into());
                    d.insert("peak".into(), e.peak.into());
                    d.insert("since".into(), crate::time::sortable(e.since).into());
                    d
                }
            };
            write(&Episode { active: false, ..e }, vec![alert(SPIKE, data, now)]).await?;
            Ok(Some(false))
        }
        _ => Ok(None),
    }
}

fn spike_data(r: &Reading, phase: &str, episode: Option<&Episode>) -> Map<String, Value> {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let mut d = Map::new();
    d.insert("metric".into(), r.metric.as_str().into());
    d.insert("series".into(), r.series.clone().into());
    d.insert("phase".into(), phase.into());
    d.insert("observed".into(), round(r.observed).into());
    d.insert("threshold".into(), round(r.threshold).into());
    d.insert("expected".into(), r.expected.map(round).into());
    d.insert("mode".into(), serde_json::to_value(r.mode).unwrap_or(Value::Null));
    if let Some(e) = episode {
        d.insert("peak".into(), round(e.peak).into());
        d.insert("since".into(), crate::time::sortable(e.since).into());
    }
    d
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// A title and body in Bahasa Indonesia for people on duty.
fn describe(kind: &str, data: &Map<String, Value>) -> (String, String) {
    let text = |k: &str| data.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    let get = |k: &str| text(k).unwrap_or_default();
    let title = match kind {
        INFLUENTIAL_HATER => format!("Hater berpengaruh: {}", get("author")),
        SPIKE => {
            let what = if get("metric") == Metric::Volume.as_str() { "volume" } else { "sentimen negatif" };
            let series = get("series").replace("topic#", "topik ");
            let series = if series == "all" { "semua percakapan".to_string() } else { series };
            if get("phase") == "selesai" {
                format!("Lonjakan {what} berakhir: {series}")
            } else {
                format!("Lonjakan {what}: {series}")
            }
        }
        SLA_REMINDER => format!("Pengingat SLA {}: kasus {}", get("clock_name"), get("case")),
        SLA_BREACH => format!("SLA {} terlewat: kasus {}", get("clock_name"), get("case")),
        SLA_DIGEST => format!("Ringkasan SLA: {} peringatan kasus", get("alerts")),
        CALENDAR_ALERT => format!("Kalender libur {} belum diisi", get("missing_year")),
        other => format!("Peringatan Pantau: {other}"),
    };
    let body = data
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "event_id"))
        .map(|(k, v)| format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect::<Vec<_>>()
        .join("\n");
    (title, body)
}

/// Records the alert and sends it to each channel that has not had it yet.
async fn deliver(state: &WatchState, kind: String, data: Map<String, Value>) -> Result<WatchOutcome, FunctionError> {
    let now = state.clock.now();
    let id = data.get("event_id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
        // Events from outside Pantau may lack an id: one derived from the content still dedupes.
        use sha2::Digest;
        hex::encode(&sha2::Sha256::digest(Value::Object(data.clone()).to_string().as_bytes())[..16])
    });
    let raised_at = data
        .get("raised_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    let month = alert_kind(wib_date(raised_at));
    // An alert about a mention erased meanwhile (a data-subject request) is not kept or sent.
    let about = data.get("key").and_then(Value::as_str).and_then(|k| k.parse::<crate::domain::MentionKey>().ok());
    if let Some(key) = about
        && state.mentions.get_mention(&key).await?.is_none()
    {
        tracing::info!(alert = %id, mention = %key, "alert about a mention that is gone; dropped");
        return Ok(WatchOutcome::default());
    }
    let stored = state.config.get_config(&month, &id).await?;
    let mut record = match stored.and_then(|v| serde_json::from_value::<AlertRecord>(v).ok()) {
        Some(r) => r,
        None => {
            let (title, body) = describe(&kind, &data);
            let mut data = data;
            data.remove("event_id");
            AlertRecord {
                id: id.clone(),
                kind,
                raised_at,
                title,
                body,
                data,
                delivered: Vec::new(),
                failed: Vec::new(),
            }
        }
    };
    let notification =
        Notification { title: record.title.clone(), body: format!("{}\n\n{}", record.body, wib_text(raised_at)) };
    let save = |record: &AlertRecord| {
        let value = serde_json::to_value(record).unwrap_or(Value::Null);
        let (month, id) = (month.clone(), id.clone());
        async move { state.config.put_config(&month, &id, &value).await }
    };
    // Kept before any channel is tried, so the alert is listed even if every channel fails.
    save(&record).await?;
    let mut retry = Vec::new();
    let mut notified = 0;
    for notifier in &state.notifiers {
        let channel = notifier.channel();
        if record.delivered.iter().chain(&record.failed).any(|c| c == channel) {
            continue;
        }
        match notifier.notify(&notification).await {
            Ok(()) => {
                // Saved at once: a crash before the next channel must not send this one again.
                record.delivered.push(channel.to_string());
                notified += 1;
                save(&record).await?;
            }
            Err(e) if e.is_retryable() => retry.push(e.to_string()),
            Err(e) => {
                // A refusal (a wrong chat id, an unverified sender) will not pass on a retry.
                tracing::error!(alert = %id, channel, error = %e, "alert channel refused the alert");
                record.failed.push(channel.to_string());
                save(&record).await?;
            }
        }
    }
    if !retry.is_empty() {
        // The event is retried; channels that had it are skipped then.
        return Err(FunctionError::Retryable(retry.join("; ")));
    }
    Ok(WatchOutcome { notified, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_kinds_cover_each_month_of_a_range_newest_first() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(alert_kinds(d(2026, 11, 20), d(2027, 1, 3)), ["alerts#2027-01", "alerts#2026-12", "alerts#2026-11"]);
        assert_eq!(alert_kinds(d(2026, 11, 1), d(2026, 11, 30)), ["alerts#2026-11"]);
        assert!(alert_kinds(d(2026, 12, 1), d(2026, 11, 30)).is_empty());
    }
}
