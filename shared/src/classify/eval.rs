//! Evaluation: per-label precision, recall and F1, macro-F1, accuracy and a confusion matrix.

use serde::{Deserialize, Serialize};

/// Scores of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold examples with this label.
    pub support: u32,
}

/// Result of comparing predictions with gold labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Label order of `per_label` and of the confusion matrix.
    pub labels: Vec<String>,
    pub per_label: Vec<LabelMetrics>,
    /// Mean F1 over labels that occur in gold or predictions.
    pub macro_f1: f64,
    pub accuracy: f64,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<u32>>,
    pub examples: u32,
}

/// Compares `predicted` with `gold` (same length; extra items of the longer one are ignored).
pub fn evaluate<L: Copy + PartialEq + std::fmt::Display>(labels: &[L], gold: &[L], predicted: &[L]) -> Evaluation {
    let k = labels.len();
    let mut confusion = vec![vec![0u32; k]; k];
    let index = |l: &L| labels.iter().position(|x| x == l);
    let mut n = 0u32;
    let mut correct = 0u32;
    for (g, p) in gold.iter().zip(predicted) {
        if let (Some(gi), Some(pi)) = (index(g), index(p)) {
            confusion[gi][pi] += 1;
            n += 1;
            if gi == pi {
                correct += 1;
            }
        }
    }
    let mut per_label = Vec::with_capacity(k);
    let (mut f1_sum, mut f1_count) = (0.0, 0u32);
    for (i, label) in labels.iter().enumerate() {
        let tp = confusion[i][i] as f64;
        let gold_i: u32 = confusion[i].iter().sum();
        let pred_i: u32 = confusion.iter().map(|row| row[i]).sum();
        let precision = if pred_i > 0 { tp / pred_i as f64 } else { 0.0 };
        let recall = if gold_i > 0 { tp / gold_i as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        if gold_i > 0 || pred_i > 0 {
            f1_sum += f1;
            f1_count += 1;
        }
        per_label.push(LabelMetrics { label: label.to_string(), precision, recall, f1, support: gold_i });
    }
    Evaluation {
        labels: labels.iter().map(|l| l.to_string()).collect(),
        per_label,
        macro_f1: if f1_count > 0 { f1_sum / f1_count as f64 } else { 0.0 },
        accuracy: if n > 0 { correct as f64 / n as f64 } else { 0.0 },
        confusion,
        examples: n,
    }
}

impl Evaluation {
    /// A plain-text table (for the command line).
    pub fn table(&self) -> String {
        let mut s = format!("{:<22} {:>9} {:>9} {:>9} {:>8}\n", "label", "precision", "recall", "f1", "support");
        for m in &self.per_label {
            s += &format!("{:<22} {:>9.3} {:>9.3} {:>9.3} {:>8}\n", m.label, m.precision, m.recall, m.f1, m.support);
        }
        s += &format!(
            "macro-F1 {:.4}  accuracy {:.4}  n={}\nconfusion (rows gold, cols predicted):\n",
            self.macro_f1, self.accuracy, self.examples
        );
        for (l, row) in self.labels.iter().zip(&self.confusion) {
            s += &format!("{:<22} {}\n", l, row.iter().map(|c| format!("{c:>5}")).collect::<String>());
        }
        s
    }
}

/// One confidence bin of a reliability table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Confidences in `[from, to)` (the last bin includes 1.0).
    pub from: f64,
    pub to: f64,
    pub count: u32,
    /// Mean confidence of the predictions in the bin.
    pub confidence: f64,
    /// Share of them that were right.
    pub accuracy: f64,
}

/// How far confidence is from accuracy: a reliability table and the expected calibration error
/// (the count-weighted mean of |accuracy − confidence| over the bins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub bins: Vec<ReliabilityBin>,
    pub ece: f64,
    pub examples: u32,
}

/// A reliability table of `(confidence, correct)` pairs over `bins` equal-width bins.
pub fn reliability(points: &[(f32, bool)], bins: usize) -> Reliability {
    let k = bins.max(1);
    let mut sums = vec![(0u32, 0.0f64, 0u32); k];
    for &(c, ok) in points {
        let c = if c.is_finite() { c.clamp(0.0, 1.0) } else { 0.0 };
        let i = ((c as f64 * k as f64) as usize).min(k - 1);
        sums[i].0 += 1;
        sums[i].1 += c as f64;
        sums[i].2 += ok as u32;
    }
    let n = points.len().max(1) as f64;
    let mut ece = 0.0;
    let bins = sums
        .iter()
        .enumerate()
        .map(|(i, &(count, conf, right))| {
            let (confidence, accuracy) =
                if count > 0 { (conf / count as f64, right as f64 / count as f64) } else { (0.0, 0.0) };
            ece += count as f64 / n * (accuracy - confidence).abs();
            ReliabilityBin { from: i as f64 / k as f64, to: (i + 1) as f64 / k as f64, count, confidence, accuracy }
        })
        .collect();
    Reliability { bins, ece, examples: points.len() as u32 }
}

impl Reliability {
    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut s = format!("{:<12} {:>7} {:>11} {:>9}\n", "confidence", "count", "mean conf.", "accuracy");
        for b in self.bins.iter().filter(|b| b.count > 0) {
            s += &format!(
                "{:<12} {:>7} {:>11.3} {:>9.3}\n",
                format!("{:.1}–{:.1}", b.from, b.to),
                b.count,
                b.confidence,
                b.accuracy
            );
        }
        s += &format!("expected calibration error {:.4}  n={}\n", self.ece, self.examples);
        s
    }
}

