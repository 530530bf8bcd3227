//! Data-subject requests under UU 27/2022 (PDP): export everything stored about one author,
//! and erase it (mentions with their raw payloads, cases, feedback, held replies and the alerts
//! naming those mentions).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::cases::CaseDesk;
use super::counting::uncount;
use crate::adapters::vocabulary::mention_ts_key;
use crate::domain::{AlertRecord, Case, Feedback, Mention};
use crate::error::StoreError;
use crate::ports::{MentionStore, Page, Position};
use crate::stores::{AlertLog, FeedbackStore, alerts};
use crate::time::wib_date;

/// Mentions per export page at most, and the size a page stops growing at (Lambda answers at
/// most 6 MB; a mention with long edits and its raw payload can be several hundred KB, and its
/// feedback repeats its text).
const EXPORT_PAGE: usize = 50;
const EXPORT_BYTES: usize = 2 * 1024 * 1024;
/// Mentions read per erase round.
const ROUND: usize = 200;
/// Rounds of reading the author's mentions one erase may take.
const MAX_ROUNDS: usize = 25;
/// Mentions one erase call deletes at most, and the time it may take, before it answers with
/// `more: true` (the API function has 15 s, API Gateway 30 s).
const MAX_ERASED: usize = 300;
const ERASE_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);
/// Alert records are searched as far back as they are kept.
const ALERT_DAYS: i64 = alerts::RETENTION_DAYS;
/// Alert records read per page.
const ALERT_PAGE: usize = 200;

/// What data-subject requests need.
pub struct Privacy<'a> {
    pub mentions: &'a dyn MentionStore,
    pub desk: CaseDesk<'a>,
    pub feedback: &'a dyn FeedbackStore,
    pub alerts: &'a dyn AlertLog,
    pub now: DateTime<Utc>,
}

/// One page of an author's data.
#[derive(Debug, Serialize)]
pub struct Export {
    pub author: String,
    pub mentions: Vec<Mention>,
    pub cases: Vec<Case>,
    pub feedback: Vec<Feedback>,
    pub alerts: Vec<AlertRecord>,
    /// Where the next page of this author's mentions begins.
    #[serde(skip)]
    pub next: Option<Position>,
}

/// What one erase call removed.
#[derive(Debug, Default, Serialize)]
pub struct Erased {
    pub author: String,
    pub mentions: usize,
    pub cases: usize,
    pub alerts: usize,
    /// More remains (a very prolific author): call again.
    pub more: bool,
}

impl Privacy<'_> {
    /// Alert records that name one of `keys` as the mention or the case.
    async fn alerts_about(&self, keys: &HashSet<String>) -> Result<Vec<AlertRecord>, StoreError> {
        let mut found = Vec::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let today = wib_date(self.now);
        for month in alerts::months(today - Duration::days(ALERT_DAYS), today) {
            let mut after = None;
            loop {
                let page = self.alerts.alerts_of_month(month, ALERT_PAGE, after.as_ref()).await?;
                found.extend(page.items.into_iter().filter(|r| r.names_any(keys)));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(found)
    }

    /// One page of the author's mentions (`{platform}#{author id}`), newest first, with
    /// everything attached to them.
    pub async fn export(&self, author: &str, after: Option<&Position>) -> Result<Export, StoreError> {
        let mut page: Page<Mention> = self.mentions.mentions_by_author(author, EXPORT_PAGE, after).await?;
        // Cut the page where it grows past the size budget (at least one mention a page).
        let mut size = 0;
        let keep = page
            .items
            .iter()
            .position(|m| {
                size += serde_json::to_vec(m).map_or(0, |b| b.len());
                size > EXPORT_BYTES
            })
            .map_or(page.items.len(), |i| i.max(1));
        if keep < page.items.len() {
            page.items.truncate(keep);
            page.next = page.items.last().map(|m| Position(mention_ts_key(m)));
        }
        let ids: Vec<String> = page.items.iter().map(|m| m.key.to_string()).collect();
        let cases = self.desk.cases.get_cases(&ids).await?;
        let mut feedback = Vec::new();
        for id in &ids {
            feedback.extend(self.feedback.feedback(id).await?);
        }
        let alerts = self.alerts_about(&ids.iter().cloned().collect()).await?;
        Ok(Export { author: author.to_string(), mentions: page.items, cases, feedback, alerts, next: page.next })
    }

    /// Removes what hangs on one mention first (case, feedback, held replies), then the mention
    /// with its counts, so an interrupted erase can always be finished by calling it again.
    async fn erase_one(&self, mention: &Mention) -> Result<bool, StoreError> {
        let id = mention.key.to_string();
        let had_case = self.desk.cases.get_case(&id).await?.is_some();
        self.desk.cases.delete_case(&id).await?;
        self.feedback.delete_feedback(&id).await?;
        self.desk.drop_held_replies(&id).await?;
        self.mentions.delete_mention(&mention.key, mention.revision, &uncount(mention), &[]).await?;
        Ok(had_case)
    }

    /// Erases the author's data; idempotent (a second call finds nothing and erases 0).
    /// Alerts naming the author's mentions go first, then each mention's case and feedback,
    /// then the mention: an interrupted erase leaves nothing a second call cannot find.
    pub async fn erase(&self, author: &str) -> Result<Erased, StoreError> {
        let mut erased = Erased { author: author.to_string(), ..Default::default() };
        let mut keys: HashSet<String> = HashSet::new();
        let mut after = None;
        for _ in 0..MAX_ROUNDS {
            let page = self.mentions.mentions_by_author(author, ROUND, after.as_ref()).await?;
            keys.extend(page.items.iter().map(|m| m.key.to_string()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        for record in self.alerts_about(&keys).await? {
            self.alerts.delete_alert(&record).await?;
            erased.alerts += 1;
        }
        let started = std::time::Instant::now();
        let mut done: HashSet<String> = HashSet::new();
        'rounds: for _ in 0..MAX_ROUNDS {
            // The author index may still list mentions just erased (DynamoDB GSIs are
            // eventually consistent): those already handled are skipped.
            let round = self.mentions.mentions_by_author(author, ROUND, None).await?;
            let fresh: Vec<&Mention> = round.items.iter().filter(|m| !done.contains(&m.key.to_string())).collect();
            if fresh.is_empty() {
                break;
            }
            for mention in fresh {
                if erased.mentions >= MAX_ERASED || started.elapsed() > ERASE_BUDGET {
                    break 'rounds;
                }
                match self.erase_one(mention).await {
                    Ok(had_case) => {
                        erased.mentions += 1;
                        erased.cases += usize::from(had_case);
                        done.insert(mention.key.to_string());
                    }
                    // Changed meanwhile (a classification landed) or already gone: look again.
                    Err(StoreError::Conflict { .. }) => {
                        if self.mentions.get_mention(&mention.key).await?.is_none() {
                            done.insert(mention.key.to_string());
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        erased.more = !self
            .mentions
            .mentions_by_author(author, ROUND, None)
            .await?
            .items
            .iter()
            .all(|m| done.contains(&m.key.to_string()));
        Ok(erased)
    }
}
