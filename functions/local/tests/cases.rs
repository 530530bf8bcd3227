//! Cases walked through their workflow across the Christmas–New Year days off of 2026/27 with
//! `pantau invoke … --now`, as an officer and the `watch` schedule would; and a synthetic spike
//! alerted once, with a follow-up when it ends. Due times below are worked out by hand from
//! the SKB calendar: 24 Dec 2026 (cuti bersama), 25 Dec (Natal), 1 Jan 2027 and weekends off.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

mod support;

fn pantau(dir: &Path, args: &[&str]) -> Value {
    support::pantau_json(dir, &[], args)
}

/// Calls the API as `role` at `now` through `pantau invoke api`; returns (status, body).
fn api(dir: &Path, now: &str, role: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    support::invoke_api(dir, &[], now, role, method, path, body, &[])
}

fn watch(dir: &Path, now: &str) -> Value {
    pantau(dir, &["invoke", "watch", "--now", now])
}

fn alerts(dir: &Path, now: &str, kind: &str) -> Vec<Value> {
    let (status, body) = api(dir, now, "viewer", "GET", &format!("/v1/alerts?kind={kind}&from=2026-11-01"), None);
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn complaint(id: &str, text: &str, created_at: &str) -> Value {
    json!({"platform": "api", "external_id": id, "text": text, "created_at": created_at,
           "author": {"id": format!("warga-{id}"), "followers": 40}})
}

#[test]
fn a_case_across_christmas_and_new_year_keeps_working_day_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Wednesday 23 Dec 2026, 20:00 WIB.
    let arrival = "2026-12-23T13:00:00Z";
    let text = "Jalan di Desa Sumberrejo Bojonegoro rusak parah dan berlubang, tolong segera diperbaiki";
    let (status, body) = api(
        d,
        arrival,
        "ingest",
        "POST",
        "/v1/mentions",
        Some(json!({"mentions": [complaint("lapor-1", text, arrival)]})),
    );
    assert_eq!((status, body["stored"].as_u64()), (200, Some(1)), "{body}");

    let (status, case) = api(d, arrival, "viewer", "GET", "/v1/cases/api%3Alapor-1", None);
    assert_eq!(status, 200, "classification opened the case: {case}");
    assert_eq!(case["status"], "baru");
    assert_eq!(case["category"], "pengaduan");
    // Start: Wed 23 Dec (a working day). Triage: 3 working days → 28, 29, 30 Dec.
    assert_eq!(case["sla"]["start"], "2026-12-23");
    assert_eq!(case["sla"]["triage_due"], "2026-12-30T16:59:59Z");
    // Response: 5 working days → 28, 29, 30, 31 Dec, (1 Jan off, weekend) 4 Jan.
    assert_eq!(case["sla"]["response_due"], "2027-01-04T16:59:59Z");
    // Resolution: 14 calendar days from the start → 6 Jan.
    assert_eq!(case["sla"]["resolution_due"], "2027-01-06T16:59:59Z");
    // The social-media target: 24 hours after arrival, and the inbox orders by it.
    assert_eq!(case["sla"]["social_response_due"], "2026-12-24T13:00:00Z");
    assert_eq!(case["due_at"], "2026-12-24T13:00:00Z");
    assert!(case["sla"]["warnings"].as_array().unwrap().is_empty(), "2027 is in the calendar");

    // Christmas Eve 14:00 WIB: within the last quarter of the 24-hour target → one reminder.
    let first = watch(d, "2026-12-24T07:00:00Z");
    assert_eq!((first["reminders"].as_u64(), first["breaches"].as_u64()), (Some(1), Some(0)), "{first}");
    assert_eq!(watch(d, "2026-12-24T08:00:00Z")["reminders"], 0, "reminded once");
    // Christmas Eve 21:00 WIB: the social-media target has passed → one breach, once.
    assert_eq!(watch(d, "2026-12-24T14:00:00Z")["breaches"], 1);
    assert_eq!(watch(d, "2026-12-24T14:15:00Z")["breaches"], 0);
    let breaches = alerts(d, "2026-12-24T14:30:00Z", "sla_breach");
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0]["data"]["clock"], "respon_medsos");
    assert!(breaches[0]["title"].as_str().unwrap().starts_with("SLA respons media sosial terlewat"));
    assert_eq!(breaches[0]["delivered"], json!(["log"]));

    // Monday 28 Dec: an officer verifies (before the triage due time) and assigns.
    let now = "2026-12-28T02:00:00Z";
    let to = |status: &str| Some(json!({"to": status, "note": "cek lapangan"}));
    let (status, verified) = api(d, now, "operator", "POST", "/v1/cases/api%3Alapor-1/transitions", to("diverifikasi"));
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["triaged_at"], now);
    assert_eq!(verified["history"][0]["by"], "operator-1");
    let (status, refused) = api(d, now, "operator", "POST", "/v1/cases/api%3Alapor-1/transitions", to("selesai"));
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["allowed"], json!(["ditindaklanjuti", "ditunda", "bukan_wewenang"]));
    let (status, _) = api(d, now, "viewer", "POST", "/v1/cases/api%3Alapor-1/transitions", to("ditunda"));
    assert_eq!(status, 403, "viewers read only");
    let assignment = Some(json!({"assignee": "ani", "unit": "Dinas PU Bina Marga"}));
    let (status, assigned) = api(d, now, "operator", "PUT", "/v1/cases/api%3Alapor-1/assignment", assignment);
    assert_eq!((status, &assigned["unit"]), (200, &json!("Dinas PU Bina Marga")));

    // Tuesday 29 Dec 09:00 WIB: the reply is logged. Automatic close after 10 working days:
    // 30, 31 Dec, 4, 6, 7, 8, 11, 12, 13, 14 Jan (5 Jan 2027 is Isra Mikraj).
    let now = "2026-12-29T02:00:00Z";
    let reply = Some(json!({"text": "Terima kasih, laporan sudah diteruskan ke Dinas PU Bina Marga."}));
    let (status, replied) = api(d, now, "operator", "POST", "/v1/cases/api%3Alapor-1/replies", reply);
    assert_eq!(status, 201, "{replied}");
    assert_eq!(replied["first_response_at"], now);
    assert_eq!(replied["auto_close_at"], "2027-01-14T16:59:59Z");
    assert_eq!(replied["due_at"], "2027-01-06T16:59:59Z", "only resolution still runs");

    // Thursday 7 Jan: resolution breached. Friday 15 Jan: nobody wrote again → closed.
    assert_eq!(watch(d, "2027-01-07T01:00:00Z")["breaches"], 1);
    let quiet = watch(d, "2027-01-14T12:00:00Z");
    assert_eq!(quiet["auto_closed"], 0, "not before the end of the day: {quiet}");
    assert_eq!(watch(d, "2027-01-15T01:00:00Z")["auto_closed"], 1);
    let (_, closed) = api(d, "2027-01-15T02:00:00Z", "viewer", "GET", "/v1/cases/api%3Alapor-1", None);
    assert_eq!(closed["status"], "ditutup_otomatis");
    assert_eq!(closed["mention"]["case"]["status"], "ditutup_otomatis");
    let (_, inbox) = api(d, "2027-01-15T02:00:00Z", "viewer", "GET", "/v1/cases", None);
    assert!(inbox["items"].as_array().unwrap().is_empty(), "closed cases leave the inbox");
    let (status, _) =
        api(d, "2027-01-15T02:00:00Z", "operator", "POST", "/v1/cases/api%3Alapor-1/transitions", to("diverifikasi"));
    assert_eq!(status, 409);
}

