//! DynamoDB adapter for every store port. Tables, keys and indexes are declared once in
//! [`schema`] and must match `infra/template.yaml` (a test compares them).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, KeysAndAttributes, Put, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::keys;
use crate::domain::{Case, Event, Mention, MentionKey, Occurrence, OccurrenceState, ReportMeta, ReportPeriod};
use crate::error::StoreError;
use crate::ports::{
    CaseStore, ConfigStore, Count, CountDelta, CounterStore, Inserted, MentionQuery, MentionStore, OccurrenceStore,
    Outbox, Page, Position, ReportStore,
};
use crate::time::{Clock, wib_date};

pub mod schema;

type Item = HashMap<String, AttributeValue>;
type Sql<T> = Result<T, StoreError>;

/// DynamoDB allows at most 25 requests in one BatchWriteItem.
pub const MAX_BATCH_WRITE: usize = 25;
/// DynamoDB allows at most 100 items in one TransactWriteItems.
pub const MAX_TRANSACTION: usize = 100;
/// Longest time range one mention listing may cover (one Query per WIB day).
pub const MAX_LIST_DAYS: i64 = 400;
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

fn doc_attr<T: Serialize>(table: &str, key: &str, value: &T) -> Sql<AttributeValue> {
    serde_json::to_string(value).map(s).map_err(|e| StoreError::corrupt(table, key, e))
}

