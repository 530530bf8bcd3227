//! Telegram Bot API webhooks: `X-Telegram-Bot-Api-Secret-Token` equals the configured secret.

use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::{Parsed, WebhookError, from_epoch, parse_json, raw_of};
use crate::domain::{Author, MentionKey, NewMention, Platform};

/// Compares the secret-token header with the configured secret in constant time.
pub fn verify(header: Option<&[u8]>, secret: &str) -> bool {
    header.is_some_and(|h| bool::from(h.ct_eq(secret.as_bytes())))
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    from: Option<User>,
    chat: Chat,
    date: i64,
    edit_date: Option<i64>,
    text: Option<String>,
    caption: Option<String>,
    reply_to_message: Option<Box<Message>>,
    message_thread_id: Option<i64>,
    photo: Option<Value>,
    video: Option<Value>,
    document: Option<Value>,
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

/// Parses one Update. Messages and channel posts become mentions; their edits reuse the
/// original key; other update types are acknowledged and ignored.
pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let update: Value = parse_json(body)?;
    let mut parsed = Parsed::default();
    let found = [("message", false), ("channel_post", false), ("edited_message", true), ("edited_channel_post", true)]
        .into_iter()
        .find_map(|(field, edit)| update.get(field).map(|m| (m, edit)));
    let Some((raw, edit)) = found else {
        parsed.ignored += 1;
        return Ok(parsed);
    };
    let Ok(m) = serde_json::from_value::<Message>(raw.clone()) else {
        parsed.unmapped += 1;
        return Ok(parsed);
    };
    let has_media = m.photo.is_some() || m.video.is_some() || m.document.is_some();
    let (Some(text), Some(created_at)) = (m.text.or(m.caption), from_epoch(m.date)) else {
        // Stickers, joins, pins… carry no text to read.
        parsed.ignored += 1;
        return Ok(parsed);
    };
    let Ok(key) = MentionKey::new(Platform::Telegram, format!("{}.{}", m.chat.id, m.message_id)) else {
        parsed.unmapped += 1;
        return Ok(parsed);
    };
    let author = match m.from {
        Some(u) => Author {
            id: Some(u.id.to_string()),
            handle: u.username,
            name: Some([u.first_name, u.last_name].into_iter().flatten().collect::<Vec<_>>().join(" "))
                .filter(|n| !n.is_empty()),
            followers: None,
        },
        // Channel posts are signed by the channel itself.
        None => Author {
            id: Some(m.chat.id.to_string()),
            handle: m.chat.username.clone(),
            name: m.chat.title,
            followers: None,
        },
    };
    let mut mention = NewMention::new(key, text, created_at, author);
    mention.url = m.chat.username.map(|u| format!("https://t.me/{u}/{}", m.message_id));
    mention.thread_id = Some(match m.message_thread_id {
        Some(topic) => format!("{}.{topic}", m.chat.id),
        None => m.chat.id.to_string(),
    });
    mention.parent_id = m.reply_to_message.map(|r| format!("{}.{}", m.chat.id, r.message_id));
    mention.has_media = has_media;
    mention.edited_at = m.edit_date.and_then(from_epoch);
    mention.raw = raw_of(raw);
    parsed.message(mention, edit);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Item;

    #[test]
    fn message_keys_include_the_chat() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/telegram/message.json")).unwrap();
        let messages = parsed.messages();
        assert_eq!(messages.len(), 1);
        let m = messages[0];
        assert!(m.key.to_string().starts_with("telegram:-100"), "{}", m.key);
        assert!(m.key.external_id().contains('.'));
        assert!(!m.text.is_empty());
        assert!(m.raw.as_deref().is_some_and(|r| r.contains("message_id")));
    }

    #[test]
    fn edits_reuse_the_original_key() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/telegram/edited_message.json")).unwrap();
        match &parsed.items[..] {
            [Item::Message { mention, edit: true }] => {
                assert_eq!(mention.key.to_string(), "telegram:-1001786543210.48211")
            }
            other => panic!("expected one edit, got {other:?}"),
        }
    }

    #[test]
    fn callback_queries_are_ignored_and_garbage_refused() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/telegram/callback_query.json")).unwrap();
        assert_eq!((parsed.items.len(), parsed.ignored), (0, 1));
        assert!(matches!(parse(b"{not json"), Err(WebhookError::Malformed(_))));
        assert!(verify(Some(b"s3cret"), "s3cret"));
        assert!(!verify(Some(b"s3cre"), "s3cret"));
        assert!(!verify(None, "s3cret"));
    }
}
