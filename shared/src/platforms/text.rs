//! How the platforms measure text: X's weighted length (twitter-text v3, docs/platforms.md §2),
//! and the plain character counts of the others.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// X's limit in weighted characters.
pub const X_MAX_WEIGHTED: usize = 280;
/// What X counts a link as, whatever its length.
pub const X_URL_WEIGHT: usize = 23;

/// Code points X counts as one (the rest as two): twitter-text v3's four ranges.
fn light(c: char) -> bool {
    matches!(u32::from(c), 0..=4351 | 8192..=8205 | 8208..=8223 | 8242..=8247)
}

/// Whether a grapheme is an emoji sequence (counted as two whatever its length): a pictograph,
/// a flag, a keycap, or anything joined or presented as emoji.
fn is_emoji(grapheme: &str) -> bool {
    grapheme.chars().any(|c| {
        matches!(u32::from(c),
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF
            | 0x200D | 0xFE0F | 0x20E3 | 0x3030 | 0x303D | 0x3297 | 0x3299)
    }) && !grapheme.chars().all(|c| matches!(c, '\u{200D}' | '\u{FE0F}'))
}

/// Top-level domains a bare `name.tld` must end with to count as a link (X links those too).
const TLDS: [&str; 22] = [
    "id", "com", "org", "net", "info", "io", "co", "me", "ly", "gov", "edu", "app", "dev", "xyz", "tv", "news", "biz",
    "asia", "online", "site", "web", "my",
];

/// Whether a whitespace-separated word is a link as X sees it.
fn is_link(word: &str) -> bool {
    let w = word.trim_end_matches(['.', ',', '!', '?', ')', ';', ':']);
    if w.starts_with("http://") || w.starts_with("https://") {
        return w.len() > "https://".len();
    }
    let host = w.split('/').next().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && TLDS.contains(&labels[labels.len() - 1].to_ascii_lowercase().as_str())
        && !w.starts_with('@')
}

/// X's weighted length of a text: NFC first; each link 23; each emoji sequence 2; each other
/// code point 1 or 2 by its range.
pub fn x_weighted_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut weight = 0;
    for piece in runs(&text) {
        if is_link(piece) {
            weight += X_URL_WEIGHT;
            continue;
        }
        for grapheme in piece.graphemes(true) {
            weight += if is_emoji(grapheme) { 2 } else { grapheme.chars().map(|c| if light(c) { 1 } else { 2 }).sum() };
        }
    }
    weight
}

/// The text cut into runs of whitespace and runs of everything else, every character kept.
fn runs(text: &str) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut previous: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if previous.is_some_and(|p| p != space) {
            runs.push(&text[start..i]);
            start = i;
        }
        previous = Some(space);
    }
    if start < text.len() {
        runs.push(&text[start..]);
    }
    runs
}

/// Characters as people count them (Facebook, Instagram, Telegram limits).
pub fn char_count(text: &str) -> usize {
    text.nfc().count()
}

/// The hashtags of a text, without `#`, lower-cased.
pub fn hashtags(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|w| w.strip_prefix('#'))
        .map(|t| t.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_').to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of twitter-text's own v3 conformance suite (docs/platforms.md §2.2).
    #[test]
    fn x_counts_as_twitter_text_v3() {
        assert_eq!(x_weighted_length("Hi http://test.co"), 26);
        assert_eq!(x_weighted_length("http://test.co"), 23);
        assert_eq!(x_weighted_length(&"https://www.twitter.com/aloha ".repeat(10)), 240);
        assert_eq!(x_weighted_length("H🐱☺👨‍👩‍👧‍👦"), 7);
        assert_eq!(x_weighted_length("😷👾😡🔥💩"), 10);
        assert_eq!(x_weighted_length("🙋🏽👨‍🎤"), 4);
        assert_eq!(x_weighted_length(&"中".repeat(160)), 320);
        assert_eq!(x_weighted_length("A\u{301}B"), 2, "NFC first");
        assert_eq!(x_weighted_length("Info lengkap di jatimprov.go.id ya"), 16 + 23 + 3);
        assert_eq!(x_weighted_length("Selamat pagi Jawa Timur"), 23);
        assert_eq!(x_weighted_length("@jatimprov 3.5 juta"), 19, "mentions and numbers are not links");
    }

    #[test]
    fn hashtags_are_read_without_their_sign() {
        assert_eq!(hashtags("Ayo #JatimBangkit, dan #PPDB2026!"), ["jatimbangkit", "ppdb2026"]);
        assert!(hashtags("tanpa tagar").is_empty());
        assert_eq!(char_count("é"), 1);
    }
}
