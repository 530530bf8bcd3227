//! Classifying a mention: labels, triage, counters and events in one conditional write (so a
//! redelivered event changes and counts nothing), then the case it calls for.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::cases::CaseDesk;
use super::counting::{count_changes, merge_counts};
use crate::adapters::vocabulary::MAX_TRANSACTION_ITEMS;
use crate::classify::triage::{TriageSettings, is_influential, triage_classified};
use crate::classify::{Classifier, ModelError, Taxonomy};
use crate::domain::{AlertKind, Category, Classification, Event, EventKind, Mention, MentionKey, Scores};
use crate::error::StoreError;
use crate::ports::{Announce, CaseStore, CountDelta, MentionStore, Replacement};
use crate::stores::{Held, KnownAccountsCache, PendingReplies, Settings};
use crate::time::Clock;

/// Attempts when another writer changes the mention between read and write.
const ATTEMPTS: usize = 3;

/// What classification needs; the classifier is loaded once per process.
pub struct ClassifyService {
    pub mentions: Arc<dyn MentionStore>,
    /// Cases open here, with SLA clocks from the office's policy and calendar.
    pub cases: Arc<dyn CaseStore>,
    pub settings: Arc<dyn Settings>,
    pub pending: Arc<dyn PendingReplies>,
    pub announce: Arc<dyn Announce>,
    pub classifier: Arc<LiveClassifier>,
    pub triage: TriageSettings,
    /// The office's known accounts, held per process.
    pub accounts: Arc<KnownAccountsCache>,
    pub clock: Arc<dyn Clock>,
    /// Names the function in the events it writes.
    pub source: &'static str,
}

/// How long a running classifier keeps the office's taxonomy before it looks again.
pub const TAXONOMY_REFRESH: Duration = Duration::from_secs(60);

/// The classifier in force: one model for the life of the process, with the office's taxonomy
/// looked at again at most every `refresh` (one read of one document), so a taxonomy replaced
/// through the API applies, in every running process, to what is classified a minute later.
pub struct LiveClassifier {
    /// The model with the shipped taxonomy; each taxonomy in force shares its weights.
    base: Classifier,
    settings: Arc<dyn Settings>,
    in_force: Held<InForce>,
}

struct InForce {
    classifier: Arc<Classifier>,
    /// The office's stored taxonomy it was built with (`None`: the shipped one).
    taxonomy: Option<Taxonomy>,
}

impl InForce {
    fn new(base: &Classifier, taxonomy: Option<Taxonomy>) -> InForce {
        let classifier = match &taxonomy {
            None => base.clone(),
            Some(taxonomy) => base.clone().with_taxonomy(taxonomy),
        };
        InForce { classifier: Arc::new(classifier), taxonomy }
    }
}

impl LiveClassifier {
    /// Loads a model and the office's taxonomy.
    pub async fn load(model: &[u8], settings: Arc<dyn Settings>, refresh: Duration) -> Result<Self, LoadError> {
        let base = Classifier::load(model)?;
        let taxonomy = settings.stored_taxonomy().await?;
        Ok(LiveClassifier::new(base, taxonomy, settings, refresh))
    }

    /// A loaded model with the office's `taxonomy` as just read from `settings` (where it is
    /// read again at most every `refresh`).
    pub fn new(base: Classifier, taxonomy: Option<Taxonomy>, settings: Arc<dyn Settings>, refresh: Duration) -> Self {
        let in_force = InForce::new(&base, taxonomy);
        LiveClassifier { base, settings, in_force: Held::with("the taxonomy", refresh, in_force) }
    }

    /// Identifies the model (the taxonomy is not part of it).
    pub fn version(&self) -> String {
        self.base.version()
    }

    /// The classifier to use now, with the taxonomy stored at most `refresh` ago. When the
    /// taxonomy cannot be read again, the one in force stays (and is tried again after `refresh`).
    pub async fn current(&self) -> Result<Arc<Classifier>, StoreError> {
        let in_force = self
            .in_force
            .get(|held| async move {
                let taxonomy = self.settings.stored_taxonomy().await?;
                Ok(match held {
                    Some(held) if held.taxonomy == taxonomy => held,
                    _ => {
                        tracing::info!(
                            taxonomy_version = taxonomy.as_ref().map(|t| t.version),
                            topics = taxonomy.as_ref().map(|t| t.topics.len()),
                            "the office's taxonomy changed: its topics apply from now"
                        );
                        Arc::new(InForce::new(&self.base, taxonomy))
                    }
                })
            })
            .await?;
        Ok(in_force.classifier.clone())
    }
}

