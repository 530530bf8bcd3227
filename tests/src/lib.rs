//! Test support: the local AWS emulator (moto), tables made from `infra/template.yaml`, a
//! settable clock and helpers for eventually consistent reads.

pub mod platforms;

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use pantau::adapters::dynamodb::TableNames;
use pantau::adapters::dynamodb::schema::{IndexDef, TableDef};
use serde_yaml::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Environment variable `tests/run` sets to moto's URL.
pub const MOTO_URL: &str = "PANTAU_TEST_MOTO_URL";
/// Explicit opt-out: skip AWS-emulator tests (prints a loud warning).
pub const SKIP_AWS: &str = "PANTAU_SKIP_AWS_TESTS";

/// moto's endpoint. Fails the test when moto is not reachable, unless the opt-out is set.
pub async fn moto() -> Option<String> {
    if std::env::var(SKIP_AWS).is_ok_and(|v| v == "1") {
        eprintln!(
            "\n!!!!!!!! WARNING: {SKIP_AWS}=1 — DynamoDB/EventBridge/S3/Secrets Manager tests SKIPPED !!!!!!!!\n"
        );
        return None;
    }
    let url = std::env::var(MOTO_URL).unwrap_or_else(|_| {
        panic!("{MOTO_URL} is not set: run the tests with ./tests/run (it starts moto), or set {SKIP_AWS}=1 to skip AWS tests")
    });
    let host = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    if tokio::net::TcpStream::connect(&host).await.is_err() {
        panic!("moto is not reachable at {url}: start it (./tests/run does) or set {SKIP_AWS}=1 to skip AWS tests");
    }
    Some(url)
}

/// SDK configuration for moto: dummy credentials, the region of record, the endpoint.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-southeast-3"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "moto"))
        .load()
        .await
}

/// A short unique name for one test's resources.
pub fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A table as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateTable {
    pub logical_id: String,
    pub hash: String,
    pub range: Option<String>,
    /// (name, hash, range)
    pub indexes: Vec<(String, String, String)>,
    /// Projection type per index (`ALL`, `KEYS_ONLY`), as the template declares it.
    pub projections: std::collections::HashMap<String, String>,
    pub ttl: Option<String>,
    pub attributes: Vec<String>,
}

impl TemplateTable {
    /// Whether the code's definition says the same.
    pub fn matches(&self, def: &TableDef) -> bool {
        let indexes: Vec<(String, String, String)> = def
            .indexes
            .iter()
            .map(|IndexDef { name, hash, range }| (name.to_string(), hash.to_string(), range.to_string()))
            .collect();
        let mut mine = self.indexes.clone();
        mine.sort();
        let mut theirs = indexes;
        theirs.sort();
        self.logical_id == def.logical_id
            && self.hash == def.hash
            && self.range.as_deref() == def.range
            && mine == theirs
            && self.ttl.as_deref() == def.ttl
    }
}

/// Parses `infra/template.yaml` (CloudFormation short tags become tagged values).
pub fn template() -> Value {
    let text = std::fs::read_to_string(repo().join("infra/template.yaml")).expect("infra/template.yaml is readable");
    serde_yaml::from_str(&text).expect("infra/template.yaml is YAML")
}

/// The template's resources of one `Type`: logical id and resource.
pub fn resources_of(template: &Value, kind: &str) -> Vec<(String, Value)> {
    template["Resources"]
        .as_mapping()
        .expect("the template has resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap_or_default().to_string(), r.clone()))
        .collect()
}

/// Where a function's file under `/opt` comes from in this repository: Lambda unpacks each of
/// the function's `Layers` (`!Ref` to a `AWS::Serverless::LayerVersion` of the template) under
/// `/opt`, and SAM packs a layer's `ContentUri` folder (relative to `infra/`) as it is. `None`
/// when no layer of the function holds the file.
pub fn layer_file(template: &Value, function: &Value, opt_path: &str) -> Option<PathBuf> {
    let relative = opt_path.strip_prefix("/opt/")?;
    function["Properties"]["Layers"].as_sequence()?.iter().find_map(|layer| {
        let Value::Tagged(t) = layer else { return None };
        let resource = &template["Resources"][t.value.as_str()?];
        if t.tag != "Ref" || resource["Type"].as_str() != Some("AWS::Serverless::LayerVersion") {
            return None;
        }
        let folder = repo().join("infra").join(resource["Properties"]["ContentUri"].as_str()?);
        Some(folder.join(relative)).filter(|file| file.is_file())
    })
}

/// The built-in model, loaded: what the classify function's `main.rs` loads from its layer.
pub fn default_classifier() -> pantau::classify::Classifier {
    pantau::classify::Classifier::load(pantau::classify::DEFAULT_MODEL).expect("the built-in model loads")
}

/// Functions of the template: logical id, crate name (from `BuildProperties.Binary`), resource.
pub fn functions() -> Vec<(String, String, Value)> {
    resources_of(&template(), "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, r)| {
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().expect("every function names its binary");
            (id, binary.to_string(), r)
        })
        .collect()
}

