//! `/v1/cases`: the inbox ordered by SLA due time, one case with its mention and suggested
//! answers, and the officer's actions (transition, assignment, logged reply). Every change is a
//! conditional write on the case's revision: a concurrent change loses with 409.

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, Call, Handled, Suggestion, bad, conflict, not_found};
use crate::app::cases::ReplyOutcome;
use crate::app::publishing::replies::{ReplyRefused, ReplyRequest};
use crate::domain::{
    Account, Answer, Case, CaseReply, CaseStatus, CaseTransition, Mention, Occurrence, OccurrenceState, Platform,
    ReplySource,
};
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

async fn case_view(call: &Call<'_>, case: Case) -> Result<CaseView, ApiError> {
    let mut mention = call.state.mentions.get_mention(&case.mention_key).await?;
    if let Some(m) = &mut mention {
        m.case = Some(case.summary());
    }
    let suggested_answers = super::answers::for_case(call, &case, mention.as_ref()).await?;
    Ok(CaseView { case, mention, suggested_answers })
}

async fn view(call: &Call<'_>, case: Case, status: StatusCode) -> Handled {
    Ok(json(status, &case_view(call, case).await?))
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
    /// The reply; an answer's text (for the mention's platform) when absent.
    #[serde(default)]
    text: Option<String>,
    url: Option<String>,
    answer_id: Option<String>,
    /// Send it on the platform (else the reply is only logged, sent elsewhere).
    #[serde(default)]
    send: bool,
    /// The account to send from; the one triage named otherwise.
    #[serde(default)]
    account: Option<Account>,
}

/// A case with what became of the reply sent.
#[derive(Serialize)]
struct SentView {
    #[serde(flatten)]
    case: CaseView,
    delivery: Occurrence,
}

/// The reply's text: the one given, or the answer's for the platform (with its link).
fn reply_text(input: &ReplyInput, answer: Option<&Answer>, platform: Platform) -> Result<String, ApiError> {
    if let Some(text) = &input.text {
        return Ok(text.clone());
    }
    let Some(answer) = answer else { return Err(bad("text: give the reply's text or an answer_id")) };
    let mut text = answer.variants.get(platform.as_str()).unwrap_or(&answer.text).clone();
    if let Some(link) = &answer.link
        && !text.contains(link.as_str())
    {
        text = format!("{text} {link}");
    }
    Ok(text)
}

/// `POST /v1/cases/{id}/replies`: logs a response sent to the citizen, or with `send` sends
/// it on the platform (once, however often the request is retried with its
/// `Idempotency-Key`). The first one stops the response clocks; each one restarts the
/// automatic-close clock.
pub(super) async fn reply(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: ReplyInput = call.body("reply {text, url, answer_id, send, account}")?;
    check_len("text", input.text.as_ref(), MAX_REPLY)?;
    if let Some(url) = &input.url {
        super::answers::check_link("url", url)?;
    }
    if input.send && input.url.is_some() {
        return Err(bad("url: a sent reply gets the platform's link; url is for replies made elsewhere"));
    }
    if !input.send && input.account.is_some() {
        return Err(bad("account: only a reply that is sent (send: true) has an account"));
    }
    let case = load(call).await?;
    let answer = match &input.answer_id {
        Some(id) => {
            Some(call.state.answers.answer(id).await?.ok_or_else(|| bad(format!("answer_id: no answer {id}")))?)
        }
        None => None,
    };
    let text = reply_text(&input, answer.as_ref(), case.mention_key.platform())?;
    check_len("text", Some(&text), MAX_REPLY)?;
    if input.send {
        return send(call, case, text, input.account).await;
    }
    let reply = CaseReply {
        id: call.creation_id(),
        at: call.now(),
        by: call.who.subject.clone(),
        text,
        url: input.url,
        answer_id: input.answer_id,
        source: ReplySource::Dicatat,
    };
    match call.desk().record_reply(&case.mention_key, reply).await? {
        ReplyOutcome::Recorded(next) => view(call, next, StatusCode::CREATED).await,
        ReplyOutcome::AlreadyRecorded(same) => view(call, same, StatusCode::OK).await,
        ReplyOutcome::Closed(closed) => Err(closed_case(&closed)),
        ReplyOutcome::Held | ReplyOutcome::NoCase => Err(not_found(format!("no case {}", case.id))),
    }
}

fn closed_case(case: &Case) -> ApiError {
    conflict(format!("case {} is closed ({}); open a new one for a new message", case.id, case.status))
}

/// Sends a reply on the platform: 201 once it is published, 202 while its outcome is being
/// settled (a timeout: it is checked on the account, never sent again blind).
async fn send(call: &Call<'_>, case: Case, text: String, account: Option<Account>) -> Handled {
    if !case.status.is_open() {
        return Err(closed_case(&case));
    }
    if !call.is_idempotent() {
        return Err(bad("Idempotency-Key: a reply that is sent needs one, so a retried request never sends it twice"));
    }
    let mention = call.state.mentions.get_mention(&case.mention_key).await?.ok_or_else(|| {
        conflict(format!("case {}'s message is no longer stored (erased); reply on the platform", case.id))
    })?;
    let last_inbound = last_message_of(call, &mention).await?;
    let request = ReplyRequest { id: call.creation_id(), text, account };
    match call.state.publishing.send_reply(&case.id, &mention, request, last_inbound).await? {
        Err(ReplyRefused(why)) => Err(conflict(why)),
        Ok(delivery) => {
            let status = match delivery.state {
                OccurrenceState::Published => StatusCode::CREATED,
                OccurrenceState::Failed => {
                    let why = delivery.note.clone().unwrap_or_else(|| "the platform refused it".into());
                    let mut e = ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("{} refused the reply: {why}", delivery.platform),
                    );
                    e.2.insert("delivery".into(), serde_json::to_value(&delivery).unwrap_or_default());
                    return Err(e);
                }
                _ => StatusCode::ACCEPTED,
            };
            let case = call.state.cases.get_case(&case.id).await?.unwrap_or(case);
            let view = case_view(call, case).await?;
            Ok(json(status, &SentView { case: view, delivery }))
        }
    }
}

/// When the citizen last wrote on the mention's platform (WhatsApp's 24-hour window runs
/// from there).
async fn last_message_of(call: &Call<'_>, mention: &Mention) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    let Some(author) = mention.author_key() else { return Ok(mention.created_at) };
    let page = call.state.mentions.mentions_by_author(&author, 1, None).await?;
    Ok(page.items.first().map_or(mention.created_at, |m| m.created_at.max(mention.created_at)))
}
