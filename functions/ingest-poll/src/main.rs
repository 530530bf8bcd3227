//! Lambda `ingest-poll`: polling of X, YouTube and news feeds. The capability is not built yet: the event is checked and
//! acknowledged so that the deployed suite is complete and observable.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pantau::handlers::{Trigger, not_built_yet};
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    run(service_fn(|event: LambdaEvent<EventBridgeEvent>| async move {
        let trigger = Trigger::from_event(&event.payload).map_err(lambda::lambda_error)?;
        Ok::<_, Error>(not_built_yet("ingest-poll", &trigger))
    }))
    .await
}
