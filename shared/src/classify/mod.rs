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

use serde::Serialize;

use crate::domain::labels::{Category, Language, Sentiment};

pub use eval::{Evaluation, LabelMetrics, evaluate};
pub use model::{Header, ModelError, Progress, TrainOptions};
pub use rules::RuleParams;
pub use taxonomy::{Taxonomy, TaxonomyError, Topic, TopicKind};

use lexicon::{Lexicon, lexicon};
use model::{Model, NCAT, NSENT, STRIDE, Target, softmax};
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

/// The default model, trained from the repository's files by `pantau train` (reproducible bit
/// for bit; a test checks the committed file against a fresh training).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/default.bin");

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

/// A loaded classifier. Cheap to share (`&Classifier` is `Sync`); build once per process.
#[derive(Debug, Clone)]
pub struct Classifier {
    model: Model,
    topics: TopicMatcher,
    normalizer: Normalizer,
    lex: &'static Lexicon,
}

#[derive(Default)]
struct Scratch {
    norm: Normalized,
    acc: Vec<[f32; STRIDE]>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Decisions for one message, before the reasons are written.
struct Decision {
    cues: Cues,
    fired: FiredRules,
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
            model,
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

    fn decide(&self, n: &Normalized, acc: &mut Vec<[f32; STRIDE]>) -> Decision {
        let cues = Cues::scan(n, self.lex);
        let scores = self.model.score(n, &cues, acc);
        let params = &self.model.header.rules;
        let mut fired = FiredRules::default();
        let mut cat_logits = [0.0f32; NCAT];
        cat_logits.copy_from_slice(&scores.logits[..NCAT]);
        rules::adjust_category(&mut cat_logits, &cues, params, &mut fired);
        let mut cat_probs = [0.0f32; NCAT];
        softmax(&cat_logits, &mut cat_probs);
        let category = rules::choose_category(&cat_probs, params, &mut fired);

        let mut sent_logits = [0.0f32; NSENT];
        sent_logits.copy_from_slice(&scores.logits[NCAT..]);
        let before = argmax(&sent_logits);
        let mut sent_fired = FiredRules::default();
        rules::adjust_sentiment(&mut sent_logits, category, cat_probs[category], &cues, params, &mut sent_fired);
        let mut sent_probs = [0.0f32; NSENT];
        softmax(&sent_logits, &mut sent_probs);
        let sentiment = argmax(&sent_probs);
        if sentiment != before {
            for f in sent_fired.iter() {
                fired.push(f);
            }
        }
        Decision { cues, fired, cat_probs, sent_probs, category, sentiment }
    }

    /// Classifies one message. Any input is accepted: empty, emoji only, huge, odd Unicode.
    pub fn classify(&self, text: &str) -> Output {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => self.classify_with(text, &mut s),
            Err(_) => self.classify_with(text, &mut Scratch::default()),
        })
    }

    fn classify_with(&self, text: &str, s: &mut Scratch) -> Output {
        let Scratch { norm, acc } = s;
        self.normalizer.normalize_into(text, norm);
        let d = self.decide(norm, acc);
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
        });
        Output {
            category: Category::ALL[d.category],
            sentiment: Sentiment::ALL[d.sentiment],
            language,
            topics,
            confidence: d.cat_probs[d.category],
            scores: LabelScores {
                category: Category::ALL.iter().zip(d.cat_probs).map(|(c, p)| (c.as_str().to_string(), p)).collect(),
                sentiment: Sentiment::ALL.iter().zip(d.sent_probs).map(|(c, p)| (c.as_str().to_string(), p)).collect(),
            },
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
            let d = self.decide(&s.norm, &mut s.acc);
            (Category::ALL[d.category], Sentiment::ALL[d.sentiment])
        })
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
        self.model.header.rules = rules;
        self.model.header.options.rules = rules;
        self
    }
}

fn index_of<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).unwrap_or(0) as u8
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
    let normalizer = Normalizer::default();
    let lex = lexicon();
    let mut n = Normalized::default();
    let mut featurize = |text: &str| {
        normalizer.normalize_into(text, &mut n);
        let cues = Cues::scan(&n, lex);
        model::featurize(&n, &cues, options.bits)
    };
    let cat_feats: Vec<_> = category.iter().map(|e| featurize(&e.text)).collect();
    let sent_feats: Vec<_> = sentiment.iter().map(|e| featurize(&e.text)).collect();
    progress(Progress { stage: "features", epoch: 0, epochs: options.epochs, loss: 0.0 });

    // (features, target, weight, text) for every training signal.
    let mut items: Vec<(&model::Featurized, Target, f32, &str)> = Vec::new();
    for (e, f) in category.iter().zip(&cat_feats) {
        items.push((f, Target::Category(index_of(Category::ALL, &e.category)), 1.0, &e.text));
        if let Some(s) = e.sentiment {
            items.push((f, Target::Sentiment(index_of(Sentiment::ALL, &s)), options.office_sentiment_weight, &e.text));
        }
    }
    for (e, f) in sentiment.iter().zip(&sent_feats) {
        items.push((f, Target::Sentiment(index_of(Sentiment::ALL, &e.sentiment)), 1.0, &e.text));
    }

    let mut temps = (1.0, 1.0);
    if options.calibrate {
        let train_part: Vec<_> = items.iter().filter(|x| !is_holdout(x.3)).map(|x| (x.0, x.1, x.2)).collect();
        let (w, b) = model::fit(&train_part, options, "calibration", progress);
        let probe = model::assemble(w, b, options, (1.0, 1.0), (0, 0));
        let (mut cat_logits, mut sent_logits) = (Vec::new(), Vec::new());
        for x in items.iter().filter(|x| is_holdout(x.3)) {
            let z = probe.logits_of(x.0);
            match x.1 {
                Target::Category(c) => cat_logits.push((z[..NCAT].to_vec(), c as usize)),
                Target::Sentiment(s) => sent_logits.push((z[NCAT..].to_vec(), s as usize)),
            }
        }
        temps = (model::fit_temperature(&cat_logits), model::fit_temperature(&sent_logits));
    }
    let all: Vec<_> = items.iter().map(|x| (x.0, x.1, x.2)).collect();
    let (w, b) = model::fit(&all, options, "final", progress);
    let counts =
        (category.len() as u32, (sentiment.len() + category.iter().filter(|e| e.sentiment.is_some()).count()) as u32);
    Classifier::from_model(model::assemble(w, b, options, temps, counts))
}

#[cfg(test)]
mod tests;
