//! Mentions: one row each with the indexed projection as columns, topics in a table of their
//! own, so every documented filter reads only its own rows in time order.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::counters::add_counts;
use super::{Sql, SqliteStore, from_doc, sql_err, to_doc};
use crate::adapters::vocabulary::{self, MentionIndex, page_of};
use crate::domain::{Event, Mention, MentionKey};
use crate::error::StoreError;
use crate::ports::{CountDelta, Inserted, MentionQuery, MentionReader, MentionWriter, Page, Position, Replacement};

/// A mention's columns: its indexed projection and the document.
struct MentionRow {
    index: MentionIndex,
    topics: String,
    doc: String,
}

impl MentionRow {
    fn params(&self) -> [&dyn rusqlite::ToSql; 12] {
        let i = &self.index;
        [
            &i.key,
            &i.platform,
            &i.ts_key,
            &i.author,
            &i.category,
            &i.sentiment,
            &self.topics,
            &i.expires_at,
            &self.doc,
            &i.revision,
            &i.language,
            &i.influence,
        ]
    }

    /// Writes the topic rows of this mention, replacing any earlier ones.
    fn write_topics(&self, tx: &rusqlite::Transaction<'_>) -> Sql<()> {
        let i = &self.index;
        tx.execute("DELETE FROM mention_topics WHERE key = ?1", params![i.key]).map_err(sql_err(
            "WriteTopics",
            "mention_topics",
            Some(&i.key),
        ))?;
        for topic in &i.topics {
            tx.execute(
                "INSERT OR IGNORE INTO mention_topics (topic, ts_key, key) VALUES (?1, ?2, ?3)",
                params![topic, i.ts_key, i.key],
            )
            .map_err(sql_err("WriteTopics", "mention_topics", Some(&i.key)))?;
        }
        Ok(())
    }
}

impl SqliteStore {
    fn mention_row(&self, mention: &Mention) -> Sql<MentionRow> {
        let index = MentionIndex::of(mention, self.retention_days);
        let topics =
            serde_json::to_string(&index.topics).map_err(|e| StoreError::corrupt("mentions", &index.key, e))?;
        Ok(MentionRow { doc: to_doc("mentions", &index.key, mention)?, topics, index })
    }

    /// Deletes mentions past retention (raw payloads included); DynamoDB's TTL does the same on
    /// AWS. Reads already treat them as absent; this frees the space and the personal data.
    /// Returns how many went.
    pub async fn purge_expired(&self) -> Sql<usize> {
        let purged = self
            .write(&[], |tx, now| {
                tx.execute(
                    "DELETE FROM mention_topics WHERE key IN (SELECT key FROM mentions WHERE expires_at <= ?1)",
                    params![now.timestamp()],
                )
                .map_err(sql_err("PurgeExpired", "mention_topics", None))?;
                let n = tx
                    .execute("DELETE FROM mentions WHERE expires_at <= ?1", params![now.timestamp()])
                    .map_err(sql_err("PurgeExpired", "mentions", None))?;
                Ok(Some(n))
            })
            .await?;
        Ok(purged.unwrap_or(0))
    }
}

fn mentions_from_rows(rows: Vec<(String, String, String)>) -> Sql<Vec<(Mention, String)>> {
    rows.into_iter().map(|(key, ts_key, doc)| Ok((from_doc::<Mention>("mentions", &key, &doc)?, ts_key))).collect()
}

