//! Daily counters, moved in the same transaction as the change they count.

use async_trait::async_trait;
use chrono::NaiveDate;
use rusqlite::params;

use super::{Sql, SqliteStore, sql_err};
use crate::adapters::vocabulary;
use crate::error::StoreError;
use crate::ports::{Count, CountDelta, CounterStore};

/// Applies counter changes inside a transaction.
pub(super) fn add_counts(tx: &rusqlite::Transaction<'_>, counts: &[CountDelta]) -> Sql<()> {
    for c in counts {
        tx.execute(
            "INSERT INTO counters (day, key, n) VALUES (?1, ?2, ?3) ON CONFLICT(day, key) DO UPDATE SET n = n + excluded.n",
            params![c.day.to_string(), c.key, c.delta],
        )
        .map_err(sql_err("Count", "counters", Some(&c.key)))?;
    }
    Ok(())
}

#[async_trait]
impl CounterStore for SqliteStore {
    async fn counts(&self, from: NaiveDate, to: NaiveDate) -> Sql<Vec<Count>> {
        vocabulary::check_days(from, to)?;
        self.read(move |conn, _| {
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
