//! Officers' corrections kept as training data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::{Category, Sentiment};
use super::mention::{Correction, Mention};

/// One corrected message, as `pantau train --feedback` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub key: String,
    pub text: String,
    pub category: Category,
    pub sentiment: Sentiment,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Feedback {
    pub fn of(mention: &Mention, correction: &Correction) -> Feedback {
        Feedback {
            key: mention.key.to_string(),
            text: mention.text.clone(),
            category: correction.category,
            sentiment: correction.sentiment,
            by: correction.by.clone(),
            at: correction.at,
        }
    }
}
