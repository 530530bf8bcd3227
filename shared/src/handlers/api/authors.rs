//! Data-subject requests under UU 27/2022 (PDP): export everything stored about one author, and
//! erase it (mentions with their raw payloads, cases, feedback, alerts naming those mentions).
//! `admin` only.

use std::collections::HashSet;

use chrono::Duration;
use http::StatusCode;
use serde::Serialize;

use super::{ApiError, Call, Handled, bad};
use crate::cases::{FEEDBACK_KIND, drop_pending_replies};
use crate::domain::{Case, Mention, Platform};
use crate::error::StoreError;
use crate::handlers::classify::count_changes;
use crate::handlers::watch::{AlertRecord, alert_kinds};
use crate::http::json;
use crate::ports::list_documents;
use crate::time::wib_date;

const SCOPE: &str = "authors";
/// Mentions per export page at most, and the size a page stops growing at (Lambda answers at
/// most 6 MB; a mention with long edits and its raw payload can be several hundred KB, and
/// its feedback repeats its text).
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
/// Months of alert records searched for the author's mentions.
const ALERT_MONTHS: i64 = 24;

/// `{platform}:{author_id}` in the path → the stored author key `{platform}#{author_id}`.
fn author_key(call: &Call<'_>) -> Result<String, ApiError> {
    let raw = call.param();
    let (platform, id) = raw
        .split_once(':')
        .filter(|(_, id)| !id.is_empty() && id.len() <= 256)
        .ok_or_else(|| bad(format!("author must be {{platform}}:{{author_id}}, for example x:12345, got {raw:?}")))?;
    let platform: Platform = platform.parse().map_err(|e| bad(format!("author: {e}")))?;
    Ok(format!("{platform}#{id}"))
}

/// Alert records of the last [`ALERT_MONTHS`] months that name one of `keys` (as the mention
/// or the case), with the config kind they are stored under.
async fn alerts_about(call: &Call<'_>, keys: &HashSet<String>) -> Result<Vec<(String, AlertRecord)>, ApiError> {
    let mut found = Vec::new();
    if keys.is_empty() {
        return Ok(found);
    }
    let today = wib_date(call.now());
    for kind in alert_kinds(today - Duration::days(ALERT_MONTHS * 31), today) {
        for (_, record) in list_documents::<AlertRecord>(call.state.config.as_ref(), &kind).await? {
            let names = |field: &str| record.data.get(field).and_then(|v| v.as_str()).is_some_and(|k| keys.contains(k));
            if names("key") || names("case") {
                found.push((kind.clone(), record));
            }
        }
    }
    Ok(found)
}

#[derive(Serialize)]
struct Export {
    author: String,
    mentions: Vec<Mention>,
    cases: Vec<Case>,
    feedback: Vec<serde_json::Value>,
    alerts: Vec<AlertRecord>,
    /// The next page of this author's mentions (with their cases, feedback and alerts).
    next_cursor: Option<String>,
}

/// `GET /v1/authors/{author}`: one page of the author's mentions, newest first, with everything
/// attached to them.
pub(super) async fn export(call: &Call<'_>) -> Handled {
    let q = call.query(&["cursor"])?;
    let author = author_key(call)?;
    let after = call.position(SCOPE, q.get("cursor"))?;
    let mut page = call.state.mentions.mentions_by_author(&author, EXPORT_PAGE, after.as_ref()).await?;
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
        page.next = page.items.last().map(|m| crate::ports::Position(crate::adapters::keys::mention_ts_key(m)));
    }
    let ids: Vec<String> = page.items.iter().map(|m| m.key.to_string()).collect();
    let cases = call.state.cases.get_cases(&ids).await?;
    let mut feedback = Vec::new();
    for id in &ids {
        if let Some(f) = call.state.config.get_config(FEEDBACK_KIND, id).await? {
            feedback.push(f);
        }
    }
    let alerts = alerts_about(call, &ids.iter().cloned().collect()).await?.into_iter().map(|(_, r)| r).collect();
    tracing::info!(by = %call.who.subject, mentions = page.items.len(), "data-subject export");
    let next_cursor = call.cursor(SCOPE, page.next.as_ref());
    Ok(json(StatusCode::OK, &Export { author, mentions: page.items, cases, feedback, alerts, next_cursor }))
}

#[derive(Serialize, Default)]
struct Erased {
    author: String,
    mentions: usize,
    cases: usize,
    alerts: usize,
    /// More remains (a very prolific author): call again.
    more: bool,
}

/// Removes what hangs on one mention first (case, feedback), then the mention with its counts,
/// so an interrupted erase can always be finished by calling it again.
async fn erase_one(call: &Call<'_>, mention: &Mention) -> Result<bool, StoreError> {
    let id = mention.key.to_string();
    let had_case = call.state.cases.get_case(&id).await?.is_some();
    call.state.cases.delete_case(&id).await?;
    call.state.config.delete_config(FEEDBACK_KIND, &id).await?;
    drop_pending_replies(call.state.config.as_ref(), &id).await?;
    let mut unclassified = mention.clone();
    unclassified.classification = None;
    let counts = count_changes(mention, &unclassified);
    call.state.mentions.delete_mention(&mention.key, mention.revision, &counts, &[]).await?;
    Ok(had_case)
}

/// `DELETE /v1/authors/{author}`: idempotent; a second call finds nothing and erases 0.
/// Alerts naming the author's mentions go first, then each mention's case and feedback, then
/// the mention: an interrupted erase leaves nothing a second call cannot find.
pub(super) async fn erase(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let author = author_key(call)?;
    let mut erased = Erased { author: author.clone(), ..Default::default() };
    let mut keys: HashSet<String> = HashSet::new();
    let mut after = None;
    for _ in 0..MAX_ROUNDS {
        let page = call.state.mentions.mentions_by_author(&author, ROUND, after.as_ref()).await?;
        keys.extend(page.items.iter().map(|m| m.key.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    for (kind, record) in alerts_about(call, &keys).await? {
        call.state.config.delete_config(&kind, &record.id).await?;
        erased.alerts += 1;
    }
    let started = std::time::Instant::now();
    let mut done: HashSet<String> = HashSet::new();
    'rounds: for _ in 0..MAX_ROUNDS {
        // The author index may still list mentions just erased (DynamoDB GSIs are eventually
        // consistent): those already handled are skipped.
        let round = call.state.mentions.mentions_by_author(&author, ROUND, None).await?;
        let fresh: Vec<&Mention> = round.items.iter().filter(|m| !done.contains(&m.key.to_string())).collect();
        if fresh.is_empty() {
            break;
        }
        for mention in fresh {
            if erased.mentions >= MAX_ERASED || started.elapsed() > ERASE_BUDGET {
                break 'rounds;
            }
            match erase_one(call, mention).await {
                Ok(had_case) => {
                    erased.mentions += 1;
                    erased.cases += usize::from(had_case);
                    done.insert(mention.key.to_string());
                }
                // Changed meanwhile (a classification landed) or already gone: look again.
                Err(StoreError::Conflict { .. }) => {
                    if call.state.mentions.get_mention(&mention.key).await?.is_none() {
                        done.insert(mention.key.to_string());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    erased.more = !call
        .state
        .mentions
        .mentions_by_author(&author, ROUND, None)
        .await?
        .items
        .iter()
        .all(|m| done.contains(&m.key.to_string()));
    tracing::info!(
        by = %call.who.subject,
        mentions = erased.mentions,
        cases = erased.cases,
        alerts = erased.alerts,
        "data-subject erasure"
    );
    Ok(json(StatusCode::OK, &erased))
}
