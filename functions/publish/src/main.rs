//! Lambda `publish` (schedule `publish`, every minute): series made into occurrences ahead and
//! every due occurrence posted at most once.

use lambda_runtime::Error;
use pantau::aws::AwsRuntime;
use pantau::config::Env;
use pantau::handlers::publish::handle;
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let service = rt.publish_service(&Env)?;
    lambda::run_events(|trigger| handle(&service, trigger)).await
}
