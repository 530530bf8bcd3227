//! Lambda `report`: scheduled and requested reports into S3.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::config::Env;
use pantau::handlers::report::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = rt.report_state(&Env)?;
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
