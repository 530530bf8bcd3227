//! Reasons for a classification, in short Bahasa Indonesia sentences a PR officer understands:
//! the rules that fired and the words that pushed the model most towards its choice.

use std::borrow::Cow;

use super::lexicon::Lexicon;
use super::model::{NCAT, STRIDE};
use super::normalize::{Normalized, Token, TokenKind, flags};
use super::rules::{Cues, Fired, FiredRules, Hits, cat, sent};
use crate::domain::labels::{Category, Sentiment};

/// Smallest contribution (log-odds) for a word to be named as a reason.
const MIN_CONTRIBUTION: f32 = 0.04;
/// Most reasons returned.
const MAX_REASONS: usize = 5;

/// Everything the explanation reads.
pub(crate) struct Explain<'a> {
    pub n: &'a Normalized,
    pub acc: &'a [[f32; STRIDE]],
    pub cues: &'a Cues,
    pub fired: &'a FiredRules,
    pub category: usize,
    pub sentiment: usize,
    pub confidence: f32,
    pub lex: &'a Lexicon,
    /// Smallest contribution of a word named as evidence of `hater` (the rule's threshold).
    pub hater_evidence: f32,
}

fn quote_list<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('\'');
        out.push_str(w.as_ref());
        out.push('\'');
    }
    out
}

/// Original words at the places of `hits`, each once.
fn hit_words(n: &Normalized, hits: &Hits) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (start, len) in hits.places() {
        let mut parts: Vec<&str> = Vec::new();
        for k in start..start + len {
            if let Some(t) = n.get(k) {
                // Expansions share one original ("dll" → dan lain lain): name it once.
                if parts.last() != Some(&t.orig) {
                    parts.push(t.orig);
                }
            }
        }
        let w = parts.join(" ");
        if !w.is_empty() && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// What the reasons may show of a token, if anything: not stop words, places, names
/// (capitalised mid-sentence and not in the dictionaries), numbers or placeholders.
pub(crate) fn shown<'a>(t: &Token<'a>, _lex: &Lexicon) -> Option<&'a str> {
    match t.kind {
        TokenKind::Word => {
            // Stop words, places and names are marked by the normaliser (flags::HIDDEN).
            let hidden =
                t.has(flags::HIDDEN) || t.orig.chars().nth(1).is_none() || t.orig.bytes().any(|b| b.is_ascii_digit());
            (!hidden).then_some(t.orig)
        }
        TokenKind::Emoji(_) | TokenKind::Laugh | TokenKind::Hashtag => Some(t.orig),
        TokenKind::Question => Some("?"),
        TokenKind::Exclamation => Some("!"),
        _ => None,
    }
}

/// Largest contribution of a shown token to class `class` of the category head, relative to
/// the mean of the head (the evidence `rules::require_hater_evidence` asks for).
pub(crate) fn best_shown_contribution(n: &Normalized, acc: &[[f32; STRIDE]], lex: &Lexicon, class: usize) -> f32 {
    let mut best = f32::MIN;
    for (i, a) in acc.iter().enumerate() {
        let Some(t) = n.get(i) else { break };
        if shown(&t, lex).is_none() {
            continue;
        }
        let mean: f32 = a[..NCAT].iter().sum::<f32>() / NCAT as f32;
        best = best.max(a[class] - mean);
    }
    best
}

/// What a shown word adds to the chosen category and to the chosen sentiment, each relative to
/// its head's mean.
struct WordWeight<'a> {
    category: f32,
    sentiment: f32,
    word: &'a str,
}

