//! Pantau's message classifier: category, sentiment, language and topics of a citizen's
//! message, with probabilities and reasons in Bahasa Indonesia.
//!
//! Pipeline: [`normalize`] → [`rules::Cues`] → hashed features ([`features`]) → two
//! logistic-regression heads ([`model`]) → rule adjustments ([`rules`]) → [`explain`].
//! Language ([`language`]) and topics ([`taxonomy`]) come from the same normalised tokens.
//! The model is ours, trained by [`train`] from the repository's data, and runs in-process.

pub mod data;
pub mod eval;
pub mod explain;
pub mod features;
pub mod language;
pub mod lexicon;
pub mod model;
pub mod normalize;
pub mod rules;
pub mod taxonomy;
pub mod triage;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::domain::labels::{Category, Language, Sentiment};

pub use eval::{Evaluation, HateReport, LabelMetrics, Reliability, ReliabilityBin, evaluate, hate_report, reliability};
pub use model::{Header, ModelError, Progress, TrainOptions};
pub use rules::RuleParams;
pub use taxonomy::{Taxonomy, TaxonomyError, Topic, TopicKind};

use lexicon::{Lexicon, lexicon};
use model::{Model, NCAT, NSENT, STRIDE, Target, WordCache, softmax};
use normalize::{Normalized, Normalizer};
use rules::{Cues, FiredRules};
use taxonomy::TopicMatcher;

/// A labelled example of the office's own data (category, and sentiment when labelled).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryExample {
    pub text: String,
    pub category: Category,
    pub sentiment: Option<Sentiment>,
}

/// A sentiment-only example (e.g. SmSA reviews).
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentExample {
    pub text: String,
    pub sentiment: Sentiment,
}

/// Probabilities per label, keyed by the exact label strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScores {
    pub category: BTreeMap<String, f32>,
    pub sentiment: BTreeMap<String, f32>,
}

/// Probabilities per label in label order, serialised as [`LabelScores`] (keys in string order)
/// without a map or a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoresRef {
    pub category: [f32; NCAT],
    pub sentiment: [f32; NSENT],
}

/// One head's probabilities as a JSON object keyed by label, in the order of the label strings
/// (that of a `BTreeMap<String, f32>`).
struct LabelMap<'a, T: Copy, const N: usize>(&'a [T], &'a [f32; N], fn(T) -> &'static str);

impl<T: Copy, const N: usize> Serialize for LabelMap<'_, T, N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let LabelMap(labels, probs, name) = *self;
        let mut order: [usize; N] = std::array::from_fn(|i| i);
        order.sort_unstable_by_key(|&i| labels.get(i).map(|&l| name(l)));
        let mut map = s.serialize_map(Some(N.min(labels.len())))?;
        for i in order {
            if let Some(&label) = labels.get(i) {
                map.serialize_entry(name(label), &probs[i])?;
            }
        }
        map.end()
    }
}

impl Serialize for ScoresRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("LabelScores", 2)?;
        st.serialize_field("category", &LabelMap(Category::ALL, &self.category, Category::as_str))?;
        st.serialize_field("sentiment", &LabelMap(Sentiment::ALL, &self.sentiment, Sentiment::as_str))?;
        st.end()
    }
}

impl From<ScoresRef> for LabelScores {
    fn from(s: ScoresRef) -> LabelScores {
        LabelScores {
            category: Category::ALL.iter().zip(s.category).map(|(c, p)| (c.as_str().to_string(), p)).collect(),
            sentiment: Sentiment::ALL.iter().zip(s.sentiment).map(|(c, p)| (c.as_str().to_string(), p)).collect(),
        }
    }
}

/// The default model, trained from the repository's files by `pantau train` (reproducible bit
/// for bit; a test checks the committed file against a fresh training). A `static`, so the
/// 9 MB are in a binary once: a `const` is copied where it is used (three times in `classify`).
pub static DEFAULT_MODEL: &[u8] = include_bytes!("../../models/default.bin");

