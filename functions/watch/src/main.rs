//! Lambda `watch`: outbox relay sweep, SLA and spike watching, alert delivery.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::config::Env;
use pantau::handlers::watch::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = rt.watch_state(&Env)?;
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
