//! The linear model: two multinomial logistic-regression heads (category, 6 classes; sentiment,
//! 3 classes) over one hashed feature space, trained by our own AdaGrad SGD with L2, with a
//! temperature per head for calibrated probabilities, and a checked binary file format.
//!
//! Weights are trained in f32, then quantised: a bucket's 9 weights are signed bytes times one
//! f32 scale (its largest magnitude / 127), rounded deterministically, so the model is still
//! reproduced bit for bit. In memory a bucket is one 16-byte [`Row`] (4 per cache line, 4 MB
//! for 2^18 buckets instead of 9.4 MB of f32), so one feature costs one cache line.
//!
//! File format (little endian):
//! ```text
//! magic "PANTAUCM" | format u32 = 2 | header_len u32 | header (JSON, see `Header`)
//! | scale f32 × rows | weights i8 × rows × 9 | bias f32 × 9 | checksum u64 over all previous bytes
//! ```
//! where rows = 2^bits + DENSE.

use serde::{Deserialize, Serialize};

use super::features::{DENSE, Sink, extract};
use super::lexicon::{NO_WORD, WordId};
use super::normalize::Normalized;
use super::rules::{Cues, RuleParams};
use crate::domain::labels::{Category, Sentiment};

/// Categories (head 1).
pub const NCAT: usize = 6;
/// Sentiments (head 2).
pub const NSENT: usize = 3;
/// Weights per bucket: category then sentiment.
pub const STRIDE: usize = NCAT + NSENT;
/// File magic.
pub const MAGIC: &[u8; 8] = b"PANTAUCM";
/// File format version this code reads and writes.
pub const FORMAT_VERSION: u32 = 2;
/// Version of the feature extraction; a model trained with other features is refused.
pub const FEATURE_VERSION: u32 = 2;
const MIN_BITS: u32 = 10;
const MAX_BITS: u32 = 22;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file too short ({0} bytes): not a Pantau model or truncated")]
    TooShort(usize),
    #[error("not a Pantau classifier model (bad magic bytes)")]
    BadMagic,
    #[error("model file format {found} is not supported (this build reads format {supported})")]
    UnsupportedFormat { found: u32, supported: u32 },
    #[error("model header is unreadable: {0}")]
    BadHeader(#[source] serde_json::Error),
    #[error("model is incompatible with this build: {0}")]
    Incompatible(String),
    #[error("model file is truncated or has trailing bytes: expected {expected} bytes, found {found}")]
    WrongLength { expected: usize, found: usize },
    #[error("model file is corrupt (checksum mismatch)")]
    Checksum,
    #[error("model file is corrupt (the scale of bucket {0} is not a finite number ≥ 0)")]
    BadScale(usize),
}

/// Training settings. The defaults are those chosen on the validation split (see README of
/// the classifier).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainOptions {
    /// log2 of the number of hash buckets.
    pub bits: u32,
    pub epochs: u32,
    /// AdaGrad step size.
    pub learning_rate: f32,
    /// L2 penalty, applied to the weights an example touches.
    pub l2: f32,
    /// Seed of the example shuffling; the same seed and data give the same model, bit for bit.
    pub seed: u64,
    /// Weight of a sentiment example taken from the office's own category data (vs. reviews).
    pub office_sentiment_weight: f32,
    /// Fit a temperature per head on a held-out tenth, then retrain on everything.
    pub calibrate: bool,
    /// Rule strengths stored in the model.
    pub rules: RuleParams,
    /// Models trained with consecutive seeds whose weights are averaged (1: a single model).
    #[serde(default = "one_member")]
    pub ensemble: u32,
}

fn one_member() -> u32 {
    1
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            bits: 18,
            epochs: 12,
            learning_rate: 0.2,
            l2: 3e-5,
            seed: 20_240_817,
            office_sentiment_weight: 0.6,
            calibrate: true,
            rules: RuleParams::default(),
            ensemble: 3,
        }
    }
}

/// What the model file says about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub bits: u32,
    pub dense: u32,
    pub feature_version: u32,
    pub categories: Vec<String>,
    pub sentiments: Vec<String>,
    pub temperature_category: f32,
    pub temperature_sentiment: f32,
    pub rules: RuleParams,
    pub category_examples: u32,
    pub sentiment_examples: u32,
    pub options: TrainOptions,
}

