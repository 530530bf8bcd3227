//! Cases: a mention the office must answer, with a status workflow and SLA clocks
//! (docs/design.md "SLA clocks"). The case id is the mention key, so opening a case twice for the
//! same mention is a no-op.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::{Category, Priority, vocabulary};
use super::mention::{CaseRef, Mention, MentionKey};
use crate::sla::{Calendar, SlaDue, SlaPolicy};

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
        /// Closed by `watch` when nobody replied after the office's response.
        DitutupOtomatis => "ditutup_otomatis",
    }
}

impl CaseStatus {
    /// Statuses an officer may move a case to from this one (`ditutup_otomatis` is set only by
    /// the system, from any open status once the office has responded).
    pub fn allowed_next(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            Baru => &[Diverifikasi, Ditunda, BukanWewenang],
            Diverifikasi => &[Ditindaklanjuti, Ditunda, BukanWewenang],
            Ditindaklanjuti => &[Selesai, Ditunda],
            Ditunda => &[Diverifikasi, Ditindaklanjuti, BukanWewenang],
            Selesai | BukanWewenang | DitutupOtomatis => &[],
        }
    }

    /// Whether the case still waits for the office (and so sits in the inbox).
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Selesai | CaseStatus::BukanWewenang | CaseStatus::DitutupOtomatis)
    }
}

vocabulary! {
    /// One SLA clock of a case.
    Clock, "SLA clock" {
        /// The case leaves `baru` (working days).
        Triase => "triase",
        /// The social-media response target in hours, on top of the formal one.
        ResponMedsos => "respon_medsos",
        /// First response (working days).
        Respon => "respon",
        /// Resolution (calendar days).
        Penyelesaian => "penyelesaian",
    }
}

/// Who did something the system did on its own.
pub const SYSTEM: &str = "sistem";

/// One recorded status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTransition {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    /// The client's `Idempotency-Key` digest, so a retried request is recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// How a reply reached the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplySource {
    /// An officer logged it through the API.
    Dicatat,
    /// Seen on the platform: the office's own account replied.
    Platform,
    /// Sent by Pantau from the inbox, on the platform.
    Dikirim,
}

/// A response of the office to the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReply {
    pub id: String,
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
    pub url: Option<String>,
    pub answer_id: Option<String>,
    pub source: ReplySource,
}

/// An SLA alert already raised for a case (so `watch` raises each once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedAlert {
    pub clock: Clock,
    /// `pengingat` (about to breach) or `terlewat` (breached).
    pub stage: super::alert::SlaStage,
    pub at: DateTime<Utc>,
}

/// A case and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The mention key.
    pub id: String,
    pub mention_key: MentionKey,
    /// When the mention was written (orders cases with their mentions).
    pub mention_created_at: DateTime<Utc>,
    /// `{platform}#{author_id}`, for the author's history and data-subject requests.
    pub author_key: Option<String>,
    pub category: Category,
    pub priority: Priority,
    pub topics: Vec<String>,
    pub status: CaseStatus,
    pub opened_at: DateTime<Utc>,
    /// Due times of every clock, from the message's arrival.
    pub sla: SlaDue,
    /// Resolution needs a field check (the longer resolution clock applies).
    pub field_check: bool,
    /// The earliest deadline not met yet; the inbox is ordered by it.
    pub due_at: DateTime<Utc>,
    pub assignee: Option<String>,
    pub unit: Option<String>,
    /// When the case left `baru`.
    pub triaged_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub replies: Vec<CaseReply>,
    /// When the case closes by itself if the citizen does not write again.
    pub auto_close_at: Option<DateTime<Utc>>,
    pub alerts: Vec<RaisedAlert>,
    pub history: Vec<CaseTransition>,
    /// Moved forward by every change (several changes of one write may move it several steps);
    /// stores update conditionally on the revision read.
    pub revision: u32,
}

/// Whether a classified mention opens a case (docs/design.md "Classification").
pub fn opens_case(mention: &Mention) -> bool {
    let (Some(class), Some(triage)) = (&mention.classification, &mention.triage) else { return false };
    match class.category {
        Category::Pengaduan | Category::PermintaanInformasi | Category::Aspirasi => true,
        Category::Hater => crate::classify::triage::is_influential(triage.influence),
        Category::Apresiasi | Category::Lainnya => false,
    }
}

impl Case {
    /// The case a classified mention opens, its clocks started from the message's arrival.
    pub fn open(mention: &Mention, policy: &SlaPolicy, calendar: &Calendar, now: DateTime<Utc>) -> Option<Case> {
        if !opens_case(mention) {
            return None;
        }
        let (class, triage) = (mention.classification.as_ref()?, mention.triage.as_ref()?);
        let sla = policy.due(mention.received_at, false, calendar);
        let mut case = Case {
            id: mention.key.to_string(),
            mention_key: mention.key.clone(),
            mention_created_at: mention.created_at,
            author_key: mention.author_key(),
            category: class.category,
            priority: triage.priority,
            topics: class.topics.clone(),
            status: CaseStatus::Baru,
            opened_at: now,
            due_at: sla.triage_due,
            sla,
            field_check: false,
            assignee: None,
            unit: None,
            triaged_at: None,
            first_response_at: None,
            closed_at: None,
            replies: Vec::new(),
            auto_close_at: None,
            alerts: Vec::new(),
            history: Vec::new(),
            revision: 0,
        };
        case.due_at = case.next_due().unwrap_or(case.sla.triage_due);
        Some(case)
    }

