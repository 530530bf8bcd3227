//! Notifiers: the channels that bring alerts to people on duty. The log notifier writes a
//! structured line; Telegram, a Slack-compatible incoming webhook and e-mail through Amazon SES
//! deliver to people. [`notifiers`] builds every configured channel.

mod email;
mod slack;
mod telegram;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use email::EmailNotifier;
pub use slack::SlackNotifier;
pub use telegram::{ChatId, TelegramNotifier};

use crate::config::{ConfigError, Secrets, Source};
use crate::error::NotifyError;
use crate::ports::{Notification, Notifier};

/// Secret: the Telegram bot's token (`123456:ABC…`).
pub const TELEGRAM_BOT_TOKEN: &str = "PANTAU_TELEGRAM_BOT_TOKEN";
/// Setting: the chat alerts go to (`-100…` for a group or channel id, or `@channelname`).
pub const TELEGRAM_ALERT_CHAT_ID: &str = "PANTAU_TELEGRAM_ALERT_CHAT_ID";
/// Setting: the Bot API's base URL (default `https://api.telegram.org`).
pub const TELEGRAM_API_BASE: &str = "PANTAU_TELEGRAM_API_BASE";
/// Secret: a Slack (or compatible: Mattermost, Rocket.Chat) incoming-webhook URL.
pub const SLACK_WEBHOOK_URL: &str = "PANTAU_SLACK_WEBHOOK_URL";
/// Setting: the verified SES sender of alert e-mails.
pub const ALERT_EMAIL_FROM: &str = "PANTAU_ALERT_EMAIL_FROM";
/// Setting: comma-separated recipients of alert e-mails.
pub const ALERT_EMAIL_TO: &str = "PANTAU_ALERT_EMAIL_TO";

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

/// Every configured notification channel, built once at start:
///
/// - `telegram` when the secret `PANTAU_TELEGRAM_BOT_TOKEN` and `PANTAU_TELEGRAM_ALERT_CHAT_ID`
///   are set (Bot API at `PANTAU_TELEGRAM_API_BASE`, default `https://api.telegram.org`); a bot
///   token with only `PANTAU_TELEGRAM_CHANNEL` publishes there and sends no alerts;
/// - `slack` when the secret `PANTAU_SLACK_WEBHOOK_URL` is set;
/// - `email` (Amazon SES) when `PANTAU_ALERT_EMAIL_FROM` and `PANTAU_ALERT_EMAIL_TO` are set;
///   the client is built from `aws`, so its endpoint follows `AWS_ENDPOINT_URL[_SESV2]`.
///
/// With none of them it returns just the [`LogNotifier`]. A half-configured channel (a token
/// without a chat, a sender without recipients, e-mail settings without `aws`) is an error
/// naming what is missing, never a silently dropped channel. Errors never contain secrets.
/// [`notifiers`] for a process outside Lambda (`pantau`): the AWS SDK configuration (for
/// e-mail through SES) is loaded from the usual environment only when e-mail is configured.
pub async fn local_notifiers(src: &dyn Source, secrets: &Secrets) -> Result<Vec<Arc<dyn Notifier>>, ConfigError> {
    let sdk = match src.get(ALERT_EMAIL_FROM) {
        Some(_) => Some(crate::config::aws_sdk_config().await),
        None => None,
    };
    notifiers(src, secrets, sdk.as_ref())
}

/// Whether alerts go out by e-mail (so the function needs SES).
pub fn sends_email(src: &dyn Source) -> bool {
    src.get(ALERT_EMAIL_FROM).is_some()
}

pub fn notifiers(
    src: &dyn Source,
    secrets: &Secrets,
    aws: Option<&aws_config::SdkConfig>,
) -> Result<Vec<Arc<dyn Notifier>>, ConfigError> {
    let mut channels: Vec<Arc<dyn Notifier>> = Vec::new();
    let mut http = None;

    match (&secrets.telegram_bot_token, src.get(TELEGRAM_ALERT_CHAT_ID)) {
        (Some(token), Some(chat)) => {
            let chat: ChatId =
                chat.parse().map_err(|reason| ConfigError::Invalid { name: TELEGRAM_ALERT_CHAT_ID, reason })?;
            let api_base = crate::config::base_url(src, TELEGRAM_API_BASE, telegram::DEFAULT_API_BASE)?;
            let notifier = TelegramNotifier::new(http_client(&mut http)?, api_base, token.clone(), chat)?;
            channels.push(Arc::new(notifier));
        }
        // The bot may only publish to the office's channel.
        (Some(_), None) if src.get("PANTAU_TELEGRAM_CHANNEL").is_some() => {}
        (Some(_), None) => return Err(ConfigError::Missing(TELEGRAM_ALERT_CHAT_ID)),
        (None, Some(_)) => return Err(ConfigError::Missing(TELEGRAM_BOT_TOKEN)),
        (None, None) => {}
    }

    if let Some(url) = &secrets.slack_webhook_url {
        channels.push(Arc::new(SlackNotifier::new(http_client(&mut http)?, url.clone())?));
    }

    let to = crate::config::list(src, ALERT_EMAIL_TO);
    match (src.get(ALERT_EMAIL_FROM), to.is_empty()) {
        (Some(from), false) => {
            let aws = aws.ok_or_else(|| ConfigError::Invalid {
                name: ALERT_EMAIL_FROM,
                reason: "alert e-mail goes through Amazon SES, and no AWS configuration is available here".into(),
            })?;
            channels.push(Arc::new(EmailNotifier::new(ses_client(aws), from, to)?));
        }
        (Some(_), true) => return Err(ConfigError::Missing(ALERT_EMAIL_TO)),
        (None, false) => return Err(ConfigError::Missing(ALERT_EMAIL_FROM)),
        (None, true) => {}
    }

    if channels.is_empty() {
        channels.push(Arc::new(LogNotifier));
    }
    Ok(channels)
}

