//! The staged wiring test: the stack made in moto from `infra/template.yaml` (tables, bus, every
//! rule delivering to an SQS queue that stands for the function it invokes, the bucket, the
//! secret), and the real handlers wired as their `main.rs` wire them (`AwsRuntime` with the
//! environment the template gives each function), run hop by hop: what one function emits is
//! read back from the queue of the rule that feeds the next and handed to that function as the
//! very envelope EventBridge delivered. Every AWS request goes through a counting proxy
//! (`wiring/meter.rs`), which is how the second test measures what a mention costs.

#[path = "wiring/meter.rs"]
mod meter;
#[path = "wiring/stack.rs"]
mod stack;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use meter::{Call, Meter};
use pantau::aws::AwsRuntime;
use pantau::domain::EventKind;
use pantau::handlers::{Trigger, api, classify, consumer, ingest_poll, ingest_webhook, publish, report, watch};
use pantau::lambda::outcome;
use pantau_tests::{default_classifier, moto, sdk_config};
use serde_json::{Value, json};
use stack::Stack;

const META_SECRET: &str = "staged-meta-app-secret";
const X_SECRET: &str = "staged-x-consumer-secret";
const TELEGRAM_SECRET: &str = "staged-telegram-secret-token";
const SECRETS: [(&str, &str); 3] = [
    ("PANTAU_META_APP_SECRET", META_SECRET),
    ("PANTAU_X_CONSUMER_SECRET", X_SECRET),
    ("PANTAU_TELEGRAM_SECRET_TOKEN", TELEGRAM_SECRET),
];

/// The two tests run one after the other: the cost test measures the logs of its own thread
/// only when no other test emits at the same time (tracing caches per call site).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Log lines the functions wrote, as `telemetry::init_lambda` writes them to CloudWatch.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn since(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()[from..]).into_owned()
    }
}

/// One function invocation: its wall time in this process and what it logged.
#[derive(Debug, Clone)]
struct Invocation {
    function: String,
    millis: f64,
    log_lines: usize,
    log_bytes: usize,
}

/// Every function of the template, wired by `AwsRuntime` as its `main.rs` does.
struct Functions {
    webhook: ingest_webhook::WebhookState,
    poll: ingest_poll::PollState,
    classify: pantau::app::classification::ClassifyService,
    publish: pantau::app::publishing::publisher::PublishService,
    report: report::ReportState,
    watch: watch::WatchState,
    api: api::ApiState,
    logs: Logs,
    invocations: Mutex<Vec<Invocation>>,
}

