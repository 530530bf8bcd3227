//! The AWS adapters other than the stores, against moto over real HTTP: EventBridge delivery
//! (read back through an SQS target), S3 and folder blob stores, the Secrets Manager secret,
//! and the classify function's model from the bucket.

use std::collections::BTreeSet;

use chrono::Utc;
use pantau::adapters::blob::{FolderBlobStore, S3BlobStore};
use pantau::adapters::eventbridge::EventBridgeBus;
use pantau::config::Secrets;
use pantau::domain::{Event, EventKind, MentionKey};
use pantau::ports::{BlobStore, EventBus};
use pantau::time::Clock;
use pantau_tests::{fresh, moto, sdk_config};
use secrecy::ExposeSecret;

#[tokio::test]
async fn eventbridge_delivers_every_event_once_in_chunks() {
    let Some(endpoint) = moto().await else { return };
    let sdk = sdk_config(&endpoint).await;
    let events_client = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let bus_name = fresh("pantau");
    events_client.create_event_bus().name(&bus_name).send().await.unwrap();
    let queue_url = queue_for(&sdk, &bus_name, "MentionReceived").await;

    // 23 events: three PutEvents calls of at most 10.
    let events: Vec<Event> = (0..23)
        .map(|i| {
            Event::new(
                "ingest-webhook",
                EventKind::MentionReceived {
                    key: MentionKey::new(pantau::domain::Platform::X, format!("{i}")).unwrap(),
                },
                Utc::now(),
            )
        })
        .collect();
    let bus = EventBridgeBus::new(events_client, &bus_name);
    let report = bus.publish(&events).await.unwrap();
    assert_eq!(report.published.len(), 23);
    assert!(report.failed.is_empty());

    let mut seen = BTreeSet::new();
    for _ in 0..20 {
        let out = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
        for message in out.messages.unwrap_or_default() {
            let body: serde_json::Value = serde_json::from_str(message.body().unwrap()).unwrap();
            assert_eq!(body["detail-type"], "MentionReceived");
            assert_eq!(body["source"], "pantau.ingest-webhook");
            assert!(body["detail"]["key"].as_str().unwrap().starts_with("x:"));
            assert!(seen.insert(body["detail"]["event_id"].as_str().unwrap().to_string()), "delivered twice");
            sqs.delete_message()
                .queue_url(&queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if seen.len() == 23 {
            break;
        }
    }
    let expected: BTreeSet<String> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(seen, expected);
}

/// One contract for both blob stores.
async fn blob_contract(store: &dyn BlobStore) {
    store
        .put_blob("reports/daily/2026-11-16/report.json", b"{\"total\":24}".to_vec(), "application/json")
        .await
        .unwrap();
    store
        .put_blob("reports/daily/2026-11-16/report.csv", b"hari,platform,jumlah\n".to_vec(), "text/csv")
        .await
        .unwrap();
    store.put_blob("reports/weekly/2026-11-09/report.json", b"{}".to_vec(), "application/json").await.unwrap();
    store
        .put_blob("reports/daily/2026-11-16/report.json", b"{\"total\":25}".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(store.get_blob("reports/daily/2026-11-16/report.json").await.unwrap().unwrap(), b"{\"total\":25}");
    assert_eq!(store.get_blob("reports/none.json").await.unwrap(), None);
    assert_eq!(
        store.list_blobs("reports/daily/").await.unwrap(),
        vec!["reports/daily/2026-11-16/report.csv", "reports/daily/2026-11-16/report.json"]
    );
}

#[tokio::test]
async fn folder_blob_store_keeps_reports_and_refuses_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderBlobStore::new(dir.path());
    blob_contract(&store).await;
    assert!(store.put_blob("../outside.txt", vec![1], "text/plain").await.is_err());
    assert!(store.get_blob("/etc/passwd").await.is_err());
}

#[tokio::test]
async fn s3_blob_store_keeps_reports() {
    let Some(endpoint) = moto().await else { return };
    let sdk = sdk_config(&endpoint).await;
    let (s3, bucket) = pantau_tests::create_bucket(&sdk).await;
    blob_contract(&S3BlobStore::new(s3, &bucket)).await;
}

#[tokio::test]
async fn secrets_come_from_one_secrets_manager_secret() {
    let Some(endpoint) = moto().await else { return };
    let sdk = sdk_config(&endpoint).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = fresh("pantau-secrets");
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"PANTAU_META_APP_SECRET":"meta-s3cret","PANTAU_X_CONSUMER_SECRET":"x-s3cret","PANTAU_TELEGRAM_SECRET_TOKEN":""}"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let secrets = Secrets::from_secrets_manager(&client, &arn).await.unwrap();
    assert_eq!(secrets.meta_app_secret.unwrap().expose_secret(), "meta-s3cret");
    assert_eq!(secrets.x_consumer_secret.unwrap().expose_secret(), "x-s3cret");
    assert!(secrets.telegram_secret_token.is_none());
    let err = Secrets::from_secrets_manager(&client, "no-such-secret").await.unwrap_err();
    assert!(err.to_string().contains("no-such-secret"), "{err}");
}

/// Creates an SQS queue receiving `detail_type` events from `bus_name`; returns its URL.
async fn queue_for(sdk: &aws_config::SdkConfig, bus_name: &str, detail_type: &str) -> String {
    pantau_tests::bus_queue(sdk, bus_name, &serde_json::json!({"detail-type": [detail_type]})).await
}

/// The webhook function with only Telegram configured (secret token `tg`), on real adapters.
fn telegram_webhook(
    store: std::sync::Arc<pantau::adapters::dynamodb::DynamoStore>,
    bus: std::sync::Arc<EventBridgeBus>,
    clock: std::sync::Arc<pantau_tests::SettableClock>,
    quarantine: &std::path::Path,
) -> pantau::handlers::ingest_webhook::WebhookState {
    use pantau::handlers::ingest_webhook::{WebhookSecrets, WebhookState};
    use std::sync::Arc;
    WebhookState {
        mentions: store.clone(),
        cases: store.clone(),
        settings: store.clone(),
        pending: store.clone(),
        lookups: store.clone(),
        quarantine: Arc::new(FolderBlobStore::new(quarantine)),
        quarantine_per_hour: 100,
        budgets: store.clone(),
        announce: Arc::new(pantau::app::relay::InlineRelay { outbox: store, bus }),
        secrets: WebhookSecrets {
            meta_app_secret: None,
            meta_verify_token: None,
            x_consumer_secret: None,
            telegram_secret_token: Some("tg".to_string().into()),
        },
        clock,
    }
}

fn telegram_message() -> Vec<u8> {
    std::fs::read(pantau_tests::repo().join("tests/fixtures/telegram/message.json")).unwrap()
}

#[tokio::test]
async fn an_acknowledged_mention_is_announced_even_when_the_bus_was_down() {
    use pantau::adapters::dynamodb::DynamoStore;
    use pantau::handlers::Trigger;
    use pantau::handlers::ingest_webhook::handle;
    use pantau::handlers::watch::{WatchState, handle as watch};
    use std::sync::Arc;

    let Some(endpoint) = moto().await else { return };
    let sdk = sdk_config(&endpoint).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let clock = pantau_tests::SettableClock::new(Utc::now());
    let store = Arc::new(
        DynamoStore::new(dynamo.clone(), pantau_tests::create_tables(&dynamo).await, clock.clone(), 365).unwrap(),
    );
    // The bus does not exist yet: publishing fails, as when EventBridge is unavailable.
    let bus_name = fresh("pantau");
    let bus = Arc::new(EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), &bus_name));
    let quarantine = tempfile::tempdir().unwrap();
    let webhook = telegram_webhook(store.clone(), bus.clone(), clock.clone(), quarantine.path());
    let body = telegram_message();
    let request = http::Request::post("/webhooks/telegram")
        .header("x-telegram-bot-api-secret-token", "tg")
        .body(body.into())
        .unwrap();
    let response = handle(&webhook, request).await;
    assert_eq!(response.status(), 200, "the platform gets its acknowledgement");

    let pending = pantau_tests::eventually(
        || pantau::ports::Outbox::pending_events(store.as_ref(), clock.now() + chrono::Duration::days(1), 10),
        |p| p.as_ref().is_ok_and(|p| p.len() == 1),
    )
    .await
    .unwrap();
    assert_eq!(pending.len(), 1, "the event waits in the outbox");

    // EventBridge is back; the scheduled relay sweep publishes what waited.
    aws_sdk_eventbridge::Client::new(&sdk).create_event_bus().name(&bus_name).send().await.unwrap();
    let queue = queue_for(&sdk, &bus_name, "MentionReceived").await;
    clock.set(clock.now() + chrono::Duration::minutes(2));
    let state = WatchState {
        outbox: store.clone(),
        bus,
        notifiers: vec![Arc::new(pantau::adapters::notifier::LogNotifier)],
        alerts: store.clone(),
        cases: store.clone(),
        mentions: store.clone(),
        counters: store.clone(),
        settings: store.clone(),
        markers: store.clone(),
        episodes: store.clone(),
        spikes: Default::default(),
        publishers: Default::default(),
        clock: clock.clone(),
    };
    let outcome = watch(&state, Trigger::Schedule(pantau::schedule::ScheduleName::Relay)).await.unwrap();
    assert_eq!(outcome.relayed, 1);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let received = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    let messages = received.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let body: serde_json::Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(body["detail"]["event_id"], pending[0].id.as_str());
    let left = pantau_tests::eventually(
        || pantau::ports::Outbox::pending_events(store.as_ref(), clock.now() + chrono::Duration::days(1), 10),
        |p| p.as_ref().is_ok_and(|p| p.is_empty()),
    )
    .await
    .unwrap();
    assert!(left.is_empty());
}

