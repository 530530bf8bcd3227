//! Connection hygiene for `pantau serve`: a cap on open connections (the least recently
//! active idle one makes room for a new one), a deadline for the request head, and an idle
//! deadline, so idle, slow and stalled sockets can never starve the platforms' deliveries.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::Notify;

/// What is read and dropped, at most, before a socket with bytes still arriving is closed:
/// closing it with bytes unread resets it, and a reset can reach the client before it has read
/// the answer. Nothing is kept; past either bound the socket closes anyway.
pub const DRAIN_BYTES: u64 = 64 * 1024;
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

/// How long and how many: every value configurable (`PANTAU_SERVE_*`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most (also bounded by the process's file limit).
    pub max_connections: usize,
    /// From a connection's first byte of a request to the end of its headers.
    pub header_timeout: Duration,
    /// To receive a whole request body.
    pub body_timeout: Duration,
    /// A connection with no request in flight and no bytes moving is closed after this.
    pub idle_timeout: Duration,
}

impl Limits {
    pub fn from_env() -> anyhow::Result<Limits> {
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(v) if !v.is_empty() => v.parse().with_context(|| format!("invalid configuration {name}: {v:?}")),
                _ => Ok(default),
            }
        };
        let seconds = |name: &str, default: u64| -> anyhow::Result<Duration> {
            let n = number(name, default)?;
            anyhow::ensure!(n > 0, "invalid configuration {name}: must be at least 1 second");
            Ok(Duration::from_secs(n))
        };
        let wanted = number("PANTAU_SERVE_MAX_CONNECTIONS", 4096)?;
        anyhow::ensure!(wanted > 0, "invalid configuration PANTAU_SERVE_MAX_CONNECTIONS: must be at least 1");
        // Each connection is a file descriptor; leave room for the database and the logs.
        let files = raise_open_files_limit().saturating_sub(128).max(16);
        Ok(Limits {
            max_connections: usize::try_from(wanted.min(files)).unwrap_or(usize::MAX),
            header_timeout: seconds("PANTAU_SERVE_HEADER_TIMEOUT", 10)?,
            body_timeout: seconds("PANTAU_SERVE_BODY_TIMEOUT", 30)?,
            idle_timeout: seconds("PANTAU_SERVE_IDLE_TIMEOUT", 60)?,
        })
    }
}

/// Raises the soft limit of open files to the hard one; returns the limit in force.
fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// What the registry knows of one open connection.
pub struct Activity {
    /// Milliseconds since the registry started, at the last byte moved.
    last: AtomicU64,
    /// Requests being handled now.
    busy: AtomicUsize,
    /// Milliseconds since the registry started, when the head of the next request began (the
    /// connection was accepted, or its first byte after the last answer); `u64::MAX` while none is
    /// awaited (between requests of a kept-alive connection, where only the idle deadline runs).
    head_started: AtomicU64,
    /// Tells the connection to close (it was chosen to make room).
    close: Notify,
}

impl Activity {
    /// A request is being handled until the guard drops.
    pub fn busy(self: &Arc<Self>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::Relaxed);
        // The head is complete: its deadline is met.
        self.head_started.store(u64::MAX, Ordering::Relaxed);
        BusyGuard(self.clone())
    }

    /// Resolves when the registry wants this connection closed.
    pub async fn closed(&self) {
        self.close.notified().await
    }
}

pub struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The open connections.
pub struct Connections {
    cap: usize,
    started: Instant,
    next: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Activity>>>,
    freed: Notify,
}

/// A connection's place in the registry; dropping it frees the place.
pub struct Slot {
    id: u64,
    pub activity: Arc<Activity>,
    registry: Arc<Connections>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut live) = self.registry.live.lock() {
            live.remove(&self.id);
        }
        self.registry.freed.notify_one();
    }
}

