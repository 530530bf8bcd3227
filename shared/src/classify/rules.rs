//! Rules on top of the model's scores, for what a lexicon says better than 2,000 examples can.
//!
//! They are few, each explainable in one sentence, and applied as log-odds adjustments to the
//! model's scores rather than overrides, so strong model evidence can still win:
//! 1. abusive words aimed at a target (official, institution, "kamu") → towards `hater`;
//! 2. swearing without a target ("anjir panas bgt") → away from `hater`;
//! 3. a genuine question (question word, '?', "mohon info", "piye") → towards
//!    `permintaan_informasi`; a rhetorical one (with "kok", "sih", an insult) → away from it;
//!    a suggestion phrased as a question ("bagaimana kalau …?") → towards `aspirasi`;
//! 4. docs/design.md's precedence (hater > pengaduan > permintaan_informasi > aspirasi > apresiasi
//!    > lainnya) when the two best categories are close;
//! 5. sentiment follows a confident category (apresiasi is positive, hater/pengaduan negative,
//!    a genuine question neutral), as the office labels them.

use serde::{Deserialize, Serialize};

use super::lexicon::{AbuseKind, CueKind, EmojiClass, Lexicon};
use super::normalize::{Normalized, TokenKind, flags};

/// Index of each category in score vectors (the order of `Category::ALL`).
pub(crate) mod cat {
    pub const HATER: usize = 0;
    pub const PENGADUAN: usize = 1;
    pub const PERMINTAAN_INFORMASI: usize = 2;
    pub const ASPIRASI: usize = 3;
    pub const APRESIASI: usize = 4;
    pub const LAINNYA: usize = 5;
}
/// Index of each sentiment (the order of `Sentiment::ALL`).
pub(crate) mod sent {
    pub const POSITIF: usize = 0;
    pub const NEGATIF: usize = 1;
    pub const NETRAL: usize = 2;
}

/// Up to four places (token index, length in tokens) where a cue matched, plus the count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hits {
    pub count: u32,
    at: [(u16, u8); 4],
}

impl Hits {
    fn push(&mut self, start: usize, len: usize) {
        if (self.count as usize) < self.at.len() {
            self.at[self.count as usize] = (start.min(u16::MAX as usize) as u16, len.min(255) as u8);
        }
        self.count += 1;
    }
    /// True when at least one cue matched.
    pub fn any(&self) -> bool {
        self.count > 0
    }
    /// (token index, length) of the first matches.
    pub fn places(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.at[..(self.count as usize).min(self.at.len())].iter().map(|&(s, l)| (s as usize, l as usize))
    }
}

/// Cues found in a message; read by the dense features, the rules and the explanations.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cues {
    pub hinaan: Hits,
    pub kasar: Hits,
    pub tanya: Hits,
    /// A question word opens a sentence ("kapan ...", "bagaimana ...").
    pub tanya_at_start: bool,
    pub minta_info: Hits,
    pub retoris: Hits,
    pub sasaran: Hits,
    pub kamu: Hits,
    pub usulan: Hits,
    pub masalah: Hits,
    pub pujian: Hits,
    pub harapan: Hits,
    pub mentions: u32,
    pub question_marks: u32,
    pub exclamations: u32,
    pub emoji_pos: u32,
    pub emoji_neg: u32,
    pub laughs: u32,
    pub negations: u32,
    pub shouted: u32,
    pub elongated: u32,
    pub urls: u32,
    pub words: u32,
}

