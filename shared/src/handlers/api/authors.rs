//! Data-subject requests under UU 27/2022 (PDP), `admin` only: `GET /v1/authors/{author}`
//! exports one page of what is stored about an author, `DELETE` erases it (see
//! [`crate::app::privacy`]).

use http::StatusCode;
use serde::Serialize;

use super::{ApiError, Call, Handled, bad};
use crate::app::privacy::{Export, Privacy};
use crate::domain::Platform;
use crate::http::json;

const SCOPE: &str = "authors";

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

fn privacy<'a>(call: &'a Call<'a>) -> Privacy<'a> {
    let s = call.state;
    Privacy {
        mentions: s.mentions.as_ref(),
        desk: call.desk(),
        feedback: s.feedback.as_ref(),
        alerts: s.alerts.as_ref(),
        now: call.now(),
    }
}

#[derive(Serialize)]
struct ExportPage {
    #[serde(flatten)]
    export: Export,
    /// The next page of this author's mentions (with their cases, feedback and alerts).
    next_cursor: Option<String>,
}

pub(super) async fn export(call: &Call<'_>) -> Handled {
    let q = call.query(&["cursor"])?;
    let author = author_key(call)?;
    let after = call.position(SCOPE, q.get("cursor"))?;
    let export = privacy(call).export(&author, after.as_ref()).await?;
    tracing::info!(by = %call.who.subject, mentions = export.mentions.len(), "data-subject export");
    let next_cursor = call.cursor(SCOPE, export.next.as_ref());
    Ok(json(StatusCode::OK, &ExportPage { export, next_cursor }))
}

pub(super) async fn erase(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let author = author_key(call)?;
    let erased = privacy(call).erase(&author).await?;
    tracing::info!(
        by = %call.who.subject,
        mentions = erased.mentions,
        cases = erased.cases,
        alerts = erased.alerts,
        "data-subject erasure"
    );
    Ok(json(StatusCode::OK, &erased))
}
