//! Spike watch (every 15 minutes): measures volume and negative share of all mentions and of
//! each active topic against earlier weeks (`crate::spike`), and keeps one episode per series,
//! alerting once when it starts and once when it ends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::alerts::raised;
use crate::domain::AlertKind;
use crate::error::StoreError;
use crate::ports::CounterStore;
use crate::spike::{self, Reading, SpikeSettings};
use crate::stores::{Episode, SpikeEpisodes};

const SOURCE: &str = "watch";

/// What the spike watch needs.
pub struct SpikeWatch<'a> {
    pub counters: &'a dyn CounterStore,
    pub episodes: &'a dyn SpikeEpisodes,
    pub settings: &'a SpikeSettings,
    pub now: DateTime<Utc>,
}

/// Episodes started and ended by one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SpikeRun {
    pub started: usize,
    pub ended: usize,
}

impl SpikeWatch<'_> {
    pub async fn run(&self) -> Result<SpikeRun, StoreError> {
        let mut counts = spike::Counts::new();
        for day in spike::days_needed(self.now, self.settings) {
            for c in self.counters.counts(day, day).await? {
                counts.insert((c.day, c.key), c.n);
            }
        }
        let readings = spike::measure(&counts, self.now, self.settings);
        // Series measured now, and series with an open episode that went quiet (no reading).
        let mut by_id: BTreeMap<String, Option<Reading>> =
            readings.into_iter().map(|r| (format!("{}:{}", r.metric.as_str(), r.series), Some(r))).collect();
        for (id, _) in self.episodes.active_episodes().await? {
            by_id.entry(id).or_insert(None);
        }
        let mut run = SpikeRun::default();
        for (id, reading) in by_id {
            match self.step(&id, reading.as_ref()).await {
                Ok(Some(true)) => run.started += 1,
                Ok(Some(false)) => run.ended += 1,
                // Another run moved the episode meanwhile: it alerted, not this one.
                Ok(None) | Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(run)
    }

    /// Starts or ends an episode with its alert; `Some(true)` started, `Some(false)` ended.
    async fn step(&self, id: &str, reading: Option<&Reading>) -> Result<Option<bool>, StoreError> {
        let now = self.now;
        let episode = self.episodes.episode(id).await?;
        let active = episode.as_ref().is_some_and(|e| e.active);
        let current = episode.clone();
        let write = |next: Episode, alert: Option<Map<String, Value>>| {
            let current = current.clone();
            let events: Vec<_> = alert.into_iter().map(|data| raised(SOURCE, AlertKind::Spike, data, now)).collect();
            async move { self.episodes.swap_episode(id, current.as_ref(), &next, &events).await }
        };
        match (reading, episode) {
            (Some(r), _) if r.is_spike() && !active => {
                let next = Episode { active: true, since: now, peak: r.observed, threshold: r.threshold };
                write(next, Some(spike_data(r, "mulai", None))).await?;
                Ok(Some(true))
            }
            (Some(r), Some(e)) if active && r.observed > e.peak => {
                write(Episode { peak: r.observed, ..e }, None).await?;
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
                write(Episode { active: false, ..e }, Some(data)).await?;
                Ok(Some(false))
            }
            _ => Ok(None),
        }
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
