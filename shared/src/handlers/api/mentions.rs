//! `/v1/mentions`: listing, one mention with its case and suggested answers, the ingest batch
//! from other apps, and officers' corrections of labels.

use std::collections::HashMap;

use chrono::Duration;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, Call, DEFAULT_RANGE_DAYS, Handled, MAX_RANGE_DAYS, Suggestion, bad, conflict, not_found};
use crate::app::corrections::{CorrectionError, Corrections, Relabel};
use crate::app::ingest::{Ingest, MAX_BATCH, MentionInput};
use crate::auth::Role;
use crate::domain::{CaseStatus, Category, Feedback, Mention, MentionKey, Platform, Sentiment};
use crate::http::json;
use crate::platforms::Item;
use crate::ports::{MAX_GET_CASES, MentionQuery};

const SCOPE: &str = "mentions";

#[derive(Serialize)]
struct MentionPage {
    items: Vec<Mention>,
    next_cursor: Option<String>,
}

/// Fills each mention's `case` from the cases store.
async fn with_cases(call: &Call<'_>, mentions: &mut [Mention]) -> Result<(), ApiError> {
    // Every classified mention is looked up, not only those whose labels open a case now: a
    // case stays when a reclassification or correction moves the mention to another category.
    let ids: Vec<String> = mentions.iter().filter(|m| m.classification.is_some()).map(|m| m.key.to_string()).collect();
    let mut found = HashMap::new();
    for chunk in ids.chunks(MAX_GET_CASES) {
        for case in call.state.cases.get_cases(chunk).await? {
            found.insert(case.id.clone(), case.summary());
        }
    }
    for m in mentions.iter_mut() {
        m.case = found.remove(&m.key.to_string());
    }
    Ok(())
}

pub(super) async fn list(call: &Call<'_>) -> Handled {
    let q = call.query(&[
        "from",
        "to",
        "platform",
        "category",
        "sentiment",
        "topic",
        "language",
        "influence",
        "case_status",
        "limit",
        "cursor",
    ])?;
    let to = q.time("to")?.unwrap_or_else(|| call.now());
    let from = q.time("from")?.unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
    if from >= to {
        return Err(bad("from must be before to"));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(bad(format!("a listing may cover at most {MAX_RANGE_DAYS} days")));
    }
    let query = MentionQuery {
        from,
        to,
        platform: q.label("platform")?,
        category: q.label("category")?,
        sentiment: q.label("sentiment")?,
        topic: q.get("topic").cloned(),
        language: q.label("language")?,
        influence: q.label("influence")?,
        case_status: q.label::<CaseStatus>("case_status")?,
        limit: q.limit()?,
        after: call.position(SCOPE, q.get("cursor"))?,
    };
    let mut page = call.state.mentions.list_mentions(&query).await?;
    with_cases(call, &mut page.items).await?;
    let next_cursor = call.cursor(SCOPE, page.next.as_ref());
    Ok(json(StatusCode::OK, &MentionPage { items: page.items, next_cursor }))
}

fn mention_key(call: &Call<'_>) -> Result<MentionKey, ApiError> {
    call.param().parse().map_err(|e: crate::domain::DomainError| bad(e.to_string()))
}

async fn load(call: &Call<'_>, key: &MentionKey) -> Result<Mention, ApiError> {
    call.state.mentions.get_mention(key).await?.ok_or_else(|| not_found(format!("no mention {key}")))
}

/// A mention with the answers prepared for it.
#[derive(Serialize)]
struct MentionView {
    #[serde(flatten)]
    mention: Mention,
    suggested_answers: Vec<Suggestion>,
}

