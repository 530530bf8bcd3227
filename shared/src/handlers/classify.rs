//! The `classify` function: on `MentionReceived`, classify the mention, triage it, move the
//! daily counters and announce `MentionClassified` (and `AlertRaised` for an influential
//! hater) — all in one conditional write, so a redelivered event changes and counts nothing.

use std::sync::Arc;

use serde::Serialize;

use crate::cases::open_case;
use crate::classify::triage::{TriageSettings, is_influential, triage};
use crate::classify::{Classifier, Taxonomy};
use crate::domain::{Category, Classification, Event, EventKind, Mention, MentionKey, Scores, Sentiment};
use crate::error::StoreError;
use crate::ports::{Announce, CaseStore, ConfigStore, CountDelta, MentionStore};
use crate::time::{Clock, wib, wib_date};

use super::{FunctionError, Trigger};

const SOURCE: &str = "classify";
/// Topics counted per mention at most (keeps a relabelling within one 100-item transaction:
/// 8 + 4 per topic counters on each side).
const MAX_COUNTED_TOPICS: usize = 5;
/// Attempts when another writer changes the mention between read and write.
const ATTEMPTS: usize = 3;

/// What `classify` needs; the classifier is loaded once per process.
pub struct ClassifyState {
    pub mentions: Arc<dyn MentionStore>,
    /// Cases open here, with SLA clocks from the config table's policy and calendar.
    pub cases: Arc<dyn CaseStore>,
    pub config: Arc<dyn ConfigStore>,
    pub announce: Arc<dyn Announce>,
    pub classifier: Arc<Classifier>,
    pub triage: TriageSettings,
    pub clock: Arc<dyn Clock>,
}

/// Config kind and id of the office's own taxonomy (the built-in default applies without it).
pub const TAXONOMY_KIND: &str = "taxonomy";
pub const TAXONOMY_ID: &str = "default";

/// The office's taxonomy from the config table, if it stored one.
pub async fn stored_taxonomy(config: &dyn ConfigStore) -> Result<Option<Taxonomy>, StoreError> {
    match config.get_config(TAXONOMY_KIND, TAXONOMY_ID).await? {
        None => Ok(None),
        Some(value) => Taxonomy::from_json(&value.to_string())
            .map(Some)
            .map_err(|e| StoreError::corrupt("config", "taxonomy/default", e)),
    }
}

/// The taxonomy in force: the office's, else the built-in one.
pub async fn taxonomy(config: &dyn ConfigStore) -> Result<Taxonomy, StoreError> {
    Ok(stored_taxonomy(config).await?.unwrap_or_else(Taxonomy::builtin))
}

