//! Telegram Bot API webhooks: `X-Telegram-Bot-Api-Secret-Token` equals the configured secret.

use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Parsed, WebhookError, from_epoch, parse_json};
use crate::domain::{Author, MentionKey, NewMention, Platform};

/// Compares the secret-token header with the configured secret in constant time.
pub fn verify(header: Option<&[u8]>, secret: &str) -> bool {
    header.is_some_and(|h| bool::from(h.ct_eq(secret.as_bytes())))
}

#[derive(Deserialize)]
struct Update {
    message: Option<Message>,
    edited_message: Option<Message>,
    channel_post: Option<Message>,
    edited_channel_post: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    from: Option<User>,
    chat: Chat,
    date: i64,
    text: Option<String>,
    caption: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    title: Option<String>,
    username: Option<String>,
}

/// Parses one Update. Messages, edits and channel posts become mentions (an edit keeps the
/// original key); other update types are acknowledged and ignored.
pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let update: Update = parse_json(body)?;
    let mut parsed = Parsed::default();
    let message = update.message.or(update.edited_message).or(update.channel_post).or(update.edited_channel_post);
    let Some(m) = message else {
        parsed.ignored += 1;
        return Ok(parsed);
    };
    let (Some(text), Some(created_at)) = (m.text.or(m.caption), from_epoch(m.date)) else {
        parsed.ignored += 1;
        return Ok(parsed);
    };
    let Ok(key) = MentionKey::new(Platform::Telegram, format!("{}.{}", m.chat.id, m.message_id)) else {
        parsed.unmapped += 1;
        return Ok(parsed);
    };
    let author = match m.from {
        Some(u) => Author {
            id: u.id.to_string(),
            handle: u.username,
            name: Some([u.first_name, u.last_name].into_iter().flatten().collect::<Vec<_>>().join(" "))
                .filter(|n| !n.is_empty()),
            followers: None,
        },
        // Channel posts are signed by the channel itself.
        None => {
            Author { id: m.chat.id.to_string(), handle: m.chat.username.clone(), name: m.chat.title, followers: None }
        }
    };
    let url = m.chat.username.map(|u| format!("https://t.me/{u}/{}", m.message_id));
    parsed.mentions.push(NewMention { key, text, url, created_at, author });
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_include_the_chat() {
        let body = include_bytes!("../../../tests/fixtures/telegram/message.json");
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.mentions.len(), 1);
        let m = &parsed.mentions[0];
        assert!(m.key.to_string().starts_with("telegram:-100"), "{}", m.key);
        assert!(m.key.external_id().contains('.'));
        assert!(!m.text.is_empty());
    }

    #[test]
    fn callback_queries_are_ignored_and_garbage_refused() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/telegram/callback_query.json")).unwrap();
        assert_eq!((parsed.mentions.len(), parsed.ignored), (0, 1));
        assert!(matches!(parse(b"{not json"), Err(WebhookError::Malformed(_))));
        assert!(verify(Some(b"s3cret"), "s3cret"));
        assert!(!verify(Some(b"s3cre"), "s3cret"));
        assert!(!verify(None, "s3cret"));
    }
}