/// The classification of one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    pub category: Category,
    pub sentiment: Sentiment,
    pub language: Language,
    /// Topic ids of the taxonomy, in taxonomy order.
    pub topics: Vec<String>,
    /// Probability of the chosen category.
    pub confidence: f32,
    pub scores: LabelScores,
    /// Why, in Bahasa Indonesia, most important first.
    pub reasons: Vec<String>,
}

/// The classification of one message with its topic ids borrowed from the classifier and its
/// scores in arrays: serialises exactly as [`Output`], without building it (`pantau classify`
/// writes millions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputRef<'a> {
    pub category: Category,
    pub sentiment: Sentiment,
    pub language: Language,
    pub topics: Vec<&'a str>,
    pub confidence: f32,
    pub scores: ScoresRef,
    pub reasons: Vec<String>,
}

impl From<OutputRef<'_>> for Output {
    fn from(o: OutputRef<'_>) -> Output {
        Output {
            category: o.category,
            sentiment: o.sentiment,
            language: o.language,
            topics: o.topics.into_iter().map(String::from).collect(),
            confidence: o.confidence,
            scores: o.scores.into(),
            reasons: o.reasons,
        }
    }
}

/// A loaded classifier. Cheap to share (`&Classifier` is `Sync`); build once per process.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Shared, so a classifier with another taxonomy costs no copy of the weights.
    model: Arc<Model>,
    topics: TopicMatcher,
    normalizer: Normalizer,
    lex: &'static Lexicon,
}

#[derive(Default)]
struct Scratch {
    norm: Normalized,
    acc: Vec<[f32; STRIDE]>,
    words: WordCache,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Decisions for one message, before the reasons are written.
struct Decision {
    cues: Cues,
    fired: FiredRules,
    /// Logits after rules and temperatures.
    cat_logits: [f32; NCAT],
    sent_logits: [f32; NSENT],
    cat_probs: [f32; NCAT],
    sent_probs: [f32; NSENT],
    category: usize,
    sentiment: usize,
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

impl Classifier {
    /// Loads a model file (see [`model`] for the format); never panics on bad bytes.
    pub fn load(bytes: &[u8]) -> Result<Classifier, ModelError> {
        Ok(Self::from_model(Model::from_bytes(bytes)?))
    }

    fn from_model(model: Model) -> Classifier {
        Classifier {
            model: Arc::new(model),
            topics: TopicMatcher::new(&Taxonomy::builtin()),
            normalizer: Normalizer::default(),
            lex: lexicon(),
        }
    }

    /// Uses the office's own taxonomy instead of the shipped default.
    pub fn with_taxonomy(mut self, taxonomy: &Taxonomy) -> Classifier {
        self.topics = TopicMatcher::new(taxonomy);
        self
    }

    /// The model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.model.to_bytes()
    }

    /// Identifies the model (format, hash size and checksum of the weights).
    pub fn version(&self) -> String {
        self.model.version()
    }

    /// The model's header: training options, temperatures, rule strengths.
    pub fn header(&self) -> &Header {
        self.model.header()
    }

    fn decide(&self, n: &Normalized, acc: &mut Vec<[f32; STRIDE]>, words: &mut WordCache) -> Decision {
        let h = &self.model.header;
        self.decide_with(n, acc, words, (h.temperature_category, h.temperature_sentiment))
    }

