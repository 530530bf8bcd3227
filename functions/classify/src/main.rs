//! Lambda `classify`: classifies, triages and counts each received mention.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::classify::DEFAULT_MODEL;
use pantau::config::Env;
use pantau::handlers::classify::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let service = rt.classify_service(DEFAULT_MODEL, &Env).await?;
    lambda::run_events(|trigger| handle(&service, trigger)).await
}
