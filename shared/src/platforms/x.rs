//! X webhooks (Account Activity API): CRC challenge and `x-twitter-webhooks-signature`.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{OwnReply, Parsed, WebhookError, hmac_base64, parse_json, raw_of, verify_hmac};
use crate::domain::{Author, MentionKey, NewMention, Platform};

/// The CRC answer: `{"response_token": "sha256=<base64 HMAC(consumer secret, crc_token)>"}`.
pub fn crc_response(crc_token: &str, consumer_secret: &str) -> serde_json::Value {
    serde_json::json!({ "response_token": format!("sha256={}", hmac_base64(consumer_secret.as_bytes(), crc_token.as_bytes())) })
}

/// Whether a CRC token looks like one X sends (short, base64/url-safe characters) and can never
/// be a body: a value that parses as JSON (`1`, `null`, `true`, `-1.5e3`) is refused, so the
/// CRC answer cannot serve as a signature for a forged delivery.
pub fn is_crc_token(token: &str) -> bool {
    (1..=128).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(&b))
        && serde_json::from_str::<serde::de::IgnoredAny>(token).is_err()
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
struct Tweet {
    id_str: String,
    text: Option<String>,
    extended_tweet: Option<ExtendedTweet>,
    created_at: Option<String>,
    user: User,
    in_reply_to_status_id_str: Option<String>,
    entities: Option<Value>,
    extended_entities: Option<Value>,
}

#[derive(Deserialize)]
struct ExtendedTweet {
    full_text: String,
    extended_entities: Option<Value>,
}

#[derive(Deserialize)]
struct User {
    id_str: Option<String>,
    id: Option<Value>,
    screen_name: Option<String>,
    name: Option<String>,
    followers_count: Option<u64>,
}