/// An SES client from the shared configuration (endpoint, region, credentials), with a bound
/// on each call so a stuck SES does not hold the watch function until its timeout.
fn ses_client(aws: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
    let timeouts = aws_sdk_sesv2::config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(20))
        .operation_attempt_timeout(Duration::from_secs(8))
        // The shared configuration's connect timeout stays.
        .take_unset_from(aws.timeout_config().map(|t| t.to_builder()).unwrap_or_default())
        .build();
    aws_sdk_sesv2::Client::from_conf(aws_sdk_sesv2::config::Builder::from(aws).timeout_config(timeouts).build())
}

/// One HTTP client for the chat channels, made when the first one needs it.
fn http_client(slot: &mut Option<reqwest::Client>) -> Result<reqwest::Client, ConfigError> {
    if let Some(client) = slot {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        // A redirect would carry the token (Telegram's path) or the webhook URL elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("pantau/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Invalid { name: "notifier HTTP client", reason: e.without_url().to_string() })?;
    *slot = Some(client.clone());
    Ok(client)
}

/// Why a chat channel did not take a message. Never holds a token or a webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The service answered with an error status; `detail` is its own explanation.
    #[error("HTTP {status}: {detail}")]
    Refused { status: u16, detail: String },
    /// The request did not complete (connect, timeout, TLS); the URL is stripped.
    #[error("request failed: {}", error_chain(.0))]
    Transport(reqwest::Error),
}

impl DeliveryError {
    /// Rate limits, server errors and network failures may pass later; other refusals will not.
    fn is_retryable(&self) -> bool {
        match self {
            DeliveryError::Refused { status, .. } => *status == 429 || *status >= 500,
            DeliveryError::Transport(_) => true,
        }
    }

    fn into_notify(self, channel: &'static str) -> NotifyError {
        NotifyError::new(channel, self.is_retryable(), self)
    }
}

impl From<reqwest::Error> for DeliveryError {
    fn from(e: reqwest::Error) -> Self {
        DeliveryError::Transport(e.without_url())
    }
}

/// An error and its causes on one line (reqwest keeps the interesting part, such as "connection
/// refused", in its sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// At most `max` characters of a service's explanation, with `secret` (if it shows up at all)
/// replaced.
fn detail(text: &str, secret: &str, max: usize) -> String {
    let text = text.trim();
    let text = if secret.is_empty() { text.to_string() } else { text.replace(secret, "[redacted]") };
    truncate(&text, max).into_owned()
}

/// Cuts `text` to at most `max` UTF-16 code units (which is how Telegram counts; it is never
/// more than the characters), on a character boundary, ending with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.encode_utf16().count() <= max {
        return text.into();
    }
    let mut units = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if units + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        units += c.len_utf16();
        end = i + c.len_utf8();
    }
    format!("{}…", &text[..end]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_characters_whole_and_marks_the_cut() {
        assert_eq!(truncate("pendek", 10), "pendek");
        assert_eq!(truncate("abcdef", 4), "abc…");
        // Emoji are two UTF-16 units: never split, never over the limit.
        let cut = truncate("🚨🚨🚨🚨", 6);
        assert_eq!(cut, "🚨🚨…");
        assert!(cut.encode_utf16().count() <= 6);
        let long = "jalan rusak ".repeat(1000);
        let cut = truncate(&long, 4096);
        assert_eq!(cut.encode_utf16().count(), 4096);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn details_hide_the_secret() {
        assert_eq!(detail(" bad token 123:abc ", "123:abc", 100), "bad token [redacted]");
        assert_eq!(detail("x", "", 100), "x");
    }
}