impl Cues {
    /// Scans a normalised message once.
    pub fn scan(n: &Normalized, lex: &Lexicon) -> Cues {
        let mut c = Cues { question_marks: n.question_marks, exclamations: n.exclamations, ..Cues::default() };
        let len = n.len();
        let mut i = 0;
        while i < len {
            let Some(t) = n.get(i) else { break };
            match t.kind {
                TokenKind::Mention => c.mentions += 1,
                TokenKind::Url => c.urls += 1,
                TokenKind::Laugh => c.laughs += 1,
                TokenKind::Emoji(EmojiClass::Positif) => c.emoji_pos += 1,
                TokenKind::Emoji(EmojiClass::Negatif) => c.emoji_neg += 1,
                TokenKind::Emoji(EmojiClass::Tawa) => c.laughs += 1,
                _ => {}
            }
            if t.kind != TokenKind::Word {
                i += 1;
                continue;
            }
            c.words += 1;
            if t.has(flags::SHOUTED) {
                c.shouted += 1;
            }
            if t.has(flags::ELONGATED) {
                c.elongated += 1;
            }
            if matches!(t.text, "tidak" | "bukan" | "belum" | "jangan" | "tanpa") {
                c.negations += 1;
            }
            let words = |k: usize| n.text(i + k);
            // The original form also counts for abuse ("asu" is mapped to "anjing"; both listed);
            // an unmapped word was looked up already.
            let abuse = lex.abuse_at(t.word, words).or_else(|| {
                (t.orig != t.text)
                    .then(|| lex.abuse_at(t.orig_word, |k| if k == 0 { Some(t.orig) } else { None }))
                    .flatten()
            });
            if let Some((kind, l)) = abuse {
                match kind {
                    AbuseKind::Hinaan => c.hinaan.push(i, l),
                    AbuseKind::Kasar => c.kasar.push(i, l),
                }
            }
            let mut step = 1;
            if let Some((kind, l)) = lex.cue_at(t.word, words) {
                match kind {
                    CueKind::Tanya => {
                        c.tanya.push(i, l);
                        if t.has(flags::SENTENCE_START) {
                            c.tanya_at_start = true;
                        }
                    }
                    CueKind::MintaInfo => c.minta_info.push(i, l),
                    CueKind::Retoris => c.retoris.push(i, l),
                    CueKind::Sasaran => c.sasaran.push(i, l),
                    CueKind::Kamu => c.kamu.push(i, l),
                    CueKind::Usulan => c.usulan.push(i, l),
                    CueKind::Masalah => c.masalah.push(i, l),
                    CueKind::Pujian => c.pujian.push(i, l),
                    CueKind::Harapan => c.harapan.push(i, l),
                }
                step = l;
            }
            i += step.max(1);
        }
        c
    }

    /// Someone is targeted: an official or institution named, "kamu/kalian" used, or @mentioned.
    pub fn has_target(&self) -> bool {
        self.sasaran.any() || self.kamu.any() || self.mentions > 0
    }

    /// Someone is named or addressed in the words themselves (an @mention alone is not enough:
    /// every reply on X starts with one).
    pub fn has_named_target(&self) -> bool {
        self.sasaran.any() || self.kamu.any()
    }

    /// The abuse is aimed at someone: an insult at a named, addressed or mentioned person, or
    /// profanity at a named or addressed one ("anjir @budi lucu bgt" is not an attack).
    pub fn abuse_is_aimed(&self) -> bool {
        (self.hinaan.any() && self.has_target()) || (self.kasar.any() && self.has_named_target())
    }

    /// The message is phrased as a question (mark, opening question word, or request phrase).
    pub fn is_question_form(&self) -> bool {
        self.question_marks > 0 || self.tanya_at_start || self.minta_info.any()
    }

    /// The question reads as a jab: rhetorical markers or insults.
    pub fn is_rhetorical(&self) -> bool {
        self.retoris.any() || self.hinaan.any() || self.laughs > 0 || (self.kasar.any() && self.has_named_target())
    }
}

/// Sizes of the rules' adjustments (log-odds added to the model's scores). They travel with the
/// model file, chosen on a validation split at training time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleParams {
    /// Insult or profanity with a target → `hater`.
    pub abuse_with_target: f32,
    /// Profanity without any target and no insult → away from `hater`.
    pub swear_without_target: f32,
    /// Genuine question → `permintaan_informasi`.
    pub genuine_question: f32,
    /// Rhetorical question → away from `permintaan_informasi`.
    pub rhetorical_question: f32,
    /// When the two best categories are closer than this (probability), precedence decides.
    pub precedence_margin: f32,
    /// Sentiment pulled towards the confident category's usual sentiment.
    pub sentiment_follows_category: f32,
    /// A concrete problem asked to be fixed reads like a suggestion; docs/design.md's precedence makes
    /// it a complaint: `pengaduan` gains this much over `aspirasi`.
    #[serde(default)]
    pub concrete_problem: f32,
    /// `hater` needs evidence an officer can see: an abusive word, or a shown word (not a stop
    /// word, place or name) that adds at least this much (log-odds) to `hater`. Without it the
    /// message is not called `hater` (0 turns the rule off).
    #[serde(default)]
    pub hater_evidence: f32,
}

