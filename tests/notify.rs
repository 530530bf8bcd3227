//! Alert channels against local servers that speak the Telegram Bot API and a Slack incoming
//! webhook as documented, and e-mail through SES in moto; built the way the functions build
//! them, with `notifiers(...)` from configuration.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use pantau::adapters::notifier::notifiers;
use pantau::config::Secrets;
use pantau::ports::{Notification, Notifier};
use pantau_tests::{fresh, moto, sdk_config};
use serde_json::{Value, json};

const BOT_TOKEN: &str = "7012345678:AAHs3cretT0ken-for_tests";
const CHAT: &str = "-1001987654321";
/// The secret part of the webhook URL.
const HOOK_KEY: &str = "Xq9s3cretHookKey7Zt";

/// An error answer: status, body and an optional extra header.
type Canned = (u16, String, Option<(&'static str, String)>);

/// What the fake answers next, and what it received.
#[derive(Default)]
struct Fake {
    /// `None` answers as the real service does on success.
    answer: Mutex<Option<Canned>>,
    received: Mutex<Vec<(String, Value)>>,
}

type Shared = Arc<Fake>;

fn answer(fake: &Fake, ok: Response) -> Response {
    match fake.answer.lock().unwrap().clone() {
        None => ok,
        Some((status, body, header)) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            if let Some((name, value)) = header {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    }
}

async fn send_message(State(fake): State<Shared>, Path(bot): Path<String>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).expect("sendMessage body is JSON");
    fake.received.lock().unwrap().push((format!("/{bot}/sendMessage"), body.clone()));
    let ok = json!({"ok": true, "result": {"message_id": 42, "chat": {"id": body["chat_id"], "type": "supergroup"},
        "date": 1_794_801_600, "text": body["text"]}});
    answer(&fake, ([("content-type", "application/json")], ok.to_string()).into_response())
}

async fn webhook(State(fake): State<Shared>, Path(key): Path<String>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).expect("webhook body is JSON");
    fake.received.lock().unwrap().push((format!("/services/T0001/B0001/{key}"), body));
    answer(&fake, "ok".into_response())
}

async fn start_fake() -> (String, Shared) {
    let fake = Shared::default();
    let app = Router::new()
        .route("/{bot}/sendMessage", post(send_message))
        .route("/services/T0001/B0001/{key}", post(webhook))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

/// A loopback address nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The one channel configured by `pairs` (settings and secrets alike, as locally).
fn only_channel(pairs: &[(&str, &str)], aws: Option<&aws_config::SdkConfig>) -> Arc<dyn Notifier> {
    let source = src(pairs);
    let mut channels = notifiers(&source, &Secrets::from_source(&source), aws).unwrap();
    assert_eq!(channels.len(), 1, "{:?}", channels.iter().map(|c| c.channel()).collect::<Vec<_>>());
    channels.remove(0)
}

fn alert(title: &str, body: &str) -> Notification {
    Notification { title: title.to_string(), body: body.to_string() }
}

fn channels(pairs: &[(&str, &str)], aws: Option<&aws_config::SdkConfig>) -> Result<Vec<&'static str>, String> {
    let source = src(pairs);
    notifiers(&source, &Secrets::from_source(&source), aws)
        .map(|c| c.iter().map(|n| n.channel()).collect())
        .map_err(|e| e.to_string())
}

fn telegram(base: &str) -> Arc<dyn Notifier> {
    only_channel(
        &[
            ("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN),
            ("PANTAU_TELEGRAM_ALERT_CHAT_ID", CHAT),
            ("PANTAU_TELEGRAM_API_BASE", base),
        ],
        None,
    )
}

fn assert_hidden(err: &pantau::error::NotifyError, secret: &str) {
    assert!(!err.to_string().contains(secret), "secret in Display: {err}");
    assert!(!format!("{err:?}").contains(secret), "secret in Debug: {err:?}");
}

#[tokio::test]
async fn telegram_sends_plain_text_to_the_alert_chat() {
    let (base, fake) = start_fake().await;
    let notifier = telegram(&base);
    assert_eq!(notifier.channel(), "telegram");

    let body =
        "Pengaduan naik 340% dalam 1 jam (topik: banjir, Sidoarjo). Contoh: <b>tolong</b> _segera_ https://x.com/i/1";
    notifier.notify(&alert("Lonjakan pengaduan", body)).await.unwrap();

    let received = fake.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (path, sent) = &received[0];
    assert_eq!(path, &format!("/bot{BOT_TOKEN}/sendMessage"));
    assert_eq!(sent["chat_id"], json!(-1_001_987_654_321_i64));
    assert_eq!(sent["text"], json!(format!("Lonjakan pengaduan\n\n{body}")), "plain text, unescaped");
    assert_eq!(sent["disable_web_page_preview"], json!(true));
    assert!(sent.get("parse_mode").is_none());
}

#[tokio::test]
async fn telegram_channel_names_are_sent_as_strings_and_long_texts_are_cut() {
    let (base, fake) = start_fake().await;
    let notifier = only_channel(
        &[
            ("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN),
            ("PANTAU_TELEGRAM_ALERT_CHAT_ID", "@humas_jatim_alert"),
            ("PANTAU_TELEGRAM_API_BASE", &format!("{base}/")),
        ],
        None,
    );
    let long = "Warga Sidoarjo melaporkan banjir 🚨 ".repeat(200);
    notifier.notify(&alert("Lonjakan", &long)).await.unwrap();
    let (path, sent) = fake.received.lock().unwrap()[0].clone();
    assert_eq!(path, format!("/bot{BOT_TOKEN}/sendMessage"), "a trailing slash in the base is not doubled");
    assert_eq!(sent["chat_id"], json!("@humas_jatim_alert"));
    let text = sent["text"].as_str().unwrap();
    assert!(text.starts_with("Lonjakan\n\nWarga Sidoarjo"));
    assert!(text.ends_with('…'), "{}", &text[text.len() - 20..]);
    // Telegram counts UTF-16 code units: each emoji is two.
    let units = text.encode_utf16().count();
    assert!((4090..=4096).contains(&units), "cut at the limit, not before or past it: {units} UTF-16 units");
}

#[tokio::test]
async fn telegram_flood_control_is_retryable_and_refusals_are_not() {
    let (base, fake) = start_fake().await;
    let notifier = telegram(&base);

    *fake.answer.lock().unwrap() = Some((
        429,
        r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#
            .into(),
        None,
    ));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.channel, "telegram");
    assert!(err.to_string().contains("429") && err.to_string().contains("retry after 3"), "{err}");
    assert_hidden(&err, BOT_TOKEN);

    *fake.answer.lock().unwrap() =
        Some((400, r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#.into(), None));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("chat not found"), "{err}");
    assert_hidden(&err, BOT_TOKEN);

    *fake.answer.lock().unwrap() = Some((
        400,
        r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001555}}"#
            .into(),
        None,
    ));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("-1001555"), "the operator learns the new chat id: {err}");

    *fake.answer.lock().unwrap() = Some((502, "<html>Bad Gateway</html>".into(), None));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");

    // An echo of the token in an answer is still not shown.
    *fake.answer.lock().unwrap() =
        Some((401, format!(r#"{{"ok":false,"error_code":401,"description":"Unauthorized bot{BOT_TOKEN}"}}"#), None));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_hidden(&err, BOT_TOKEN);
}

#[tokio::test]
async fn network_failures_are_retryable_and_never_show_the_url() {
    let down = closed_port().await;
    let err = telegram(&down).notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("request failed"), "{err}");
    assert_hidden(&err, BOT_TOKEN);
    assert_hidden(&err, "sendMessage");

    let hook = format!("{down}/services/T0001/B0001/{HOOK_KEY}");
    let slack = only_channel(&[("PANTAU_SLACK_WEBHOOK_URL", &hook)], None);
    let err = slack.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_hidden(&err, HOOK_KEY);
    assert_hidden(&err, "/services/");

    let sdk = sdk_config(&down).await;
    let email = only_channel(
        &[("PANTAU_ALERT_EMAIL_FROM", "peringatan@humas.example"), ("PANTAU_ALERT_EMAIL_TO", "piket@humas.example")],
        Some(&sdk),
    );
    let err = email.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("SES SendEmail"), "{err}");
}

#[tokio::test]
async fn slack_webhook_gets_a_bold_title_and_escaped_text() {
    let (base, fake) = start_fake().await;
    let hook = format!("{base}/services/T0001/B0001/{HOOK_KEY}");
    let notifier = only_channel(&[("PANTAU_SLACK_WEBHOOK_URL", &hook)], None);
    assert_eq!(notifier.channel(), "slack");

    notifier.notify(&alert("Lonjakan pengaduan", "banjir di Sidoarjo <!channel> & Gresik")).await.unwrap();
    let received = fake.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, format!("/services/T0001/B0001/{HOOK_KEY}"));
    assert_eq!(
        received[0].1,
        json!({"text": "*Lonjakan pengaduan*\nbanjir di Sidoarjo &lt;!channel&gt; &amp; Gresik"})
    );

    *fake.answer.lock().unwrap() = Some((404, "no_service".into(), None));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("404") && err.to_string().contains("no_service"), "{err}");
    assert_hidden(&err, HOOK_KEY);

    *fake.answer.lock().unwrap() = Some((429, "rate_limited".into(), Some(("retry-after", "30".into()))));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("retry after 30"), "{err}");

    // A server that echoes the request path does not leak it either.
    *fake.answer.lock().unwrap() =
        Some((500, format!("internal error handling /services/T0001/B0001/{HOOK_KEY}"), None));
    let err = notifier.notify(&alert("Lonjakan", "isi")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_hidden(&err, HOOK_KEY);
}

