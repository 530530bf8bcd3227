//! Lambda `report`: scheduled and requested reports into S3.

use std::sync::Arc;

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
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
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
