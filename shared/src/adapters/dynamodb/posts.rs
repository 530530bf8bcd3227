//! Posts, series and occurrences in the posts table: `pk` `POST#…`, `SERIES#…` or `OCC#…`,
//! `sk` the kind. Sparse indexes: `posts` (every post, newest first), `active_series`, `due`
//! (what the publisher must look at, by when), and for occurrences `calendar` (by WIB day and
//! due time) and `by_series` (a series' slots).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration as Days, Utc};
use serde::de::DeserializeOwned;

use super::{
    ABSENT, DynamoStore, Item, Query, Sql, attribute_is, doc_attr, inserted, names, read_doc, s, schema, string_attr,
};
use crate::adapters::vocabulary::{self, page_of};
use crate::domain::{Event, Occurrence, Post, Series, SeriesStatus};
use crate::error::StoreError;
use crate::ports::{Inserted, OccurrenceStore, Page, Position, PostStore};
use crate::time::wib_date;

fn key(kind: &str, id: &str) -> Item {
    HashMap::from([("pk".to_string(), s(format!("{kind}#{id}"))), ("sk".to_string(), s(kind))])
}

impl DynamoStore {
    fn post_item(&self, post: &Post) -> Sql<Item> {
        let mut item = key("POST", &post.id);
        item.insert("post_shard".into(), s(schema::POST_SHARD));
        item.insert("created_key".into(), s(vocabulary::created_key(post.created_at, &post.id)));
        item.insert("revision".into(), s(post.revision.to_string()));
        item.insert("doc".into(), doc_attr(&self.tables.posts, &post.id, post)?);
        Ok(item)
    }

    fn series_item(&self, series: &Series) -> Sql<Item> {
        let mut item = key("SERIES", &series.id);
        if series.status == SeriesStatus::Active {
            item.insert("active_shard".into(), s(schema::ACTIVE_SHARD));
        }
        item.insert("created_key".into(), s(vocabulary::created_key(series.created_at, &series.id)));
        item.insert("revision".into(), s(series.revision.to_string()));
        item.insert("doc".into(), doc_attr(&self.tables.posts, &series.id, series)?);
        Ok(item)
    }

    fn occurrence_item(&self, o: &Occurrence) -> Sql<Item> {
        let mut item = key("OCC", &o.id);
        item.insert("cal_day".into(), s(wib_date(o.due_at).to_string()));
        item.insert("cal_key".into(), s(vocabulary::occurrence_cal_key(o)));
        item.insert("slot_key".into(), s(vocabulary::occurrence_slot_key(o)));
        item.insert("revision".into(), s(o.revision.to_string()));
        item.insert("doc".into(), doc_attr(&self.tables.posts, &o.id, o)?);
        if let Some(series) = &o.series_id {
            item.insert("series_key".into(), s(series));
        }
        // Sparse: only what the publisher must look at carries the shard.
        if let Some(due) = vocabulary::occurrence_due_key(o) {
            item.insert("due_shard".into(), s(schema::DUE_SHARD));
            item.insert("due_key".into(), s(due));
        }
        Ok(item)
    }

    async fn get_kind<T: DeserializeOwned>(&self, operation: &'static str, kind: &str, id: &str) -> Sql<Option<T>> {
        let table = &self.tables.posts;
        let item = self.get_item(operation, table, key(kind, id), id).await?;
        item.map(|item| read_doc(table, &item)).transpose()
    }

    async fn put_new(&self, operation: &'static str, id: &str, item: Item) -> Sql<Inserted> {
        Ok(inserted(self.put_with_events(operation, &self.tables.posts, id, item, ABSENT, &[], &[]).await?))
    }

    async fn put_at_revision(
        &self,
        operation: &'static str,
        id: &str,
        item: Item,
        expected_revision: u32,
        events: &[Event],
    ) -> Sql<()> {
        let table = &self.tables.posts;
        let condition = attribute_is("revision", expected_revision.to_string());
        if self.put_with_events(operation, table, id, item, condition, &[], events).await? {
            Ok(())
        } else {
            Err(StoreError::stale(operation, table, id, expected_revision))
        }
    }

    /// Pages of an index whose partition is one shard value.
    async fn page_of_shard<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        index: &'static str,
        (shard_attr, shard): (&str, &str),
        (sort_attr, forward): (&str, bool),
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<T>> {
        let table = &self.tables.posts;
        let mut values = HashMap::from([(":shard".to_string(), s(shard))]);
        let mut aliases = names(&[("#s", shard_attr)]);
        let key_condition = match after {
            Some(Position(after)) => {
                values.insert(":after".into(), s(after));
                aliases.insert("#k".into(), sort_attr.to_string());
                if forward { "#s = :shard AND #k > :after" } else { "#s = :shard AND #k < :after" }
            }
            None => "#s = :shard",
        };
        let items = self
            .query_all(
                Query {
                    operation,
                    table,
                    index: Some(index),
                    key_condition,
                    filter: None,
                    values,
                    names: aliases,
                    forward,
                    start: None,
                },
                limit + 1,
                &|_| true,
            )
            .await?;
        let found = items
            .iter()
            .map(|item| Ok((read_doc::<T>(table, item)?, string_attr(item, sort_attr))))
            .collect::<Sql<Vec<_>>>()?;
        Ok(page_of(found, limit))
    }
}