/// The `Properties` of a function's events of one `Type` (`HttpApi`, `ScheduleV2`, `EventBridgeRule`).
pub fn events_of(function: &Value, kind: &str) -> Vec<Value> {
    named_events_of(function, kind).into_iter().map(|(_, properties)| properties).collect()
}

/// As [`events_of`], with each event's name.
pub fn named_events_of(function: &Value, kind: &str) -> Vec<(String, Value)> {
    function["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, e)| e["Type"].as_str() == Some(kind))
        .map(|(name, e)| (name.as_str().unwrap_or_default().to_string(), e["Properties"].clone()))
        .collect()
}

/// The logical id a `!GetAtt X.Arn` / `!Ref X` names.
pub fn logical_id(reference: &Value) -> Option<String> {
    match reference {
        Value::Tagged(t) if t.tag == "GetAtt" || t.tag == "Ref" => {
            t.value.as_str().map(|v| v.split('.').next().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

/// A bus rule of the template and the function it feeds.
pub struct BusRule {
    /// The function's event name, or the rule's logical id.
    pub name: String,
    /// The crate of the function fed.
    pub function: String,
    /// `EventBusName` as written.
    pub bus: Value,
    pub pattern: Value,
    /// The queue (logical id) through which the rule feeds the function (an event source
    /// mapping hands it the queue's messages in batches), if it does not invoke it directly.
    pub through_queue: Option<String>,
}

/// Every bus rule of the template: each function's own `EventBridgeRule` events, and each
/// `AWS::Events::Rule` whose target is a queue an `AWS::Lambda::EventSourceMapping` hands to a
/// function.
pub fn bus_rules() -> Vec<BusRule> {
    let mut rules = Vec::new();
    for (_, binary, f) in &functions() {
        for (name, rule) in named_events_of(f, "EventBridgeRule") {
            rules.push(BusRule {
                name,
                function: binary.clone(),
                bus: rule["EventBusName"].clone(),
                pattern: rule["Pattern"].clone(),
                through_queue: None,
            });
        }
    }
    let sources = queue_sources();
    for (id, rule) in resources_of(&template(), "AWS::Events::Rule") {
        for target in rule["Properties"]["Targets"].as_sequence().into_iter().flatten() {
            let queue = logical_id(&target["Arn"]).expect("a rule's target is named by !GetAtt");
            let fed: Vec<&String> = sources.iter().filter(|(_, q)| *q == queue).map(|(f, _)| f).collect();
            assert_eq!(fed.len(), 1, "rule {id:?} targets {queue}, which feeds {fed:?}: one function expected");
            rules.push(BusRule {
                name: id.clone(),
                function: fed[0].clone(),
                bus: rule["Properties"]["EventBusName"].clone(),
                pattern: rule["Properties"]["EventPattern"].clone(),
                through_queue: Some(queue.clone()),
            });
        }
    }
    rules
}

/// The queues event source mappings hand to each function: (function crate, queue logical id).
pub fn queue_sources() -> Vec<(String, String)> {
    let functions = functions();
    resources_of(&template(), "AWS::Lambda::EventSourceMapping")
        .into_iter()
        .filter_map(|(_, m)| {
            let function = logical_id(&m["Properties"]["FunctionName"])?;
            let binary = functions.iter().find(|(id, _, _)| *id == function)?.1.clone();
            Some((binary, logical_id(&m["Properties"]["EventSourceArn"])?))
        })
        .collect()
}

fn key_schema(v: &Value) -> (String, Option<String>) {
    let mut hash = String::new();
    let mut range = None;
    for k in v.as_sequence().into_iter().flatten() {
        let name = k["AttributeName"].as_str().unwrap_or_default().to_string();
        match k["KeyType"].as_str() {
            Some("HASH") => hash = name,
            Some("RANGE") => range = Some(name),
            _ => {}
        }
    }
    (hash, range)
}

/// Every DynamoDB table of the template.
pub fn template_tables() -> Vec<TemplateTable> {
    let t = template();
    let mut tables = Vec::new();
    for (id, resource) in t["Resources"].as_mapping().expect("Resources").iter() {
        if resource["Type"].as_str() != Some("AWS::DynamoDB::Table") {
            continue;
        }
        let p = &resource["Properties"];
        let (hash, range) = key_schema(&p["KeySchema"]);
        let indexes = p["GlobalSecondaryIndexes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|g| {
                let (h, r) = key_schema(&g["KeySchema"]);
                (g["IndexName"].as_str().unwrap_or_default().to_string(), h, r.unwrap_or_default())
            })
            .collect();
        let projections = p["GlobalSecondaryIndexes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|g| {
                let kind = g["Projection"]["ProjectionType"].as_str().unwrap_or("ALL").to_string();
                (g["IndexName"].as_str().unwrap_or_default().to_string(), kind)
            })
            .collect();
        let ttl = p["TimeToLiveSpecification"]["AttributeName"].as_str().map(str::to_string);
        let attributes = p["AttributeDefinitions"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|a| a["AttributeName"].as_str().unwrap_or_default().to_string())
            .collect();
        tables.push(TemplateTable {
            logical_id: id.as_str().unwrap_or_default().to_string(),
            hash,
            range,
            indexes,
            projections,
            ttl,
            attributes,
        });
    }
    tables
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("key schema")
}

/// Creates fresh tables in moto from the template's definitions; returns their names.
pub async fn create_tables(client: &aws_sdk_dynamodb::Client) -> TableNames {
    let prefix = fresh("t");
    let mut names = std::collections::HashMap::new();
    for table in template_tables() {
        let name = format!("{prefix}-{}", table.logical_id);
        let mut create =
            client.create_table().table_name(&name).billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest);
        for a in &table.attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(a)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attr"),
            );
        }
        create = create.key_schema(key(&table.hash, KeyType::Hash));
        if let Some(r) = &table.range {
            create = create.key_schema(key(r, KeyType::Range));
        }
        for (index, h, r) in &table.indexes {
            create = create.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index)
                    .key_schema(key(h, KeyType::Hash))
                    .key_schema(key(r, KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(
                                table.projections.get(index).map(String::as_str).unwrap_or("ALL"),
                            ))
                            .build(),
                    )
                    .build()
                    .expect("gsi"),
            );
        }
        create.send().await.unwrap_or_else(|e| panic!("creating table {name}: {e:?}"));
        if let Some(attr) = &table.ttl {
            client
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build().expect("ttl"),
                )
                .send()
                .await
                .expect("enabling TTL");
        }
        names.insert(table.logical_id.clone(), name);
    }
    let take = |id: &str| names.get(id).cloned().unwrap_or_else(|| panic!("template has no table {id}"));
    TableNames {
        mentions: take("MentionsTable"),
        cases: take("CasesTable"),
        posts: take("PostsTable"),
        reports: take("ReportsTable"),
        config: take("ConfigTable"),
        outbox: take("OutboxTable"),
        counters: take("CountersTable"),
    }
}

