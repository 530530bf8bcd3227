//! Spike detection: the volume and the negative share of all mentions and of each topic over
//! the last hour, against the same hour of the week in earlier weeks. Until enough weeks of
//! history exist, fixed thresholds apply. The hourly counters come from classification
//! (`hour#HH#…` keys, per WIB day).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::app::counting::spike_key;
use crate::time::{wib, wib_date};

/// Sensitivity and fallbacks (configurable: `PANTAU_SPIKE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpikeSettings {
    /// Standard deviations above the baseline mean that make a volume spike.
    pub sensitivity: f64,
    /// Earlier weeks compared.
    pub weeks: u32,
    /// Weeks of history needed before the baseline replaces the fixed thresholds.
    pub min_weeks: u32,
    /// No volume spike below this many mentions an hour.
    pub min_volume: f64,
    /// Fixed volume threshold (mentions an hour) while history is short.
    pub fixed_volume: f64,
    /// The negative share must exceed the baseline share by this much.
    pub negative_margin: f64,
    /// Fixed negative-share threshold while history is short.
    pub fixed_negative_share: f64,
    /// The negative share is judged only over at least this many mentions an hour.
    pub min_negative_volume: f64,
}

impl Default for SpikeSettings {
    fn default() -> Self {
        SpikeSettings {
            sensitivity: 3.0,
            weeks: 4,
            min_weeks: 2,
            min_volume: 10.0,
            fixed_volume: 50.0,
            negative_margin: 0.25,
            fixed_negative_share: 0.6,
            min_negative_volume: 20.0,
        }
    }
}

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Volume,
    NegativeShare,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Volume => "volume",
            Metric::NegativeShare => "negative_share",
        }
    }
}

/// How a threshold was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Against the same hour of earlier weeks.
    Baseline,
    /// Fixed thresholds (not enough history yet).
    Fixed,
}

/// One series measured now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub metric: Metric,
    /// `all` or `topic#{id}`.
    pub series: String,
    pub observed: f64,
    /// Expected value (the baseline mean or share; `None` in fixed mode).
    pub expected: Option<f64>,
    /// At or above it is a spike.
    pub threshold: f64,
    /// Below it an ongoing episode ends (between expected and threshold).
    pub end_below: f64,
    pub mode: Mode,
    /// Whether a spike can start on this reading: a negative share needs enough mentions, and a
    /// threshold a share can reach.
    pub judged: bool,
}

impl Reading {
    pub fn is_spike(&self) -> bool {
        self.judged && self.observed >= self.threshold
    }

    pub fn has_ended(&self) -> bool {
        self.observed < self.end_below
    }
}

/// Counts by (WIB day, counter key).
pub type Counts = HashMap<(NaiveDate, String), i64>;

/// The WIB days whose counters a measurement at `now` reads.
pub fn days_needed(now: DateTime<Utc>, settings: &SpikeSettings) -> BTreeSet<NaiveDate> {
    (0..=settings.weeks)
        .map(|k| now - Duration::days(7 * i64::from(k)))
        .flat_map(|t| [wib_date(t), wib_date(t - Duration::hours(1))])
        .collect()
}

/// The hour bucket of an instant: its WIB day and hour `HH`.
fn bucket(at: DateTime<Utc>) -> (NaiveDate, String) {
    (wib_date(at), format!("{:02}", at.with_timezone(&wib()).hour()))
}

/// Mentions over the hour before `at`: the current hour bucket plus the unelapsed part of the
/// previous one (counts are hourly).
fn rolling(counts: &Counts, at: DateTime<Utc>, series: Option<&str>, negative: bool) -> f64 {
    let (day, hour) = bucket(at);
    let (prev_day, prev_hour) = bucket(at - Duration::hours(1));
    let get = |d: NaiveDate, h: &str| counts.get(&(d, spike_key(h, series, negative))).copied().unwrap_or(0) as f64;
    let elapsed = f64::from(at.with_timezone(&wib()).minute()) / 60.0;
    get(day, &hour) + get(prev_day, &prev_hour) * (1.0 - elapsed)
}

/// Topics with mentions in the last two hour buckets.
fn active_topics(counts: &Counts, now: DateTime<Utc>) -> BTreeSet<String> {
    let buckets = [bucket(now), bucket(now - Duration::hours(1))];
    counts
        .iter()
        .filter(|((day, key), n)| {
            **n > 0 && buckets.iter().any(|(d, h)| d == day && key.starts_with(&format!("hour#{h}#topic#")))
        })
        .filter_map(|((_, key), _)| {
            let rest = key.split_once("#topic#")?.1;
            Some(rest.strip_suffix("#negatif").unwrap_or(rest).to_string())
        })
        .collect()
}

