//! Text normalisation for social-media Indonesian.
//!
//! Turns a raw message into tokens: lower case, URLs/@mentions/numbers as placeholder tokens,
//! hashtags kept and split into words, elongations collapsed, slang and Javanese mapped to
//! standard Indonesian (keeping the original word for language detection and explanations),
//! emoji and emoticons mapped to sentiment-bearing tokens.
//!
//! Work is bounded: only the first [`MAX_INPUT_BYTES`] of a message and at most [`MAX_TOKENS`]
//! tokens are looked at, so a 100 KB paste costs the same as an 8 KB one.

use super::lexicon::{EmojiClass, Lexicon, NO_WORD, WordId, is_emoji_char, is_emoji_modifier, lexicon};

/// Bytes of a message that are normalised; the rest is ignored (and `truncated` is set).
pub const MAX_INPUT_BYTES: usize = 8 * 1024;
/// Tokens kept per message.
pub const MAX_TOKENS: usize = 1024;
/// Hashtags longer than this are not segmented into words (the work is quadratic).
const MAX_SEGMENT_BYTES: usize = 40;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word (after slang/Javanese mapping: `text` is the standard form).
    Word,
    /// A number; `text` is `<num>`.
    Number,
    /// A link; `text` is `<url>`.
    Url,
    /// An @mention; `text` is `<mention>`.
    Mention,
    /// A hashtag, `text` is `#tag` in lower case; its words follow as `Word` tokens.
    Hashtag,
    /// An emoji or emoticon; `text` is `<emo+>`, `<emo->`, `<tawa>` or `<emo>`.
    Emoji(EmojiClass),
    /// Written laughter (wkwk, hahaha); `text` is `<tawa>`.
    Laugh,
    /// One or more `?`.
    Question,
    /// One or more `!`.
    Exclamation,
}

/// Token flags.
pub mod flags {
    /// A word that came from splitting a hashtag.
    pub const FROM_HASHTAG: u16 = 1;
    /// Second or later word of a dictionary expansion ("dll" → dan *lain lain*).
    pub const CONTINUATION: u16 = 2;
    /// First word of a sentence.
    pub const SENTENCE_START: u16 = 4;
    /// Written in capitals (3+ letters).
    pub const SHOUTED: u16 = 8;
    /// Replaced through the slang or Javanese dictionary.
    pub const MAPPED: u16 = 16;
    /// Had an elongation (bagusss).
    pub const ELONGATED: u16 = 32;
    /// Letters outside the Latin script.
    pub const NON_LATIN: u16 = 64;
    /// Mapped through the Javanese dictionary.
    pub const JAVANESE: u16 = 128;
    /// Written with a capital first letter (and not all capitals) where no sentence starts: a
    /// name, most likely (a place, a person); never shown as a keyword reason.
    pub const CAPITALIZED: u16 = 256;
    /// A place name of `data/places.txt` that is no topic keyword (features read it as "a place").
    pub const PLACE: u16 = 512;
    /// Never shown as a reason: a stop word, a place, or a name (capitalised, not in the
    /// dictionaries).
    pub const HIDDEN: u16 = 1024;
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: TokenKind,
    text: (u32, u32),
    orig: (u32, u32),
    flags: u16,
    /// Ids of `text` and `orig` in the lexicon's word table (set for words by pass 2).
    word: WordId,
    orig_word: WordId,
}

impl Tok {
    fn new(kind: TokenKind, text: (u32, u32), orig: (u32, u32), flags: u16) -> Tok {
        Tok { kind, text, orig, flags, word: NO_WORD, orig_word: NO_WORD }
    }
}

/// A normalised message. Reusable: [`Normalizer::normalize_into`] clears and refills it.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    buf: String,
    pre: Vec<Tok>,
    toks: Vec<Tok>,
    scratch: String,
    /// The message was longer than [`MAX_INPUT_BYTES`] or [`MAX_TOKENS`].
    pub truncated: bool,
    /// Number of `?` characters.
    pub question_marks: u32,
    /// Number of `!` characters.
    pub exclamations: u32,
}

/// One token of a [`Normalized`] message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    /// Normalised form (features, rules, taxonomy read this).
    pub text: &'a str,
    /// Original form, lower case, elongation collapsed (language detection and explanations).
    pub orig: &'a str,
    pub flags: u16,
    /// Ids of `text` and `orig` in the lexicon ([`Lexicon::word_id`]; `NO_WORD` for other
    /// tokens and for words no list knows).
    pub word: WordId,
    pub orig_word: WordId,
}

