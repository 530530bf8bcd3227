//! Lambda `api`: the `/v1` HTTP API behind API Gateway's JWT authorizer.

use lambda_http::Error;
use pantau::aws::AwsRuntime;
use pantau::config::Env;
use pantau::handlers::api::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = rt.api_state(&Env)?;
    let state = &state;
    lambda::run_http(|credential, request| async move { handle(state, &credential, request).await }).await
}