/// Each table of a stack with the template's logical id.
pub fn table_ids(tables: &TableNames) -> Vec<(&'static str, String)> {
    vec![
        ("MentionsTable", tables.mentions.clone()),
        ("CasesTable", tables.cases.clone()),
        ("PostsTable", tables.posts.clone()),
        ("ReportsTable", tables.reports.clone()),
        ("ConfigTable", tables.config.clone()),
        ("OutboxTable", tables.outbox.clone()),
        ("CountersTable", tables.counters.clone()),
    ]
}

/// A fresh SQS queue named from `prefix`: its URL and ARN.
pub async fn fresh_queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let url = sqs.create_queue().queue_name(fresh(prefix)).send().await.unwrap().queue_url.unwrap();
    let attributes =
        sqs.get_queue_attributes().queue_url(&url).attribute_names(QueueAttributeName::QueueArn).send().await.unwrap();
    let arn = attributes.attributes.unwrap()[&QueueAttributeName::QueueArn].clone();
    (url, arn)
}

/// Creates an SQS queue receiving the events of `bus_name` that match `pattern` (a rule with
/// the queue as its target); returns the queue's URL.
pub async fn bus_queue(sdk: &aws_config::SdkConfig, bus_name: &str, pattern: &serde_json::Value) -> String {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let (url, arn) = fresh_queue(&sqs, "q").await;
    let rule = fresh("rule");
    events.put_rule().name(&rule).event_bus_name(bus_name).event_pattern(pattern.to_string()).send().await.unwrap();
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(bus_name)
        .targets(aws_sdk_eventbridge::types::Target::builder().id("q").arn(arn).build().unwrap())
        .send()
        .await
        .unwrap();
    url
}

