//! DynamoDB adapter for every store port, one file per port. Tables, keys and indexes are
//! declared once in [`schema`] and must match `infra/template.yaml` (a test compares them).

pub mod access;
mod cases;
mod counters;
mod documents;
mod mentions;
mod outbox;
mod posts;
mod reports;
pub mod schema;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, Put, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::vocabulary;
use crate::domain::Event;
use crate::error::StoreError;
use crate::ports::{CountDelta, Inserted};
use crate::time::Clock;

type Item = HashMap<String, AttributeValue>;
type Sql<T> = Result<T, StoreError>;

/// DynamoDB allows at most 25 requests in one BatchWriteItem.
pub const MAX_BATCH_WRITE: usize = 25;
/// How often a transaction cancelled by a concurrent writer is tried.
const TRANSACTION_ATTEMPTS: u32 = 4;
/// How often BatchWriteItem's unprocessed items are retried before giving up.
const BATCH_ATTEMPTS: u32 = 6;

/// Physical table names, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub mentions: String,
    pub cases: String,
    pub posts: String,
    pub reports: String,
    pub config: String,
    pub outbox: String,
    pub counters: String,
}

impl TableNames {
    /// Refuses names DynamoDB would refuse (3–255 of `[A-Za-z0-9_.-]`); moto is laxer.
    pub fn validate(&self) -> Result<(), StoreError> {
        for name in
            [&self.mentions, &self.cases, &self.posts, &self.reports, &self.config, &self.outbox, &self.counters]
        {
            let ok = (3..=255).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !ok {
                return Err(StoreError::Invalid(format!(
                    "DynamoDB table name {name:?} must be 3 to 255 letters, digits, '_', '-' or '.'"
                )));
            }
        }
        Ok(())
    }
}

/// DynamoDB adapter.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Arc<TableNames>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn retryable<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionInProgressException"
                    | "TransactionConflict"
            )
        ),
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    }
}

fn sdk_err<E, R>(operation: &'static str, table: &str, key: Option<&str>) -> impl FnOnce(SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| {
        let retry = retryable(&e);
        StoreError::backend(operation, table, key, retry, e)
    }
}

fn build_err(operation: &'static str, table: &str) -> impl FnOnce(aws_sdk_dynamodb::error::BuildError) -> StoreError {
    move |e| StoreError::backend(operation, table, None, false, e)
}

/// Documents at least this long are stored deflated, as a binary attribute: DynamoDB bills a
/// write per started KB of the item (and of each index copy), and a mention's JSON with the
/// platform's raw payload deflates to well under half.
const DEFLATE_FROM: usize = 1024;
/// The most a stored document may inflate to (an item holds at most 400 KB).
const INFLATE_LIMIT: usize = 16 << 20;

fn doc_attr<T: Serialize>(table: &str, key: &str, value: &T) -> Sql<AttributeValue> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::corrupt(table, key, e))?;
    if json.len() < DEFLATE_FROM {
        return Ok(s(json));
    }
    Ok(AttributeValue::B(Blob::new(miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 6))))
}

/// The document of an item: JSON text, or deflated JSON (see [`doc_attr`]).
fn read_doc<T: DeserializeOwned>(table: &str, item: &Item) -> Sql<T> {
    let key = item.get("pk").or_else(|| item.get("id")).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    match item.get("doc") {
        Some(AttributeValue::S(doc)) => serde_json::from_str(doc).map_err(|e| StoreError::corrupt(table, &key, e)),
        Some(AttributeValue::B(deflated)) => {
            let json = miniz_oxide::inflate::decompress_to_vec_with_limit(deflated.as_ref(), INFLATE_LIMIT)
                .map_err(|e| StoreError::corrupt(table, &key, format!("the doc attribute does not inflate: {e}")))?;
            serde_json::from_slice(&json).map_err(|e| StoreError::corrupt(table, &key, e))
        }
        _ => Err(StoreError::corrupt(table, &key, "no doc attribute")),
    }
}

/// Expression attribute names: every attribute in an expression goes through an alias, so no
/// name can collide with DynamoDB's reserved words (DAY, KEY, STATUS, PERIOD…).
fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(alias, name)| (alias.to_string(), name.to_string())).collect()
}