impl Token<'_> {
    /// True when the flag is set.
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

impl Normalized {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// True when there is no token at all.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// Token `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Token<'_>> {
        self.toks.get(i).map(|t| self.view(t))
    }

    /// Normalised text of token `i`.
    #[inline]
    pub fn text(&self, i: usize) -> Option<&str> {
        self.toks.get(i).map(|t| &self.buf[t.text.0 as usize..t.text.1 as usize])
    }

    #[inline]
    fn view(&self, t: &Tok) -> Token<'_> {
        Token {
            kind: t.kind,
            text: &self.buf[t.text.0 as usize..t.text.1 as usize],
            orig: &self.buf[t.orig.0 as usize..t.orig.1 as usize],
            flags: t.flags,
            word: t.word,
            orig_word: t.orig_word,
        }
    }

    /// All tokens in order.
    pub fn iter(&self) -> impl Iterator<Item = Token<'_>> + '_ {
        self.toks.iter().map(|t| self.view(t))
    }

    /// The normalised tokens joined by spaces (for tests and debugging).
    pub fn to_text(&self) -> String {
        self.iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.pre.clear();
        self.toks.clear();
        self.truncated = false;
        self.question_marks = 0;
        self.exclamations = 0;
    }

    fn push_str(&mut self, s: &str) -> (u32, u32) {
        let start = self.buf.len() as u32;
        self.buf.push_str(s);
        (start, self.buf.len() as u32)
    }
}

/// Normalises messages with a [`Lexicon`].
#[derive(Clone, Copy)]
pub struct Normalizer {
    lex: &'static Lexicon,
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Normalizer")
    }
}

impl Default for Normalizer {
    fn default() -> Self {
        Self { lex: lexicon() }
    }
}

/// Normalises `text` with the shipped dictionaries.
pub fn normalize(text: &str) -> Normalized {
    let mut out = Normalized::default();
    Normalizer::default().normalize_into(text, &mut out);
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn cap(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut n = max;
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    &text[..n]
}

const URL_TLDS: &[&str] = &["com", "id", "net", "org", "ly", "io", "co", "me", "info", "gov", "gl", "to"];

fn looks_like_url(chunk: &str) -> bool {
    let lower_starts = |p: &str| chunk.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if lower_starts("http://") || lower_starts("https://") || lower_starts("www.") {
        return true;
    }
    // Most chunks have no dot: no domain to look at.
    if !chunk.contains('.') {
        return false;
    }
    // Bare domains ("jatimprov.go.id", "bit.ly/abc"): a dot, letters before it, a known TLD after.
    let host = chunk.split('/').next().unwrap_or(chunk).trim_end_matches(['.', ',', ')', '!', '?']);
    if let Some((name, tld)) = host.rsplit_once('.') {
        return !name.is_empty()
            && name.chars().any(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && URL_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
            && (chunk.contains('/') || name.contains('.') || tld.len() >= 2);
    }
    false
}

/// Maps look-alike letters used for emphasis (fullwidth, mathematical bold/italic) to ASCII.
#[inline]
fn fold_char(c: char) -> char {
    let u = c as u32;
    match u {
        0xFF01..=0xFF5E => char::from_u32(u - 0xFEE0).unwrap_or(c),
        0x1D400..=0x1D6A3 => {
            let off = (u - 0x1D400) % 52;
            if off < 26 { (b'A' + off as u8) as char } else { (b'a' + (off - 26) as u8) as char }
        }
        0x1D7CE..=0x1D7FF => (b'0' + ((u - 0x1D7CE) % 10) as u8) as char,
        _ => c,
    }
}

#[inline]
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c as u32, 0x1D400..=0x1D7FF | 0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A)
}

#[inline]
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c as u32, 0xC0..=0x24F | 0x1E00..=0x1EFF)
}

/// Is `w` laughter such as "wkwk", "wkwkwk", "hahaha", "hehe", "xixixi"?
fn is_laughter(w: &str) -> bool {
    let b = w.as_bytes();
    if b.len() < 4 {
        return false;
    }
    if b.iter().all(|&c| c == b'w' || c == b'k') {
        return b.iter().filter(|&&c| c == b'k').count() >= 2 && b.contains(&b'w');
    }
    for pair in [b"ha", b"he", b"hi", b"xi", b"ka", b"ak"] {
        let mut ok = true;
        for (i, &c) in b.iter().enumerate() {
            if c != pair[i % 2] {
                ok = false;
                break;
            }
        }
        if ok {
            return true;
        }
    }
    matches!(w, "awokwok" | "awokawok" | "awkwk" | "awkawk" | "lol" | "lmao")
}

