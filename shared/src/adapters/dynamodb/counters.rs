//! Daily counters: one item per WIB day and key, updated with `ADD` inside the transactions
//! of the changes they count.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{DynamoStore, Query, Sql, names, s, string_attr};
use crate::adapters::vocabulary;
use crate::ports::{Count, CounterStore};

#[async_trait]
impl CounterStore for DynamoStore {
    async fn counts(&self, from: NaiveDate, to: NaiveDate) -> Sql<Vec<Count>> {
        let table = &self.tables.counters;
        vocabulary::check_days(from, to)?;
        let mut counts = Vec::new();
        let mut day = from;
        while day <= to {
            let items = self
                .query_all(
                    Query {
                        operation: "Counts",
                        table,
                        index: None,
                        key_condition: "#day = :d",
                        filter: None,
                        values: HashMap::from([(":d".to_string(), s(day.to_string()))]),
                        names: names(&[("#day", "day")]),
                        forward: true,
                        start: None,
                    },
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
