//! A counting proxy between the functions' AWS SDK clients and moto. Every request is forwarded
//! as it came (real HTTP both ways) and recorded by service and operation, with what AWS bills
//! for it: DynamoDB request units computed from the items as DynamoDB sizes them (each written
//! item read before and after the write, straight from moto), index writes, PutEvents entries
//! and their 64 KB chunks, S3 objects.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use pantau::adapters::dynamodb::TableNames;
use pantau_tests::{TemplateTable, table_ids, template_tables};
use serde_json::{Map, Value, json};

/// One AWS request.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// The SigV4 signing name: `dynamodb`, `events`, `s3`, `secretsmanager`…
    pub service: String,
    pub operation: String,
    /// Items written or read (DynamoDB), entries (PutEvents), objects (S3).
    pub items: usize,
    /// Write request units, index writes included.
    pub wru: f64,
    /// Of which written to global secondary indexes.
    pub gsi_wru: f64,
    pub rru: f64,
    /// Bytes of the items written (DynamoDB's sizing), of the entries, of the object.
    pub bytes: usize,
    /// PutEvents: billed 64 KB chunks.
    pub chunks: usize,
}

/// The proxy: point the SDK's endpoint at `endpoint`.
pub struct Meter {
    pub endpoint: String,
    inner: Arc<Inner>,
}

struct Inner {
    upstream: String,
    http: reqwest::Client,
    /// Physical table name → the template's definition.
    tables: HashMap<String, TemplateTable>,
    calls: Mutex<Vec<Call>>,
}

impl Meter {
    /// Listens on a free loopback port and forwards to `upstream` (moto).
    pub async fn start(upstream: &str, tables: &TableNames) -> Meter {
        let definitions = template_tables();
        let tables = table_ids(tables)
            .into_iter()
            .map(|(id, name)| {
                let table = definitions.iter().find(|t| t.logical_id == id).cloned();
                (name, table.unwrap_or_else(|| panic!("template has no table {id}")))
            })
            .collect();
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            tables,
            calls: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(forward).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Meter { endpoint, inner }
    }

    /// The calls recorded since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.inner.calls.lock().unwrap())
    }
}

/// The signing name in a SigV4 `Authorization` header's credential scope.
fn signing_service(authorization: &str) -> String {
    authorization
        .split("Credential=")
        .nth(1)
        .and_then(|scope| scope.split(',').next())
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unsigned")
        .to_string()
}

