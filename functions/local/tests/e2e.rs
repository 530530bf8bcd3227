//! End-to-end: `pantau serve` as a real process, spoken to over HTTP with payloads in each
//! platform's documented shape, signed as the platforms sign them.

mod support;

use pantau::platforms::{hmac_base64, hmac_sha256};
use std::process::Command;

use support::{Server, http};

const ADMIN: &str = "e2e-admin-key";
const META_SECRET: &str = "meta-app-secret";
const VERIFY_TOKEN: &str = "meta-verify-token";
const X_SECRET: &str = "x-consumer-secret";
const TELEGRAM_SECRET: &str = "telegram-secret";

fn start(secrets: &[(&str, &str)]) -> Server {
    support::start(ADMIN, secrets)
}

fn all_secrets() -> Server {
    start(&[
        ("PANTAU_META_APP_SECRET", META_SECRET),
        ("PANTAU_META_VERIFY_TOKEN", VERIFY_TOKEN),
        ("PANTAU_X_CONSUMER_SECRET", X_SECRET),
        ("PANTAU_TELEGRAM_SECRET_TOKEN", TELEGRAM_SECRET),
    ])
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn meta_signed(body: &[u8]) -> Headers {
    vec![("X-Hub-Signature-256", format!("sha256={}", hex::encode(hmac_sha256(META_SECRET.as_bytes(), body))))]
}

fn x_signed(body: &[u8]) -> Headers {
    vec![("x-twitter-webhooks-signature", format!("sha256={}", hmac_base64(X_SECRET.as_bytes(), body)))]
}

fn telegram_signed() -> Headers {
    vec![("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET.to_string())]
}

fn admin() -> Headers {
    vec![("Authorization", format!("Bearer {ADMIN}"))]
}

type Headers = Vec<(&'static str, String)>;

/// (path, body, headers) of one signed delivery per fixture.
fn deliveries() -> Vec<(&'static str, Vec<u8>, Headers)> {
    let mut all = Vec::new();
    for f in ["meta/page_feed_comment.json", "meta/whatsapp_text.json", "meta/instagram_comment.json"] {
        let body = fixture(f);
        all.push(("/webhooks/meta", body.clone(), meta_signed(&body)));
    }
    for f in ["x/aaa_tweet_create.json", "x/aaa_direct_message.json"] {
        let body = fixture(f);
        all.push(("/webhooks/x", body.clone(), x_signed(&body)));
    }
    for f in ["telegram/message.json", "telegram/channel_post.json"] {
        all.push(("/webhooks/telegram", fixture(f), telegram_signed()));
    }
    all
}

/// Every mention through the API, following cursors.
fn list_all(server: &Server, page_size: usize) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut path = format!("/v1/mentions?from=2026-01-01&to=2027-01-01&limit={page_size}");
    loop {
        let reply = http(server, "GET", &path, &admin(), b"");
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        let page = reply.json();
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= page_size);
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/mentions?from=2026-01-01&to=2027-01-01&limit={page_size}&cursor={cursor}")
            }
            None => return items,
        }
    }
}

