//! Notifiers. The log notifier writes a structured line for people watching the logs; chat and
//! e-mail channels plug in behind the same port.

use async_trait::async_trait;

use crate::error::NotifyError;
use crate::ports::{Notification, Notifier};

/// Writes notifications to the structured log (the local default and a fallback on AWS).
#[derive(Debug, Clone, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        tracing::warn!(title = %notification.title, body = %notification.body, "notification");
        Ok(())
    }

    fn channel(&self) -> &'static str {
        "log"
    }
}
