//! The embedded store: one SQLite file (WAL) holding every table of the suite.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::keys;
use crate::auth::{ApiKey, ApiKeyInfo, KeyStore, Role, hash_key, new_api_key};
use crate::domain::{Case, Event, Mention, MentionKey, Occurrence, OccurrenceState, ReportMeta, ReportPeriod};
use crate::error::StoreError;
use crate::ports::{
    CaseStore, ConfigStore, Count, CountDelta, CounterStore, Inserted, MentionQuery, MentionStore, OccurrenceStore,
    Outbox, Page, Position, ReportStore,
};
use crate::time::{Clock, sortable};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE mentions (
    key TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    ts_key TEXT NOT NULL,
    author_key TEXT NOT NULL,
    category TEXT,
    sentiment TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    expires_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX mentions_by_time ON mentions(ts_key);
CREATE INDEX mentions_by_author ON mentions(author_key, ts_key);
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    due_key TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX cases_open_by_due ON cases(due_key) WHERE due_key IS NOT NULL;
CREATE TABLE occurrences (
    post_id TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    due_key TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (post_id, id)
);
CREATE INDEX occurrences_due ON occurrences(due_key) WHERE due_key IS NOT NULL;
CREATE TABLE reports (
    period TEXT NOT NULL,
    start_key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (period, start_key)
);
CREATE TABLE config (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    created_key TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX outbox_pending ON outbox(created_key);
"#,
    r#"
ALTER TABLE mentions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
CREATE TABLE counters (
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, key)
);
"#,
    r#"
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"#,
    r#"
ALTER TABLE mentions ADD COLUMN language TEXT;
ALTER TABLE mentions ADD COLUMN influence TEXT;
UPDATE mentions SET language = json_extract(doc, '$.classification.language'),
                    influence = json_extract(doc, '$.triage.influence');
ALTER TABLE cases ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_by_status ON cases(status);
"#,
];

/// SQLite adapter for every store port.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
}

type Sql<T> = Result<T, StoreError>;

fn sql_err(operation: &'static str, table: &str, key: Option<&str>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| {
        let retryable = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        StoreError::backend(operation, table, key, retryable, e)
    }
}

fn to_doc<T: Serialize>(table: &str, key: &str, value: &T) -> Sql<String> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(table, key, e))
}

fn from_doc<T: DeserializeOwned>(table: &str, key: &str, doc: &str) -> Sql<T> {
    serde_json::from_str(doc).map_err(|e| StoreError::corrupt(table, key, e))
}

fn insert_events(tx: &rusqlite::Transaction<'_>, events: &[Event]) -> Sql<()> {
    for event in events {
        let doc = to_doc("outbox", &event.id, event)?;
        tx.execute(
            "INSERT INTO outbox (id, created_key, doc) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
            params![event.id, keys::outbox_created_key(event), doc],
        )
        .map_err(sql_err("InsertEvent", "outbox", Some(&event.id)))?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path, clock: Arc<dyn Clock>, retention_days: u32) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(sql_err("Open", &name, None))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sql_err("Open", &name, None))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql_err("Open", &name, None))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql_err("Open", &name, None))?;
        let store = SqliteStore { conn: Arc::new(Mutex::new(conn)), clock, retention_days };
        store.migrate(&name)?;
        Ok(store)
    }

    fn migrate(&self, name: &str) -> Sql<()> {
        let mut conn = self.lock()?;
        let applied: usize = conn
            .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
            .map_err(sql_err("Migrate", name, None))?
            .try_into()
            .unwrap_or(0);
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Invalid(format!(
                "database {name} has schema version {applied}, newer than this pantau ({}); upgrade pantau",
                MIGRATIONS.len()
            )));
        }
        for (version, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction().map_err(sql_err("Migrate", name, None))?;
            tx.execute_batch(migration).map_err(sql_err("Migrate", name, None))?;
            tx.pragma_update(None, "user_version", (version + 1) as i64).map_err(sql_err("Migrate", name, None))?;
            tx.commit().map_err(sql_err("Migrate", name, None))?;
        }
        Ok(())
    }

    fn lock(&self) -> Sql<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| {
            StoreError::backend("Lock", "sqlite", None, false, std::io::Error::other("connection poisoned by a panic"))
        })
    }

    /// Runs blocking SQLite work off the async threads.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, DateTime<Utc>) -> Sql<T> + Send + 'static,
    ) -> Sql<T> {
        let store = self.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let mut conn = store.lock()?;
            work(&mut conn, now)
        })
        .await
        .map_err(|e| StoreError::backend("Run", "sqlite", None, true, e))?
    }

    /// Runs work in one transaction together with its outbox events.
    async fn write<T: Send + 'static>(
        &self,
        events: &[Event],
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Sql<Option<T>> + Send + 'static,
    ) -> Sql<Option<T>> {
        let events = events.to_vec();
        self.run(move |conn, _| {
            let tx = conn.transaction().map_err(sql_err("Begin", "sqlite", None))?;
            let outcome = work(&tx)?;
            // Events go with the change only if the change happened.
            if outcome.is_some() {
                insert_events(&tx, &events)?;
                tx.commit().map_err(sql_err("Commit", "sqlite", None))?;
            }
            Ok(outcome)
        })
        .await
    }
}

