//! Meta webhooks (Facebook Page, Instagram, WhatsApp Cloud): the GET subscription handshake and
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` on POST.

use serde_json::Value;
use subtle::ConstantTimeEq;

use chrono::{DateTime, Utc};

use super::{Item, Lookup, OwnReply, Parsed, WebhookError, from_epoch, parse_json, raw_of, verify_hmac};
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

fn str_of<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

fn epoch_of(v: &Value, name: &str) -> Option<DateTime<Utc>> {
    let raw = v.get(name)?;
    let seconds = raw.as_i64().or_else(|| raw.as_str().and_then(|s| s.parse().ok()))?;
    from_epoch(seconds)
}

/// Parses a POST body; every entry and change is looked at. Any valid JSON is accepted: what
/// does not fit the documented shapes is counted as unmapped, never refused.
pub fn parse(body: &[u8], received: DateTime<Utc>) -> Result<Parsed, WebhookError> {
    let envelope: Value = parse_json(body)?;
    let mut parsed = Parsed::default();
    let object = str_of(&envelope, &["object"]).unwrap_or_default();
    let Some(entries) = envelope.get("entry").and_then(Value::as_array) else {
        parsed.unmapped += 1;
        return Ok(parsed);
    };
    for entry in entries {
        // Instagram comments carry no time of their own; the entry's time is when it happened.
        let entry_time = entry.get("time").and_then(Value::as_i64).and_then(from_epoch).unwrap_or(received);
        let changes = entry.get("changes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        // The entry's id is the office's own Page or Instagram account: its posts and replies
        // are not citizens' mentions.
        let own = str_of(entry, &["id"]);
        if changes.is_empty() {
            // Messenger-style `messaging` arrays and other entry shapes are not mapped yet.
            parsed.unmapped += 1;
        }
        for change in changes {
            let value = change.get("value").unwrap_or(&Value::Null);
            if own.is_some() && str_of(value, &["from", "id"]) == own {
                // The office answering a citizen's comment or post: a response to record.
                match own_reply(object, value, entry_time) {
                    Some(reply) => parsed.items.push(reply),
                    None => parsed.ignored += 1,
                }
                continue;
            }
            match (object, str_of(change, &["field"]).unwrap_or_default()) {
                ("page", "feed") => page_feed(value, entry_time, &mut parsed),
                ("page", "mention") => page_mention(value, &mut parsed),
                ("instagram", "comments" | "live_comments") => instagram_comment(value, entry_time, &mut parsed),
                ("instagram", "mentions") => instagram_mention(value, &mut parsed),
                ("whatsapp_business_account", "messages") => whatsapp(value, &mut parsed),
                _ => parsed.unmapped += 1,
            }
        }
    }
    Ok(parsed)
}

/// A new comment of the office's own Page or Instagram account that replies to something.
fn own_reply(object: &str, v: &Value, entry_time: DateTime<Utc>) -> Option<Item> {
    if str_of(v, &["verb"]).is_some_and(|verb| verb != "add") {
        return None;
    }
    match object {
        "page" => {
            let text = str_of(v, &["message"])?;
            let at = epoch_of(v, "created_time").unwrap_or(entry_time);
            OwnReply::to(Platform::Facebook, str_of(v, &["parent_id"]), str_of(v, &["comment_id"]), text, at)
        }
        "instagram" => OwnReply::to(
            Platform::Instagram,
            str_of(v, &["parent_id"]),
            str_of(v, &["id"]),
            str_of(v, &["text"])?,
            entry_time,
        ),
        _ => None,
    }
}

fn key(platform: Platform, id: Option<&str>) -> Option<MentionKey> {
    id.and_then(|id| MentionKey::new(platform, id).ok())
}

fn author(v: &Value, handle_field: &str) -> Author {
    Author {
        id: str_of(v, &["from", "id"]).map(str::to_string),
        handle: str_of(v, &["from", handle_field]).map(str::to_string),
        name: str_of(v, &["from", "name"]).map(str::to_string),
        followers: None,
    }
}

fn page_feed(v: &Value, entry_time: DateTime<Utc>, parsed: &mut Parsed) {
    let item = str_of(v, &["item"]);
    if !matches!(item, Some("comment" | "status" | "post" | "photo" | "video" | "share")) {
        // Reactions, likes, page events: nothing a citizen wrote.
        parsed.ignored += 1;
        return;
    }
    let id = str_of(v, &["comment_id"]).or_else(|| str_of(v, &["post_id"]));
    let Some(key) = key(Platform::Facebook, id) else {
        parsed.unmapped += 1;
        return;
    };
    let edit = match str_of(v, &["verb"]) {
        Some("add") => false,
        Some("edited") => true,
        Some("remove" | "hide") => {
            parsed.items.push(Item::Removed { key, at: entry_time });
            return;
        }
        _ => {
            parsed.ignored += 1;
            return;
        }
    };
    let Some(text) = str_of(v, &["message"]) else {
        // Visitor posts may arrive as ids only: fetch them. A photo without words in a comment
        // has nothing to classify.
        match (item, str_of(v, &["post_id"]), edit) {
            (Some("post" | "status"), Some(post_id), false) => {
                parsed.items.push(Item::Lookup(Lookup::FacebookPost { post_id: post_id.to_string() }))
            }
            _ => parsed.ignored += 1,
        }
        return;
    };
    let created = epoch_of(v, "created_time").unwrap_or(entry_time);
    let mut mention = NewMention::new(key, text, created, author(v, "username"));
    let post_id = str_of(v, &["post_id"]).map(str::to_string);
    mention.url = match (str_of(v, &["comment_id"]), &post_id) {
        (Some(comment), Some(post)) => Some(format!("https://www.facebook.com/{post}?comment_id={comment}")),
        (None, Some(post)) => Some(format!("https://www.facebook.com/{post}")),
        _ => None,
    };
    mention.parent_id = str_of(v, &["parent_id"]).filter(|p| Some(*p) != post_id.as_deref()).map(str::to_string);
    mention.thread_id = post_id;
    mention.has_media = v.get("photo").is_some() || v.get("video").is_some() || matches!(item, Some("photo" | "video"));
    // Meta dates a change by its entry's time; it orders redelivered edits.
    mention.edited_at = edit.then_some(entry_time);
    mention.raw = raw_of(v);
    parsed.message(mention, edit);
}

fn instagram_comment(v: &Value, entry_time: DateTime<Utc>, parsed: &mut Parsed) {
    let (Some(key), Some(text)) = (key(Platform::Instagram, str_of(v, &["id"])), str_of(v, &["text"])) else {
        parsed.unmapped += 1;
        return;
    };
    let mut mention = NewMention::new(key, text, entry_time, author(v, "username"));
    mention.thread_id = str_of(v, &["media", "id"]).map(str::to_string);
    mention.parent_id = str_of(v, &["parent_id"]).map(str::to_string);
    mention.raw = raw_of(v);
    parsed.message(mention, false);
}

fn instagram_mention(v: &Value, parsed: &mut Parsed) {
    let media_id = str_of(v, &["media_id"]).map(str::to_string);
    let lookup = match (media_id, str_of(v, &["comment_id"])) {
        (Some(media_id), Some(comment)) => Lookup::InstagramComment { media_id, comment_id: comment.to_string() },
        (Some(media_id), None) => Lookup::InstagramMedia { media_id },
        (None, _) => {
            parsed.unmapped += 1;
            return;
        }
    };
    parsed.items.push(Item::Lookup(lookup));
}

/// The Page was mentioned in a post (`field: mention`): only ids arrive.
fn page_mention(v: &Value, parsed: &mut Parsed) {
    match (str_of(v, &["verb"]), str_of(v, &["post_id"])) {
        (Some("add") | None, Some(post_id)) => {
            parsed.items.push(Item::Lookup(Lookup::FacebookPost { post_id: post_id.to_string() }))
        }
        (Some(_), Some(_)) => parsed.ignored += 1,
        _ => parsed.unmapped += 1,
    }
}

fn whatsapp(v: &Value, parsed: &mut Parsed) {
    let contacts = v.get("contacts").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let Some(messages) = v.get("messages").and_then(Value::as_array) else {
        // Delivery and read statuses carry no citizen text.
        parsed.ignored += 1;
        return;
    };
    for m in messages {
        let kind = str_of(m, &["type"]).unwrap_or_default();
        let text = match kind {
            "text" => str_of(m, &["text", "body"]),
            "image" | "video" | "document" => str_of(m, &[kind, "caption"]),
            _ => None,
        };
        let from = str_of(m, &["from"]);
        let (Some(key), Some(text), Some(created)) =
            (key(Platform::Whatsapp, str_of(m, &["id"])), text, epoch_of(m, "timestamp"))
        else {
            parsed.unmapped += 1;
            continue;
        };
        let name = contacts
            .iter()
            .find(|c| from.is_some() && str_of(c, &["wa_id"]) == from)
            .and_then(|c| str_of(c, &["profile", "name"]))
            .map(str::to_string);
        let mut mention = NewMention::new(
            key,
            text,
            created,
            Author { id: from.map(str::to_string), handle: None, name, followers: None },
        );
        mention.thread_id = from.map(str::to_string);
        mention.parent_id = str_of(m, &["context", "id"]).map(str::to_string);
        mention.has_media = kind != "text";
        mention.raw = raw_of(m);
        parsed.message(mention, false);
    }
}

/// The Graph API request that fetches a lookup: the node to read and its `fields`.
pub fn lookup_request(lookup: &Lookup, instagram_user: Option<&str>) -> Option<(String, String)> {
    match lookup {
        Lookup::InstagramComment { comment_id, .. } => Some((
            instagram_user?.to_string(),
            format!("mentioned_comment.comment_id({comment_id}){{id,text,timestamp,username,media{{id,permalink}}}}"),
        )),
        Lookup::InstagramMedia { media_id } => Some((
            instagram_user?.to_string(),
            format!("mentioned_media.media_id({media_id}){{id,caption,timestamp,username,permalink}}"),
        )),
        Lookup::FacebookPost { post_id } => {
            Some((post_id.clone(), "id,message,created_time,from,permalink_url".to_string()))
        }
    }
}

fn graph_time(v: &Value, name: &str) -> Option<DateTime<Utc>> {
    str_of(v, &[name])
        .and_then(|t| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|t| t.with_timezone(&Utc))
        .and_then(super::plausible)
}

/// Builds the mention from the Graph API's answer to [`lookup_request`].
pub fn lookup_to_mention(lookup: &Lookup, response: &Value) -> Option<NewMention> {
    let (platform, node, text_field, time_field, url_field, thread) = match lookup {
        Lookup::InstagramComment { media_id, .. } => (
            Platform::Instagram,
            response.get("mentioned_comment")?,
            "text",
            "timestamp",
            "permalink",
            Some(media_id.clone()),
        ),
        Lookup::InstagramMedia { media_id } => (
            Platform::Instagram,
            response.get("mentioned_media")?,
            "caption",
            "timestamp",
            "permalink",
            Some(media_id.clone()),
        ),
        Lookup::FacebookPost { post_id } => {
            (Platform::Facebook, response, "message", "created_time", "permalink_url", Some(post_id.clone()))
        }
    };
    let id = str_of(node, &["id"])?;
    let author = match platform {
        Platform::Facebook => author(node, "username"),
        _ => {
            let username = str_of(node, &["username"]).map(str::to_string);
            Author { id: username.clone(), handle: username, name: None, followers: None }
        }
    };
    let mut mention =
        NewMention::new(key(platform, Some(id))?, str_of(node, &[text_field])?, graph_time(node, time_field)?, author);
    mention.url = str_of(node, &[url_field]).or_else(|| str_of(node, &["media", "permalink"])).map(str::to_string);
    mention.thread_id = thread;
    mention.has_media = matches!(lookup, Lookup::InstagramMedia { .. });
    mention.raw = raw_of(node);
    Some(mention)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn batches_yield_every_comment() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/meta/page_feed_comment.json"), Utc::now()).unwrap();
        let messages = parsed.messages();
        assert_eq!(messages.len(), 3);
        assert!(messages.iter().all(|m| m.key.platform() == Platform::Facebook && m.author.name.is_some()));
        assert!(messages.iter().all(|m| m.thread_id.is_some() && m.url.is_some()));
        assert_eq!(messages.iter().filter(|m| m.parent_id.is_some()).count(), 1, "one reply to a comment");
    }

    #[test]
    fn the_offices_own_posts_and_replies_are_not_mentions() {
        let own = br#"{"object":"page","entry":[{"id":"104857362918475","time":1794270670,"changes":[
            {"field":"feed","value":{"from":{"id":"104857362918475","name":"Humas"},"item":"comment","verb":"add","post_id":"104857362918475_1","comment_id":"1_2","created_time":1794270669,"message":"Terima kasih laporannya"}},
            {"field":"feed","value":{"from":{"id":"555","name":"Warga"},"item":"comment","verb":"add","post_id":"104857362918475_1","comment_id":"1_3","created_time":1794270669,"message":"Jalan rusak"}}]}]}"#;
        let parsed = parse(own, Utc::now()).unwrap();
        assert_eq!(parsed.messages().len(), 1);
        assert_eq!(parsed.messages()[0].key.to_string(), "facebook:1_3");
        assert_eq!(parsed.ignored, 1);
    }

    #[test]
    fn the_offices_replies_are_responses_to_the_comment_they_answer() {
        let reply = br#"{"object":"page","entry":[{"id":"104857362918475","time":1794270670,"changes":[
            {"field":"feed","value":{"from":{"id":"104857362918475","name":"Humas"},"item":"comment","verb":"add","post_id":"104857362918475_1","comment_id":"1_9","parent_id":"1_3","created_time":1794270669,"message":"Sudah kami teruskan ke Dinas PU"}},
            {"field":"feed","value":{"from":{"id":"104857362918475","name":"Humas"},"item":"comment","verb":"edited","post_id":"104857362918475_1","comment_id":"1_9","parent_id":"1_3","created_time":1794270669,"message":"Sudah diteruskan"}}]},
            {"id":"17841400000000000","time":1794270670,"changes":[]}]}"#;
        let parsed = parse(reply, Utc::now()).unwrap();
        let replies: Vec<&OwnReply> = parsed
            .items
            .iter()
            .filter_map(|i| match i {
                Item::OwnReply(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(replies.len(), 1, "the edit of a reply is not a second response");
        assert_eq!(replies[0].parent.to_string(), "facebook:1_3");
        assert_eq!(replies[0].id, "facebook:1_9");
        assert_eq!(replies[0].at.timestamp(), 1794270669);
        let ig = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1794270670,"changes":[
            {"field":"comments","value":{"from":{"id":"17841400000000000","username":"jatimprov"},"id":"179","parent_id":"178","text":"Terima kasih","media":{"id":"1790"}}}]}]}"#;
        let parsed = parse(ig, Utc::now()).unwrap();
        assert!(matches!(&parsed.items[..], [Item::OwnReply(r)] if r.parent.to_string() == "instagram:178"));
    }

    #[test]
    fn edits_and_removals_reuse_the_comment_key() {
        let edited = parse(include_bytes!("../../../tests/fixtures/meta/page_feed_edited.json"), Utc::now()).unwrap();
        assert!(
            matches!(&edited.items[..], [Item::Message { edit: true, mention }] if mention.key.to_string() == "facebook:812394756120384_1049283746501928")
        );
        let removed = parse(include_bytes!("../../../tests/fixtures/meta/page_feed_remove.json"), Utc::now()).unwrap();
        assert!(
            matches!(&removed.items[..], [Item::Removed { key, .. }] if key.to_string() == "facebook:812394756120384_1049285510293847")
        );
    }

    #[test]
    fn instagram_mentions_become_lookups() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/meta/instagram_mention.json"), Utc::now()).unwrap();
        match &parsed.items[..] {
            [Item::Lookup(lookup @ Lookup::InstagramComment { media_id, .. })] => {
                assert_eq!(media_id, "18029475610293847");
                assert_eq!(lookup.id(), "instagram:17991827364501928");
            }
            other => panic!("expected one lookup, got {other:?}"),
        }
    }

    #[test]
    fn visitor_posts_and_page_mentions_without_text_become_lookups() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/meta/page_visitor_post.json"), Utc::now()).unwrap();
        assert_eq!(parsed.messages().len(), 1);
        assert!(parsed.items.iter().any(|i| matches!(i, Item::Lookup(Lookup::FacebookPost { post_id }) if post_id == "104857362918475_812560877410293")));
        let mention = br#"{"object":"page","entry":[{"id":"1","time":1794270670,"changes":[{"field":"mention","value":{"post_id":"44_55","sender_id":"9","item":"post","verb":"add"}}]}]}"#;
        let parsed = parse(mention, Utc::now()).unwrap();
        assert!(matches!(&parsed.items[..], [Item::Lookup(Lookup::FacebookPost { post_id })] if post_id == "44_55"));
        let post = serde_json::json!({"id": "44_55", "message": "Pemprov Jatim hebat", "created_time": "2026-11-13T03:00:11+0000", "from": {"id": "9", "name": "Sari"}, "permalink_url": "https://www.facebook.com/44/posts/55"});
        let m = lookup_to_mention(&Lookup::FacebookPost { post_id: "44_55".into() }, &post).unwrap();
        assert_eq!((m.key.to_string(), m.author.name.as_deref()), ("facebook:44_55".to_string(), Some("Sari")));
        assert_eq!(lookup_request(&Lookup::FacebookPost { post_id: "44_55".into() }, None).unwrap().0, "44_55");
    }

    #[test]
    fn graph_lookups_build_the_mention() {
        let lookup = Lookup::InstagramComment { media_id: "180".into(), comment_id: "179".into() };
        assert!(lookup_request(&lookup, None).is_none(), "Instagram lookups need the account id");
        let (node, fields) = lookup_request(&lookup, Some("17841")).unwrap();
        assert_eq!(node, "17841");
        assert!(fields.starts_with("mentioned_comment.comment_id(179){"));
        let answer = serde_json::json!({"mentioned_comment": {"id": "179", "text": "@humasjatim tolong jalan Gresik", "timestamp": "2026-11-13T03:00:11+0000", "username": "warga.gresik", "media": {"id": "180"}}, "id": "17841"});
        let m = lookup_to_mention(&lookup, &answer).unwrap();
        assert_eq!(m.key.to_string(), "instagram:179");
        assert_eq!(m.author.handle.as_deref(), Some("warga.gresik"));
        assert_eq!(m.created_at.to_rfc3339(), "2026-11-13T03:00:11+00:00");
        assert!(lookup_to_mention(&lookup, &serde_json::json!({"id": "1"})).is_none());
    }

    #[test]
    fn whatsapp_texts_take_the_contact_name_and_statuses_are_ignored() {
        let parsed = parse(include_bytes!("../../../tests/fixtures/meta/whatsapp_text.json"), Utc::now()).unwrap();
        let messages = parsed.messages();
        assert!(!messages.is_empty());
        assert!(messages.iter().all(|m| m.author.name.is_some()));
        let statuses = parse(include_bytes!("../../../tests/fixtures/meta/whatsapp_status.json"), Utc::now()).unwrap();
        assert!(statuses.items.is_empty());
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