impl Functions {
    async fn build(stack: &Stack, sdk: &aws_config::SdkConfig, logs: Logs) -> Functions {
        let rt = |function: &'static str| async move {
            let env = stack.env(function);
            let rt = AwsRuntime::load_from(&env, sdk.clone())
                .await
                .unwrap_or_else(|e| panic!("{function} with the template's environment: {e}"));
            (rt, env)
        };
        let (webhook, env) = rt("ingest-webhook").await;
        let webhook = wired("ingest-webhook", webhook.webhook_state(&env));
        let (poll, env) = rt("ingest-poll").await;
        let poll = wired("ingest-poll", poll.poll_state(&env));
        let (classify, env) = rt("classify").await;
        let classify = wired("classify", classify.classify_service(async { Ok(default_classifier()) }, &env).await);
        let (publish, env) = rt("publish").await;
        let publish = wired("publish", publish.publish_service(&env));
        let (report, env) = rt("report").await;
        let report = wired("report", report.report_state(&env));
        let (watch, env) = rt("watch").await;
        let watch = wired("watch", watch.watch_state(&env));
        let (api, env) = rt("api").await;
        let api = wired("api", api.api_state(&env));
        let built =
            Functions { webhook, poll, classify, publish, report, watch, api, logs, invocations: Mutex::default() };
        let in_template: BTreeSet<String> =
            pantau_tests::functions().into_iter().map(|(_, binary, _)| binary).collect();
        let staged: BTreeSet<String> = Functions::NAMES.iter().map(|s| s.to_string()).collect();
        assert_eq!(in_template, staged, "the template has a function not staged here");
        built
    }

    const NAMES: [&'static str; 7] = ["api", "classify", "ingest-poll", "ingest-webhook", "publish", "report", "watch"];

    fn record(&self, function: &str, started: Instant, logged_from: usize) {
        let logged = self.logs.since(logged_from);
        self.invocations.lock().unwrap().push(Invocation {
            function: function.to_string(),
            millis: started.elapsed().as_secs_f64() * 1000.0,
            log_lines: logged.lines().count(),
            log_bytes: logged.len(),
        });
    }

    /// Invokes an event-driven function with an EventBridge envelope, as `lambda::run_events`
    /// does: read as the Lambda runtime reads it, then the handler, then what Lambda returns.
    async fn event(&self, function: &str, envelope: &Value) -> Value {
        let event = serde_json::from_value(envelope.clone())
            .unwrap_or_else(|e| panic!("{function}: Lambda's runtime cannot read {envelope}: {e}"));
        let trigger = Trigger::from_event(&event).unwrap_or_else(|e| panic!("{function} refuses {envelope}: {e}"));
        let (started, logged_from) = (Instant::now(), self.logs.len());
        let returned = match function {
            "classify" => outcome(classify::handle(&self.classify, trigger).await),
            "watch" => outcome(watch::handle(&self.watch, trigger).await),
            "report" => outcome(report::handle(&self.report, trigger).await),
            "publish" => outcome(publish::handle(&self.publish, trigger).await),
            "ingest-poll" => outcome(ingest_poll::handle(&self.poll, trigger).await),
            other => panic!("{other} is not invoked by events"),
        };
        self.record(function, started, logged_from);
        let value = returned.unwrap_or_else(|e| panic!("{function} failed on {envelope}: {e}"));
        assert!(value.get("rejected").is_none(), "{function} rejected what its rule delivered: {envelope}\n→ {value}");
        value
    }

    /// Invokes a queue-fed function with a batch of the queue's messages, as Lambda's event
    /// source mapping delivers them and `lambda::run_queue` answers: each message's body is the
    /// EventBridge envelope the rule put on the queue. Returns each message's outcome.
    async fn queue(&self, function: &str, envelopes: &[Value]) -> Vec<Value> {
        let event = pantau_tests::sqs_event(envelopes);
        let event: pantau::lambda::QueueEvent = serde_json::from_value(event.clone())
            .unwrap_or_else(|e| panic!("{function}: Lambda's runtime cannot read {event}: {e}"));
        let (ids, triggers) = pantau::lambda::read_queue(event);
        assert_eq!(ids.len(), envelopes.len(), "{function} refused a message its queue delivered: {envelopes:?}");
        let (started, logged_from) = (Instant::now(), self.logs.len());
        let results = match function {
            "classify" => classify::handle_batch(&self.classify, triggers).await,
            other => panic!("{other} is not fed by a queue"),
        };
        self.record(function, started, logged_from);
        let outcomes: Vec<Value> = results
            .iter()
            .map(|r| match r {
                Ok(outcome) => serde_json::to_value(outcome).unwrap(),
                Err(e) => panic!("{function} failed on what its queue delivered: {e}"),
            })
            .collect();
        let answer = pantau::lambda::answer_queue(ids, results);
        assert_eq!(answer, json!({"batchItemFailures": []}), "{function}: {envelopes:?}");
        outcomes
    }

    /// Invokes an HTTP function with an API Gateway v2 request, as `lambda::run_http` does.
    async fn http(&self, function: &str, event: &Value) -> (u16, Value) {
        let request = pantau::lambda::request_from_apigw_json(&event.to_string()).unwrap();
        let (credential, request) = pantau::lambda::request(request);
        let (started, logged_from) = (Instant::now(), self.logs.len());
        let response = match function {
            "ingest-webhook" => ingest_webhook::handle(&self.webhook, request).await,
            "api" => api::handle(&self.api, &credential, request).await,
            other => panic!("{other} is not behind the HTTP API"),
        };
        self.record(function, started, logged_from);
        (response.status().as_u16(), serde_json::from_slice(response.body()).unwrap_or(Value::Null))
    }

    fn invocations(&self) -> Vec<Invocation> {
        std::mem::take(&mut *self.invocations.lock().unwrap())
    }
}

/// A function's state, or the failure naming it.
fn wired<T, E: std::fmt::Display>(function: &str, state: Result<T, E>) -> T {
    state.unwrap_or_else(|e| panic!("{function} with the template's environment: {e}"))
}

/// An API Gateway HTTP API (v2) request event; `claims` as the JWT authorizer passes them.
fn apigw(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &str,
    claims: Option<Value>,
) -> Value {
    let mut all = json!({"content-type": "application/json"});
    for (name, value) in headers {
        all[*name] = value.clone().into();
    }
    pantau_tests::http_api_event(method, path, query, all, Some(body.to_string()), claims)
}

/// A person of the office as Cognito's token says (the HTTP API's bracketed groups claim).
fn staff(role: &str) -> Option<Value> {
    Some(json!({"sub": format!("staged-{role}"), "cognito:groups": format!("[{role}]")}))
}

/// A platform's webhook delivery, signed as the platform signs it.
struct Delivery {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
    mentions: usize,
}

fn fixture(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(pantau_tests::repo().join("tests/fixtures").join(path)).unwrap())
        .unwrap()
}