#[test]
fn a_citizen_writing_again_keeps_the_case_open() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let arrival = "2026-12-01T03:00:00Z";
    let first = complaint("q-1", "Kapan bantuan pangan untuk warga terdampak banjir di Sampang dicairkan?", arrival);
    api(d, arrival, "ingest", "POST", "/v1/mentions", Some(json!({"mentions": [first]})));
    let (status, _) = api(
        d,
        "2026-12-01T04:00:00Z",
        "operator",
        "POST",
        "/v1/cases/api%3Aq-1/replies",
        Some(json!({"text": "Sedang diproses."})),
    );
    assert_eq!(status, 201);
    // The same citizen writes again before the automatic close.
    let mut again = complaint("q-2", "Sampai sekarang belum cair, mohon kejelasan jadwalnya", "2026-12-03T03:00:00Z");
    again["author"]["id"] = "warga-q-1".into();
    api(d, "2026-12-03T03:00:00Z", "ingest", "POST", "/v1/mentions", Some(json!({"mentions": [again]})));
    let run = watch(d, "2026-12-20T03:00:00Z");
    assert_eq!(run["auto_closed"], 0, "{run}");
    let (_, case) = api(d, "2026-12-20T03:00:00Z", "viewer", "GET", "/v1/cases/api%3Aq-1", None);
    assert_ne!(case["status"], "ditutup_otomatis");
    assert!(case["auto_close_at"].is_null(), "the office must answer again first");
}

