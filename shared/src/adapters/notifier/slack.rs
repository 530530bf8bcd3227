//! Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): one JSON `text` message.
//! The webhook URL is the credential, so it is kept secret and never shown.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{DeliveryError, SLACK_WEBHOOK_URL, detail};
use crate::config::ConfigError;
use crate::error::NotifyError;
use crate::ports::{Notification, Notifier};

/// Posts alerts to one incoming webhook.
#[derive(Debug, Clone)]
pub struct SlackNotifier {
    http: reqwest::Client,
    url: SecretString,
}

impl SlackNotifier {
    /// Refuses what is not an http(s) URL (without showing it).
    pub fn new(http: reqwest::Client, url: SecretString) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { name: SLACK_WEBHOOK_URL, reason };
        // url's parse errors name the problem, never the input.
        let parsed = url::Url::parse(url.expose_secret()).map_err(|e| invalid(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(invalid("not an http(s) URL (the value is not shown)".into()));
        }
        Ok(SlackNotifier { http, url })
    }

    async fn send(&self, text: String) -> Result<(), DeliveryError> {
        let url = self.url.expose_secret();
        let response = self.http.post(url).json(&serde_json::json!({ "text": text })).send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        // The status already says it failed; an unreadable body only loses the explanation.
        let body = response.bytes().await.unwrap_or_default();
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if let Some(seconds) = retry_after {
            text.push_str(&format!(" (retry after {seconds} s)"));
        }
        // The path is the secret part of a webhook URL (`/services/T…/B…/key`).
        let secret_path = url::Url::parse(url).map(|u| u.path().to_string()).unwrap_or_default();
        let secret_path = if secret_path.len() > 1 { secret_path } else { String::new() };
        let text = detail(&text, url, 300);
        Err(DeliveryError::Refused { status: status.as_u16(), detail: detail(&text, &secret_path, 300) })
    }
}

/// Slack reads `&`, `<` and `>` as markup: `<!channel>` in a citizen's message would page the
/// whole channel, so the three are escaped as Slack asks.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[async_trait]
impl Notifier for SlackNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        let text = format!("*{}*\n{}", escape(notification.title.trim()), escape(&notification.body));
        self.send(text).await.map_err(|e| e.into_notify(self.channel()))
    }

    fn channel(&self) -> &'static str {
        "slack"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(escape("<!channel> A & B > C"), "&lt;!channel&gt; A &amp; B &gt; C");
    }

    #[test]
    fn webhook_urls_are_checked_without_being_shown() {
        let http = reqwest::Client::new();
        let err = SlackNotifier::new(http.clone(), "ftp://hooks.example/T0/B0/s3cr3t".to_string().into()).unwrap_err();
        assert!(err.to_string().contains(SLACK_WEBHOOK_URL));
        assert!(!err.to_string().contains("s3cr3t"));
        assert!(SlackNotifier::new(http.clone(), "s3cr3t".to_string().into()).is_err());
        assert!(SlackNotifier::new(http, "https://hooks.example/services/T0/B0/s3cr3t".to_string().into()).is_ok());
    }
}