impl User {
    fn id(&self) -> Option<String> {
        self.id_str.clone().or_else(|| match &self.id {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    fn author(&self, fallback_id: Option<&str>) -> Author {
        Author {
            id: self.id().or_else(|| fallback_id.map(str::to_string)),
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
    attachment: Option<Value>,
}

/// A v2 post (X Activity API payloads, `GET /2/users/:id/mentions`).
#[derive(Deserialize)]
pub(crate) struct PostV2 {
    id: String,
    text: String,
    created_at: Option<DateTime<Utc>>,
    author_id: Option<String>,
    conversation_id: Option<String>,
    referenced_tweets: Option<Vec<Referenced>>,
    attachments: Option<Value>,
    note_tweet: Option<NoteTweet>,
}

#[derive(Deserialize)]
struct Referenced {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
struct NoteTweet {
    text: String,
}

/// A v2 user from `includes.users`.
#[derive(Deserialize)]
pub(crate) struct UserV2 {
    id: String,
    username: Option<String>,
    name: Option<String>,
    public_metrics: Option<PublicMetrics>,
}

#[derive(Deserialize)]
struct PublicMetrics {
    followers_count: Option<u64>,
}

fn items<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v.get(field).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// Parses a delivery: Account Activity (`tweet_create_events`, `direct_message_events` with the
/// `users` map) or the X Activity API envelope (`data: {event_type, payload, includes}`). The
/// office's own posts and messages are skipped.
pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let delivery: Value = parse_json(body)?;
    let mut parsed = Parsed::default();
    if let Some(activity) = delivery.get("data").filter(|d| d.get("event_type").is_some()) {
        activity_event(activity, &mut parsed);
        return Ok(parsed);
    }
    let own = delivery.get("for_user_id").and_then(Value::as_str);
    if own.is_none() {
        parsed.unmapped += 1;
        return Ok(parsed);
    }
    for raw in items(&delivery, "tweet_create_events") {
        match serde_json::from_value::<Tweet>(raw.clone()) {
            Ok(tweet) => tweet_v1(tweet, raw, own, &mut parsed),
            Err(_) => parsed.unmapped += 1,
        }
    }
    let users = delivery.get("users").cloned().unwrap_or(Value::Null);
    for raw in items(&delivery, "direct_message_events") {
        match serde_json::from_value::<DirectMessage>(raw.clone()) {
            Ok(dm) => direct_message(dm, raw, own, &users, &mut parsed),
            Err(_) => parsed.unmapped += 1,
        }
    }
    // Favourites, follows, deletes… are acknowledged and ignored.
    for field in ["favorite_events", "follow_events", "tweet_delete_events", "direct_message_indicate_typing_events"] {
        parsed.ignored += items(&delivery, field).len();
    }
    Ok(parsed)
}

fn tweet_v1(tweet: Tweet, raw: &Value, own: Option<&str>, parsed: &mut Parsed) {
    let author = tweet.user.author(None);
    if author.id.is_some() && author.id.as_deref() == own {
        // The office answering a citizen's post: a response to record on its case.
        let text = tweet.extended_tweet.as_ref().map(|e| e.full_text.as_str()).or(tweet.text.as_deref()).unwrap_or("");
        let at = tweet
            .created_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_str(t, "%a %b %d %H:%M:%S %z %Y").ok())
            .map(|c| c.with_timezone(&Utc))
            .and_then(super::plausible);
        let reply = at.and_then(|at| {
            OwnReply::to(Platform::X, tweet.in_reply_to_status_id_str.as_deref(), Some(&tweet.id_str), text, at)
        });
        match reply {
            Some(reply) => parsed.items.push(reply),
            None => parsed.ignored += 1,
        }
        return;
    }
    let has_media = tweet.extended_entities.is_some()
        || tweet.extended_tweet.as_ref().is_some_and(|e| e.extended_entities.is_some())
        || tweet.entities.as_ref().and_then(|e| e.get("media")).is_some();
    // Long tweets arrive truncated in `text`; the full body is in `extended_tweet`.
    let text = tweet.extended_tweet.map(|e| e.full_text).or(tweet.text);
    let created = tweet.created_at.as_deref().and_then(|t| DateTime::parse_from_str(t, "%a %b %d %H:%M:%S %z %Y").ok());
    let created = created.map(|c| c.with_timezone(&Utc)).and_then(super::plausible);
    let (Ok(key), Some(text), Some(created)) = (MentionKey::new(Platform::X, &tweet.id_str), text, created) else {
        parsed.unmapped += 1;
        return;
    };
    let mut mention = NewMention::new(key, text, created, author);
    mention.url = mention.author.handle.as_ref().map(|h| format!("https://x.com/{h}/status/{}", tweet.id_str));
    mention.parent_id = tweet.in_reply_to_status_id_str;
    mention.has_media = has_media;
    mention.raw = raw_of(raw);
    parsed.message(mention, false);
}

fn direct_message(dm: DirectMessage, raw: &Value, own: Option<&str>, users: &Value, parsed: &mut Parsed) {
    let Some(create) = dm.message_create.filter(|_| dm.kind == "message_create") else {
        parsed.ignored += 1;
        return;
    };
    if Some(create.sender_id.as_str()) == own {
        parsed.ignored += 1;
        return;
    }
    let author = users
        .get(&create.sender_id)
        .and_then(|u| serde_json::from_value::<User>(u.clone()).ok())
        .map(|u| u.author(Some(&create.sender_id)))
        .unwrap_or(Author { id: Some(create.sender_id.clone()), handle: None, name: None, followers: None });
    let created = dm
        .created_timestamp
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .and_then(super::plausible);
    let (Ok(key), Some(created)) = (MentionKey::new(Platform::X, format!("dm.{}", dm.id)), created) else {
        parsed.unmapped += 1;
        return;
    };
    let mut mention = NewMention::new(key, create.message_data.text, created, author);
    mention.thread_id = Some(format!("dm.{}", create.sender_id));
    mention.has_media = create.message_data.attachment.is_some();
    mention.raw = raw_of(raw);
    parsed.message(mention, false);
}

fn activity_event(activity: &Value, parsed: &mut Parsed) {
    let event_type = activity.get("event_type").and_then(Value::as_str).unwrap_or_default();
    if !(event_type.starts_with("post.") || event_type.starts_with("dm.")) || event_type.ends_with(".delete") {
        parsed.ignored += 1;
        return;
    }
    let users: Vec<UserV2> = items(activity.get("includes").unwrap_or(&Value::Null), "users")
        .iter()
        .filter_map(|u| serde_json::from_value(u.clone()).ok())
        .collect();
    let own = activity.get("filter").and_then(|f| f.get("user_id")).and_then(Value::as_str);
    let Some(raw) = activity.get("payload") else {
        parsed.unmapped += 1;
        return;
    };
    match serde_json::from_value::<PostV2>(raw.clone()) {
        Ok(post) if post.author_id.is_some() && post.author_id.as_deref() == own => {
            // The office answering a citizen's post: a response to record on its case.
            let parent = post.referenced_tweets.as_ref().and_then(|r| r.iter().find(|r| r.kind == "replied_to"));
            let text = post.note_tweet.as_ref().map_or(post.text.as_str(), |n| n.text.as_str());
            let reply = post
                .created_at
                .and_then(super::plausible)
                .and_then(|at| OwnReply::to(Platform::X, parent.map(|r| r.id.as_str()), Some(&post.id), text, at));
            match reply {
                Some(reply) => parsed.items.push(reply),
                None => parsed.ignored += 1,
            }
        }
        Ok(post) => match post_v2(post, &users, raw) {
            Some(mention) => parsed.message(mention, false),
            None => parsed.unmapped += 1,
        },
        Err(_) => parsed.unmapped += 1,
    }
}

/// Builds a mention from a v2 post and its `includes.users` (also used by polling).
pub(crate) fn post_v2(post: PostV2, users: &[UserV2], raw: &Value) -> Option<NewMention> {
    let key = MentionKey::new(Platform::X, &post.id).ok()?;
    let author = users
        .iter()
        .find(|u| post.author_id.as_deref() == Some(u.id.as_str()))
        .map(|u| Author {
            id: Some(u.id.clone()),
            handle: u.username.clone(),
            name: u.name.clone(),
            followers: u.public_metrics.as_ref().and_then(|m| m.followers_count),
        })
        .unwrap_or(Author { id: post.author_id.clone(), handle: None, name: None, followers: None });
    // Long posts carry their full text in `note_tweet`.
    let text = post.note_tweet.map(|n| n.text).unwrap_or(post.text);
    let mut mention = NewMention::new(key, text, post.created_at.and_then(super::plausible)?, author);
    mention.url = mention.author.handle.as_ref().map(|h| format!("https://x.com/{h}/status/{}", post.id));
    mention.thread_id = post.conversation_id;
    mention.parent_id =
        post.referenced_tweets.unwrap_or_default().into_iter().find(|r| r.kind == "replied_to").map(|r| r.id);
    mention.has_media = post.attachments.as_ref().and_then(|a| a.get("media_keys")).is_some();
    mention.raw = raw_of(raw);
    Some(mention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_tweets_are_skipped_and_long_tweets_kept_whole() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/x/aaa_tweet_create.json")).unwrap();
        let messages = parsed.messages();
        assert_eq!(messages.len(), 2);
        assert_eq!(parsed.ignored, 1);
        assert!(messages.iter().all(|m| m.author.followers.is_some()));
        assert!(messages.iter().all(|m| !m.text.contains("https://t.co/")), "full text, not the truncated one");
    }

    #[test]
    fn the_offices_own_reply_is_a_response_to_the_post_it_answers() {
        let mut delivery: Value =
            serde_json::from_slice(include_bytes!("../../../tests/fixtures/x/aaa_tweet_create.json")).unwrap();
        delivery["tweet_create_events"][2]["in_reply_to_status_id_str"] = "2121063284521496579".into();
        let parsed = parse(delivery.to_string().as_bytes()).unwrap();
        assert_eq!((parsed.messages().len(), parsed.ignored), (2, 0));
        let reply = parsed.items.iter().find_map(|i| match i {
            super::super::Item::OwnReply(r) => Some(r),
            _ => None,
        });
        let reply = reply.expect("the office's reply");
        assert_eq!(reply.parent.to_string(), "x:2121063284521496579");
        assert_eq!(reply.id, "x:2121065511697526791");

        // The same through the X Activity API envelope.
        let mut activity: Value =
            serde_json::from_slice(include_bytes!("../../../tests/fixtures/x/activity_envelope.json")).unwrap();
        let own = activity["data"]["filter"]["user_id"].as_str().unwrap().to_string();
        activity["data"]["payload"]["author_id"] = own.into();
        activity["data"]["payload"]["referenced_tweets"] =
            serde_json::json!([{"type": "replied_to", "id": "2121063284521496579"}]);
        let parsed = parse(activity.to_string().as_bytes()).unwrap();
        assert!(
            matches!(&parsed.items[..], [super::super::Item::OwnReply(r)] if r.parent.to_string() == "x:2121063284521496579"),
            "{:?}",
            parsed.items.len()
        );
    }

    #[test]
    fn direct_messages_take_followers_from_the_users_map() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/x/aaa_direct_message.json")).unwrap();
        let messages = parsed.messages();
        assert!(!messages.is_empty());
        assert!(messages.iter().all(|m| m.key.external_id().starts_with("dm.") && m.author.followers.is_some()));
    }

    #[test]
    fn activity_api_posts_take_the_author_from_includes() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/x/activity_envelope.json")).unwrap();
        let messages = parsed.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].key.to_string(), "x:2121115893677477897");
        assert_eq!(messages[0].author.handle.as_deref(), Some("rahmat_kdr"));
        assert_eq!(messages[0].author.followers, Some(312));
    }