#[tokio::test]
async fn an_unavailable_store_asks_the_platform_to_retry_and_the_retry_stores_once() {
    use pantau::adapters::dynamodb::DynamoStore;
    use pantau::handlers::ingest_webhook::handle;
    use std::sync::Arc;

    let Some(endpoint) = moto().await else { return };
    let sdk = sdk_config(&endpoint).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let tables = pantau_tests::create_tables(&dynamo).await;
    let mut missing = tables.clone();
    missing.mentions = fresh("no-such-table");
    let clock = pantau_tests::SettableClock::new(Utc::now());
    let quarantine = tempfile::tempdir().unwrap();
    let bus = Arc::new(EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), fresh("bus")));
    let state = |tables| {
        let store = Arc::new(DynamoStore::new(dynamo.clone(), tables, clock.clone(), 365).unwrap());
        telegram_webhook(store, bus.clone(), clock.clone(), quarantine.path())
    };
    let body = telegram_message();
    let request = || {
        http::Request::post("/webhooks/telegram")
            .header("x-telegram-bot-api-secret-token", "tg")
            .body(body.clone().into())
            .unwrap()
    };
    let down = handle(&state(missing), request()).await;
    assert_eq!(down.status(), 503, "the platform is asked to retry");
    let up = state(tables);
    let retried = handle(&up, request()).await;
    assert_eq!(retried.status(), 200);
    let again = handle(&up, request()).await;
    let stats: serde_json::Value = serde_json::from_slice(again.body()).unwrap();
    assert_eq!((stats["stored"].as_u64(), stats["duplicates"].as_u64()), (Some(0), Some(1)));
}