#[test]
fn each_delivered_message_appears_once_however_often_it_is_resent() {
    let server = all_secrets();
    let mut stored = 0;
    for (path, body, headers) in deliveries() {
        let reply = http(&server, "POST", path, &headers, &body);
        assert_eq!(reply.status, 200, "{path}: {}", String::from_utf8_lossy(&reply.body));
        stored += reply.json()["stored"].as_u64().unwrap();
    }
    // page feed 3 comments, WhatsApp 2 texts, Instagram 1, X 2 tweets (own skipped) + DMs, Telegram 2
    let first = list_all(&server, 200);
    assert_eq!(first.len() as u64, stored);
    assert!(first.len() >= 11, "{}", first.len());
    for (path, body, headers) in deliveries() {
        let reply = http(&server, "POST", path, &headers, &body);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["stored"], 0, "{path} redelivery stored again");
    }
    // Classification lands asynchronously in between, so compare identities, not whole objects.
    let keys = |ms: &[serde_json::Value]| ms.iter().map(|m| m["key"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let again = list_all(&server, 3);
    assert_eq!(keys(&again), keys(&first), "paging with cursors returns the same mentions, once each");
    let x_tweets: Vec<_> = first
        .iter()
        .filter(|m| m["platform"] == "x" && !m["external_id"].as_str().unwrap().starts_with("dm."))
        .collect();
    assert_eq!(x_tweets.len(), 2, "the office's own tweet is skipped");
    assert!(x_tweets.iter().all(|m| m["author"]["followers"].is_u64()), "follower counts from the payload");
    let telegram: Vec<_> = first.iter().filter(|m| m["platform"] == "telegram").collect();
    assert!(telegram.iter().all(|m| m["external_id"].as_str().unwrap().contains('.')), "telegram ids include the chat");

    // Every key reads back one by one through its percent-encoded path.
    for m in &first {
        let key = m["key"].as_str().unwrap();
        let encoded: String = key
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let reply = http(&server, "GET", &format!("/v1/mentions/{encoded}"), &admin(), b"");
        assert_eq!(reply.status, 200, "{key}");
        let got = reply.json();
        assert_eq!((&got["key"], &got["text"], &got["author"]), (&m["key"], &m["text"], &m["author"]));
    }
}

#[test]
fn tampered_or_unsigned_deliveries_are_refused_and_store_nothing() {
    let server = all_secrets();
    // Telegram signs nothing over the body (only the secret-token header), so only Meta and X
    // deliveries can be tampered with.
    for (path, body, headers) in deliveries().into_iter().filter(|(path, _, _)| *path != "/webhooks/telegram") {
        let mut tampered = body.clone();
        let at = tampered.iter().rposition(|b| b.is_ascii_alphabetic()).unwrap();
        tampered[at] ^= 0x20;
        let reply = http(&server, "POST", path, &headers, &tampered);
        assert_eq!(reply.status, 401, "{path} accepted a tampered body");
        assert_eq!(reply.content_type(), "application/problem+json");
    }
    for (path, body, _) in deliveries() {
        let unsigned = http(&server, "POST", path, &[], &body);
        assert_eq!(unsigned.status, 401, "{path} accepted an unsigned body");
    }
    let wrong_token = http(
        &server,
        "POST",
        "/webhooks/telegram",
        &[("X-Telegram-Bot-Api-Secret-Token", "nope".into())],
        &fixture("telegram/message.json"),
    );
    assert_eq!(wrong_token.status, 401);
    assert!(list_all(&server, 50).is_empty());
}

#[test]
fn handshakes_answer_exactly() {
    let server = all_secrets();
    let ok = http(
        &server,
        "GET",
        &format!("/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"),
        &[],
        b"",
    );
    assert_eq!((ok.status, ok.body.as_slice()), (200, b"1158201444".as_slice()));
    assert!(ok.content_type().starts_with("text/plain"));
    let wrong =
        http(&server, "GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", &[], b"");
    assert_eq!(wrong.status, 403);
    let crc = http(&server, "GET", "/webhooks/x?crc_token=crc-challenge-1", &[], b"");
    assert_eq!(crc.status, 200);
    // base64(HMAC-SHA256("x-consumer-secret", "crc-challenge-1")), computed with Python's hmac.
    assert_eq!(
        crc.json(),
        serde_json::json!({"response_token": "sha256=QIlnmRM6Maafi0IyWXIQoIauv3i6KRXpOpkjnp5o0Bk="})
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let server = all_secrets();
    let big = vec![b' '; 300 * 1024];
    assert_eq!(http(&server, "POST", "/webhooks/meta", &meta_signed(&big), &big).status, 413);
    let malformed = b"{\"object\": \"page\", \"entry\": [";
    let reply = http(&server, "POST", "/webhooks/meta", &meta_signed(malformed), malformed);
    assert_eq!(reply.status, 400);
    assert!(reply.json()["detail"].as_str().unwrap().contains("JSON"));
    // Valid, signed, but a shape we do not map: acknowledged, never a 4xx the platform would retry.
    let unknown = br#"{"object":"page","entry":[{"id":"1","time":1,"changes":[{"field":"ratings","value":{}}]}]}"#;
    let reply = http(&server, "POST", "/webhooks/meta", &meta_signed(unknown), unknown);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["unmapped"], 1);
    assert!(list_all(&server, 50).is_empty());
}

#[test]
fn the_api_checks_credentials_then_input() {
    let server = all_secrets();
    let anonymous = http(&server, "GET", "/v1/mentions", &[], b"");
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.content_type(), "application/problem+json");
    let wrong = http(&server, "GET", "/v1/mentions?limit=abc", &[("Authorization", "Bearer wrong".into())], b"");
    assert_eq!(wrong.status, 401, "credential before input");
    for bad in [
        "limit=abc",
        "limit=0",
        "cursor=garbage",
        "platform=twitter",
        "from=yesterday",
        "colour=red",
        "from=2026-02-01&to=2026-01-01",
    ] {
        let reply = http(&server, "GET", &format!("/v1/mentions?{bad}"), &admin(), b"");
        assert_eq!(reply.status, 400, "{bad}");
        assert!(!reply.json()["detail"].as_str().unwrap().is_empty());
    }
    let clamped = http(&server, "GET", "/v1/mentions?limit=100000", &admin(), b"");
    assert_eq!(clamped.status, 200, "oversized pages are clamped, not refused");
    assert_eq!(http(&server, "GET", "/v1/mentions/x%3A404", &admin(), b"").status, 404);
    assert_eq!(http(&server, "GET", "/v1/mentions/not-a-key", &admin(), b"").status, 400);
    assert_eq!(http(&server, "DELETE", "/v1/mentions", &admin(), b"").status, 405);
    let openapi = http(&server, "GET", "/v1/openapi.json", &[], b"");
    assert_eq!(openapi.status, 200);
    assert_eq!(openapi.json()["openapi"], "3.1.0");
}

