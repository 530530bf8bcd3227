//! Alerts for people on duty: raising one (an `AlertRaised` event, written with the change
//! that calls for it), and delivering it — recorded for `GET /v1/alerts`, then sent to each
//! configured channel once, in Bahasa Indonesia.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::{AlertKind, AlertRecord, Event, EventKind, MentionKey};
use crate::error::StoreError;
use crate::ports::{MentionReader, Notification, Notifier};
use crate::spike::Metric;
use crate::stores::AlertLog;
use crate::time::{wib, wib_date};

/// An `AlertRaised` event stamped with the time it was raised.
pub fn raised(source: &str, kind: AlertKind, mut data: Map<String, Value>, at: DateTime<Utc>) -> Event {
    data.insert("raised_at".into(), crate::time::sortable(at).into());
    Event::new(source, EventKind::AlertRaised { kind, data }, at)
}

/// A time as people read it: `27 Nov 2026 23:59 WIB`.
pub fn wib_text(at: DateTime<Utc>) -> String {
    at.with_timezone(&wib()).format("%d %b %Y %H:%M WIB").to_string()
}

/// A title and body in Bahasa Indonesia for people on duty.
fn describe(kind: AlertKind, data: &Map<String, Value>) -> (String, String) {
    let text = |k: &str| data.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    let get = |k: &str| text(k).unwrap_or_default();
    let title = match kind {
        AlertKind::InfluentialHater => format!("Hater berpengaruh: {}", get("author")),
        AlertKind::Spike => {
            let what = if get("metric") == Metric::Volume.as_str() { "volume" } else { "sentimen negatif" };
            let series = get("series").replace("topic#", "topik ");
            let series = if series == "all" { "semua percakapan".to_string() } else { series };
            if get("phase") == "selesai" {
                format!("Lonjakan {what} berakhir: {series}")
            } else {
                format!("Lonjakan {what}: {series}")
            }
        }
        AlertKind::SlaReminder => format!("Pengingat SLA {}: kasus {}", get("clock_name"), get("case")),
        AlertKind::SlaBreach => format!("SLA {} terlewat: kasus {}", get("clock_name"), get("case")),
        AlertKind::SlaDigest => format!("Ringkasan SLA: {} peringatan kasus", get("alerts")),
        AlertKind::Calendar => format!("Kalender libur {} belum diisi", get("missing_year")),
        AlertKind::PublishFailed => format!("Unggahan ditolak {}: {}", get("platform"), get("reason")),
        AlertKind::PublishUnconfirmed => format!("Unggahan {} perlu dicek: {}", get("platform"), get("occurrence")),
        AlertKind::ChannelUnhealthy => {
            format!("Akun {} di {} ditolak; unggahannya menunggu", get("account"), get("platform"))
        }
        AlertKind::TokenExpiry => {
            format!("Token {} (akun {}) berakhir {}", get("platform"), get("account"), get("expires_wib"))
        }
        // A report writes its own words: a headline and a message a person reads.
        AlertKind::ReportReady => return (get("title"), get("message")),
    };
    let body = data
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "event_id"))
        .map(|(k, v)| format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect::<Vec<_>>()
        .join("\n");
    (title, body)
}

/// What delivering alerts needs.
pub struct AlertDelivery<'a> {
    pub log: &'a dyn AlertLog,
    /// An alert about a mention erased meanwhile is dropped.
    pub mentions: &'a dyn MentionReader,
    /// Every configured channel; each alert reaches each channel once.
    pub notifiers: &'a [Arc<dyn Notifier>],
    pub now: DateTime<Utc>,
}

/// What delivering one alert did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Channels that took it now.
    pub notified: usize,
    /// Channels that failed for now: the event must be retried (channels that had it are
    /// skipped then).
    pub retry: Vec<String>,
}

impl AlertDelivery<'_> {
    /// Records the alert and sends it to each channel that has not had it yet.
    pub async fn deliver(&self, kind: AlertKind, data: Map<String, Value>) -> Result<Delivered, StoreError> {
        let id = data.get("event_id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
            // Events from outside Pantau may lack an id: one derived from the content still dedupes.
            use sha2::Digest;
            hex::encode(&sha2::Sha256::digest(Value::Object(data.clone()).to_string().as_bytes())[..16])
        });
        let raised_at = data
            .get("raised_at")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or(self.now, |t| t.with_timezone(&Utc));
        // An alert about a mention erased meanwhile (a data-subject request) is not kept or sent.
        let about = data.get("key").and_then(Value::as_str).and_then(|k| k.parse::<MentionKey>().ok());
        if let Some(key) = about
            && self.mentions.get_mention(&key).await?.is_none()
        {
            tracing::info!(alert = %id, mention = %key, "alert about a mention that is gone; dropped");
            return Ok(Delivered::default());
        }
        let mut record = match self.log.alert(&id, raised_at).await? {
            Some(r) => r,
            None => {
                let (title, body) = describe(kind, &data);
                let mut data = data;
                data.remove("event_id");
                AlertRecord {
                    id: id.clone(),
                    kind,
                    raised_at,
                    title,
                    body,
                    data,
                    delivered: Vec::new(),
                    failed: Vec::new(),
                }
            }
        };
        let notification =
            Notification { title: record.title.clone(), body: format!("{}\n\n{}", record.body, wib_text(raised_at)) };
        // Kept before any channel is tried, so the alert is listed even if every channel fails.
        self.log.save_alert(&record).await?;
        let mut delivered = Delivered::default();
        for notifier in self.notifiers {
            let channel = notifier.channel();
            if record.delivered.iter().chain(&record.failed).any(|c| c == channel) {
                continue;
            }
            match notifier.notify(&notification).await {
                Ok(()) => {
                    // Saved at once: a crash before the next channel must not send this one again.
                    record.delivered.push(channel.to_string());
                    delivered.notified += 1;
                    self.log.save_alert(&record).await?;
                }
                Err(e) if e.is_retryable() => delivered.retry.push(e.to_string()),
                Err(e) => {
                    // A refusal (a wrong chat id, an unverified sender) will not pass on a retry.
                    tracing::error!(alert = %id, channel, error = %e, "alert channel refused the alert");
                    record.failed.push(channel.to_string());
                    self.log.save_alert(&record).await?;
                }
            }
        }
        Ok(delivered)
    }
}

/// The WIB days an alert listing covers, as the months the log is kept by.
pub fn months_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<chrono::NaiveDate> {
    crate::stores::alerts::months(wib_date(from), wib_date(to))
}
