//! Configuration documents through the API: the topic taxonomy, the holiday calendar and the
//! SLA policy. Reading needs `viewer`; replacing needs `admin`. Each document is checked whole
//! before it is stored.

use http::StatusCode;
use serde::Serialize;

use super::{Call, Handled, bad, items_are_objects};
use crate::classify::Taxonomy;
use crate::http::json;
use crate::sla::{CalendarDoc, SlaPolicy};

pub(super) async fn get_taxonomy(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &call.state.settings.taxonomy().await?))
}

/// A replaced document and when it takes effect.
#[derive(Serialize)]
struct Replaced<T> {
    #[serde(flatten)]
    document: T,
    note: &'static str,
}

pub(super) async fn put_taxonomy(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let value: serde_json::Value = call.body("taxonomy {version, topics: [...]}")?;
    items_are_objects(&value, "topics")?;
    let parsed = Taxonomy::from_json(&value.to_string()).map_err(|e| bad(e.to_string()))?;
    call.state.settings.save_taxonomy(&parsed).await?;
    Ok(json(
        StatusCode::OK,
        &Replaced {
            document: parsed,
            note: "every running classifier looks at the taxonomy again each minute: new topics apply to mentions classified from a minute from now; earlier mentions keep theirs until reclassified (pantau reclassify --all)",
        },
    ))
}

pub(super) async fn get_holidays(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &call.state.settings.calendar_doc().await?))
}

pub(super) async fn put_holidays(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    const WHAT: &str = "holiday calendar {source, years, days: [{date, kind, name}]}";
    let value: serde_json::Value = call.body(WHAT)?;
    items_are_objects(&value, "days")?;
    let mut doc: CalendarDoc = serde_json::from_value(value).map_err(|e| bad(format!("invalid {WHAT}: {e}")))?;
    doc.validate().map_err(bad)?;
    doc.days.sort_by_key(|d| d.date);
    doc.years.sort_unstable();
    doc.years.dedup();
    call.state.settings.save_calendar(&doc).await?;
    Ok(json(
        StatusCode::OK,
        &Replaced { document: doc, note: "applies to cases opened from now on; open cases keep their due times" },
    ))
}

pub(super) async fn get_sla(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &call.state.settings.sla_policy().await?))
}

pub(super) async fn put_sla(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let policy: SlaPolicy = call.body("SLA policy")?;
    policy.validate().map_err(bad)?;
    call.state.settings.save_sla_policy(&policy).await?;
    Ok(json(
        StatusCode::OK,
        &Replaced { document: policy, note: "applies to cases opened from now on; open cases keep their due times" },
    ))
}