impl Default for RuleParams {
    fn default() -> Self {
        Self {
            abuse_with_target: 1.5,
            swear_without_target: 1.0,
            genuine_question: 1.0,
            rhetorical_question: 1.0,
            precedence_margin: 0.05,
            sentiment_follows_category: 0.5,
            concrete_problem: 2.5,
            hater_evidence: 0.5,
        }
    }
}

/// A rule that changed the scores, for the explanation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fired {
    AbuseWithTarget,
    SwearWithoutTarget,
    GenuineQuestion,
    RhetoricalQuestion,
    SuggestionQuestion,
    /// (chosen, runner-up) category indices.
    Precedence(usize, usize),
    SentimentFromCategory(usize),
    ConcreteProblem,
    /// `hater` scored highest but nothing in the message shows an attack.
    HaterWithoutEvidence,
}

/// Up to eight fired rules, without allocating.
#[derive(Debug, Clone, Copy, Default)]
pub struct FiredRules {
    len: usize,
    items: [Option<Fired>; 8],
}

impl FiredRules {
    pub(crate) fn push(&mut self, f: Fired) {
        if self.len < self.items.len() {
            self.items[self.len] = Some(f);
            self.len += 1;
        }
    }
    /// The rules in the order they fired.
    pub fn iter(&self) -> impl Iterator<Item = Fired> + '_ {
        self.items[..self.len].iter().filter_map(|f| *f)
    }
    /// True when `f` fired.
    pub fn contains(&self, f: Fired) -> bool {
        self.iter().any(|g| g == f)
    }
}

/// Applies rules 1–3 to category log-scores.
pub fn adjust_category(logits: &mut [f32; 6], cues: &Cues, p: &RuleParams, fired: &mut FiredRules) {
    if cues.abuse_is_aimed() && p.abuse_with_target != 0.0 {
        logits[cat::HATER] += p.abuse_with_target;
        fired.push(Fired::AbuseWithTarget);
    } else if cues.kasar.any() && !cues.hinaan.any() && !cues.has_named_target() && p.swear_without_target != 0.0 {
        logits[cat::HATER] -= p.swear_without_target;
        fired.push(Fired::SwearWithoutTarget);
    }
    // Precedence: a concrete problem with a plea to fix it fits both aspirasi and pengaduan.
    let leading = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
    if cues.masalah.any() && leading == Some(cat::ASPIRASI) && !cues.usulan.any() && p.concrete_problem != 0.0 {
        logits[cat::PENGADUAN] += p.concrete_problem;
        fired.push(Fired::ConcreteProblem);
    }
    if cues.is_question_form() {
        if cues.usulan.any() && !cues.is_rhetorical() {
            if p.genuine_question != 0.0 {
                logits[cat::ASPIRASI] += p.genuine_question;
                fired.push(Fired::SuggestionQuestion);
            }
        } else if cues.is_rhetorical() {
            if p.rhetorical_question != 0.0 {
                logits[cat::PERMINTAAN_INFORMASI] -= p.rhetorical_question;
                fired.push(Fired::RhetoricalQuestion);
            }
        } else if (cues.question_marks > 0 || cues.tanya.any() || cues.minta_info.any()) && p.genuine_question != 0.0 {
            logits[cat::PERMINTAAN_INFORMASI] += p.genuine_question;
            fired.push(Fired::GenuineQuestion);
        }
    }
}

/// Rule 1b: `hater` only with visible evidence. `evidence` is the largest contribution to
/// `hater` of a word the reasons may show; an abusive word is evidence by itself. Without
/// evidence a leading `hater` falls just below the runner-up.
pub fn require_hater_evidence(
    logits: &mut [f32; 6],
    cues: &Cues,
    evidence: f32,
    p: &RuleParams,
    fired: &mut FiredRules,
) {
    if p.hater_evidence <= 0.0 || cues.hinaan.any() || cues.kasar.any() || evidence >= p.hater_evidence {
        return;
    }
    let runner_up =
        logits.iter().enumerate().filter(|(i, _)| *i != cat::HATER).map(|(_, &l)| l).fold(f32::MIN, f32::max);
    if logits[cat::HATER] >= runner_up {
        logits[cat::HATER] = runner_up - 1.0;
        fired.push(Fired::HaterWithoutEvidence);
    }
}

