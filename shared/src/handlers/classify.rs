//! The `classify` function: on `MentionReceived`, classify the mention (see
//! [`crate::app::classification`]).

use crate::app::classification::{ClassifyOutcome, ClassifyService};
use crate::domain::EventKind;

use super::{FunctionError, Trigger, not_mine};

pub async fn handle(service: &ClassifyService, trigger: Trigger) -> Result<ClassifyOutcome, FunctionError> {
    match trigger {
        Trigger::Event(EventKind::MentionReceived { key }) => Ok(service.classify(&key).await?),
        other => Err(not_mine("classify", &other)),
    }
}