/// One bucket's weights: `q[k] × scale`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C, align(16))]
pub(crate) struct Row {
    q: [i8; STRIDE],
    scale: f32,
}

impl Row {
    /// Quantises a bucket's weights: the largest magnitude becomes ±127.
    fn quantize(w: &[f32]) -> Row {
        let max = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let mut row = Row::default();
        if max > 0.0 {
            row.scale = max / 127.0;
            for (q, x) in row.q.iter_mut().zip(w) {
                *q = (x / row.scale).round().clamp(-127.0, 127.0) as i8;
            }
        }
        row
    }

    /// Adds `value` times the bucket's weights to `acc`.
    #[inline(always)]
    fn add_to(&self, acc: &mut [f32; STRIDE], value: f32) {
        let s = self.scale * value;
        for (a, &q) in acc.iter_mut().zip(&self.q) {
            *a += q as f32 * s;
        }
    }
}

/// The weights and their settings.
#[derive(Clone)]
pub struct Model {
    pub(crate) header: Header,
    rows: Vec<Row>,
    pub(crate) bias: [f32; STRIDE],
    pub(crate) checksum: u64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("header", &self.header).field("rows", &self.rows.len()).finish()
    }
}

/// Raw scores of one message: logits of both heads, before rules and temperatures.
pub(crate) struct Scores {
    pub logits: [f32; STRIDE],
}

struct InferSink<'a> {
    rows: &'a [Row],
    dense: [f32; STRIDE],
    dense_base: usize,
    words: &'a mut WordCache,
    /// The n-grams of the word being read add up here first (the same sum whether or not the
    /// word is cached, so a result never depends on what was classified before).
    recording: Option<[f32; STRIDE]>,
}

/// A contribution to a token, added after extraction in the order produced.
#[derive(Clone, Copy)]
enum Pending {
    /// `value` times the weights of row `bucket`.
    Row { bucket: u32, token: u32, value: f32 },
    /// What the token's character n-grams add.
    Grams { token: u32, sum: [f32; STRIDE] },
}

impl Sink for InferSink<'_> {
    #[inline(always)]
    fn hashed(&mut self, bucket: u32, token: u32, value: f32) {
        match self.recording.as_mut() {
            Some(r) => {
                if let Some(row) = self.rows.get(bucket as usize) {
                    row.add_to(r, value);
                }
            }
            None => self.words.pending.push(Pending::Row { bucket, token, value }),
        }
    }
    #[inline]
    fn dense(&mut self, index: usize, value: f32) {
        if let Some(row) = self.rows.get(self.dense_base + index) {
            row.add_to(&mut self.dense, value);
        }
    }
    #[inline]
    fn begin_grams(&mut self, text: &str, word: WordId, token: u32) -> bool {
        let known = match word {
            NO_WORD => self.words.map.get(text),
            id => self.words.by_id.get(id as usize).and_then(Option::as_ref),
        };
        match known {
            Some(&sum) => {
                self.words.pending.push(Pending::Grams { token, sum });
                true
            }
            None => {
                self.recording = Some([0.0; STRIDE]);
                false
            }
        }
    }
    #[inline]
    fn end_grams(&mut self, text: &str, word: WordId, token: u32) {
        let Some(sum) = self.recording.take() else { return };
        self.words.pending.push(Pending::Grams { token, sum });
        if word != NO_WORD {
            let by_id = &mut self.words.by_id;
            if by_id.len() <= word as usize {
                by_id.resize(word as usize + 1, None);
            }
            by_id[word as usize] = Some(sum);
            return;
        }
        if self.words.map.len() >= WordCache::CAPACITY {
            self.words.map.clear();
        }
        self.words.map.insert(Box::from(text), sum);
    }
}

