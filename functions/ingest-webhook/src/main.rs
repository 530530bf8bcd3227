//! Lambda `ingest-webhook`: platform webhooks behind API Gateway.

use std::sync::Arc;

use lambda_http::Error;
use pantau::aws::AwsRuntime;
use pantau::handlers::ingest_webhook::{WebhookSecrets, WebhookState, handle};
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = WebhookState {
        mentions: rt.store.clone(),
        cases: rt.store.clone(),
        config: rt.store.clone(),
        quarantine: Arc::new(rt.blob_store()?),
        announce: rt.inline_relay(),
        secrets: WebhookSecrets::from_secrets(&rt.secrets),
        clock: rt.clock.clone(),
    };
    lambda::run_http(|_, request| handle(&state, request)).await
}