impl Normalizer {
    /// Normalises `text` into `out`, reusing its buffers.
    pub fn normalize_into(&self, text: &str, out: &mut Normalized) {
        out.clear();
        let capped = cap(text, MAX_INPUT_BYTES);
        out.truncated = capped.len() < text.len();
        self.scan(capped, out);
        self.map_dictionaries(out);
    }

    /// Pass 1: split into chunks and tokens; words get their base form (lower case, folded,
    /// elongation collapsed) in both `text` and `orig`.
    fn scan(&self, text: &str, out: &mut Normalized) {
        let mut sentence_start = true;
        let mut i = 0;
        while i < text.len() {
            if out.pre.len() >= MAX_TOKENS {
                out.truncated = true;
                return;
            }
            // Whitespace between chunks; a newline ends a sentence.
            let c = match text[i..].chars().next() {
                Some(c) => c,
                None => break,
            };
            if c.is_whitespace() {
                if c == '\n' {
                    sentence_start = true;
                }
                i += c.len_utf8();
                continue;
            }
            let end = text[i..].find(char::is_whitespace).map_or(text.len(), |e| i + e);
            let chunk = &text[i..end];
            i = end;
            // Placeholders of public tweet corpora ("USER", "[USERNAME]", "URL", "[URL]") are
            // what a mention or a link is in live traffic.
            match chunk.trim_end_matches([',', '.', ':', ';', '!', '?']) {
                "USER" | "[USERNAME]" | "@USER" => {
                    let r = out.push_str("<mention>");
                    out.pre.push(Tok::new(TokenKind::Mention, r, r, 0));
                    if chunk.ends_with(['!', '?', '.']) {
                        self.scan_chunk(&chunk[chunk.len() - 1..], out, &mut sentence_start);
                    }
                    continue;
                }
                "URL" | "[URL]" => {
                    let r = out.push_str("<url>");
                    out.pre.push(Tok::new(TokenKind::Url, r, r, 0));
                    continue;
                }
                _ => {}
            }
            if looks_like_url(chunk) {
                let r = out.push_str("<url>");
                let o = out.push_str(cap(chunk, 200));
                out.pre.push(Tok::new(TokenKind::Url, r, o, 0));
                continue;
            }
            if chunk.len() <= 5 && !chunk.chars().all(char::is_alphanumeric) {
                out.scratch.clear();
                out.scratch.extend(chunk.chars().flat_map(char::to_lowercase));
                if let Some(&class) = self.lex.emoticons.get(out.scratch.as_str()) {
                    self.push_emoji(out, class, chunk);
                    continue;
                }
            }
            self.scan_chunk(chunk, out, &mut sentence_start);
        }
    }

    fn push_emoji(&self, out: &mut Normalized, class: EmojiClass, orig: &str) {
        let text = match class {
            EmojiClass::Positif => "<emo+>",
            EmojiClass::Negatif => "<emo->",
            EmojiClass::Tawa => "<tawa>",
            EmojiClass::Netral => "<emo>",
        };
        let r = out.push_str(text);
        let o = out.push_str(orig);
        out.pre.push(Tok::new(TokenKind::Emoji(class), r, o, 0));
    }

