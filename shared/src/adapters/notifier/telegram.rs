//! Telegram: the bot sends a plain-text message (no `parse_mode`, so nothing needs escaping) to
//! the alert chat through the Bot API's `sendMessage`.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{DeliveryError, TELEGRAM_BOT_TOKEN, detail, truncate};
use crate::config::ConfigError;
use crate::error::NotifyError;
use crate::ports::{Notification, Notifier};

pub(super) const DEFAULT_API_BASE: &str = "https://api.telegram.org";
/// Telegram refuses longer texts.
const MAX_TEXT: usize = 4096;

/// Where alerts go: a numeric chat id (groups and channels are `-100…`) or a public `@channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ChatId {
    Id(i64),
    Username(String),
}

impl std::str::FromStr for ChatId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(id) = s.parse::<i64>() {
            return Ok(ChatId::Id(id));
        }
        match s.strip_prefix('@') {
            Some(name)
                if (5..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Ok(ChatId::Username(s.to_string()))
            }
            _ => Err(format!("{s:?} is neither a numeric chat id (-100…) nor @channelname")),
        }
    }
}

/// Sends alerts to one Telegram chat as the office's bot.
#[derive(Debug, Clone)]
pub struct TelegramNotifier {
    http: reqwest::Client,
    api_base: String,
    token: SecretString,
    chat: ChatId,
}

#[derive(Serialize)]
struct SendMessage<'a> {
    chat_id: &'a ChatId,
    text: &'a str,
    disable_web_page_preview: bool,
}

/// The Bot API's error answer: `{"ok":false,"error_code":429,"description":…,"parameters":…}`.
#[derive(Deserialize, Default)]
struct ErrorAnswer {
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize, Default)]
struct ResponseParameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

impl TelegramNotifier {
    /// A notifier for `chat`; `api_base` is `https://api.telegram.org` or a test server, without
    /// a trailing slash. Refuses a token that cannot be a URL path segment (it is not shown).
    pub fn new(
        http: reqwest::Client,
        api_base: impl Into<String>,
        token: SecretString,
        chat: ChatId,
    ) -> Result<Self, ConfigError> {
        let t = token.expose_secret();
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control() || "/?#%".contains(c)) {
            return Err(ConfigError::Invalid {
                name: TELEGRAM_BOT_TOKEN,
                reason: "not a bot token (expected 123456:ABC…; the value is not shown)".into(),
            });
        }
        Ok(TelegramNotifier { http, api_base: api_base.into(), token, chat })
    }

    async fn send(&self, text: &str) -> Result<(), DeliveryError> {
        let token = self.token.expose_secret();
        let url = format!("{}/bot{token}/sendMessage", self.api_base);
        let message = SendMessage { chat_id: &self.chat, text, disable_web_page_preview: true };
        let response = self.http.post(url).json(&message).send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The status already says it failed; an unreadable body only loses the explanation.
        let body = response.bytes().await.unwrap_or_default();
        let answer: ErrorAnswer = serde_json::from_slice(&body).unwrap_or_default();
        let mut text = answer.description.unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let parameters = answer.parameters.unwrap_or_default();
        if let Some(seconds) = parameters.retry_after.filter(|_| !text.contains("retry after")) {
            text.push_str(&format!(" (retry after {seconds} s)"));
        }
        if let Some(id) = parameters.migrate_to_chat_id {
            text.push_str(&format!(" (the group is now chat {id}: set PANTAU_TELEGRAM_ALERT_CHAT_ID to it)"));
        }
        Err(DeliveryError::Refused { status: status.as_u16(), detail: detail(&text, token, 300) })
    }
}

#[async_trait]
impl Notifier for TelegramNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        let text = format!("{}\n\n{}", notification.title, notification.body);
        self.send(&truncate(&text, MAX_TEXT)).await.map_err(|e| e.into_notify(self.channel()))
    }

    fn channel(&self) -> &'static str {
        "telegram"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_ids_are_numbers_or_channel_names() {
        assert_eq!("-1001234567890".parse::<ChatId>(), Ok(ChatId::Id(-1_001_234_567_890)));
        assert_eq!(" @humas_jatim ".parse::<ChatId>(), Ok(ChatId::Username("@humas_jatim".into())));
        assert!("humas_jatim".parse::<ChatId>().is_err());
        assert!("@a b".parse::<ChatId>().is_err());
        assert_eq!(serde_json::to_value(ChatId::Id(-100)).unwrap(), serde_json::json!(-100));
        assert_eq!(serde_json::to_value(ChatId::Username("@x".into())).unwrap(), serde_json::json!("@x"));
    }

    #[test]
    fn tokens_that_break_the_url_are_refused_without_being_shown() {
        let http = reqwest::Client::new();
        let err =
            TelegramNotifier::new(http, "http://x", "12/34 secret".to_string().into(), ChatId::Id(1)).unwrap_err();
        assert!(err.to_string().contains(TELEGRAM_BOT_TOKEN));
        assert!(!err.to_string().contains("secret"));
    }
}