/// What the character n-grams of a word add to the scores, per word, for one model: words
/// repeat, and their n-grams are most of a message's features. Kept per thread.
#[derive(Default)]
pub(crate) struct WordCache {
    model: u64,
    /// Words of the lexicon, by id (no hashing); the others by text.
    by_id: Vec<Option<[f32; STRIDE]>>,
    map: super::lexicon::FastMap<Box<str>, [f32; STRIDE]>,
    /// A message's word features, added once all are known: rows read one after another, with
    /// no hashing in between, are fetched from memory side by side (most are cache misses).
    pending: Vec<Pending>,
}

impl WordCache {
    /// Words kept before the cache starts again.
    const CAPACITY: usize = 1 << 16;
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn label_names<T: Copy + std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(|l| l.to_string()).collect()
}

impl Model {
    fn rows(bits: u32) -> usize {
        (1usize << bits) + DENSE
    }

    /// Scores a message; `acc` receives per-token contributions (already scaled).
    pub(crate) fn score(
        &self,
        n: &Normalized,
        cues: &Cues,
        acc: &mut Vec<[f32; STRIDE]>,
        words: &mut WordCache,
    ) -> Scores {
        acc.clear();
        acc.resize(n.len(), [0.0; STRIDE]);
        if words.model != self.checksum {
            words.map.clear();
            words.by_id.clear();
            words.model = self.checksum;
        }
        words.pending.clear();
        let mut sink = InferSink {
            rows: &self.rows,
            dense: [0.0; STRIDE],
            dense_base: 1 << self.header.bits,
            words,
            recording: None,
        };
        let norm2 = extract(n, cues, self.header.bits, &mut sink);
        let dense = sink.dense;
        for p in &words.pending {
            match *p {
                Pending::Row { bucket, token, value } => {
                    if let (Some(row), Some(a)) = (self.rows.get(bucket as usize), acc.get_mut(token as usize)) {
                        row.add_to(a, value);
                    }
                }
                Pending::Grams { token, sum } => {
                    if let Some(a) = acc.get_mut(token as usize) {
                        for k in 0..STRIDE {
                            a[k] += sum[k];
                        }
                    }
                }
            }
        }
        let scale = 1.0 / norm2.max(1.0).sqrt();
        let mut logits = self.bias;
        for k in 0..STRIDE {
            logits[k] += dense[k];
        }
        for a in acc.iter_mut() {
            for k in 0..STRIDE {
                a[k] *= scale;
                logits[k] += a[k];
            }
        }
        Scores { logits }
    }

