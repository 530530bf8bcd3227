//! Lambda `classify`: classifies, triages and counts the received mentions, a queue's batch at
//! a time.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::classify::DEFAULT_MODEL;
use pantau::config::Env;
use pantau::handlers::classify::handle_batch;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let service = rt.classify_service(DEFAULT_MODEL, &Env).await?;
    lambda::run_queue(|triggers| handle_batch(&service, triggers)).await
}