#[test]
fn unconfigured_platforms_answer_404_and_accept_nothing() {
    let server = start(&[]);
    for (path, body, headers) in deliveries() {
        assert_eq!(http(&server, "POST", path, &headers, &body).status, 404, "{path}");
    }
    assert_eq!(http(&server, "GET", "/webhooks/x?crc_token=a", &[], b"").status, 404);
    assert_eq!(http(&server, "GET", "/webhooks/meta?hub.mode=subscribe", &[], b"").status, 404);
}

#[test]
fn edits_keep_history_and_removals_mark_the_mention() {
    let server = all_secrets();
    let get = |key: &str| {
        let encoded: String = key
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        http(&server, "GET", &format!("/v1/mentions/{encoded}"), &admin(), b"")
    };
    // Telegram: the message, then its edit twice (a redelivered edit changes nothing).
    let original = br#"{"update_id":1,"message":{"message_id":48211,"from":{"id":5128374650,"is_bot":false,"first_name":"Agus"},"chat":{"id":-1001786543210,"type":"supergroup","title":"Forum"},"date":1794745867,"text":"Lapor min, lampu PJU mati"}}"#;
    assert_eq!(http(&server, "POST", "/webhooks/telegram", &telegram_signed(), original).json()["stored"], 1);
    let edit = fixture("telegram/edited_message.json");
    assert_eq!(http(&server, "POST", "/webhooks/telegram", &telegram_signed(), &edit).json()["edited"], 1);
    assert_eq!(http(&server, "POST", "/webhooks/telegram", &telegram_signed(), &edit).json()["unchanged"], 1);
    let mention = get("telegram:-1001786543210.48211").json();
    assert!(mention["text"].as_str().unwrap().contains("km 5–7"), "{mention}");
    assert_eq!(mention["edits"][0]["text"], "Lapor min, lampu PJU mati");
    assert_eq!(mention["edits"].as_array().unwrap().len(), 1);

    // Meta: a comment removed after it was stored is marked, not forgotten.
    let removed = fixture("meta/page_feed_remove.json");
    let removed_json: serde_json::Value = serde_json::from_slice(&removed).unwrap();
    let mut added = removed_json.clone();
    added["entry"][0]["changes"][0]["value"]["verb"] = "add".into();
    added["entry"][0]["changes"][0]["value"]["message"] = "Kapan jalan Babat diperbaiki?".into();
    let added = serde_json::to_vec(&added).unwrap();
    assert_eq!(http(&server, "POST", "/webhooks/meta", &meta_signed(&added), &added).json()["stored"], 1);
    assert_eq!(http(&server, "POST", "/webhooks/meta", &meta_signed(&removed), &removed).json()["removed"], 1);
    let gone = get("facebook:812394756120384_1049285510293847").json();
    assert!(gone["deleted_at"].is_string(), "{gone}");
    assert_eq!(gone["text"], "Kapan jalan Babat diperbaiki?");
}

