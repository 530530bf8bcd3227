//! Lambda `ingest-poll`: X mentions, YouTube comments, news feeds and Instagram lookups.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::config::Env;
use pantau::handlers::ingest_poll::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = rt.poll_state(&Env)?;
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
