//! The office's topic taxonomy (policies, programmes, activities) and matching a message to it.
//!
//! Keywords are normalised with the same normaliser as messages, so "pemprov", "jln" or a
//! Javanese word in a keyword match their standard forms. Matching is on whole normalised
//! words: a keyword of several words matches consecutive words, a trailing `*` matches any word
//! that starts with it, and hashtags match the message's hashtags.

use serde::{Deserialize, Serialize};

use super::lexicon::{FastMap, NO_WORD, TAXONOMY_JSON, WordId};
use super::normalize::{Normalized, Normalizer, TokenKind};

/// What kind of thing a topic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicKind {
    Kebijakan,
    Program,
    Kegiatan,
}

/// One policy, programme or activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// Stable id, stored on mentions.
    pub id: String,
    /// Name shown to staff.
    pub name: String,
    pub kind: TopicKind,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Without '#'.
    #[serde(default)]
    pub hashtags: Vec<String>,
}

/// The taxonomy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    #[serde(default = "one")]
    pub version: u32,
    pub topics: Vec<Topic>,
}

fn one() -> u32 {
    1
}

/// A taxonomy that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("topic #{0} has an empty id")]
    EmptyId(usize),
    #[error("topic id {0:?} appears twice")]
    DuplicateId(String),
    #[error("topic id {0:?} must be lower-case letters, digits and '_'")]
    BadId(String),
}

impl Taxonomy {
    /// The shipped default (East Java provincial government).
    pub fn builtin() -> Taxonomy {
        // The shipped file is checked by a unit test; an empty taxonomy is a safe fallback.
        Self::from_json(TAXONOMY_JSON).unwrap_or(Taxonomy { version: 1, topics: Vec::new() })
    }

    /// Parses and checks a taxonomy.
    pub fn from_json(json: &str) -> Result<Taxonomy, TaxonomyError> {
        let t: Taxonomy = serde_json::from_str(json)?;
        t.validate()?;
        Ok(t)
    }

    fn validate(&self) -> Result<(), TaxonomyError> {
        let mut seen = std::collections::HashSet::new();
        for (i, topic) in self.topics.iter().enumerate() {
            if topic.id.is_empty() {
                return Err(TaxonomyError::EmptyId(i));
            }
            if !topic.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(TaxonomyError::BadId(topic.id.clone()));
            }
            if !seen.insert(&topic.id) {
                return Err(TaxonomyError::DuplicateId(topic.id.clone()));
            }
        }
        Ok(())
    }
}

/// The words after the first of a keyword, and its topic's index.
type KeywordTail = (Box<[Box<str>]>, u16);

/// Topic matcher compiled from a taxonomy.
#[derive(Debug, Clone)]
pub struct TopicMatcher {
    ids: Vec<String>,
    /// First word → (remaining words, topic index): by its lexicon id when the lexicon knows
    /// it (an integer key: no string hashed or compared), else by its text.
    by_word: FastMap<WordId, Vec<KeywordTail>>,
    phrases: FastMap<Box<str>, Vec<KeywordTail>>,
    prefixes: Vec<(Box<str>, u16)>,
    hashtags: FastMap<Box<str>, Vec<u16>>,
}

