//! Lambda `watch`: outbox relay sweep, SLA and spike watching, alert delivery.

use lambda_runtime::Error;
use pantau::adapters::notifier::notifiers;
use pantau::aws::AwsRuntime;
use pantau::config::{Env, spike_settings};
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
        notifiers: notifiers(&Env, &rt.secrets, Some(&rt.sdk))?,
        cases: rt.store.clone(),
        mentions: rt.store.clone(),
        counters: rt.store.clone(),
        spikes: spike_settings(&Env)?,
        clock: rt.clock.clone(),
    };
    lambda::run_events(|trigger| handle(&state, trigger)).await
}
