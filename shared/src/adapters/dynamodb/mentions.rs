//! Mentions: the document with the indexed projection as attributes; listings read the
//! `by_day` index one WIB day at a time (or the cases' `by_status` index), filters as
//! FilterExpressions named like the projection.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use chrono::Duration as Days;

use super::{
    ABSENT, DynamoStore, Item, Query, Sql, attribute_is, build_err, doc_attr, inserted, is_expired, names, read_doc, s,
    schema, sdk_err, string_attr,
};
use crate::adapters::vocabulary::{self, MentionIndex, page_of};
use crate::domain::{Event, Mention, MentionKey};
use crate::error::StoreError;
use crate::ports::{CountDelta, Inserted, MentionQuery, MentionReader, MentionWriter, Page, Position, Replacement};
use crate::time::wib_date;

impl DynamoStore {
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
                if vocabulary::matches(query, &MentionIndex::of(&mention, self.retention_days)) {
                    page.push((mention, string_attr(&item, "ts_key")));
                }
            }
            page.sort_by(|a, b| b.1.cmp(&a.1));
            found.extend(page);
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if found.len() >= want || start.is_none() {
                found.truncate(want);
                return Ok(page_of(found, query.limit));
            }
        }
    }

    fn mention_item(&self, mention: &Mention) -> Sql<Item> {
        let index = MentionIndex::of(mention, self.retention_days);
        let mut item = HashMap::from([
            ("pk".to_string(), s(&index.key)),
            ("day".to_string(), s(&index.day)),
            ("ts_key".to_string(), s(&index.ts_key)),
            ("revision".to_string(), s(index.revision.to_string())),
            ("expires_at".to_string(), AttributeValue::N(index.expires_at.to_string())),
            ("doc".to_string(), doc_attr(&self.tables.mentions, &index.key, mention)?),
        ]);
        // An author without an id is left out of the sparse `by_author` index.
        if let Some(author) = &index.author {
            item.insert("author".into(), s(author));
        }
        for (name, value) in index.labels() {
            if let Some(value) = value {
                item.insert(name.to_string(), s(value));
            }
        }
        if mention.classification.is_some() {
            item.insert("topics".into(), AttributeValue::L(index.topics.iter().map(s).collect()));
        }
        Ok(item)
    }
}

#[async_trait]
impl MentionWriter for DynamoStore {
    async fn insert_mention(&self, mention: &Mention, events: &[Event]) -> Sql<Inserted> {
        let key = mention.key.to_string();
        let item = self.mention_item(mention)?;
        let table = &self.tables.mentions;
        let written = self.put_with_events("InsertMention", table, &key, item, ABSENT, &[], events).await?;
        Ok(inserted(written))
    }

    async fn replace_mentions(
        &self,
        replacements: &[Replacement<'_>],
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let table = &self.tables.mentions;
        let mut puts = Vec::with_capacity(replacements.len());
        for r in replacements {
            let condition = attribute_is("revision", r.expected_revision.to_string());
            puts.push(self.conditional_put("ReplaceMention", table, self.mention_item(r.mention)?, condition)?);
        }
        let Some(first) = replacements.first() else { return Ok(()) };
        let display = first.mention.key.to_string();
        match self.transact_all("ReplaceMention", table, &display, puts, counts, events).await? {
            None => Ok(()),
            Some(stale) => {
                let r = replacements.get(stale).unwrap_or(first);
                Err(StoreError::stale("ReplaceMention", table, &r.mention.key.to_string(), r.expected_revision))
            }
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
}

#[async_trait]
impl MentionReader for DynamoStore {
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
        vocabulary::check_range(query.from, query.to)?;
        let Some((lower, upper)) = vocabulary::listing_range(query) else {
            // A cursor from before `from`: nothing left (DynamoDB refuses an inverted BETWEEN).
            return Ok(Page { items: vec![], next: None });
        };
        let first_day = wib_date(query.from);
        let last_day = wib_date(query.to - Days::milliseconds(1));
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
        for (attr, value) in vocabulary::label_filters(query) {
            filters.push(format!("#{attr} = :{attr}"));
            names.insert(format!("#{attr}"), attr.to_string());
            values.insert(format!(":{attr}"), s(value));
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
                    Query {
                        operation: "ListMentions",
                        table,
                        index: Some(schema::MENTIONS_BY_DAY),
                        key_condition: "#day = :d AND #ts BETWEEN :lo AND :hi",
                        filter: Some(&filter),
                        values: values.clone(),
                        names: names.clone(),
                        forward: false,
                        start: None,
                    },
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
        Ok(page_of(found, query.limit))
    }

    async fn mentions_by_author(&self, author_key: &str, limit: usize, after: Option<&Position>) -> Sql<Page<Mention>> {
        let table = &self.tables.mentions;
        let now = self.clock.now();
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
                Query {
                    operation: "MentionsByAuthor",
                    table,
                    index: Some(schema::MENTIONS_BY_AUTHOR),
                    key_condition: condition,
                    filter: None,
                    values,
                    names: aliases,
                    forward: false,
                    start: None,
                },
                limit + 1,
                &|_| true,
            )
            .await?;
        // The index holds keys only (a classification then never rewrites it): the mentions are
        // read by key, newest first as the index listed them.
        let keys: Vec<String> = items.iter().map(|item| string_attr(item, "pk")).collect();
        let mut stored: HashMap<String, Item> = self
            .batch_get("MentionsByAuthor", table, &keys)
            .await?
            .into_iter()
            .map(|i| (string_attr(&i, "pk"), i))
            .collect();
        let mut found = Vec::with_capacity(items.len());
        for item in &items {
            match stored.remove(&string_attr(item, "pk")) {
                Some(mention) if !is_expired(&mention, now) => {
                    found.push((read_doc::<Mention>(table, &mention)?, string_attr(item, "ts_key")))
                }
                // Erased or expired since the index listed it.
                _ => {}
            }
        }
        Ok(page_of(found, limit))
    }
}
