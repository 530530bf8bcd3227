//! Produced reports by period and first day.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{DynamoStore, Query, Sql, doc_attr, names, read_doc, s, sdk_err};
use crate::adapters::vocabulary::{report_key, report_key_upto};
use crate::domain::{ReportMeta, ReportPeriod};
use crate::ports::ReportStore;

#[async_trait]
impl ReportStore for DynamoStore {
    async fn put_report(&self, report: &ReportMeta) -> Sql<()> {
        let table = &self.tables.reports;
        let item = HashMap::from([
            ("period".to_string(), s(report.period.as_str())),
            ("start_key".to_string(), s(report_key(report.from, report.to))),
            ("doc".to_string(), doc_attr(table, &report.id, report)?),
        ]);
        self.client.put_item().table_name(table).set_item(Some(item)).send().await.map_err(sdk_err(
            "PutReport",
            table,
            Some(&report.id),
        ))?;
        Ok(())
    }

    async fn get_report(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Option<ReportMeta>> {
        let table = &self.tables.reports;
        let key = HashMap::from([
            ("period".to_string(), s(period.as_str())),
            ("start_key".to_string(), s(report_key(from, to))),
        ]);
        let item = self.get_item("GetReport", table, key, &report_key(from, to)).await?;
        item.map(|item| read_doc(table, &item)).transpose()
    }

    async fn list_reports(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Vec<ReportMeta>> {
        let table = &self.tables.reports;
        let items = self
            .query_all(
                Query {
                    operation: "ListReports",
                    table,
                    index: None,
                    key_condition: "#p = :p AND #k BETWEEN :from AND :to",
                    filter: None,
                    values: HashMap::from([
                        (":p".to_string(), s(period.as_str())),
                        (":from".to_string(), s(from.to_string())),
                        (":to".to_string(), s(report_key_upto(to))),
                    ]),
                    names: names(&[("#p", "period"), ("#k", "start_key")]),
                    forward: true,
                    start: None,
                },
                usize::MAX,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }
}
