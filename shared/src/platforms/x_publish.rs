//! Publishing on X (API v2, OAuth 2.0 user token): `POST /2/tweets` (with images uploaded
//! through `POST /2/media/upload`), native reposts, the account's own recent posts to settle an
//! unknown outcome, and their public metrics. Shapes: docs/platforms.md §1.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::client::reset_at;
use super::publishing::{Answer, Http, call, comparable, fetch_image, not_before};
use crate::domain::{Engagement, Platform};
use crate::ports::{Publication, PublishError, Published, Publisher};

/// One X account.
pub struct XPublisher {
    pub http: Http,
    /// `https://api.x.com` unless configured.
    pub base: String,
    pub user_id: String,
    /// For permalinks; `i/web` links without it.
    pub username: Option<String>,
    pub token: SecretString,
    /// When the token expires, where the office recorded it.
    pub token_expires_at: Option<DateTime<Utc>>,
}

impl XPublisher {
    fn permalink(&self, id: &str) -> String {
        match &self.username {
            Some(name) => format!("https://x.com/{name}/status/{id}"),
            None => format!("https://x.com/i/web/status/{id}"),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.client.request(method, format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret())
    }

    /// What an answer that is not a success means.
    fn failure(answer: &Answer, now: DateTime<Utc>) -> PublishError {
        let detail = answer.body["detail"]
            .as_str()
            .or_else(|| answer.body["title"].as_str())
            .or_else(|| answer.body["errors"][0]["message"].as_str())
            .unwrap_or("")
            .to_string();
        match answer.status {
            429 => PublishError::RateLimited { wait: reset_at(&answer.headers, now) - now },
            401 => PublishError::Unauthorized(format!("X answered 401: {detail}")),
            403 if detail.to_lowercase().contains("duplicate") => {
                PublishError::Refused { reason: format!("X refused identical text: {detail}"), duplicate: true }
            }
            s if s >= 500 => PublishError::Unknown(format!("X answered {s}: {detail}")),
            s => PublishError::Refused { reason: format!("X answered {s}: {detail}"), duplicate: false },
        }
    }

    async fn upload(&self, url: &str) -> Result<String, PublishError> {
        let (bytes, kind) = fetch_image(&self.http, url).await?;
        let part = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name("image")
            .mime_str(&kind)
            .map_err(|e| PublishError::Refused { reason: format!("the image type {kind:?}: {e}"), duplicate: false })?;
        let form = reqwest::multipart::Form::new().part("media", part).text("media_category", "tweet_image");
        let answer = call(self.request(reqwest::Method::POST, "/2/media/upload").multipart(form)).await?;
        match answer.body["data"]["id"].as_str() {
            Some(id) if answer.status < 300 => Ok(id.to_string()),
            // Nothing is posted by an upload: an unclear answer is safe to retry.
            _ if answer.status >= 500 => {
                Err(PublishError::Unavailable(format!("media upload answered {}", answer.status)))
            }
            _ => Err(Self::failure(&answer, Utc::now())),
        }
    }
}

#[async_trait]
impl Publisher for XPublisher {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn can_reconcile(&self) -> bool {
        true
    }

    async fn prepare(&self, _: &Publication) -> Result<Option<String>, PublishError> {
        Ok(None)
    }

    async fn publish(&self, p: &Publication, _: Option<&str>) -> Result<Published, PublishError> {
        let mut media_ids = Vec::new();
        for url in p.media.iter().take(4) {
            media_ids.push(self.upload(url).await?);
        }
        let mut body = json!({ "text": p.text });
        if !media_ids.is_empty() {
            body["media"] = json!({ "media_ids": media_ids });
        }
        if let Some(parent) = &p.reply_to {
            body["reply"] = json!({ "in_reply_to_tweet_id": parent });
        }
        let answer = call(self.request(reqwest::Method::POST, "/2/tweets").json(&body)).await?;
        match answer.body["data"]["id"].as_str() {
            Some(id) if answer.status < 300 => {
                Ok(Published { id: id.to_string(), permalink: Some(self.permalink(id)) })
            }
            // A success without an id: it may well be posted.
            None if answer.status < 300 => Err(PublishError::Unknown("X answered without a post id".into())),
            _ => Err(Self::failure(&answer, Utc::now())),
        }
    }

    async fn find_recent(
        &self,
        p: &Publication,
        _: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError> {
        let path = format!("/2/users/{}/tweets", self.user_id);
        let start = since.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let query =
            [("max_results", "100"), ("start_time", start.as_str()), ("tweet.fields", "created_at,referenced_tweets")];
        let answer = call(self.request(reqwest::Method::GET, &path).query(&query)).await?;
        if answer.status >= 300 {
            return Err(match Self::failure(&answer, Utc::now()) {
                PublishError::Refused { reason, .. } => PublishError::Unknown(reason),
                other => other,
            });
        }
        let wanted = comparable(&p.text);
        let found = answer.body["data"].as_array().into_iter().flatten().find(|post| {
            let replies_to = |id: &str| {
                post["referenced_tweets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r["type"] == "replied_to" && r["id"] == id)
            };
            comparable(post["text"].as_str().unwrap_or("")) == wanted
                && not_before(post["created_at"].as_str(), since)
                && p.reply_to.as_deref().is_none_or(replies_to)
        });
        Ok(found
            .and_then(|post| post["id"].as_str())
            .map(|id| Published { id: id.to_string(), permalink: Some(self.permalink(id)) }))
    }

    async fn repost(&self, id: &str) -> Result<Published, PublishError> {
        let path = format!("/2/users/{}/retweets", self.user_id);
        let answer = call(self.request(reqwest::Method::POST, &path).json(&json!({ "tweet_id": id }))).await?;
        if answer.status < 300 && answer.body["data"]["retweeted"] == Value::Bool(true) {
            return Ok(Published { id: id.to_string(), permalink: Some(self.permalink(id)) });
        }
        Err(Self::failure(&answer, Utc::now()))
    }

    async fn engagement(&self, ids: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        let joined = ids.join(",");
        let query = [("ids", joined.as_str()), ("tweet.fields", "public_metrics")];
        let answer = call(self.request(reqwest::Method::GET, "/2/tweets").query(&query)).await?;
        if answer.status >= 300 {
            return Err(Self::failure(&answer, Utc::now()));
        }
        let n = |m: &Value, k: &str| m[k].as_u64().unwrap_or(0);
        Ok(answer.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|post| {
                let m = &post["public_metrics"];
                let engagement = Engagement {
                    likes: n(m, "like_count"),
                    comments: n(m, "reply_count"),
                    shares: n(m, "retweet_count") + n(m, "quote_count"),
                    impressions: m["impression_count"].as_u64(),
                    at: None,
                };
                post["id"].as_str().map(|id| (id.to_string(), engagement))
            })
            .collect())
    }

    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        Ok(self.token_expires_at)
    }
}