    fn scan_chunk(&self, chunk: &str, out: &mut Normalized, sentence_start: &mut bool) {
        let mut it = chunk.char_indices().peekable();
        while let Some((pos, c)) = it.next() {
            if out.pre.len() >= MAX_TOKENS {
                return;
            }
            let next_is_word = it.peek().is_some_and(|&(_, n)| is_word_char(n));
            if (c == '@' || c == '#') && next_is_word {
                let start = pos + 1;
                let mut end = start;
                while let Some(&(p, n)) = it.peek() {
                    if is_word_char(n) || n == '_' || (c == '@' && n == '.') {
                        end = p + n.len_utf8();
                        it.next();
                    } else {
                        break;
                    }
                }
                let name = chunk[start..end].trim_end_matches('.');
                if c == '@' {
                    let r = out.push_str("<mention>");
                    out.scratch.clear();
                    out.scratch.push('@');
                    out.scratch.extend(name.chars().map(fold_char).flat_map(char::to_lowercase));
                    let s = std::mem::take(&mut out.scratch);
                    let o = out.push_str(&s);
                    out.scratch = s;
                    out.pre.push(Tok::new(TokenKind::Mention, r, o, 0));
                } else {
                    self.push_hashtag(name, out);
                }
                *sentence_start = false;
                continue;
            }
            if is_word_char(c) {
                let start = pos;
                let mut end = pos + c.len_utf8();
                let mut prev = c;
                while let Some(&(p, n)) = it.peek() {
                    let keep = is_word_char(n)
                        // 1.000.000, 3,5
                        || ((n == '.' || n == ',') && prev.is_ascii_digit() && chunk[p + 1..].starts_with(|d: char| d.is_ascii_digit()))
                        // it's, apa'o
                        || ((n == '\'' || n == '’') && prev.is_alphabetic() && chunk[p + n.len_utf8()..].starts_with(char::is_alphabetic));
                    if !keep {
                        break;
                    }
                    end = p + n.len_utf8();
                    prev = n;
                    it.next();
                }
                let flags = if *sentence_start { flags::SENTENCE_START } else { 0 };
                self.push_word(&chunk[start..end], flags, out);
                *sentence_start = false;
                continue;
            }
            if is_emoji_modifier(c) {
                continue;
            }
            if is_emoji_char(c) {
                let class = self.lex.emoji.get(&c).copied().unwrap_or(EmojiClass::Netral);
                let mut tmp = [0u8; 4];
                self.push_emoji(out, class, c.encode_utf8(&mut tmp));
                continue;
            }
            match c {
                '?' | '!' => {
                    let (kind, text) =
                        if c == '?' { (TokenKind::Question, "?") } else { (TokenKind::Exclamation, "!") };
                    while let Some(&(_, m)) = it.peek() {
                        if m == '?' || m == '!' {
                            if m == '?' {
                                out.question_marks += 1
                            } else {
                                out.exclamations += 1
                            }
                            it.next();
                        } else {
                            break;
                        }
                    }
                    if c == '?' {
                        out.question_marks += 1
                    } else {
                        out.exclamations += 1
                    }
                    let r = out.push_str(text);
                    out.pre.push(Tok::new(kind, r, r, 0));
                    *sentence_start = true;
                }
                '.' | ';' | '…' | '。' => *sentence_start = true,
                _ => {}
            }
        }
    }

