//! `pantau serve`: the HTTP routes of the API Gateway, the relay task and the scheduler. Each
//! request is routed, sized and (for `/v1`) authenticated before its body is read; connections
//! are capped and timed out (see [`crate::connections`]). The functions' work (handlers, relay,
//! schedules) runs on threads of its own, so a report build or a classification, CPU-bound for
//! a while, never holds up the threads that accept connections and read requests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
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
use crate::connections::{Connections, DRAIN_BYTES, DRAIN_TIME, Limits, Slot};

/// Serves until Ctrl-C.
pub async fn serve(app: Arc<LocalApp>, addr: SocketAddr) -> anyhow::Result<()> {
    let limits = Limits::from_env()?;
    let schedules = SCHEDULES
        .iter()
        .map(|s| Ok((s.name, s.function, Every::parse(s.expression)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let work = tokio::runtime::Builder::new_multi_thread().thread_name("pantau-work").enable_all().build()?;
    // The one line a supervisor (or a test) reads to learn the address, a chosen port included.
    eprintln!("pantau: serving on http://{}", listener.local_addr()?);
    tracing::info!(?limits, "serving");
    work.spawn(relay_task(app.clone()));
    for (name, function, every) in schedules {
        work.spawn(schedule_task(app.clone(), name, function, every));
    }
    accept(app, listener, limits, work.handle()).await;
    // Dropping the runtime would wait for its tasks, which never end.
    work.shutdown_background();
    Ok(())
}

/// Takes connections until Ctrl-C, each in its own task.
async fn accept(app: Arc<LocalApp>, listener: tokio::net::TcpListener, limits: Limits, work: &tokio::runtime::Handle) {
    let connections = Connections::new(limits.max_connections);
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = connections.admit() => slot,
            _ = &mut shutdown => return,
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
            _ = &mut shutdown => return,
        };
        tokio::spawn(connection(app.clone(), work.clone(), connections.clone(), stream, slot, limits));
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum Ended {
    /// HTTP says it is done (the client closed, or an answer said `Connection: close`).
    Done,
    Idle,
    HeadOverdue,
    /// Its place went to a new connection.
    Evicted,
}

/// One connection: HTTP/1 with a deadline for each request head, closed when idle too long or
/// when the registry needs its place.
async fn connection(
    app: Arc<LocalApp>,
    work: tokio::runtime::Handle,
    connections: Arc<Connections>,
    stream: tokio::net::TcpStream,
    slot: Slot,
    limits: Limits,
) {
    let activity = slot.activity.clone();
    let io = TokioIo::new(connections.track(stream, activity.clone()));
    let service = hyper::service::service_fn(move |request| {
        let (app, work, busy) = (app.clone(), work.clone(), activity.busy());
        // Boxed: polling the connection without hyper's own shutdown needs an Unpin future.
        Box::pin(async move {
            let response = handle(&app, &work, request, limits).await;
            drop(busy);
            Ok::<_, Infallible>(response.map(Full::new))
        })
    });
    // hyper's own head timer starts whenever it waits for a request, so on a kept-alive
    // connection it would cut the idle wait short: it is set to the idle deadline, and the head
    // deadline is ours (from the connection's start or a request's first byte).
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout.max(limits.header_timeout))
        .max_buf_size(64 * 1024);
    let mut served = http1.serve_connection(io, service);
    // The connection is looked at first, the deadlines after: bytes already received are read
    // (and a request in them begins) before a deadline that ran out meanwhile can cut them off.
    let ended = tokio::select! {
        biased;
        _ = std::future::poll_fn(|cx| served.poll_without_shutdown(cx)) => Ended::Done,
        _ = slot.activity.closed() => Ended::Evicted,
        _ = connections.head_overdue(&slot.activity, limits.header_timeout) => Ended::HeadOverdue,
        _ = connections.idle_for(&slot.activity, limits.idle_timeout) => Ended::Idle,
    };
    tracing::debug!(ended = ?ended, "connection closing");
    match ended {
        Ended::Done => served.into_parts().io.into_inner().close_gracefully().await,
        Ended::Idle => {
            // An answer still being written is finished first.
            Pin::new(&mut served).graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN_TIME, std::future::poll_fn(|cx| served.poll_without_shutdown(cx))).await;
            served.into_parts().io.into_inner().close_gracefully().await;
        }
        // A head that did not come in time, or a place needed now: closed at once.
        Ended::HeadOverdue | Ended::Evicted => drop(served),
    }
    drop(slot);
}

/// A refusal sent before the body was read: the connection closes, the rest of the body unread.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A small declared body is read and dropped before the refusal is sent, so the client is not
/// cut off while still sending it (see [`DRAIN_BYTES`]); a larger or undeclared body is not read
/// at all.
async fn refuse(response: Response, body: Incoming, declared: Option<u64>) -> Response {
    if declared.is_some_and(|n| n > 0 && n <= DRAIN_BYTES) {
        let mut body = Limited::new(body, DRAIN_BYTES as usize);
        let _ = tokio::time::timeout(DRAIN_TIME, async { while let Some(Ok(_)) = body.frame().await {} }).await;
    }
    closing(response)
}

/// Routes, sizes and authenticates a request, then reads its body (within the route's limit
/// and the body deadline) and hands it to the function that owns the route, on the work threads.
async fn handle(
    app: &Arc<LocalApp>,
    work: &tokio::runtime::Handle,
    request: hyper::Request<Incoming>,
    limits: Limits,
) -> Response {
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
    let app = app.clone();
    let answered = work
        .spawn(async move {
            match (route.function, who) {
                (Function::Api, Some(who)) => api::serve(&app.api, who, route, request).await,
                _ => ingest_webhook::handle(&app.webhook, request).await,
            }
        })
        .await;
    answered.unwrap_or_else(|e| {
        tracing::error!(path, error = %e, "the handler failed");
        problem(StatusCode::INTERNAL_SERVER_ERROR, "the request could not be handled")
    })
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