    /// Rules act on the raw logits; the temperatures, fitted on held-out text after the rules,
    /// then scale what the rules left (so the final probabilities are the calibrated ones).
    fn decide_with(
        &self,
        n: &Normalized,
        acc: &mut Vec<[f32; STRIDE]>,
        words: &mut WordCache,
        temps: (f32, f32),
    ) -> Decision {
        let cues = Cues::scan(n, self.lex);
        let scores = self.model.score(n, &cues, acc, words);
        let params = &self.model.header.rules;
        let mut fired = FiredRules::default();
        let mut cat_logits = [0.0f32; NCAT];
        cat_logits.copy_from_slice(&scores.logits[..NCAT]);
        rules::adjust_category(&mut cat_logits, &cues, params, &mut fired);
        let evidence = explain::best_shown_contribution(n, acc, self.lex, rules::cat::HATER);
        rules::require_hater_evidence(&mut cat_logits, &cues, evidence, params, &mut fired);
        cat_logits.iter_mut().for_each(|l| *l /= temps.0);
        let mut cat_probs = [0.0f32; NCAT];
        softmax(&cat_logits, &mut cat_probs);
        let category = rules::choose_category(&cat_probs, params, &mut fired);

        let mut sent_logits = [0.0f32; NSENT];
        sent_logits.copy_from_slice(&scores.logits[NCAT..]);
        let before = argmax(&sent_logits);
        let mut sent_fired = FiredRules::default();
        rules::adjust_sentiment(&mut sent_logits, category, cat_probs[category], &cues, params, &mut sent_fired);
        sent_logits.iter_mut().for_each(|l| *l /= temps.1);
        let mut sent_probs = [0.0f32; NSENT];
        softmax(&sent_logits, &mut sent_probs);
        let sentiment = argmax(&sent_probs);
        if sentiment != before {
            for f in sent_fired.iter() {
                fired.push(f);
            }
        }
        Decision { cues, fired, cat_logits, sent_logits, cat_probs, sent_probs, category, sentiment }
    }

    /// Classifies one message. Any input is accepted: empty, emoji only, huge, odd Unicode.
    pub fn classify(&self, text: &str) -> Output {
        self.classify_ref(text).into()
    }

    /// [`Classifier::classify`] without the copies of the label and topic strings.
    pub fn classify_ref(&self, text: &str) -> OutputRef<'_> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => self.classify_with(text, &mut s),
            Err(_) => self.classify_with(text, &mut Scratch::default()),
        })
    }

    fn classify_with(&self, text: &str, s: &mut Scratch) -> OutputRef<'_> {
        let Scratch { norm, acc, words } = s;
        self.normalizer.normalize_into(text, norm);
        let d = self.decide(norm, acc, words);
        let language = language::decide(&language::scores_with(norm, self.lex));
        let topics = self.topics.topics(norm);
        let reasons = explain::reasons(&explain::Explain {
            n: norm,
            acc,
            cues: &d.cues,
            fired: &d.fired,
            category: d.category,
            sentiment: d.sentiment,
            confidence: d.cat_probs[d.category],
            lex: self.lex,
            hater_evidence: self.model.header.rules.hater_evidence,
        });
        OutputRef {
            category: Category::ALL[d.category],
            sentiment: Sentiment::ALL[d.sentiment],
            language,
            topics,
            confidence: d.cat_probs[d.category],
            scores: ScoresRef { category: d.cat_probs, sentiment: d.sent_probs },
            reasons,
        }
    }

    /// Category and sentiment only (no reasons, topics or language): for evaluation and tuning.
    pub fn predict(&self, text: &str) -> (Category, Sentiment) {
        SCRATCH.with(|cell| {
            let mut fresh = Scratch::default();
            let mut guard = cell.try_borrow_mut();
            let s = match guard.as_deref_mut() {
                Ok(s) => s,
                Err(_) => &mut fresh,
            };
            self.normalizer.normalize_into(text, &mut s.norm);
            let d = self.decide(&s.norm, &mut s.acc, &mut s.words);
            (Category::ALL[d.category], Sentiment::ALL[d.sentiment])
        })
    }

    /// Category, its probability and sentiment (no reasons, topics or language).
    pub fn predict_scored(&self, text: &str) -> (Category, f32, Sentiment) {
        SCRATCH.with(|cell| {
            let mut fresh = Scratch::default();
            let mut guard = cell.try_borrow_mut();
            let s = match guard.as_deref_mut() {
                Ok(s) => s,
                Err(_) => &mut fresh,
            };
            self.normalizer.normalize_into(text, &mut s.norm);
            let d = self.decide(&s.norm, &mut s.acc, &mut s.words);
            (Category::ALL[d.category], d.cat_probs[d.category], Sentiment::ALL[d.sentiment])
        })
    }

    /// How well the category confidence matches accuracy on labelled examples (10 bins).
    pub fn category_reliability(&self, examples: &[CategoryExample]) -> Reliability {
        let points: Vec<(f32, bool)> = examples
            .iter()
            .map(|e| {
                let (c, p, _) = self.predict_scored(&e.text);
                (p, c == e.category)
            })
            .collect();
        reliability(&points, 10)
    }

    /// `hater` against ibrohim2019's hate-speech labels.
    pub fn evaluate_hate(&self, examples: &[data::HateExample]) -> HateReport {
        let gold: Vec<_> = examples.iter().map(|e| (e.targeted, e.hs, e.abusive)).collect();
        let pred: Vec<bool> = examples.iter().map(|e| self.predict(&e.text).0 == Category::Hater).collect();
        hate_report(&gold, &pred)
    }

    /// Category metrics on labelled examples.
    pub fn evaluate_category(&self, examples: &[CategoryExample]) -> Evaluation {
        let gold: Vec<Category> = examples.iter().map(|e| e.category).collect();
        let pred: Vec<Category> = examples.iter().map(|e| self.predict(&e.text).0).collect();
        evaluate(Category::ALL, &gold, &pred)
    }

    /// Sentiment metrics on labelled examples.
    pub fn evaluate_sentiment(&self, examples: &[SentimentExample]) -> Evaluation {
        let gold: Vec<Sentiment> = examples.iter().map(|e| e.sentiment).collect();
        let pred: Vec<Sentiment> = examples.iter().map(|e| self.predict(&e.text).1).collect();
        evaluate(Sentiment::ALL, &gold, &pred)
    }

    /// The same model with other rule strengths (for tuning on a validation split).
    pub fn with_rules(mut self, rules: RuleParams) -> Classifier {
        let model = Arc::make_mut(&mut self.model);
        model.header.rules = rules;
        model.header.options.rules = rules;
        self
    }
}