/// Measures every series at `now`.
pub fn measure(counts: &Counts, now: DateTime<Utc>, settings: &SpikeSettings) -> Vec<Reading> {
    // Weeks the system was running: any mention counted that day.
    let weeks: Vec<DateTime<Utc>> = (1..=settings.weeks)
        .map(|k| now - Duration::days(7 * i64::from(k)))
        .filter(|t| counts.get(&(wib_date(*t), "total".to_string())).copied().unwrap_or(0) > 0)
        .collect();
    let baseline = weeks.len() >= settings.min_weeks as usize;
    let mut series: Vec<Option<String>> = vec![None];
    series.extend(active_topics(counts, now).into_iter().map(Some));
    let mut readings = Vec::new();
    for s in &series {
        let topic = s.as_deref();
        let name = topic.map_or_else(|| "all".to_string(), |t| format!("topic#{t}"));
        let volume = rolling(counts, now, topic, false);
        let negatives = rolling(counts, now, topic, true);
        let past: Vec<(f64, f64)> =
            weeks.iter().map(|t| (rolling(counts, *t, topic, false), rolling(counts, *t, topic, true))).collect();
        readings.push(volume_reading(&name, volume, &past, baseline, settings));
        // Measured whenever there is traffic, so an episode ends on the value, not on a dip in
        // volume; judged (may start one) only over enough mentions.
        if volume > 0.0 {
            let mut share = share_reading(&name, negatives / volume, &past, baseline, settings);
            share.judged &= volume >= settings.min_negative_volume;
            readings.push(share);
        }
    }
    readings
}

fn volume_reading(series: &str, observed: f64, past: &[(f64, f64)], baseline: bool, s: &SpikeSettings) -> Reading {
    if !baseline {
        return Reading {
            metric: Metric::Volume,
            series: series.to_string(),
            observed,
            expected: None,
            threshold: s.fixed_volume,
            end_below: s.fixed_volume * 0.7,
            mode: Mode::Fixed,
            judged: true,
        };
    }
    let n = past.len() as f64;
    let mean = past.iter().map(|p| p.0).sum::<f64>() / n;
    let variance = past.iter().map(|p| (p.0 - mean).powi(2)).sum::<f64>() / n;
    // Counts are Poisson-like: never trust a spread below √mean (or 1).
    let spread = variance.sqrt().max(mean.sqrt()).max(1.0);
    let threshold = (mean + s.sensitivity * spread).max(s.min_volume);
    Reading {
        metric: Metric::Volume,
        series: series.to_string(),
        observed,
        expected: Some(mean),
        threshold,
        end_below: (mean + threshold) / 2.0,
        mode: Mode::Baseline,
        judged: true,
    }
}

