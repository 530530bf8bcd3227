//! The classifier's dictionaries (files under `data/`), parsed once into fast lookup tables.
//!
//! The files are the office's own, plain text, one entry per line, so a linguist can edit them
//! without touching code. A malformed line is skipped rather than failing the whole build: the
//! unit tests below check that every shipped line parses.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

pub(crate) const SLANG_TSV: &str = include_str!("data/slang.tsv");
pub(crate) const JAVANESE_TSV: &str = include_str!("data/javanese.tsv");
pub(crate) const EMOJI_TSV: &str = include_str!("data/emoji.tsv");
pub(crate) const ABUSIVE_TSV: &str = include_str!("data/abusive.tsv");
pub(crate) const CUES_TSV: &str = include_str!("data/cues.tsv");
pub(crate) const LANGWORDS_TSV: &str = include_str!("data/langwords.tsv");
pub(crate) const STOPWORDS_TXT: &str = include_str!("data/stopwords.txt");
pub(crate) const PLACES_TXT: &str = include_str!("data/places.txt");
pub(crate) const KAMUSALAY_CSV: &str = include_str!("data/kamusalay.csv");
pub(crate) const WORDS_TXT: &str = include_str!("data/words.txt");
pub(crate) const TAXONOMY_JSON: &str = include_str!("data/taxonomy.json");

/// FxHash-style hasher: the keys are short words, and SipHash would dominate classification time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ v).wrapping_mul(FX_K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ b as u64).wrapping_mul(FX_K);
        }
        self.0 = h;
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(FX_K);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(FX_K);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(FX_K);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Sentiment class of an emoji or emoticon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmojiClass {
    Positif,
    Negatif,
    Tawa,
    Netral,
}

impl EmojiClass {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "positif" => Some(Self::Positif),
            "negatif" => Some(Self::Negatif),
            "tawa" => Some(Self::Tawa),
            "netral" => Some(Self::Netral),
            _ => None,
        }
    }
}

/// Kind of an abusive word: an insult aimed at someone, or profanity that may be a mere exclamation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbuseKind {
    Hinaan,
    Kasar,
}

/// Kind of a rule cue (see `data/cues.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueKind {
    Tanya,
    MintaInfo,
    Retoris,
    Sasaran,
    Kamu,
    Usulan,
    /// A concrete problem (damage, outage, flood, refusal…): the stuff of complaints.
    Masalah,
    /// Praise, thanks or congratulations.
    Pujian,
    /// A wish, demand or plea.
    Harapan,
}

/// Phrases of one to four words, indexed by their first word; matched on normalised tokens.
/// The words after the first of a phrase, and the phrase's value.
type PhraseTail<V> = (Box<[Box<str>]>, V);

pub struct PhraseSet<V> {
    /// First word → index in `lists`.
    by_first: FastMap<Box<str>, u32>,
    lists: Vec<Vec<PhraseTail<V>>>,
}

impl<V: Copy> PhraseSet<V> {
    fn new() -> Self {
        Self { by_first: FastMap::default(), lists: Vec::new() }
    }

    fn insert(&mut self, phrase: &str, value: V) {
        let mut words = phrase.split_whitespace();
        let Some(first) = words.next() else { return };
        let rest: Box<[Box<str>]> = words.map(Box::from).collect();
        let next = self.lists.len() as u32;
        let i = *self.by_first.entry(Box::from(first)).or_insert(next) as usize;
        if i == self.lists.len() {
            self.lists.push(Vec::new());
        }
        let list = &mut self.lists[i];
        list.push((rest, value));
        // Longest phrase first, so a match prefers "tidak punya otak" to "tidak".
        list.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    }

    /// The longest phrase of list `list` (that of the first word, `words(0)`, in its
    /// [`WordEntry`]) starting at `words(0)`: its value and length in words.
    #[inline]
    fn match_list<'a>(&self, list: u32, words: impl Fn(usize) -> Option<&'a str>) -> Option<(V, usize)> {
        let list = self.lists.get(list as usize)?;
        'cand: for (rest, value) in list {
            for (i, w) in rest.iter().enumerate() {
                if words(i + 1) != Some(&**w) {
                    continue 'cand;
                }
            }
            return Some((*value, rest.len() + 1));
        }
        None
    }

    fn words(&self) -> impl Iterator<Item = &str> {
        self.by_first.iter().flat_map(|(k, &v)| {
            std::iter::once(&**k).chain(self.lists[v as usize].iter().flat_map(|(r, _)| r.iter().map(|w| &**w)))
        })
    }
}

