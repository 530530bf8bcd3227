//! The answer library: answers prepared for citizens' messages (docs/design.md: answer influential
//! critics always with a prepared answer — article, news, FAQ).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::Category;

/// A prepared answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub id: String,
    pub title: String,
    pub text: String,
    /// Article, news or FAQ page the answer points to.
    pub link: Option<String>,
    pub topics: Vec<String>,
    /// Categories it fits (empty: any).
    pub categories: Vec<Category>,
    /// Text per platform where it differs (X's 280 characters, WhatsApp's tone…).
    pub variants: BTreeMap<String, String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}