    /// The model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out = Vec::with_capacity(16 + header.len() + self.rows.len() * (4 + STRIDE) + STRIDE * 4 + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for r in &self.rows {
            out.extend_from_slice(&r.scale.to_le_bytes());
        }
        for r in &self.rows {
            out.extend(r.q.iter().map(|&q| q as u8));
        }
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads and checks a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() < 16 + 8 {
            return Err(ModelError::TooShort(bytes.len()));
        }
        if &bytes[..8] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let format = u32_at(8);
        if format != FORMAT_VERSION {
            return Err(ModelError::UnsupportedFormat { found: format, supported: FORMAT_VERSION });
        }
        let header_len = u32_at(12) as usize;
        let header_end =
            16usize.checked_add(header_len).filter(|&e| e <= bytes.len()).ok_or(ModelError::TooShort(bytes.len()))?;
        let header: Header = serde_json::from_slice(&bytes[16..header_end]).map_err(ModelError::BadHeader)?;
        if header.feature_version != FEATURE_VERSION {
            return Err(ModelError::Incompatible(format!(
                "features version {} (this build: {FEATURE_VERSION})",
                header.feature_version
            )));
        }
        if !(MIN_BITS..=MAX_BITS).contains(&header.bits) {
            return Err(ModelError::Incompatible(format!("hash bits {} outside {MIN_BITS}..={MAX_BITS}", header.bits)));
        }
        if header.dense as usize != DENSE {
            return Err(ModelError::Incompatible(format!("{} dense features (this build: {DENSE})", header.dense)));
        }
        if header.categories != label_names(Category::ALL) || header.sentiments != label_names(Sentiment::ALL) {
            return Err(ModelError::Incompatible(format!("labels {:?} / {:?}", header.categories, header.sentiments)));
        }
        for t in [header.temperature_category, header.temperature_sentiment] {
            if !(t.is_finite() && t > 0.0) {
                return Err(ModelError::Incompatible(format!("temperature {t}")));
            }
        }
        let n_rows = Self::rows(header.bits);
        let expected = header_end + n_rows * (4 + STRIDE) + STRIDE * 4 + 8;
        if bytes.len() != expected {
            return Err(ModelError::WrongLength { expected, found: bytes.len() });
        }
        let body_end = expected - 8;
        let stored = u64::from_le_bytes(bytes[body_end..].try_into().map_err(|_| ModelError::TooShort(bytes.len()))?);
        let sum = checksum(&bytes[..body_end]);
        if stored != sum {
            return Err(ModelError::Checksum);
        }
        let f32_at = |c: &[u8]| f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let (scales, rest) = bytes[header_end..body_end].split_at(n_rows * 4);
        let (qs, bias_bytes) = rest.split_at(n_rows * STRIDE);
        // A quarter of a million rows: decoded from fixed-size chunks (no per-byte bounds checks),
        // the scales checked once all are read.
        let rows: Vec<Row> = scales
            .as_chunks::<4>()
            .0
            .iter()
            .zip(qs.as_chunks::<STRIDE>().0)
            .map(|(s, q)| Row { scale: f32::from_le_bytes(*s), q: q.map(|b| b as i8) })
            .collect();
        if let Some(i) = rows.iter().position(|r| !(r.scale.is_finite() && r.scale >= 0.0)) {
            return Err(ModelError::BadScale(i));
        }
        let mut bias = [0.0f32; STRIDE];
        for (b, c) in bias.iter_mut().zip(bias_bytes.chunks_exact(4)) {
            *b = f32_at(c);
            if !b.is_finite() {
                return Err(ModelError::Incompatible(format!("bias {b}")));
            }
        }
        Ok(Model { header, rows, bias, checksum: sum })
    }

    /// A short identifier of the weights: file format, feature version, bits and checksum.
    pub fn version(&self) -> String {
        format!(
            "pantau-clf-f{FORMAT_VERSION}-x{}-b{}-{:016x}",
            self.header.feature_version, self.header.bits, self.checksum
        )
    }

    /// The file header.
    pub fn header(&self) -> &Header {
        &self.header
    }
}

// ---------------------------------------------------------------------------------------------
// Training

/// Which head an example trains, and its class index there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Target {
    Category(u8),
    Sentiment(u8),
    /// The category is one of a set (bit `c` for class `c`): the loss is −log P(set).
    CategoryAmong(u8),
}

impl Target {
    /// Bit mask of the accepted classes of its head.
    pub(crate) fn mask(self) -> u32 {
        self.head().2
    }

    /// (head offset, classes, bit mask of the accepted classes).
    fn head(self) -> (usize, usize, u32) {
        match self {
            Target::Category(c) => (0, NCAT, 1 << c),
            Target::Sentiment(s) => (NCAT, NSENT, 1 << s),
            Target::CategoryAmong(mask) => (0, NCAT, mask as u32),
        }
    }
}

/// −log of the probability the (softmaxed) `z` gives the classes of `mask`, and the gradient of
/// that loss with respect to `z` in `g` (p_c − [c ∈ S]·p_c / P(S)).
fn set_loss(z: &[f32], mask: u32, g: &mut [f32]) -> f32 {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (gc, &zc) in g.iter_mut().zip(z) {
        *gc = (zc - max).exp();
        sum += *gc;
    }
    let mut in_set = 0.0;
    for (c, gc) in g.iter_mut().enumerate() {
        *gc /= sum;
        if mask & (1 << c) != 0 {
            in_set += *gc;
        }
    }
    let in_set = in_set.max(1e-12);
    for (c, gc) in g.iter_mut().enumerate() {
        if mask & (1 << c) != 0 {
            *gc -= *gc / in_set;
        }
    }
    -in_set.ln()
}

/// A featurised example.
pub(crate) struct Featurized {
    /// (bucket, value × scale).
    pub feats: Vec<(u32, f32)>,
    pub dense: Vec<(u8, f32)>,
}

#[derive(Default)]
struct CollectSink {
    feats: Vec<(u32, f32)>,
    dense: Vec<(u8, f32)>,
}

