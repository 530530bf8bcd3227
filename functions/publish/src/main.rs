//! Lambda `publish`: publishing of due post occurrences. The capability is not built yet: the event is checked and
//! acknowledged so that the deployed suite is complete and observable.

use lambda_runtime::Error;
use pantau::handlers::not_built_yet;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    lambda::run_events(|trigger| async move { Ok(not_built_yet("publish", &trigger)) }).await
}