fn share_reading(series: &str, observed: f64, past: &[(f64, f64)], baseline: bool, s: &SpikeSettings) -> Reading {
    let total: f64 = past.iter().map(|p| p.0).sum();
    let expected = (baseline && total > 0.0).then(|| past.iter().map(|p| p.1).sum::<f64>() / total);
    // A baseline share so high that the margin reaches 1 cannot spike: nothing is judged then.
    let threshold = expected.map_or(s.fixed_negative_share, |p| p + s.negative_margin);
    let floor = expected.unwrap_or(s.fixed_negative_share - s.negative_margin).max(0.0);
    Reading {
        metric: Metric::NegativeShare,
        series: series.to_string(),
        observed,
        expected,
        threshold,
        end_below: (floor + threshold) / 2.0,
        mode: if expected.is_some() { Mode::Baseline } else { Mode::Fixed },
        judged: threshold < 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 14:30 WIB on Friday 27 Nov 2026.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 7, 30, 0).unwrap()
    }

    fn put(counts: &mut Counts, at: DateTime<Utc>, series: Option<&str>, negative: bool, n: i64) {
        let (day, hour) = bucket(at);
        *counts.entry((day, spike_key(&hour, series, negative))).or_insert(0) += n;
        counts.entry((day, "total".to_string())).or_insert(1);
    }

    fn history(weeks: u32, per_hour: i64) -> Counts {
        let mut counts = Counts::new();
        for k in 1..=weeks {
            let t = now() - Duration::days(7 * i64::from(k));
            put(&mut counts, t, None, false, per_hour);
            put(&mut counts, t - Duration::hours(1), None, false, per_hour);
            put(&mut counts, t, None, true, per_hour / 5);
            put(&mut counts, t - Duration::hours(1), None, true, per_hour / 5);
        }
        counts
    }

    fn all(readings: &[Reading], metric: Metric) -> Reading {
        readings.iter().find(|r| r.series == "all" && r.metric == metric).cloned().unwrap()
    }

    #[test]
    fn rolling_hour_weighs_the_previous_bucket_by_what_has_not_elapsed() {
        let mut counts = Counts::new();
        put(&mut counts, now(), None, false, 12);
        put(&mut counts, now() - Duration::hours(1), None, false, 40);
        // 14:30: all of 14:xx plus half of 13:xx.
        assert_eq!(rolling(&counts, now(), None, false), 12.0 + 20.0);
    }

    #[test]
    fn a_spike_is_judged_against_the_same_hour_of_earlier_weeks() {
        let s = SpikeSettings::default();
        let mut counts = history(4, 20);
        put(&mut counts, now(), None, false, 25);
        let quiet = all(&measure(&counts, now(), &s), Metric::Volume);
        assert_eq!(quiet.mode, Mode::Baseline);
        // Baseline: 20 + 10 = 30 an hour in each week; now 25 + 0.
        assert_eq!(quiet.expected, Some(30.0));
        assert!(!quiet.is_spike(), "{quiet:?}");
        put(&mut counts, now(), None, false, 60);
        let storm = all(&measure(&counts, now(), &s), Metric::Volume);
        // 30 + 3·√30 ≈ 46.4; 85 is a spike.
        assert!(storm.is_spike(), "{storm:?}");
        assert!((storm.threshold - (30.0 + 3.0 * 30f64.sqrt())).abs() < 1e-9);
    }

    #[test]
    fn short_history_uses_fixed_thresholds() {
        let s = SpikeSettings::default();
        let mut counts = history(1, 20);
        put(&mut counts, now(), None, false, 49);
        let r = all(&measure(&counts, now(), &s), Metric::Volume);
        assert_eq!((r.mode, r.threshold, r.is_spike()), (Mode::Fixed, 50.0, false));
        put(&mut counts, now(), None, false, 1);
        assert!(all(&measure(&counts, now(), &s), Metric::Volume).is_spike());
    }

    #[test]
    fn negative_share_rises_above_its_own_baseline() {
        let s = SpikeSettings::default();
        let mut counts = history(4, 40);
        put(&mut counts, now(), None, false, 40);
        put(&mut counts, now(), None, true, 30);
        let r = all(&measure(&counts, now(), &s), Metric::NegativeShare);
        // Baseline share 8/40 = 0.2 → threshold 0.45; now 30/40 = 0.75.
        assert_eq!(r.expected, Some(0.2));
        assert!(r.is_spike(), "{r:?}");
        // Too few mentions: the share is measured (an episode can end on it) but not judged.
        let mut thin = history(4, 40);
        put(&mut thin, now(), None, false, 5);
        put(&mut thin, now(), None, true, 5);
        let thin = all(&measure(&thin, now(), &s), Metric::NegativeShare);
        assert_eq!((thin.observed, thin.judged, thin.is_spike()), (1.0, false, false));
        // A topic that is always negative cannot spike on its share.
        let mut sour = Counts::new();
        for k in 1..=4 {
            let t = now() - Duration::days(7 * k);
            put(&mut sour, t, None, false, 40);
            put(&mut sour, t, None, true, 39);
        }
        put(&mut sour, now(), None, false, 40);
        put(&mut sour, now(), None, true, 40);
        let sour = all(&measure(&sour, now(), &s), Metric::NegativeShare);
        assert!(!sour.is_spike(), "{sour:?}");
    }

    #[test]
    fn topics_with_recent_mentions_are_measured_on_their_own() {
        let s = SpikeSettings::default();
        let mut counts = history(4, 20);
        put(&mut counts, now(), Some("banjir"), false, 60);
        let readings = measure(&counts, now(), &s);
        let topic = readings.iter().find(|r| r.series == "topic#banjir" && r.metric == Metric::Volume).unwrap();
        assert_eq!(topic.expected, Some(0.0));
        assert!(topic.is_spike(), "no history for the topic: threshold is the minimum volume");
        assert_eq!(topic.threshold, s.min_volume);
    }
}
