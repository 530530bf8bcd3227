//! The embedded store: one SQLite file (WAL) holding every table of the suite. One writer
//! connection takes every change; a few reader connections serve queries beside it, so a
//! heavy listing never waits on (or holds up) ingestion. One file per port.

mod api_keys;
mod cases;
mod counters;
mod documents;
mod mentions;
mod outbox;
mod posts;
mod reports;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::vocabulary;
use crate::domain::Event;
use crate::error::StoreError;
use crate::time::Clock;

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
    // An author without an id is no longer pooled under a made-up `unknown` id; every
    // documented listing filter has an index that serves it in time order (a rare value over
    // a year reads only its own rows), topics get a table of their own, cases carry their
    // mention's sort key, and documents may expire.
    r#"
CREATE TABLE mentions_v6 (
    key TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    ts_key TEXT NOT NULL,
    author_key TEXT,
    category TEXT,
    sentiment TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    expires_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    influence TEXT
);
INSERT INTO mentions_v6 (key, platform, ts_key, author_key, category, sentiment, topics, expires_at, doc, revision, language, influence)
    SELECT key, platform, ts_key,
           CASE WHEN author_key LIKE '%#unknown' THEN NULL ELSE author_key END,
           category, sentiment, topics, expires_at,
           CASE WHEN author_key LIKE '%#unknown' THEN json_set(doc, '$.author.id', json('null')) ELSE doc END,
           revision, language, influence
    FROM mentions;
DROP TABLE mentions;
ALTER TABLE mentions_v6 RENAME TO mentions;
CREATE INDEX mentions_by_time ON mentions(ts_key);
CREATE INDEX mentions_by_author ON mentions(author_key, ts_key) WHERE author_key IS NOT NULL;
CREATE INDEX mentions_by_platform ON mentions(platform, ts_key);
CREATE INDEX mentions_by_category ON mentions(category, ts_key);
CREATE INDEX mentions_by_sentiment ON mentions(sentiment, ts_key);
CREATE INDEX mentions_by_language ON mentions(language, ts_key);
CREATE INDEX mentions_by_influence ON mentions(influence, ts_key);
CREATE TABLE mention_topics (
    topic TEXT NOT NULL,
    ts_key TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (topic, ts_key)
) WITHOUT ROWID;
CREATE INDEX mention_topics_by_mention ON mention_topics(key);
INSERT OR IGNORE INTO mention_topics (topic, ts_key, key)
    SELECT json_each.value, mentions.ts_key, mentions.key FROM mentions, json_each(mentions.topics);
ALTER TABLE cases ADD COLUMN ts_key TEXT;
UPDATE cases SET ts_key = (SELECT mentions.ts_key FROM mentions WHERE mentions.key = cases.id);
DROP INDEX cases_by_status;
CREATE INDEX cases_by_status ON cases(status, ts_key);
ALTER TABLE config ADD COLUMN expires_at INTEGER;
CREATE INDEX config_expiry ON config(expires_at) WHERE expires_at IS NOT NULL;
"#,
    // Publishing: posts, series and occurrences with the keys of their indexes (the table of
    // occurrences of migration 1 never held a row: nothing wrote it before publishing).
    r#"
CREATE TABLE posts (
    id TEXT PRIMARY KEY,
    created_key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX posts_by_created ON posts(created_key);
CREATE TABLE series (
    id TEXT PRIMARY KEY,
    active INTEGER NOT NULL,
    created_key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX series_active ON series(created_key) WHERE active = 1;
DROP TABLE occurrences;
CREATE TABLE occurrences (
    id TEXT PRIMARY KEY,
    due_key TEXT,
    cal_key TEXT NOT NULL,
    series_id TEXT,
    slot_key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX occurrences_due ON occurrences(due_key) WHERE due_key IS NOT NULL;
CREATE INDEX occurrences_calendar ON occurrences(cal_key);
CREATE INDEX occurrences_by_series ON occurrences(series_id, slot_key) WHERE series_id IS NOT NULL;
"#,
];

/// Reader connections beside the one writer (WAL lets them read while it writes).
const READERS: usize = 4;

/// SQLite adapter for every store port.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Readers>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
}

/// Read-only connections, handed out one query at a time.
struct Readers {
    connections: Vec<Mutex<Connection>>,
    free: Semaphore,
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
            params![event.id, vocabulary::outbox_created_key(event), doc],
        )
        .map_err(sql_err("InsertEvent", "outbox", Some(&event.id)))?;
    }
    Ok(())
}

fn poisoned() -> StoreError {
    StoreError::backend("Lock", "sqlite", None, false, std::io::Error::other("connection poisoned by a panic"))
}

fn connect(path: &Path, name: &str) -> Sql<Connection> {
    let conn = Connection::open(path).map_err(sql_err("Open", name, None))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sql_err("Open", name, None))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(sql_err("Open", name, None))?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql_err("Open", name, None))?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path, clock: Arc<dyn Clock>, retention_days: u32) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let mut writer = connect(path, &name)?;
        migrate(&mut writer, &name)?;
        let connections = (0..READERS)
            .map(|_| {
                let reader = connect(path, &name)?;
                reader.pragma_update(None, "query_only", true).map_err(sql_err("Open", &name, None))?;
                Ok(Mutex::new(reader))
            })
            .collect::<Sql<Vec<_>>>()?;
        let readers = Readers { connections, free: Semaphore::new(READERS) };
        Ok(SqliteStore { writer: Arc::new(Mutex::new(writer)), readers: Arc::new(readers), clock, retention_days })
    }

    fn lock_writer(&self) -> Sql<MutexGuard<'_, Connection>> {
        self.writer.lock().map_err(|_| poisoned())
    }

    /// Runs a query on a reader connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection, DateTime<Utc>) -> Sql<T> + Send + 'static,
    ) -> Sql<T> {
        let permit =
            self.readers.free.acquire().await.map_err(|e| StoreError::backend("Read", "sqlite", None, true, e))?;
        let readers = self.readers.clone();
        let now = self.clock.now();
        let outcome = tokio::task::spawn_blocking(move || {
            // A permit guarantees one connection is free; find it.
            let conn = readers.connections.iter().find_map(|c| c.try_lock().ok()).ok_or_else(|| {
                StoreError::backend("Read", "sqlite", None, true, std::io::Error::other("no free reader"))
            })?;
            work(&conn, now)
        })
        .await
        .map_err(|e| StoreError::backend("Read", "sqlite", None, true, e))?;
        drop(permit);
        outcome
    }

    /// Runs work in one transaction on the writer, together with its outbox events; nothing is
    /// committed when `work` returns `None`.
    async fn write<T: Send + 'static>(
        &self,
        events: &[Event],
        work: impl FnOnce(&rusqlite::Transaction<'_>, DateTime<Utc>) -> Sql<Option<T>> + Send + 'static,
    ) -> Sql<Option<T>> {
        let events = events.to_vec();
        let store = self.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let mut conn = store.lock_writer()?;
            let tx = conn.transaction().map_err(sql_err("Begin", "sqlite", None))?;
            let outcome = work(&tx, now)?;
            // Events go with the change only if the change happened.
            if outcome.is_some() {
                insert_events(&tx, &events)?;
                tx.commit().map_err(sql_err("Commit", "sqlite", None))?;
            }
            Ok(outcome)
        })
        .await
        .map_err(|e| StoreError::backend("Write", "sqlite", None, true, e))?
    }
}

fn migrate(conn: &mut Connection, name: &str) -> Sql<()> {
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
