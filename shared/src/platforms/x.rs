//! X webhooks (Account Activity API): CRC challenge and `x-twitter-webhooks-signature`.

use std::collections::HashMap;

use base64::Engine;
use serde::Deserialize;

use super::{Parsed, WebhookError, from_epoch, hmac_base64, parse_json, verify_hmac};
use crate::domain::{Author, MentionKey, NewMention, Platform};

/// The CRC answer: `{"response_token": "sha256=<base64 HMAC(consumer secret, crc_token)>"}`.
pub fn crc_response(crc_token: &str, consumer_secret: &str) -> serde_json::Value {
    serde_json::json!({ "response_token": format!("sha256={}", hmac_base64(consumer_secret.as_bytes(), crc_token.as_bytes())) })
}

/// Verifies `x-twitter-webhooks-signature: sha256=<base64 HMAC>` over the exact body.
pub fn verify(header: Option<&[u8]>, body: &[u8], consumer_secret: &str) -> bool {
    let Some(b64) = header.and_then(|h| h.strip_prefix(b"sha256=")) else {
        return false;
    };
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(sig) => verify_hmac(consumer_secret.as_bytes(), body, &sig),
        Err(_) => false,
    }
}

#[derive(Deserialize)]
struct Activity {
    for_user_id: Option<String>,
    #[serde(default)]
    tweet_create_events: Vec<Tweet>,
    #[serde(default)]
    direct_message_events: Vec<DirectMessage>,
    #[serde(default)]
    users: HashMap<String, User>,
}

#[derive(Deserialize)]
struct Tweet {
    id_str: String,
    text: Option<String>,
    extended_tweet: Option<ExtendedTweet>,
    created_at: Option<String>,
    user: User,
}

#[derive(Deserialize)]
struct ExtendedTweet {
    full_text: String,
}

#[derive(Deserialize)]
struct User {
    id_str: Option<String>,
    id: Option<serde_json::Value>,
    screen_name: Option<String>,
    name: Option<String>,
    followers_count: Option<u64>,
}

impl User {
    fn id(&self) -> Option<String> {
        self.id_str.clone().or_else(|| match &self.id {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    fn author(&self, fallback_id: &str) -> Author {
        Author {
            id: self.id().unwrap_or_else(|| fallback_id.to_string()),
            handle: self.screen_name.clone(),
            name: self.name.clone(),
            followers: self.followers_count,
        }
    }
}

#[derive(Deserialize)]
struct DirectMessage {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    created_timestamp: Option<String>,
    message_create: Option<MessageCreate>,
}

#[derive(Deserialize)]
struct MessageCreate {
    sender_id: String,
    message_data: MessageData,
}

#[derive(Deserialize)]
struct MessageData {
    text: String,
}

/// Parses an Account Activity delivery. The office's own tweets and DMs are skipped.
pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let activity: Activity = parse_json(body)?;
    let own = activity.for_user_id.as_deref();
    let mut parsed = Parsed::default();
    for tweet in activity.tweet_create_events {
        let author = tweet.user.author("unknown");
        if Some(author.id.as_str()) == own {
            parsed.ignored += 1;
            continue;
        }
        // Long tweets arrive truncated in `text`; the full body is in `extended_tweet`.
        let text = tweet.extended_tweet.map(|e| e.full_text).or(tweet.text);
        let created = tweet
            .created_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_str(t, "%a %b %d %H:%M:%S %z %Y").ok());
        let url = author.handle.as_ref().map(|h| format!("https://x.com/{h}/status/{}", tweet.id_str));
        match (MentionKey::new(Platform::X, &tweet.id_str), text, created) {
            (Ok(key), Some(text), Some(created)) => parsed.mentions.push(NewMention {
                key,
                text,
                url,
                created_at: created.with_timezone(&chrono::Utc),
                author,
            }),
            _ => parsed.unmapped += 1,
        }
    }
    for dm in activity.direct_message_events {
        let Some(create) = dm.message_create.filter(|_| dm.kind == "message_create") else {
            parsed.ignored += 1;
            continue;
        };
        if Some(create.sender_id.as_str()) == own {
            parsed.ignored += 1;
            continue;
        }
        let author = activity.users.get(&create.sender_id).map(|u| u.author(&create.sender_id)).unwrap_or(Author {
            id: create.sender_id.clone(),
            handle: None,
            name: None,
            followers: None,
        });
        let created = dm.created_timestamp.and_then(|ms| ms.parse::<i64>().ok()).and_then(|ms| from_epoch(ms / 1000));
        match (MentionKey::new(Platform::X, format!("dm.{}", dm.id)), created) {
            (Ok(key), Some(created_at)) => {
                parsed.mentions.push(NewMention { key, text: create.message_data.text, url: None, created_at, author })
            }
            _ => parsed.unmapped += 1,
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_tweets_are_skipped_and_long_tweets_kept_whole() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/x/aaa_tweet_create.json")).unwrap();
        assert_eq!(parsed.mentions.len(), 2);
        assert_eq!(parsed.ignored, 1);
        assert!(parsed.mentions.iter().all(|m| m.author.followers.is_some()));
        assert!(parsed.mentions.iter().all(|m| !m.text.ends_with('…')));
    }

    #[test]
    fn direct_messages_take_followers_from_the_users_map() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/x/aaa_direct_message.json")).unwrap();
        assert!(!parsed.mentions.is_empty());
        assert!(parsed.mentions.iter().all(|m| m.key.external_id().starts_with("dm.") && m.author.followers.is_some()));
    }

    #[test]
    fn crc_matches_the_documented_formula() {
        // base64(HMAC-SHA256(key "secret", "token")), computed independently with Python's hmac.
        assert_eq!(
            crc_response("token", "secret")["response_token"],
            "sha256=6UERDj0r/oJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGko="
        );
        let body = b"{}";
        let header = format!("sha256={}", hmac_base64(b"secret", body));
        assert!(verify(Some(header.as_bytes()), body, "secret"));
        assert!(!verify(Some(header.as_bytes()), b"{ }", "secret"));
    }
}
