//! `pantau serve`: the HTTP routes of the API Gateway, the relay task and the scheduler.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use bytes::Bytes;
use chrono::Utc;
use http::StatusCode;
use pantau::auth::Credential;
use pantau::handlers::{Trigger, api, ingest_webhook};
use pantau::http::{Function, Response, problem, route, unrouted};
use pantau::schedule::{Every, SCHEDULES, ScheduleName};

use crate::app::LocalApp;

/// Serves until Ctrl-C.
pub async fn serve(app: Arc<LocalApp>, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The one line a supervisor (or a test) reads to learn the address, a chosen port included.
    eprintln!("pantau: serving on http://{}", listener.local_addr()?);
    tokio::spawn(relay_task(app.clone()));
    for schedule in SCHEDULES {
        tokio::spawn(schedule_task(app.clone(), schedule.name, schedule.function, Every::parse(schedule.expression)?));
    }
    let router = Router::new().fallback(handle).with_state(app);
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// Dispatches a request to the function that owns its route.
pub async fn dispatch(app: &LocalApp, request: pantau::http::Request) -> Response {
    let function = match route(request.method().as_str(), request.uri().path()) {
        Ok((route, _)) => route.function,
        Err(_) => return unrouted(request.uri().path()),
    };
    match function {
        Function::IngestWebhook => ingest_webhook::handle(&app.webhook, request).await,
        Function::Api => {
            let header = request.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            let credential = Credential::from_authorization(header);
            api::handle(&app.api, &credential, request).await
        }
    }
}

/// The largest body any function takes; each handler then applies its own, smaller or not
/// (webhooks 256 KiB, `/v1` 4 MiB), as on AWS.
const MAX_BODY_BYTES: usize = if api::MAX_BODY_BYTES > ingest_webhook::MAX_BODY_BYTES {
    api::MAX_BODY_BYTES
} else {
    ingest_webhook::MAX_BODY_BYTES
};

async fn handle(State(app): State<Arc<LocalApp>>, request: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let response = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => dispatch(&app, http::Request::from_parts(parts, bytes)).await,
        Err(_) => problem(StatusCode::PAYLOAD_TOO_LARGE, &format!("body exceeds {MAX_BODY_BYTES} bytes")),
    };
    response.map(axum::body::Body::from)
}

/// Publishes committed events as soon as a handler announces them, and every second anyway.
async fn relay_task(app: Arc<LocalApp>) {
    loop {
        tokio::select! {
            _ = app.wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
        match app.drain().await {
            Ok(stats) if stats.failed > 0 => {
                tracing::warn!(failed = stats.failed, "some events could not be delivered; retrying")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "relay failed; retrying"),
        }
    }
}

/// Fires one schedule at its WIB times, like EventBridge Scheduler.
async fn schedule_task(app: Arc<LocalApp>, name: ScheduleName, function: &'static str, every: Every) {
    loop {
        let next = every.next_after(Utc::now());
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        match app.run_function(function, Trigger::Schedule(name)).await {
            Ok(_) => tracing::debug!(schedule = %name, function, "schedule ran"),
            Err(e) => tracing::error!(schedule = %name, function, error = %e, "scheduled run failed"),
        }
    }
}

/// Body of a request (used by `invoke` and the demo).
pub fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: impl Into<Bytes>,
) -> anyhow::Result<pantau::http::Request> {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    Ok(builder.body(body.into())?)
}
