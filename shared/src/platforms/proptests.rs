//! Property tests: every parser, fed arbitrary bytes and structured-but-wrong JSON built from
//! the platforms' own field names, returns a value or an error — it never panics.

use proptest::prelude::*;
use serde_json::Value;

/// Field names that appear in the platforms' payloads, so generated objects hit real paths.
const KEYS: &[&str] = &[
    "object",
    "entry",
    "changes",
    "field",
    "value",
    "messaging",
    "id",
    "time",
    "item",
    "verb",
    "message",
    "from",
    "name",
    "username",
    "post_id",
    "comment_id",
    "parent_id",
    "created_time",
    "media",
    "media_id",
    "text",
    "messages",
    "contacts",
    "profile",
    "wa_id",
    "timestamp",
    "type",
    "body",
    "caption",
    "for_user_id",
    "tweet_create_events",
    "direct_message_events",
    "users",
    "id_str",
    "user",
    "screen_name",
    "followers_count",
    "extended_tweet",
    "full_text",
    "created_at",
    "message_create",
    "sender_id",
    "message_data",
    "created_timestamp",
    "data",
    "event_type",
    "payload",
    "includes",
    "author_id",
    "public_metrics",
    "note_tweet",
    "referenced_tweets",
    "meta",
    "newest_id",
    "next_token",
    "update_id",
    "edited_message",
    "channel_post",
    "message_id",
    "chat",
    "date",
    "first_name",
    "reply_to_message",
    "photo",
    "filter",
    "user_id",
    "mentioned_comment",
    "mentioned_media",
    "items",
    "snippet",
    "topLevelComment",
    "textOriginal",
    "publishedAt",
];

const WORDS: &[&str] = &[
    "page",
    "instagram",
    "whatsapp_business_account",
    "feed",
    "comments",
    "mentions",
    "add",
    "edited",
    "remove",
    "comment",
    "text",
    "post.mention.create",
    "message_create",
    "Wed Oct 10 20:19:24 +0000 2018",
    "2026-11-16T01:00:00Z",
    "2026-11-13T03:00:11+0000",
    "1794745867",
    "",
    "x:1",
    "-100.5",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(WORDS).prop_map(|w| Value::String(w.to_string())),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn every_parser(body: &[u8]) {
    let now = chrono::Utc::now();
    let _ = super::meta::parse(body, now);
    let _ = super::x::parse(body);
    let _ = super::telegram::parse(body);
    let _ = super::x::mentions_page(body, "1");
    let _ = serde_json::from_slice::<super::youtube::CommentThreads>(body);
    let _ = serde_json::from_slice::<crate::app::ingest::MentionInput>(body).map(|i| i.into_new(chrono::Utc::now()));
    let _ = super::news::parse_feed(&String::from_utf8_lossy(body));
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        for lookup in [
            super::Lookup::InstagramComment { media_id: "1".into(), comment_id: "2".into() },
            super::Lookup::InstagramMedia { media_id: "1".into() },
            super::Lookup::FacebookPost { post_id: "1_2".into() },
        ] {
            let _ = super::meta::lookup_to_mention(&lookup, &value);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        every_parser(&body);
    }

    #[test]
    fn structured_but_wrong_json_never_panics(value in json_value()) {
        every_parser(value.to_string().as_bytes());
    }

    #[test]
    fn wrapped_in_real_envelopes_never_panics(inner in json_value(), object in prop::sample::select(&["page", "instagram", "whatsapp_business_account"][..])) {
        let meta = serde_json::json!({"object": object, "entry": [{"id": "1", "time": 1794745867, "changes": [{"field": "feed", "value": inner.clone()}, {"field": "comments", "value": inner.clone()}, {"field": "messages", "value": inner.clone()}, {"field": "mentions", "value": inner.clone()}]}]});
        every_parser(meta.to_string().as_bytes());
        let x = serde_json::json!({"for_user_id": "1", "tweet_create_events": [inner.clone()], "direct_message_events": [inner.clone()], "users": inner.clone()});
        every_parser(x.to_string().as_bytes());
        let activity = serde_json::json!({"data": {"event_type": "post.mention.create", "payload": inner.clone(), "includes": {"users": [inner.clone()]}}});
        every_parser(activity.to_string().as_bytes());
        let telegram = serde_json::json!({"update_id": 1, "message": inner.clone(), "edited_message": inner});
        every_parser(telegram.to_string().as_bytes());
    }

    #[test]
    fn feeds_with_odd_content_never_panic(title in ".{0,60}", date in ".{0,40}", id in ".{0,40}") {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let rss = format!("<rss><channel><title>{}</title><item><title>{}</title><guid>{}</guid><pubDate>{}</pubDate><description>{}</description></item></channel></rss>", esc(&title), esc(&title), esc(&id), esc(&date), esc(&title));
        every_parser(rss.as_bytes());
        if let Ok(feed) = super::news::parse_feed(&rss) {
            for item in &feed.items {
                let _ = super::news::to_mention(item, "outlet", None, chrono::Utc::now());
            }
        }
    }
}
