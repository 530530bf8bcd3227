//! The content calendar end to end, as the office and the platforms see it: a post and its
//! series made through the API, approved, then published by `pantau invoke publish --now …`
//! across the whole period against local servers playing X, Graph and Telegram — with ticks
//! redelivered and run in two processes at once, a rate limit in the middle and a process
//! killed right after a platform accepted a post. And replies sent from cases.

mod support;

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, TimeZone, Utc};
use pantau_tests::platforms::{FakePlatforms, Fault, PAGE, REACTIVE_PAGE, X_OFFICIAL, X_REACTIVE};
use serde_json::{Value, json};

fn env_of(fake: &FakePlatforms) -> Vec<(String, String)> {
    fake.env()
}

fn api(
    d: &Path,
    env: &[(String, String)],
    now: DateTime<Utc>,
    role: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    support::invoke_api(d, env, &now.to_rfc3339(), role, method, path, body, &[])
}

/// `pantau invoke publish --now t` in one process, with extra settings.
fn publish_command(d: &Path, env: &[(String, String)], t: DateTime<Utc>, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pantau"));
    cmd.args(["invoke", "publish", "--now", &t.to_rfc3339(), "--db", "pantau.db"])
        .current_dir(d)
        .env("RUST_LOG", "warn")
        .env_remove("PANTAU_API_KEYS");
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd.envs(extra.iter().copied());
    cmd
}

