//! Cases: a mention the office must answer, with a status workflow and an SLA clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::{Category, vocabulary};
use super::mention::MentionKey;

vocabulary! {
    /// Case status, following SP4N-LAPOR! practice.
    CaseStatus, "case status" {
        Baru => "baru",
        Diverifikasi => "diverifikasi",
        Ditindaklanjuti => "ditindaklanjuti",
        Selesai => "selesai",
        Ditunda => "ditunda",
        /// Not the office's authority; forwarded.
        BukanWewenang => "bukan_wewenang",
        DitutupOtomatis => "ditutup_otomatis",
    }
}

impl CaseStatus {
    /// Statuses a case may move to from this one.
    pub fn allowed_next(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            Baru => &[Diverifikasi, Ditunda, BukanWewenang],
            Diverifikasi => &[Ditindaklanjuti, Ditunda, BukanWewenang],
            Ditindaklanjuti => &[Selesai, Ditunda, DitutupOtomatis],
            Ditunda => &[Diverifikasi, Ditindaklanjuti, BukanWewenang],
            Selesai | BukanWewenang | DitutupOtomatis => &[],
        }
    }

    /// Whether the case still waits for the office (and so sits in the inbox).
    pub fn is_open(self) -> bool {
        !self.allowed_next().is_empty()
    }
}

/// One recorded status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTransition {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// A case and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub mention_key: MentionKey,
    pub category: Category,
    pub status: CaseStatus,
    pub opened_at: DateTime<Utc>,
    /// The next SLA deadline; the inbox is ordered by it.
    pub due_at: DateTime<Utc>,
    pub assignee: Option<String>,
    pub history: Vec<CaseTransition>,
}

impl Case {
    /// Applies a transition if the workflow allows it; the store makes it conditional on `from`.
    pub fn transition(&self, change: CaseTransition) -> Result<Case, InvalidTransition> {
        if change.from != self.status || !self.status.allowed_next().contains(&change.to) {
            return Err(InvalidTransition { from: self.status, to: change.to });
        }
        let mut next = self.clone();
        next.status = change.to;
        next.history.push(change);
        Ok(next)
    }
}

/// A transition the workflow does not allow; carries what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot move a case from {from} to {to}; allowed: {}", allowed(*from))]
pub struct InvalidTransition {
    pub from: CaseStatus,
    pub to: CaseStatus,
}

fn allowed(from: CaseStatus) -> String {
    let next: Vec<&str> = from.allowed_next().iter().map(|s| s.as_str()).collect();
    if next.is_empty() { "none (closed)".to_string() } else { next.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn workflow_allows_only_listed_moves() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 3, 0, 0).unwrap();
        let case = Case {
            id: "c1".into(),
            mention_key: "x:1".parse().unwrap(),
            category: Category::Pengaduan,
            status: CaseStatus::Baru,
            opened_at: at,
            due_at: at,
            assignee: None,
            history: vec![],
        };
        let step = |from, to| CaseTransition { from, to, by: "op".into(), at, note: None };
        let verified = case.transition(step(CaseStatus::Baru, CaseStatus::Diverifikasi)).unwrap();
        assert_eq!(verified.status, CaseStatus::Diverifikasi);
        assert_eq!(verified.history.len(), 1);
        let err = case.transition(step(CaseStatus::Baru, CaseStatus::Selesai)).unwrap_err();
        assert!(err.to_string().contains("allowed: diverifikasi, ditunda, bukan_wewenang"), "{err}");
        // a stale `from` is refused even when the move itself would be allowed
        assert!(verified.transition(step(CaseStatus::Baru, CaseStatus::Diverifikasi)).is_err());
        assert!(!CaseStatus::Selesai.is_open());
        assert!(CaseStatus::Ditunda.is_open());
    }
}