/// Rule 4: the chosen category index given final probabilities.
pub fn choose_category(probs: &[f32; 6], p: &RuleParams, fired: &mut FiredRules) -> usize {
    let (mut best, mut second) = (0, 1);
    if probs[1] > probs[0] {
        (best, second) = (1, 0);
    }
    for k in 2..6 {
        if probs[k] > probs[best] {
            second = best;
            best = k;
        } else if probs[k] > probs[second] {
            second = k;
        }
    }
    // Index order is precedence order (lainnya, last, never takes precedence).
    let vetoed = second == cat::HATER && fired.contains(Fired::HaterWithoutEvidence);
    if second < best && !vetoed && probs[best] - probs[second] < p.precedence_margin {
        fired.push(Fired::Precedence(second, best));
        return second;
    }
    best
}

/// Category confidence from which rule 5 starts to act (its pull grows linearly to 1.0).
const SENTIMENT_FOLLOWS_FROM: f32 = 0.7;

/// Rule 5: sentiment log-scores pulled towards the usual sentiment of a confident category.
pub fn adjust_sentiment(
    logits: &mut [f32; 3],
    category: usize,
    confidence: f32,
    cues: &Cues,
    p: &RuleParams,
    fired: &mut FiredRules,
) {
    if p.sentiment_follows_category == 0.0 || confidence < SENTIMENT_FOLLOWS_FROM {
        return;
    }
    let target = match category {
        cat::HATER | cat::PENGADUAN => sent::NEGATIF,
        cat::APRESIASI => sent::POSITIF,
        cat::PERMINTAAN_INFORMASI if !cues.is_rhetorical() => sent::NETRAL,
        _ => return,
    };
    logits[target] +=
        p.sentiment_follows_category * (confidence - SENTIMENT_FOLLOWS_FROM) / (1.0 - SENTIMENT_FOLLOWS_FROM);
    fired.push(Fired::SentimentFromCategory(category));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::lexicon::lexicon;
    use crate::classify::normalize::normalize;

    fn cues(s: &str) -> Cues {
        Cues::scan(&normalize(s), lexicon())
    }

    #[test]
    fn abuse_needs_a_target_to_count_as_an_attack() {
        let c = cues("anjir panas bgt hari ini");
        assert!(c.kasar.any() && !c.hinaan.any() && !c.has_target());
        let mut l = [0.0; 6];
        let mut f = FiredRules::default();
        adjust_category(&mut l, &c, &RuleParams::default(), &mut f);
        assert!(l[cat::HATER] < 0.0);
        assert!(f.contains(Fired::SwearWithoutTarget));

        let c = cues("Gubernur goblok, kerjanya cuma pencitraan");
        assert!(c.hinaan.count >= 2 && c.sasaran.any());
        let mut l = [0.0; 6];
        let mut f = FiredRules::default();
        adjust_category(&mut l, &c, &RuleParams::default(), &mut f);
        assert!(l[cat::HATER] > 1.0);
        assert!(f.contains(Fired::AbuseWithTarget));
    }

    #[test]
    fn swearing_at_a_mention_alone_is_not_an_attack() {
        // Every reply on X starts with a mention: profanity there is not aimed at anyone.
        let c = cues("USER anjir lucu banget videonya");
        assert!(c.kasar.any() && c.mentions > 0 && !c.abuse_is_aimed());
        // An insult at a mention, or profanity at an addressee or official, is.
        assert!(cues("USER dasar tolol").abuse_is_aimed());
        assert!(cues("anjing kamu").abuse_is_aimed());
    }

    #[test]
    fn hater_needs_evidence() {
        let p = RuleParams::default();
        let calm = cues("USER hmm menurutku biasa aja sih");
        let mut l = [3.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let mut f = FiredRules::default();
        require_hater_evidence(&mut l, &calm, 0.1, &p, &mut f);
        assert!(l[cat::HATER] < l[cat::LAINNYA] && f.contains(Fired::HaterWithoutEvidence));
        // A shown word that carries hater, or an abusive word, is evidence.
        let mut l = [3.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        require_hater_evidence(&mut l, &calm, 0.8, &p, &mut FiredRules::default());
        assert_eq!(l[cat::HATER], 3.0);
        let mut l = [3.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        require_hater_evidence(&mut l, &cues("dasar tolol"), 0.0, &p, &mut FiredRules::default());
        assert_eq!(l[cat::HATER], 3.0);
        // A veto never lets precedence bring hater back.
        let probs = [0.30, 0.0, 0.0, 0.0, 0.0, 0.33];
        assert_eq!(choose_category(&probs, &p, &mut f), cat::LAINNYA);
    }

    #[test]
    fn slang_and_javanese_abuse_is_found() {
        assert!(cues("dasar gblk lu").hinaan.any());
        assert!(cues("dasar gblk lu").kamu.any());
        assert!(cues("asu tenan pejabat iki").kasar.any());
        assert!(cues("pejabat tidak punya otak").hinaan.any());
    }

    #[test]
    fn genuine_and_rhetorical_questions() {
        let c = cues("Kapan pendaftaran PPDB dibuka?");
        assert!(c.is_question_form() && c.tanya_at_start && !c.is_rhetorical());
        let mut l = [0.0; 6];
        let mut f = FiredRules::default();
        adjust_category(&mut l, &c, &RuleParams::default(), &mut f);
        assert!(l[cat::PERMINTAAN_INFORMASI] > 0.0 && f.contains(Fired::GenuineQuestion));

        let c = cues("mohon info syarat beasiswa");
        assert!(c.is_question_form() && !c.is_rhetorical());
        let c = cues("piye carane daftar?");
        assert!(c.tanya.any());

        let c = cues("gubernur kerjanya apa sih? tiap hari cuma gunting pita");
        assert!(c.is_question_form() && c.is_rhetorical());
        let mut l = [0.0; 6];
        let mut f = FiredRules::default();
        adjust_category(&mut l, &c, &RuleParams::default(), &mut f);
        assert!(l[cat::PERMINTAAN_INFORMASI] < 0.0 && f.contains(Fired::RhetoricalQuestion));
    }

    #[test]
    fn suggestions_phrased_as_questions_are_aspirations() {
        let c = cues("Gimana kalau ada bus sekolah gratis di tiap kecamatan?");
        assert!(c.usulan.any() && c.is_question_form());
        let mut l = [0.0; 6];
        let mut f = FiredRules::default();
        adjust_category(&mut l, &c, &RuleParams::default(), &mut f);
        assert!(l[cat::ASPIRASI] > 0.0 && l[cat::PERMINTAAN_INFORMASI] == 0.0);
        assert!(f.contains(Fired::SuggestionQuestion));
        // Laughter makes a question a jab.
        assert!(cues("kerja maksimal apanya? wkwk").is_rhetorical());
    }

    #[test]
    fn precedence_breaks_near_ties() {
        let p = RuleParams { precedence_margin: 0.1, ..RuleParams::default() };
        let mut f = FiredRules::default();
        // aspirasi 0.42 vs pengaduan 0.38: close, pengaduan comes first.
        let probs = [0.05, 0.38, 0.05, 0.42, 0.05, 0.05];
        assert_eq!(choose_category(&probs, &p, &mut f), cat::PENGADUAN);
        assert!(f.contains(Fired::Precedence(cat::PENGADUAN, cat::ASPIRASI)));
        // Far apart: the model's choice stands.
        let mut f = FiredRules::default();
        let probs = [0.05, 0.20, 0.05, 0.60, 0.05, 0.05];
        assert_eq!(choose_category(&probs, &p, &mut f), cat::ASPIRASI);
        assert!(f.iter().next().is_none());
    }

    #[test]
    fn sentiment_follows_a_confident_category() {
        let c = cues("terima kasih pak");
        let mut l = [0.0; 3];
        let mut f = FiredRules::default();
        adjust_sentiment(&mut l, cat::APRESIASI, 0.9, &c, &RuleParams::default(), &mut f);
        assert!(l[sent::POSITIF] > 0.2);
        let mut l = [0.0; 3];
        adjust_sentiment(&mut l, cat::APRESIASI, 0.4, &c, &RuleParams::default(), &mut f);
        assert_eq!(l, [0.0; 3]);
    }
}