/// `hater` against ibrohim2019's labels: precision and recall against hate speech with a
/// target, and how often tweets without hate speech are called `hater`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HateReport {
    pub examples: u32,
    /// Hate speech with a target (the gold `hater`).
    pub targeted: u32,
    pub predicted_hater: u32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Tweets with neither hate speech nor abusive words, and the share of them called `hater`.
    pub neither: u32,
    pub neither_as_hater: f64,
    /// Abusive words without hate speech (swearing without a target), and the share called `hater`.
    pub abusive_only: u32,
    pub abusive_only_as_hater: f64,
}

/// Scores `predicted_hater[i]` against `(hs with target, hs, abusive)` of each tweet.
pub fn hate_report(gold: &[(bool, bool, bool)], predicted_hater: &[bool]) -> HateReport {
    let (mut tp, mut pred, mut pos, mut neither, mut neither_h, mut ab, mut ab_h) = (0u32, 0, 0, 0, 0, 0, 0);
    for (&(targeted, hs, abusive), &p) in gold.iter().zip(predicted_hater) {
        pos += targeted as u32;
        pred += p as u32;
        tp += (p && targeted) as u32;
        if !hs && !abusive {
            neither += 1;
            neither_h += p as u32;
        }
        if !hs && abusive {
            ab += 1;
            ab_h += p as u32;
        }
    }
    let ratio = |a: u32, b: u32| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let (precision, recall) = (ratio(tp, pred), ratio(tp, pos));
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    HateReport {
        examples: gold.len().min(predicted_hater.len()) as u32,
        targeted: pos,
        predicted_hater: pred,
        precision,
        recall,
        f1,
        neither,
        neither_as_hater: ratio(neither_h, neither),
        abusive_only: ab,
        abusive_only_as_hater: ratio(ab_h, ab),
    }
}

impl HateReport {
    /// A plain-text summary.
    pub fn table(&self) -> String {
        format!(
            "hater vs hate speech with a target: precision {:.4}  recall {:.4}  F1 {:.4}  (gold {}, predicted {}, n={})\n\
             neither hate speech nor abusive, labelled hater: {:.4} ({} tweets)\n\
             abusive without hate speech, labelled hater: {:.4} ({} tweets)\n",
            self.precision,
            self.recall,
            self.f1,
            self.targeted,
            self.predicted_hater,
            self.examples,
            self.neither_as_hater,
            self.neither,
            self.abusive_only_as_hater,
            self.abusive_only
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::labels::Sentiment::{self, *};

    #[test]
    fn metrics_match_a_hand_computation() {
        let gold = [Positif, Positif, Negatif, Negatif, Netral, Netral];
        let pred = [Positif, Negatif, Negatif, Negatif, Netral, Positif];
        let e = evaluate(Sentiment::ALL, &gold, &pred);
        assert_eq!(e.examples, 6);
        assert!((e.accuracy - 4.0 / 6.0).abs() < 1e-9);
        // positif: tp 1, predicted 2, gold 2 → p .5 r .5 f1 .5
        assert!((e.per_label[0].f1 - 0.5).abs() < 1e-9);
        // negatif: tp 2, predicted 3, gold 2 → p 2/3 r 1 f1 .8
        assert!((e.per_label[1].f1 - 0.8).abs() < 1e-9);
        // netral: tp 1, predicted 1, gold 2 → p 1 r .5 f1 2/3
        assert!((e.per_label[2].f1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((e.macro_f1 - (0.5 + 0.8 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
        assert_eq!(e.confusion[0], vec![1, 1, 0]);
        assert_eq!(e.labels, vec!["positif", "negatif", "netral"]);
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"macro_f1\""));
    }

    #[test]
    fn empty_input_is_all_zero() {
        let e = evaluate::<Sentiment>(Sentiment::ALL, &[], &[]);
        assert_eq!(e.macro_f1, 0.0);
        assert_eq!(e.examples, 0);
    }

    #[test]
    fn reliability_and_hate_reports_match_hand_counts() {
        // Two at 0.95 (one right), two at 0.55 (both right).
        let r = reliability(&[(0.95, true), (0.95, false), (0.55, true), (0.55, true)], 10);
        assert_eq!(r.examples, 4);
        assert_eq!(r.bins[9].count, 2);
        assert!((r.bins[9].accuracy - 0.5).abs() < 1e-9);
        assert!((r.ece - (0.5 * 0.45 + 0.5 * 0.45)).abs() < 1e-6, "{}", r.ece);
        assert!(r.table().contains("0.9–1.0"));
        // (targeted, hs, abusive) and predicted hater.
        let gold = [
            (true, true, true),
            (true, true, false),
            (false, false, false),
            (false, false, true),
            (false, false, false),
        ];
        let h = hate_report(&gold, &[true, false, true, false, false]);
        assert!((h.precision - 0.5).abs() < 1e-9 && (h.recall - 0.5).abs() < 1e-9);
        assert_eq!((h.neither, h.abusive_only), (2, 1));
        assert!((h.neither_as_hater - 0.5).abs() < 1e-9 && h.abusive_only_as_hater == 0.0);
    }
}