/// A word's id in [`Lexicon::word`]'s table; [`NO_WORD`] for a word no list knows.
pub type WordId = u32;
/// The id of a word in none of the dictionaries.
pub const NO_WORD: WordId = u32::MAX;
const NONE: u32 = u32::MAX;

/// What every dictionary says of one word, found in one look-up ([`Lexicon::word_id`]).
#[derive(Debug, Clone, Copy)]
pub struct WordEntry {
    /// [`word_info`] bits.
    pub info: u8,
    /// The slang/Javanese replacement: an index in `Lexicon::expansions` (or `NONE`), and whether
    /// it is Javanese.
    dict: u32,
    javanese: bool,
    /// Two-word keys starting with this word: an index in `Lexicon::pairs` (or `NONE`).
    pairs: u32,
    /// Abusive phrases and cue phrases starting with it: their lists (or `NONE`).
    abuse: u32,
    cue: u32,
    /// Language evidence: an index in `Lexicon::langs` (or `NONE`).
    lang: u32,
}

impl WordEntry {
    const EMPTY: WordEntry =
        WordEntry { info: 0, dict: NONE, javanese: false, pairs: NONE, abuse: NONE, cue: NONE, lang: NONE };
}

/// The table and the entries while they are built.
struct TableBuilder {
    table: WordTable,
    entries: Vec<WordEntry>,
}

impl TableBuilder {
    fn id(&mut self, w: &str) -> WordId {
        let id = self.table.insert(w);
        if id as usize == self.entries.len() {
            self.entries.push(WordEntry::EMPTY);
        }
        id
    }

    fn entry(&mut self, w: &str) -> &mut WordEntry {
        let id = self.id(w) as usize;
        &mut self.entries[id]
    }
}

/// An open-addressing table of words (keys one after another in one string), so a look-up
/// hashes once, compares 32 bits of hash before any bytes and reads no heap key of its own.
struct WordTable {
    /// (upper half of the hash, id + 1); (_, 0) is empty. At most half full.
    slots: Vec<(u32, u32)>,
    keys: String,
    /// End of word `id`'s key in `keys` (its start is the previous end).
    ends: Vec<u32>,
}

#[inline]
fn word_hash(w: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(w.as_bytes());
    // Fx mixes poorly into the low bits that pick the slot.
    let x = h.finish();
    x ^ (x >> 29) ^ (x >> 47)
}

impl WordTable {
    /// A table for about `words` words (it grows if more come).
    fn with_capacity(words: usize) -> WordTable {
        let size = (words * 2).next_power_of_two().max(16);
        WordTable { slots: vec![(0, 0); size], keys: String::with_capacity(words * 8), ends: Vec::with_capacity(words) }
    }

    /// The id of `w`, added (with the next id) if new; ids count from 0 in order of addition.
    /// One hash and one probe: a new word takes the empty slot that ended the search.
    fn insert(&mut self, w: &str) -> WordId {
        let h = word_hash(w);
        let i = match self.probe(w, h) {
            Ok(id) => return id,
            Err(empty) => empty,
        };
        self.keys.push_str(w);
        self.ends.push(self.keys.len() as u32);
        let id = self.ends.len() as u32;
        if self.ends.len() * 2 > self.slots.len() {
            self.grow();
        } else {
            self.slots[i] = ((h >> 32) as u32, id);
        }
        id - 1
    }