#[test]
fn a_synthetic_spike_is_alerted_once_and_its_end_followed_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Friday 27 Nov 2026 10:00–10:29 WIB: 60 messages about the same flood, no history yet.
    let mentions: Vec<Value> = (0..60)
        .map(|i| {
            let at = format!("2026-11-27T03:{:02}:00Z", i / 2);
            complaint(&format!("s-{i}"), &format!("Banjir di Sidoarjo makin parah, warga butuh bantuan ({i})"), &at)
        })
        .collect();
    let (status, body) =
        api(d, "2026-11-27T03:30:00Z", "ingest", "POST", "/v1/mentions", Some(json!({"mentions": mentions})));
    assert_eq!((status, body["stored"].as_u64()), (200, Some(60)), "{body}");

    let run = watch(d, "2026-11-27T03:35:00Z");
    assert!(run["spikes_started"].as_u64().unwrap() >= 1, "{run}");
    let again = watch(d, "2026-11-27T03:50:00Z");
    assert_eq!(again["spikes_started"], 0, "one alert per episode: {again}");
    let started = alerts(d, "2026-11-27T04:00:00Z", "spike");
    let volume: Vec<&Value> =
        started.iter().filter(|a| a["data"]["metric"] == "volume" && a["data"]["series"] == "all").collect();
    assert_eq!(volume.len(), 1, "{started:?}");
    assert_eq!(volume[0]["data"]["phase"], "mulai");
    assert_eq!(volume[0]["data"]["mode"], "fixed", "no history yet: the fixed threshold applies");
    assert_eq!(volume[0]["data"]["observed"], 60.0);

    // Two hours later the hour is quiet: the episode ends with a follow-up, once.
    let later = watch(d, "2026-11-27T05:40:00Z");
    assert!(later["spikes_ended"].as_u64().unwrap() >= 1, "{later}");
    assert_eq!(watch(d, "2026-11-27T05:55:00Z")["spikes_ended"], 0);
    let ended = alerts(d, "2026-11-27T06:00:00Z", "spike");
    let follow_up: Vec<&Value> = ended
        .iter()
        .filter(|a| a["data"]["metric"] == "volume" && a["data"]["series"] == "all" && a["data"]["phase"] == "selesai")
        .collect();
    assert_eq!(follow_up.len(), 1, "{ended:?}");
    assert!(follow_up[0]["title"].as_str().unwrap().starts_with("Lonjakan volume berakhir"));
}