fn index_of<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).unwrap_or(0) as u8
}

/// A training example whose category is known only to be one of a set (e.g. "not `hater`" for
/// a tweet without hate speech), with an optional sentiment and a weight.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialExample {
    pub text: String,
    /// The categories the message may have; empty when it says nothing about its category.
    pub categories: Vec<Category>,
    pub sentiment: Option<Sentiment>,
    /// Weight of each of its signals against one office example.
    pub weight: f32,
}

/// Everything a model learns from.
#[derive(Debug, Clone, Default)]
pub struct TrainingSet {
    /// The office's own data: category, and sentiment when labelled.
    pub categories: Vec<CategoryExample>,
    /// Sentiment-only examples (reviews, NusaX).
    pub sentiments: Vec<SentimentExample>,
    /// Real messages with partial labels (ibrohim2019, EmoT).
    pub partial: Vec<PartialExample>,
}

impl TrainingSet {
    /// Adds another set's examples after this one's.
    pub fn extend(&mut self, other: TrainingSet) {
        self.categories.extend(other.categories);
        self.sentiments.extend(other.sentiments);
        self.partial.extend(other.partial);
    }
}

fn is_holdout(text: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % 10 == 3
}

/// Trains a classifier: the category head on `category` examples, the sentiment head on
/// `sentiment` examples and on the sentiment labels of `category` examples (weighted by
/// `options.office_sentiment_weight`). Deterministic for the same inputs and options.
pub fn train(
    category: &[CategoryExample],
    sentiment: &[SentimentExample],
    options: &TrainOptions,
    progress: &mut dyn FnMut(Progress),
) -> Classifier {
    let set = TrainingSet { categories: category.to_vec(), sentiments: sentiment.to_vec(), partial: Vec::new() };
    train_set(&set, options, progress)
}

