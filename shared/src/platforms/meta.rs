//! Meta webhooks (Facebook Page, Instagram, WhatsApp Cloud): the GET subscription handshake and
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` on POST.

use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::{Parsed, WebhookError, from_epoch, parse_json, verify_hmac};
use crate::domain::{Author, MentionKey, NewMention, Platform};

/// Answers the handshake: the challenge when mode and token match, else `None` (403).
pub fn handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    verify_token: &str,
) -> Option<String> {
    let token_ok = token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(verify_token.as_bytes())));
    (mode == Some("subscribe") && token_ok).then(|| challenge.unwrap_or("").to_string())
}

/// Verifies `X-Hub-Signature-256` over the exact body bytes.
pub fn verify(header: Option<&[u8]>, body: &[u8], app_secret: &str) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix(b"sha256=")) else {
        return false;
    };
    match hex::decode(hex_sig) {
        Ok(sig) => verify_hmac(app_secret.as_bytes(), body, &sig),
        Err(_) => false,
    }
}

#[derive(Deserialize)]
struct Envelope {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    time: Option<i64>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

fn str_of<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

fn epoch_of(v: &Value, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = v.get(name)?;
    let seconds = raw.as_i64().or_else(|| raw.as_str().and_then(|s| s.parse().ok()))?;
    from_epoch(seconds)
}

/// Parses a POST body; every entry and change is looked at.
pub fn parse(body: &[u8], received: chrono::DateTime<chrono::Utc>) -> Result<Parsed, WebhookError> {
    let envelope: Envelope = parse_json(body)?;
    let mut parsed = Parsed::default();
    for entry in &envelope.entry {
        // Instagram comments carry no time of their own; the entry's time is when it happened.
        let entry_time = entry.time.and_then(from_epoch).unwrap_or(received);
        for change in &entry.changes {
            parse_change(&envelope.object, change, entry_time, &mut parsed);
        }
    }
    Ok(parsed)
}

fn parse_change(object: &str, change: &Change, entry_time: chrono::DateTime<chrono::Utc>, parsed: &mut Parsed) {
    {
        match (object, change.field.as_str()) {
            ("page", "feed") => page_feed(&change.value, entry_time, parsed),
            ("instagram", "comments") => instagram_comment(&change.value, entry_time, parsed),
            ("whatsapp_business_account", "messages") => whatsapp(&change.value, parsed),
            _ => parsed.unmapped += 1,
        }
    }
}

fn push(
    parsed: &mut Parsed,
    platform: Platform,
    id: Option<&str>,
    text: Option<&str>,
    when: Option<chrono::DateTime<chrono::Utc>>,
    author: Author,
) {
    match (id.map(|id| MentionKey::new(platform, id)), text, when) {
        (Some(Ok(key)), Some(text), Some(created_at)) => {
            parsed.mentions.push(NewMention { key, text: text.to_string(), url: None, created_at, author })
        }
        _ => parsed.unmapped += 1,
    }
}

fn page_feed(v: &Value, received: chrono::DateTime<chrono::Utc>, parsed: &mut Parsed) {
    let item = str_of(v, &["item"]);
    let verb = str_of(v, &["verb"]);
    if !matches!(item, Some("comment" | "status" | "post" | "photo" | "video")) || verb != Some("add") {
        // Edits and removals are handled with the case history (ingestion issue); reactions etc. are noise.
        parsed.ignored += 1;
        return;
    }
    let id = str_of(v, &["comment_id"]).or_else(|| str_of(v, &["post_id"]));
    let author = Author {
        id: str_of(v, &["from", "id"]).unwrap_or("unknown").to_string(),
        handle: None,
        name: str_of(v, &["from", "name"]).map(str::to_string),
        followers: None,
    };
    let when = epoch_of(v, "created_time").or(Some(received));
    push(parsed, Platform::Facebook, id, str_of(v, &["message"]), when, author);
}

fn instagram_comment(v: &Value, received: chrono::DateTime<chrono::Utc>, parsed: &mut Parsed) {
    let author = Author {
        id: str_of(v, &["from", "id"]).unwrap_or("unknown").to_string(),
        handle: str_of(v, &["from", "username"]).map(str::to_string),
        name: None,
        followers: None,
    };
    push(parsed, Platform::Instagram, str_of(v, &["id"]), str_of(v, &["text"]), Some(received), author);
}

fn whatsapp(v: &Value, parsed: &mut Parsed) {
    let contacts = v.get("contacts").and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(messages) = v.get("messages").and_then(Value::as_array) else {
        // Delivery and read statuses carry no citizen text.
        parsed.ignored += 1;
        return;
    };
    for m in messages {
        if str_of(m, &["type"]) != Some("text") {
            parsed.unmapped += 1;
            continue;
        }
        let from = str_of(m, &["from"]).unwrap_or("unknown");
        let name = contacts
            .iter()
            .find(|c| str_of(c, &["wa_id"]) == Some(from))
            .and_then(|c| str_of(c, &["profile", "name"]))
            .map(str::to_string);
        let author = Author { id: from.to_string(), handle: None, name, followers: None };
        push(
            parsed,
            Platform::Whatsapp,
            str_of(m, &["id"]),
            str_of(m, &["text", "body"]),
            epoch_of(m, "timestamp"),
            author,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn batches_yield_every_comment() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/meta/page_feed_comment.json"), Utc::now()).unwrap();
        assert_eq!(parsed.mentions.len(), 3);
        assert!(parsed.mentions.iter().all(|m| m.key.platform() == Platform::Facebook && m.author.name.is_some()));
    }

    #[test]
    fn whatsapp_texts_take_the_contact_name_and_statuses_are_ignored() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/meta/whatsapp_text.json"), Utc::now()).unwrap();
        assert!(!parsed.mentions.is_empty());
        assert!(parsed.mentions.iter().all(|m| m.author.name.is_some()));
        let statuses = parse(include_bytes!("../../../tests/fixtures/meta/whatsapp_status.json"), Utc::now()).unwrap();
        assert_eq!(statuses.mentions.len(), 0);
        assert!(statuses.ignored > 0);
    }

    #[test]
    fn signature_and_handshake_are_exact() {
        let body = br#"{"object":"page","entry":[]}"#;
        let sig = format!("sha256={}", hex::encode(super::super::hmac_sha256(b"app", body)));
        assert!(verify(Some(sig.as_bytes()), body, "app"));
        assert!(!verify(Some(sig.as_bytes()), b"{\"object\":\"page\",\"entry\":[] }", "app"));
        assert!(!verify(Some(b"sha256=zz"), body, "app"));
        assert!(!verify(None, body, "app"));
        assert_eq!(handshake(Some("subscribe"), Some("tok"), Some("123"), "tok").as_deref(), Some("123"));
        assert_eq!(handshake(Some("subscribe"), Some("tok2"), Some("123"), "tok"), None);
        assert_eq!(handshake(Some("unsubscribe"), Some("tok"), Some("123"), "tok"), None);
    }
}
