//! The office's own voice: posts checked against the platforms' rules, series on the calendar,
//! a publisher that posts each occurrence at most once, replies sent from the inbox, and when
//! posting works best.

pub mod best_time;
pub mod calendar;
pub mod engagement;
pub mod publisher;
pub mod replies;
pub mod rules;
pub mod tokens;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::auth::Role;
use crate::domain::{Account, Platform};
use crate::ports::Publisher;

pub use rules::PostRules;

/// The publishing accounts Pantau can post with, by platform and account.
#[derive(Clone, Default)]
pub struct Publishers {
    by: BTreeMap<(Platform, Account), Arc<dyn Publisher>>,
}

impl Publishers {
    pub fn insert(&mut self, account: Account, publisher: Arc<dyn Publisher>) {
        self.by.insert((publisher.platform(), account), publisher);
    }

    /// The account's publisher; the reactive account falls back to the official one where
    /// no reactive account is configured on that platform.
    pub fn get(&self, platform: Platform, account: Account) -> Option<&Arc<dyn Publisher>> {
        self.by.get(&(platform, account)).or_else(|| self.by.get(&(platform, Account::Resmi)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&(Platform, Account), &Arc<dyn Publisher>)> {
        self.by.iter()
    }
}

/// How the office publishes (`PANTAU_*` settings; see the README's configuration table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishingSettings {
    pub rules: PostRules,
    /// Whether a post must be approved before it is published.
    pub approval_required: bool,
    /// The role that approves posts (besides `admin`).
    pub approver: Role,
    /// How far ahead a series' occurrences exist.
    pub horizon_days: i64,
    /// Publications one series may have on each platform at most.
    pub max_series_occurrences: u32,
    /// How long an X or Facebook occurrence waits for the Instagram post it links.
    pub crosslink_wait_minutes: i64,
    /// How long a claim holds before the publisher treats its outcome as unknown.
    pub lease_seconds: i64,
    /// How long after a claim an unknown outcome is checked against the account.
    pub reconcile_after_seconds: i64,
    /// Occurrences one tick looks at, and how many it publishes at once.
    pub batch: usize,
    pub concurrency: usize,
    /// Seconds a tick may start publications for (the publish function runs 60 s at most).
    pub tick_seconds: u64,
}

impl Default for PublishingSettings {
    fn default() -> Self {
        PublishingSettings {
            rules: PostRules::default(),
            approval_required: true,
            approver: Role::Admin,
            horizon_days: 14,
            max_series_occurrences: 500,
            crosslink_wait_minutes: 30,
            lease_seconds: 300,
            reconcile_after_seconds: 120,
            batch: 10_000,
            concurrency: 16,
            tick_seconds: 45,
        }
    }
}

/// A point the test harness may stop the process at, to prove what a crash there leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failpoint {
    /// Right after the platform accepted a publication (of one platform, or any), before
    /// Pantau records it.
    AfterPlatformAccepted(Option<Platform>),
}

impl std::str::FromStr for Failpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, platform) = s.split_once(':').map_or((s, None), |(n, p)| (n, Some(p)));
        let platform = platform.map(|p| p.parse::<Platform>().map_err(|e| e.to_string())).transpose()?;
        match name {
            "after-platform-accepted" => Ok(Failpoint::AfterPlatformAccepted(platform)),
            other => Err(format!("unknown failpoint {other:?}; known: after-platform-accepted[:platform]")),
        }
    }
}
