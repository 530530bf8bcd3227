//! Publishing to a Telegram channel with the bot (`sendMessage`, `sendPhoto`), and replies in a
//! chat. A bot cannot read a channel's history, so an unknown outcome waits for a person.
//! Shapes: docs/platforms.md §5.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::publishing::{Http, call};
use crate::domain::{Engagement, Platform};
use crate::ports::{Publication, PublishError, Published, Publisher};

/// The office's channel, through its bot.
pub struct TelegramPublisher {
    pub http: Http,
    /// `https://api.telegram.org` unless configured.
    pub base: String,
    pub token: SecretString,
    /// The channel: `@name` or `-100…`.
    pub channel: String,
}

impl TelegramPublisher {
    async fn method(&self, method: &str, body: &Value) -> Result<Value, PublishError> {
        let url = format!("{}/bot{}/{method}", self.base, self.token.expose_secret());
        let answer = call(self.http.client.post(url).json(body)).await?;
        if answer.body["ok"] == Value::Bool(true) {
            return Ok(answer.body["result"].clone());
        }
        let description = answer.body["description"].as_str().unwrap_or("").to_string();
        let code = answer.body["error_code"].as_u64().unwrap_or(u64::from(answer.status));
        Err(match code {
            429 => {
                let after = answer.body["parameters"]["retry_after"].as_i64().unwrap_or(60);
                PublishError::RateLimited { wait: Duration::seconds(after) }
            }
            401 | 403 => PublishError::Unauthorized(format!("Telegram {code}: {description}")),
            c if c >= 500 => PublishError::Unknown(format!("Telegram {c}: {description}")),
            c => PublishError::Refused { reason: format!("Telegram {c}: {description}"), duplicate: false },
        })
    }

    /// The public link of a message: `t.me/{name}/{id}`, or `t.me/c/{id}/{message}` for a
    /// channel without a name.
    fn link(chat: &Value, message: i64) -> Option<String> {
        match chat["username"].as_str() {
            Some(name) => Some(format!("https://t.me/{name}/{message}")),
            None => {
                let id = chat["id"].as_i64()?.to_string();
                id.strip_prefix("-100").map(|short| format!("https://t.me/c/{short}/{message}"))
            }
        }
    }
}

#[async_trait]
impl Publisher for TelegramPublisher {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn can_reconcile(&self) -> bool {
        false
    }

    async fn prepare(&self, _: &Publication) -> Result<Option<String>, PublishError> {
        Ok(None)
    }

    async fn publish(&self, p: &Publication, _: Option<&str>) -> Result<Published, PublishError> {
        // A reply goes to the chat of the message answered (`{chat}.{message}`).
        let (chat, reply) = match &p.reply_to {
            Some(target) => match target.rsplit_once('.') {
                Some((chat, message)) => (json!(chat), message.parse::<i64>().ok()),
                None => (json!(self.channel), None),
            },
            None => (json!(self.channel), None),
        };
        let mut body = match p.media.first() {
            Some(photo) => json!({ "chat_id": chat, "photo": photo, "caption": p.text }),
            None => json!({ "chat_id": chat, "text": p.text }),
        };
        if let Some(message) = reply {
            body["reply_parameters"] = json!({ "message_id": message });
        }
        let method = if p.media.is_empty() { "sendMessage" } else { "sendPhoto" };
        let result = self.method(method, &body).await?;
        let id = result["message_id"].as_i64().ok_or_else(|| PublishError::Unknown("no message_id".into()))?;
        let chat_id = result["chat"]["id"].as_i64().map_or_else(|| self.channel.clone(), |c| c.to_string());
        Ok(Published { id: format!("{chat_id}.{id}"), permalink: Self::link(&result["chat"], id) })
    }

    async fn find_recent(
        &self,
        _: &Publication,
        _: Option<&str>,
        _: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError> {
        Err(PublishError::Unknown("a Telegram bot cannot read the channel's history".into()))
    }

    async fn repost(&self, _: &str) -> Result<Published, PublishError> {
        Err(PublishError::Refused { reason: "a channel post is not reposted".into(), duplicate: false })
    }

    async fn engagement(&self, _: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        Ok(vec![])
    }

    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        Ok(None)
    }
}
