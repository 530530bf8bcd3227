//! Lambda `ingest-poll`: X mentions, YouTube comments, news feeds and Instagram lookups.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pantau::aws::AwsRuntime;
use pantau::config::{Env, PollSettings};
use pantau::handlers::Trigger;
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
    let state = &state;
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move {
        let trigger = Trigger::from_event(&event.payload).map_err(lambda::lambda_error)?;
        handle(state, trigger).await.map_err(lambda::lambda_error)
    }))
    .await
}