/// The columns of one mention row.
struct MentionRow {
    key: String,
    platform: &'static str,
    ts_key: String,
    author_key: String,
    category: Option<&'static str>,
    sentiment: Option<&'static str>,
    topics: String,
    expires_at: i64,
    doc: String,
    revision: u32,
    language: Option<&'static str>,
    influence: Option<&'static str>,
}

impl MentionRow {
    fn params(&self) -> [&dyn rusqlite::ToSql; 12] {
        [
            &self.key,
            &self.platform,
            &self.ts_key,
            &self.author_key,
            &self.category,
            &self.sentiment,
            &self.topics,
            &self.expires_at,
            &self.doc,
            &self.revision,
            &self.language,
            &self.influence,
        ]
    }
}

impl SqliteStore {
    fn mention_row(&self, mention: &Mention) -> Sql<MentionRow> {
        let key = mention.key.to_string();
        let class = mention.classification.as_ref();
        let topics = serde_json::to_string(&class.map(|c| c.topics.clone()).unwrap_or_default())
            .map_err(|e| StoreError::corrupt("mentions", &key, e))?;
        Ok(MentionRow {
            doc: to_doc("mentions", &key, mention)?,
            key,
            platform: mention.platform.as_str(),
            ts_key: keys::mention_ts_key(mention),
            author_key: mention.author_key(),
            category: class.map(|c| c.category.as_str()),
            sentiment: class.map(|c| c.sentiment.as_str()),
            topics,
            expires_at: keys::expires_at(mention.received_at, self.retention_days),
            revision: mention.revision,
            language: class.map(|c| c.language.as_str()),
            influence: mention.triage.as_ref().map(|t| t.influence.as_str()),
        })
    }
}

fn mentions_from_rows(rows: Vec<(String, String, String)>) -> Sql<Vec<(Mention, String)>> {
    rows.into_iter().map(|(key, ts_key, doc)| Ok((from_doc::<Mention>("mentions", &key, &doc)?, ts_key))).collect()
}