    #[test]
    fn only_token_like_crc_values_are_signed() {
        assert!(is_crc_token("NzE5NzU1MjM2NDI4MTQ4NzQ4MA=="));
        assert!(!is_crc_token(r#"{"for_user_id":"1","tweet_create_events":[]}"#), "a JSON body must never be signed");
        assert!(!is_crc_token(""));
        assert!(!is_crc_token(&"a".repeat(129)));
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

/// One page of `GET /2/users/:id/mentions`.
#[derive(Debug, Default)]
pub struct MentionsPage {
    pub mentions: Vec<NewMention>,
    pub newest_id: Option<String>,
    pub next_token: Option<String>,
    /// Posts we could not map (kept out, counted).
    pub unmapped: usize,
}

/// Parses a mentions page; the office's own posts (`own_id`) are skipped.
pub fn mentions_page(body: &[u8], own_id: &str) -> Result<MentionsPage, String> {
    let page: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let users: Vec<UserV2> = items(page.get("includes").unwrap_or(&Value::Null), "users")
        .iter()
        .filter_map(|u| serde_json::from_value(u.clone()).ok())
        .collect();
    let meta = page.get("meta").unwrap_or(&Value::Null);
    let text_of = |name: &str| meta.get(name).and_then(Value::as_str).map(str::to_string);
    let mut out =
        MentionsPage { newest_id: text_of("newest_id"), next_token: text_of("next_token"), ..Default::default() };
    for raw in items(&page, "data") {
        match serde_json::from_value::<PostV2>(raw.clone()).ok() {
            Some(post) if post.author_id.as_deref() == Some(own_id) => {}
            Some(post) => match post_v2(post, &users, raw) {
                Some(mention) => out.mentions.push(mention),
                None => out.unmapped += 1,
            },
            None => out.unmapped += 1,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod polling_tests {
    use super::*;

    #[test]
    fn mentions_pages_carry_followers_and_the_cursor() {
        let page = mentions_page(include_bytes!("../../../tests/fixtures/x/mentions_page.json"), "1384920776301551617")
            .unwrap();
        assert!(!page.mentions.is_empty());
        assert!(page.newest_id.is_some());
        assert!(page.mentions.iter().all(|m| m.author.followers.is_some() && m.author.handle.is_some()));
        assert!(mentions_page(b"[]", "1").unwrap().mentions.is_empty());
        assert!(mentions_page(b"{", "1").is_err());
    }
}
