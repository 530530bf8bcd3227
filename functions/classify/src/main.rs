//! Lambda `classify`: classifies, triages and counts the received mentions, a queue's batch at
//! a time.

use lambda_runtime::Error;
use pantau::aws::{AwsRuntime, load_model};
use pantau::classify::lexicon::lexicon;
use pantau::config::{Env, model_file};
use pantau::handlers::FunctionError::Rejected;
use pantau::handlers::classify::handle_batch;
use pantau::{lambda, telemetry};
use tokio::task::spawn_blocking;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    // What needs nothing from AWS is prepared while the secret is read: the classifier's word
    // table on one thread; on another, the model of the function's layer (the binary carries
    // none), read and parsed. The office's taxonomy is read while they finish.
    spawn_blocking(lexicon);
    let model = spawn_blocking(|| load_model(&model_file(&Env).map_err(|e| Rejected(e.to_string()))?));
    let rt = AwsRuntime::load().await?;
    let model = async { model.await.map_err(|e| Rejected(format!("loading the model: {e}")))? };
    let service = rt.classify_service(model, &Env).await?;
    lambda::run_queue(|triggers| handle_batch(&service, triggers)).await
}
