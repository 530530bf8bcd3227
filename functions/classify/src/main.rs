//! Lambda `classify`: classifies, triages and counts the received mentions, a queue's batch at
//! a time.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::config::{Env, model_file};
use pantau::handlers::classify::handle_batch;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    // The model comes with the function's layer, not inside its binary.
    let service = rt.classify_service(&model_file(&Env)?, &Env).await?;
    lambda::run_queue(|triggers| handle_batch(&service, triggers)).await
}
