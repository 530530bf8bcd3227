//! Lambda `report`: scheduled and requested reports into S3.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pantau::aws::AwsRuntime;
use pantau::handlers::Trigger;
use pantau::handlers::report::{ReportState, handle};
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = ReportState {
        mentions: rt.store.clone(),
        reports: rt.store.clone(),
        blobs: Arc::new(rt.blob_store()?),
        clock: rt.clock.clone(),
    };
    let state = &state;
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move {
        let trigger = Trigger::from_event(&event.payload).map_err(lambda::lambda_error)?;
        handle(state, trigger).await.map_err(lambda::lambda_error)
    }))
    .await
}
