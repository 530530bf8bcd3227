//! `pantau serve`: the HTTP routes of the API Gateway, the relay task and the scheduler. Each
//! request is routed, sized and (for `/v1`) authenticated before its body is read; connections
//! are capped and timed out (see [`crate::connections`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use pantau::auth::Credential;
use pantau::handlers::{Trigger, api, ingest_webhook};
use pantau::http::{Function, MAX_URI, Response, problem, route, too_large, unrouted};
use pantau::schedule::{Every, SCHEDULES, ScheduleName};

use crate::app::LocalApp;
use crate::connections::{Connections, Limits, Slot};

/// Serves until Ctrl-C.
pub async fn serve(app: Arc<LocalApp>, addr: SocketAddr) -> anyhow::Result<()> {
    let limits = Limits::from_env()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The one line a supervisor (or a test) reads to learn the address, a chosen port included.
    eprintln!("pantau: serving on http://{}", listener.local_addr()?);
    tracing::info!(?limits, "serving");
    tokio::spawn(relay_task(app.clone()));
    for schedule in SCHEDULES {
        tokio::spawn(schedule_task(app.clone(), schedule.name, schedule.function, Every::parse(schedule.expression)?));
    }
    let connections = Connections::new(limits.max_connections);
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = connections.admit() => slot,
            _ = &mut shutdown => return Ok(()),
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        tokio::spawn(connection(app.clone(), connections.clone(), stream, slot, limits));
    }
}

/// One connection: HTTP/1 with a deadline for each request head, closed when idle too long or
/// when the registry needs its place.
async fn connection(
    app: Arc<LocalApp>,
    connections: Arc<Connections>,
    stream: tokio::net::TcpStream,
    slot: Slot,
    limits: Limits,
) {
    let activity = slot.activity.clone();
    let io = TokioIo::new(connections.track(stream, activity.clone()));
    let service = hyper::service::service_fn(move |request| {
        let (app, busy) = (app.clone(), activity.busy());
        async move {
            let response = handle(&app, request, limits).await;
            drop(busy);
            Ok::<_, Infallible>(response.map(Full::new))
        }
    });
    // hyper's own head timer starts whenever it waits for a request, so on a kept-alive
    // connection it would cut the idle wait short: it is set to the idle deadline, and the head
    // deadline is ours (from the connection's start or a request's first byte).
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout.max(limits.header_timeout))
        .max_buf_size(64 * 1024);
    let served = http1.serve_connection(io, service);
    tokio::select! {
        _ = served => {}
        _ = connections.idle_for(&slot.activity, limits.idle_timeout) => {}
        _ = connections.head_overdue(&slot.activity, limits.header_timeout) => {}
        _ = slot.activity.closed() => {}
    }
    drop(slot);
}

/// A refusal sent before the body was read: the connection closes, the rest of the body unread.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A small body is read and dropped before a refusal closes the connection: closing a socket
/// with unread bytes resets it, and a reset can reach the client before it has read the refusal.
/// At most this many declared bytes, within [`DRAIN_TIME`]; nothing is kept. A larger or
/// undeclared body is not read at all (the connection closes at once).
const DRAIN_BYTES: u64 = 64 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

async fn refuse(response: Response, body: Incoming, declared: Option<u64>) -> Response {
    if declared.is_some_and(|n| n > 0 && n <= DRAIN_BYTES) {
        let mut body = Limited::new(body, DRAIN_BYTES as usize);
        let _ = tokio::time::timeout(DRAIN_TIME, async { while let Some(Ok(_)) = body.frame().await {} }).await;
    }
    closing(response)
}

/// Routes, sizes and authenticates a request, then reads its body (within the route's limit
/// and the body deadline) and hands it to the function that owns the route.
async fn handle(app: &LocalApp, request: hyper::Request<Incoming>, limits: Limits) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.to_string().len() > MAX_URI {
        return closing(problem(
            StatusCode::URI_TOO_LONG,
            &format!("the request target is longer than {MAX_URI} bytes"),
        ));
    }
    let path = parts.uri.path().to_string();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let Ok((route, _)) = route(parts.method.as_str(), &path) else {
        return refuse(unrouted(&path), body, declared).await;
    };
    if declared.is_some_and(|n| n > route.max_body as u64) {
        return closing(too_large(route.max_body));
    }
    // `/v1`: the credential and the role before a byte of the body is read.
    let who = match route.function {
        Function::Api => {
            let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            match api::authorize(&app.api, &Credential::from_authorization(header), route).await {
                Ok(who) => Some(who),
                Err(refused) => return refuse(refused, body, declared).await,
            }
        }
        Function::IngestWebhook => None,
    };
    let bytes = match tokio::time::timeout(limits.body_timeout, Limited::new(body, route.max_body).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return closing(too_large(route.max_body)),
        Ok(Err(_)) => return closing(problem(StatusCode::BAD_REQUEST, "the body could not be read")),
        Err(_) => return closing(problem(StatusCode::REQUEST_TIMEOUT, "the body did not arrive in time")),
    };
    let request = http::Request::from_parts(parts, bytes);
    match (route.function, who) {
        (Function::Api, Some(who)) => api::serve(&app.api, who, route, request).await,
        _ => ingest_webhook::handle(&app.webhook, request).await,
    }
}

/// Dispatches a request whose body is already read (`invoke` and the demo).
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