pub(super) async fn get(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let key = mention_key(call)?;
    let mut mention = load(call, &key).await?;
    with_cases(call, std::slice::from_mut(&mut mention)).await?;
    let suggested_answers = super::answers::for_mention(call, &mention).await?;
    Ok(json(StatusCode::OK, &MentionView { mention, suggested_answers }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestBody {
    mentions: Vec<serde_json::Value>,
}

/// `POST /v1/mentions`: a batch of normalised mentions from another app. The whole batch is
/// checked first (a bad item refuses the batch, naming it); then each is stored once.
pub(super) async fn ingest(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let body: IngestBody = call.body("{\"mentions\": [...]}")?;
    if body.mentions.is_empty() || body.mentions.len() > MAX_BATCH {
        return Err(bad(format!("send 1 to {MAX_BATCH} mentions per request, got {}", body.mentions.len())));
    }
    let mut items = Vec::with_capacity(body.mentions.len());
    for (i, raw) in body.mentions.into_iter().enumerate() {
        if raw.is_array() || raw.get("author").is_some_and(serde_json::Value::is_array) {
            return Err(bad(format!("mentions[{i}]: a mention and its author must be objects")));
        }
        let input: MentionInput = serde_json::from_value(raw).map_err(|e| bad(format!("mentions[{i}]: {e}")))?;
        // Other apps speak for themselves (`api`); only an admin may backfill a platform's
        // messages, and the platform's own delivery of the same key replaces them.
        if input.platform != Platform::Api && !call.who.allows(Role::Admin) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "mentions[{i}].platform: an ingest key may send only platform api mentions; {} mentions come from the platform itself (an admin may backfill them)",
                    input.platform
                ),
            ));
        }
        let mention = input.into_new(call.now()).map_err(|e| bad(format!("mentions[{i}].{e}")))?;
        items.push(Item::Message { mention: Box::new(mention), edit: false });
    }
    let state = call.state;
    let ingest =
        Ingest { mentions: state.mentions.as_ref(), lookups: state.lookups.as_ref(), source: "api", now: call.now() };
    let outcome = ingest.apply(items).await;
    state.announce.announce(&outcome.events).await;
    if let Some(err) = outcome.error {
        return Err(err.into());
    }
    Ok(json(StatusCode::OK, &outcome.stats))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrectionInput {
    category: Option<Category>,
    sentiment: Option<Sentiment>,
    note: Option<String>,
}

/// `POST /v1/mentions/{key}/correction`: an officer fixes the labels. Counters move, a case
/// opens when the new category calls for one, and the text is kept as training feedback.
pub(super) async fn correct(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let key = mention_key(call)?;
    let input: CorrectionInput = call.body("correction {category, sentiment, note}")?;
    if input.category.is_none() && input.sentiment.is_none() {
        return Err(bad("give category, sentiment or both"));
    }
    if input.note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(bad("note must be at most 1000 characters"));
    }
    let corrections = Corrections {
        mentions: call.state.mentions.as_ref(),
        desk: call.desk(),
        feedback: call.state.feedback.as_ref(),
        announce: call.state.announce.as_ref(),
    };
    let relabel = Relabel {
        category: input.category,
        sentiment: input.sentiment,
        note: input.note,
        by: call.who.subject.clone(),
        at: call.now(),
    };
    let mut view = match corrections.correct(&key, relabel).await {
        Ok(mention) => mention,
        Err(CorrectionError::NotFound(key)) => return Err(not_found(format!("no mention {key}"))),
        Err(CorrectionError::Store(e)) => return Err(e.into()),
        Err(refused) => return Err(conflict(refused.to_string())),
    };
    with_cases(call, std::slice::from_mut(&mut view)).await?;
    Ok(json(StatusCode::OK, &view))
}

#[derive(Serialize)]
struct FeedbackList {
    items: Vec<Feedback>,
    next_cursor: Option<String>,
}

/// `GET /v1/feedback?limit=&cursor=`: the corrections kept as training data, by mention key,
/// a page at a time (for `pantau train --feedback-file` where the corrections live in DynamoDB).
pub(super) async fn feedback(call: &Call<'_>) -> Handled {
    const SCOPE: &str = "feedback";
    let q = call.query(&["limit", "cursor"])?;
    let limit = q.limit()?;
    let after = call.position(SCOPE, q.get("cursor"))?;
    let page = call.state.feedback.feedback_page(limit, after.as_ref()).await?;
    let (items, next) = (page.items, page.next);
    let next_cursor = call.cursor(SCOPE, next.as_ref());
    Ok(json(StatusCode::OK, &FeedbackList { items, next_cursor }))
}