    fn place(&mut self, h: u64, id: u32) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i].1 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = ((h >> 32) as u32, id);
    }

    /// Doubles the slots (when more words come than the estimate given at creation).
    fn grow(&mut self) {
        self.resize(self.slots.len() * 2);
    }

    /// Re-places every word in `size` slots.
    fn resize(&mut self, size: usize) {
        self.slots = vec![(0, 0); size];
        for id in 0..self.ends.len() {
            self.place(word_hash(self.key(id)), id as u32 + 1);
        }
    }

    /// Fewest slots for the words held (at most half full): a smaller table misses the cache less.
    fn shrink(&mut self) {
        let size = (self.ends.len() * 2).next_power_of_two().max(16);
        if size < self.slots.len() {
            self.resize(size);
        }
    }

    fn key(&self, id: usize) -> &str {
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.keys[start..self.ends[id] as usize]
    }

    /// [`WordTable::key`] as bytes (no character-boundary checks while comparing).
    #[inline]
    fn key_bytes(&self, id: usize) -> &[u8] {
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.keys.as_bytes()[start..self.ends[id] as usize]
    }

    #[inline]
    fn get(&self, w: &str) -> WordId {
        self.probe(w, word_hash(w)).unwrap_or(NO_WORD)
    }

    /// The id of `w` (hash `h`), or the empty slot where the search for it ended.
    #[inline]
    fn probe(&self, w: &str, h: u64) -> Result<WordId, usize> {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (tag, id) = self.slots[i];
            if id == 0 {
                return Err(i);
            }
            if tag == (h >> 32) as u32 && self.key_bytes(id as usize - 1) == w.as_bytes() {
                return Ok(id - 1);
            }
            i = (i + 1) & mask;
        }
    }
}

/// A dictionary entry's replacement: one or more standard words.
pub type Expansion = Box<[Box<str>]>;

/// Every dictionary, parsed.
pub struct Lexicon {
    pub slang: FastMap<Box<str>, Expansion>,
    pub javanese: FastMap<Box<str>, Expansion>,
    /// Two-word keys ("matur nuwun"), from either dictionary: first word → (second, expansion).
    pub pair_keys: FastMap<Box<str>, Vec<(Box<str>, Expansion)>>,
    pub emoji: FastMap<char, EmojiClass>,
    pub emoticons: FastMap<Box<str>, EmojiClass>,
    pub abusive: PhraseSet<AbuseKind>,
    pub cues: PhraseSet<CueKind>,
    /// Language evidence per word: weights for [id, jv, en].
    pub langwords: FastMap<Box<str>, [f32; 3]>,
    pub stopwords: FastSet<Box<str>>,
    /// Place names, never shown as reasons.
    pub places: FastSet<Box<str>>,
    /// Place names that are no topic keyword: the model reads them as one "a place" feature, so
    /// it cannot learn that a town is a complaint.
    pub masked_places: FastSet<Box<str>>,
    /// Words known to exist (for hashtag splitting and elongation repair).
    pub known: FastSet<Box<str>>,
    /// Every word of the lists above and what each says of it: one look-up per word.
    table: WordTable,
    entries: Vec<WordEntry>,
    /// Dictionary replacements (slang, Javanese, kamusalay in that precedence): their words' ids.
    expansions: Vec<Box<[WordId]>>,
    /// Two-word keys by first word: (second word, expansion index).
    pairs: Vec<Vec<(Box<str>, u32)>>,
    langs: Vec<[f32; 3]>,
}

/// Bits of [`Lexicon::info`].
pub mod word_info {
    pub const STOP: u8 = 1;
    pub const PLACE: u8 = 2;
    pub const MASKED_PLACE: u8 = 4;
    pub const KNOWN: u8 = 8;
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexicon")
            .field("slang", &self.slang.len())
            .field("javanese", &self.javanese.len())
            .field("known", &self.known.len())
            .finish_non_exhaustive()
    }
}

fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim_end).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn split_expansion(s: &str) -> Expansion {
    s.split_whitespace().map(Box::from).collect()
}