impl Sink for CollectSink {
    fn hashed(&mut self, bucket: u32, _token: u32, value: f32) {
        self.feats.push((bucket, value));
    }
    fn dense(&mut self, index: usize, value: f32) {
        self.dense.push((index as u8, value));
    }
}

/// Features of one normalised message, for training.
pub(crate) fn featurize(n: &Normalized, cues: &Cues, bits: u32) -> Featurized {
    let mut sink = CollectSink::default();
    let norm2 = extract(n, cues, bits, &mut sink);
    let scale = 1.0 / norm2.max(1.0).sqrt();
    let mut feats = sink.feats;
    feats.iter_mut().for_each(|f| f.1 *= scale);
    Featurized { feats, dense: sink.dense }
}

/// Deterministic xorshift64* generator for shuffling.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Progress of training.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// "features", "calibration" or "final".
    pub stage: &'static str,
    pub epoch: u32,
    pub epochs: u32,
    /// Mean weighted log loss of the epoch.
    pub loss: f32,
}

/// Trains both heads `opts.ensemble` times (seeds `seed`, `seed + 1`, …) and averages the
/// weights: for a linear model that is the mean of the members' logits, and it steadies what one
/// shuffle order decides. Deterministic for given options and example order.
pub(crate) fn fit(
    examples: &[(&Featurized, Target, f32)],
    opts: &TrainOptions,
    stage: &'static str,
    progress: &mut dyn FnMut(Progress),
) -> (Vec<f32>, [f32; STRIDE]) {
    let k = opts.ensemble.max(1);
    let (mut w, mut bias) = fit_one(examples, opts, stage, progress);
    if k == 1 {
        return (w, bias);
    }
    for i in 1..k {
        let member = TrainOptions { seed: opts.seed.wrapping_add(i as u64), ..opts.clone() };
        let (wi, bi) = fit_one(examples, &member, stage, progress);
        w.iter_mut().zip(&wi).for_each(|(a, b)| *a += b);
        bias.iter_mut().zip(&bi).for_each(|(a, b)| *a += b);
    }
    let scale = 1.0 / k as f32;
    w.iter_mut().for_each(|a| *a *= scale);
    bias.iter_mut().for_each(|a| *a *= scale);
    (w, bias)
}

/// Trains both heads with AdaGrad; deterministic for a given seed and example order.
fn fit_one(
    examples: &[(&Featurized, Target, f32)],
    opts: &TrainOptions,
    stage: &'static str,
    progress: &mut dyn FnMut(Progress),
) -> (Vec<f32>, [f32; STRIDE]) {
    let rows = Model::rows(opts.bits);
    let dense_base = 1usize << opts.bits;
    let mut w = vec![0.0f32; rows * STRIDE];
    let mut g2 = vec![0.0f32; rows * STRIDE];
    let mut bias = [0.0f32; STRIDE];
    let mut bias_g2 = [0.0f32; STRIDE];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng::new(opts.seed);
    const EPS: f32 = 1e-6;
    let lr = opts.learning_rate;
    for epoch in 0..opts.epochs {
        for i in (1..order.len()).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        let (mut loss, mut total_w) = (0.0f64, 0.0f64);
        for &idx in &order {
            let (ex, target, weight) = examples[idx];
            let (off, k, mask) = target.head();
            let mut z = [0.0f32; NCAT];
            z[..k].copy_from_slice(&bias[off..off + k]);
            for &(f, v) in &ex.feats {
                let o = f as usize * STRIDE + off;
                for c in 0..k {
                    z[c] += w[o + c] * v;
                }
            }
            for &(d, v) in &ex.dense {
                let o = (dense_base + d as usize) * STRIDE + off;
                for c in 0..k {
                    z[c] += w[o + c] * v;
                }
            }
            let mut g = [0.0f32; NCAT];
            let l = set_loss(&z[..k], mask, &mut g[..k]);
            g[..k].iter_mut().for_each(|x| *x *= weight);
            loss += (l * weight) as f64;
            total_w += weight as f64;
            let mut update = |o: usize, v: f32| {
                for c in 0..k {
                    let grad = g[c] * v + opts.l2 * w[o + c];
                    g2[o + c] += grad * grad;
                    w[o + c] -= lr * grad / (g2[o + c].sqrt() + EPS);
                }
            };
            for &(f, v) in &ex.feats {
                update(f as usize * STRIDE + off, v);
            }
            for &(d, v) in &ex.dense {
                update((dense_base + d as usize) * STRIDE + off, v);
            }
            for c in 0..k {
                bias_g2[off + c] += g[c] * g[c];
                bias[off + c] -= lr * g[c] / (bias_g2[off + c].sqrt() + EPS);
            }
        }
        progress(Progress { stage, epoch: epoch + 1, epochs: opts.epochs, loss: (loss / total_w.max(1e-9)) as f32 });
    }
    (w, bias)
}

