//! Language of a message: `id`, `jv`, `en` or `other`.
//!
//! Short, code-mixed messages defeat character-statistics models, so this counts small lists of
//! function words per language (`data/langwords.tsv`) on the original tokens, plus a few
//! affixes, and picks the dominant language. Messages with no Latin words (emoji, links,
//! numbers only, or another script) are `other`.

use super::lexicon::{Lexicon, lexicon};
use super::normalize::{Normalized, TokenKind, flags};
use crate::domain::labels::Language;

/// Evidence per language, in the order id, jv, en (for explanations and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LanguageScores {
    pub id: f32,
    pub jv: f32,
    pub en: f32,
    /// Words in Latin script, and words in another script.
    pub latin_words: u32,
    pub other_script_words: u32,
}

/// Weight of a Latin word found in no list: in this office's inbox it is most likely Indonesian.
const UNKNOWN_WORD_ID: f32 = 0.2;

fn affix_evidence(w: &str) -> [f32; 3] {
    let n = w.len();
    let mut e = [0.0; 3];
    if n > 5 && w.ends_with("nya") {
        e[0] += 0.6;
    }
    if n > 6
        && (w.ends_with("kan")
            || w.starts_with("meng")
            || w.starts_with("meny")
            || w.starts_with("mem")
            || w.starts_with("ber")
            || w.starts_with("ter"))
    {
        e[0] += 0.3;
    }
    // Javanese suffixes: "-e"/"-ne" after a consonant (pejabate, dalane), "di-…-ke/-ne"
    // (dilengserke, disajikne).
    let b = w.as_bytes();
    if n >= 7 && b[n - 1] == b'e' && !matches!(b[n - 2], b'a' | b'e' | b'i' | b'o' | b'u') {
        e[1] += 0.3;
    }
    if n > 6 && w.starts_with("di") && (w.ends_with("ke") || w.ends_with("ne")) {
        e[1] += 0.4;
    }
    if n > 5
        && (w.ends_with("ipun")
            || w.ends_with("aken")
            || w.ends_with("ake")
            || w.ends_with("no") && !w.ends_with("ano"))
    {
        e[1] += 0.4;
    }
    if n > 5
        && (w.ends_with("tion")
            || w.ends_with("ness")
            || w.ends_with("ment")
            || w.ends_with("ful")
            || w.ends_with("ly"))
    {
        e[2] += 0.4;
    }
    e
}

/// Scores a normalised message.
pub fn scores_with(n: &Normalized, lex: &Lexicon) -> LanguageScores {
    let mut s = LanguageScores::default();
    for t in n.iter() {
        if t.kind != TokenKind::Word || t.has(flags::CONTINUATION) || t.has(flags::FROM_HASHTAG) {
            continue;
        }
        if t.has(flags::NON_LATIN) {
            s.other_script_words += 1;
            continue;
        }
        s.latin_words += 1;
        // The original word's id answers; a two-word original ("matur nuwun") is looked up word by word.
        let single = (!t.orig.contains(' ')).then_some(t.orig_word);
        for w in t.orig.split(' ') {
            let e = match lex.lang(single.unwrap_or_else(|| lex.word_id(w))) {
                Some(e) => *e,
                None => {
                    let mut e = affix_evidence(w);
                    if t.has(flags::JAVANESE) {
                        e[1] += 0.5;
                    } else if e == [0.0; 3] {
                        e[0] += UNKNOWN_WORD_ID;
                    }
                    e
                }
            };
            s.id += e[0];
            s.jv += e[1];
            s.en += e[2];
        }
    }
    s
}

/// The dominant language of a normalised message.
pub fn detect(n: &Normalized) -> Language {
    decide(&scores_with(n, lexicon()))
}

/// Javanese evidence, as a share of the Indonesian, from which a code-mixed message counts as
/// Javanese: East Javanese writers mix Indonesian words into Javanese sentences, so Indonesian
/// need not be outnumbered ("pasar murah mbok ya diadakan rutin, ojo mung nang kota").
const JV_MIXED_SHARE: f32 = 0.6;
/// Javanese evidence (about two clear words) a code-mixed message needs.
const JV_MIXED_MIN: f32 = 2.0;

/// The language for given evidence: ties go to Indonesian, then Javanese.
pub fn decide(s: &LanguageScores) -> Language {
    if s.latin_words == 0 || s.other_script_words > s.latin_words {
        return Language::Other;
    }
    if s.jv >= JV_MIXED_MIN && s.jv >= JV_MIXED_SHARE * s.id && s.jv >= s.en {
        return Language::Javanese;
    }
    if s.id >= s.jv && s.id >= s.en {
        Language::Indonesian
    } else if s.jv >= s.en {
        Language::Javanese
    } else {
        Language::English
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::normalize;

    fn lang(s: &str) -> Language {
        detect(&normalize(s))
    }

    #[test]
    fn indonesian_messages() {
        for s in [
            "Jalan di depan rumah saya rusak parah, tolong segera diperbaiki",
            "Kapan pendaftaran PPDB jalur zonasi dibuka?",
            "gmn caranya ngurus ktp yg hilang min",
            "Terima kasih Bu Gubernur atas bantuannya",
            "mantap",
            "Thank you pak gub, mantap programnya",
        ] {
            assert_eq!(lang(s), Language::Indonesian, "{s}");
        }
    }

    #[test]
    fn javanese_messages_including_suroboyoan() {
        for s in [
            "sapi ku sakit, rak gelem mangan wis rong dino 😢",
            "Suwun Bu Gub programe, wong cilik koyok aku iso nduwe usaha warung 🥰",
            "dalane rusak ora didandani wis setahun rek",
            "piye iki cak, banyune mati terus",
            "matur nuwun sanget",
            "Jancuk, ndek Darmo macet maneh rek",
        ] {
            assert_eq!(lang(s), Language::Javanese, "{s}");
        }
    }

    #[test]
    fn english_messages() {
        for s in [
            "The road near my house is broken, please fix it",
            "Thank you for the quick response, great job!",
            "Why is the bridge still closed?",
        ] {
            assert_eq!(lang(s), Language::English, "{s}");
        }
    }

    #[test]
    fn code_mixing_picks_the_dominant_language() {
        // Indonesian sentence with an English word or two.
        assert_eq!(lang("Pelayanannya so slow, udah antri dari pagi belum dipanggil juga"), Language::Indonesian);
        // Javanese sentence with an Indonesian word or two.
        assert_eq!(lang("wis tak laporno nang kelurahan tapi durung onok sing teko"), Language::Javanese);
        // Indonesian with Javanese particles, as East Java writes: Javanese.
        assert_eq!(
            lang("Usul buat Pemprov: pasar murah sembako mbok ya diadakan rutin, ojo mung nang kota"),
            Language::Javanese
        );
        // One Javanese particle in an Indonesian sentence does not make it Javanese.
        assert_eq!(lang("Jalan di depan rumah saya rusak parah rek, tolong segera diperbaiki"), Language::Indonesian);
    }

    #[test]
    fn no_words_is_other() {
        for s in [
            "",
            "   ",
            "😡😡😡",
            "🙏🙏",
            "https://t.co/abc",
            "@pemprovjatim",
            "123 456",
            "?!",
            "中文消息内容很长",
            "مرحبا بكم",
        ] {
            assert_eq!(lang(s), Language::Other, "{s:?}");
        }
    }
}