impl Lexicon {
    /// Parses the shipped dictionaries.
    pub fn builtin() -> Self {
        let mut lex = Lexicon {
            slang: FastMap::default(),
            javanese: FastMap::default(),
            pair_keys: FastMap::default(),
            emoji: FastMap::default(),
            emoticons: FastMap::default(),
            abusive: PhraseSet::new(),
            cues: PhraseSet::new(),
            langwords: FastMap::default(),
            stopwords: FastSet::default(),
            places: FastSet::default(),
            masked_places: FastSet::default(),
            known: FastSet::default(),
            table: WordTable::with_capacity(0),
            entries: Vec::new(),
            expansions: Vec::new(),
            pairs: Vec::new(),
            langs: Vec::new(),
        };
        for (text, is_slang) in [(SLANG_TSV, true), (JAVANESE_TSV, false)] {
            for line in data_lines(text) {
                let Some((key, value)) = line.split_once('\t') else { continue };
                let (key, value) = (key.trim(), value.trim());
                if key.is_empty() || value.is_empty() || key == value {
                    continue;
                }
                let exp = split_expansion(value);
                for w in exp.iter() {
                    lex.known.insert(w.clone());
                }
                if let Some((a, b)) = key.split_once(' ') {
                    lex.pair_keys.entry(Box::from(a)).or_default().push((Box::from(b.trim()), exp));
                    continue;
                }
                lex.known.insert(Box::from(key));
                let map = if is_slang { &mut lex.slang } else { &mut lex.javanese };
                map.entry(Box::from(key)).or_insert(exp);
            }
        }
        for line in data_lines(EMOJI_TSV) {
            let Some((key, class)) = line.split_once('\t') else { continue };
            let Some(class) = EmojiClass::parse(class.trim()) else { continue };
            let key: String = key.chars().filter(|c| !is_emoji_modifier(*c)).collect();
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if is_emoji_char(c) => {
                    lex.emoji.insert(c, class);
                }
                (Some(c), Some(_)) if is_emoji_char(c) => {
                    // A sequence such as a skin-toned thumb: its first emoji carries the meaning.
                    lex.emoji.entry(c).or_insert(class);
                }
                (Some(_), _) => {
                    lex.emoticons.insert(Box::from(key.to_lowercase().as_str()), class);
                }
                _ => {}
            }
        }
        for line in data_lines(ABUSIVE_TSV) {
            let Some((phrase, kind)) = line.split_once('\t') else { continue };
            let kind = match kind.trim() {
                "hinaan" => AbuseKind::Hinaan,
                "kasar" => AbuseKind::Kasar,
                _ => continue,
            };
            lex.abusive.insert(phrase.trim(), kind);
        }
        for line in data_lines(CUES_TSV) {
            let Some((phrase, kind)) = line.split_once('\t') else { continue };
            let kind = match kind.trim() {
                "tanya" => CueKind::Tanya,
                "minta_info" => CueKind::MintaInfo,
                "retoris" => CueKind::Retoris,
                "sasaran" => CueKind::Sasaran,
                "kamu" => CueKind::Kamu,
                "usulan" => CueKind::Usulan,
                "masalah" => CueKind::Masalah,
                "pujian" => CueKind::Pujian,
                "harapan" => CueKind::Harapan,
                _ => continue,
            };
            lex.cues.insert(phrase.trim(), kind);
        }
        for line in data_lines(LANGWORDS_TSV) {
            let mut cols = line.split('\t');
            let (Some(word), Some(lang), Some(weight)) = (cols.next(), cols.next(), cols.next()) else {
                continue;
            };
            let idx = match lang.trim() {
                "id" => 0,
                "jv" => 1,
                "en" => 2,
                _ => continue,
            };
            let Ok(weight) = weight.trim().parse::<f32>() else { continue };
            lex.langwords.entry(Box::from(word.trim())).or_insert([0.0; 3])[idx] = weight;
        }
        for line in data_lines(STOPWORDS_TXT) {
            lex.stopwords.insert(Box::from(line.trim()));
        }
        for line in data_lines(PLACES_TXT) {
            lex.places.insert(Box::from(line.trim()));
        }
        for line in data_lines(WORDS_TXT) {
            lex.known.insert(Box::from(line.trim()));
        }
        let mut extra: Vec<Box<str>> = Vec::new();
        extra.extend(lex.abusive.words().map(Box::from));
        extra.extend(lex.cues.words().map(Box::from));
        extra.extend(lex.stopwords.iter().cloned());
        extra.extend(lex.places.iter().cloned());
        extra.extend(lex.langwords.keys().cloned());
        let mut topic_words: FastSet<&str> = FastSet::default();
        let tax = serde_json::from_str::<serde_json::Value>(TAXONOMY_JSON).unwrap_or_default();
        for topic in tax["topics"].as_array().into_iter().flatten() {
            for kw in topic["keywords"].as_array().into_iter().flatten().filter_map(|kw| kw.as_str()) {
                extra.extend(
                    kw.trim_end_matches('*')
                        .split_whitespace()
                        .filter(|w| w.chars().all(char::is_alphabetic))
                        .map(Box::from),
                );
                topic_words.extend(kw.split_whitespace());
            }
        }
        lex.masked_places = lex.places.iter().filter(|p| !topic_words.contains(&***p)).cloned().collect();
        // Javanese keys kept above; remove words with an apostrophe or digits, useless here.
        for w in extra {
            if w.chars().all(char::is_alphabetic) {
                lex.known.insert(w);
            }
        }
        // ibrohim2019's larger slang list, only where ours say nothing: not over a key of ours, a
        // Javanese word, a language marker or a word known as standard, and single words only.
        // Its 13,700 entries go straight into the word table (a later line of a key wins, as
        // when they were a map); borrowed from the embedded text, nothing is copied.
        let mut kamus: Vec<(&'static str, &'static str)> = Vec::new();
        for line in data_lines(KAMUSALAY_CSV) {
            // Byte searches: the file is ASCII where it matters, and 15,000 short lines make a
            // `str` pattern search's set-up most of the work.
            let Some(comma) = line.bytes().position(|b| b == b',') else { continue };
            let (key, value) = (line[..comma].trim(), line[comma + 1..].trim());
            let plain = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
            // Lower-case words with one space between each (`value` is trimmed).
            let words = |v: &str| {
                v.bytes().all(|b| b.is_ascii_lowercase() || b == b' ') && !v.as_bytes().windows(2).any(|w| w == b"  ")
            };
            if !plain(key)
                || key.len() < 2
                || value.is_empty()
                || key == value
                || !words(value)
                || lex.slang.contains_key(key)
                || lex.javanese.contains_key(key)
                || lex.known.contains(key)
                || lex.langwords.contains_key(key)
            {
                continue;
            }
            kamus.push((key, value));
        }
        lex.build_table(&kamus);
        lex
    }

    /// Merges every list, and kamusalay's (key, replacement) lines, into one table of words and
    /// their entries.
    fn build_table(&mut self, kamus: &[(&str, &str)]) {
        // About the distinct words, so the table is sized once: the keys of every list (the
        // words of the replacements are mostly words counted already; 17,300 for 21,300 today,
        // the same 65,536 slots). More words only grow the table.
        let bound = self.slang.len()
            + self.javanese.len()
            + kamus.len()
            + self.pair_keys.values().map(|l| 1 + l.iter().map(|(_, e)| e.len()).sum::<usize>()).sum::<usize>()
            + self.abusive.by_first.len()
            + self.cues.by_first.len()
            + self.langwords.len()
            + self.stopwords.len()
            + self.places.len()
            + self.masked_places.len()
            + self.known.len();
        let mut b = TableBuilder { table: WordTable::with_capacity(bound), entries: Vec::with_capacity(bound) };
        let mut expansions: Vec<Box<[WordId]>> = Vec::new();
        // Precedence: slang over Javanese over kamusalay.
        for (map, javanese) in [(&self.slang, false), (&self.javanese, true)] {
            for (k, exp) in map {
                let words = exp.iter().map(|w| b.id(w)).collect();
                let e = b.entry(k);
                if e.dict == NONE {
                    e.dict = expansions.len() as u32;
                    e.javanese = javanese;
                    expansions.push(words);
                }
            }
        }
        for &(k, value) in kamus.iter().rev() {
            let id = b.id(k) as usize;
            if b.entries[id].dict == NONE {
                let words = value.split_ascii_whitespace().map(|w| b.id(w)).collect();
                b.entries[id].dict = expansions.len() as u32;
                expansions.push(words);
            }
        }
        for (first, list) in &self.pair_keys {
            let pairs = list
                .iter()
                .map(|(second, exp)| {
                    expansions.push(exp.iter().map(|w| b.id(w)).collect());
                    (second.clone(), expansions.len() as u32 - 1)
                })
                .collect();
            b.entry(first).pairs = self.pairs.len() as u32;
            self.pairs.push(pairs);
        }
        for (k, &list) in &self.abusive.by_first {
            b.entry(k).abuse = list;
        }
        for (k, &list) in &self.cues.by_first {
            b.entry(k).cue = list;
        }
        for (k, w) in &self.langwords {
            b.entry(k).lang = self.langs.len() as u32;
            self.langs.push(*w);
        }
        for (set, bit) in [
            (&self.stopwords, word_info::STOP),
            (&self.places, word_info::PLACE),
            (&self.masked_places, word_info::MASKED_PLACE),
            (&self.known, word_info::KNOWN),
        ] {
            for w in set {
                b.entry(w).info |= bit;
            }
        }
        b.table.shrink();
        self.entries = b.entries;
        self.expansions = expansions;
        self.table = b.table;
    }

    /// The id of a word in the merged table ([`NO_WORD`] when no list knows it).
    #[inline]
    pub fn word_id(&self, w: &str) -> WordId {
        self.table.get(w)
    }

    /// What the lists say of word `id` (nothing for [`NO_WORD`]).
    #[inline]
    pub fn entry(&self, id: WordId) -> &WordEntry {
        self.entries.get(id as usize).unwrap_or(&WordEntry::EMPTY)
    }

    /// The [`word_info`] bits of a word (0 when it is in none of those lists).
    #[inline]
    pub fn info(&self, w: &str) -> u8 {
        self.entry(self.word_id(w)).info
    }

    /// Is this word a known word (dictionary key or value, cue, taxonomy keyword, word list)?
    #[inline]
    pub fn is_known(&self, w: &str) -> bool {
        self.info(w) & word_info::KNOWN != 0
    }

    /// The text of word `id` ("" for [`NO_WORD`]).
    #[inline]
    pub fn word(&self, id: WordId) -> &str {
        if (id as usize) < self.table.ends.len() { self.table.key(id as usize) } else { "" }
    }

    /// The replacement of word `id` (its words' ids) and whether it is Javanese.
    #[inline]
    pub fn expansion(&self, id: WordId) -> Option<(&[WordId], bool)> {
        let e = self.entry(id);
        self.expansions.get(e.dict as usize).map(|x| (&**x, e.javanese))
    }

    /// The replacement of the two-word key (word `first`, then `second`).
    #[inline]
    pub fn pair_expansion(&self, first: WordId, second: &str) -> Option<&[WordId]> {
        let list = self.pairs.get(self.entry(first).pairs as usize)?;
        let &(_, exp) = list.iter().find(|(b, _)| &**b == second)?;
        self.expansions.get(exp as usize).map(|x| &**x)
    }

    /// The longest abusive phrase starting with word `first` (id of `words(0)`).
    #[inline]
    pub fn abuse_at<'a>(&self, first: WordId, words: impl Fn(usize) -> Option<&'a str>) -> Option<(AbuseKind, usize)> {
        self.abusive.match_list(self.entry(first).abuse, words)
    }

    /// The longest cue phrase starting with word `first` (id of `words(0)`).
    #[inline]
    pub fn cue_at<'a>(&self, first: WordId, words: impl Fn(usize) -> Option<&'a str>) -> Option<(CueKind, usize)> {
        self.cues.match_list(self.entry(first).cue, words)
    }

    /// Language evidence of word `id` ([id, jv, en]), when a list has it.
    #[inline]
    pub fn lang(&self, id: WordId) -> Option<&[f32; 3]> {
        self.langs.get(self.entry(id).lang as usize)
    }
}