/// Builds a model from trained weights.
pub(crate) fn assemble(
    weights: Vec<f32>,
    bias: [f32; STRIDE],
    opts: &TrainOptions,
    temps: (f32, f32),
    counts: (u32, u32),
) -> Model {
    let header = Header {
        bits: opts.bits,
        dense: DENSE as u32,
        feature_version: FEATURE_VERSION,
        categories: label_names(Category::ALL),
        sentiments: label_names(Sentiment::ALL),
        temperature_category: temps.0,
        temperature_sentiment: temps.1,
        rules: opts.rules,
        category_examples: counts.0,
        sentiment_examples: counts.1,
        options: opts.clone(),
    };
    let rows = weights.chunks_exact(STRIDE).map(Row::quantize).collect();
    let mut m = Model { header, rows, bias, checksum: 0 };
    // The checksum of the serialised file identifies the weights (see `version`).
    let bytes = m.to_bytes();
    m.checksum = checksum(&bytes[..bytes.len() - 8]);
    m
}

/// Temperature minimising the log loss of held-out logits (grid search, deterministic); each
/// item is (logits, bit mask of its accepted classes).
pub(crate) fn fit_temperature(logits: &[(Vec<f32>, u32)]) -> f32 {
    if logits.is_empty() {
        return 1.0;
    }
    let mut best = (f64::INFINITY, 1.0f32);
    let mut g = [0.0f32; NCAT];
    let mut scaled = [0.0f32; NCAT];
    for step in 0..=100 {
        let t = 0.3 + step as f32 * 0.03;
        let mut nll = 0.0f64;
        for (z, mask) in logits {
            let k = z.len().min(NCAT);
            for (s, &v) in scaled[..k].iter_mut().zip(z) {
                *s = v / t;
            }
            nll += set_loss(&scaled[..k], *mask, &mut g[..k]) as f64;
        }
        if nll < best.0 {
            best = (nll, t);
        }
    }
    best.1
}

