//! What a classified mention counts for: the daily counters of reports and dashboards and the
//! hourly ones spike detection reads. Counts move with every (re)classification, correction
//! and erasure, in the same write as the change.

use crate::domain::{Mention, Sentiment};
use crate::ports::CountDelta;
use crate::time::{wib, wib_date};

/// Topics counted per mention at most (keeps a relabelling within one 100-item transaction:
/// 8 + 4 per topic counters on each side).
pub const MAX_COUNTED_TOPICS: usize = 5;

/// The counter keys a classified mention contributes to: daily ones for reports and
/// dashboards, and per WIB hour (`hour#HH#…`) the volume and negative counts spike detection
/// compares with the same hour of earlier weeks.
fn counted(m: &Mention) -> Vec<String> {
    let Some(c) = &m.classification else { return Vec::new() };
    let hour = m.created_at.with_timezone(&wib()).format("%H").to_string();
    let negative = c.sentiment == Sentiment::Negatif;
    let topics = || c.topics.iter().take(MAX_COUNTED_TOPICS);
    let mut keys = vec![
        "total".to_string(),
        format!("platform#{}", m.platform),
        format!("category#{}", c.category),
        format!("sentiment#{}", c.sentiment),
        format!("language#{}", c.language),
        format!("platform_category#{}#{}", m.platform, c.category),
        spike_key(&hour, None, false),
    ];
    if negative {
        keys.push(spike_key(&hour, None, true));
    }
    for t in topics() {
        keys.push(format!("topic#{t}"));
        keys.push(format!("topic_sentiment#{t}#{}", c.sentiment));
        keys.push(spike_key(&hour, Some(t), false));
        if negative {
            keys.push(spike_key(&hour, Some(t), true));
        }
    }
    keys
}

/// Hourly counter key: `hour#HH#all` / `hour#HH#all#negatif`, `hour#HH#topic#T` / `…#negatif`.
pub fn spike_key(hour: &str, topic: Option<&str>, negative: bool) -> String {
    let series = topic.map_or_else(|| "all".to_string(), |t| format!("topic#{t}"));
    if negative { format!("hour#{hour}#{series}#negatif") } else { format!("hour#{hour}#{series}") }
}

/// Moves counts from the old labels to the new ones: each mention is counted once, under its
/// current labels, on the WIB day it was written (which moves too when a platform's delivery
/// corrects a submitted time).
pub fn count_changes(before: &Mention, after: &Mention) -> Vec<CountDelta> {
    let (old_day, new_day) = (wib_date(before.created_at), wib_date(after.created_at));
    let old: Vec<(chrono::NaiveDate, String)> = counted(before).into_iter().map(|k| (old_day, k)).collect();
    let new: Vec<(chrono::NaiveDate, String)> = counted(after).into_iter().map(|k| (new_day, k)).collect();
    let mut deltas: Vec<CountDelta> = Vec::new();
    for (day, key) in old.iter().filter(|k| !new.contains(k)) {
        deltas.push(CountDelta { day: *day, key: key.clone(), delta: -1 });
    }
    for (day, key) in new.iter().filter(|k| !old.contains(k)) {
        deltas.push(CountDelta { day: *day, key: key.clone(), delta: 1 });
    }
    deltas
}

/// The counts a mention takes with it when it is erased.
pub fn uncount(mention: &Mention) -> Vec<CountDelta> {
    let mut unclassified = mention.clone();
    unclassified.classification = None;
    count_changes(mention, &unclassified)
}
