//! Cases: the document, the status with the mention's sort key (`by_status`) and, while open,
//! the sparse inbox index (`open_by_due`).

use std::collections::HashMap;

use async_trait::async_trait;

use super::{
    ABSENT, DynamoStore, Item, Query, Sql, attribute_is, doc_attr, inserted, names, read_doc, s, schema, sdk_err,
    string_attr,
};
use crate::adapters::vocabulary::{self, page_of};
use chrono::{DateTime, Utc};

use crate::domain::{Case, CaseStatus, Event};
use crate::error::StoreError;
use crate::ports::{CaseStore, Inserted, Page, Position};

impl DynamoStore {
    fn case_item(&self, case: &Case) -> Sql<Item> {
        let mut item = HashMap::from([
            ("pk".to_string(), s(&case.id)),
            ("status".to_string(), s(case.status.as_str())),
            ("ts_key".to_string(), s(vocabulary::case_ts_key(case))),
            ("revision".to_string(), s(case.revision.to_string())),
            ("doc".to_string(), doc_attr(&self.tables.cases, &case.id, case)?),
        ]);
        // Sparse index: only open cases carry the shard, so the inbox query reads only them.
        if case.status.is_open() {
            item.insert("open_shard".into(), s(schema::OPEN_SHARD));
            item.insert("due_key".into(), s(vocabulary::case_due_key(case)));
        }
        Ok(item)
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

    async fn cases_by_status(
        &self,
        status: CaseStatus,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Case>> {
        vocabulary::check_range(from, to)?;
        let table = &self.tables.cases;
        // Keys are `{time}#{id}`: BETWEEN the bounds is exactly `[from, to)`; after a page it
        // starts at the last key read, which is then dropped.
        let (low, high) = vocabulary::ts_bounds(from, to);
        let after_key = after.map(|p| p.0.clone());
        let values = HashMap::from([
            (":status".to_string(), s(status.as_str())),
            (":low".to_string(), s(after_key.clone().unwrap_or(low))),
            (":high".to_string(), s(high)),
        ]);
        let items = self
            .query_all(
                Query {
                    operation: "CasesByStatus",
                    table,
                    index: Some(schema::CASES_BY_STATUS),
                    key_condition: "#s = :status AND #k BETWEEN :low AND :high",
                    filter: None,
                    values,
                    names: names(&[("#s", "status"), ("#k", "ts_key")]),
                    forward: true,
                    start: None,
                },
                limit + 1,
                &|item| after_key.as_ref().is_none_or(|a| &string_attr(item, "ts_key") != a),
            )
            .await?;
        // The index holds keys only: the cases are read by id, in the index's order.
        let keys: Vec<(String, String)> =
            items.iter().map(|item| (string_attr(item, "pk"), string_attr(item, "ts_key"))).collect();
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(crate::ports::MAX_GET_CASES) {
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let mut cases: HashMap<String, Case> =
                self.get_cases(&ids).await?.into_iter().map(|c| (c.id.clone(), c)).collect();
            // A case erased between the two reads is left out.
            found.extend(chunk.iter().filter_map(|(id, key)| cases.remove(id).map(|c| (c, key.clone()))));
        }
        Ok(page_of(found, limit))
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
                Query {
                    operation: "OpenCases",
                    table,
                    index: Some(schema::CASES_OPEN_BY_DUE),
                    key_condition: condition,
                    filter: None,
                    values,
                    names: aliases,
                    forward: true,
                    start: None,
                },
                limit + 1,
                &|_| true,
            )
            .await?;
        let found = items
            .iter()
            .map(|item| Ok((read_doc::<Case>(table, item)?, string_attr(item, "due_key"))))
            .collect::<Sql<Vec<_>>>()?;
        Ok(page_of(found, limit))
    }
}
