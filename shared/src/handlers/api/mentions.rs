//! `/v1/mentions`: listing, one mention with its case and suggested answers, the ingest batch
//! from other apps, and officers' corrections of labels.

use std::collections::HashMap;

use chrono::Duration;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, Call, DEFAULT_RANGE_DAYS, Handled, MAX_RANGE_DAYS, Suggestion, bad, conflict, not_found};
use crate::cases::{FEEDBACK_KIND, Feedback, open_case};
use crate::domain::{CaseStatus, Category, Correction, Mention, MentionKey, Sentiment};
use crate::error::StoreError;
use crate::handlers::classify::{count_changes, hater_alert};
use crate::http::json;
use crate::ingest::{Ingest, MAX_BATCH, MentionInput};
use crate::platforms::Item;
use crate::ports::{MAX_GET_CASES, MentionQuery, list_documents};

const SCOPE: &str = "mentions";
/// Attempts when a mention changes between read and write (a classification landing).
const ATTEMPTS: usize = 3;

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
        let mention = input.into_new(call.now()).map_err(|e| bad(format!("mentions[{i}].{e}")))?;
        items.push(Item::Message { mention: Box::new(mention), edit: false });
    }
    let state = call.state;
    let ingest =
        Ingest { mentions: state.mentions.as_ref(), config: state.config.as_ref(), source: "api", now: call.now() };
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
    for _ in 0..ATTEMPTS {
        let current = load(call, &key).await?;
        let Some(class) = &current.classification else {
            return Err(conflict(format!("mention {key} is not classified yet; correct it after classification")));
        };
        if current.deleted_at.is_some() {
            return Err(conflict(format!("mention {key} was deleted by its author")));
        }
        let correction = Correction {
            category: input.category.unwrap_or(class.category),
            sentiment: input.sentiment.unwrap_or(class.sentiment),
            model_category: current.correction.as_ref().map_or(Some(class.category), |c| c.model_category),
            model_sentiment: current.correction.as_ref().map_or(Some(class.sentiment), |c| c.model_sentiment),
            by: call.who.subject.clone(),
            at: call.now(),
            note: input.note.clone(),
            text_revision: current.text_revision(),
        };
        let mut next = current.corrected(correction.clone());
        next.revision = current.revision + 1;
        let counts = count_changes(&current, &next);
        let events: Vec<_> = hater_alert(&current, &next, "api", call.now()).into_iter().collect();
        match call.state.mentions.replace_mention(&next, current.revision, &counts, &events).await {
            Err(StoreError::Conflict { .. }) => continue,
            other => other?,
        }
        call.state.announce.announce(&events).await;
        let feedback = Feedback::of(&next, &correction);
        let value = serde_json::to_value(&feedback).map_err(|e| bad(e.to_string()))?;
        call.state.config.put_config(FEEDBACK_KIND, &key.to_string(), &value).await?;
        let (cases, config) = (call.state.cases.as_ref(), call.state.config.as_ref());
        if open_case(cases, config, &next, call.now()).await?.is_none() {
            relabel_case(call, &next).await?;
        }
        let mut view = next;
        with_cases(call, std::slice::from_mut(&mut view)).await?;
        return Ok(json(StatusCode::OK, &view));
    }
    Err(conflict(format!("mention {key} kept changing; try again")))
}

/// Gives an open case the corrected labels (the inbox shows what the officer decided). A case
/// changed meanwhile keeps its labels; the officer sees both and can correct again.
async fn relabel_case(call: &Call<'_>, mention: &Mention) -> Result<(), ApiError> {
    let (Some(class), Some(triage)) = (&mention.classification, &mention.triage) else { return Ok(()) };
    let Some(case) = call.state.cases.get_case(&mention.key.to_string()).await? else { return Ok(()) };
    if !case.status.is_open() || (case.category, case.priority) == (class.category, triage.priority) {
        return Ok(());
    }
    let next = case.relabelled(class.category, triage.priority, class.topics.clone());
    match call.state.cases.update_case(&next, case.revision, &[]).await {
        Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
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
    let mut rows: Vec<(String, Feedback)> = list_documents(call.state.config.as_ref(), FEEDBACK_KIND).await?;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.retain(|(id, _)| after.as_ref().is_none_or(|p| *id > p.0));
    let next = (rows.len() > limit).then(|| crate::ports::Position(rows[limit - 1].0.clone()));
    let items = rows.into_iter().take(limit).map(|(_, f)| f).collect();
    let next_cursor = call.cursor(SCOPE, next.as_ref());
    Ok(json(StatusCode::OK, &FeedbackList { items, next_cursor }))
}
