//! `/v1/cases`: the inbox ordered by SLA due time, one case with its mention and suggested
//! answers, and the officer's actions (transition, assignment, logged reply). Every change is a
//! conditional write on the case's revision: a concurrent change loses with 409.

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, Call, Handled, Suggestion, bad, conflict, not_found};
use crate::app::cases::ReplyOutcome;
use crate::domain::{Case, CaseReply, CaseStatus, CaseTransition, Mention, ReplySource};
use crate::error::StoreError;
use crate::http::json;

const SCOPE: &str = "cases";
/// Longest note, reply text, assignee or unit accepted.
const MAX_NOTE: usize = 2000;
const MAX_REPLY: usize = 4000;
const MAX_NAME: usize = 200;

#[derive(Serialize)]
struct CasePage {
    items: Vec<Case>,
    next_cursor: Option<String>,
}

/// `GET /v1/cases`: open cases, earliest due first.
pub(super) async fn inbox(call: &Call<'_>) -> Handled {
    let q = call.query(&["limit", "cursor"])?;
    let after = call.position(SCOPE, q.get("cursor"))?;
    let page = call.state.cases.open_cases(q.limit()?, after.as_ref()).await?;
    let next_cursor = call.cursor(SCOPE, page.next.as_ref());
    Ok(json(StatusCode::OK, &CasePage { items: page.items, next_cursor }))
}

async fn load(call: &Call<'_>) -> Result<Case, ApiError> {
    let id = call.param();
    // A case id is a mention key: anything else cannot exist (and may be too long for a key).
    let found = match id.parse::<crate::domain::MentionKey>() {
        Ok(_) => call.state.cases.get_case(id).await?,
        Err(_) => None,
    };
    found.ok_or_else(|| not_found(format!("no case {id}")))
}

/// A case with its mention and the answers prepared for it.
#[derive(Serialize)]
struct CaseView {
    #[serde(flatten)]
    case: Case,
    mention: Option<Mention>,
    suggested_answers: Vec<Suggestion>,
}

async fn view(call: &Call<'_>, case: Case, status: StatusCode) -> Handled {
    let mut mention = call.state.mentions.get_mention(&case.mention_key).await?;
    if let Some(m) = &mut mention {
        m.case = Some(case.summary());
    }
    let suggested_answers = super::answers::for_case(call, &case, mention.as_ref()).await?;
    Ok(json(status, &CaseView { case, mention, suggested_answers }))
}

pub(super) async fn get(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let case = load(call).await?;
    view(call, case, StatusCode::OK).await
}

/// Writes a changed case conditionally on the revision it was read at.
async fn save(call: &Call<'_>, next: Case, read_at: u32) -> Handled {
    match call.state.cases.update_case(&next, read_at, &[]).await {
        Ok(()) => view(call, next, StatusCode::OK).await,
        Err(StoreError::Conflict { .. }) => {
            Err(conflict(format!("case {} was changed by someone else meanwhile; read it again", next.id)))
        }
        Err(e) => Err(e.into()),
    }
}

fn check_len(name: &str, value: Option<&String>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(bad(format!("{name} must not be blank"))),
        Some(v) if v.chars().count() > max => Err(bad(format!("{name} must be at most {max} characters"))),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionInput {
    to: CaseStatus,
    note: Option<String>,
    /// Resolution needs a field check: the longer resolution clock applies.
    field_check: Option<bool>,
}

/// `POST /v1/cases/{id}/transitions`.
pub(super) async fn transition(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: TransitionInput = call.body("transition {to, note, field_check}")?;
    check_len("note", input.note.as_ref(), MAX_NOTE)?;
    let case = load(call).await?;
    let request = call.is_idempotent().then(|| call.creation_id());
    if let Some(id) = &request
        && case.history.iter().any(|t| t.request.as_deref() == Some(id))
    {
        // The same request again: answer as the first time.
        return view(call, case, StatusCode::OK).await;
    }
    if input.to == CaseStatus::DitutupOtomatis {
        return Err(conflict_with_allowed(
            "ditutup_otomatis is set only by the system, after the citizen stays silent".into(),
            case.status,
        ));
    }
    let change = CaseTransition {
        from: case.status,
        to: input.to,
        by: call.who.subject.clone(),
        at: call.now(),
        note: input.note,
        request,
    };
    let mut next = case.transition(change).map_err(|e| conflict_with_allowed(e.to_string(), e.from))?;
    if let Some(field_check) = input.field_check {
        let policy = call.state.settings.sla_policy().await?;
        next = next.with_field_check(field_check, &policy);
    }
    save(call, next, case.revision).await
}

/// 409 naming the statuses allowed from `from`.
fn conflict_with_allowed(detail: String, from: CaseStatus) -> ApiError {
    let mut e = conflict(detail);
    let allowed: Vec<serde_json::Value> = from.allowed_next().iter().map(|s| s.as_str().into()).collect();
    e.2.insert("allowed".into(), allowed.into());
    e
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentInput {
    assignee: Option<String>,
    unit: Option<String>,
}

/// `PUT /v1/cases/{id}/assignment`: the officer and/or unit responsible (null clears).
pub(super) async fn assign(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: AssignmentInput = call.body("assignment {assignee, unit}")?;
    check_len("assignee", input.assignee.as_ref(), MAX_NAME)?;
    check_len("unit", input.unit.as_ref(), MAX_NAME)?;
    let case = load(call).await?;
    if !case.status.is_open() {
        return Err(conflict(format!("case {} is closed ({})", case.id, case.status)));
    }
    if case.assignee == input.assignee && case.unit == input.unit {
        return view(call, case, StatusCode::OK).await;
    }
    let next = case.assigned(input.assignee, input.unit);
    save(call, next, case.revision).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyInput {
    text: String,
    url: Option<String>,
    answer_id: Option<String>,
}

/// `POST /v1/cases/{id}/replies`: logs a response sent to the citizen. The first one stops the
/// response clocks; each one restarts the automatic-close clock.
pub(super) async fn reply(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: ReplyInput = call.body("reply {text, url, answer_id}")?;
    check_len("text", Some(&input.text), MAX_REPLY)?;
    if let Some(url) = &input.url {
        super::answers::check_link("url", url)?;
    }
    let case = load(call).await?;
    if let Some(answer) = &input.answer_id
        && call.state.answers.answer(answer).await?.is_none()
    {
        return Err(bad(format!("answer_id: no answer {answer}")));
    }
    let reply = CaseReply {
        id: call.creation_id(),
        at: call.now(),
        by: call.who.subject.clone(),
        text: input.text,
        url: input.url,
        answer_id: input.answer_id,
        source: ReplySource::Dicatat,
    };
    match call.desk().record_reply(&case.mention_key, reply).await? {
        ReplyOutcome::Recorded(next) => view(call, next, StatusCode::CREATED).await,
        ReplyOutcome::AlreadyRecorded(same) => view(call, same, StatusCode::OK).await,
        ReplyOutcome::Closed(closed) => {
            Err(conflict(format!("case {} is closed ({}); open a new one for a new message", closed.id, closed.status)))
        }
        ReplyOutcome::Held | ReplyOutcome::NoCase => Err(not_found(format!("no case {}", case.id))),
    }
}