/// Each shown word once, with what its tokens add (a word said twice counts twice), for both
/// heads in one pass.
fn word_weights<'a>(e: &Explain<'a>) -> Vec<WordWeight<'a>> {
    // Borrowed strings while ranking; only the winners are allocated.
    let mut scored: Vec<WordWeight<'a>> = Vec::with_capacity(e.acc.len());
    let relative = |a: &[f32], class: usize| a[class] - a.iter().sum::<f32>() / a.len() as f32;
    for (i, a) in e.acc.iter().enumerate() {
        let Some(t) = e.n.get(i) else { break };
        let Some(word) = shown(&t, e.lex) else { continue };
        scored.push(WordWeight {
            category: relative(&a[..NCAT], e.category),
            sentiment: relative(&a[NCAT..], e.sentiment),
            word,
        });
    }
    // Merge equal words (sorting keeps this O(n log n)).
    scored.sort_unstable_by(|a, b| a.word.cmp(b.word));
    scored.dedup_by(|later, first| {
        if later.word == first.word {
            first.category += later.category;
            first.sentiment += later.sentiment;
            true
        } else {
            false
        }
    });
    scored
}

/// The `limit` words that added most (at least `min`) by `weight`.
fn top_words<'a>(
    words: &[WordWeight<'a>],
    weight: fn(&WordWeight<'_>) -> f32,
    limit: usize,
    min: f32,
) -> Vec<Cow<'a, str>> {
    let mut best: Vec<(f32, &'a str)> = words.iter().map(|w| (weight(w), w.word)).filter(|w| w.0 >= min).collect();
    best.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    best.into_iter().take(limit).map(|(_, w)| Cow::Borrowed(w)).collect()
}

fn target_phrase(e: &Explain<'_>) -> String {
    let sasaran = hit_words(e.n, &e.cues.sasaran);
    if !sasaran.is_empty() {
        return format!("pejabat/instansi ({})", quote_list(&sasaran[..sasaran.len().min(2)]));
    }
    let kamu = hit_words(e.n, &e.cues.kamu);
    if !kamu.is_empty() {
        return format!("orang yang diajak bicara ({})", quote_list(&kamu[..1]));
    }
    "akun yang di-mention".to_string()
}

fn abusive_words(e: &Explain<'_>) -> Vec<String> {
    let mut w = hit_words(e.n, &e.cues.hinaan);
    for x in hit_words(e.n, &e.cues.kasar) {
        if !w.contains(&x) {
            w.push(x);
        }
    }
    w.truncate(3);
    w
}

fn label_of_category(i: usize) -> &'static str {
    Category::ALL.get(i).map_or("?", |c| c.as_str())
}