impl TopicMatcher {
    /// Compiles `taxonomy`.
    pub fn new(taxonomy: &Taxonomy) -> TopicMatcher {
        let normalizer = Normalizer::default();
        let mut m = TopicMatcher {
            ids: taxonomy.topics.iter().map(|t| t.id.clone()).collect(),
            by_word: FastMap::default(),
            phrases: FastMap::default(),
            prefixes: Vec::new(),
            hashtags: FastMap::default(),
        };
        let mut n = Normalized::default();
        for (ti, topic) in taxonomy.topics.iter().enumerate().take(u16::MAX as usize) {
            let ti = ti as u16;
            for kw in &topic.keywords {
                let (kw, prefix) = match kw.trim().strip_suffix('*') {
                    Some(stem) => (stem, true),
                    None => (kw.trim(), false),
                };
                normalizer.normalize_into(kw, &mut n);
                let mut first: Option<WordId> = None;
                let words: Vec<Box<str>> = n
                    .iter()
                    .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::Number))
                    .inspect(|t| {
                        first.get_or_insert(t.word);
                    })
                    .map(|t| Box::from(t.text))
                    .collect();
                if words.is_empty() {
                    continue;
                }
                if prefix && words.len() == 1 {
                    m.prefixes.push((words[0].clone(), ti));
                    continue;
                }
                let list = match first.unwrap_or(NO_WORD) {
                    NO_WORD => m.phrases.entry(words[0].clone()).or_default(),
                    id => m.by_word.entry(id).or_default(),
                };
                list.push((words[1..].to_vec().into_boxed_slice(), ti));
                list.sort_by_key(|k| std::cmp::Reverse(k.0.len()));
            }
            for tag in &topic.hashtags {
                let tag = tag.trim().trim_start_matches('#').to_lowercase();
                if !tag.is_empty() {
                    m.hashtags.entry(format!("#{tag}").into_boxed_str()).or_default().push(ti);
                }
            }
        }
        m
    }

    /// Topic ids of a normalised message, in taxonomy order, each once.
    pub fn topics(&self, n: &Normalized) -> Vec<&str> {
        let mut hit = [0u64; 4];
        let mut extra: Vec<u16> = Vec::new();
        let mut mark = |ti: u16| {
            let i = ti as usize;
            if i < 256 {
                hit[i / 64] |= 1 << (i % 64);
            } else if !extra.contains(&ti) {
                extra.push(ti);
            }
        };
        for i in 0..n.len() {
            let Some(t) = n.get(i) else { break };
            match t.kind {
                TokenKind::Hashtag => {
                    if let Some(list) = self.hashtags.get(t.text) {
                        list.iter().for_each(|&ti| mark(ti));
                    }
                }
                TokenKind::Word | TokenKind::Number => {
                    let list = match t.word {
                        NO_WORD => self.phrases.get(t.text),
                        id => self.by_word.get(&id),
                    };
                    if let Some(list) = list {
                        for (rest, ti) in list {
                            if rest.iter().enumerate().all(|(k, w)| n.text(i + 1 + k) == Some(&**w)) {
                                mark(*ti);
                            }
                        }
                    }
                    for (stem, ti) in &self.prefixes {
                        if t.text.starts_with(&**stem) {
                            mark(*ti);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (i, id) in self.ids.iter().enumerate() {
            let on = if i < 256 { hit[i / 64] & (1 << (i % 64)) != 0 } else { extra.contains(&(i as u16)) };
            if on {
                out.push(id.as_str());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::normalize;

    fn topics(s: &str) -> Vec<String> {
        TopicMatcher::new(&Taxonomy::builtin()).topics(&normalize(s)).into_iter().map(String::from).collect()
    }

    #[test]
    fn shipped_taxonomy_is_valid_and_broad() {
        let t = Taxonomy::from_json(TAXONOMY_JSON).unwrap();
        assert!(t.topics.len() >= 16);
        for id in [
            "infrastruktur_jalan",
            "bencana_banjir",
            "kesehatan_bpjs",
            "pendidikan_ppdb",
            "adminduk",
            "bansos",
            "pajak_kendaraan",
            "stunting",
        ] {
            assert!(t.topics.iter().any(|x| x.id == id), "{id}");
        }
        assert!(t.topics.iter().all(|x| !x.keywords.is_empty()));
    }

    #[test]
    fn matches_words_phrases_prefixes_and_hashtags() {
        assert_eq!(topics("Jln rusak parah di Lamongan"), vec!["infrastruktur_jalan"]);
        assert_eq!(topics("Desa kami kebanjiran lagi"), vec!["bencana_banjir"]);
        assert_eq!(topics("banjirnya sudah surut"), vec!["bencana_banjir"]);
        assert!(topics("Syarat daftar PPDB jalur zonasi apa min?").contains(&"pendidikan_ppdb".to_string()));
        assert_eq!(topics("ayo #JatimBangkit"), vec!["program_gubernur"]);
        assert!(topics("Pemutihan pajak motor kapan lagi?").contains(&"pajak_kendaraan".to_string()));
        assert!(topics("bpjs kesehatan saya dinonaktifkan").contains(&"kesehatan_bpjs".to_string()));
        assert!(topics("kapan bansos BLT cair").contains(&"bansos".to_string()));
    }

    #[test]
    fn whole_words_only() {
        // "tol" must not match inside "tolong", nor "kk" inside "kakak".
        assert!(topics("tolong dong kakak").is_empty());
        assert!(topics("").is_empty());
        assert!(topics("😡😡").is_empty());
    }

    #[test]
    fn custom_taxonomy_and_bad_ones() {
        let t = Taxonomy::from_json(r##"{"topics":[{"id":"mudik","name":"Mudik","kind":"kegiatan","keywords":["arus mudik","pulang kampung"],"hashtags":["#MudikAman"]}]}"##).unwrap();
        let m = TopicMatcher::new(&t);
        assert_eq!(m.topics(&normalize("arus mudik lancar #mudikaman")), vec!["mudik"]);
        assert!(m.topics(&normalize("mudik saja")).is_empty());
        assert!(matches!(Taxonomy::from_json("{"), Err(TaxonomyError::Json(_))));
        assert!(matches!(
            Taxonomy::from_json(
                r#"{"topics":[{"id":"a","name":"A","kind":"program"},{"id":"a","name":"B","kind":"program"}]}"#
            ),
            Err(TaxonomyError::DuplicateId(_))
        ));
        assert!(Taxonomy::from_json(r#"{"topics":[{"id":"a","name":"A","kind":"acara"}]}"#).is_err());
    }
}