impl Connections {
    pub fn new(cap: usize) -> Arc<Connections> {
        Arc::new(Connections {
            cap,
            started: Instant::now(),
            next: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            freed: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A place for a new connection. At the cap, the least recently active idle connection is
    /// told to close; when every connection is busy, this waits until one ends.
    pub async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            {
                let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if live.len() < self.cap {
                    let id = self.next.fetch_add(1, Ordering::Relaxed);
                    let activity = Arc::new(Activity {
                        last: AtomicU64::new(self.now_ms()),
                        busy: AtomicUsize::new(0),
                        head_started: AtomicU64::new(self.now_ms()),
                        close: Notify::new(),
                    });
                    live.insert(id, activity.clone());
                    return Slot { id, activity, registry: self.clone() };
                }
                let idle = live
                    .values()
                    .filter(|a| a.busy.load(Ordering::Relaxed) == 0)
                    .min_by_key(|a| a.last.load(Ordering::Relaxed));
                if let Some(victim) = idle {
                    victim.close.notify_one();
                }
            }
            // Woken when a connection ends; looked at again after a while in any case.
            let _ = tokio::time::timeout(Duration::from_millis(200), self.freed.notified()).await;
        }
    }

    /// Resolves when a connection has been idle (no request in flight, no bytes moving) for
    /// `idle`.
    pub async fn idle_for(&self, activity: &Activity, idle: Duration) {
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        loop {
            let quiet = self.now_ms().saturating_sub(activity.last.load(Ordering::Relaxed));
            if activity.busy.load(Ordering::Relaxed) == 0 && quiet >= idle_ms {
                return;
            }
            let wait = idle_ms.saturating_sub(quiet).clamp(50, 1000);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }

    /// Resolves when a request head has taken longer than `deadline` to arrive: from the
    /// connection's acceptance, or from the first byte of a later request.
    pub async fn head_overdue(&self, activity: &Activity, deadline: Duration) {
        let deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX);
        loop {
            let started = activity.head_started.load(Ordering::Relaxed);
            let waited = self.now_ms().saturating_sub(started);
            if started != u64::MAX && activity.busy.load(Ordering::Relaxed) == 0 && waited >= deadline_ms {
                return;
            }
            let wait = if started == u64::MAX { 1000 } else { deadline_ms.saturating_sub(waited).clamp(50, 1000) };
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }

    /// Wraps a socket just accepted so every byte read or written counts as activity. Its head
    /// and idle deadlines start now: its place was taken when the previous connection came,
    /// and may have waited far longer than either deadline for this one.
    pub fn track<S>(self: &Arc<Self>, inner: S, activity: Arc<Activity>) -> Tracked<S> {
        let now = self.now_ms();
        activity.last.store(now, Ordering::Relaxed);
        activity.head_started.store(now, Ordering::Relaxed);
        Tracked { inner, activity, registry: self.clone() }
    }
}

/// A socket whose reads and writes mark its connection active.
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    registry: Arc<Connections>,
}

impl<S> Tracked<S> {
    fn touch(&self) {
        self.activity.last.store(self.registry.now_ms(), Ordering::Relaxed);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Tracked<S> {
    /// Closes without resetting: the write side is shut (the client reads the answer to its
    /// end), then what still arrives is dropped until the client closes too, within
    /// [`DRAIN_BYTES`] and [`DRAIN_TIME`].
    pub async fn close_gracefully(mut self) {
        if self.inner.shutdown().await.is_err() {
            return;
        }
        let mut rest = (&mut self.inner).take(DRAIN_BYTES);
        let _ = tokio::time::timeout(DRAIN_TIME, tokio::io::copy(&mut rest, &mut tokio::io::sink())).await;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
            // The first byte after an answer starts the next head's deadline.
            let activity = &self.activity;
            if activity.busy.load(Ordering::Relaxed) == 0 {
                let now = self.registry.now_ms();
                let _ = activity.head_started.compare_exchange(u64::MAX, now, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