/// Each platform's real delivery shapes (tests/fixtures), their times moved to `now` as the
/// guide's smoke test does, `tag` making their ids this run's own, and each message's text the
/// next of `texts` while it lasts.
fn deliveries(now: DateTime<Utc>, tag: u32, texts: &mut dyn Iterator<Item = String>) -> Vec<Delivery> {
    use pantau::platforms::{hmac_base64, hmac_sha256};
    let epoch = now.timestamp();
    let mut all = Vec::new();
    for (file, field) in [("telegram/message.json", "message"), ("telegram/channel_post.json", "channel_post")] {
        let mut update = fixture(file);
        update[field]["date"] = epoch.into();
        update[field]["message_id"] = (u64::from(tag) * 100 + all.len() as u64).into();
        if let Some(text) = texts.next() {
            update[field]["text"] = text.into();
            update[field].as_object_mut().unwrap().remove("entities");
        }
        all.push(Delivery {
            path: "/webhooks/telegram",
            headers: vec![("x-telegram-bot-api-secret-token", TELEGRAM_SECRET.to_string())],
            body: update.to_string(),
            mentions: 1,
        });
    }
    let mut meta = fixture("meta/page_feed_comment.json");
    let mut comments = 0;
    for entry in meta["entry"].as_array_mut().unwrap() {
        entry["time"] = epoch.into();
        for change in entry["changes"].as_array_mut().unwrap() {
            change["value"]["created_time"] = epoch.into();
            let id = change["value"]["comment_id"].as_str().unwrap().to_string();
            change["value"]["comment_id"] = format!("{id}{tag}").into();
            if let Some(text) = texts.next() {
                change["value"]["message"] = text.into();
            }
            comments += 1;
        }
    }
    let body = meta.to_string();
    let signature = format!("sha256={}", hex::encode(hmac_sha256(META_SECRET.as_bytes(), body.as_bytes())));
    all.push(Delivery {
        path: "/webhooks/meta",
        headers: vec![("x-hub-signature-256", signature)],
        body,
        mentions: comments,
    });
    let mut x = fixture("x/aaa_tweet_create.json");
    let office = x["for_user_id"].clone();
    let tweets = x["tweet_create_events"].as_array_mut().unwrap();
    for tweet in tweets.iter_mut() {
        tweet["created_at"] = now.format("%a %b %d %H:%M:%S +0000 %Y").to_string().into();
        let id = tweet["id_str"].as_str().unwrap();
        let tag = tag.to_string();
        let id = format!("{}{tag}", &id[..id.len() - tag.len()]);
        tweet["id"] = id.parse::<u64>().unwrap().into();
        tweet["id_str"] = id.into();
        if let Some(text) = texts.next() {
            // A long tweet's text is its `extended_tweet.full_text`.
            if tweet["extended_tweet"].is_object() {
                tweet["extended_tweet"]["full_text"] = text.clone().into();
            }
            tweet["text"] = text.into();
        }
    }
    // The office's own tweet is not a mention.
    let tweets = tweets.iter().filter(|t| t["user"]["id_str"] != office).count();
    let body = x.to_string();
    let signature = format!("sha256={}", hmac_base64(X_SECRET.as_bytes(), body.as_bytes()));
    all.push(Delivery {
        path: "/webhooks/x",
        headers: vec![("x-twitter-webhooks-signature", signature)],
        body,
        mentions: tweets,
    });
    all
}

/// One event handed from a rule's queue to the function the rule invokes.
#[derive(Debug)]
struct Hop {
    event_id: String,
    source: String,
    detail_type: String,
    rule: String,
    function: String,
    outcome: Value,
}

/// Most messages Lambda's event source mapping hands the function at once (the template's
/// `BatchSize`).
const QUEUE_BATCH: usize = 10;

/// Hands everything waiting on the rules' queues to their functions, until the bus is quiet.
async fn deliver(stack: &Stack, functions: &Functions, hops: &mut Vec<Hop>) {
    loop {
        let mut delivered = 0;
        for rule in &stack.rules {
            let envelopes = stack.receive(&rule.queue).await;
            delivered += envelopes.len();
            let mut outcomes = Vec::new();
            if rule.through_queue {
                for batch in envelopes.chunks(QUEUE_BATCH) {
                    outcomes.extend(functions.queue(&rule.function, batch).await);
                }
            } else {
                for envelope in &envelopes {
                    outcomes.push(functions.event(&rule.function, envelope).await);
                }
            }
            for (envelope, outcome) in envelopes.iter().zip(outcomes) {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
                hops.push(Hop {
                    event_id: text(&envelope["detail"]["event_id"]),
                    source: text(&envelope["source"]),
                    detail_type: text(&envelope["detail-type"]),
                    rule: rule.name.clone(),
                    function: rule.function.clone(),
                    outcome,
                });
            }
        }
        if delivered == 0 {
            return;
        }
    }
}