/// A tick as the schedule delivers it: two overlapping runs, then the same tick redelivered.
fn tick(d: &Path, fake: &FakePlatforms, env: &[(String, String)], t: DateTime<Utc>) {
    fake.set_now(t);
    let children: Vec<_> = (0..2).map(|_| publish_command(d, env, t, &[]).output()).collect();
    for child in children {
        let out = child.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = publish_command(d, env, t, &[]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn wib_slot(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, day, hour - 7, 0, 0).unwrap()
}

fn wib_text(t: DateTime<Utc>) -> String {
    (t + Duration::hours(7)).format("%d %H:%M").to_string()
}

#[test]
fn a_series_made_through_the_api_posts_each_slot_once_through_invoke_publish() {
    let fake = FakePlatforms::start();
    let env = env_of(&fake);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = Utc.with_ymd_and_hms(2027, 1, 10, 3, 0, 0).unwrap();
    let post = json!({
        "title": "Vaksinasi gratis",
        "text": "Vaksinasi gratis di seluruh Puskesmas Jawa Timur setiap Sabtu. Bawa KTP dan KK.",
        "variants": {"x": {"text": "Vaksinasi gratis di Puskesmas terdekat, Sabtu ini.",
                           "alternatives": ["Sudah vaksin? Puskesmas buka layanan gratis Sabtu ini.",
                                            "Ajak keluarga vaksin gratis di Puskesmas, Sabtu ini."]}},
        "media": [fake.image("vaksin.jpg")],
        "hashtags": ["JatimSehat"],
        "platforms": ["x", "facebook", "instagram", "telegram"]
    });
    let (status, post) = api(d, &env, created, "operator", "POST", "/v1/posts", Some(post));
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["status"], "draf");
    let id = post["id"].as_str().unwrap().to_string();
    let schedule = json!({"start": "2027-01-11", "times_wib": ["09:00", "12:00", "19:00"], "run_days": 3,
                          "again_after_days": 4, "until": "2027-01-20"});
    let (status, series) =
        api(d, &env, created, "operator", "POST", "/v1/series", Some(json!({"post_id": id, "schedule": schedule})));
    assert_eq!(status, 201, "{series}");
    assert_eq!(series["upcoming"][0]["due_at"], "2027-01-11T02:00:00Z", "09:00 WIB: {series}");

    let approval = json!({"revision": post["revision"]});
    let (status, refused) =
        api(d, &env, created, "operator", "POST", &format!("/v1/posts/{id}/approval"), Some(approval.clone()));
    assert_eq!(status, 403, "an operator writes, an approver approves: {refused}");
    let (status, approved) =
        api(d, &env, created, "admin", "POST", &format!("/v1/posts/{id}/approval"), Some(approval));
    assert_eq!((status, approved["status"].as_str()), (200, Some("disetujui")), "{approved}");

    for day in [11, 12, 13, 18, 19, 20] {
        for hour in [9, 12, 19] {
            let slot = wib_slot(day, hour);
            match (day, hour) {
                (12, 9) => {
                    // X's rate limit on the second morning: the post goes after the reset.
                    fake.fail("x.tweets", &[Fault::RateLimited { seconds: 90 }]);
                    for m in 0..4 {
                        tick(d, &fake, &env, slot + Duration::minutes(m));
                    }
                }
                (18, 12) => {
                    // The process dies right after X accepted the post, before Pantau recorded it.
                    fake.set_now(slot);
                    let settings =
                        [("PANTAU_FAILPOINT", "after-platform-accepted:x"), ("PANTAU_PUBLISH_CONCURRENCY", "1")];
                    let out = publish_command(d, &env, slot, &settings).output().unwrap();
                    assert!(!out.status.success(), "the failpoint stops the process");
                    // Until the claim's lease runs out nobody touches it; then the account is read.
                    for m in [1, 3, 6, 8] {
                        tick(d, &fake, &env, slot + Duration::minutes(m));
                    }
                }
                _ => tick(d, &fake, &env, slot),
            }
        }
    }

    let posted = fake.posted();
    let times = |platform: &str| -> Vec<String> {
        let mut t: Vec<String> = posted.iter().filter(|p| p.platform == platform).map(|p| wib_text(p.at)).collect();
        t.sort();
        t
    };
    let expected: Vec<String> = [11, 12, 13, 18, 19, 20]
        .iter()
        .flat_map(|d| ["09:00", "12:00", "19:00"].map(|h| format!("{d:02} {h}")))
        .collect();
    for platform in ["facebook", "instagram", "telegram"] {
        assert_eq!(times(platform), expected, "{platform}: every slot once, at its WIB time");
    }
    let x = times("x");
    let late: Vec<String> =
        expected.iter().map(|t| if t == "12 09:00" { "12 09:02".to_string() } else { t.clone() }).collect();
    assert_eq!(x, late, "X: once per slot; the limited one after the reset; the crashed one not again");
    let tweets = fake.requests().iter().filter(|r| r.method == "POST" && r.path == "/2/tweets").count();
    assert_eq!(tweets, 19, "18 posts and the one refused by the rate limit");
    assert!(posted.iter().all(|p| p.media.len() == 1), "every post carries the photo");

    let (status, calendar) = api(
        d,
        &env,
        wib_slot(21, 9),
        "viewer",
        "GET",
        "/v1/occurrences?from=2027-01-10T00:00:00Z&to=2027-01-21T00:00:00Z&platform=x&limit=100",
        None,
    );
    assert_eq!(status, 200, "{calendar}");
    let items = calendar["items"].as_array().unwrap();
    assert_eq!(items.len(), 18);
    assert!(items.iter().all(|o| o["state"] == "terbit"), "{calendar}");
    let crashed = items.iter().find(|o| o["slot"] == "2027-01-18T05:00:00Z").unwrap_or_else(|| panic!("{calendar}"));
    let on_x = posted.iter().find(|p| p.platform == "x" && wib_text(p.at) == "18 12:00").unwrap();
    assert_eq!(crashed["platform_post_id"], on_x.id.as_str(), "found on the account, not posted again: {crashed}");
    assert_eq!(crashed["attempts"], 1);
}

/// A mention ingested as the platform delivered it, and its case.
fn case_for(d: &Path, env: &[(String, String)], now: DateTime<Utc>, mention: Value) -> Value {
    let (status, body) =
        api(d, env, now, "admin", "POST", "/v1/mentions", Some(json!({"mentions": [mention.clone()]})));
    assert_eq!((status, body["stored"].as_u64()), (200, Some(1)), "{body}");
    let key = format!("{}%3A{}", mention["platform"].as_str().unwrap(), mention["external_id"].as_str().unwrap());
    let (status, case) = api(d, env, now, "viewer", "GET", &format!("/v1/cases/{key}"), None);
    assert_eq!(status, 200, "{case}");
    case
}

fn send(
    d: &Path,
    env: &[(String, String)],
    now: DateTime<Utc>,
    case: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = key.map(|k| vec![("Idempotency-Key", k)]).unwrap_or_default();
    let path = format!("/v1/cases/{}/replies", case.replace(':', "%3A"));
    support::invoke_api(d, env, &now.to_rfc3339(), "operator", "POST", &path, Some(body), &headers)
}

#[test]
fn replies_sent_from_cases_arrive_once_on_the_right_account() {
    let fake = FakePlatforms::start();
    let env = env_of(&fake);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = Utc.with_ymd_and_hms(2027, 1, 11, 3, 0, 0).unwrap();
    fake.set_now(now);

    // An influential critic on X.
    let critic = json!({"platform": "x", "external_id": "1878000000000000001", "created_at": "2027-01-11T02:50:00Z",
        "text": "Pemprov Jatim bohong soal jalan rusak di Bojonegoro, tidak becus! @KhofifahIP",
        "author": {"id": "44196397", "handle": "kritikus_jatim", "followers": 250000}});
    let case = case_for(d, &env, now, critic);
    let case_id = case["id"].as_str().unwrap().to_string();
    let account = case["mention"]["triage"]["account"].as_str().unwrap_or("resmi").to_string();
    let text =
        "Terima kasih masukannya. Perbaikan jalan Bojonegoro dijadwalkan Februari: https://jatimprov.go.id/jalan";

    let (status, refused) = send(d, &env, now, &case_id, json!({"text": text, "send": true}), None);
    assert_eq!(status, 400, "a sent reply needs an Idempotency-Key: {refused}");
    let (status, sent) = send(d, &env, now, &case_id, json!({"text": text, "send": true}), Some("reply-1"));
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["delivery"]["state"], "terbit");
    assert!(sent["first_response_at"].is_string(), "the reply is the case's first response: {sent}");
    assert_eq!(sent["replies"][0]["source"], "dikirim");
    // The client retries: nothing more is sent.
    let (status, again) = send(d, &env, now, &case_id, json!({"text": text, "send": true}), Some("reply-1"));
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["replies"].as_array().unwrap().len(), 1);
    // An officer picks the official account for a follow-up.
    let (status, _) = send(
        d,
        &env,
        now,
        &case_id,
        json!({"text": "Info lengkap di kanal resmi kami.", "send": true, "account": "resmi"}),
        Some("reply-2"),
    );
    assert_eq!(status, 201);

    let replies: Vec<_> = fake.posted().into_iter().filter(|p| p.platform == "x").collect();
    assert_eq!(replies.len(), 2, "each reply once");
    assert!(replies.iter().all(|r| r.reply_to.as_deref() == Some("1878000000000000001")));
    let expected_first = if account == "reaktif" { X_REACTIVE.1 } else { X_OFFICIAL.1 };
    assert_eq!(replies[0].account, expected_first, "from the account triage named ({account})");
    assert_eq!(replies[1].account, X_OFFICIAL.1);

    // A Facebook comment, answered from the reactive Page.
    let comment = json!({"platform": "facebook", "external_id": "104839201938475_1122334455", "created_at": "2027-01-11T02:40:00Z",
        "text": "Bantuan sosial di desa kami tidak pernah sampai, tolong dicek", "author": {"id": "1000123", "name": "Warga Ngawi"}});
    let case = case_for(d, &env, now, comment);
    let (status, sent) = send(
        d,
        &env,
        now,
        case["id"].as_str().unwrap(),
        json!({"text": "Mohon kirim nama desa lewat pesan, kami cek.", "send": true, "account": "reaktif"}),
        Some("fb-1"),
    );
    assert_eq!(status, 201, "{sent}");
    let call = fake.requests().into_iter().find(|r| r.path == "/v21.0/104839201938475_1122334455/comments").unwrap();
    assert_eq!(call.token.as_deref(), Some(REACTIVE_PAGE.0), "the reactive Page's token");
    assert_ne!(call.token.as_deref(), Some(PAGE.0));

    // WhatsApp: only within 24 hours of the citizen's last message.
    let old = json!({"platform": "whatsapp", "external_id": "wamid.HBgMNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA", "created_at": "2027-01-10T01:00:00Z",
        "text": "Pak, kapan pendaftaran beasiswa dibuka?", "author": {"id": "6281234567890", "name": "Sari"}});
    let case = case_for(d, &env, now, old);
    let wa_case = case["id"].as_str().unwrap().to_string();
    let body = json!({"text": "Pendaftaran dibuka 1 Februari di beasiswa.jatimprov.go.id", "send": true});
    let (status, closed) = send(d, &env, now, &wa_case, body.clone(), Some("wa-1"));
    assert_eq!(status, 409, "{closed}");
    assert!(closed["detail"].as_str().unwrap().contains("24-hour"), "{closed}");
    assert!(fake.posted().iter().all(|p| p.platform != "whatsapp"));
    // She writes again: the window is open, the earlier question can be answered.
    let again = json!({"platform": "whatsapp", "external_id": "wamid.HBgMNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjB", "created_at": "2027-01-11T02:30:00Z",
        "text": "Halo, mohon infonya", "author": {"id": "6281234567890", "name": "Sari"}});
    case_for(d, &env, now, again);
    let (status, sent) = send(d, &env, now, &wa_case, body, Some("wa-2"));
    assert_eq!(status, 201, "{sent}");
    let wa: Vec<_> = fake.posted().into_iter().filter(|p| p.platform == "whatsapp").collect();
    assert_eq!(wa.len(), 1);
    assert_eq!(wa[0].account, "6281234567890", "to her number");
}