#[test]
fn an_officers_correction_moves_counts_opens_a_case_and_feeds_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = "2026-11-27T03:00:00Z";
    let text = "Mantap, acara car free day di Surabaya tadi pagi ramai sekali";
    api(d, now, "ingest", "POST", "/v1/mentions", Some(json!({"mentions": [complaint("c-1", text, now)]})));
    let (_, before) = api(d, now, "viewer", "GET", "/v1/mentions/api%3Ac-1", None);
    let model_category = before["classification"]["category"].as_str().unwrap().to_string();
    assert_ne!(model_category, "pengaduan");
    assert!(before["case"].is_null());

    let correction = Some(json!({"category": "pengaduan", "sentiment": "negatif", "note": "warga mengeluh kemacetan"}));
    let (status, _) = api(d, now, "viewer", "POST", "/v1/mentions/api%3Ac-1/correction", correction.clone());
    assert_eq!(status, 403, "viewers cannot correct");
    let (status, _) = api(
        d,
        now,
        "operator",
        "POST",
        "/v1/mentions/api%3Ac-1/correction",
        Some(json!({"category": "pengaduan", "status": "x"})),
    );
    assert_eq!(status, 400, "unknown fields are refused");
    let (status, corrected) = api(d, now, "operator", "POST", "/v1/mentions/api%3Ac-1/correction", correction);
    assert_eq!(status, 200, "{corrected}");
    assert_eq!(corrected["classification"]["category"], "pengaduan");
    assert_eq!(corrected["correction"]["model_category"], model_category.as_str());
    assert_eq!(corrected["correction"]["by"], "operator-1");
    assert_eq!(corrected["case"]["status"], "baru", "a complaint opens a case");

    let (_, stats) = api(d, now, "viewer", "GET", "/v1/stats?from=2026-11-27&to=2026-11-27", None);
    assert_eq!(stats["totals"]["category#pengaduan"], 1, "{stats}");
    assert!(stats["totals"].get(format!("category#{model_category}")).is_none(), "the count moved: {stats}");
    assert_eq!(stats["cases"]["open"], 1);

    // The correction survives reclassification of the same text.
    let run = pantau(d, &["reclassify", "--from", "2026-11-27", "--to", "2026-11-27"]);
    assert!(run.is_object(), "{run}");
    let (_, after) = api(d, now, "viewer", "GET", "/v1/mentions/api%3Ac-1", None);
    assert_eq!(after["classification"]["category"], "pengaduan");

    // Corrected away from a complaint, the mention still shows the case it opened.
    let back = Some(json!({"category": "apresiasi"}));
    let (status, praised) = api(d, now, "operator", "POST", "/v1/mentions/api%3Ac-1/correction", back);
    assert_eq!(status, 200, "{praised}");
    assert_eq!(praised["classification"]["category"], "apresiasi");
    assert_eq!(praised["correction"]["model_category"], model_category.as_str(), "the model's label is kept");
    assert_eq!(praised["case"]["status"], "baru");
    assert_eq!(
        praised["revision"].as_u64(),
        corrected["revision"].as_u64().map(|r| r + 1),
        "each correction is a new revision, so a writer holding the old one loses"
    );
    let (_, relabelled) = api(d, now, "viewer", "GET", "/v1/cases/api%3Ac-1", None);
    assert_eq!(relabelled["category"], "apresiasi", "the inbox shows what the officer decided");
    let (_, listed) = api(d, now, "viewer", "GET", "/v1/mentions?from=2026-11-27&to=2026-11-28&case_status=baru", None);
    assert_eq!(listed["items"][0]["case"]["id"], "api:c-1", "{listed}");

    // And it is training feedback.
    std::fs::write(
        d.join("tiny.csv"),
        "text,category,sentiment\n\"jalan rusak tolong diperbaiki\",pengaduan,negatif\n\"terima kasih pak gubernur\",apresiasi,positif\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(["train", "--output", "m.bin", "--feedback", "--db", "pantau.db", "tiny.csv", "--held-out", "tiny.csv"])
        .current_dir(d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1 corrected messages"), "{stderr}");
    let feedback = api(d, now, "admin", "GET", "/v1/authors/api%3Awarga-c-1", None).1["feedback"].clone();
    assert_eq!(feedback[0]["category"], "apresiasi", "the latest correction is the feedback: {feedback}");
    // Where corrections live in DynamoDB: saved from the API, then trained on.
    let (status, saved) = api(d, now, "admin", "GET", "/v1/feedback", None);
    assert_eq!((status, saved["items"].as_array().map(Vec::len)), (200, Some(1)), "{saved}");
    assert_eq!(api(d, now, "operator", "GET", "/v1/feedback", None).0, 403);
    std::fs::write(d.join("feedback.json"), saved.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(["train", "--output", "m2.bin", "--feedback-file", "feedback.json", "tiny.csv", "--held-out", "tiny.csv"])
        .current_dir(d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("1 corrected messages from feedback.json"), "{stderr}");
    assert!(d.join("m.bin").exists());
}

#[test]
fn many_sla_alerts_in_one_run_become_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let arrival = "2026-12-01T03:00:00Z";
    let complaints: Vec<Value> = (0..8)
        .map(|i| {
            complaint(
                &format!("d-{i}"),
                &format!("Air PDAM di Perumahan Griya {i} Gresik mati tiga hari, tolong"),
                arrival,
            )
        })
        .collect();
    api(d, arrival, "ingest", "POST", "/v1/mentions", Some(json!({"mentions": complaints})));
    let (_, inbox) = api(d, arrival, "viewer", "GET", "/v1/cases?limit=3", None);
    assert_eq!(inbox["items"].as_array().unwrap().len(), 3);
    assert!(inbox["next_cursor"].is_string(), "more than one page");
    // 21:00 WIB: every 24-hour target is in its last quarter.
    let run = watch(d, "2026-12-01T22:00:00Z");
    assert_eq!(run["reminders"], 8, "{run}");
    assert!(alerts(d, "2026-12-01T23:00:00Z", "sla_reminder").is_empty(), "no storm of single alerts");
    let digest = alerts(d, "2026-12-01T23:00:00Z", "sla_digest");
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0]["data"]["alerts"], 8);
    assert_eq!(digest[0]["title"], "Ringkasan SLA: 8 peringatan kasus");
    assert_eq!(watch(d, "2026-12-01T22:30:00Z")["reminders"], 0, "each case reminded once");
}