async fn webhook(functions: &Functions, delivery: &Delivery) -> Value {
    let event = apigw("POST", delivery.path, "", &delivery.headers, &delivery.body, None);
    let (status, body) = functions.http("ingest-webhook", &event).await;
    assert_eq!(status, 200, "{} refused: {body}", delivery.path);
    body
}

#[tokio::test]
async fn every_hop_emits_what_the_rule_of_the_next_function_delivers() {
    let Some(endpoint) = moto().await else { return };
    let _alone = ONE_AT_A_TIME.lock().await;
    let stack = Stack::create(&sdk_config(&endpoint).await, &SECRETS).await;
    let meter = Meter::start(&endpoint, &stack.tables).await;
    let functions = Functions::build(&stack, &sdk_config(&meter.endpoint).await, Logs::default()).await;
    let mut hops = Vec::new();
    let now = Utc::now();
    pantau::telemetry::capture_metrics();
    drop(pantau::telemetry::captured_metrics());

    // A delivery with a wrong secret token is refused (and counted for the alarm).
    let mut forged = deliveries(now, 2, &mut std::iter::empty()).remove(0);
    forged.headers = vec![("x-telegram-bot-api-secret-token", "not-the-secret".to_string())];
    let refused = apigw("POST", forged.path, "", &forged.headers, &forged.body, None);
    assert_eq!(functions.http("ingest-webhook", &refused).await.0, 401);

    // Hop 1: signed deliveries → ingest-webhook → MentionReceived on classify's rule.
    let mut stored = 0;
    for delivery in deliveries(now, 1, &mut std::iter::empty()) {
        let body = webhook(&functions, &delivery).await;
        assert_eq!(body["stored"].as_u64(), Some(delivery.mentions as u64), "{}: {body}", delivery.path);
        stored += delivery.mentions;
    }
    deliver(&stack, &functions, &mut hops).await;
    let received: Vec<&Hop> = hops.iter().filter(|h| h.detail_type == "MentionReceived").collect();
    assert_eq!(received.len(), stored, "each stored mention reaches the MentionReceived rule once: {hops:#?}");
    for hop in &received {
        assert_eq!((hop.source.as_str(), hop.function.as_str()), ("pantau.ingest-webhook", "classify"), "{hop:?}");
        assert!(hop.outcome.get("classified").is_some(), "classify did not classify what it was sent: {hop:?}");
    }

    // Hop 2: the API reads what was classified, and asks for a report → report → watch.
    let range = format!(
        "from={}&to={}&limit=50",
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let (status, listed) = functions.http("api", &apigw("GET", "/v1/mentions", &range, &[], "", staff("viewer"))).await;
    assert_eq!(status, 200, "{listed}");
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), stored, "{listed}");
    assert!(items.iter().all(|m| m["classification"]["category"].is_string()), "listed unclassified: {listed}");
    let yesterday = (pantau::time::wib_date(now) - chrono::Duration::days(1)).to_string();
    let request = apigw(
        "POST",
        "/v1/reports",
        "",
        &[("idempotency-key", uuid::Uuid::new_v4().to_string())],
        &json!({"period": "daily", "date": yesterday}).to_string(),
        staff("operator"),
    );
    let (status, requested) = functions.http("api", &request).await;
    assert_eq!(status, 202, "{requested}");
    let before = hops.len();
    deliver(&stack, &functions, &mut hops).await;
    let chain: Vec<(&str, &str, &str)> =
        hops[before..].iter().map(|h| (h.source.as_str(), h.detail_type.as_str(), h.function.as_str())).collect();
    assert!(chain.contains(&("pantau.api", "ReportRequested", "report")), "{chain:?}");
    assert!(chain.contains(&("pantau.report", "AlertRaised", "watch")), "the report is announced: {chain:?}");
    let made = hops[before..].iter().find(|h| h.detail_type == "ReportRequested").unwrap();
    assert_eq!(made.outcome["id"], requested["id"], "{made:?}");

    // Hop 3: every schedule, with the template's Input as EventBridge Scheduler sends it.
    let mut scheduled = BTreeSet::new();
    for schedule in &stack.schedules {
        let input: Value = serde_json::from_str(&schedule.input).unwrap();
        functions.event(&schedule.function, &input).await;
        scheduled.insert(format!("{} {}", schedule.name, schedule.expression));
        deliver(&stack, &functions, &mut hops).await;
    }
    let in_code: BTreeSet<&str> = pantau::schedule::SCHEDULES.iter().map(|s| s.function).collect();
    let staged: BTreeSet<&str> = stack.schedules.iter().map(|s| s.function.as_str()).collect();
    assert_eq!(staged, in_code, "functions on a schedule");

    // Every event on the bus went exactly where the code says it goes (handlers::consumer);
    // events no rule consumes are listed.
    let archived = stack.receive(&stack.archive).await;
    let mut problems = Vec::new();
    let mut unconsumed: BTreeMap<(String, String), usize> = BTreeMap::new();
    for event in &archived {
        let (source, detail_type) = (event["source"].as_str().unwrap(), event["detail-type"].as_str().unwrap());
        let id = event["detail"]["event_id"].as_str().unwrap_or_default();
        let Ok(kind) = EventKind::from_parts(detail_type, event["detail"].clone()) else {
            problems.push(format!("{detail_type} from {source} is no event the code knows: {event}"));
            continue;
        };
        let expected: BTreeSet<&str> = consumer(&kind).into_iter().collect();
        let delivered: BTreeSet<&str> = hops.iter().filter(|h| h.event_id == id).map(|h| h.function.as_str()).collect();
        if expected != delivered {
            problems.push(format!(
                "{detail_type} from {source}: the code routes it to {expected:?} (handlers::consumer), the template's rules delivered it to {delivered:?}"
            ));
        }
        if expected.is_empty() {
            *unconsumed.entry((source.to_string(), detail_type.to_string())).or_default() += 1;
        }
    }
    for rule in &stack.rules {
        if !hops.iter().any(|h| h.rule == rule.name && h.function == rule.function) {
            problems.push(format!(
                "{}'s rule {} ({}) was never exercised: nothing emitted what it matches",
                rule.function, rule.name, rule.pattern
            ));
        }
    }
    let hopped: BTreeSet<&str> = hops.iter().map(|h| h.event_id.as_str()).collect();
    let archived_ids: BTreeSet<&str> = archived.iter().filter_map(|e| e["detail"]["event_id"].as_str()).collect();
    assert!(hopped.is_subset(&archived_ids), "a rule delivered an event the bus never carried");
    eprintln!("\nstaged hops (source → detail-type → rule → function):");
    let mut seen: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
    for h in &hops {
        *seen.entry((h.source.as_str(), h.detail_type.as_str(), h.rule.as_str(), h.function.as_str())).or_default() +=
            1;
    }
    for ((source, detail_type, rule, function), n) in seen {
        eprintln!("  {source} → {detail_type} → {rule} → {function} ×{n}");
    }
    eprintln!("schedules run with the template's Input: {scheduled:?}");
    for ((source, detail_type), n) in &unconsumed {
        eprintln!("  NOT CONSUMED by any rule (bus archive only): {detail_type} from {source} ×{n}");
    }
    assert!(problems.is_empty(), "template and code disagree:\n{}", problems.join("\n"));
    let emitted: BTreeSet<&str> = archived.iter().filter_map(|e| e["detail-type"].as_str()).collect();
    assert!(emitted.contains("MentionClassified"), "classify announces its result: {emitted:?}");

    // The metrics the template's alarms watch are the ones the code emits: name, dimension
    // names and values (a metric never emitted leaves its alarm silent, or always firing).
    let emitted: BTreeSet<Metric> = pantau::telemetry::captured_metrics().iter().map(metric_of).collect();
    let watched = alarmed_metrics();
    let platform = |name: &str, value: &str| (name.to_string(), vec![("Platform".to_string(), value.to_string())]);
    let raised = [
        platform("MentionsIngested", "telegram"),
        platform("MentionsIngested", "facebook"),
        platform("MentionsIngested", "x"),
        platform("SignatureFailures", "telegram"),
    ];
    for metric in &raised {
        assert!(watched.contains(metric), "no alarm watches {metric:?}: {watched:?}");
        assert!(emitted.contains(metric), "this run should have emitted {metric:?}; it emitted {emitted:?}");
    }
    assert!(emitted.iter().any(|(name, _)| name == "ClassificationLatencyMs"), "{emitted:?}");
    let names = |dimensions: &[(String, String)]| dimensions.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    for (name, dimensions) in &emitted {
        let alarms: Vec<&Metric> = watched.iter().filter(|(n, _)| n == name).collect();
        assert!(
            alarms.is_empty() || alarms.iter().any(|(_, d)| names(d) == names(dimensions)),
            "{name} is emitted with {dimensions:?}; its alarms watch {alarms:?}"
        );
    }
}

