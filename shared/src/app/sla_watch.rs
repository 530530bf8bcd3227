//! The SLA watch (every 15 minutes): a reminder before each clock of an open case ends and a
//! breach after it, each once per case, clock and stage; many in one run become one digest;
//! quiet cases close automatically; a calendar that runs out is warned about once a year.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{Map, Value};

use super::alerts::{raised, wib_text};
use crate::domain::{AlertKind, Case, Event, RaisedAlert, SlaClock, SlaStage};
use crate::error::StoreError;
use crate::ports::{CaseStore, MentionReader};
use crate::sla::SlaPolicy;
use crate::stores::{Marker, Markers, Settings};
use crate::time::wib_date;

/// Names the watch in the events it writes.
const SOURCE: &str = "watch";
/// Open cases read per page.
const CASE_PAGE: usize = 100;
/// Above this many SLA alerts in one run, one digest alert replaces them (no alert storms).
pub const DIGEST_AFTER: usize = 5;
/// Cases named in a digest at most.
const DIGEST_NAMES: usize = 20;
/// Days ahead the holiday calendar must cover.
pub const CALENDAR_LOOKAHEAD_DAYS: i64 = 60;

/// What the SLA watch needs.
pub struct SlaWatch<'a> {
    pub cases: &'a dyn CaseStore,
    /// Whether the citizen wrote again after the office's answer (no automatic close then).
    pub mentions: &'a dyn MentionReader,
    pub settings: &'a dyn Settings,
    pub markers: &'a dyn Markers,
    pub now: DateTime<Utc>,
}

/// What one run did to the cases.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SlaRun {
    pub checked: usize,
    pub reminders: usize,
    pub breaches: usize,
    pub auto_closed: usize,
    /// Cases changed by someone else during the run; the next run looks again.
    pub skipped: usize,
}

/// What one run will change on one case.
struct Planned {
    read_at: u32,
    next: Case,
    /// SLA alerts: kind and data.
    alerts: Vec<(AlertKind, Map<String, Value>)>,
    closed: bool,
}