/// Trains a classifier on a [`TrainingSet`]: [`train`] plus partially labelled examples (the
/// category head learns that the category is one of the allowed ones). With
/// `options.calibrate`, a model trained without a held-out tenth of the messages (by a hash of
/// the text) gives that tenth's logits after the rules, a temperature per head is fitted to
/// them, and the final model is trained on everything. Deterministic for the same inputs.
pub fn train_set(set: &TrainingSet, options: &TrainOptions, progress: &mut dyn FnMut(Progress)) -> Classifier {
    let normalizer = Normalizer::default();
    let lex = lexicon();
    let mut n = Normalized::default();
    let mut featurize = |text: &str| {
        normalizer.normalize_into(text, &mut n);
        let cues = Cues::scan(&n, lex);
        model::featurize(&n, &cues, options.bits)
    };
    let cat_feats: Vec<_> = set.categories.iter().map(|e| featurize(&e.text)).collect();
    let sent_feats: Vec<_> = set.sentiments.iter().map(|e| featurize(&e.text)).collect();
    let part_feats: Vec<_> = set.partial.iter().map(|e| featurize(&e.text)).collect();
    progress(Progress { stage: "features", epoch: 0, epochs: options.epochs, loss: 0.0 });

    // (features, target, weight, text) for every training signal.
    let mut items: Vec<(&model::Featurized, Target, f32, &str)> = Vec::new();
    for (e, f) in set.categories.iter().zip(&cat_feats) {
        items.push((f, Target::Category(index_of(Category::ALL, &e.category)), 1.0, &e.text));
        if let Some(s) = e.sentiment {
            items.push((f, Target::Sentiment(index_of(Sentiment::ALL, &s)), options.office_sentiment_weight, &e.text));
        }
    }
    for (e, f) in set.sentiments.iter().zip(&sent_feats) {
        items.push((f, Target::Sentiment(index_of(Sentiment::ALL, &e.sentiment)), 1.0, &e.text));
    }
    for (e, f) in set.partial.iter().zip(&part_feats) {
        let mask = e.categories.iter().fold(0u8, |m, c| m | 1 << index_of(Category::ALL, c));
        if mask != 0 && e.weight > 0.0 {
            let target = if mask.count_ones() == 1 {
                Target::Category(mask.trailing_zeros() as u8)
            } else {
                Target::CategoryAmong(mask)
            };
            items.push((f, target, e.weight, &e.text));
        }
        if let (Some(s), true) = (e.sentiment, e.weight > 0.0) {
            items.push((f, Target::Sentiment(index_of(Sentiment::ALL, &s)), e.weight, &e.text));
        }
    }

    let mut temps = (1.0, 1.0);
    if options.calibrate {
        let train_part: Vec<_> = items.iter().filter(|x| !is_holdout(x.3)).map(|x| (x.0, x.1, x.2)).collect();
        let (w, b) = model::fit(&train_part, options, "calibration", progress);
        let probe = Classifier::from_model(model::assemble(w, b, options, (1.0, 1.0), (0, 0)));
        let held: Vec<_> = items.iter().filter(|x| is_holdout(x.3)).collect();
        let mut s = Scratch::default();
        // Category first; the sentiment rules read the category the calibrated head chooses.
        let mut cat_logits = Vec::new();
        for x in &held {
            if let Target::Category(_) | Target::CategoryAmong(_) = x.1 {
                normalizer.normalize_into(x.3, &mut s.norm);
                let d = probe.decide_with(&s.norm, &mut s.acc, &mut s.words, (1.0, 1.0));
                cat_logits.push((d.cat_logits.to_vec(), x.1.mask()));
            }
        }
        let t_cat = model::fit_temperature(&cat_logits);
        let mut sent_logits = Vec::new();
        for x in &held {
            if let Target::Sentiment(_) = x.1 {
                normalizer.normalize_into(x.3, &mut s.norm);
                let d = probe.decide_with(&s.norm, &mut s.acc, &mut s.words, (t_cat, 1.0));
                sent_logits.push((d.sent_logits.to_vec(), x.1.mask()));
            }
        }
        temps = (t_cat, model::fit_temperature(&sent_logits));
    }
    let all: Vec<_> = items.iter().map(|x| (x.0, x.1, x.2)).collect();
    let (w, b) = model::fit(&all, options, "final", progress);
    let counts = (
        items.iter().filter(|x| !matches!(x.1, Target::Sentiment(_))).count() as u32,
        items.iter().filter(|x| matches!(x.1, Target::Sentiment(_))).count() as u32,
    );
    Classifier::from_model(model::assemble(w, b, options, temps, counts))
}

#[cfg(test)]
mod tests;
