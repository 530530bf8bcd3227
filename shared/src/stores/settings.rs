//! The office's settings documents, each one document with the id `default`: the topic
//! taxonomy (kind `taxonomy`), the holiday calendar (`holidays`) and the SLA policy (`sla`).
//! Without one, the built-in default applies.

use async_trait::async_trait;

use super::{decode, encode, get};
use crate::classify::Taxonomy;
use crate::error::StoreError;
use crate::ports::DocumentStore;
use crate::sla::{Calendar, CalendarDoc, DEFAULT_CALENDAR, SlaPolicy};

const TAXONOMY: &str = "taxonomy";
const HOLIDAYS: &str = "holidays";
const POLICY: &str = "sla";
const ID: &str = "default";

/// The office's settings documents.
#[async_trait]
pub trait Settings: Send + Sync {
    /// The office's own taxonomy, if it stored one.
    async fn stored_taxonomy(&self) -> Result<Option<Taxonomy>, StoreError>;
    async fn save_taxonomy(&self, taxonomy: &Taxonomy) -> Result<(), StoreError>;
    /// The holiday calendar in force (the shipped one unless replaced).
    async fn calendar_doc(&self) -> Result<CalendarDoc, StoreError>;
    async fn save_calendar(&self, calendar: &CalendarDoc) -> Result<(), StoreError>;
    /// The SLA policy in force (the default unless replaced).
    async fn sla_policy(&self) -> Result<SlaPolicy, StoreError>;
    async fn save_sla_policy(&self, policy: &SlaPolicy) -> Result<(), StoreError>;

    /// The taxonomy in force: the office's, else the built-in one.
    async fn taxonomy(&self) -> Result<Taxonomy, StoreError> {
        Ok(self.stored_taxonomy().await?.unwrap_or_else(Taxonomy::builtin))
    }

    /// The policy and working-day calendar SLA clocks run on.
    async fn sla(&self) -> Result<(SlaPolicy, Calendar), StoreError> {
        Ok((self.sla_policy().await?, Calendar::from_doc(&self.calendar_doc().await?)))
    }
}

#[async_trait]
impl<T: DocumentStore + ?Sized> Settings for T {
    async fn stored_taxonomy(&self) -> Result<Option<Taxonomy>, StoreError> {
        match self.get_doc(TAXONOMY, ID).await? {
            None => Ok(None),
            Some(value) => Taxonomy::from_json(&value.to_string())
                .map(Some)
                .map_err(|e| StoreError::corrupt(super::TABLE, "taxonomy/default", e)),
        }
    }

    async fn save_taxonomy(&self, taxonomy: &Taxonomy) -> Result<(), StoreError> {
        self.put_doc(TAXONOMY, ID, &encode(TAXONOMY, ID, taxonomy)?, None).await
    }

    async fn calendar_doc(&self) -> Result<CalendarDoc, StoreError> {
        match self.get_doc(HOLIDAYS, ID).await? {
            Some(value) => decode(HOLIDAYS, ID, value),
            None => serde_json::from_str(DEFAULT_CALENDAR)
                .map_err(|e| StoreError::corrupt(super::TABLE, "holidays/default", e)),
        }
    }

    async fn save_calendar(&self, calendar: &CalendarDoc) -> Result<(), StoreError> {
        self.put_doc(HOLIDAYS, ID, &encode(HOLIDAYS, ID, calendar)?, None).await
    }

    async fn sla_policy(&self) -> Result<SlaPolicy, StoreError> {
        Ok(get(self, POLICY, ID).await?.unwrap_or_default())
    }

    async fn save_sla_policy(&self, policy: &SlaPolicy) -> Result<(), StoreError> {
        self.put_doc(POLICY, ID, &encode(POLICY, ID, policy)?, None).await
    }
}