#[test]
fn unmapped_deliveries_are_acknowledged_and_quarantined() {
    let server = all_secrets();
    let odd = br#"{"object":"page","entry":[{"id":"1","time":1794745867,"changes":[{"field":"ratings","value":{"review_text":"bagus"}}]}]}"#;
    let reply = http(&server, "POST", "/webhooks/meta", &meta_signed(odd), odd);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["unmapped"], 1);
    let quarantine = server.dir.path().join("data/quarantine/meta");
    let files: Vec<_> =
        std::fs::read_dir(&quarantine).unwrap().flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(files[0].as_ref().unwrap().path()).unwrap(), odd);
}

#[test]
fn other_apps_send_batches_that_are_checked_whole_and_stored_once() {
    let server = all_secrets();
    let batch = serde_json::json!({"mentions": [
        {"platform": "api", "external_id": "lapor-9001", "text": "Saluran air di Jl. Ahmad Yani tersumbat", "created_at": "2026-11-16T02:00:00Z",
         "author": {"id": "warga-1", "name": "Bu Sri"}},
        {"platform": "news", "external_id": "https://berita.example/jatim/1", "text": "Pemprov Jatim gelar pasar murah", "created_at": "2026-11-16T03:00:00Z",
         "url": "https://berita.example/jatim/1", "author": {"id": "berita.example"}}
    ]});
    let body = serde_json::to_vec(&batch).unwrap();
    let first = http(&server, "POST", "/v1/mentions", &admin(), &body);
    assert_eq!(first.status, 200, "{}", String::from_utf8_lossy(&first.body));
    assert_eq!(first.json()["stored"], 2);
    assert_eq!(http(&server, "POST", "/v1/mentions", &admin(), &body).json()["duplicates"], 2);
    assert_eq!(http(&server, "POST", "/v1/mentions", &[], &body).status, 401);

    let mut bad = batch.clone();
    bad["mentions"][1]["external_id"] = "has space".into();
    bad["mentions"][0]["external_id"] = "lapor-9002".into();
    let reply = http(&server, "POST", "/v1/mentions", &admin(), &serde_json::to_vec(&bad).unwrap());
    assert_eq!(reply.status, 400);
    assert!(reply.json()["detail"].as_str().unwrap().starts_with("mentions[1].external_id"), "{}", reply.json());
    let mut assigned = batch.clone();
    assigned["mentions"][0]["classification"] = serde_json::json!({"category": "apresiasi"});
    assert_eq!(http(&server, "POST", "/v1/mentions", &admin(), &serde_json::to_vec(&assigned).unwrap()).status, 400);
    assert_eq!(list_all(&server, 50).len(), 2, "refused batches stored nothing (not even their valid items)");
}