#[async_trait]
impl MentionWriter for SqliteStore {
    async fn insert_mention(&self, mention: &Mention, events: &[Event]) -> Sql<Inserted> {
        let row = self.mention_row(mention)?;
        vocabulary::check_transaction("InsertMention", &row.index.key, 1, &[], events)?;
        let outcome = self
            .write(events, move |tx, _| {
                let n = tx
                    .execute(
                        "INSERT INTO mentions (key, platform, ts_key, author_key, category, sentiment, topics, expires_at, doc, revision, language, influence)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(key) DO NOTHING",
                        row.params(),
                    )
                    .map_err(sql_err("InsertMention", "mentions", Some(&row.index.key)))?;
                if n != 1 {
                    return Ok(None);
                }
                row.write_topics(tx)?;
                Ok(Some(()))
            })
            .await?;
        Ok(if outcome.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn replace_mentions(
        &self,
        replacements: &[Replacement<'_>],
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let rows: Vec<(MentionRow, u32)> =
            replacements.iter().map(|r| Ok((self.mention_row(r.mention)?, r.expected_revision))).collect::<Sql<_>>()?;
        let Some((first, _)) = rows.first() else { return Ok(()) };
        vocabulary::check_transaction("ReplaceMention", &first.index.key, rows.len(), counts, events)?;
        let counts = counts.to_vec();
        self.write(events, move |tx, _| {
            for (row, expected_revision) in &rows {
                let n = tx
                    .execute(
                        "UPDATE mentions SET platform = ?2, ts_key = ?3, author_key = ?4, category = ?5, sentiment = ?6,
                         topics = ?7, expires_at = ?8, doc = ?9, revision = ?10, language = ?11, influence = ?12
                         WHERE key = ?1 AND revision = ?13",
                        rusqlite::params_from_iter(row.params().into_iter().chain([expected_revision as &dyn rusqlite::ToSql])),
                    )
                    .map_err(sql_err("ReplaceMention", "mentions", Some(&row.index.key)))?;
                // Any stale mention rolls the whole write back.
                if n != 1 {
                    return Err(StoreError::stale("ReplaceMention", "mentions", &row.index.key, *expected_revision));
                }
                row.write_topics(tx)?;
            }
            add_counts(tx, &counts)?;
            Ok(Some(()))
        })
        .await?;
        Ok(())
    }

    async fn delete_mention(
        &self,
        key: &MentionKey,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let key = key.to_string();
        vocabulary::check_transaction("DeleteMention", &key, 1, counts, events)?;
        let counts = counts.to_vec();
        let k = key.clone();
        let deleted = self
            .write(events, move |tx, _| {
                let n = tx
                    .execute("DELETE FROM mentions WHERE key = ?1 AND revision = ?2", params![k, expected_revision])
                    .map_err(sql_err("DeleteMention", "mentions", Some(&k)))?;
                if n != 1 {
                    return Ok(None);
                }
                tx.execute("DELETE FROM mention_topics WHERE key = ?1", params![k]).map_err(sql_err(
                    "DeleteMention",
                    "mention_topics",
                    Some(&k),
                ))?;
                add_counts(tx, &counts)?;
                Ok(Some(()))
            })
            .await?;
        deleted.ok_or_else(|| StoreError::stale("DeleteMention", "mentions", &key, expected_revision))
    }
}

/// The SQL of a listing: the table that drives it (topics, cases or mentions, whichever index
/// serves the query), the label filters and the range, newest first.
fn listing_sql(query: &MentionQuery) -> (String, Vec<rusqlite::types::Value>) {
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let arg = |v: rusqlite::types::Value, args: &mut Vec<rusqlite::types::Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    // CROSS JOIN keeps the driving table outermost, so its index gives the order.
    let (from, sort, mut conditions) = if let Some(topic) = &query.topic {
        let t = arg(topic.clone().into(), &mut args);
        ("mention_topics d CROSS JOIN mentions m ON m.key = d.key", "d.ts_key", vec![format!("d.topic = {t}")])
    } else if let Some(status) = query.case_status {
        let s = arg(status.as_str().to_string().into(), &mut args);
        ("cases d CROSS JOIN mentions m ON m.key = d.id", "d.ts_key", vec![format!("d.status = {s}")])
    } else {
        ("mentions m", "m.ts_key", Vec::new())
    };
    if let (Some(_), Some(status)) = (&query.topic, query.case_status) {
        let s = arg(status.as_str().to_string().into(), &mut args);
        conditions.push(format!("EXISTS (SELECT 1 FROM cases c WHERE c.id = m.key AND c.status = {s})"));
    }
    for (column, value) in vocabulary::label_filters(query) {
        let v = arg(value.to_string().into(), &mut args);
        conditions.push(format!("m.{column} = {v}"));
    }
    let sql = format!(
        "SELECT m.key, m.ts_key, m.doc FROM {from} WHERE {sort} >= ?{lo} AND {sort} < ?{hi} AND m.expires_at > ?{now}{filters}
         ORDER BY {sort} DESC LIMIT ?{limit}",
        lo = args.len() + 1,
        hi = args.len() + 2,
        now = args.len() + 3,
        limit = args.len() + 4,
        filters = conditions.iter().map(|c| format!(" AND {c}")).collect::<String>(),
    );
    (sql, args)
}

#[async_trait]
impl MentionReader for SqliteStore {
    async fn get_mention(&self, key: &MentionKey) -> Sql<Option<Mention>> {
        let key = key.to_string();
        self.read(move |conn, now| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM mentions WHERE key = ?1 AND expires_at > ?2",
                    params![key, now.timestamp()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err("GetMention", "mentions", Some(&key)))?;
            doc.map(|d| from_doc("mentions", &key, &d)).transpose()
        })
        .await
    }

    async fn list_mentions(&self, query: &MentionQuery) -> Sql<Page<Mention>> {
        vocabulary::check_range(query.from, query.to)?;
        let Some((lower, upper)) = vocabulary::listing_range(query) else {
            return Ok(Page { items: vec![], next: None });
        };
        let limit = query.limit;
        let (sql, mut args) = listing_sql(query);
        self.read(move |conn, now| {
            args.extend([lower.into(), upper.into(), now.timestamp().into(), ((limit + 1) as i64).into()]);
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_err("ListMentions", "mentions", None))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(sql_err("ListMentions", "mentions", None))?;
            Ok(page_of(mentions_from_rows(rows)?, limit))
        })
        .await
    }

    async fn mentions_by_author(&self, author_key: &str, limit: usize, after: Option<&Position>) -> Sql<Page<Mention>> {
        let author_key = author_key.to_string();
        // `~` sorts after every character of a sort key: no cursor means from the newest.
        let before = after.map_or_else(|| "~".to_string(), |p| p.0.clone());
        self.read(move |conn, now| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT key, ts_key, doc FROM mentions WHERE author_key = ?1 AND expires_at > ?2 AND ts_key < ?3
                     ORDER BY ts_key DESC LIMIT ?4",
                )
                .map_err(sql_err("MentionsByAuthor", "mentions", Some(&author_key)))?;
            let rows = stmt
                .query_map(params![author_key, now.timestamp(), before, (limit + 1) as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(sql_err("MentionsByAuthor", "mentions", Some(&author_key)))?;
            Ok(page_of(mentions_from_rows(rows)?, limit))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseStatus, Category, Influence, Language, Platform, Sentiment};

    /// Every documented filter is read through an index that holds its value, never by walking
    /// the whole time range.
    #[test]
    fn every_listing_filter_is_served_by_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open(&dir.path().join("p.db"), std::sync::Arc::new(crate::time::SystemClock), 365).unwrap();
        let base = MentionQuery::between(chrono::Utc::now() - chrono::Duration::days(300), chrono::Utc::now(), 50);
        let cases: Vec<(MentionQuery, &str)> = vec![
            (MentionQuery { platform: Some(Platform::X), ..base.clone() }, "mentions_by_platform"),
            (MentionQuery { category: Some(Category::Hater), ..base.clone() }, "mentions_by_category"),
            (MentionQuery { sentiment: Some(Sentiment::Negatif), ..base.clone() }, "mentions_by_sentiment"),
            (MentionQuery { language: Some(Language::Javanese), ..base.clone() }, "mentions_by_language"),
            (MentionQuery { influence: Some(Influence::Besar), ..base.clone() }, "mentions_by_influence"),
            (MentionQuery { topic: Some("banjir".into()), ..base.clone() }, "mention_topics"),
            (MentionQuery { case_status: Some(CaseStatus::Baru), ..base.clone() }, "cases_by_status"),
        ];
        let conn = store.writer.lock().unwrap();
        for (query, index) in cases {
            let (sql, mut args) = listing_sql(&query);
            args.extend(["a".to_string().into(), "b".to_string().into(), 0i64.into(), 51i64.into()]);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let first = &plan[0];
            assert!(
                first.contains(index) || (index == "mention_topics" && first.contains("d USING PRIMARY KEY")),
                "{query:?}: {plan:?}"
            );
            assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{index}: sorted without an index: {plan:?}");
        }
    }
}