#[tokio::test]
async fn email_goes_through_ses_from_a_verified_sender() {
    let Some(url) = moto().await else { return };
    let sdk = sdk_config(&url).await;
    let from = format!("{}@humas.jatimprov.example", fresh("peringatan"));
    let to = ["piket1@humas.jatimprov.example", "kabid@humas.jatimprov.example"];
    let notifier =
        only_channel(&[("PANTAU_ALERT_EMAIL_FROM", &from), ("PANTAU_ALERT_EMAIL_TO", &to.join(", "))], Some(&sdk));
    assert_eq!(notifier.channel(), "email");
    let title = format!("Lonjakan pengaduan {}", fresh("banjir"));
    let body = "Pengaduan naik 340% dalam 1 jam.\nTopik: banjir, Sidoarjo.";

    // SES refuses an unverified sender: an operator has to act, a retry would not help.
    let err = notifier.notify(&alert(&title, body)).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("MessageRejected") && err.to_string().contains("not verified"), "{err}");
    assert!(!err.to_string().contains("headers"), "SES's message, not a dump of the response: {err}");

    let ses = aws_sdk_sesv2::Client::new(&sdk);
    ses.create_email_identity().email_identity(&from).send().await.expect("verifying the sender in moto");
    notifier.notify(&alert(&title, body)).await.unwrap();

    // moto records sent messages (model `ses.Message`) in its internal data API.
    let data: Value = reqwest::get(format!("{url}/moto-api/data.json")).await.unwrap().json().await.unwrap();
    let sent: Vec<&Value> = data["ses"]["Message"]
        .as_array()
        .expect("moto lists SES messages")
        .iter()
        .filter(|m| m["subject"] == json!(title))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["source"], json!(from));
    assert_eq!(sent[0]["body"], json!(body));
    assert_eq!(sent[0]["destinations"]["ToAddresses"], json!(to));
}