impl SlaWatch<'_> {
    /// Checks every open case (the sparse inbox index, not a Scan).
    pub async fn run(&self) -> Result<SlaRun, StoreError> {
        let mut run = SlaRun::default();
        let policy = self.settings.sla_policy().await?;
        let mut plans = Vec::new();
        let mut after = None;
        loop {
            let page = self.cases.open_cases(CASE_PAGE, after.as_ref()).await?;
            for case in &page.items {
                run.checked += 1;
                if let Some(plan) = self.plan(case, &policy).await? {
                    plans.push(plan);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let alerts: Vec<&(AlertKind, Map<String, Value>)> = plans.iter().flat_map(|p| &p.alerts).collect();
        let digest = alerts.len() > DIGEST_AFTER;
        if digest {
            // The digest is written first: a crash after it may alert some cases twice, never
            // not at all.
            let data = digest_data(&alerts);
            let event = raised(SOURCE, AlertKind::SlaDigest, data.clone(), self.now);
            let id = crate::time::sortable(self.now);
            self.markers.mark_once(Marker::SlaDigest, &id, &Value::Object(data), self.now, &[event]).await?;
        }
        for plan in plans {
            let events: Vec<Event> = if digest {
                Vec::new()
            } else {
                plan.alerts.iter().map(|(k, d)| raised(SOURCE, *k, d.clone(), self.now)).collect()
            };
            match self.cases.update_case(&plan.next, plan.read_at, &events).await {
                Err(StoreError::Conflict { .. }) => {
                    run.skipped += 1;
                    continue;
                }
                other => other?,
            }
            for (kind, _) in &plan.alerts {
                if *kind == AlertKind::SlaBreach {
                    run.breaches += 1;
                } else {
                    run.reminders += 1;
                }
            }
            if plan.closed {
                run.auto_closed += 1;
                tracing::info!(case = %plan.next.id, "case closed automatically");
            }
        }
        if run.breaches > 0 {
            crate::telemetry::emit_metric("SlaBreaches", run.breaches as f64, &[], self.now);
        }
        Ok(run)
    }

    /// Reminders, breaches and automatic close due for one case now (`None`: nothing to do).
    async fn plan(&self, case: &Case, policy: &SlaPolicy) -> Result<Option<Planned>, StoreError> {
        let now = self.now;
        let mut next = case.clone();
        let mut alerts = Vec::new();
        let reminder = Duration::hours(i64::from(policy.reminder_hours));
        for (clock, due) in case.running_clocks() {
            // Short clocks (the social-media target in hours) are reminded a quarter before.
            let lead = reminder.min((due - case.opened_at) / 4);
            let stage = if now > due {
                SlaStage::Terlewat
            } else if now >= due - lead {
                SlaStage::Pengingat
            } else {
                continue;
            };
            // A breach after a reminder is news; a reminder after a breach is not.
            if case.has_alert(clock, stage)
                || (stage == SlaStage::Pengingat && case.has_alert(clock, SlaStage::Terlewat))
            {
                continue;
            }
            let kind = if stage == SlaStage::Terlewat { AlertKind::SlaBreach } else { AlertKind::SlaReminder };
            alerts.push((kind, sla_alert_data(case, clock, stage, due)));
            next = next.alerted(RaisedAlert { clock, stage, at: now });
        }
        let mut closed = false;
        if let Some(close_at) = case.auto_close_at
            && now > close_at
        {
            if self.citizen_wrote_again(case).await? {
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

    /// Whether the citizen wrote again (any newer message of the same author on that platform)
    /// after the office's last response.
    async fn citizen_wrote_again(&self, case: &Case) -> Result<bool, StoreError> {
        let (Some(last), Some(author)) = (case.replies.iter().map(|r| r.at).max(), &case.author_key) else {
            return Ok(false);
        };
        let recent = self.mentions.mentions_by_author(author, 20, None).await?.items;
        Ok(recent.iter().any(|m| m.key != case.mention_key && m.received_at > last && m.created_at > last))
    }

    /// Warns once per year when the holiday calendar does not cover the coming weeks (clocks
    /// there would count holidays as working days). Returns how many warnings it raised.
    pub async fn check_calendar(&self) -> Result<usize, StoreError> {
        let doc = self.settings.calendar_doc().await?;
        let ahead = self.now + Duration::days(CALENDAR_LOOKAHEAD_DAYS);
        let years: BTreeSet<i32> = [wib_date(self.now), wib_date(ahead)].iter().map(|d| d.year()).collect();
        let mut raised_now = 0;
        for year in years.into_iter().filter(|y| !doc.years.contains(y)) {
            let mut data = Map::new();
            data.insert("missing_year".into(), year.into());
            data.insert("known_years".into(), serde_json::to_value(&doc.years).unwrap_or(Value::Null));
            data.insert("action".into(), "PUT /v1/holidays with the SKB of that year".into());
            let event = raised(SOURCE, AlertKind::Calendar, data.clone(), self.now);
            let record = Value::Object(data);
            if self.markers.mark_once(Marker::CalendarWarning, &year.to_string(), &record, self.now, &[event]).await? {
                raised_now += 1;
            }
        }
        Ok(raised_now)
    }
}

/// One alert for many: counts by clock and stage, and the most urgent cases by name.
fn digest_data(alerts: &[&(AlertKind, Map<String, Value>)]) -> Map<String, Value> {
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

fn clock_name(clock: SlaClock) -> &'static str {
    match clock {
        SlaClock::Triase => "triase",
        SlaClock::ResponMedsos => "respons media sosial",
        SlaClock::Respon => "respons pertama",
        SlaClock::Penyelesaian => "penyelesaian",
    }
}

fn sla_alert_data(case: &Case, clock: SlaClock, stage: SlaStage, due: DateTime<Utc>) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("case".into(), case.id.clone().into());
    data.insert("clock".into(), clock.as_str().into());
    data.insert("clock_name".into(), clock_name(clock).into());
    data.insert("stage".into(), stage.as_str().into());
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