#[test]
fn a_calendar_running_out_is_warned_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    watch(d, "2027-10-01T00:00:00Z");
    assert!(alerts(d, "2027-10-02T00:00:00Z", "calendar").is_empty(), "2027 is known until November");
    watch(d, "2027-11-15T00:00:00Z");
    watch(d, "2027-11-15T00:15:00Z");
    let (status, warned) =
        api(d, "2027-11-16T00:00:00Z", "viewer", "GET", "/v1/alerts?kind=calendar&from=2027-11-01", None);
    assert_eq!(status, 200);
    let items = warned["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{warned}");
    assert_eq!(items[0]["title"], "Kalender libur 2028 belum diisi");
}

/// Sends a signed Meta delivery through `pantau invoke ingest-webhook` at `now`.
fn meta_webhook(dir: &Path, now: &str, body: &Value) -> Value {
    const SECRET: &str = "meta-app-secret";
    let raw = body.to_string();
    let signature =
        format!("sha256={}", hex::encode(pantau::platforms::hmac_sha256(SECRET.as_bytes(), raw.as_bytes())));
    let event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/webhooks/meta", "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-hub-signature-256": signature},
        "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "api.example",
            "domainPrefix": "api", "http": {"method": "POST", "path": "/webhooks/meta", "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1", "userAgent": "facebookexternalua"}, "requestId": "r1", "routeKey": "$default",
            "stage": "$default", "time": "27/Nov/2026:03:00:00 +0000", "timeEpoch": 0},
        "body": raw, "isBase64Encoded": false
    });
    std::fs::write(dir.join("hook.json"), event.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(["invoke", "ingest-webhook", "--event", "hook.json", "--now", now, "--db", "pantau.db"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env("PANTAU_META_APP_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    response
}

#[test]
fn the_offices_reply_on_facebook_is_the_first_response() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let page = "104857362918475";
    let post = format!("{page}_812394756120384");
    let comment = |at: i64, from: &str, id: &str, parent: &str, message: &str| {
        json!({"object": "page", "entry": [{"id": page, "time": at, "changes": [{"field": "feed", "value": {
            "from": {"id": from, "name": "x"}, "post_id": post, "comment_id": id, "parent_id": parent,
            "created_time": at, "item": "comment", "verb": "add", "message": message}}]}]})
    };
    // Thursday 26 Nov 2026, 09:00 WIB.
    let citizen = comment(
        1_795_658_400,
        "6721938450128374",
        "812394756120384_1049283746501928",
        &post,
        "Jalan provinsi Babat–Lamongan dekat jembatan rusak parah, lubangnya besar, tolong segera ditambal",
    );
    meta_webhook(d, "2026-11-26T02:00:00Z", &citizen);
    let id = "facebook%3A812394756120384_1049283746501928";
    let (status, case) = api(d, "2026-11-26T02:00:00Z", "viewer", "GET", &format!("/v1/cases/{id}"), None);
    assert_eq!(status, 200, "{case}");
    assert!(case["first_response_at"].is_null());

    // The Page answers at 12:00 WIB.
    let reply = comment(
        1_795_669_200,
        page,
        "812394756120384_1049283799999999",
        "812394756120384_1049283746501928",
        "Terima kasih, sudah kami teruskan ke UPT PJJ Lamongan.",
    );
    meta_webhook(d, "2026-11-26T05:00:10Z", &reply);
    meta_webhook(d, "2026-11-26T05:05:00Z", &reply);
    let (_, answered) = api(d, "2026-11-26T06:00:00Z", "viewer", "GET", &format!("/v1/cases/{id}"), None);
    let replies = answered["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "a redelivered reply is recorded once: {answered}");
    assert_eq!(replies[0]["source"], "platform");
    assert_eq!(replies[0]["id"], "facebook:812394756120384_1049283799999999");
    // The platform's time of the reply is the response time.
    assert_eq!(answered["first_response_at"], "2026-11-26T05:00:00Z");

    // A comment and the Page's answer to it in one delivery: the answer comes before the case
    // exists (classification runs after the delivery is stored) and is given to it when it opens.
    let mut both = comment(
        1_795_669_200,
        "7810293847561029",
        "812394756120384_1049285510293847",
        &post,
        "Kapan pendaftaran beasiswa pendidikan Jatim dibuka? Mohon infonya",
    );
    let answer = comment(
        1_795_669_500,
        page,
        "812394756120384_1049285599999999",
        "812394756120384_1049285510293847",
        "Pendaftaran dibuka 1 Desember, info lengkap di laman Dinas Pendidikan.",
    );
    let change = answer["entry"][0]["changes"][0].clone();
    both["entry"][0]["changes"].as_array_mut().unwrap().push(change);
    meta_webhook(d, "2026-11-26T05:06:00Z", &both);
    let (status, case) =
        api(d, "2026-11-26T06:00:00Z", "viewer", "GET", "/v1/cases/facebook%3A812394756120384_1049285510293847", None);
    assert_eq!(status, 200, "{case}");
    assert_eq!(case["replies"].as_array().unwrap().len(), 1, "{case}");
    assert_eq!(case["first_response_at"], "2026-11-26T05:05:00Z");
}

#[test]
fn dates_outside_2000_to_2100_are_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = "2026-11-27T03:00:00Z";
    for path in [
        "/v1/stats?to=-262143-01-01",
        "/v1/alerts?to=-262143-01-01",
        "/v1/mentions?to=-262143-01-01",
        "/v1/mentions?from=2200-01-01",
    ] {
        let (status, body) = api(d, now, "viewer", "GET", path, None);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("2000"), "{body}");
    }
    // Ids that cannot exist (longer than any key DynamoDB takes) are simply not found.
    let long = "a".repeat(3000);
    assert_eq!(api(d, now, "viewer", "GET", &format!("/v1/cases/api%3A{long}"), None).0, 404);
    assert_eq!(api(d, now, "viewer", "GET", &format!("/v1/answers/{long}"), None).0, 404);
}

#[test]
fn a_data_subject_export_pages_and_an_erase_removes_everything_that_names_the_author() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = "2026-11-27T03:00:00Z";
    let mut batch: Vec<Value> = (0..60)
        .map(|i| {
            let mut m = complaint(
                &format!("p-{i}"),
                &format!("Jalan rusak di Desa Sukamaju nomor {i}, tolong diperbaiki"),
                now,
            );
            m["author"] = json!({"id": "pelapor-7", "handle": "pelapor7", "followers": 250_000});
            m
        })
        .collect();
    // An influential hater by the same author raises an alert naming them.
    batch[0]["text"] = "Gubernur goblok, pejabat korup semua, dasar tidak becus kerja!".into();
    batch.push(complaint("other-1", "Lampu jalan di Kediri mati, mohon diperbaiki", now));
    let (status, _) = api(d, now, "ingest", "POST", "/v1/mentions", Some(json!({"mentions": batch})));
    assert_eq!(status, 200);
    let hater_alerts = alerts(d, now, "influential_hater");
    assert_eq!(hater_alerts.len(), 1, "{hater_alerts:?}");
    let (status, _) = api(d, now, "operator", "GET", "/v1/authors/api%3Apelapor-7", None);
    assert_eq!(status, 403, "data-subject requests are for admins");

    let mut exported = 0;
    let mut cursor: Option<String> = None;
    let mut alerts_seen = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/authors/api%3Apelapor-7?cursor={c}"),
            None => "/v1/authors/api%3Apelapor-7".to_string(),
        };
        let (status, page) = api(d, now, "admin", "GET", &path, None);
        assert_eq!(status, 200, "{page}");
        exported += page["mentions"].as_array().unwrap().len();
        alerts_seen += page["alerts"].as_array().unwrap().len();
        assert!(page["mentions"].as_array().unwrap().iter().all(|m| m["author"]["id"] == "pelapor-7"));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((exported, alerts_seen), (60, 1), "every mention over pages of 50, and the alert naming one");

    let (status, erased) = api(d, now, "admin", "DELETE", "/v1/authors/api%3Apelapor-7", None);
    assert_eq!(status, 200, "{erased}");
    assert_eq!(
        (erased["mentions"].as_u64(), erased["alerts"].as_u64(), erased["more"].as_bool()),
        (Some(60), Some(1), Some(false))
    );
    assert!(erased["cases"].as_u64().unwrap() >= 59, "{erased}");
    let (_, again) = api(d, now, "admin", "DELETE", "/v1/authors/api%3Apelapor-7", None);
    assert_eq!(again["mentions"], 0, "idempotent");
    assert!(alerts(d, now, "influential_hater").is_empty(), "the alert naming the author is gone");
    let (status, _) = api(d, now, "viewer", "GET", "/v1/mentions/api%3Ap-1", None);
    assert_eq!(status, 404);
    let (_, stats) = api(d, now, "viewer", "GET", "/v1/stats?from=2026-11-27&to=2026-11-27", None);
    assert_eq!(stats["totals"]["total"], 1, "only the other author's mention is still counted: {stats}");
    assert_eq!(stats["cases"]["open"], 1);
}

#[test]
fn a_prolific_author_is_erased_over_several_calls() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = "2026-11-27T03:00:00Z";
    for batch in 0..2 {
        let mentions: Vec<Value> = (0..160)
            .map(|i| {
                let mut m = complaint(&format!("b{batch}-{i}"), &format!("Pesan nomor {i} dari warga yang sama"), now);
                m["author"] = json!({"id": "rajin"});
                m
            })
            .collect();
        assert_eq!(api(d, now, "ingest", "POST", "/v1/mentions", Some(json!({"mentions": mentions}))).0, 200);
    }
    let (_, first) = api(d, now, "admin", "DELETE", "/v1/authors/api%3Arajin", None);
    assert_eq!((first["mentions"].as_u64(), first["more"].as_bool()), (Some(300), Some(true)), "{first}");
    let (_, second) = api(d, now, "admin", "DELETE", "/v1/authors/api%3Arajin", None);
    assert_eq!((second["mentions"].as_u64(), second["more"].as_bool()), (Some(20), Some(false)), "{second}");
}
