//! The `classify` function: on `MentionReceived`, classify the mention (see
//! [`crate::app::classification`]). On AWS the events arrive in batches from a queue.

use crate::app::classification::{ClassifyOutcome, ClassifyService};
use crate::domain::EventKind;

use super::{FunctionError, Trigger, not_mine};

/// One event (the single-server bus, `pantau invoke`).
pub async fn handle(service: &ClassifyService, trigger: Trigger) -> Result<ClassifyOutcome, FunctionError> {
    let mut results = handle_batch(service, vec![trigger]).await;
    results.pop().unwrap_or_else(|| Err(FunctionError::Rejected("classify was handed no event".into())))
}

/// A batch of events (one queue delivery), classified together; one result per trigger, in order.
pub async fn handle_batch(
    service: &ClassifyService,
    triggers: Vec<Trigger>,
) -> Vec<Result<ClassifyOutcome, FunctionError>> {
    let mut keys = Vec::new();
    let mut results: Vec<Option<Result<ClassifyOutcome, FunctionError>>> = Vec::with_capacity(triggers.len());
    for trigger in &triggers {
        match trigger {
            Trigger::Event(EventKind::MentionReceived { key }) => {
                keys.push(key.clone());
                results.push(None);
            }
            other => results.push(Some(Err(not_mine("classify", other)))),
        }
    }
    let mut classified = service.classify_batch(&keys).await.into_iter();
    results
        .into_iter()
        .map(|result| match result {
            Some(refused) => refused,
            None => match classified.next() {
                Some(result) => result.map_err(FunctionError::from),
                None => Err(FunctionError::Retryable("classify lost a result".into())),
            },
        })
        .collect()
}
