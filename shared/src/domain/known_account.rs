//! Known accounts: authors the office keeps a record of (media outlets, public figures, known
//! critics and advocates), with the influence tier it judges them to have. Triage takes the
//! tier from here before follower counts, which only X gives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::{Influence, Platform, vocabulary};

/// Longest author id a known account may have (as for mention external ids).
pub const MAX_AUTHOR_ID: usize = 256;

vocabulary! {
    /// What the office knows an account as.
    AccountKind, "account kind" {
        /// A news outlet or journalist.
        Media => "media",
        /// A public figure: an official, a politician, an influencer.
        TokohPublik => "tokoh_publik",
        /// A known critic of the office.
        Pengkritik => "pengkritik",
        /// A known advocate of the office.
        Pendukung => "pendukung",
    }
}

/// One known account, identified by platform and the author's platform id (ids stay when a
/// handle is renamed, and a freed handle taken by someone else does not inherit the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownAccount {
    pub platform: Platform,
    /// The author's platform id, as mentions carry it (`author.id`).
    pub author_id: String,
    pub kind: AccountKind,
    /// The tier triage uses for this author, whatever its follower count.
    pub influence: Influence,
    /// The name officers know the account by.
    pub name: String,
    pub notes: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// Counts the changes; a change names the revision it was made from.
    pub revision: u32,
}

impl KnownAccount {
    /// The account's id, `{platform}:{author_id}` (as `/v1/accounts/{account}` takes it).
    pub fn id(&self) -> String {
        account_id(self.platform, &self.author_id)
    }
}

/// `{platform}:{author_id}`.
pub fn account_id(platform: Platform, author_id: &str) -> String {
    format!("{platform}:{author_id}")
}

/// Whether `id` can be a platform's author id: 1 to [`MAX_AUTHOR_ID`] bytes without control
/// characters or white space.
pub fn valid_author_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_AUTHOR_ID && !id.chars().any(|c| c.is_control() || c.is_whitespace())
}