async fn forward(State(inner): State<Arc<Inner>>, request: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let authorization = header("authorization");
    let service = signing_service(&authorization);
    let target = header("x-amz-target");
    let operation = target.rsplit('.').next().unwrap_or_default().to_string();
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let writes = if service == "dynamodb" { writes_of(&operation, &sent) } else { Vec::new() };
    let mut before = Vec::new();
    for write in &writes {
        before.push(inner.current(&authorization, write).await);
    }

    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut upstream = inner.http.request(parts.method.clone(), format!("{}{path}", inner.upstream)).body(body.clone());
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "transfer-encoding" | "connection" | "expect") {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let answered = answer.bytes().await.unwrap();

    let mut call = Call { service: service.clone(), ..Call::default() };
    match service.as_str() {
        "dynamodb" => {
            call.operation = operation.clone();
            let received: Value = serde_json::from_slice(&answered).unwrap_or(Value::Null);
            if writes.is_empty() {
                inner.reads(&operation, &sent, &received, &mut call);
            }
            for (write, before) in writes.iter().zip(before) {
                let after = match &write.change {
                    Change::Put(item) if status.is_success() => Some(item.clone()),
                    Change::Update if status.is_success() => inner.current(&authorization, write).await,
                    Change::Delete if status.is_success() => None,
                    _ => before.clone(),
                };
                inner.write_units(write, before.as_ref(), after.as_ref(), &mut call);
            }
        }
        "events" => {
            call.operation = operation.clone();
            for entry in sent["Entries"].as_array().into_iter().flatten() {
                let text = |k: &str| entry[k].as_str().map_or(0, str::len);
                let resources: usize =
                    entry["Resources"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::len).sum();
                // PutEvents entry size: Time (14 bytes), Source, DetailType, Detail, Resources.
                let size = 14 + text("Source") + text("DetailType") + text("Detail") + resources;
                call.items += 1;
                call.bytes += size;
                call.chunks += size.div_ceil(64 * 1024).max(1);
            }
        }
        "s3" => {
            let query = parts.uri.query().unwrap_or_default();
            call.operation = match (parts.method.as_str(), query.contains("list-type=2")) {
                ("GET", true) => "ListObjectsV2",
                ("GET", false) => "GetObject",
                ("PUT", _) => "PutObject",
                ("HEAD", _) => "HeadObject",
                (other, _) => other,
            }
            .to_string();
            call.items = 1;
            call.bytes = header("x-amz-decoded-content-length").parse().unwrap_or(body.len());
        }
        _ => call.operation = operation,
    }
    inner.calls.lock().unwrap().push(call);

    let mut response = axum::response::Response::new(Body::from(answered));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if !matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection") {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// What one write does to one item.
#[derive(Debug)]
enum Change {
    Put(Map<String, Value>),
    Update,
    Delete,
    Check,
}

#[derive(Debug)]
struct Write {
    table: String,
    /// The key, or for a put the whole item (the key is taken from it).
    key: Map<String, Value>,
    change: Change,
    transactional: bool,
}

fn object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The item writes of a DynamoDB request.
fn writes_of(operation: &str, sent: &Value) -> Vec<Write> {
    let table = |v: &Value| v["TableName"].as_str().unwrap_or_default().to_string();
    match operation {
        "PutItem" => vec![Write {
            table: table(sent),
            key: object(&sent["Item"]),
            change: Change::Put(object(&sent["Item"])),
            transactional: false,
        }],
        "UpdateItem" => {
            vec![Write { table: table(sent), key: object(&sent["Key"]), change: Change::Update, transactional: false }]
        }
        "DeleteItem" => {
            vec![Write { table: table(sent), key: object(&sent["Key"]), change: Change::Delete, transactional: false }]
        }
        "BatchWriteItem" => sent["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(name, requests)| {
                requests.as_array().into_iter().flatten().map(move |r| match r.get("PutRequest") {
                    Some(put) => Write {
                        table: name.clone(),
                        key: object(&put["Item"]),
                        change: Change::Put(object(&put["Item"])),
                        transactional: false,
                    },
                    None => Write {
                        table: name.clone(),
                        key: object(&r["DeleteRequest"]["Key"]),
                        change: Change::Delete,
                        transactional: false,
                    },
                })
            })
            .collect(),
        "TransactWriteItems" => sent["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let (kind, body) = item.as_object().and_then(|o| o.iter().next()).unwrap();
                let (key, change) = match kind.as_str() {
                    "Put" => (object(&body["Item"]), Change::Put(object(&body["Item"]))),
                    "Update" => (object(&body["Key"]), Change::Update),
                    "Delete" => (object(&body["Key"]), Change::Delete),
                    _ => (object(&body["Key"]), Change::Check),
                };
                Write { table: table(body), key, change, transactional: true }
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl Inner {
    fn definition(&self, table: &str) -> &TemplateTable {
        self.tables.get(table).unwrap_or_else(|| panic!("a request for {table}, not a table of the staged stack"))
    }

    /// The item as moto holds it now (read straight from moto, not counted).
    async fn current(&self, authorization: &str, write: &Write) -> Option<Map<String, Value>> {
        let def = self.definition(&write.table);
        let mut key = Map::new();
        for name in std::iter::once(&def.hash).chain(def.range.iter()) {
            key.insert(name.clone(), write.key.get(name).cloned().unwrap_or(Value::Null));
        }
        let answer = self
            .http
            .post(format!("{}/", self.upstream))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.GetItem")
            .header("authorization", authorization)
            .body(json!({"TableName": write.table, "Key": key, "ConsistentRead": true}).to_string())
            .send()
            .await
            .unwrap();
        let answer: Value = answer.json().await.unwrap();
        answer["Item"].as_object().cloned()
    }

    /// A write's units: the larger of the item before and after, per started KB (twice in a
    /// transaction), and each global secondary index it changes, per started KB of the entry.
    fn write_units(
        &self,
        write: &Write,
        before: Option<&Map<String, Value>>,
        after: Option<&Map<String, Value>>,
        call: &mut Call,
    ) {
        let size = before.map_or(0, item_size).max(after.map_or(0, item_size));
        let units = kb(size, 1024) * if write.transactional { 2.0 } else { 1.0 };
        call.items += 1;
        call.bytes += after.map_or(0, item_size);
        call.wru += units;
        let def = self.definition(&write.table);
        for (index, hash, range) in &def.indexes {
            let keys_only = def.projections.get(index).is_some_and(|p| p == "KEYS_ONLY");
            let entry = |item: Option<&Map<String, Value>>| -> Option<Map<String, Value>> {
                let item = item?;
                if !(item.contains_key(hash) && item.contains_key(range)) {
                    return None;
                }
                if !keys_only {
                    return Some(item.clone());
                }
                let wanted = [Some(&def.hash), def.range.as_ref(), Some(hash), Some(range)];
                Some(
                    item.iter()
                        .filter(|(k, _)| wanted.contains(&Some(*k)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            };
            let (old, new) = (entry(before), entry(after));
            let same_key = |a: &Map<String, Value>, b: &Map<String, Value>| {
                a.get(hash) == b.get(hash) && a.get(range) == b.get(range)
            };
            let gsi = match (&old, &new) {
                (None, None) => 0.0,
                (Some(o), Some(n)) if o == n => 0.0,
                (Some(o), Some(n)) if same_key(o, n) => kb(item_size(o).max(item_size(n)), 1024),
                (Some(o), Some(n)) => kb(item_size(o), 1024) + kb(item_size(n), 1024),
                (Some(only), None) | (None, Some(only)) => kb(item_size(only), 1024),
            };
            call.gsi_wru += gsi;
            call.wru += gsi;
        }
    }

    /// Read units of GetItem, Query, Scan and BatchGetItem, from the items moto returned.
    fn reads(&self, operation: &str, sent: &Value, received: &Value, call: &mut Call) {
        let consistency = |v: &Value| if v["ConsistentRead"].as_bool() == Some(true) { 1.0 } else { 0.5 };
        match operation {
            "GetItem" => {
                let size = received["Item"].as_object().map_or(0, item_size);
                call.items += usize::from(size > 0);
                call.bytes += size;
                call.rru += kb(size, 4096) * consistency(sent);
            }
            // A Scan is billed like a Query over the whole table (what it read, filtered or not).
            "Query" | "Scan" => {
                let items = sizes(&received["Items"]);
                let returned: usize = items.iter().sum();
                // A filter reads what it drops: those items sized like the ones returned (1 KB if none was).
                let scanned = received["ScannedCount"].as_u64().unwrap_or(items.len() as u64) as usize;
                let dropped = scanned.saturating_sub(items.len());
                let average = if items.is_empty() { 1024 } else { returned / items.len() };
                call.items += items.len();
                call.bytes += returned;
                call.rru += kb(returned + dropped * average, 4096) * consistency(sent);
            }
            "BatchGetItem" => {
                for (table, request) in sent["RequestItems"].as_object().into_iter().flatten() {
                    let found = sizes(&received["Responses"][table]);
                    let asked = request["Keys"].as_array().map_or(0, Vec::len);
                    let units: f64 =
                        found.iter().map(|s| kb(*s, 4096)).sum::<f64>() + asked.saturating_sub(found.len()) as f64;
                    call.items += found.len();
                    call.bytes += found.iter().sum::<usize>();
                    call.rru += units * consistency(request);
                }
            }
            _ => {}
        }
    }
}

/// The sizes of a list of items.
fn sizes(items: &Value) -> Vec<usize> {
    items.as_array().into_iter().flatten().filter_map(Value::as_object).map(item_size).collect()
}

/// Started units of `unit` bytes, at least one.
fn kb(size: usize, unit: usize) -> f64 {
    size.div_ceil(unit).max(1) as f64
}

/// An item's size as DynamoDB counts it: names plus values.
pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn number_size(n: &str) -> usize {
    let digits: String = n.trim_start_matches('-').chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn value_size(value: &Value) -> usize {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else { return 0 };
    let strings = || v.as_array().into_iter().flatten().filter_map(Value::as_str);
    match kind.as_str() {
        "S" => v.as_str().map_or(0, str::len),
        "N" => v.as_str().map_or(0, number_size),
        "B" => v.as_str().map_or(0, |b| b.len() * 3 / 4),
        "BOOL" | "NULL" => 1,
        "SS" => strings().map(str::len).sum(),
        "NS" => strings().map(number_size).sum(),
        "BS" => strings().map(|b| b.len() * 3 / 4).sum(),
        // Lists and maps: 3 bytes, plus 1 byte per element.
        "L" => 3 + v.as_array().into_iter().flatten().map(|e| value_size(e) + 1).sum::<usize>(),
        "M" => 3 + v.as_object().into_iter().flatten().map(|(k, e)| k.len() + value_size(e) + 1).sum::<usize>(),
        _ => 0,
    }
}

#[test]
fn items_are_sized_as_dynamodb_sizes_them() {
    let item = json!({"pk": {"S": "x:1"}, "n": {"N": "-12.50"}, "l": {"L": [{"S": "ab"}, {"BOOL": true}]}});
    // pk: 2 + 3; n: 1 + (3 significant digits → 2 + 1); l: 1 + 3 + (2 + 1) + (1 + 1)
    assert_eq!(item_size(item.as_object().unwrap()), 5 + 4 + 9);
    assert_eq!(kb(0, 1024), 1.0);
    assert_eq!(kb(1025, 1024), 2.0);
    assert_eq!(
        signing_service(
            "AWS4-HMAC-SHA256 Credential=test/20261203/ap-southeast-3/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
        ),
        "dynamodb"
    );
}