/// Why the classifier could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("model refused: {0}")]
    Model(#[from] ModelError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What classifying one mention did.
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

/// What classifying one stored mention calls for.
enum Step {
    /// Nothing to store: the outcome, and the mention whose case may still have to be opened
    /// (a redelivered event: the last attempt may have stopped right after storing the labels).
    Done(ClassifyOutcome, Option<Mention>),
    /// A new version of the mention to store with its counter changes and events.
    Store(Change),
}

struct Change {
    expected_revision: u32,
    next: Mention,
    counts: Vec<CountDelta>,
    events: Vec<Event>,
    outcome: ClassifyOutcome,
}

impl ClassifyService {
    fn desk(&self) -> CaseDesk<'_> {
        CaseDesk { cases: self.cases.as_ref(), settings: self.settings.as_ref(), pending: self.pending.as_ref() }
    }

    /// Classifies a mention, retrying while another writer keeps changing it.
    pub async fn classify(&self, key: &MentionKey) -> Result<ClassifyOutcome, StoreError> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match self.classify_once(key).await {
                Err(conflict @ StoreError::Conflict { .. }) => last = Some(conflict),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| StoreError::conflict("Classify", "mentions", &key.to_string(), "kept changing")))
    }

    /// Classifies a batch of mentions (what one queue delivery holds): the changed ones are
    /// stored together, a transaction holding as many as fit, with the counters they share
    /// added up, so a batch writes each day's `total`, `platform#…`, `category#…` once instead
    /// of once per mention. A transaction that fails (a mention changed meanwhile, a throttle)
    /// leaves nothing written, and its mentions are classified one by one instead. One result
    /// per key, in order.
    pub async fn classify_batch(&self, keys: &[MentionKey]) -> Vec<Result<ClassifyOutcome, StoreError>> {
        let mut results: Vec<Option<Result<ClassifyOutcome, StoreError>>> = keys.iter().map(|_| None).collect();
        let mut changes: Vec<(usize, Change)> = Vec::new();
        let mut alone = Vec::new();
        let mut latencies = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            // The same mention twice in one batch (a redelivery): the second one after the first.
            if keys[..i].contains(key) {
                alone.push(i);
                continue;
            }
            results[i] = match self.prepare(key, false).await {
                Ok(Step::Done(outcome, open)) => Some(self.done(outcome, open).await),
                Ok(Step::Store(change)) => {
                    changes.push((i, change));
                    None
                }
                Err(e) => Some(Err(e)),
            };
        }
        for chunk in transactions(changes) {
            let replacements: Vec<Replacement<'_>> = chunk
                .iter()
                .map(|(_, c)| Replacement { mention: &c.next, expected_revision: c.expected_revision })
                .collect();
            let counts = merge_counts(chunk.iter().flat_map(|(_, c)| c.counts.iter().cloned()));
            let events: Vec<Event> = chunk.iter().flat_map(|(_, c)| c.events.iter().cloned()).collect();
            match self.mentions.replace_mentions(&replacements, &counts, &events).await {
                Ok(()) => {
                    self.announce.announce(&events).await;
                    let now = self.clock.now();
                    for (i, change) in chunk {
                        latencies.push((now - change.next.received_at).num_milliseconds().max(0) as f64);
                        results[i] = Some(self.stored(change).await);
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, mentions = chunk.len(), "batch not stored; classifying its mentions one by one");
                    alone.extend(chunk.into_iter().map(|(i, _)| i));
                }
            }
        }
        // From receipt to stored labels (the queue's batching window included), one line a batch.
        crate::telemetry::emit_milliseconds("ClassificationLatencyMs", &latencies, &[], self.clock.now());
        alone.sort_unstable();
        for i in alone {
            if let Some(key) = keys.get(i) {
                results[i] = Some(self.classify(key).await);
            }
        }
        results
            .into_iter()
            .zip(keys)
            .map(|(result, key)| {
                result.unwrap_or_else(|| Err(StoreError::Invalid(format!("mention {key} was left unclassified"))))
            })
            .collect()
    }

    /// Classifies a mention if it needs it and stores the result with its counters and events.
    pub async fn classify_once(&self, key: &MentionKey) -> Result<ClassifyOutcome, StoreError> {
        self.classify_mention(key, false).await
    }

    /// Classifies a mention again even when this model already did (after a taxonomy change,
    /// its topics): stored only if a label changed, so running it twice changes nothing more.
    pub async fn reclassify_once(&self, key: &MentionKey) -> Result<ClassifyOutcome, StoreError> {
        self.classify_mention(key, true).await
    }

    async fn classify_mention(&self, key: &MentionKey, again: bool) -> Result<ClassifyOutcome, StoreError> {
        match self.prepare(key, again).await? {
            Step::Done(outcome, open) => self.done(outcome, open).await,
            Step::Store(change) => {
                self.mentions
                    .replace_mention(&change.next, change.expected_revision, &change.counts, &change.events)
                    .await?;
                self.announce.announce(&change.events).await;
                self.stored(change).await
            }
        }
    }

    /// Ends a classification with nothing to store (opening the case that may still be due).
    async fn done(&self, outcome: ClassifyOutcome, open: Option<Mention>) -> Result<ClassifyOutcome, StoreError> {
        if let Some(mention) = open {
            self.desk().open_for(&mention, self.clock.now()).await?;
        }
        Ok(outcome)
    }

    /// Ends a classification whose result is stored: the case it calls for.
    async fn stored(&self, change: Change) -> Result<ClassifyOutcome, StoreError> {
        if let ClassifyOutcome::Classified { key, category, .. } = &change.outcome {
            let priority = change.next.triage.as_ref().map(|t| t.priority.to_string()).unwrap_or_default();
            tracing::info!(mention = %key, category = %category, priority = %priority, "classified");
        }
        self.desk().open_for(&change.next, self.clock.now()).await?;
        Ok(change.outcome)
    }

    /// Reads a mention and works out what classifying it changes.
    async fn prepare(&self, key: &MentionKey, again: bool) -> Result<Step, StoreError> {
        let skipped = || Step::Done(ClassifyOutcome::Skipped { key: key.to_string() }, None);
        let Some(current) = self.mentions.get_mention(key).await? else {
            return Ok(skipped());
        };
        let version = self.classifier.version();
        if current.deleted_at.is_some() {
            return Ok(skipped());
        }
        let already =
            |current: Mention| Step::Done(ClassifyOutcome::AlreadyClassified { key: key.to_string() }, Some(current));
        if !again && !current.needs_classifying(&version) {
            return Ok(already(current));
        }
        let now = self.clock.now();
        let output = self.classifier.current().await?.classify(&current.text);
        if again
            && !current.needs_classifying(&version)
            && current.classification.as_ref().is_some_and(|c| same_labels(c, &output))
        {
            return Ok(already(current));
        }
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
        // A known account's tier is the office's own judgement; follower counts decide the rest.
        let influence = match self.accounts.find(current.platform, &current.author).await? {
            Some(known) => known.influence,
            None => self.triage.thresholds.tier(current.author.followers),
        };
        next.triage = Some(triage_classified(output.category, output.confidence, influence, &self.triage));
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
            self.source,
            EventKind::MentionClassified {
                key: key.clone(),
                category: labels.category,
                sentiment: labels.sentiment,
                priority: triaged.priority,
            },
            now,
        )];
        events.extend(hater_alert(&current, &next, self.source, now));
        let outcome = ClassifyOutcome::Classified {
            key: key.to_string(),
            category: labels.category,
            changed_from: current.classification.map(|c| c.category),
        };
        Ok(Step::Store(Change { expected_revision: current.revision, next, counts, events, outcome }))
    }
}