/// A fresh bucket in moto (path-style client, the region of record); returns the client and name.
pub async fn create_bucket(sdk: &aws_config::SdkConfig) -> (aws_sdk_s3::Client, String) {
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    let bucket = fresh("reports");
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from("ap-southeast-3"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    (s3, bucket)
}

/// Records what a handler announces (the relay is not under test where this is used).
#[derive(Default)]
pub struct Announced(pub std::sync::Mutex<Vec<pantau::domain::Event>>);

#[async_trait::async_trait]
impl pantau::ports::Announce for Announced {
    async fn announce(&self, events: &[pantau::domain::Event]) {
        if let Ok(mut seen) = self.0.lock() {
            seen.extend_from_slice(events);
        }
    }
}

pub use pantau::time::SettableClock;

/// Retries a read until `check` accepts it (index reads are only eventually consistent on
/// DynamoDB; moto happens to be immediate, tests must not rely on that).
pub async fn eventually<T, F, Fut>(mut read: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..50 {
        let value = read().await;
        if check(&value) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    read().await
}

/// An API Gateway HTTP API (v2) request event as Lambda receives it, with the JWT authorizer's
/// claims when given; `headers` as sent (lower-case names).
pub fn http_api_event(
    method: &str,
    path: &str,
    query: &str,
    headers: serde_json::Value,
    body: Option<String>,
    claims: Option<serde_json::Value>,
) -> serde_json::Value {
    use serde_json::json;
    let parameters: serde_json::Map<String, serde_json::Value> =
        url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned().into())).collect();
    let now = chrono::Utc::now();
    let mut context = json!({
        "accountId": "123456789012", "apiId": "pantau", "domainName": "pantau.execute-api.ap-southeast-3.amazonaws.com",
        "domainPrefix": "pantau",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "pantau-tests"},
        "requestId": uuid::Uuid::new_v4().to_string(), "routeKey": format!("{method} {path}"), "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(), "timeEpoch": now.timestamp_millis()
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": query,
        "queryStringParameters": parameters, "headers": headers, "requestContext": context, "body": body,
        "isBase64Encoded": false
    })
}

/// The SQS event Lambda's event source mapping delivers for these messages (each body the
/// EventBridge envelope the rule sent to the queue).
pub fn sqs_event(envelopes: &[serde_json::Value]) -> serde_json::Value {
    let records: Vec<serde_json::Value> = envelopes
        .iter()
        .map(|envelope| {
            let body = envelope.to_string();
            serde_json::json!({
                "messageId": uuid::Uuid::new_v4().to_string(),
                "receiptHandle": format!("AQEB{}", uuid::Uuid::new_v4().simple()),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": chrono::Utc::now().timestamp_millis().to_string(),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": chrono::Utc::now().timestamp_millis().to_string()
                },
                "messageAttributes": {},
                "md5OfBody": hex::encode(<md5::Md5 as md5::Digest>::digest(body.as_bytes())),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-southeast-3:123456789012:pantau-staged-ClassifyQueue",
                "awsRegion": "ap-southeast-3"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}
