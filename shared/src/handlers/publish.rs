//! The `publish` function (schedule `publish`, every minute): one tick of the publisher (see
//! [`crate::app::publishing::publisher`]).

use crate::app::publishing::publisher::{PublishService, TickOutcome};
use crate::schedule::ScheduleName;

use super::{FunctionError, Trigger, not_mine};

pub async fn handle(service: &PublishService, trigger: Trigger) -> Result<TickOutcome, FunctionError> {
    match trigger {
        Trigger::Schedule(ScheduleName::Publish) => Ok(service.tick().await?),
        other => Err(not_mine("publish", &other)),
    }
}