/// Loads a model and the office's taxonomy from the config table, once per process.
pub async fn load_classifier(model: &[u8], config: &dyn ConfigStore) -> Result<Classifier, FunctionError> {
    let classifier = Classifier::load(model).map_err(|e| FunctionError::Unexpected(format!("model refused: {e}")))?;
    match stored_taxonomy(config).await? {
        None => Ok(classifier),
        Some(taxonomy) => Ok(classifier.with_taxonomy(&taxonomy)),
    }
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifyOutcome {
    Classified {
        key: String,
        category: Category,
        changed_from: Option<Category>,
    },
    /// Already classified by this model for this text (a redelivered event).
    AlreadyClassified {
        key: String,
    },
    /// Gone (deleted by its author, expired) or never stored.
    Skipped {
        key: String,
    },
}

pub async fn handle(state: &ClassifyState, trigger: Trigger) -> Result<ClassifyOutcome, FunctionError> {
    let key = match trigger {
        Trigger::Event(EventKind::MentionReceived { key }) => key,
        other => return Err(FunctionError::Unexpected(format!("classify does not handle {other:?}"))),
    };
    for _ in 0..ATTEMPTS {
        match classify_once(state, &key).await {
            Err(StoreError::Conflict { .. }) => continue,
            other => return Ok(other?),
        }
    }
    Err(FunctionError::Retryable(format!("mention {key} kept changing while being classified")))
}

/// Classifies a mention if it needs it and stores the result with its counters and events.
pub async fn classify_once(state: &ClassifyState, key: &MentionKey) -> Result<ClassifyOutcome, StoreError> {
    let Some(current) = state.mentions.get_mention(key).await? else {
        return Ok(ClassifyOutcome::Skipped { key: key.to_string() });
    };
    let version = state.classifier.version();
    if current.deleted_at.is_some() {
        return Ok(ClassifyOutcome::Skipped { key: key.to_string() });
    }
    if !current.needs_classifying(&version) {
        // A redelivered event: the case may not have been opened if the last attempt stopped
        // right after the classification was stored.
        open_case(state.cases.as_ref(), state.config.as_ref(), &current, state.clock.now()).await?;
        return Ok(ClassifyOutcome::AlreadyClassified { key: key.to_string() });
    }
    let now = state.clock.now();
    let output = state.classifier.classify(&current.text);
    let mut next = current.clone();
    next.classification = Some(Classification {
        category: output.category,
        sentiment: output.sentiment,
        language: output.language,
        topics: output.topics,
        confidence: output.confidence,
        scores: Scores { category: output.scores.category, sentiment: output.scores.sentiment },
        reasons: output.reasons,
        model: version,
        classified_at: now,
        text_revision: current.text_revision(),
    });
    next.triage = Some(triage(output.category, current.author.followers, &state.triage));
    // An officer's correction of this text outlives reclassification.
    if let Some(correction) = current.current_correction() {
        next = next.corrected(correction.clone());
    }
    next.revision += 1;
    let (Some(labels), Some(triaged)) = (next.classification.clone(), next.triage.clone()) else {
        return Err(StoreError::Invalid(format!("mention {key} lost its labels while being classified")));
    };

    let counts = count_changes(&current, &next);
    let mut events = vec![Event::new(
        SOURCE,
        EventKind::MentionClassified {
            key: key.clone(),
            category: labels.category,
            sentiment: labels.sentiment,
            priority: triaged.priority,
        },
        now,
    )];
    events.extend(hater_alert(&current, &next, SOURCE, now));
    state.mentions.replace_mention(&next, current.revision, &counts, &events).await?;
    state.announce.announce(&events).await;
    tracing::info!(mention = %key, category = %labels.category, priority = %triaged.priority, "classified");
    open_case(state.cases.as_ref(), state.config.as_ref(), &next, now).await?;
    Ok(ClassifyOutcome::Classified {
        key: key.to_string(),
        category: labels.category,
        changed_from: current.classification.map(|c| c.category),
    })
}

/// The `AlertRaised` for a mention that has just become an influential hater's (by
/// classification or by an officer's correction), if it has.
pub(crate) fn hater_alert(
    before: &Mention,
    after: &Mention,
    source: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Event> {
    (is_influential_hater(after) && !is_influential_hater(before)).then(|| {
        Event::new(
            source,
            EventKind::AlertRaised { kind: "influential_hater".into(), data: alert_data(after, now) },
            now,
        )
    })
}

fn is_influential_hater(m: &Mention) -> bool {
    matches!((&m.classification, &m.triage), (Some(c), Some(t)) if c.category == Category::Hater && is_influential(t.influence))
}

fn alert_data(m: &Mention, now: chrono::DateTime<chrono::Utc>) -> serde_json::Map<String, serde_json::Value> {
    let excerpt: String = m.text.chars().take(280).collect();
    let mut data = serde_json::Map::new();
    data.insert("key".into(), m.key.to_string().into());
    data.insert(
        "author".into(),
        m.author.handle.clone().or(m.author.name.clone()).unwrap_or_else(|| m.author.id.clone()).into(),
    );
    data.insert("followers".into(), m.author.followers.into());
    data.insert("text".into(), excerpt.into());
    data.insert("url".into(), m.url.clone().into());
    data.insert("raised_at".into(), crate::time::sortable(now).into());
    data
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
/// current labels, on the WIB day it was written.
pub fn count_changes(before: &Mention, after: &Mention) -> Vec<CountDelta> {
    let day = wib_date(after.created_at);
    let old = counted(before);
    let new = counted(after);
    let mut deltas: Vec<CountDelta> = Vec::new();
    for key in old.iter().filter(|k| !new.contains(k)) {
        deltas.push(CountDelta { day, key: key.clone(), delta: -1 });
    }
    for key in new.iter().filter(|k| !old.contains(k)) {
        deltas.push(CountDelta { day, key: key.clone(), delta: 1 });
    }
    deltas
}