/// The reasons, most important first.
pub(crate) fn reasons(e: &Explain<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in e.fired.iter() {
        let r = match f {
            Fired::AbuseWithTarget => {
                format!(
                    "Mengandung kata kasar/hinaan yang ditujukan ke {}: {}",
                    target_phrase(e),
                    quote_list(&abusive_words(e))
                )
            }
            Fired::SwearWithoutTarget => format!(
                "Kata kasar tanpa sasaran yang jelas (umpatan biasa, bukan serangan): {}",
                quote_list(&abusive_words(e))
            ),
            Fired::GenuineQuestion => {
                let mut w = hit_words(e.n, &e.cues.minta_info);
                for x in hit_words(e.n, &e.cues.tanya) {
                    if !w.contains(&x) {
                        w.push(x);
                    }
                }
                w.truncate(3);
                if e.cues.question_marks > 0 {
                    w.push("?".into());
                }
                format!("Kalimat tanya yang meminta informasi: {}", quote_list(&w))
            }
            Fired::RhetoricalQuestion => {
                let mut w = hit_words(e.n, &e.cues.retoris);
                if w.is_empty() {
                    w = abusive_words(e);
                }
                w.truncate(3);
                format!("Pertanyaan retoris/sindiran, bukan permintaan informasi: {}", quote_list(&w))
            }
            Fired::SuggestionQuestion => format!(
                "Usulan yang berbentuk pertanyaan, bukan permintaan informasi: {}",
                quote_list(&hit_words(e.n, &e.cues.usulan))
            ),
            Fired::Precedence(chosen, other) => format!(
                "Skor '{}' dan '{}' hampir sama; dipilih '{}' sesuai urutan prioritas",
                label_of_category(chosen),
                label_of_category(other),
                label_of_category(chosen)
            ),
            Fired::SentimentFromCategory(c) => {
                format!("Sentimen disesuaikan dengan kategori '{}'", label_of_category(c))
            }
            Fired::ConcreteProblem => format!(
                "Melaporkan masalah nyata ({}): keluhan didahulukan dari usulan",
                quote_list(&hit_words(e.n, &e.cues.masalah))
            ),
            Fired::HaterWithoutEvidence => {
                "Bernada keras, tetapi tidak ada kata serangan atau hinaan yang jelas: bukan 'hater'".to_string()
            }
        };
        // Rules about categories we did not choose are noise to the reader.
        let relevant = match f {
            // Called an attack only when it is one: "jancuk lucu koen" stays chatter.
            Fired::AbuseWithTarget => e.category == cat::HATER,
            Fired::SwearWithoutTarget => e.category != cat::HATER,
            Fired::GenuineQuestion => e.category == cat::PERMINTAAN_INFORMASI,
            Fired::RhetoricalQuestion => e.category != cat::PERMINTAAN_INFORMASI,
            Fired::SuggestionQuestion => e.category == cat::ASPIRASI,
            Fired::ConcreteProblem => e.category == cat::PENGADUAN,
            Fired::HaterWithoutEvidence => e.category != cat::HATER,
            Fired::Precedence(..) | Fired::SentimentFromCategory(_) => true,
        };
        if relevant && !out.contains(&r) {
            out.push(r);
        }
    }

    let min = if e.category == cat::HATER { e.hater_evidence.max(MIN_CONTRIBUTION) } else { MIN_CONTRIBUTION };
    let weights = word_weights(e);
    let mut words = top_words(&weights, |w| w.category, 3, min);
    if e.category == cat::HATER {
        // The abusive words are the evidence an officer looks for first.
        for w in abusive_words(e).into_iter().rev() {
            if !words.iter().any(|x| *x == *w) {
                words.insert(0, Cow::Owned(w));
            }
        }
        words.truncate(3);
    }
    let cat_reason = match e.category {
        cat::HATER if !words.is_empty() => Some(format!("Kata bernada serangan atau ejekan: {}", quote_list(&words))),
        cat::PENGADUAN if !words.is_empty() => Some(format!("Kata kunci keluhan: {}", quote_list(&words))),
        cat::PERMINTAAN_INFORMASI if !words.is_empty() => {
            Some(format!("Kata kunci pertanyaan: {}", quote_list(&words)))
        }
        cat::ASPIRASI if !words.is_empty() => Some(format!("Kata kunci usulan atau harapan: {}", quote_list(&words))),
        cat::APRESIASI if !words.is_empty() => {
            Some(format!("Kata kunci pujian atau terima kasih: {}", quote_list(&words)))
        }
        cat::LAINNYA => Some(if words.is_empty() {
            "Tidak ada tanda keluhan, pertanyaan, usulan, pujian, atau serangan yang kuat".to_string()
        } else {
            format!(
                "Tidak ada tanda keluhan, pertanyaan, usulan, pujian, atau serangan yang kuat; kata penentu: {}",
                quote_list(&words)
            )
        }),
        _ => None,
    };
    out.extend(cat_reason);

    let words = top_words(&weights, |w| w.sentiment, 3, MIN_CONTRIBUTION);
    let sent_label = Sentiment::ALL.get(e.sentiment).map_or("?", |s| s.as_str());
    out.push(match e.sentiment {
        sent::NETRAL if words.is_empty() => {
            "Sentimen netral: tidak ada kata bernada positif atau negatif yang kuat".to_string()
        }
        _ if words.is_empty() => format!("Sentimen {sent_label} dari keseluruhan kalimat"),
        _ => format!("Sentimen {sent_label} dari kata: {}", quote_list(&words)),
    });

    if e.confidence < 0.5 {
        out.push(format!(
            "Keyakinan rendah ({:.0}%): sebaiknya diperiksa petugas",
            (e.confidence * 100.0).clamp(0.0, 100.0)
        ));
    }
    if e.n.truncated {
        out.push("Pesan sangat panjang: hanya bagian awal yang dinilai".to_string());
    }
    out.truncate(MAX_REASONS);
    out
}
