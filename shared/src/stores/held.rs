//! A value read from the store and held by the process, read again once it is older than a
//! maximum age: the office's taxonomy and its known accounts, which classification consults on
//! every mention but which change rarely.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::StoreError;

/// What is held and when it was read. One caller reads at a time (concurrent callers wait for
/// that read rather than each making their own); a read that fails keeps what is held, tried
/// again after the maximum age, and only the first read's failure reaches the caller.
pub struct Held<T> {
    what: &'static str,
    max_age: Duration,
    held: tokio::sync::Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T: Send + Sync> Held<T> {
    /// Nothing held yet: the first [`Held::get`] reads.
    pub fn new(what: &'static str, max_age: Duration) -> Self {
        Held { what, max_age, held: tokio::sync::Mutex::new(None) }
    }

    /// `value`, read just now.
    pub fn with(what: &'static str, max_age: Duration, value: T) -> Self {
        Held { what, max_age, held: tokio::sync::Mutex::new(Some((Instant::now(), Arc::new(value)))) }
    }

    /// The value held, or, when it is older than the maximum age, what `read` gives (it is
    /// handed what is held, so it can keep it when nothing changed).
    pub async fn get<F, Fut>(&self, read: F) -> Result<Arc<T>, StoreError>
    where
        F: FnOnce(Option<Arc<T>>) -> Fut,
        Fut: Future<Output = Result<Arc<T>, StoreError>>,
    {
        let mut held = self.held.lock().await;
        if let Some((read_at, value)) = held.as_ref()
            && read_at.elapsed() < self.max_age
        {
            return Ok(value.clone());
        }
        let previous = held.take().map(|(_, value)| value);
        let value = match (read(previous.clone()).await, previous) {
            (Ok(fresh), _) => fresh,
            (Err(e), Some(stale)) => {
                tracing::warn!(error = %e, what = self.what, "could not be read again; what is held stays");
                stale
            }
            (Err(e), None) => return Err(e),
        };
        *held = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}