#[async_trait]
impl MentionStore for SqliteStore {
    async fn insert_mention(&self, mention: &Mention, events: &[Event]) -> Sql<Inserted> {
        let row = self.mention_row(mention)?;
        let outcome = self
            .write(events, move |tx| {
                let n = tx
                    .execute(
                        "INSERT INTO mentions (key, platform, ts_key, author_key, category, sentiment, topics, expires_at, doc, revision, language, influence)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(key) DO NOTHING",
                        row.params(),
                    )
                    .map_err(sql_err("InsertMention", "mentions", Some(&row.key)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if outcome.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn replace_mention(
        &self,
        mention: &Mention,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let row = self.mention_row(mention)?;
        let key = row.key.clone();
        let counts = counts.to_vec();
        let changed = self
            .write(events, move |tx| {
                let n = tx
                    .execute(
                        "UPDATE mentions SET platform = ?2, ts_key = ?3, author_key = ?4, category = ?5, sentiment = ?6,
                         topics = ?7, expires_at = ?8, doc = ?9, revision = ?10, language = ?11, influence = ?12
                         WHERE key = ?1 AND revision = ?13",
                        rusqlite::params_from_iter(row.params().into_iter().chain([&expected_revision as &dyn rusqlite::ToSql])),
                    )
                    .map_err(sql_err("ReplaceMention", "mentions", Some(&row.key)))?;
                if n != 1 {
                    return Ok(None);
                }
                add_counts(tx, &counts)?;
                Ok(Some(()))
            })
            .await?;
        changed.ok_or_else(|| StoreError::stale("ReplaceMention", "mentions", &key, expected_revision))
    }

    async fn delete_mention(
        &self,
        key: &MentionKey,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Sql<()> {
        let key = key.to_string();
        let counts = counts.to_vec();
        let k = key.clone();
        let deleted = self
            .write(events, move |tx| {
                let n = tx
                    .execute("DELETE FROM mentions WHERE key = ?1 AND revision = ?2", params![k, expected_revision])
                    .map_err(sql_err("DeleteMention", "mentions", Some(&k)))?;
                if n != 1 {
                    return Ok(None);
                }
                add_counts(tx, &counts)?;
                Ok(Some(()))
            })
            .await?;
        deleted.ok_or_else(|| StoreError::stale("DeleteMention", "mentions", &key, expected_revision))
    }

    async fn get_mention(&self, key: &MentionKey) -> Sql<Option<Mention>> {
        let key = key.to_string();
        self.run(move |conn, now| {
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
        let query = query.clone();
        self.run(move |conn, now| {
            let upper = match &query.after {
                Some(Position(p)) if *p < keys::bound(query.to) => p.clone(),
                _ => keys::bound(query.to),
            };
            let mut sql = String::from(
                "SELECT key, ts_key, doc FROM mentions WHERE ts_key >= ?1 AND ts_key < ?2 AND expires_at > ?3",
            );
            let mut args: Vec<rusqlite::types::Value> =
                vec![keys::bound(query.from).into(), upper.into(), now.timestamp().into()];
            for (column, value) in [
                ("platform", query.platform.map(|p| p.as_str())),
                ("category", query.category.map(|c| c.as_str())),
                ("sentiment", query.sentiment.map(|s| s.as_str())),
                ("language", query.language.map(|l| l.as_str())),
                ("influence", query.influence.map(|i| i.as_str())),
            ] {
                if let Some(value) = value {
                    args.push(value.to_string().into());
                    sql.push_str(&format!(" AND {column} = ?{}", args.len()));
                }
            }
            if let Some(status) = query.case_status {
                args.push(status.as_str().to_string().into());
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM cases WHERE cases.id = mentions.key AND cases.status = ?{})",
                    args.len()
                ));
            }
            if let Some(topic) = &query.topic {
                args.push(topic.clone().into());
                sql.push_str(&format!(" AND EXISTS (SELECT 1 FROM json_each(topics) WHERE value = ?{})", args.len()));
            }
            args.push(((query.limit + 1) as i64).into());
            sql.push_str(&format!(" ORDER BY ts_key DESC LIMIT ?{}", args.len()));
            let mut stmt = conn.prepare(&sql).map_err(sql_err("ListMentions", "mentions", None))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(sql_err("ListMentions", "mentions", None))?;
            Ok(page_of(mentions_from_rows(rows)?, query.limit))
        })
        .await
    }

    async fn mentions_by_author(&self, author_key: &str, limit: usize, after: Option<&Position>) -> Sql<Page<Mention>> {
        let author_key = author_key.to_string();
        // `~` sorts after every character of a sort key: no cursor means from the newest.
        let before = after.map_or_else(|| "~".to_string(), |p| p.0.clone());
        self.run(move |conn, now| {
            let mut stmt = conn
                .prepare(
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

/// Applies counter changes inside a transaction.
fn add_counts(tx: &rusqlite::Transaction<'_>, counts: &[CountDelta]) -> Sql<()> {
    for c in counts {
        tx.execute(
            "INSERT INTO counters (day, key, n) VALUES (?1, ?2, ?3) ON CONFLICT(day, key) DO UPDATE SET n = n + excluded.n",
            params![c.day.to_string(), c.key, c.delta],
        )
        .map_err(sql_err("Count", "counters", Some(&c.key)))?;
    }
    Ok(())
}

/// Cuts `limit + 1` sorted items to a page; the extra item only proves there is more.
pub(crate) fn page_of<T>(mut items: Vec<(T, String)>, limit: usize) -> Page<T> {
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|(_, sort)| Position(sort.clone()))
    } else {
        None
    };
    Page { items: items.into_iter().map(|(item, _)| item).collect(), next }
}

/// API keys of the local deployment (`pantau keys`): only their SHA-256 is stored.
impl SqliteStore {
    /// Issues a key with a role; returns its record and the key itself (shown once).
    pub async fn create_api_key(&self, role: Role, label: Option<String>) -> Sql<(ApiKeyInfo, String)> {
        let key = new_api_key();
        let info = ApiKeyInfo {
            id: hex::encode(rand::random::<[u8; 6]>()),
            role,
            label,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        let (row, hash) = (info.clone(), hex::encode(hash_key(&key)));
        self.write(&[], move |tx| {
            tx.execute(
                "INSERT INTO api_keys (id, hash, role, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.id, hash, row.role.as_str(), row.label, sortable(row.created_at)],
            )
            .map_err(sql_err("CreateApiKey", "api_keys", Some(&row.id)))?;
            Ok(Some(()))
        })
        .await?;
        Ok((info, key))
    }

    /// Every key issued, newest first (revoked ones included, marked).
    pub async fn list_api_keys(&self) -> Sql<Vec<ApiKeyInfo>> {
        self.run(|conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, role, label, created_at, revoked_at FROM api_keys ORDER BY created_at DESC, id")
                .map_err(sql_err("ListApiKeys", "api_keys", None))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListApiKeys", "api_keys", None))?;
            rows.into_iter()
                .map(|(id, role, label, created, revoked)| {
                    let time = |t: &str| {
                        chrono::DateTime::parse_from_rfc3339(t)
                            .map(|t| t.with_timezone(&Utc))
                            .map_err(|e| StoreError::corrupt("api_keys", &id, e))
                    };
                    Ok(ApiKeyInfo {
                        role: role.parse().map_err(|e| StoreError::corrupt("api_keys", &id, e))?,
                        label,
                        created_at: time(&created)?,
                        revoked_at: revoked.as_deref().map(time).transpose()?,
                        id,
                    })
                })
                .collect()
        })
        .await
    }

    /// Deletes mentions past retention (raw payloads included); DynamoDB's TTL does the same on
    /// AWS. Reads already treat them as absent; this frees the space and the personal data.
    /// Returns how many went.
    pub async fn purge_expired(&self) -> Sql<usize> {
        self.run(|conn, now| {
            conn.execute("DELETE FROM mentions WHERE expires_at <= ?1", params![now.timestamp()]).map_err(sql_err(
                "PurgeExpired",
                "mentions",
                None,
            ))
        })
        .await
    }

    /// Revokes a key; `false` when no unrevoked key has that id.
    pub async fn revoke_api_key(&self, id: &str) -> Sql<bool> {
        let (id, at) = (id.to_string(), sortable(self.clock.now()));
        let revoked = self
            .write(&[], move |tx| {
                let n = tx
                    .execute(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                        params![id, at],
                    )
                    .map_err(sql_err("RevokeApiKey", "api_keys", Some(&id)))?;
                Ok(Some(n == 1))
            })
            .await?;
        Ok(revoked == Some(true))
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn find_key(&self, hash: &[u8; 32]) -> Sql<Option<ApiKey>> {
        let hash = *hash;
        self.run(move |conn, _| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT id, role FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL",
                    params![hex::encode(hash)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err("FindApiKey", "api_keys", None))?;
            row.map(|(id, role)| {
                let role = role.parse().map_err(|e| StoreError::corrupt("api_keys", &id, e))?;
                Ok(ApiKey { id, hash, role })
            })
            .transpose()
        })
        .await
    }
}

#[async_trait]
impl CounterStore for SqliteStore {
    async fn counts(&self, from: NaiveDate, to: NaiveDate) -> Sql<Vec<Count>> {
        self.run(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT day, key, n FROM counters WHERE day BETWEEN ?1 AND ?2 ORDER BY day, key")
                .map_err(sql_err("Counts", "counters", None))?;
            let rows = stmt
                .query_map(params![from.to_string(), to.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("Counts", "counters", None))?;
            rows.into_iter()
                .map(|(day, key, n)| {
                    let day = day.parse().map_err(|e| StoreError::corrupt("counters", &key, e))?;
                    Ok(Count { day, key, n })
                })
                .collect()
        })
        .await
    }
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn create_case(&self, case: &Case, events: &[Event]) -> Sql<Inserted> {
        let doc = to_doc("cases", &case.id, case)?;
        let (id, status, due, revision) = (case.id.clone(), case.status.as_str(), open_due_key(case), case.revision);
        let outcome = self
            .write(events, move |tx| {
                let n = tx
                    .execute(
                        "INSERT INTO cases (id, status, due_key, doc, revision) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO NOTHING",
                        params![id, status, due, doc, revision],
                    )
                    .map_err(sql_err("CreateCase", "cases", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if outcome.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_case(&self, id: &str) -> Sql<Option<Case>> {
        Ok(self.get_cases(&[id.to_string()]).await?.pop())
    }

    async fn get_cases(&self, ids: &[String]) -> Sql<Vec<Case>> {
        let ids = ids.to_vec();
        self.run(move |conn, _| {
            let mut stmt =
                conn.prepare("SELECT doc FROM cases WHERE id = ?1").map_err(sql_err("GetCases", "cases", None))?;
            let mut found = Vec::new();
            for id in &ids {
                let doc: Option<String> = stmt.query_row(params![id], |r| r.get(0)).optional().map_err(sql_err(
                    "GetCase",
                    "cases",
                    Some(id),
                ))?;
                if let Some(doc) = doc {
                    found.push(from_doc("cases", id, &doc)?);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn update_case(&self, case: &Case, expected_revision: u32, events: &[Event]) -> Sql<()> {
        let doc = to_doc("cases", &case.id, case)?;
        let (id, status, due, revision) = (case.id.clone(), case.status.as_str(), open_due_key(case), case.revision);
        let changed = self
            .write(events, move |tx| {
                let n = tx
                    .execute(
                        "UPDATE cases SET status = ?2, due_key = ?3, doc = ?4, revision = ?5 WHERE id = ?1 AND revision = ?6",
                        params![id, status, due, doc, revision, expected_revision],
                    )
                    .map_err(sql_err("UpdateCase", "cases", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        changed.ok_or_else(|| StoreError::stale("UpdateCase", "cases", &case.id, expected_revision))
    }

    async fn delete_case(&self, id: &str) -> Sql<()> {
        let id = id.to_string();
        self.write(&[], move |tx| {
            tx.execute("DELETE FROM cases WHERE id = ?1", params![id]).map_err(sql_err(
                "DeleteCase",
                "cases",
                Some(&id),
            ))?;
            Ok(Some(()))
        })
        .await?;
        Ok(())
    }

    async fn open_cases(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Case>> {
        let after = after.map(|p| p.0.clone()).unwrap_or_default();
        self.run(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, due_key, doc FROM cases WHERE due_key IS NOT NULL AND due_key > ?1 ORDER BY due_key LIMIT ?2")
                .map_err(sql_err("OpenCases", "cases", None))?;
            let rows = stmt
                .query_map(params![after, (limit + 1) as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(sql_err("OpenCases", "cases", None))?;
            let items = rows
                .into_iter()
                .map(|(id, due, doc)| Ok((from_doc::<Case>("cases", &id, &doc)?, due)))
                .collect::<Sql<Vec<_>>>()?;
            Ok(page_of(items, limit))
        })
        .await
    }
}

/// The inbox sort key of an open case; closed cases leave the inbox.
fn open_due_key(case: &Case) -> Option<String> {
    case.status.is_open().then(|| keys::case_due_key(case))
}

fn occurrence_row(o: &Occurrence) -> Sql<(String, String, &'static str, Option<String>, String)> {
    let due = (o.state == OccurrenceState::Scheduled).then(|| keys::occurrence_due_key(o));
    Ok((o.post_id.clone(), o.id.clone(), o.state.as_str(), due, to_doc("occurrences", &o.id, o)?))
}

#[async_trait]
impl OccurrenceStore for SqliteStore {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Sql<Inserted> {
        let row = occurrence_row(occurrence)?;
        let outcome = self
            .write(&[], move |tx| {
                let n = tx
                    .execute(
                        "INSERT INTO occurrences (post_id, id, state, due_key, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT(post_id, id) DO NOTHING",
                        params![row.0, row.1, row.2, row.3, row.4],
                    )
                    .map_err(sql_err("PutOccurrence", "occurrences", Some(&row.1)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if outcome.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_occurrence(&self, post_id: &str, id: &str) -> Sql<Option<Occurrence>> {
        let (post_id, id) = (post_id.to_string(), id.to_string());
        self.run(move |conn, _| {
            let doc: Option<String> = conn
                .query_row("SELECT doc FROM occurrences WHERE post_id = ?1 AND id = ?2", params![post_id, id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql_err("GetOccurrence", "occurrences", Some(&id)))?;
            doc.map(|d| from_doc("occurrences", &id, &d)).transpose()
        })
        .await
    }

    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Sql<Vec<Occurrence>> {
        self.run(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, doc FROM occurrences WHERE due_key IS NOT NULL AND due_key < ?1 ORDER BY due_key LIMIT ?2")
                .map_err(sql_err("DueOccurrences", "occurrences", None))?;
            let rows = stmt
                .query_map(params![keys::up_to(now), limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("DueOccurrences", "occurrences", None))?;
            rows.iter().map(|(id, doc)| from_doc("occurrences", id, doc)).collect()
        })
        .await
    }

    async fn move_occurrence(&self, moved: &Occurrence, from: OccurrenceState, events: &[Event]) -> Sql<()> {
        let row = occurrence_row(moved)?;
        let changed = self
            .write(events, move |tx| {
                let n = tx
                    .execute(
                        "UPDATE occurrences SET state = ?3, due_key = ?4, doc = ?5 WHERE post_id = ?1 AND id = ?2 AND state = ?6",
                        params![row.0, row.1, row.2, row.3, row.4, from.as_str()],
                    )
                    .map_err(sql_err("MoveOccurrence", "occurrences", Some(&row.1)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        changed.ok_or_else(|| {
            StoreError::conflict(
                "MoveOccurrence",
                "occurrences",
                &moved.id,
                format!("occurrence is missing or no longer {from}"),
            )
        })
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn put_report(&self, report: &ReportMeta) -> Sql<()> {
        let doc = to_doc("reports", &report.id, report)?;
        let (period, start) = (report.period.as_str(), report.from.to_string());
        self.write(&[], move |tx| {
            tx.execute(
                "INSERT INTO reports (period, start_key, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT(period, start_key) DO UPDATE SET doc = excluded.doc",
                params![period, start, doc],
            )
            .map_err(sql_err("PutReport", "reports", Some(&start)))?;
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }

    async fn list_reports(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Vec<ReportMeta>> {
        self.run(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT start_key, doc FROM reports WHERE period = ?1 AND start_key BETWEEN ?2 AND ?3 ORDER BY start_key")
                .map_err(sql_err("ListReports", "reports", None))?;
            let rows = stmt
                .query_map(params![period.as_str(), from.to_string(), to.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListReports", "reports", None))?;
            rows.iter().map(|(start, doc)| from_doc("reports", start, doc)).collect()
        })
        .await
    }
}

#[async_trait]
impl ConfigStore for SqliteStore {
    async fn get_config(&self, kind: &str, id: &str) -> Sql<Option<Value>> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.run(move |conn, _| {
            let doc: Option<String> = conn
                .query_row("SELECT doc FROM config WHERE kind = ?1 AND id = ?2", params![kind, id], |r| r.get(0))
                .optional()
                .map_err(sql_err("GetConfig", "config", Some(&id)))?;
            doc.map(|d| from_doc("config", &id, &d)).transpose()
        })
        .await
    }

    async fn put_config(&self, kind: &str, id: &str, value: &Value) -> Sql<()> {
        let (kind, id, doc) = (kind.to_string(), id.to_string(), value.to_string());
        self.write(&[], move |tx| {
            tx.execute(
                "INSERT INTO config (kind, id, doc) VALUES (?1, ?2, ?3) ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc",
                params![kind, id, doc],
            )
            .map_err(sql_err("PutConfig", "config", Some(&id)))?;
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }

    async fn swap_config(
        &self,
        kind: &str,
        id: &str,
        expected: Option<&Value>,
        value: &Value,
        events: &[Event],
    ) -> Sql<()> {
        let (kind, id, doc, old) =
            (kind.to_string(), id.to_string(), value.to_string(), expected.map(Value::to_string));
        let display = format!("{kind}/{id}");
        let swapped = self
            .write(events, move |tx| {
                let n = match &old {
                    None => tx.execute(
                        "INSERT INTO config (kind, id, doc) VALUES (?1, ?2, ?3) ON CONFLICT(kind, id) DO NOTHING",
                        params![kind, id, doc],
                    ),
                    Some(old) => tx.execute(
                        "UPDATE config SET doc = ?3 WHERE kind = ?1 AND id = ?2 AND doc = ?4",
                        params![kind, id, doc, old],
                    ),
                }
                .map_err(sql_err("SwapConfig", "config", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        swapped.ok_or_else(|| StoreError::conflict("SwapConfig", "config", &display, "the document changed meanwhile"))
    }

    async fn delete_config(&self, kind: &str, id: &str) -> Sql<()> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.write(&[], move |tx| {
            tx.execute("DELETE FROM config WHERE kind = ?1 AND id = ?2", params![kind, id]).map_err(sql_err(
                "DeleteConfig",
                "config",
                Some(&id),
            ))?;
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }

    async fn list_config(&self, kind: &str) -> Sql<Vec<(String, Value)>> {
        let kind = kind.to_string();
        self.run(move |conn, _| {
            let mut stmt = conn.prepare("SELECT id, doc FROM config WHERE kind = ?1 ORDER BY id").map_err(sql_err(
                "ListConfig",
                "config",
                Some(&kind),
            ))?;
            let rows = stmt
                .query_map(params![kind], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListConfig", "config", Some(&kind)))?;
            rows.into_iter().map(|(id, doc)| Ok((id.clone(), from_doc("config", &id, &doc)?))).collect()
        })
        .await
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn pending_events(&self, created_before: DateTime<Utc>, limit: usize) -> Sql<Vec<Event>> {
        self.run(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, doc FROM outbox WHERE created_key < ?1 ORDER BY created_key LIMIT ?2")
                .map_err(sql_err("PendingEvents", "outbox", None))?;
            let rows = stmt
                .query_map(params![keys::up_to(created_before), limit as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("PendingEvents", "outbox", None))?;
            rows.iter().map(|(id, doc)| from_doc("outbox", id, doc)).collect()
        })
        .await
    }

    async fn mark_published(&self, ids: &[String]) -> Sql<()> {
        let ids = ids.to_vec();
        self.write(&[], move |tx| {
            let mut stmt =
                tx.prepare("DELETE FROM outbox WHERE id = ?1").map_err(sql_err("MarkPublished", "outbox", None))?;
            for id in &ids {
                stmt.execute(params![id]).map_err(sql_err("MarkPublished", "outbox", Some(id)))?;
            }
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }
}
