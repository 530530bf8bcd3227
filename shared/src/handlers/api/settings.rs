//! Configuration documents through the API: the topic taxonomy, the holiday calendar and the
//! SLA policy. Reading needs `viewer`; replacing needs `admin`. Each document is checked whole
//! before it is stored.

use http::StatusCode;
use serde::Serialize;

use super::{Call, Handled, bad, items_are_objects};
use crate::classify::Taxonomy;
use crate::handlers::classify::{TAXONOMY_ID, TAXONOMY_KIND, taxonomy};
use crate::http::json;
use crate::sla::{CALENDAR_KIND, CalendarDoc, DEFAULT_ID, POLICY_KIND, SlaPolicy, load_calendar_doc, load_policy};

pub(super) async fn get_taxonomy(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &taxonomy(call.state.config.as_ref()).await?))
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
    let stored = serde_json::to_value(&parsed).map_err(|e| bad(e.to_string()))?;
    call.state.config.put_config(TAXONOMY_KIND, TAXONOMY_ID, &stored).await?;
    Ok(json(
        StatusCode::OK,
        &Replaced {
            document: parsed,
            note: "the classifier loads the taxonomy when it starts: new topics apply to mentions classified after the next cold start (locally: restart pantau serve)",
        },
    ))
}

pub(super) async fn get_holidays(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &load_calendar_doc(call.state.config.as_ref()).await?))
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
    let value = serde_json::to_value(&doc).map_err(|e| bad(e.to_string()))?;
    call.state.config.put_config(CALENDAR_KIND, DEFAULT_ID, &value).await?;
    Ok(json(
        StatusCode::OK,
        &Replaced { document: doc, note: "applies to cases opened from now on; open cases keep their due times" },
    ))
}

pub(super) async fn get_sla(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &load_policy(call.state.config.as_ref()).await?))
}

pub(super) async fn put_sla(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let policy: SlaPolicy = call.body("SLA policy")?;
    policy.validate().map_err(bad)?;
    let value = serde_json::to_value(policy).map_err(|e| bad(e.to_string()))?;
    call.state.config.put_config(POLICY_KIND, DEFAULT_ID, &value).await?;
    Ok(json(
        StatusCode::OK,
        &Replaced { document: policy, note: "applies to cases opened from now on; open cases keep their due times" },
    ))
}
