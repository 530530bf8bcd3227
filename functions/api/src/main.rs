//! Lambda `api`: the `/v1` HTTP API behind API Gateway's JWT authorizer.

use lambda_http::Error;
use pantau::auth::Authenticator;
use pantau::aws::AwsRuntime;
use pantau::config::ConfigError;
use pantau::cursor::CursorSigner;
use pantau::handlers::api::{ApiState, handle};
use pantau::{lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_lambda();
    let rt = AwsRuntime::load().await?;
    let cursor_key =
        rt.secrets.get("PANTAU_CURSOR_SECRET").cloned().ok_or(ConfigError::Missing("PANTAU_CURSOR_SECRET"))?;
    let role_claim = std::env::var("PANTAU_ROLE_CLAIM").unwrap_or_else(|_| "pantau_role".into());
    let state = ApiState {
        mentions: rt.store.clone(),
        cases: rt.store.clone(),
        config: rt.store.clone(),
        counters: rt.store.clone(),
        announce: rt.inline_relay(),
        auth: Authenticator::new(Authenticator::admin_keys(rt.secrets.get("PANTAU_API_KEYS")), role_claim),
        cursors: CursorSigner::new(cursor_key),
        clock: rt.clock.clone(),
    };
    let state = &state;
    lambda::run_http(|credential, request| async move { handle(state, &credential, request).await }).await
}
