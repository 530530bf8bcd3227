//! Lambda `classify`: classifies, triages and counts the received mentions, a queue's batch at
//! a time.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::classify::lexicon::lexicon;
use pantau::config::{Env, model_file};
use pantau::handlers::classify::handle_batch;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    // What needs nothing from AWS — the model file of the function's layer (the binary carries
    // no model) and the classifier's word table — is prepared while the secret is read.
    let prepared = tokio::task::spawn_blocking(|| {
        lexicon();
        model_file(&Env)
    });
    let rt = AwsRuntime::load().await?;
    let service = rt.classify_service(&prepared.await??, &Env).await?;
    lambda::run_queue(|triggers| handle_batch(&service, triggers)).await
}
