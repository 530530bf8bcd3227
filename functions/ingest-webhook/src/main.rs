//! Lambda `ingest-webhook`: platform webhooks behind API Gateway.

use lambda_http::Error;
use pantau::aws::AwsRuntime;
use pantau::config::Env;
use pantau::handlers::ingest_webhook::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = rt.webhook_state(&Env)?;
    lambda::run_http(|_, request| handle(&state, request)).await
}