    /// Applies an officer's transition if the workflow allows it.
    pub fn transition(&self, change: CaseTransition) -> Result<Case, InvalidTransition> {
        if change.from != self.status || !self.status.allowed_next().contains(&change.to) {
            return Err(InvalidTransition { from: self.status, to: change.to });
        }
        Ok(self.moved(change))
    }

    /// Closes a case nobody replied to after the office's response.
    pub fn auto_close(&self, at: DateTime<Utc>) -> Option<Case> {
        if !self.status.is_open() || self.first_response_at.is_none() {
            return None;
        }
        let note = Some("ditutup otomatis: tidak ada balasan warga setelah tanggapan".to_string());
        Some(self.moved(CaseTransition {
            from: self.status,
            to: CaseStatus::DitutupOtomatis,
            by: SYSTEM.into(),
            at,
            note,
            request: None,
        }))
    }

    fn moved(&self, change: CaseTransition) -> Case {
        let mut next = self.clone();
        // Closing a case nobody triaged is not triage.
        if self.status == CaseStatus::Baru && next.triaged_at.is_none() && change.to != CaseStatus::DitutupOtomatis {
            next.triaged_at = Some(change.at);
        }
        if !change.to.is_open() {
            next.closed_at = Some(change.at);
            next.auto_close_at = None;
        }
        next.status = change.to;
        next.history.push(change);
        next.touched()
    }

    /// Records a response; the first one stops the response clocks and every one restarts the
    /// automatic-close clock.
    pub fn replied(&self, reply: CaseReply, policy: &SlaPolicy, calendar: &Calendar) -> Case {
        let mut next = self.clone();
        next.first_response_at = Some(self.first_response_at.map_or(reply.at, |t| t.min(reply.at)));
        if next.status.is_open() {
            next.auto_close_at = Some(policy.auto_close_at(reply.at, calendar));
        }
        next.replies.push(reply);
        next.touched()
    }

    /// The citizen wrote again after the last response: the case no longer closes by itself.
    pub fn citizen_wrote_again(&self) -> Case {
        let mut next = self.clone();
        next.auto_close_at = None;
        next.touched()
    }

    /// Sets the field-check flag, which picks the longer resolution clock.
    pub fn with_field_check(&self, field_check: bool, policy: &SlaPolicy) -> Case {
        let mut next = self.clone();
        next.field_check = field_check;
        next.sla.resolution_due = policy.resolution_due(next.sla.start, field_check);
        next.touched()
    }

    /// Assigns the case to an officer and/or unit.
    pub fn assigned(&self, assignee: Option<String>, unit: Option<String>) -> Case {
        let mut next = self.clone();
        next.assignee = assignee;
        next.unit = unit;
        next.touched()
    }

    /// Takes an officer's corrected labels.
    pub fn relabelled(&self, category: Category, priority: Priority, topics: Vec<String>) -> Case {
        let mut next = self.clone();
        next.category = category;
        next.priority = priority;
        next.topics = topics;
        next.touched()
    }

    /// Records an SLA alert as raised.
    pub fn alerted(&self, alert: RaisedAlert) -> Case {
        let mut next = self.clone();
        next.alerts.push(alert);
        next.touched()
    }

    fn touched(mut self) -> Case {
        if let Some(due) = self.next_due() {
            self.due_at = due;
        }
        self.revision += 1;
        self
    }

    /// Each clock still running, with its due time.
    pub fn running_clocks(&self) -> Vec<(Clock, DateTime<Utc>)> {
        if !self.status.is_open() {
            return Vec::new();
        }
        let mut clocks = Vec::new();
        if self.status == CaseStatus::Baru {
            clocks.push((Clock::Triase, self.sla.triage_due));
        }
        if self.first_response_at.is_none() {
            if let Some(social) = self.sla.social_response_due {
                clocks.push((Clock::ResponMedsos, social));
            }
            clocks.push((Clock::Respon, self.sla.response_due));
        }
        clocks.push((Clock::Penyelesaian, self.sla.resolution_due));
        clocks
    }

    /// The earliest deadline still running.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.running_clocks().into_iter().map(|(_, due)| due).min()
    }

    /// Whether an alert for this clock and stage was raised already.
    pub fn has_alert(&self, clock: Clock, stage: super::alert::SlaStage) -> bool {
        self.alerts.iter().any(|a| a.clock == clock && a.stage == stage)
    }

    /// The summary shown with the mention.
    pub fn summary(&self) -> CaseRef {
        CaseRef { id: self.id.clone(), status: self.status, due_at: self.due_at }
    }
}

