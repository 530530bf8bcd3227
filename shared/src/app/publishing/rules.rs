//! The platforms' rules for a post, checked on create and update: each refusal names the
//! platform and the rule, and the office's playbook (photos, hashtags on X, short Facebook
//! posts) gives warnings, not refusals.

use serde::Serialize;

use crate::domain::{PUBLISH_PLATFORMS, Platform, Post};
use crate::platforms::text::{X_MAX_WEIGHTED, X_URL_WEIGHT, char_count, hashtags, x_weighted_length};

/// Instagram's caption limit.
pub const INSTAGRAM_MAX_CAPTION: usize = 2200;
/// Telegram's limits: a message, and a photo's caption.
pub const TELEGRAM_MAX_TEXT: usize = 4096;
pub const TELEGRAM_MAX_CAPTION: usize = 1024;

/// The office's rules (`PANTAU_FACEBOOK_MAX_CHARS`, `PANTAU_FACEBOOK_SHORT_CHARS`,
/// `PANTAU_INSTAGRAM_MAX_HASHTAGS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostRules {
    /// The house limit on Facebook (a refusal above it).
    pub facebook_max_chars: usize,
    /// Above this a Facebook post gets a warning: short is better.
    pub facebook_short_chars: usize,
    pub instagram_max_hashtags: usize,
}

impl Default for PostRules {
    fn default() -> Self {
        PostRules { facebook_max_chars: 1000, facebook_short_chars: 250, instagram_max_hashtags: 30 }
    }
}

/// A rule a post breaks, naming where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The platform, or none for the post as a whole.
    pub platform: Option<Platform>,
    /// The field the finding is about (`text`, `variants.x.alternatives[1]`, `media`…).
    pub field: String,
    pub message: String,
}

/// What the rules say of a post.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub refusals: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

/// The room a link to the Instagram post takes on X (a space and a link).
const LINK_ROOM: usize = 1 + X_URL_WEIGHT;

/// The text published on a platform: the wording, then the link, the Instagram link and the
/// hashtags the wording does not carry yet.
pub fn compose(post: &Post, platform: Platform, ordinal: u32, instagram_link: Option<&str>) -> String {
    let mut text = post.text_for(platform, ordinal).trim().to_string();
    if let Some(link) = &post.link
        && !text.contains(link.as_str())
    {
        text.push(' ');
        text.push_str(link);
    }
    if let Some(link) = instagram_link {
        text.push(' ');
        text.push_str(link);
    }
    let present = hashtags(&text);
    let missing: Vec<String> =
        post.hashtags.iter().filter(|h| !present.contains(&h.to_lowercase())).map(|h| format!("#{h}")).collect();
    if !missing.is_empty() {
        text.push(' ');
        text.push_str(&missing.join(" "));
    }
    text
}