/// A CloudWatch metric: name and dimensions (name, value).
type Metric = (String, Vec<(String, String)>);

/// The metric of an embedded-metric-format line.
fn metric_of(line: &Value) -> Metric {
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    let name = directive["Metrics"][0]["Name"].as_str().unwrap().to_string();
    let dimensions = directive["Dimensions"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let d = d.as_str().unwrap();
            (d.to_string(), line[d].as_str().unwrap_or_default().to_string())
        })
        .collect();
    (name, dimensions)
}

/// Every metric of namespace `Pantau` a template alarm watches (directly or in metric math).
fn alarmed_metrics() -> BTreeSet<Metric> {
    fn walk(v: &serde_yaml::Value, found: &mut BTreeSet<Metric>) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                if v["Namespace"].as_str() == Some("Pantau")
                    && let Some(name) = v["MetricName"].as_str()
                {
                    let dimensions = v["Dimensions"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .map(|d| {
                            (d["Name"].as_str().unwrap().to_string(), d["Value"].as_str().unwrap_or("").to_string())
                        })
                        .collect();
                    found.insert((name.to_string(), dimensions));
                }
                for (_, child) in m {
                    walk(child, found);
                }
            }
            serde_yaml::Value::Sequence(items) => items.iter().for_each(|i| walk(i, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    for (_, alarm) in pantau_tests::resources_of(&pantau_tests::template(), "AWS::CloudWatch::Alarm") {
        walk(&alarm["Properties"], &mut found);
    }
    found
}

/// The failure path of infra/README.md ("Failures and dead letters"), staged: a mention whose
/// classification keeps failing is moved by the queue's redrive policy to the DLQ; redriven
/// (the DLQ's messages back onto the queue, unchanged), it is classified once; replaying its
/// event from the bus archive afterwards delivers it again and changes nothing.
#[tokio::test]
async fn a_dead_lettered_mention_redriven_is_classified_once_and_a_replay_changes_nothing() {
    let Some(endpoint) = moto().await else { return };
    let _alone = ONE_AT_A_TIME.lock().await;
    let sdk = sdk_config(&endpoint).await;
    let stack = Stack::create(&sdk, &SECRETS).await;
    let functions = Functions::build(&stack, &sdk, Logs::default()).await;
    let rule = stack.rules.iter().find(|r| r.function == "classify").expect("classify's rule");
    let (dlq, max_receives) = rule.dead_letters.clone().expect("classify's queue has a redrive policy");
    let telegram = deliveries(Utc::now(), 31, &mut std::iter::empty()).remove(0);
    assert_eq!(webhook(&functions, &telegram).await["stored"], 1);

    // classify fails on it every time (a throttled table, say): each receive without a delete.
    for attempt in 1..=max_receives {
        assert_eq!(stack.receive_and_fail(&rule.queue).await, 1, "receive {attempt}");
    }
    assert_eq!(stack.receive_and_fail(&rule.queue).await, 0, "past maxReceiveCount the message left the queue");
    assert_eq!(stack.redrive(&dlq, &rule.queue).await, 1, "the DLQ held it");
    let redriven = stack.receive(&rule.queue).await;
    let outcomes = functions.queue("classify", &redriven).await;
    assert!(outcomes.len() == 1 && outcomes[0].get("classified").is_some(), "{outcomes:?}");
    let key = outcomes[0]["classified"]["key"].clone();

    // The bus archive replays the same event (EventBridge adds `replay-name`).
    let archived = stack.receive(&stack.archive).await;
    let received = archived.iter().find(|e| e["detail-type"] == "MentionReceived").expect("archived");
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(stack.bus())
        .source(received["source"].as_str().unwrap())
        .detail_type("MentionReceived")
        .detail(received["detail"].to_string())
        .build();
    let put = aws_sdk_eventbridge::Client::new(&sdk).put_events().entries(entry).send().await.unwrap();
    assert_eq!(put.failed_entry_count, 0);
    let replayed = stack.receive(&rule.queue).await;
    let outcomes = functions.queue("classify", &replayed).await;
    assert_eq!(outcomes, vec![json!({"already_classified": {"key": key}})], "a replay changes nothing");
}

/// Sums of recorded calls by service and operation.
fn by_operation(calls: &[Call]) -> BTreeMap<(String, String), Call> {
    let mut sums: BTreeMap<(String, String), Call> = BTreeMap::new();
    for call in calls {
        let sum = sums.entry((call.service.clone(), call.operation.clone())).or_default();
        sum.service = call.service.clone();
        sum.operation = call.operation.clone();
        sum.items += call.items;
        sum.wru += call.wru;
        sum.gsi_wru += call.gsi_wru;
        sum.rru += call.rru;
        sum.bytes += call.bytes;
        sum.chunks += call.chunks;
    }
    sums
}

/// What one phase of the measured run used, and per what it is divided by.
struct Phase {
    name: &'static str,
    per: usize,
    calls: Vec<Call>,
    invocations: Vec<Invocation>,
}

impl Phase {
    fn wru(&self) -> f64 {
        self.calls.iter().fold(0.0, |sum, c| sum + c.wru) / self.per as f64
    }
    fn rru(&self) -> f64 {
        self.calls.iter().fold(0.0, |sum, c| sum + c.rru) / self.per as f64
    }
    fn count(&self, service: &str, operation: &str) -> f64 {
        self.calls.iter().filter(|c| c.service == service && c.operation == operation).count() as f64 / self.per as f64
    }
    fn chunks(&self) -> f64 {
        self.calls.iter().filter(|c| c.service == "events").map(|c| c.chunks).sum::<usize>() as f64 / self.per as f64
    }
    fn entries(&self) -> f64 {
        self.calls.iter().filter(|c| c.service == "events").map(|c| c.items).sum::<usize>() as f64 / self.per as f64
    }
    fn log_bytes(&self) -> f64 {
        self.invocations.iter().map(|i| i.log_bytes).sum::<usize>() as f64 / self.per as f64
    }
    fn log_lines(&self) -> f64 {
        self.invocations.iter().map(|i| i.log_lines).sum::<usize>() as f64 / self.per as f64
    }

    fn print(&self) {
        eprintln!("\n== {} (per {}; {} invocations)", self.name, self.per, self.invocations.len());
        eprintln!(
            "  {:<16} {:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "service", "operation", "requests", "items", "WRU", "of GSI", "RRU", "bytes"
        );
        let per = self.per as f64;
        for ((service, operation), sum) in by_operation(&self.calls) {
            let requests = self.calls.iter().filter(|c| c.service == service && c.operation == operation).count();
            eprintln!(
                "  {service:<16} {operation:<20} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.0}",
                requests as f64 / per,
                sum.items as f64 / per,
                sum.wru / per,
                sum.gsi_wru / per,
                sum.rru / per,
                sum.bytes as f64 / per
            );
        }
        let mut functions: BTreeMap<&str, Vec<&Invocation>> = BTreeMap::new();
        for i in &self.invocations {
            functions.entry(i.function.as_str()).or_default().push(i);
        }
        for (function, runs) in functions {
            let n = runs.len() as f64;
            let mut millis: Vec<f64> = runs.iter().map(|i| i.millis).collect();
            millis.sort_by(f64::total_cmp);
            eprintln!(
                "  lambda {function:<14} invocations {:>5.2}  wall ms mean {:>7.1} max {:>7.1}  log lines {:>4.1} bytes {:>6.0}",
                n / per,
                millis.iter().sum::<f64>() / n,
                millis.last().copied().unwrap_or_default(),
                runs.iter().map(|i| i.log_lines).sum::<usize>() as f64 / n,
                runs.iter().map(|i| i.log_bytes).sum::<usize>() as f64 / n
            );
        }
        eprintln!(
            "  total: WRU {:.2}  RRU {:.2}  PutEvents entries {:.2} (64 KB chunks {:.2})  log bytes {:.0} in {:.1} lines",
            self.wru(),
            self.rru(),
            self.entries(),
            self.chunks(),
            self.log_bytes(),
            self.log_lines()
        );
    }
}

#[tokio::test]
async fn what_a_mention_costs_is_counted_request_by_request() {
    let Some(endpoint) = moto().await else { return };
    let _alone = ONE_AT_A_TIME.lock().await;
    let logs = Logs::default();
    let writer = logs.clone();
    // The functions' logs as Lambda writes them (JSON lines, RUST_LOG=info as the template sets).
    let _logging = tracing::subscriber::set_default(pantau::telemetry::lambda_subscriber(move || writer.clone()));
    let stack = Stack::create(&sdk_config(&endpoint).await, &SECRETS).await;
    let meter = Meter::start(&endpoint, &stack.tables).await;
    let functions = Functions::build(&stack, &sdk_config(&meter.endpoint).await, logs).await;
    let cold =
        Phase { name: "cold starts (7 functions)", per: 1, calls: meter.take(), invocations: functions.invocations() };

    let now = Utc::now();
    // The platforms' delivery shapes carrying real tweets (the hate-speech set's held-out part):
    // real texts differ in their hashtags and words, which decide how many counters a batch of
    // mentions shares.
    let mut texts = real_texts().into_iter();
    let mut delivered = Vec::new();
    for tag in 1..=6 {
        delivered.extend(deliveries(now, tag, &mut texts));
    }
    let mentions: usize = delivered.iter().map(|d| d.mentions).sum();
    for delivery in &delivered {
        let body = webhook(&functions, delivery).await;
        assert_eq!(body["stored"].as_u64(), Some(delivery.mentions as u64), "{body}");
    }
    let ingest =
        Phase { name: "ingest-webhook", per: mentions, calls: meter.take(), invocations: functions.invocations() };
    let rule = stack.rules.iter().find(|r| r.function == "classify").expect("classify's rule");
    assert!(rule.through_queue, "classify reads its rule's queue in batches");
    let received = stack.receive(&rule.queue).await;
    assert_eq!(received.len(), mentions);
    for batch in received.chunks(QUEUE_BATCH) {
        functions.queue("classify", batch).await;
    }
    let classify = Phase {
        name: "classify (batches of 10)",
        per: mentions,
        calls: meter.take(),
        invocations: functions.invocations(),
    };

    // Side by side in the same run: as many other real tweets, classified one message per
    // invocation (what a quiet hour or a batching window of 0 gives, and how classify ran
    // before it read a queue).
    let mut alone = Vec::new();
    for tag in 7..=12 {
        alone.extend(deliveries(now, tag, &mut texts));
    }
    let alone_mentions: usize = alone.iter().map(|d| d.mentions).sum();
    for delivery in &alone {
        webhook(&functions, delivery).await;
    }
    drop((meter.take(), functions.invocations()));
    for envelope in stack.receive(&rule.queue).await {
        functions.queue("classify", std::slice::from_ref(&envelope)).await;
    }
    let one_by_one = Phase {
        name: "classify (one message per invocation)",
        per: alone_mentions,
        calls: meter.take(),
        invocations: functions.invocations(),
    };

    let query = format!(
        "from={}&to={}&limit=50",
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let (status, listed) = functions.http("api", &apigw("GET", "/v1/mentions", &query, &[], "", staff("viewer"))).await;
    let stored = (mentions + alone_mentions).min(50);
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (200, Some(stored)), "{listed}");
    let read = Phase {
        name: "api GET /v1/mentions (one page)",
        per: 1,
        calls: meter.take(),
        invocations: functions.invocations(),
    };
    let tick = |name: &str| {
        let schedule = stack.schedules.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no schedule {name}"));
        (schedule.function.clone(), serde_json::from_str::<Value>(&schedule.input).unwrap())
    };
    let (function, input) = tick("WatchSchedule");
    functions.event(&function, &input).await;
    let watch_run =
        Phase { name: "watch run (schedule watch)", per: 1, calls: meter.take(), invocations: functions.invocations() };
    let mut idle = Vec::new();
    for name in ["RelaySchedule", "PublishSchedule", "PollSchedule"] {
        let (function, input) = tick(name);
        functions.event(&function, &input).await;
        idle.push(Phase { name: "idle tick", per: 1, calls: meter.take(), invocations: functions.invocations() });
    }

    eprintln!(
        "\nmeasured with {mentions} mentions in {} webhook deliveries (Telegram, Meta, X fixtures)",
        delivered.len()
    );
    for phase in [&cold, &ingest, &classify, &one_by_one, &read, &watch_run].into_iter().chain(idle.iter()) {
        phase.print();
    }
    let per_mention = |f: &dyn Fn(&Phase) -> f64| f(&ingest) + f(&classify);
    eprintln!(
        "\nper mention (ingest + classify): WRU {:.2}, RRU {:.2}, PutEvents entries {:.2} (64 KB chunks {:.2}), log bytes {:.0}, Lambda invocations {:.2}",
        per_mention(&Phase::wru),
        per_mention(&Phase::rru),
        per_mention(&Phase::entries),
        per_mention(&Phase::chunks),
        per_mention(&Phase::log_bytes),
        (ingest.invocations.len() + classify.invocations.len()) as f64 / mentions as f64
    );

    eprintln!(
        "classify alone: WRU {:.2} per mention in batches of 10, {:.2} one message per invocation",
        classify.wru(),
        one_by_one.wru()
    );

    // Regression guards: what one mention costs may only go down.
    assert!(classify.wru() < one_by_one.wru(), "a batch shares its counters");
    assert_eq!(classify.invocations.len(), mentions.div_ceil(QUEUE_BATCH), "one classify invocation per batch");
    assert!(classify.log_lines() >= 1.0, "classify logs each classification: the log capture works");
    assert!(per_mention(&Phase::chunks) <= 2.0, "MentionReceived and MentionClassified, one entry each");
    assert!(per_mention(&Phase::wru) <= WRU_PER_MENTION, "WRU per mention {:.2}", per_mention(&Phase::wru));
    assert!(per_mention(&Phase::rru) <= RRU_PER_MENTION, "RRU per mention {:.2}", per_mention(&Phase::rru));
    assert!(per_mention(&Phase::log_bytes) <= LOG_BYTES_PER_MENTION, "log bytes {:.0}", per_mention(&Phase::log_bytes));
    assert!(ingest.count("dynamodb", "TransactWriteItems") <= 1.0, "one transaction stores a mention with its event");
}

/// Real tweets, in file order (their `USER`/`URL` placeholders as published).
fn real_texts() -> Vec<String> {
    let path = pantau_tests::repo().join("data/ibrohim2019/heldout.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    let column = headers.iter().position(|h| h == "text").expect("a text column");
    reader.records().map(|r| r.unwrap()[column].to_string()).collect()
}

/// Upper bounds of the per-mention figures measured on 2026-12-03 (infra/README.md, "Cost":
/// 31.2 WRU, 1.3 RRU, 340 log bytes with real tweets in batches of 10), with a little room.
const WRU_PER_MENTION: f64 = 34.0;
const RRU_PER_MENTION: f64 = 1.6;
const LOG_BYTES_PER_MENTION: f64 = 380.0;