fn keys(server: &Server, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pantau"))
        .arg("keys")
        .args(args)
        .arg("--db")
        .arg(server.dir.path().join("pantau.db"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn keys_issued_while_serving_work_at_once_and_revoked_keys_stop() {
    let server = all_secrets();
    let created = keys(&server, &["create", "--role", "viewer", "--label", "dashboard"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let viewer = String::from_utf8(created.stdout).unwrap();
    assert_eq!(viewer.lines().count(), 1, "the key alone on stdout");
    let viewer = viewer.trim().to_string();
    assert!(viewer.starts_with("pantau_") && viewer.len() > 60);
    let as_viewer = vec![("Authorization", format!("Bearer {viewer}"))];
    assert_eq!(http(&server, "GET", "/v1/mentions", &as_viewer, b"").status, 200);
    let batch = br#"{"mentions":[{"platform":"api","external_id":"k1","text":"Halo","created_at":"2026-11-16T01:00:00Z","author":{"id":"a"}}]}"#;
    assert_eq!(http(&server, "POST", "/v1/mentions", &as_viewer, batch).status, 403, "viewers only read");

    let ingest = String::from_utf8(keys(&server, &["create", "--role", "ingest"]).stdout).unwrap().trim().to_string();
    let as_ingest = vec![("Authorization", format!("Bearer {ingest}"))];
    assert_eq!(http(&server, "POST", "/v1/mentions", &as_ingest, batch).status, 200);
    assert_eq!(http(&server, "GET", "/v1/mentions", &as_ingest, b"").status, 403, "ingest apps only send");

    let listed = String::from_utf8(keys(&server, &["list"]).stdout).unwrap();
    let infos: Vec<serde_json::Value> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(infos.len(), 2);
    assert!(!listed.contains(&viewer) && !listed.contains(&ingest), "keys are never shown again");
    let viewer_id = infos.iter().find(|i| i["role"] == "viewer").unwrap()["id"].as_str().unwrap().to_string();
    assert!(keys(&server, &["revoke", &viewer_id]).status.success());
    assert_eq!(http(&server, "GET", "/v1/mentions", &as_viewer, b"").status, 401, "revoked at once");
    assert!(!keys(&server, &["revoke", &viewer_id]).status.success(), "revoking twice is an error");
}

/// The CRC endpoint signs only what can never be a body the webhook accepts, and a signed body
/// that is not a JSON object is refused before anything is kept.
#[test]
fn crc_answers_cannot_sign_a_body() {
    let server = all_secrets();
    for token in ["1", "null", "true", "-1.5e3", "99999999999999999999999999999999", "0"] {
        let reply = http(&server, "GET", &format!("/webhooks/x?crc_token={token}"), &[], b"");
        assert_eq!(reply.status, 400, "{token}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.content_type(), "application/problem+json");
    }
    assert_eq!(http(&server, "GET", "/webhooks/x?crc_token=Zm9vYmFy", &[], b"").status, 200);
    // Even a body signed with the real secret is refused when it is not an object.
    for body in [&b"1"[..], b"null", b"[]", b"\"x\"", b" 42 "] {
        let reply = http(&server, "POST", "/webhooks/x", &x_signed(body), body);
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(body));
        let meta = http(&server, "POST", "/webhooks/meta", &meta_signed(body), body);
        assert_eq!(meta.status, 400);
    }
    assert!(!server.dir.path().join("data/quarantine").exists(), "nothing was kept");
}

/// Replays of a delivery we cannot map are acknowledged, but only a bounded number per
/// platform and hour are kept.
#[test]
fn quarantine_writes_are_bounded_per_platform_and_hour() {
    let server = start(&[("PANTAU_META_APP_SECRET", META_SECRET), ("PANTAU_QUARANTINE_PER_HOUR", "5")]);
    let odd = br#"{"object":"page","entry":[{"id":"1","time":1794745867,"changes":[{"field":"ratings","value":{"review_text":"bagus"}}]}]}"#;
    for _ in 0..30 {
        let reply = http(&server, "POST", "/webhooks/meta", &meta_signed(odd), odd);
        assert_eq!(reply.status, 200);
    }
    let quarantine = server.dir.path().join("data/quarantine/meta");
    let files =
        std::fs::read_dir(&quarantine).unwrap().flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap()).count();
    assert_eq!(files, 5);
}

fn get_mention(server: &Server, key: &str) -> support::Reply {
    let encoded: String = key
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    http(server, "GET", &format!("/v1/mentions/{encoded}"), &admin(), b"")
}

/// Meta redelivers out of order: an edit that arrives before its original is stored, and the
/// original, arriving later, joins the history instead of being dropped as a duplicate.
#[test]
fn an_edit_before_its_original_keeps_both_in_order() {
    let server = all_secrets();
    let edited = fixture("meta/page_feed_edited.json");
    assert_eq!(http(&server, "POST", "/webhooks/meta", &meta_signed(&edited), &edited).json()["stored"], 1);
    let original = fixture("meta/page_feed_comment.json");
    let reply = http(&server, "POST", "/webhooks/meta", &meta_signed(&original), &original).json();
    assert_eq!((reply["stored"].as_u64(), reply["edited"].as_u64()), (Some(2), Some(1)), "{reply}");
    let mention = get_mention(&server, "facebook:812394756120384_1049283746501928").json();
    assert!(mention["text"].as_str().unwrap().contains("km 47"), "the edit is the current text: {mention}");
    let edits = mention["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{mention}");
    assert!(edits[0]["text"].as_str().unwrap().starts_with("Jalan provinsi Babat–Lamongan dekat jembatan"));
    // Redelivered again, in either order: nothing more.
    let again = http(&server, "POST", "/webhooks/meta", &meta_signed(&original), &original).json();
    assert_eq!(again["duplicates"], 3, "{again}");
    let edit_again = http(&server, "POST", "/webhooks/meta", &meta_signed(&edited), &edited).json();
    assert_eq!(edit_again["unchanged"], 1, "{edit_again}");
    let after = get_mention(&server, "facebook:812394756120384_1049283746501928").json();
    assert_eq!(after["edits"].as_array().unwrap().len(), 1);
}

/// Who may send mentions for which platform: an ingest key only `api`, an admin may backfill
/// a platform; the platform's own verified delivery of the same key then replaces the copy.
#[test]
fn an_ingest_key_cannot_squat_a_platforms_key() {
    let server = all_secrets();
    let created = keys(&server, &["create", "--role", "ingest", "--label", "lapor"]);
    let ingest_key = String::from_utf8(created.stdout).unwrap().trim().to_string();
    let squat = serde_json::json!({"mentions": [{
        "platform": "facebook", "external_id": "812394756120384_1049283746501928",
        "text": "Pemprov Jatim hebat sekali", "created_at": "2026-11-01T01:00:00Z",
        "author": {"id": "impostor", "name": "Bukan Slamet"}}]});
    let body = serde_json::to_vec(&squat).unwrap();
    let refused = http(&server, "POST", "/v1/mentions", &[("Authorization", format!("Bearer {ingest_key}"))], &body);
    assert_eq!(refused.status, 403, "{}", String::from_utf8_lossy(&refused.body));
    assert!(refused.json()["detail"].as_str().unwrap().starts_with("mentions[0].platform"));
    assert_eq!(get_mention(&server, "facebook:812394756120384_1049283746501928").status, 404, "nothing stored");
    let own = serde_json::json!({"mentions": [{"platform": "api", "external_id": "lapor-1", "text": "Jalan rusak",
        "created_at": "2026-11-01T01:00:00Z", "author": {"id": "w1"}}]});
    let ok = http(
        &server,
        "POST",
        "/v1/mentions",
        &[("Authorization", format!("Bearer {ingest_key}"))],
        &serde_json::to_vec(&own).unwrap(),
    );
    assert_eq!(ok.status, 200);

    // An admin's backfill is stored, then the platform's signed delivery replaces it.
    assert_eq!(http(&server, "POST", "/v1/mentions", &admin(), &body).json()["stored"], 1);
    let delivery = fixture("meta/page_feed_comment.json");
    let reply = http(&server, "POST", "/webhooks/meta", &meta_signed(&delivery), &delivery).json();
    assert_eq!((reply["stored"].as_u64(), reply["edited"].as_u64()), (Some(2), Some(1)), "{reply}");
    let mention = get_mention(&server, "facebook:812394756120384_1049283746501928").json();
    assert!(mention["text"].as_str().unwrap().contains("kolam lele"), "{mention}");
    assert_eq!(mention["author"]["id"], "6721938450128374");
    assert_eq!(mention["origin"], "platform");
    assert_eq!(mention["created_at"], "2026-11-09T01:41:55Z", "the platform's time, not the submitted one");
    // Replayed, it is a duplicate again.
    assert_eq!(http(&server, "POST", "/webhooks/meta", &meta_signed(&delivery), &delivery).json()["duplicates"], 3);
}