/// The classify function's start: the model object `PANTAU_MODEL_KEY` names in the bucket when
/// one is configured (then the layer's model is not waited for), the default otherwise; a
/// missing or unreadable object fails the start with a message naming it.
#[tokio::test]
async fn the_classify_function_loads_the_model_its_key_names_from_the_bucket() {
    use pantau::aws::AwsRuntime;
    use pantau::classify::{CategoryExample, TrainOptions, train};
    use pantau::config::AwsSettings;
    use pantau::domain::{Category, Sentiment};
    use pantau::handlers::FunctionError;
    use std::collections::HashMap;

    let Some(endpoint) = moto().await else { return };
    let sdk = sdk_config(&endpoint).await;
    let tables = pantau_tests::create_tables(&aws_sdk_dynamodb::Client::new(&sdk)).await;
    let (s3, bucket) = pantau_tests::create_bucket(&sdk).await;
    // A small model as `pantau train` writes one, other than the built-in one.
    let example =
        |text: &str, category| CategoryExample { text: text.into(), category, sentiment: Some(Sentiment::Netral) };
    let examples = [
        example("jalan rusak parah di depan pasar tolong diperbaiki", Category::Pengaduan),
        example("kapan pendaftaran beasiswa dibuka", Category::PermintaanInformasi),
        example("terima kasih pak gubernur bantuannya", Category::Apresiasi),
    ];
    let options = TrainOptions { bits: 12, epochs: 3, calibrate: false, ensemble: 1, ..TrainOptions::default() };
    let small = train(&examples, &[], &options, &mut |_| {});
    for (key, body) in [("models/small.bin", small.to_bytes()), ("models/broken.bin", b"not a model".to_vec())] {
        s3.put_object().bucket(&bucket).key(key).body(body.into()).send().await.unwrap();
    }
    let settings = AwsSettings {
        tables,
        bus_name: "pantau".into(),
        reports_bucket: Some(bucket),
        retention_days: 30,
        secret_id: None,
    };
    let rt = AwsRuntime::new(settings, sdk.clone(), Secrets::default()).unwrap();
    let env = |key: Option<&str>| -> HashMap<String, String> {
        key.map(|k| ("PANTAU_MODEL_KEY".to_string(), k.to_string())).into_iter().collect()
    };
    let unneeded = || async { Err(FunctionError::Rejected("the layer's model was waited for".into())) };

    let configured = rt.classify_service(unneeded(), &env(Some("models/small.bin"))).await.unwrap();
    assert_eq!(configured.classifier.version(), small.version());
    assert_ne!(small.version(), pantau_tests::default_classifier().version());

    let default = rt.classify_service(async { Ok(pantau_tests::default_classifier()) }, &env(None)).await.unwrap();
    assert_eq!(default.classifier.version(), pantau_tests::default_classifier().version());
    let failed = rt.classify_service(unneeded(), &env(None)).await.err().unwrap().to_string();
    assert!(failed.contains("the layer's model was waited for"), "{failed}");

    let missing = rt.classify_service(unneeded(), &env(Some("models/gone.bin"))).await.err().unwrap().to_string();
    assert!(missing.contains(r#"no object "models/gone.bin""#), "{missing}");
    let broken = rt.classify_service(unneeded(), &env(Some("models/broken.bin"))).await.err().unwrap().to_string();
    assert!(broken.contains("model refused"), "{broken}");
}