/// Groups changes into transactions: in order, as many as fit one transaction with the
/// counters they share counted once.
fn transactions(changes: Vec<(usize, Change)>) -> Vec<Vec<(usize, Change)>> {
    let mut all: Vec<Vec<(usize, Change)>> = Vec::new();
    let mut current: Vec<(usize, Change)> = Vec::new();
    let mut counters: BTreeSet<(NaiveDate, String)> = BTreeSet::new();
    let mut items = 0;
    for (i, change) in changes {
        // What the change adds to a transaction: the mention, its events, the counters not
        // already in it.
        let adds = |counters: &BTreeSet<(NaiveDate, String)>| {
            1 + change.events.len()
                + change.counts.iter().filter(|c| !counters.contains(&(c.day, c.key.clone()))).count()
        };
        if !current.is_empty() && items + adds(&counters) > MAX_TRANSACTION_ITEMS {
            all.push(std::mem::take(&mut current));
            counters.clear();
            items = 0;
        }
        items += adds(&counters);
        counters.extend(change.counts.iter().map(|c| (c.day, c.key.clone())));
        current.push((i, change));
    }
    if !current.is_empty() {
        all.push(current);
    }
    all
}

/// Whether a stored classification already says what `output` says.
fn same_labels(stored: &Classification, output: &crate::classify::Output) -> bool {
    stored.category == output.category
        && stored.sentiment == output.sentiment
        && stored.language == output.language
        && stored.topics == output.topics
}

/// The `AlertRaised` for a mention that has just become an influential hater's (by
/// classification or by an officer's correction), if it has.
pub fn hater_alert(before: &Mention, after: &Mention, source: &str, now: DateTime<Utc>) -> Option<Event> {
    (is_influential_hater(after) && !is_influential_hater(before))
        .then(|| super::alerts::raised(source, AlertKind::InfluentialHater, hater_data(after), now))
}

fn is_influential_hater(m: &Mention) -> bool {
    matches!((&m.classification, &m.triage), (Some(c), Some(t)) if c.category == Category::Hater && is_influential(t.influence))
}

fn hater_data(m: &Mention) -> serde_json::Map<String, serde_json::Value> {
    let excerpt: String = m.text.chars().take(280).collect();
    let mut data = serde_json::Map::new();
    data.insert("key".into(), m.key.to_string().into());
    let who = m.author.handle.clone().or(m.author.name.clone()).or(m.author.id.clone()).unwrap_or_default();
    data.insert("author".into(), who.into());
    data.insert("followers".into(), m.author.followers.into());
    data.insert("text".into(), excerpt.into());
    data.insert("url".into(), m.url.clone().into());
    data
}