#[tokio::test]
async fn channels_are_configured_whole_or_not_at_all() {
    assert_eq!(channels(&[], None), Ok(vec!["log"]));
    let err = channels(&[("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN)], None).unwrap_err();
    assert!(err.contains("PANTAU_TELEGRAM_ALERT_CHAT_ID"), "{err}");
    assert!(!err.contains(BOT_TOKEN));
    let err = channels(&[("PANTAU_TELEGRAM_ALERT_CHAT_ID", CHAT)], None).unwrap_err();
    assert!(err.contains("PANTAU_TELEGRAM_BOT_TOKEN"), "{err}");
    // A bot that only publishes to the office's channel alerts nobody.
    let publishing = [("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN), ("PANTAU_TELEGRAM_CHANNEL", "@humasjatim")];
    assert_eq!(channels(&publishing, None), Ok(vec!["log"]));
    // The template's placeholder is no token.
    let err = channels(&[("PANTAU_TELEGRAM_BOT_TOKEN", "CHANGE_ME"), ("PANTAU_TELEGRAM_ALERT_CHAT_ID", CHAT)], None)
        .unwrap_err();
    assert!(err.contains("PANTAU_TELEGRAM_BOT_TOKEN"), "{err}");
    assert_eq!(channels(&[("PANTAU_SLACK_WEBHOOK_URL", "CHANGE_ME")], None), Ok(vec!["log"]));
    let err =
        channels(&[("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN), ("PANTAU_TELEGRAM_ALERT_CHAT_ID", "humas jatim")], None)
            .unwrap_err();
    assert!(err.contains("PANTAU_TELEGRAM_ALERT_CHAT_ID"), "{err}");
    let err = channels(&[("PANTAU_SLACK_WEBHOOK_URL", "hooks.slack.com/services/T/B/s3cr3t")], None).unwrap_err();
    assert!(err.contains("PANTAU_SLACK_WEBHOOK_URL") && !err.contains("s3cr3t"), "{err}");

    let sdk = sdk_config("http://127.0.0.1:9").await;
    let err = channels(&[("PANTAU_ALERT_EMAIL_FROM", "peringatan@humas.example")], Some(&sdk)).unwrap_err();
    assert!(err.contains("PANTAU_ALERT_EMAIL_TO"), "{err}");
    let err = channels(&[("PANTAU_ALERT_EMAIL_TO", "piket@humas.example")], Some(&sdk)).unwrap_err();
    assert!(err.contains("PANTAU_ALERT_EMAIL_FROM"), "{err}");
    let email =
        [("PANTAU_ALERT_EMAIL_FROM", "peringatan@humas.example"), ("PANTAU_ALERT_EMAIL_TO", "piket@humas.example")];
    let err = channels(&email, None).unwrap_err();
    assert!(err.contains("PANTAU_ALERT_EMAIL_FROM") && err.contains("SES"), "without AWS, e-mail is refused: {err}");
    assert_eq!(channels(&email, Some(&sdk)), Ok(vec!["email"]));

    let all = [
        ("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN),
        ("PANTAU_TELEGRAM_ALERT_CHAT_ID", CHAT),
        ("PANTAU_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0001/B0001/abc"),
        email[0],
        email[1],
    ];
    assert_eq!(channels(&all, Some(&sdk)), Ok(vec!["telegram", "slack", "email"]));
}

#[test]
fn chat_secrets_come_from_the_secrets_manager_json_too() {
    let secrets = Secrets::from_json(
        "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:pantau",
        &json!({"PANTAU_TELEGRAM_BOT_TOKEN": BOT_TOKEN, "PANTAU_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/k"})
            .to_string(),
    )
    .unwrap();
    let settings = src(&[("PANTAU_TELEGRAM_ALERT_CHAT_ID", CHAT)]);
    let found: Vec<_> = notifiers(&settings, &secrets, None).unwrap().iter().map(|n| n.channel()).collect();
    assert_eq!(found, ["telegram", "slack"]);
}

/// `watch` delivering one `AlertRaised` to every configured channel: a channel that fails for
/// now is retried with the event, a channel that refuses it for good is not tried again, and a
/// channel that already had the alert does not get it again.
#[tokio::test]
async fn an_alert_reaches_each_channel_once_even_when_one_fails_first() {
    use pantau::adapters::sqlite::SqliteStore;
    use pantau::domain::{AlertKind, Event, EventKind};
    use pantau::handlers::watch::{WatchState, handle as watch};
    use pantau::handlers::{FunctionError, Trigger};
    use pantau::stores::AlertLog;

    let (tg_base, tg) = start_fake().await;
    let (slack_base, slack) = start_fake().await;
    *tg.answer.lock().unwrap() =
        Some((502, r#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#.into(), None));
    // The webhook was deleted on the Slack side: a refusal no retry will pass.
    *slack.answer.lock().unwrap() = Some((404, "no_service".into(), None));
    let hook = format!("{slack_base}/services/T0001/B0001/{HOOK_KEY}");
    let source = src(&[
        ("PANTAU_TELEGRAM_BOT_TOKEN", BOT_TOKEN),
        ("PANTAU_TELEGRAM_ALERT_CHAT_ID", CHAT),
        ("PANTAU_TELEGRAM_API_BASE", tg_base.as_str()),
        ("PANTAU_SLACK_WEBHOOK_URL", hook.as_str()),
    ]);
    let channels = notifiers(&source, &Secrets::from_source(&source), None).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let clock = pantau_tests::SettableClock::new(now);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("w.db"), clock.clone(), 365).unwrap());
    let unused_bus = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::Config::builder()
            .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
            .build(),
    );
    let state = WatchState {
        outbox: store.clone(),
        bus: Arc::new(pantau::adapters::eventbridge::EventBridgeBus::new(unused_bus, "unused")),
        notifiers: channels,
        alerts: store.clone(),
        cases: store.clone(),
        mentions: store.clone(),
        counters: store.clone(),
        settings: store.clone(),
        markers: store.clone(),
        episodes: store.clone(),
        spikes: Default::default(),
        publishers: Default::default(),
        clock,
    };
    let data: serde_json::Map<String, Value> = serde_json::from_value(json!({
        "case": "x:1", "clock": "respon", "clock_name": "respons pertama", "raised_at": "2026-11-27T02:59:00.000Z"
    }))
    .unwrap();
    let raised = Event::new("watch", EventKind::AlertRaised { kind: AlertKind::SlaBreach, data }, now);
    // As the bus delivers it: the detail carries the event id.
    let delivered = EventKind::from_parts("AlertRaised", raised.published_detail()).unwrap();

    let first = watch(&state, Trigger::Event(delivered.clone())).await;
    assert!(matches!(first, Err(FunctionError::Retryable(_))), "{first:?}");
    assert_eq!((tg.received.lock().unwrap().len(), slack.received.lock().unwrap().len()), (1, 1));

    *tg.answer.lock().unwrap() = None;
    let second = watch(&state, Trigger::Event(delivered.clone())).await.unwrap();
    assert_eq!(second.notified, 1, "only the channel that failed for now");
    let third = watch(&state, Trigger::Event(delivered)).await.unwrap();
    assert_eq!(third.notified, 0);
    assert_eq!((tg.received.lock().unwrap().len(), slack.received.lock().unwrap().len()), (2, 1));
    let text = tg.received.lock().unwrap()[1].1["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("SLA respons pertama terlewat: kasus x:1"), "{text}");
    assert!(text.contains("27 Nov 2026 09:59 WIB"), "people read WIB: {text}");

    let month = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let records = store.alerts_of_month(month, 10, None).await.unwrap().items;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.id, raised.id);
    assert_eq!(record.delivered, vec!["telegram"]);
    assert_eq!(record.failed, vec!["slack"], "refused for good: not tried again");
}
