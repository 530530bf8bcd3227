//! What a classified mention counts for: the daily counters of reports and dashboards and the
//! hourly ones spike detection reads. Counts move with every (re)classification, correction
//! and erasure, in the same write as the change.

use crate::domain::{Mention, Sentiment};
use crate::ports::CountDelta;
use crate::time::{wib, wib_date};

/// Topics counted per mention at most (keeps a relabelling within one 100-item transaction:
/// 8 + 4 per topic + hashtags + terms counters on each side, 38 at most).
pub const MAX_COUNTED_TOPICS: usize = 5;
/// Hashtags and content terms counted per mention at most (the reports' top lists).
pub const MAX_COUNTED_HASHTAGS: usize = 5;
pub const MAX_COUNTED_TERMS: usize = 5;
/// Shortest content term counted (characters).
const MIN_TERM_CHARS: usize = 4;

const REPORT_STOPWORDS: &str = include_str!("../report/stopwords.txt");

fn is_stopword(word: &str) -> bool {
    static WORDS: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| {
        REPORT_STOPWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
    });
    words.contains(word) || crate::classify::lexicon::lexicon().stopwords.contains(word)
}

/// The hashtags (lower case, without `#`) and the first content terms of a message, each
/// distinct, as the reports count them: normalised words (slang mapped) of at least four
/// letters that are not stopwords, not numbers, links, mentions or the words of a hashtag.
pub fn hashtags_and_terms(text: &str) -> (Vec<String>, Vec<String>) {
    use crate::classify::normalize::{TokenKind, flags, normalize};
    let n = normalize(text);
    let (mut tags, mut terms): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for i in 0..n.len() {
        let Some(t) = n.get(i) else { continue };
        match t.kind {
            TokenKind::Hashtag if tags.len() < MAX_COUNTED_HASHTAGS => {
                let tag = t.text.trim_start_matches('#').to_string();
                if !tag.is_empty() && !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            TokenKind::Word if terms.len() < MAX_COUNTED_TERMS && !t.has(flags::FROM_HASHTAG) => {
                let word = t.text;
                let letters = word.chars().count() >= MIN_TERM_CHARS && word.chars().all(char::is_alphabetic);
                if letters && !is_stopword(word) && !terms.iter().any(|w| w == word) {
                    terms.push(word.to_string());
                }
            }
            _ => {}
        }
    }
    (tags, terms)
}

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
    let (tags, terms) = hashtags_and_terms(&m.text);
    keys.extend(tags.iter().map(|t| format!("hashtag#{t}")));
    keys.extend(terms.iter().map(|t| format!("term#{t}")));
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

/// The changes of several mentions added up per counter (in counter order), those that
/// cancel out left out: what a batch written together moves.
pub fn merge_counts(deltas: impl IntoIterator<Item = CountDelta>) -> Vec<CountDelta> {
    let mut sums: std::collections::BTreeMap<(chrono::NaiveDate, String), i64> = std::collections::BTreeMap::new();
    for d in deltas {
        *sums.entry((d.day, d.key)).or_default() += d.delta;
    }
    sums.into_iter()
        .filter(|(_, delta)| *delta != 0)
        .map(|((day, key), delta)| CountDelta { day, key, delta })
        .collect()
}

/// The counts a mention takes with it when it is erased.
pub fn uncount(mention: &Mention) -> Vec<CountDelta> {
    let mut unclassified = mention.clone();
    unclassified.classification = None;
    count_changes(mention, &unclassified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_count_hashtags_and_content_terms_not_stopwords() {
        let (tags, terms) = hashtags_and_terms(
            "Tolong pak, jalan rusak parah di Bojonegoro gk diperbaiki2 #JalanRusak #jatim #JalanRusak https://t.co/x @humas",
        );
        assert_eq!(tags, ["jalanrusak", "jatim"]);
        assert!(terms.contains(&"jalan".to_string()) && terms.contains(&"rusak".to_string()), "{terms:?}");
        assert!(!terms.iter().any(|t| ["tolong", "pak", "tidak", "https"].contains(&t.as_str())), "{terms:?}");
        assert!(terms.len() <= MAX_COUNTED_TERMS);
        let (tags, terms) = hashtags_and_terms("");
        assert!(tags.is_empty() && terms.is_empty());
    }
}