    /// A hashtag token, then its words (camel case, else known-word segmentation).
    fn push_hashtag(&self, name: &str, out: &mut Normalized) {
        out.scratch.clear();
        out.scratch.push('#');
        out.scratch.extend(name.chars().map(fold_char).flat_map(char::to_lowercase));
        let tag = std::mem::take(&mut out.scratch);
        let r = out.push_str(&tag);
        out.pre.push(Tok::new(TokenKind::Hashtag, r, r, 0));
        out.scratch = tag;

        let folded: String = name.chars().map(fold_char).collect();
        let chars: Vec<char> = folded.chars().collect();
        let has_lower = chars.iter().any(|c| c.is_lowercase());
        let has_camel = has_lower && chars.windows(2).any(|w| w[0].is_lowercase() && w[1].is_uppercase());
        let mut pieces: Vec<String> = Vec::new();
        if has_camel {
            // Split before an upper-case letter that follows a lower-case one, before the last
            // capital of a capital run followed by lower case (PPDBJatim → PPDB Jatim), and
            // between letters and digits.
            let mut cur = String::new();
            for (k, &c) in chars.iter().enumerate() {
                let prev = if k > 0 { Some(chars[k - 1]) } else { None };
                let next = chars.get(k + 1).copied();
                let boundary = match prev {
                    None => false,
                    Some(p) => {
                        (p.is_lowercase() && c.is_uppercase())
                            || (p.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase))
                            || (p.is_ascii_digit() != c.is_ascii_digit())
                            || p == '_'
                    }
                };
                if boundary && !cur.is_empty() {
                    pieces.push(std::mem::take(&mut cur));
                }
                if c != '_' {
                    cur.extend(c.to_lowercase());
                }
            }
            if !cur.is_empty() {
                pieces.push(cur);
            }
        } else {
            let lower: String = folded.chars().flat_map(char::to_lowercase).collect();
            for part in lower.split('_').filter(|p| !p.is_empty()) {
                // Letters and digits apart, then segment each letter run.
                let mut run = String::new();
                let mut run_digit = false;
                for c in part.chars() {
                    let d = c.is_ascii_digit();
                    if !run.is_empty() && d != run_digit {
                        self.segment_into(&run, run_digit, &mut pieces);
                        run.clear();
                    }
                    run_digit = d;
                    run.push(c);
                }
                if !run.is_empty() {
                    self.segment_into(&run, run_digit, &mut pieces);
                }
            }
        }
        for p in pieces {
            if out.pre.len() >= MAX_TOKENS {
                break;
            }
            self.push_word(&p, flags::FROM_HASHTAG, out);
        }
    }

    fn segment_into(&self, run: &str, digits: bool, pieces: &mut Vec<String>) {
        if digits || run.len() > MAX_SEGMENT_BYTES || !run.is_ascii() || self.lex.is_known(run) {
            pieces.push(run.to_string());
            return;
        }
        match self.segment(run) {
            Some(parts) => pieces.extend(parts),
            None => pieces.push(run.to_string()),
        }
    }

    /// Splits an ASCII run into known words, fewest pieces first; None when impossible.
    fn segment(&self, s: &str) -> Option<Vec<String>> {
        let n = s.len();
        // best[i] = (pieces, previous cut) for s[..i]
        let mut best: Vec<Option<(u32, usize)>> = vec![None; n + 1];
        best[0] = Some((0, 0));
        for end in 1..=n {
            for start in (0..end).rev() {
                if end - start > 20 {
                    break;
                }
                if end - start < 2 {
                    continue;
                }
                let Some((k, _)) = best[start] else { continue };
                if self.lex.is_known(&s[start..end]) || self.lex.slang.contains_key(&s[start..end]) {
                    let cand = (k + 1, start);
                    if best[end].is_none_or(|(bk, _)| cand.0 < bk) {
                        best[end] = Some(cand);
                    }
                }
            }
        }
        best[n]?;
        let mut cuts = Vec::new();
        let mut end = n;
        while end > 0 {
            let (_, start) = best[end]?;
            cuts.push(s[start..end].to_string());
            end = start;
        }
        cuts.reverse();
        Some(cuts)
    }

    /// A raw word: lower case, numbers apart, reduplication (anak2), laughter, elongation.
    fn push_word(&self, raw: &str, mut flags: u16, out: &mut Normalized) {
        let mut lower = std::mem::take(&mut out.scratch);
        lower.clear();
        let (mut letters, mut uppers, mut non_latin) = (0u32, 0u32, false);
        for c in raw.chars() {
            let c = fold_char(c);
            if c.is_alphabetic() {
                letters += 1;
                if c.is_uppercase() {
                    uppers += 1;
                }
                if !is_latin_letter(c) {
                    non_latin = true;
                }
            }
            if c.is_ascii() {
                lower.push(c.to_ascii_lowercase());
            } else {
                lower.extend(c.to_lowercase());
            }
        }
        if letters >= 3 && uppers == letters {
            flags |= flags::SHOUTED;
        } else if flags & (flags::SENTENCE_START | flags::FROM_HASHTAG) == 0
            && letters >= 2
            && raw.chars().next().is_some_and(char::is_uppercase)
            && uppers == 1
        {
            flags |= flags::CAPITALIZED;
        }
        if non_latin {
            flags |= flags::NON_LATIN;
        }
        if lower.bytes().any(|b| b.is_ascii_digit()) {
            self.push_with_digits(&lower, flags, out);
        } else {
            self.push_letters(&lower, flags, out);
        }
        out.scratch = lower;
    }

    fn push_with_digits(&self, lower: &str, flags: u16, out: &mut Normalized) {
        // "anak2" / "dua2nya" / "sok2an": Indonesian reduplication written with a 2.
        if let Some(p) = lower.find('2') {
            let (a, b) = (&lower[..p], &lower[p + 1..]);
            if a.chars().count() >= 2 && a.chars().all(char::is_alphabetic) && b.chars().all(char::is_alphabetic) {
                self.push_letters(a, flags, out);
                let second = format!("{a}{b}");
                self.push_letters(&second, flags & !flags::SENTENCE_START, out);
                return;
            }
        }
        let mut start = 0;
        let mut first = true;
        let bytes = lower.as_bytes();
        let mut k = 0;
        while k <= lower.len() {
            let boundary = k == lower.len()
                || (k > start && lower.is_char_boundary(k) && {
                    let prev_digit = bytes[k - 1].is_ascii_digit()
                        || ((bytes[k - 1] == b'.' || bytes[k - 1] == b',') && k >= 2 && bytes[k - 2].is_ascii_digit());
                    let cur_digit = bytes[k].is_ascii_digit() || ((bytes[k] == b'.' || bytes[k] == b',') && prev_digit);
                    prev_digit != cur_digit
                });
            if boundary && k > start {
                let part = &lower[start..k];
                let f = if first { flags } else { flags & !flags::SENTENCE_START };
                if part.as_bytes()[0].is_ascii_digit() {
                    let r = out.push_str("<num>");
                    let o = out.push_str(part);
                    out.pre.push(Tok::new(TokenKind::Number, r, o, f));
                } else {
                    self.push_letters(part, f, out);
                }
                first = false;
                start = k;
            }
            k += 1;
        }
    }

    fn push_letters(&self, w: &str, mut flags: u16, out: &mut Normalized) {
        if w.is_empty() || out.pre.len() >= MAX_TOKENS {
            return;
        }
        if is_laughter(w) {
            let r = out.push_str("<tawa>");
            let o = out.push_str(w);
            out.pre.push(Tok::new(TokenKind::Laugh, r, o, flags));
            return;
        }
        let (collapsed, elongated) = self.collapse(w);
        if elongated {
            flags |= flags::ELONGATED;
        }
        let r = out.push_str(&collapsed);
        out.pre.push(Tok::new(TokenKind::Word, r, r, flags));
    }

    /// Collapses elongations: runs of 3+ letters to one (or two where only that gives a known
    /// word: maaaf → maaf), and a doubled last letter when only the single form is known.
    pub fn collapse<'w>(&self, w: &'w str) -> (std::borrow::Cow<'w, str>, bool) {
        use std::borrow::Cow;
        // Fast path without allocating: no run of three and no doubled last letter.
        let mut run = 0;
        let mut prev = '\0';
        let mut has_run = false;
        for c in w.chars() {
            run = if c == prev { run + 1 } else { 1 };
            prev = c;
            if run >= 3 {
                has_run = true;
                break;
            }
        }
        if !has_run && (w.len() < 4 || run < 2) {
            return (Cow::Borrowed(w), false);
        }
        let chars: Vec<char> = w.chars().collect();
        let mut runs: Vec<(usize, usize)> = Vec::new(); // (start, len) of runs ≥ 3
        let mut k = 0;
        while k < chars.len() {
            let mut j = k + 1;
            while j < chars.len() && chars[j] == chars[k] {
                j += 1;
            }
            if j - k >= 3 && chars[k].is_alphabetic() {
                runs.push((k, j - k));
            }
            k = j;
        }
        if runs.is_empty() {
            let n = chars.len();
            if n >= 4 && chars[n - 1] == chars[n - 2] && chars[n - 1].is_alphabetic() && !self.lex.is_known(w) {
                let single: String = chars[..n - 1].iter().collect();
                if self.lex.is_known(&single) {
                    return (Cow::Owned(single), true);
                }
            }
            return (Cow::Borrowed(w), false);
        }
        let build = |mask: u32| -> String {
            let mut s = String::with_capacity(w.len());
            let mut k = 0;
            let mut r = 0;
            while k < chars.len() {
                if r < runs.len() && runs[r].0 == k {
                    let keep = if mask & (1 << r) != 0 { 2 } else { 1 };
                    for _ in 0..keep {
                        s.push(chars[k]);
                    }
                    k += runs[r].1;
                    r += 1;
                } else {
                    s.push(chars[k]);
                    k += 1;
                }
            }
            s
        };
        let single = build(0);
        if self.lex.is_known(&single) || runs.len() > 4 {
            return (Cow::Owned(single), true);
        }
        for mask in 1..(1u32 << runs.len()) {
            let cand = build(mask);
            if self.lex.is_known(&cand) {
                return (Cow::Owned(cand), true);
            }
        }
        (Cow::Owned(single), true)
    }

    /// Pass 2: slang and Javanese dictionaries (with two-word keys), original kept.
    fn map_dictionaries(&self, out: &mut Normalized) {
        let pre = std::mem::take(&mut out.pre);
        out.toks.reserve(pre.len());
        let mut i = 0;
        while i < pre.len() {
            let t = pre[i];
            if t.kind != TokenKind::Word {
                out.toks.push(t);
                i += 1;
                continue;
            }
            let word = &out.buf[t.text.0 as usize..t.text.1 as usize];
            // One look-up tells every dictionary's answer; the dictionaries live for the whole
            // process, so no copy of an expansion is needed.
            let lex: &'static Lexicon = self.lex;
            let id = lex.word_id(word);
            // Two-word keys first ("matur nuwun").
            if let Some(next) = pre.get(i + 1)
                && next.kind == TokenKind::Word
                && let Some(exp) = lex.pair_expansion(id, &out.buf[next.text.0 as usize..next.text.1 as usize])
            {
                let orig = format!("{word} {}", &out.buf[next.text.0 as usize..next.text.1 as usize]);
                let o = out.push_str(&orig);
                self.push_expansion(out, exp, (o, lex.word_id(&orig)), t.flags | flags::JAVANESE);
                i += 2;
                continue;
            }
            match lex.expansion(id) {
                Some((exp, jv)) => {
                    let jv = if jv { flags::JAVANESE } else { 0 };
                    self.push_expansion(out, exp, (t.orig, id), t.flags | jv);
                }
                None => out.toks.push(Tok { word: id, orig_word: id, ..t }),
            }
            i += 1;
        }
        out.pre = pre;
        if out.toks.len() > MAX_TOKENS {
            out.toks.truncate(MAX_TOKENS);
            out.truncated = true;
        }
        // What the features and the reasons need to know of each word, from the ids above.
        use super::lexicon::word_info::{KNOWN, MASKED_PLACE, PLACE, STOP};
        for t in out.toks.iter_mut().filter(|t| t.kind == TokenKind::Word) {
            let a = self.lex.entry(t.word).info;
            let b = self.lex.entry(t.orig_word).info;
            if a & MASKED_PLACE != 0 {
                t.flags |= flags::PLACE;
            }
            let name = t.flags & flags::CAPITALIZED != 0 && b & KNOWN == 0;
            if (a | b) & (STOP | PLACE) != 0 || name {
                t.flags |= flags::HIDDEN;
            }
        }
    }

    /// Pushes the words of `exp` (their ids) for the original word at `orig` (its range and id).
    fn push_expansion(&self, out: &mut Normalized, exp: &[WordId], orig: ((u32, u32), WordId), flags: u16) {
        for (k, &id) in exp.iter().enumerate() {
            let r = out.push_str(self.lex.word(id));
            let f = if k == 0 {
                flags | flags::MAPPED
            } else {
                (flags & !flags::SENTENCE_START) | flags::MAPPED | flags::CONTINUATION
            };
            out.toks.push(Tok { word: id, orig_word: orig.1, ..Tok::new(TokenKind::Word, r, orig.0, f) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).to_text()
    }

    #[test]
    fn lowercases_and_expands_slang() {
        assert_eq!(norm("Jalan yg RUSAK gak diperbaiki"), "jalan yang rusak tidak diperbaiki");
        assert_eq!(norm("udh 3 bln blm ada kabar, knp?"), "sudah <num> bulan belum ada kabar kenapa ?");
        assert_eq!(norm("sy tdk tau dgn dll"), "saya tidak tahu dengan dan lain lain");
        assert_eq!(norm("gmn caranya"), "bagaimana caranya");
        assert_eq!(norm("bgt"), "banget");
    }

    #[test]
    fn urls_mentions_numbers_become_placeholders() {
        let n = normalize("Cek https://jatimprov.go.id/berita?id=1 @KominfoJatim 1.500.000 jatimprov.go.id");
        let kinds: Vec<_> = n.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, vec![TokenKind::Word, TokenKind::Url, TokenKind::Mention, TokenKind::Number, TokenKind::Url]);
        assert_eq!(n.to_text(), "cek <url> <mention> <num> <url>");
        assert_eq!(n.get(2).unwrap().orig, "@kominfojatim");
        assert_eq!(norm("20rb per motor"), "<num> ribu per motor");
    }

    #[test]
    fn hashtags_are_kept_and_split() {
        assert_eq!(norm("#JatimBangkit"), "#jatimbangkit jatim bangkit");
        assert_eq!(norm("#jatimbangkit"), "#jatimbangkit jatim bangkit");
        assert_eq!(norm("#PPDBJatim2025"), "#ppdbjatim2025 ppdb jatim <num>");
        assert_eq!(norm("#xyzqwv"), "#xyzqwv xyzqwv");
        let n = normalize("#JatimBangkit");
        assert_eq!(n.get(0).unwrap().kind, TokenKind::Hashtag);
        assert!(n.get(1).unwrap().has(flags::FROM_HASHTAG));
    }

    #[test]
    fn elongations_collapse_but_legit_doubles_stay() {
        assert_eq!(norm("bagusss"), "bagus");
        assert_eq!(norm("tolonggg"), "tolong");
        assert_eq!(norm("maaaaf"), "maaf");
        assert_eq!(norm("saat tunggu maaf"), "saat tunggu maaf");
        assert_eq!(norm("tungguuuu"), "tunggu");
        assert_eq!(norm("yaaaa"), "ya");
        assert!(normalize("bagusss").get(0).unwrap().has(flags::ELONGATED));
        assert!(!normalize("bagus").get(0).unwrap().has(flags::ELONGATED));
    }

    #[test]
    fn javanese_maps_but_keeps_the_original() {
        let n = normalize("ora iso, piye iki rek");
        assert_eq!(n.to_text(), "tidak bisa bagaimana ini teman");
        let origs: Vec<_> = n.iter().map(|t| t.orig).collect();
        assert_eq!(origs, vec!["ora", "iso", "piye", "iki", "rek"]);
        assert!(n.get(0).unwrap().has(flags::JAVANESE));
        assert_eq!(norm("matur nuwun bu"), "terima kasih ibu");
        assert_eq!(normalize("matur nuwun").get(0).unwrap().orig, "matur nuwun");
    }

    #[test]
    fn emoji_and_emoticons_carry_sentiment() {
        assert_eq!(norm("mantap 👍👍 🙏🏻"), "mantap <emo+> <emo+> <emo+>");
        assert_eq!(norm("😡🤬 👎"), "<emo-> <emo-> <emo->");
        assert_eq!(norm("❤️ :) :( 😂"), "<emo+> <emo+> <emo-> <tawa>");
        assert_eq!(norm("wkwkwk hahaha"), "<tawa> <tawa>");
    }

    #[test]
    fn reduplication_and_sentence_starts() {
        assert_eq!(norm("anak2 sekolah"), "anak anak sekolah");
        let n = normalize("Bagus. Tapi mahal");
        assert!(n.get(0).unwrap().has(flags::SENTENCE_START));
        assert!(n.get(1).unwrap().has(flags::SENTENCE_START));
        assert!(!n.get(2).unwrap().has(flags::SENTENCE_START));
    }

    #[test]
    fn odd_input_never_panics_and_is_bounded() {
        for s in [
            "",
            "   ",
            "\u{0}\u{FFFF}\u{10FFFF}",
            "🙏🏽‍♂️",
            "@",
            "#",
            "##",
            "?!?!",
            "𝐁𝐀𝐆𝐔𝐒 𝐒𝐄𝐊𝐀𝐋𝐈",
            "ｂａｇｕｓ",
            "a\u{301}",
            "2",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ترحيب 中文",
        ] {
            let _ = normalize(s).to_text();
        }
        assert_eq!(norm("𝐁𝐀𝐆𝐔𝐒 ｂａｇｕｓ"), "bagus bagus");
        let long = "jalan rusak parah ".repeat(10_000);
        let n = normalize(&long);
        assert!(n.truncated);
        assert!(n.len() <= MAX_TOKENS);
    }

    #[test]
    fn corpus_placeholders_are_mentions_and_links() {
        let n = normalize("USER USER: iya [USERNAME] cek URL atau [URL]. user biasa");
        let kinds: Vec<_> = n.iter().map(|t| t.kind).collect();
        assert_eq!(kinds[..3], [TokenKind::Mention, TokenKind::Mention, TokenKind::Word]);
        assert_eq!(n.to_text(), "<mention> <mention> ya <mention> cek <url> atau <url> user biasa");
    }

    #[test]
    fn names_and_places_are_flagged() {
        let n = normalize("Atap sekolah di Kecamatan Sumberpucung Malang ambrol. Tolong Pak");
        let get = |w: &str| n.iter().find(|t| t.orig == w).unwrap();
        assert!(get("sumberpucung").has(flags::CAPITALIZED) && get("sumberpucung").has(flags::PLACE));
        assert!(get("malang").has(flags::PLACE));
        assert!(!get("atap").has(flags::CAPITALIZED), "a sentence start is no name");
        assert!(!get("tolong").has(flags::CAPITALIZED), "nor after a full stop");
        assert!(!normalize("banjir").get(0).unwrap().has(flags::PLACE));
    }

    #[test]
    fn the_corpus_slang_list_fills_gaps_but_ours_wins() {
        assert_eq!(norm("yg"), "yang");
        assert_eq!(norm("brharga"), "berharga");
        // Javanese words keep their Javanese mapping and flag.
        assert!(normalize("ora").get(0).unwrap().has(flags::JAVANESE));
    }

    #[test]
    fn question_and_exclamation_marks_are_counted() {
        let n = normalize("kapan??? buka!!");
        assert_eq!(n.question_marks, 3);
        assert_eq!(n.exclamations, 2);
        assert_eq!(n.to_text(), "kapan ? buka !");
    }
}