fn string_attr(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

fn is_expired(item: &Item, now: DateTime<Utc>) -> bool {
    // DynamoDB deletes expired items only eventually (moto never does): treat them as absent.
    item.get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .is_some_and(|at| at <= now.timestamp())
}

impl DynamoStore {
    pub fn new(
        client: Client,
        tables: TableNames,
        clock: Arc<dyn Clock>,
        retention_days: u32,
    ) -> Result<Self, StoreError> {
        tables.validate()?;
        Ok(DynamoStore { client, tables: Arc::new(tables), clock, retention_days })
    }

    fn event_puts(&self, events: &[Event]) -> Sql<Vec<TransactWriteItem>> {
        events
            .iter()
            .map(|event| {
                let item = HashMap::from([
                    (schema::OUTBOX.hash.to_string(), s(&event.id)),
                    ("created_key".to_string(), s(vocabulary::outbox_created_key(event))),
                    ("doc".to_string(), doc_attr(&self.tables.outbox, &event.id, event)?),
                ]);
                let put = Put::builder()
                    .table_name(&self.tables.outbox)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(#id)")
                    .expression_attribute_names("#id", "id")
                    .build()
                    .map_err(build_err("TransactWriteItems", &self.tables.outbox))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect()
    }

    fn counter_updates(&self, counts: &[CountDelta]) -> Sql<Vec<TransactWriteItem>> {
        counts
            .iter()
            .map(|c| {
                let update = Update::builder()
                    .table_name(&self.tables.counters)
                    .key("day", s(c.day.to_string()))
                    .key("key", s(&c.key))
                    .update_expression("ADD #n :d")
                    .expression_attribute_names("#n", "n")
                    .expression_attribute_values(":d", AttributeValue::N(c.delta.to_string()))
                    .build()
                    .map_err(build_err("TransactWriteItems", &self.tables.counters))?;
                Ok(TransactWriteItem::builder().update(update).build())
            })
            .collect()
    }

    /// A transaction item that puts `item` if `condition` holds.
    fn conditional_put(
        &self,
        operation: &'static str,
        table: &str,
        item: Item,
        condition: Condition,
    ) -> Sql<TransactWriteItem> {
        let (expression, aliases, values) = condition.parts();
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(expression)
            .set_expression_attribute_names(Some(aliases))
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err(operation, table))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Writes `item` (conditionally) and `events` in one transaction. Returns false when the
    /// item's condition failed, in which case nothing was written.
    #[allow(clippy::too_many_arguments)]
    async fn put_with_events(
        &self,
        operation: &'static str,
        table: &str,
        key: &str,
        item: Item,
        condition: Condition,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<bool> {
        let first = self.conditional_put(operation, table, item, condition)?;
        self.transact(operation, table, key, first, counts, events).await
    }

    /// Runs `first` (which carries the condition) with counter changes and events in one
    /// transaction. Returns false when `first`'s condition failed; nothing was written then.
    async fn transact(
        &self,
        operation: &'static str,
        table: &str,
        key: &str,
        first: TransactWriteItem,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<bool> {
        Ok(self.transact_all(operation, table, key, vec![first], counts, events).await?.is_none())
    }

    /// Runs `conditioned` (each carrying its condition) with counter changes and events in one
    /// transaction. Returns the position in `conditioned` of an item whose condition failed
    /// (nothing was written then), or `None` when everything was written.
    async fn transact_all(
        &self,
        operation: &'static str,
        table: &str,
        key: &str,
        conditioned: Vec<TransactWriteItem>,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<Option<usize>> {
        let guarded = conditioned.len();
        vocabulary::check_transaction(operation, key, guarded, counts, events)?;
        let mut items = conditioned;
        items.extend(self.counter_updates(counts)?);
        items.extend(self.event_puts(events)?);
        let mut attempt = 0;
        loop {
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(None),
                Err(err) => err,
            };
            let reasons: Vec<Option<String>> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    e.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect()
                }
                _ => Vec::new(),
            };
            if let Some(failed) =
                reasons.iter().take(guarded).position(|r| r.as_deref() == Some("ConditionalCheckFailed"))
            {
                return Ok(Some(failed));
            }
            // The item itself was refused (for example larger than 400 KB): no retry can help.
            if reasons.iter().any(|r| r.as_deref() == Some("ValidationError")) {
                return Err(StoreError::Invalid(format!(
                    "{operation} on {table} key {key} refused by DynamoDB: {err}"
                )));
            }
            // Concurrent writers of the same counters cancel each other: retry with a pause.
            let conflict = reasons.iter().any(|r| r.as_deref() == Some("TransactionConflict"));
            attempt += 1;
            if conflict && attempt < TRANSACTION_ATTEMPTS {
                let jitter = u64::from(rand::random::<u8>() % 20);
                tokio::time::sleep(Duration::from_millis((20 << attempt) + jitter)).await;
                continue;
            }
            let retryable = conflict || retryable(&err);
            return Err(StoreError::backend(operation, table, Some(key), retryable, err));
        }
    }

    async fn get_item(&self, operation: &'static str, table: &str, key: Item, display: &str) -> Sql<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err(operation, table, Some(display)))?;
        Ok(out.item)
    }

    /// Runs a query to the end (or until `want` items passed `keep`), following pages.
    async fn query_all(&self, query: Query<'_>, want: usize, keep: &(dyn Fn(&Item) -> bool + Sync)) -> Sql<Vec<Item>> {
        let Query { operation, table, index, key_condition, filter, values, names, forward, mut start } = query;
        let mut found = Vec::new();
        loop {
            let page_size = i32::try_from((want - found.len()).clamp(1, 500)).unwrap_or(500);
            let out = self
                .client
                .query()
                .table_name(table)
                .set_index_name(index.map(str::to_string))
                .key_condition_expression(key_condition)
                .set_filter_expression(filter.map(str::to_string))
                .set_expression_attribute_values(Some(values.clone()))
                .set_expression_attribute_names(Some(names.clone()))
                .scan_index_forward(forward)
                .limit(page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err(operation, table, None))?;
            found.extend(out.items.unwrap_or_default().into_iter().filter(|item| keep(item)));
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if found.len() >= want || start.is_none() {
                found.truncate(want);
                return Ok(found);
            }
        }
    }

    /// Deletes items by key in batches of 25, retrying what DynamoDB leaves unprocessed.
    async fn delete_batch(&self, operation: &'static str, table: &str, keys: Vec<Item>) -> Sql<()> {
        for chunk in keys.chunks(MAX_BATCH_WRITE) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map_err(build_err(operation, table))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Sql<_>>()?;
            for attempt in 0..BATCH_ATTEMPTS {
                debug_assert!(pending.len() <= MAX_BATCH_WRITE);
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .map_err(sdk_err(operation, table, None))?;
                pending = out.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt + 1 == BATCH_ATTEMPTS {
                    return Err(StoreError::backend(
                        operation,
                        table,
                        None,
                        true,
                        std::io::Error::other(format!(
                            "{} items still unprocessed after {BATCH_ATTEMPTS} attempts",
                            pending.len()
                        )),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
        }
        Ok(())
    }

    /// Reads items by `pk` (consistent), in chunks of 100, retrying unprocessed keys; absent
    /// items are left out. Order is not kept.
    async fn batch_get(&self, operation: &'static str, table: &str, ids: &[String]) -> Sql<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(crate::ports::MAX_GET_CASES) {
            let mut unique: Vec<&String> = chunk.iter().collect();
            unique.sort();
            unique.dedup();
            let keys = unique.into_iter().map(|id| HashMap::from([("pk".to_string(), s(id))])).collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(build_err(operation, table))?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(table, request)
                    .send()
                    .await
                    .map_err(sdk_err(operation, table, None))?;
                found.extend(out.responses.and_then(|mut r| r.remove(table)).unwrap_or_default());
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(table)).filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt >= BATCH_ATTEMPTS {
                        return Err(StoreError::backend(
                            operation,
                            table,
                            None,
                            true,
                            std::io::Error::other("keys still unprocessed after retries"),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
                }
            }
        }
        Ok(found)
    }
}

/// One Query: every name in its expressions aliased, values bound.
struct Query<'a> {
    operation: &'static str,
    table: &'a str,
    index: Option<&'a str>,
    key_condition: &'a str,
    filter: Option<&'a str>,
    values: Item,
    names: HashMap<String, String>,
    forward: bool,
    /// Where to begin (the key of the item before the first one wanted).
    start: Option<Item>,
}

/// A write's precondition.
enum Condition {
    /// No item has the key (named by its hash attribute).
    Absent(&'static str),
    /// One attribute equals an expected string.
    Equals(&'static str, String),
    /// No live item has the key: absent, or past its `expires_at` (epoch seconds `now`).
    AbsentOrExpired(&'static str, i64),
    /// One attribute equals an expected string, and the item has not expired at `now`.
    EqualsAlive(&'static str, String, i64),
}

const ABSENT: Condition = Condition::Absent("pk");

fn attribute_is(attribute: &'static str, expected: impl Into<String>) -> Condition {
    Condition::Equals(attribute, expected.into())
}

impl Condition {
    /// Expression, attribute names and values (every name aliased).
    fn parts(&self) -> (&'static str, HashMap<String, String>, Option<Item>) {
        let n = |v: i64| AttributeValue::N(v.to_string());
        match self {
            Condition::Absent(hash) => ("attribute_not_exists(#h)", names(&[("#h", hash)]), None),
            Condition::Equals(attribute, expected) => (
                "#attr = :expected",
                names(&[("#attr", attribute)]),
                Some(HashMap::from([(":expected".to_string(), s(expected))])),
            ),
            Condition::AbsentOrExpired(hash, now) => (
                "attribute_not_exists(#h) OR #exp <= :now",
                names(&[("#h", hash), ("#exp", "expires_at")]),
                Some(HashMap::from([(":now".to_string(), n(*now))])),
            ),
            Condition::EqualsAlive(attribute, expected, now) => (
                "#attr = :expected AND (attribute_not_exists(#exp) OR #exp > :now)",
                names(&[("#attr", attribute), ("#exp", "expires_at")]),
                Some(HashMap::from([(":expected".to_string(), s(expected)), (":now".to_string(), n(*now))])),
            ),
        }
    }
}

fn inserted(written: bool) -> Inserted {
    if written { Inserted::New } else { Inserted::Duplicate }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::ports::Outbox;
    use crate::time::SystemClock;

    fn tables() -> TableNames {
        let name = |n: &str| format!("pantau-test-{n}");
        TableNames {
            mentions: name("mentions"),
            cases: name("cases"),
            posts: name("posts"),
            reports: name("reports"),
            config: name("config"),
            outbox: name("outbox"),
            counters: name("counters"),
        }
    }

    #[tokio::test]
    async fn unprocessed_items_are_retried_alone_and_batches_stay_within_25() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let rule = mock!(Client::batch_write_item).then_compute_output(move |req| {
            let requests = req.request_items().and_then(|m| m.get("pantau-test-outbox")).cloned().unwrap_or_default();
            let mut sizes = seen.lock().unwrap();
            sizes.push(requests.len());
            // The first call leaves its last three deletes unprocessed, as DynamoDB may.
            let unprocessed = if sizes.len() == 1 { requests[requests.len() - 3..].to_vec() } else { vec![] };
            BatchWriteItemOutput::builder().unprocessed_items("pantau-test-outbox", unprocessed).build()
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
        let store = DynamoStore::new(client, tables(), Arc::new(SystemClock), 30).unwrap();
        let ids: Vec<String> = (0..30).map(|i| format!("ev{i}")).collect();
        store.mark_published(&ids).await.unwrap();
        assert_eq!(*sizes.lock().unwrap(), vec![25, 3, 5]);
    }

    #[tokio::test]
    async fn items_left_unprocessed_for_good_are_a_retryable_error() {
        let rule = mock!(Client::batch_write_item).then_compute_output(|req| {
            let requests = req.request_items().and_then(|m| m.get("pantau-test-outbox")).cloned().unwrap_or_default();
            BatchWriteItemOutput::builder().unprocessed_items("pantau-test-outbox", requests).build()
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
        let store = DynamoStore::new(client, tables(), Arc::new(SystemClock), 30).unwrap();
        let err = store.mark_published(&["ev1".to_string()]).await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().contains("unprocessed"), "{err}");
        assert_eq!(rule.num_calls(), BATCH_ATTEMPTS as usize);
    }

    #[test]
    fn table_names_dynamodb_would_refuse_are_refused_here() {
        let mut t = tables();
        assert!(t.validate().is_ok());
        t.cases = "ab".into();
        assert!(t.validate().is_err(), "moto accepts 2-character names; DynamoDB does not");
        t.cases = "cases table".into();
        assert!(t.validate().is_err());
    }

    #[test]
    fn long_documents_are_stored_deflated_and_read_back_as_they_were() {
        let long = serde_json::json!({"text": "Jalan rusak di Tuban, ".repeat(100), "n": 7});
        let short = serde_json::json!({"text": "pendek"});
        let stored = doc_attr("mentions", "x:1", &long).unwrap();
        let AttributeValue::B(deflated) = &stored else { panic!("a long document stays text: {stored:?}") };
        assert!(deflated.as_ref().len() * 4 < long.to_string().len(), "{} bytes", deflated.as_ref().len());
        let item = |doc: AttributeValue| Item::from([("pk".to_string(), s("x:1")), ("doc".to_string(), doc)]);
        assert_eq!(read_doc::<serde_json::Value>("mentions", &item(stored)).unwrap(), long);
        // Short documents, and every document written before deflating, are JSON text.
        assert!(matches!(doc_attr("mentions", "x:1", &short).unwrap(), AttributeValue::S(_)));
        assert_eq!(read_doc::<serde_json::Value>("mentions", &item(s(long.to_string()))).unwrap(), long);
        // Bytes that do not inflate are a corrupt item, not a panic.
        let broken = item(AttributeValue::B(Blob::new(vec![0xff, 0x00, 0x13])));
        assert!(matches!(read_doc::<serde_json::Value>("mentions", &broken), Err(StoreError::Corrupt { .. })));
    }
}
