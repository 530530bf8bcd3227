//! An officer's correction of a mention's labels: counters move in the same write, a case opens
//! when the new category calls for one (or an open case takes the new labels), an influential
//! hater alerts, and the text is kept as training feedback.

use chrono::{DateTime, Utc};

use super::cases::CaseDesk;
use super::classification::hater_alert;
use super::counting::count_changes;
use crate::domain::{Category, Correction, Feedback, Mention, MentionKey, Sentiment};
use crate::error::StoreError;
use crate::ports::{Announce, MentionStore};
use crate::stores::FeedbackStore;

/// Attempts when a mention changes between read and write (a classification landing).
const ATTEMPTS: usize = 3;

/// What a correction needs.
pub struct Corrections<'a> {
    pub mentions: &'a dyn MentionStore,
    pub desk: CaseDesk<'a>,
    pub feedback: &'a dyn FeedbackStore,
    pub announce: &'a dyn Announce,
}

/// The labels an officer sets; what is left out stays as classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relabel {
    pub category: Option<Category>,
    pub sentiment: Option<Sentiment>,
    pub note: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Why a correction was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CorrectionError {
    #[error("no mention {0}")]
    NotFound(MentionKey),
    #[error("mention {0} is not classified yet; correct it after classification")]
    NotClassified(MentionKey),
    #[error("mention {0} was deleted by its author")]
    Deleted(MentionKey),
    #[error("mention {0} kept changing; try again")]
    KeptChanging(MentionKey),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Corrections<'_> {
    /// Applies a correction; returns the mention as stored now.
    pub async fn correct(&self, key: &MentionKey, relabel: Relabel) -> Result<Mention, CorrectionError> {
        for _ in 0..ATTEMPTS {
            let current =
                self.mentions.get_mention(key).await?.ok_or_else(|| CorrectionError::NotFound(key.clone()))?;
            let Some(class) = &current.classification else { return Err(CorrectionError::NotClassified(key.clone())) };
            if current.deleted_at.is_some() {
                return Err(CorrectionError::Deleted(key.clone()));
            }
            let correction = Correction {
                category: relabel.category.unwrap_or(class.category),
                sentiment: relabel.sentiment.unwrap_or(class.sentiment),
                model_category: current.correction.as_ref().map_or(Some(class.category), |c| c.model_category),
                model_sentiment: current.correction.as_ref().map_or(Some(class.sentiment), |c| c.model_sentiment),
                by: relabel.by.clone(),
                at: relabel.at,
                note: relabel.note.clone(),
                text_revision: current.text_revision(),
            };
            let mut next = current.corrected(correction.clone());
            next.revision = current.revision + 1;
            let counts = count_changes(&current, &next);
            let events: Vec<_> = hater_alert(&current, &next, "api", relabel.at).into_iter().collect();
            match self.mentions.replace_mention(&next, current.revision, &counts, &events).await {
                Err(StoreError::Conflict { .. }) => continue,
                other => other?,
            }
            self.announce.announce(&events).await;
            self.feedback.save_feedback(&Feedback::of(&next, &correction)).await?;
            if self.desk.open_for(&next, relabel.at).await?.is_none() {
                self.relabel_case(&next).await?;
            }
            return Ok(next);
        }
        Err(CorrectionError::KeptChanging(key.clone()))
    }

    /// Gives an open case the corrected labels (the inbox shows what the officer decided). A
    /// case changed meanwhile keeps its labels; the officer sees both and can correct again.
    async fn relabel_case(&self, mention: &Mention) -> Result<(), StoreError> {
        let (Some(class), Some(triage)) = (&mention.classification, &mention.triage) else { return Ok(()) };
        let Some(case) = self.desk.cases.get_case(&mention.key.to_string()).await? else { return Ok(()) };
        if !case.status.is_open() || (case.category, case.priority) == (class.category, triage.priority) {
            return Ok(());
        }
        let next = case.relabelled(class.category, triage.priority, class.topics.clone());
        match self.desk.cases.update_case(&next, case.revision, &[]).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