/// Checks a post against each of its platforms' rules.
pub fn check(post: &Post, rules: &PostRules) -> Verdict {
    let mut v = Verdict::default();
    let refuse = |v: &mut Verdict, platform, field: &str, message: String| {
        v.refusals.push(Finding { platform, field: field.to_string(), message })
    };
    if post.platforms.is_empty() {
        refuse(&mut v, None, "platforms", "name at least one platform to publish to".into());
    }
    for p in &post.platforms {
        if !PUBLISH_PLATFORMS.contains(p) {
            refuse(
                &mut v,
                Some(*p),
                "platforms",
                format!("Pantau does not publish to {p}; it publishes to x, facebook, instagram and telegram"),
            );
        }
    }
    for (platform, variant) in &post.variants {
        if !post.platforms.contains(platform) {
            refuse(
                &mut v,
                Some(*platform),
                &format!("variants.{platform}"),
                format!("a variant for {platform}, which the post is not published to"),
            );
        }
        let mut seen = vec![variant.text.as_deref().unwrap_or(&post.text).trim().to_string()];
        for (i, alternative) in variant.alternatives.iter().enumerate() {
            let alternative = alternative.trim().to_string();
            if alternative.is_empty() || seen.contains(&alternative) {
                refuse(
                    &mut v,
                    Some(*platform),
                    &format!("variants.{platform}.alternatives[{i}]"),
                    "must be a different, non-empty wording (X refuses identical text)".into(),
                );
            }
            seen.push(alternative);
        }
    }
    let wordings = |platform: Platform| {
        let n = post.variants.get(&platform).map_or(0, |v| v.alternatives.len()) as u32 + 1;
        (0..n).map(move |i| {
            let field = if i == 0 {
                if post.variants.get(&platform).is_some_and(|v| v.text.is_some()) {
                    format!("variants.{platform}.text")
                } else {
                    "text".to_string()
                }
            } else {
                format!("variants.{platform}.alternatives[{}]", i - 1)
            };
            (field, compose(post, platform, i, None))
        })
    };
    for platform in post.platforms.iter().copied().filter(|p| PUBLISH_PLATFORMS.contains(p)) {
        let links_instagram = post.link_instagram && post.platforms.contains(&Platform::Instagram);
        for (field, text) in wordings(platform) {
            let chars = char_count(&text);
            match platform {
                Platform::X => {
                    let room = if links_instagram { LINK_ROOM } else { 0 };
                    let weighted = x_weighted_length(&text) + room;
                    if weighted > X_MAX_WEIGHTED {
                        let with = if room > 0 { " with the Instagram link" } else { "" };
                        refuse(
                            &mut v,
                            Some(platform),
                            &field,
                            format!(
                                "{weighted} weighted characters{with} by X's counting (links 23, emoji and CJK 2); X takes {X_MAX_WEIGHTED}"
                            ),
                        );
                    }
                    if hashtags(&text).is_empty() {
                        v.warnings.push(Finding {
                            platform: Some(platform),
                            field: field.clone(),
                            message: "no hashtag: posts with a hashtag reach more people on X".into(),
                        });
                    }
                }
                Platform::Facebook => {
                    if chars > rules.facebook_max_chars {
                        refuse(
                            &mut v,
                            Some(platform),
                            &field,
                            format!(
                                "{chars} characters; the office's limit on Facebook is {}",
                                rules.facebook_max_chars
                            ),
                        );
                    } else if chars > rules.facebook_short_chars {
                        v.warnings.push(Finding {
                            platform: Some(platform),
                            field: field.clone(),
                            message: format!(
                                "{chars} characters: short is better on Facebook (at most {} reads best)",
                                rules.facebook_short_chars
                            ),
                        });
                    }
                }
                Platform::Instagram => {
                    if chars > INSTAGRAM_MAX_CAPTION {
                        refuse(
                            &mut v,
                            Some(platform),
                            &field,
                            format!("{chars} characters; an Instagram caption takes {INSTAGRAM_MAX_CAPTION}"),
                        );
                    }
                    let tags = hashtags(&text).len();
                    if tags > rules.instagram_max_hashtags {
                        refuse(
                            &mut v,
                            Some(platform),
                            &field,
                            format!("{tags} hashtags; at most {} on Instagram", rules.instagram_max_hashtags),
                        );
                    }
                }
                Platform::Telegram => {
                    let (limit, what) = if post.media.is_empty() {
                        (TELEGRAM_MAX_TEXT, "message")
                    } else {
                        (TELEGRAM_MAX_CAPTION, "photo caption")
                    };
                    if chars > limit {
                        refuse(
                            &mut v,
                            Some(platform),
                            &field,
                            format!("{chars} characters; a Telegram {what} takes {limit}"),
                        );
                    }
                }
                _ => {}
            }
        }
        if platform == Platform::Instagram && post.media.is_empty() {
            refuse(&mut v, Some(platform), "media", "Instagram needs an image".into());
        }
    }
    if post.media.is_empty() {
        v.warnings.push(Finding {
            platform: None,
            field: "media".into(),
            message: "no photo: posts with a photo draw far more attention".into(),
        });
    }
    if post.link_instagram && !post.platforms.contains(&Platform::Instagram) {
        refuse(
            &mut v,
            None,
            "link_instagram",
            "the post is not published to instagram, so there is no Instagram post to link".into(),
        );
    }
    v
}