/// The shipped dictionaries, parsed once per process.
pub fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(Lexicon::builtin)
}

/// A pictographic character (emoji proper, dingbats, misc symbols).
#[inline]
pub fn is_emoji_char(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x2300..=0x23FF | 0x2190..=0x21FF
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x2122)
}

/// Joiners, variation selectors and skin tones: they decorate an emoji without changing it.
#[inline]
pub fn is_emoji_modifier(c: char) -> bool {
    matches!(c as u32, 0xFE0E | 0xFE0F | 0x200D | 0x20E3 | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_data_lines(text: &str) -> usize {
        data_lines(text).count()
    }

    #[test]
    fn every_dictionary_line_parses() {
        let lex = lexicon();
        // Every non-comment line has a tab and a recognised value; identity entries are skipped.
        for (name, text, cols) in [
            ("slang", SLANG_TSV, 2),
            ("javanese", JAVANESE_TSV, 2),
            ("emoji", EMOJI_TSV, 2),
            ("abusive", ABUSIVE_TSV, 2),
            ("cues", CUES_TSV, 2),
            ("langwords", LANGWORDS_TSV, 3),
        ] {
            for line in data_lines(text) {
                assert_eq!(line.split('\t').count(), cols, "{name}: bad line {line:?}");
            }
        }
        assert!(count_data_lines(SLANG_TSV) > 200);
        assert_eq!(lex.slang.get("yg").map(|e| e.join(" ")), Some("yang".into()));
        assert_eq!(lex.slang.get("dll").map(|e| e.join(" ")), Some("dan lain lain".into()));
        assert_eq!(lex.javanese.get("piye").map(|e| e.join(" ")), Some("bagaimana".into()));
        assert!(lex.pair_keys.contains_key("matur"));
        assert_eq!(
            lex.pair_expansion(lex.word_id("matur"), "nuwun")
                .map(|e| e.iter().map(|&w| lex.word(w)).collect::<Vec<_>>()),
            Some(vec!["terima", "kasih"])
        );
        assert_eq!(lex.emoji.get(&'😡'), Some(&EmojiClass::Negatif));
        assert_eq!(lex.emoji.get(&'🙏'), Some(&EmojiClass::Positif));
        assert_eq!(lex.emoji.get(&'❤'), Some(&EmojiClass::Positif));
        assert_eq!(lex.emoticons.get(":("), Some(&EmojiClass::Negatif));
        assert_eq!(lex.langwords.get("ora").map(|w| w[1]), Some(1.0));
        assert!(lex.is_known("maaf") || lex.is_known("jatim"));
        assert!(lex.stopwords.contains("yang"));
    }

    #[test]
    fn phrases_prefer_the_longest_match() {
        let lex = lexicon();
        let words = ["tidak", "punya", "otak", "pak"];
        let m = lex.abuse_at(lex.word_id("tidak"), |i| words.get(i).copied());
        assert_eq!(m, Some((AbuseKind::Hinaan, 3)));
        let words = ["tidak", "apa"];
        assert_eq!(lex.abuse_at(lex.word_id("tidak"), |i| words.get(i).copied()), None);
        let words = ["mohon", "info", "dong"];
        assert_eq!(lex.cue_at(lex.word_id("mohon"), |i| words.get(i).copied()), Some((CueKind::MintaInfo, 2)));
    }

    #[test]
    fn one_table_answers_every_list() {
        let lex = lexicon();
        for w in lex.known.iter().chain(lex.stopwords.iter()).chain(lex.slang.keys()).chain(lex.langwords.keys()) {
            let id = lex.word_id(w);
            assert_ne!(id, NO_WORD, "{w}");
            assert_eq!(lex.word(id), &**w);
        }
        assert_eq!(lex.word_id("xqzzyvw"), NO_WORD);
        assert_eq!(lex.word_id(""), NO_WORD);
        assert_eq!((lex.entry(NO_WORD).info, lex.word(NO_WORD)), (0, ""));
        // Our slang wins over kamusalay; a Javanese word says so.
        let (exp, jv) = lex.expansion(lex.word_id("yg")).unwrap();
        assert_eq!((lex.word(exp[0]), jv), ("yang", false));
        assert!(lex.expansion(lex.word_id("piye")).unwrap().1);
        assert_eq!(lex.lang(lex.word_id("ora")).map(|w| w[1]), Some(1.0));
    }

    #[test]
    fn fx_hasher_is_deterministic() {
        let mut a = FxHasher::default();
        a.write(b"jalan rusak");
        let mut b = FxHasher::default();
        b.write(b"jalan rusak");
        assert_eq!(a.finish(), b.finish());
        let mut c = FxHasher::default();
        c.write(b"jalan rusaK");
        assert_ne!(a.finish(), c.finish());
    }
}