#[async_trait]
impl PostStore for DynamoStore {
    async fn create_post(&self, post: &Post) -> Sql<Inserted> {
        self.put_new("CreatePost", &post.id, self.post_item(post)?).await
    }

    async fn get_post(&self, id: &str) -> Sql<Option<Post>> {
        self.get_kind("GetPost", "POST", id).await
    }

    async fn update_post(&self, post: &Post, expected_revision: u32) -> Sql<()> {
        self.put_at_revision("UpdatePost", &post.id, self.post_item(post)?, expected_revision, &[]).await
    }

    async fn list_posts(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Post>> {
        let shard = ("post_shard", schema::POST_SHARD);
        self.page_of_shard("ListPosts", schema::POSTS_BY_CREATED, shard, ("created_key", false), limit, after).await
    }

    async fn create_series(&self, series: &Series) -> Sql<Inserted> {
        self.put_new("CreateSeries", &series.id, self.series_item(series)?).await
    }

    async fn get_series(&self, id: &str) -> Sql<Option<Series>> {
        self.get_kind("GetSeries", "SERIES", id).await
    }

    async fn update_series(&self, series: &Series, expected_revision: u32) -> Sql<()> {
        self.put_at_revision("UpdateSeries", &series.id, self.series_item(series)?, expected_revision, &[]).await
    }

    async fn active_series(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Series>> {
        let shard = ("active_shard", schema::ACTIVE_SHARD);
        self.page_of_shard("ActiveSeries", schema::SERIES_ACTIVE, shard, ("created_key", true), limit, after).await
    }
}

#[async_trait]
impl OccurrenceStore for DynamoStore {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Sql<Inserted> {
        self.put_new("PutOccurrence", &occurrence.id, self.occurrence_item(occurrence)?).await
    }

    async fn get_occurrence(&self, id: &str) -> Sql<Option<Occurrence>> {
        self.get_kind("GetOccurrence", "OCC", id).await
    }

    async fn update_occurrence(&self, occurrence: &Occurrence, expected_revision: u32, events: &[Event]) -> Sql<()> {
        let item = self.occurrence_item(occurrence)?;
        self.put_at_revision("UpdateOccurrence", &occurrence.id, item, expected_revision, events).await
    }

    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Sql<Vec<Occurrence>> {
        let table = &self.tables.posts;
        let items = self
            .query_all(
                Query {
                    operation: "DueOccurrences",
                    table,
                    index: Some(schema::POSTS_DUE),
                    key_condition: "#s = :shard AND #k < :upto",
                    filter: None,
                    values: HashMap::from([
                        (":shard".to_string(), s(schema::DUE_SHARD)),
                        (":upto".to_string(), s(vocabulary::up_to(now))),
                    ]),
                    names: names(&[("#s", "due_shard"), ("#k", "due_key")]),
                    forward: true,
                    start: None,
                },
                limit,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Occurrence>> {
        vocabulary::check_range(from, to)?;
        let table = &self.tables.posts;
        if to <= from {
            return Ok(Page { items: vec![], next: None });
        }
        let lower = match after {
            Some(Position(p)) => p.clone(),
            None => vocabulary::bound(from),
        };
        let upper = vocabulary::bound(to);
        let want = limit + 1;
        let mut found: Vec<(Occurrence, String)> = Vec::new();
        let mut day = wib_date(from);
        let last = wib_date(to - Days::milliseconds(1));
        while day <= last && found.len() < want {
            let keep = |item: &Item| {
                let k = string_attr(item, "cal_key");
                k > lower || after.is_none() && k == lower
            };
            let items = self
                .query_all(
                    Query {
                        operation: "OccurrencesBetween",
                        table,
                        index: Some(schema::POSTS_CALENDAR),
                        key_condition: "#d = :d AND #k BETWEEN :lo AND :hi",
                        filter: None,
                        values: HashMap::from([
                            (":d".to_string(), s(day.to_string())),
                            (":lo".to_string(), s(&lower)),
                            (":hi".to_string(), s(&upper)),
                        ]),
                        names: names(&[("#d", "cal_day"), ("#k", "cal_key")]),
                        forward: true,
                        start: None,
                    },
                    want - found.len(),
                    &|item| keep(item) && string_attr(item, "cal_key") < upper,
                )
                .await?;
            for item in items {
                found.push((read_doc(table, &item)?, string_attr(&item, "cal_key")));
            }
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        Ok(page_of(found, limit))
    }

    async fn occurrences_of_series(
        &self,
        series_id: &str,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Occurrence>> {
        let shard = ("series_key", series_id);
        self.page_of_shard("OccurrencesOfSeries", schema::POSTS_BY_SERIES, shard, ("slot_key", true), limit, after)
            .await
    }
}