fn read_doc<T: DeserializeOwned>(table: &str, item: &Item) -> Sql<T> {
    let key = item.get("pk").or_else(|| item.get("id")).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let doc = item
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::corrupt(table, &key, "no doc attribute"))?;
    serde_json::from_str(doc).map_err(|e| StoreError::corrupt(table, &key, e))
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
                    ("pending_shard".to_string(), s(schema::PENDING_SHARD)),
                    ("created_key".to_string(), s(keys::outbox_created_key(event))),
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
        let (expression, aliases, values) = condition.parts();
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(expression)
            .set_expression_attribute_names(Some(aliases))
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err(operation, table))?;
        let first = TransactWriteItem::builder().put(put).build();
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
        if events.len() + counts.len() + 1 > MAX_TRANSACTION {
            return Err(StoreError::Invalid(format!(
                "{operation} on {table} key {key}: {} events and {} counters exceed the {MAX_TRANSACTION}-item transaction limit",
                events.len(),
                counts.len()
            )));
        }
        let mut items = vec![first];
        items.extend(self.counter_updates(counts)?);
        items.extend(self.event_puts(events)?);
        let mut attempt = 0;
        loop {
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(true),
                Err(err) => err,
            };
            let reasons: Vec<Option<String>> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    e.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect()
                }
                _ => Vec::new(),
            };
            if reasons.first().and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed") {
                return Ok(false);
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
    #[allow(clippy::too_many_arguments)]
    async fn query_all(
        &self,
        operation: &'static str,
        table: &str,
        index: Option<&str>,
        key_condition: &str,
        filter: Option<&str>,
        values: Item,
        names: HashMap<String, String>,
        forward: bool,
        want: usize,
        keep: &(dyn Fn(&Item) -> bool + Sync),
    ) -> Sql<Vec<Item>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
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

    /// Mentions whose case has a status: the cases' `by_status` index sorts them like
    /// mentions, so paging is the same; the other filters apply to the mentions read.
    async fn mentions_by_case_status(&self, query: &MentionQuery, lower: String, upper: String) -> Sql<Page<Mention>> {
        let Some(status) = query.case_status else { return Ok(Page { items: vec![], next: None }) };
        let (cases, mentions) = (&self.tables.cases, &self.tables.mentions);
        let now = self.clock.now();
        let want = query.limit + 1;
        let mut found: Vec<(Mention, String)> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(cases)
                .index_name(schema::CASES_BY_STATUS)
                .key_condition_expression("#s = :s AND #ts BETWEEN :lo AND :hi")
                .set_expression_attribute_names(Some(names(&[("#s", "status"), ("#ts", "ts_key")])))
                .expression_attribute_values(":s", s(status.as_str()))
                .expression_attribute_values(":lo", s(&lower))
                .expression_attribute_values(":hi", s(&upper))
                .scan_index_forward(false)
                .limit(100)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("ListMentionsByCase", cases, None))?;
            let ids: Vec<String> = out
                .items
                .unwrap_or_default()
                .iter()
                .filter(|item| string_attr(item, "ts_key") < upper)
                .map(|item| string_attr(item, "pk"))
                .collect();
            let mut page: Vec<(Mention, String)> = Vec::new();
            for item in self.batch_get("ListMentionsByCase", mentions, &ids).await? {
                if is_expired(&item, now) {
                    continue;
                }
                let mention: Mention = read_doc(mentions, &item)?;
                if query.matches(&mention) {
                    page.push((mention, string_attr(&item, "ts_key")));
                }
            }
            page.sort_by(|a, b| b.1.cmp(&a.1));
            found.extend(page);
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if found.len() >= want || start.is_none() {
                found.truncate(want);
                return Ok(super::sqlite::page_of(found, query.limit));
            }
        }
    }

    fn mention_item(&self, mention: &Mention) -> Sql<Item> {
        let key = mention.key.to_string();
        let table = &self.tables.mentions;
        let mut item = HashMap::from([
            ("pk".to_string(), s(&key)),
            ("day".to_string(), s(wib_date(mention.created_at).to_string())),
            ("ts_key".to_string(), s(keys::mention_ts_key(mention))),
            ("author".to_string(), s(mention.author_key())),
            ("platform".to_string(), s(mention.platform.as_str())),
            ("revision".to_string(), s(mention.revision.to_string())),
            (
                "expires_at".to_string(),
                AttributeValue::N(keys::expires_at(mention.received_at, self.retention_days).to_string()),
            ),
            ("doc".to_string(), doc_attr(table, &key, mention)?),
        ]);
        if let Some(class) = &mention.classification {
            item.insert("category".into(), s(class.category.as_str()));
            item.insert("sentiment".into(), s(class.sentiment.as_str()));
            item.insert("topics".into(), AttributeValue::L(class.topics.iter().map(s).collect()));
            item.insert("language".into(), s(class.language.as_str()));
        }
        if let Some(triage) = &mention.triage {
            item.insert("influence".into(), s(triage.influence.as_str()));
        }
        Ok(item)
    }

    fn case_item(&self, case: &Case) -> Sql<Item> {
        let mut item = HashMap::from([
            ("pk".to_string(), s(&case.id)),
            ("status".to_string(), s(case.status.as_str())),
            ("ts_key".to_string(), s(keys::case_ts_key(case))),
            ("revision".to_string(), s(case.revision.to_string())),
            ("doc".to_string(), doc_attr(&self.tables.cases, &case.id, case)?),
        ]);
        // Sparse index: only open cases carry the shard, so the inbox query reads only them.
        if case.status.is_open() {
            item.insert("open_shard".into(), s(schema::OPEN_SHARD));
            item.insert("due_key".into(), s(keys::case_due_key(case)));
        }
        Ok(item)
    }

    fn occurrence_item(&self, occurrence: &Occurrence) -> Sql<Item> {
        let mut item = HashMap::from([
            ("pk".to_string(), s(format!("POST#{}", occurrence.post_id))),
            ("sk".to_string(), s(format!("OCC#{}", occurrence.id))),
            ("state".to_string(), s(occurrence.state.as_str())),
            ("doc".to_string(), doc_attr(&self.tables.posts, &occurrence.id, occurrence)?),
        ]);
        if occurrence.state == OccurrenceState::Scheduled {
            item.insert("due_shard".into(), s(schema::DUE_SHARD));
            item.insert("due_key".into(), s(keys::occurrence_due_key(occurrence)));
        }
        Ok(item)
    }
}

