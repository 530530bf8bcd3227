//! Lambda `classify`: classifies, triages and counts each received mention.

use std::sync::Arc;

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::classify::DEFAULT_MODEL;
use pantau::config::{Env, triage_settings};
use pantau::handlers::classify::{ClassifyState, handle, load_classifier};
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = ClassifyState {
        mentions: rt.store.clone(),
        cases: rt.store.clone(),
        config: rt.store.clone(),
        announce: rt.inline_relay(),
        classifier: Arc::new(load_classifier(DEFAULT_MODEL, rt.store.as_ref()).await?),
        triage: triage_settings(&Env)?,
        clock: rt.clock.clone(),
    };
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
