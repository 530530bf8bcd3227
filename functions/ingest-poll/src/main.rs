//! Lambda `ingest-poll`: X mentions, YouTube comments, news feeds and Instagram lookups.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::config::{Env, PollSettings};
use pantau::handlers::ingest_poll::{PollState, PollTokens, handle};
use pantau::platforms::client::ApiClient;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = PollState {
        mentions: rt.store.clone(),
        config: rt.store.clone(),
        announce: rt.inline_relay(),
        client: ApiClient::new()?,
        settings: PollSettings::from_source(&Env)?,
        tokens: PollTokens::from_secrets(&rt.secrets),
        clock: rt.clock.clone(),
    };
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