/// A transition the workflow does not allow; carries what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot move a case from {from} to {to}; allowed: {}", allowed(*from))]
pub struct InvalidTransition {
    pub from: CaseStatus,
    pub to: CaseStatus,
}

impl InvalidTransition {
    /// The statuses that are allowed instead.
    pub fn allowed(&self) -> Vec<CaseStatus> {
        self.from.allowed_next().to_vec()
    }
}

fn allowed(from: CaseStatus) -> String {
    let next: Vec<&str> = from.allowed_next().iter().map(|s| s.as_str()).collect();
    if next.is_empty() { "none (closed)".to_string() } else { next.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Account, Action};
    use crate::domain::{Author, Classification, Influence, Language, Scores, Sentiment, Triage};
    use chrono::TimeZone;

    fn mention(category: Category, influence: Influence) -> Mention {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap();
        let new = crate::domain::NewMention::new(
            "x:1".parse().unwrap(),
            "jalan rusak",
            at,
            Author { id: Some("u1".into()), handle: None, name: None, followers: Some(10) },
        );
        let mut m = Mention::received(new, at);
        m.classification = Some(Classification {
            category,
            sentiment: Sentiment::Negatif,
            language: Language::Indonesian,
            topics: vec!["infrastruktur_jalan".into()],
            confidence: 0.9,
            scores: Scores::default(),
            reasons: vec![],
            model: "m".into(),
            classified_at: at,
            text_revision: 0,
        });
        m.triage =
            Some(Triage { influence, priority: Priority::P2, action: Action::TanggapiSegera, account: Account::Resmi });
        m
    }

    #[test]
    fn cases_open_for_the_documented_categories_only() {
        let cal = Calendar::builtin().unwrap();
        let p = SlaPolicy::default();
        let now = Utc::now();
        for (category, influence, opens) in [
            (Category::Pengaduan, Influence::Kecil, true),
            (Category::PermintaanInformasi, Influence::TidakDiketahui, true),
            (Category::Aspirasi, Influence::Kecil, true),
            (Category::Hater, Influence::Besar, true),
            (Category::Hater, Influence::SangatBesar, true),
            (Category::Hater, Influence::Menengah, false),
            (Category::Apresiasi, Influence::SangatBesar, false),
            (Category::Lainnya, Influence::Kecil, false),
        ] {
            assert_eq!(Case::open(&mention(category, influence), &p, &cal, now).is_some(), opens, "{category}");
        }
    }

    #[test]
    fn workflow_allows_only_listed_moves_and_clocks_stop() {
        let cal = Calendar::builtin().unwrap();
        let p = SlaPolicy::default();
        let m = mention(Category::Pengaduan, Influence::Kecil);
        let case = Case::open(&m, &p, &cal, m.received_at).unwrap();
        assert_eq!(case.status, CaseStatus::Baru);
        assert_eq!(case.due_at, case.sla.social_response_due.unwrap(), "the social-media target is the nearest");
        let at = m.received_at;
        let step = |from, to| CaseTransition { from, to, by: "op".into(), at, note: None, request: None };
        let verified = case.transition(step(CaseStatus::Baru, CaseStatus::Diverifikasi)).unwrap();
        assert_eq!(verified.status, CaseStatus::Diverifikasi);
        assert_eq!(verified.triaged_at, Some(at));
        assert_eq!(verified.revision, 1);
        let err = case.transition(step(CaseStatus::Baru, CaseStatus::Selesai)).unwrap_err();
        assert!(err.to_string().contains("allowed: diverifikasi, ditunda, bukan_wewenang"), "{err}");
        assert!(case.transition(step(CaseStatus::Baru, CaseStatus::DitutupOtomatis)).is_err(), "system only");
        // a stale `from` is refused even when the move itself would be allowed
        assert!(verified.transition(step(CaseStatus::Baru, CaseStatus::Diverifikasi)).is_err());
        assert!(case.auto_close(at).is_none(), "no response yet");
        let reply = CaseReply {
            id: "r1".into(),
            at,
            by: "op".into(),
            text: "Terima kasih".into(),
            url: None,
            answer_id: None,
            source: ReplySource::Dicatat,
        };
        let answered = verified.replied(reply, &p, &cal);
        assert_eq!(answered.first_response_at, Some(at));
        assert_eq!(answered.due_at, answered.sla.resolution_due, "only resolution still runs");
        assert!(answered.auto_close_at.is_some());
        let closed = answered.auto_close(at).unwrap();
        assert_eq!((closed.status, closed.closed_at), (CaseStatus::DitutupOtomatis, Some(at)));
        assert!(closed.running_clocks().is_empty());
        assert!(!CaseStatus::Selesai.is_open());
        assert!(CaseStatus::Ditunda.is_open());
        // Answered straight from `baru` and closed by the system: never triaged.
        let untriaged = case.replied(answered.replies[0].clone(), &p, &cal).auto_close(at).unwrap();
        assert_eq!((untriaged.status, untriaged.triaged_at), (CaseStatus::DitutupOtomatis, None));
    }
}