/// Softmax of a slice into `out`.
pub(crate) fn softmax(z: &[f32], out: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (o, &v) in out.iter_mut().zip(z) {
        *o = (v - max).exp();
        sum += *o;
    }
    if sum > 0.0 && sum.is_finite() {
        for o in out.iter_mut() {
            *o /= sum;
        }
    } else {
        let u = 1.0 / out.len() as f32;
        out.iter_mut().for_each(|o| *o = u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_model() -> Model {
        let opts = TrainOptions { bits: 10, ..TrainOptions::default() };
        let w: Vec<f32> = (0..Model::rows(10) * STRIDE).map(|i| (i % 7) as f32 * 0.01).collect();
        assemble(w, [0.1; STRIDE], &opts, (1.0, 1.0), (1, 1))
    }

    #[test]
    fn round_trips_through_bytes() {
        let m = tiny_model();
        let bytes = m.to_bytes();
        let back = Model::from_bytes(&bytes).unwrap();
        assert_eq!(back.rows, m.rows);
        assert_eq!(back.bias, m.bias);
        assert_eq!(back.header, m.header);
        assert_eq!(back.version(), m.version());
        assert!(m.version().starts_with(&format!("pantau-clf-f2-x{FEATURE_VERSION}-b10-")));
    }

    #[test]
    fn corrupt_truncated_and_foreign_files_are_refused() {
        let bytes = tiny_model().to_bytes();
        assert!(matches!(Model::from_bytes(&[]), Err(ModelError::TooShort(0))));
        assert!(matches!(Model::from_bytes(b"GIF89a............................"), Err(ModelError::BadMagic)));
        assert!(matches!(Model::from_bytes(&bytes[..bytes.len() - 1]), Err(ModelError::WrongLength { .. })));
        assert!(Model::from_bytes(&bytes[..100]).is_err());
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(matches!(Model::from_bytes(&flipped), Err(ModelError::Checksum)));
        // A file of the f32 format (1) is refused with a message naming both formats.
        let mut v1 = bytes.clone();
        v1[8] = 1;
        let err = Model::from_bytes(&v1).unwrap_err();
        assert!(err.to_string().contains("format 1") && err.to_string().contains("format 2"), "{err}");
        let mut bad_header = bytes.clone();
        bad_header[16] = b'[';
        assert!(matches!(Model::from_bytes(&bad_header), Err(ModelError::BadHeader(_))));
        // A scale that is no weight (NaN, negative) under a valid checksum names its row.
        let header_end = 16 + u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        for (row, bad) in [(3usize, f32::NAN), (0, -1.0)] {
            let mut scaled = bytes.clone();
            scaled[header_end + row * 4..header_end + row * 4 + 4].copy_from_slice(&bad.to_le_bytes());
            let body_end = scaled.len() - 8;
            let sum = checksum(&scaled[..body_end]);
            scaled[body_end..].copy_from_slice(&sum.to_le_bytes());
            assert!(matches!(Model::from_bytes(&scaled), Err(ModelError::BadScale(r)) if r == row), "row {row}");
        }
        // Every prefix is refused without panicking.
        for cut in (0..bytes.len()).step_by(997) {
            assert!(Model::from_bytes(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn quantised_weights_stay_within_half_a_step() {
        let w = [0.8f32, -0.31, 0.0, 1e-4, -0.8, 0.5, 0.25, -0.125, 0.0625];
        let row = Row::quantize(&w);
        assert_eq!(row.q[0], 127);
        assert_eq!(row.q[4], -127);
        let mut back = [0.0f32; STRIDE];
        row.add_to(&mut back, 1.0);
        for (b, x) in back.iter().zip(w) {
            assert!((b - x).abs() <= row.scale / 2.0 + 1e-7, "{b} vs {x}");
        }
        assert_eq!(Row::quantize(&[0.0; STRIDE]), Row::default());
    }

    #[test]
    fn temperature_fit_prefers_softer_scores_for_overconfident_logits() {
        // Confident logits that are right only 60% of the time need a temperature above 1.
        let mut data = Vec::new();
        for i in 0..100 {
            data.push((vec![5.0, 0.0, 0.0], if i % 10 < 6 { 1 } else { 2 }));
        }
        assert!(fit_temperature(&data) > 1.5);
    }

    #[test]
    fn set_loss_is_the_log_loss_of_the_allowed_classes() {
        let z = [1.0f32, 0.0, -1.0];
        let mut g = [0.0f32; 3];
        // One class: ordinary softmax cross-entropy, gradient p − onehot.
        let l = set_loss(&z, 0b001, &mut g);
        let p0 = 1f32.exp() / (1f32.exp() + 1.0 + (-1f32).exp());
        assert!((l + p0.ln()).abs() < 1e-5);
        assert!((g[0] - (p0 - 1.0)).abs() < 1e-5 && g[1] > 0.0 && g[2] > 0.0);
        // "Not class 0": loss −log(p1 + p2), the gradient pushes class 0 down only.
        let l = set_loss(&z, 0b110, &mut g);
        assert!((l + (1.0 - p0).ln()).abs() < 1e-5);
        assert!(g[0] > 0.0 && g[1] < 0.0 && g[2] < 0.0);
        assert!((g.iter().sum::<f32>()).abs() < 1e-5);
        // Every class allowed: nothing to learn.
        assert!(set_loss(&z, 0b111, &mut g).abs() < 1e-6 && g.iter().all(|x| x.abs() < 1e-6));
    }

    #[test]
    fn rng_is_deterministic() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!((0..5).map(|_| a.next_u64()).collect::<Vec<_>>(), (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
    }
}
