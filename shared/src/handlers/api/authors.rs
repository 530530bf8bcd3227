//! Data-subject requests under UU 27/2022 (PDP): export everything stored about one author, and
//! erase it (mentions with their raw payloads, cases, feedback). `admin` only.

use http::StatusCode;
use serde::Serialize;

use super::{ApiError, Call, Handled, bad};
use crate::cases::FEEDBACK_KIND;
use crate::domain::{Case, Mention, Platform};
use crate::error::StoreError;
use crate::handlers::classify::count_changes;
use crate::http::json;

/// Mentions read per round (an author with more is handled over several rounds).
const ROUND: usize = 500;
/// Mentions exported at most in one response.
const MAX_EXPORT: usize = 10_000;

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

#[derive(Serialize)]
struct Export {
    author: String,
    mentions: Vec<Mention>,
    cases: Vec<Case>,
    feedback: Vec<serde_json::Value>,
    /// Set when the author has more mentions than one export holds.
    truncated: bool,
}

pub(super) async fn export(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let author = author_key(call)?;
    let mentions = call.state.mentions.mentions_by_author(&author, MAX_EXPORT + 1).await?;
    let truncated = mentions.len() > MAX_EXPORT;
    let mentions: Vec<Mention> = mentions.into_iter().take(MAX_EXPORT).collect();
    let ids: Vec<String> = mentions.iter().map(|m| m.key.to_string()).collect();
    let mut cases = Vec::new();
    for chunk in ids.chunks(crate::ports::MAX_GET_CASES) {
        cases.extend(call.state.cases.get_cases(chunk).await?);
    }
    let mut feedback = Vec::new();
    for id in &ids {
        if let Some(f) = call.state.config.get_config(FEEDBACK_KIND, id).await? {
            feedback.push(f);
        }
    }
    tracing::info!(by = %call.who.subject, mentions = mentions.len(), "data-subject export");
    Ok(json(StatusCode::OK, &Export { author, mentions, cases, feedback, truncated }))
}

#[derive(Serialize, Default)]
struct Erased {
    author: String,
    mentions: usize,
    cases: usize,
}

/// Removes one mention with everything attached, moving its counts out.
async fn erase_one(call: &Call<'_>, mention: &Mention) -> Result<bool, StoreError> {
    let id = mention.key.to_string();
    let mut unclassified = mention.clone();
    unclassified.classification = None;
    let counts = count_changes(mention, &unclassified);
    call.state.mentions.delete_mention(&mention.key, mention.revision, &counts, &[]).await?;
    let had_case = call.state.cases.get_case(&id).await?.is_some();
    call.state.cases.delete_case(&id).await?;
    call.state.config.delete_config(FEEDBACK_KIND, &id).await?;
    Ok(had_case)
}

/// `DELETE /v1/authors/{author}`: idempotent; a second call finds nothing and erases 0.
pub(super) async fn erase(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let author = author_key(call)?;
    let mut erased = Erased { author: author.clone(), ..Default::default() };
    loop {
        let round = call.state.mentions.mentions_by_author(&author, ROUND).await?;
        if round.is_empty() {
            break;
        }
        let mut progressed = false;
        for mention in &round {
            match erase_one(call, mention).await {
                Ok(had_case) => {
                    progressed = true;
                    erased.mentions += 1;
                    erased.cases += usize::from(had_case);
                }
                // Changed meanwhile (a classification landed): the next round reads it again.
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !progressed {
            return Err(super::conflict("the author's mentions keep changing; try again"));
        }
    }
    tracing::info!(by = %call.who.subject, mentions = erased.mentions, cases = erased.cases, "data-subject erasure");
    Ok(json(StatusCode::OK, &erased))
}