/// A write's precondition.
enum Condition {
    /// No item has the key (named by its hash attribute).
    Absent(&'static str),
    /// One attribute equals an expected string.
    Equals(&'static str, String),
}

const ABSENT: Condition = Condition::Absent("pk");

fn attribute_is(attribute: &'static str, expected: impl Into<String>) -> Condition {
    Condition::Equals(attribute, expected.into())
}

impl Condition {
    /// Expression, attribute names and values (every name aliased).
    fn parts(&self) -> (&'static str, HashMap<String, String>, Option<Item>) {
        match self {
            Condition::Absent(hash) => ("attribute_not_exists(#h)", names(&[("#h", hash)]), None),
            Condition::Equals(attribute, expected) => (
                "#attr = :expected",
                names(&[("#attr", attribute)]),
                Some(HashMap::from([(":expected".to_string(), s(expected))])),
            ),
        }
    }
}

fn inserted(written: bool) -> Inserted {
    if written { Inserted::New } else { Inserted::Duplicate }
}

#[async_trait]
impl MentionStore for DynamoStore {
    async fn insert_mention(&self, mention: &Mention, events: &[Event]) -> Sql<Inserted> {
        let key = mention.key.to_string();
        let item = self.mention_item(mention)?;
        let table = &self.tables.mentions;
        let written = self.put_with_events("InsertMention", table, &key, item, ABSENT, &[], events).await?;
        Ok(inserted(written))
    }

    async fn replace_mention(
        &self,
        mention: &Mention,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let key = mention.key.to_string();
        let item = self.mention_item(mention)?;
        let table = &self.tables.mentions;
        let condition = attribute_is("revision", expected_revision.to_string());
        if self.put_with_events("ReplaceMention", table, &key, item, condition, counts, events).await? {
            Ok(())
        } else {
            Err(StoreError::stale("ReplaceMention", table, &key, expected_revision))
        }
    }

    async fn delete_mention(
        &self,
        key: &MentionKey,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let display = key.to_string();
        let table = &self.tables.mentions;
        let (expression, aliases, values) = attribute_is("revision", expected_revision.to_string()).parts();
        let delete = Delete::builder()
            .table_name(table)
            .key("pk", s(&display))
            .condition_expression(expression)
            .set_expression_attribute_names(Some(aliases))
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err("DeleteMention", table))?;
        let first = TransactWriteItem::builder().delete(delete).build();
        if self.transact("DeleteMention", table, &display, first, counts, events).await? {
            Ok(())
        } else {
            Err(StoreError::stale("DeleteMention", table, &display, expected_revision))
        }
    }

    async fn get_mention(&self, key: &MentionKey) -> Sql<Option<Mention>> {
        let display = key.to_string();
        let table = &self.tables.mentions;
        let item = self.get_item("GetMention", table, HashMap::from([("pk".into(), s(&display))]), &display).await?;
        match item {
            Some(item) if !is_expired(&item, self.clock.now()) => read_doc(table, &item).map(Some),
            _ => Ok(None),
        }
    }

    async fn list_mentions(&self, query: &MentionQuery) -> Sql<Page<Mention>> {
        let table = &self.tables.mentions;
        if query.to <= query.from {
            return Ok(Page { items: vec![], next: None });
        }
        let first_day = wib_date(query.from);
        let last_day = wib_date(query.to - Days::milliseconds(1));
        if (last_day - first_day).num_days() > MAX_LIST_DAYS {
            return Err(StoreError::Invalid(format!("a listing may cover at most {MAX_LIST_DAYS} days")));
        }
        let upper = match &query.after {
            Some(Position(p)) if *p < keys::bound(query.to) => p.clone(),
            _ => keys::bound(query.to),
        };
        let lower = keys::bound(query.from);
        if upper <= lower {
            // A cursor from before `from`: nothing left (DynamoDB refuses an inverted BETWEEN).
            return Ok(Page { items: vec![], next: None });
        }
        if query.case_status.is_some() {
            return self.mentions_by_case_status(query, lower, upper).await;
        }
        let now = self.clock.now();
        let mut filters = vec!["#exp > :now".to_string()];
        let mut values = HashMap::from([
            (":lo".to_string(), s(&lower)),
            (":hi".to_string(), s(&upper)),
            (":now".to_string(), AttributeValue::N(now.timestamp().to_string())),
        ]);
        let mut names = names(&[("#day", "day"), ("#ts", "ts_key"), ("#exp", "expires_at")]);
        for (attr, value) in [
            ("platform", query.platform.map(|p| p.as_str())),
            ("category", query.category.map(|c| c.as_str())),
            ("sentiment", query.sentiment.map(|s| s.as_str())),
            ("language", query.language.map(|l| l.as_str())),
            ("influence", query.influence.map(|i| i.as_str())),
        ] {
            if let Some(value) = value {
                filters.push(format!("#{attr} = :{attr}"));
                names.insert(format!("#{attr}"), attr.to_string());
                values.insert(format!(":{attr}"), s(value));
            }
        }
        if let Some(topic) = &query.topic {
            filters.push("contains(#topics, :topic)".into());
            names.insert("#topics".into(), "topics".into());
            values.insert(":topic".into(), s(topic));
        }
        let filter = filters.join(" AND ");
        let want = query.limit + 1;
        let mut found: Vec<(Mention, String)> = Vec::new();
        let mut day = last_day;
        while day >= first_day && found.len() < want {
            values.insert(":d".into(), s(day.to_string()));
            // BETWEEN is inclusive: the cursor's own item is dropped by `keep`.
            let keep = |item: &Item| string_attr(item, "ts_key") < upper;
            let items = self
                .query_all(
                    "ListMentions",
                    table,
                    Some(schema::MENTIONS_BY_DAY),
                    "#day = :d AND #ts BETWEEN :lo AND :hi",
                    Some(&filter),
                    values.clone(),
                    names.clone(),
                    false,
                    want - found.len(),
                    &keep,
                )
                .await?;
            for item in items {
                found.push((read_doc(table, &item)?, string_attr(&item, "ts_key")));
            }
            day = match day.pred_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(super::sqlite::page_of(found, query.limit))
    }

    async fn mentions_by_author(&self, author_key: &str, limit: usize, after: Option<&Position>) -> Sql<Page<Mention>> {
        let table = &self.tables.mentions;
        let now = self.clock.now();
        let keep = move |item: &Item| !is_expired(item, now);
        let mut values = HashMap::from([(":a".to_string(), s(author_key))]);
        let mut aliases = names(&[("#a", "author")]);
        let condition = match after {
            Some(Position(after)) => {
                values.insert(":after".into(), s(after));
                aliases.insert("#ts".into(), "ts_key".into());
                "#a = :a AND #ts < :after"
            }
            None => "#a = :a",
        };
        let items = self
            .query_all(
                "MentionsByAuthor",
                table,
                Some(schema::MENTIONS_BY_AUTHOR),
                condition,
                None,
                values,
                aliases,
                false,
                limit + 1,
                &keep,
            )
            .await?;
        let found = items
            .iter()
            .map(|item| Ok((read_doc::<Mention>(table, item)?, string_attr(item, "ts_key"))))
            .collect::<Sql<Vec<_>>>()?;
        Ok(super::sqlite::page_of(found, limit))
    }
}

#[async_trait]
impl CounterStore for DynamoStore {
    async fn counts(&self, from: NaiveDate, to: NaiveDate) -> Sql<Vec<Count>> {
        let table = &self.tables.counters;
        if (to - from).num_days() > MAX_LIST_DAYS {
            return Err(StoreError::Invalid(format!("counts may cover at most {MAX_LIST_DAYS} days")));
        }
        let mut counts = Vec::new();
        let mut day = from;
        while day <= to {
            let items = self
                .query_all(
                    "Counts",
                    table,
                    None,
                    "#day = :d",
                    None,
                    HashMap::from([(":d".to_string(), s(day.to_string()))]),
                    names(&[("#day", "day")]),
                    true,
                    usize::MAX,
                    &|_| true,
                )
                .await?;
            for item in items {
                let key = string_attr(&item, "key");
                let n = item.get("n").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
                counts.push(Count { day, key, n });
            }
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        Ok(counts)
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn create_case(&self, case: &Case, events: &[Event]) -> Sql<Inserted> {
        let item = self.case_item(case)?;
        let written =
            self.put_with_events("CreateCase", &self.tables.cases, &case.id, item, ABSENT, &[], events).await?;
        Ok(inserted(written))
    }

    async fn get_case(&self, id: &str) -> Sql<Option<Case>> {
        let table = &self.tables.cases;
        let item = self.get_item("GetCase", table, HashMap::from([("pk".into(), s(id))]), id).await?;
        item.map(|item| read_doc(table, &item)).transpose()
    }

    async fn get_cases(&self, ids: &[String]) -> Sql<Vec<Case>> {
        let table = &self.tables.cases;
        let items = self.batch_get("GetCases", table, ids).await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn update_case(&self, case: &Case, expected_revision: u32, events: &[Event]) -> Sql<()> {
        let item = self.case_item(case)?;
        let condition = attribute_is("revision", expected_revision.to_string());
        let table = &self.tables.cases;
        let written = self.put_with_events("UpdateCase", table, &case.id, item, condition, &[], events).await?;
        if written { Ok(()) } else { Err(StoreError::stale("UpdateCase", table, &case.id, expected_revision)) }
    }

    async fn delete_case(&self, id: &str) -> Sql<()> {
        let table = &self.tables.cases;
        self.client.delete_item().table_name(table).key("pk", s(id)).send().await.map_err(sdk_err(
            "DeleteCase",
            table,
            Some(id),
        ))?;
        Ok(())
    }

    async fn open_cases(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Case>> {
        let table = &self.tables.cases;
        // DynamoDB refuses an empty string in a key condition, so the first page has none.
        let mut values = HashMap::from([(":open".to_string(), s(schema::OPEN_SHARD))]);
        let mut aliases = names(&[("#s", "open_shard")]);
        let condition = match after {
            Some(Position(after)) => {
                values.insert(":after".to_string(), s(after));
                aliases.insert("#k".into(), "due_key".into());
                "#s = :open AND #k > :after"
            }
            None => "#s = :open",
        };
        let items = self
            .query_all(
                "OpenCases",
                table,
                Some(schema::CASES_OPEN_BY_DUE),
                condition,
                None,
                values,
                aliases,
                true,
                limit + 1,
                &|_| true,
            )
            .await?;
        let found = items
            .iter()
            .map(|item| Ok((read_doc::<Case>(table, item)?, string_attr(item, "due_key"))))
            .collect::<Sql<Vec<_>>>()?;
        Ok(super::sqlite::page_of(found, limit))
    }
}

#[async_trait]
impl OccurrenceStore for DynamoStore {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Sql<Inserted> {
        let item = self.occurrence_item(occurrence)?;
        let written =
            self.put_with_events("PutOccurrence", &self.tables.posts, &occurrence.id, item, ABSENT, &[], &[]).await?;
        Ok(inserted(written))
    }

    async fn get_occurrence(&self, post_id: &str, id: &str) -> Sql<Option<Occurrence>> {
        let table = &self.tables.posts;
        let key = HashMap::from([("pk".into(), s(format!("POST#{post_id}"))), ("sk".into(), s(format!("OCC#{id}")))]);
        let item = self.get_item("GetOccurrence", table, key, id).await?;
        item.map(|item| read_doc(table, &item)).transpose()
    }

    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Sql<Vec<Occurrence>> {
        let table = &self.tables.posts;
        let items = self
            .query_all(
                "DueOccurrences",
                table,
                Some(schema::POSTS_DUE),
                "#s = :shard AND #k < :upto",
                None,
                HashMap::from([
                    (":shard".to_string(), s(schema::DUE_SHARD)),
                    (":upto".to_string(), s(keys::up_to(now))),
                ]),
                names(&[("#s", "due_shard"), ("#k", "due_key")]),
                true,
                limit,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn move_occurrence(&self, moved: &Occurrence, from: OccurrenceState, events: &[Event]) -> Sql<()> {
        let item = self.occurrence_item(moved)?;
        let condition = attribute_is("state", from.as_str());
        let table = &self.tables.posts;
        if self.put_with_events("MoveOccurrence", table, &moved.id, item, condition, &[], events).await? {
            Ok(())
        } else {
            Err(StoreError::conflict(
                "MoveOccurrence",
                table,
                &moved.id,
                format!("occurrence is missing or no longer {from}"),
            ))
        }
    }
}

#[async_trait]
impl ReportStore for DynamoStore {
    async fn put_report(&self, report: &ReportMeta) -> Sql<()> {
        let table = &self.tables.reports;
        let item = HashMap::from([
            ("period".to_string(), s(report.period.as_str())),
            ("start_key".to_string(), s(report.from.to_string())),
            ("doc".to_string(), doc_attr(table, &report.id, report)?),
        ]);
        self.client.put_item().table_name(table).set_item(Some(item)).send().await.map_err(sdk_err(
            "PutReport",
            table,
            Some(&report.id),
        ))?;
        Ok(())
    }

    async fn list_reports(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Vec<ReportMeta>> {
        let table = &self.tables.reports;
        let items = self
            .query_all(
                "ListReports",
                table,
                None,
                "#p = :p AND #k BETWEEN :from AND :to",
                None,
                HashMap::from([
                    (":p".to_string(), s(period.as_str())),
                    (":from".to_string(), s(from.to_string())),
                    (":to".to_string(), s(to.to_string())),
                ]),
                names(&[("#p", "period"), ("#k", "start_key")]),
                true,
                usize::MAX,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }
}

#[async_trait]
impl ConfigStore for DynamoStore {
    async fn get_config(&self, kind: &str, id: &str) -> Sql<Option<Value>> {
        let table = &self.tables.config;
        let key = HashMap::from([("kind".into(), s(kind)), ("id".into(), s(id))]);
        let item = self.get_item("GetConfig", table, key, id).await?;
        item.map(|item| read_doc(table, &item)).transpose()
    }

    async fn put_config(&self, kind: &str, id: &str, value: &Value) -> Sql<()> {
        let table = &self.tables.config;
        let item = HashMap::from([
            ("kind".to_string(), s(kind)),
            ("id".to_string(), s(id)),
            ("doc".to_string(), s(value.to_string())),
        ]);
        self.client.put_item().table_name(table).set_item(Some(item)).send().await.map_err(sdk_err(
            "PutConfig",
            table,
            Some(id),
        ))?;
        Ok(())
    }

    async fn swap_config(
        &self,
        kind: &str,
        id: &str,
        expected: Option<&Value>,
        value: &Value,
        events: &[Event],
    ) -> Sql<()> {
        let table = &self.tables.config;
        let item = HashMap::from([
            ("kind".to_string(), s(kind)),
            ("id".to_string(), s(id)),
            ("doc".to_string(), s(value.to_string())),
        ]);
        let condition = match expected {
            None => Condition::Absent("kind"),
            Some(old) => attribute_is("doc", old.to_string()),
        };
        let display = format!("{kind}/{id}");
        if self.put_with_events("SwapConfig", table, &display, item, condition, &[], events).await? {
            Ok(())
        } else {
            Err(StoreError::conflict("SwapConfig", table, &display, "the document changed meanwhile"))
        }
    }

    async fn delete_config(&self, kind: &str, id: &str) -> Sql<()> {
        let table = &self.tables.config;
        self.client
            .delete_item()
            .table_name(table)
            .key("kind", s(kind))
            .key("id", s(id))
            .send()
            .await
            .map_err(sdk_err("DeleteConfig", table, Some(id)))?;
        Ok(())
    }

    async fn list_config(&self, kind: &str) -> Sql<Vec<(String, Value)>> {
        let table = &self.tables.config;
        let items = self
            .query_all(
                "ListConfig",
                table,
                None,
                "#kind = :k",
                None,
                HashMap::from([(":k".to_string(), s(kind))]),
                names(&[("#kind", "kind")]),
                true,
                usize::MAX,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| Ok((string_attr(item, "id"), read_doc(table, item)?))).collect()
    }
}

#[async_trait]
impl Outbox for DynamoStore {
    async fn pending_events(&self, created_before: DateTime<Utc>, limit: usize) -> Sql<Vec<Event>> {
        let table = &self.tables.outbox;
        let items = self
            .query_all(
                "PendingEvents",
                table,
                Some(schema::OUTBOX_PENDING),
                "#s = :shard AND #k < :upto",
                None,
                HashMap::from([
                    (":shard".to_string(), s(schema::PENDING_SHARD)),
                    (":upto".to_string(), s(keys::up_to(created_before))),
                ]),
                names(&[("#s", "pending_shard"), ("#k", "created_key")]),
                true,
                limit,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn mark_published(&self, ids: &[String]) -> Sql<()> {
        let keys = ids.iter().map(|id| HashMap::from([("id".to_string(), s(id))])).collect();
        self.delete_batch("MarkPublished", &self.tables.outbox, keys).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
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
}
