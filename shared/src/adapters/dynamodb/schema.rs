//! The DynamoDB tables as the code uses them. `infra/template.yaml` must declare the same
//! keys, indexes and TTL attributes; a test parses the template and compares.

/// A global secondary index: name, hash key, range key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    pub name: &'static str,
    pub hash: &'static str,
    pub range: &'static str,
}

/// A table: its logical id in the template, keys, indexes and TTL attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    pub logical_id: &'static str,
    pub hash: &'static str,
    pub range: Option<&'static str>,
    pub indexes: &'static [IndexDef],
    pub ttl: Option<&'static str>,
}

pub const MENTIONS_BY_DAY: &str = "by_day";
pub const MENTIONS_BY_AUTHOR: &str = "by_author";
pub const CASES_OPEN_BY_DUE: &str = "open_by_due";
pub const CASES_BY_STATUS: &str = "by_status";
pub const POSTS_DUE: &str = "due";
pub const POSTS_CALENDAR: &str = "calendar";
pub const POSTS_BY_SERIES: &str = "by_series";
pub const POSTS_BY_CREATED: &str = "posts";
pub const SERIES_ACTIVE: &str = "active_series";

/// Value of the sparse shard attributes: only items carrying it appear in the index.
pub const OPEN_SHARD: &str = "OPEN";
pub const DUE_SHARD: &str = "DUE";
pub const POST_SHARD: &str = "POST";
pub const ACTIVE_SHARD: &str = "ACTIVE";

pub const MENTIONS: TableDef = TableDef {
    logical_id: "MentionsTable",
    hash: "pk",
    range: None,
    indexes: &[
        IndexDef { name: MENTIONS_BY_DAY, hash: "day", range: "ts_key" },
        IndexDef { name: MENTIONS_BY_AUTHOR, hash: "author", range: "ts_key" },
    ],
    ttl: Some("expires_at"),
};

pub const CASES: TableDef = TableDef {
    logical_id: "CasesTable",
    hash: "pk",
    range: None,
    indexes: &[
        IndexDef { name: CASES_OPEN_BY_DUE, hash: "open_shard", range: "due_key" },
        IndexDef { name: CASES_BY_STATUS, hash: "status", range: "ts_key" },
    ],
    ttl: None,
};

pub const POSTS: TableDef = TableDef {
    logical_id: "PostsTable",
    hash: "pk",
    range: Some("sk"),
    indexes: &[
        IndexDef { name: POSTS_DUE, hash: "due_shard", range: "due_key" },
        IndexDef { name: POSTS_CALENDAR, hash: "cal_day", range: "cal_key" },
        IndexDef { name: POSTS_BY_SERIES, hash: "series_key", range: "slot_key" },
        IndexDef { name: POSTS_BY_CREATED, hash: "post_shard", range: "created_key" },
        IndexDef { name: SERIES_ACTIVE, hash: "active_shard", range: "created_key" },
    ],
    ttl: None,
};

pub const REPORTS: TableDef =
    TableDef { logical_id: "ReportsTable", hash: "period", range: Some("start_key"), indexes: &[], ttl: None };

/// Documents of the named stores (`crate::stores`): `kind`, `id`; some expire.
pub const CONFIG: TableDef =
    TableDef { logical_id: "ConfigTable", hash: "kind", range: Some("id"), indexes: &[], ttl: Some("expires_at") };

pub const OUTBOX: TableDef = TableDef { logical_id: "OutboxTable", hash: "id", range: None, indexes: &[], ttl: None };

/// Daily counters: `day` (WIB date), `key` (`category#pengaduan`…), attribute `n`.
pub const COUNTERS: TableDef =
    TableDef { logical_id: "CountersTable", hash: "day", range: Some("key"), indexes: &[], ttl: None };

/// Every table, in the order of [`super::TableNames`].
pub const ALL: [TableDef; 7] = [MENTIONS, CASES, POSTS, REPORTS, CONFIG, OUTBOX, COUNTERS];
