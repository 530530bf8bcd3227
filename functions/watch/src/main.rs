//! Lambda `watch`: outbox relay sweep and alert delivery.

use std::sync::Arc;

use lambda_runtime::Error;
use pantau::adapters::notifier::LogNotifier;
use pantau::aws::AwsRuntime;
use pantau::handlers::watch::{WatchState, handle};
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let state = WatchState {
        outbox: rt.store.clone(),
        config: rt.store.clone(),
        bus: rt.bus.clone(),
        notifier: Arc::new(LogNotifier),
        clock: rt.clock.clone(),
    };
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
