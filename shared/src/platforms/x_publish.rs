//! Publishing on X (API v2, OAuth 2.0 user token): `POST /2/tweets` (with images uploaded
//! through `POST /2/media/upload`), native reposts, the account's own recent posts to settle an
//! unknown outcome, and their public metrics. Shapes: docs/platforms.md §1.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::Digest;

use super::client::reset_at;
use super::publishing::{Answer, Http, call, comparable, fetch_image, not_before};
use crate::domain::{Engagement, Platform};
use crate::ports::{Publication, PublishError, Published, Publisher};
use crate::stores::{OAuthTokens, StoredPair, TokenPair};

/// A token this close to its expiry is refreshed before use.
const EXPIRY_MARGIN_SECONDS: i64 = 120;
/// Reads of the stored pair after losing a refresh race.
const REFRESH_ATTEMPTS: usize = 3;

/// How an X account's requests are authorised.
pub enum XAuth {
    /// A user access token used as it is (never refreshed).
    Fixed(SecretString),
    /// OAuth 2.0 with refresh: the current pair in the token store, the chain started from
    /// the configured refresh token.
    Refreshing(XRefresh),
}

/// What refreshing an X user token needs.
pub struct XRefresh {
    pub client_id: String,
    /// Confidential clients authenticate the token call.
    pub client_secret: Option<SecretString>,
    /// The refresh token configured (the secret); used while no pair is stored for it.
    pub seed: SecretString,
    pub store: Arc<dyn OAuthTokens>,
    /// The stored pair's id: `x:{account}`.
    pub id: String,
}

impl XRefresh {
    fn seed_digest(&self) -> String {
        hex::encode(&sha2::Sha256::digest(self.seed.expose_secret().as_bytes())[..16])
    }

    /// A usable access token (not `rejected`, which X just refused): the stored one while it
    /// lasts, else a refresh whose result is stored only over the pair it replaced.
    async fn access_token(&self, http: &Http, base: &str, rejected: Option<&str>) -> Result<String, PublishError> {
        let seed_digest = self.seed_digest();
        for attempt in 0..REFRESH_ATTEMPTS {
            let read = self.store.token_pair(&self.id).await.map_err(|e| PublishError::Unavailable(e.to_string()))?;
            let current = read.as_ref().filter(|r| r.pair.seed_digest == seed_digest);
            if let Some(StoredPair { pair, .. }) = current
                && pair.expires_at > Utc::now() + Duration::seconds(EXPIRY_MARGIN_SECONDS)
                && rejected != Some(pair.access_token.as_str())
            {
                return Ok(pair.access_token.clone());
            }
            let refresh_token =
                current.map_or_else(|| self.seed.expose_secret().to_string(), |r| r.pair.refresh_token.clone());
            match self.refresh(http, base, &refresh_token, &seed_digest).await? {
                Some(next) => {
                    let stored = self.store.replace_pair(&self.id, read.as_ref(), &next).await;
                    match stored.map_err(|e| PublishError::Unavailable(e.to_string()))? {
                        true => return Ok(next.access_token),
                        // Another function stored a pair meanwhile: that one is current.
                        false => continue,
                    }
                }
                // Spent: another function refreshed with it first; its pair is read next.
                None if attempt + 1 < REFRESH_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await
                }
                None => break,
            }
        }
        Err(PublishError::Unauthorized(
            "X refused the refresh token: authorise the account again and put its new refresh token in the secret"
                .into(),
        ))
    }

    /// `POST /2/oauth2/token` with `grant_type=refresh_token`; `None` when X refuses the
    /// refresh token (spent or revoked).
    async fn refresh(
        &self,
        http: &Http,
        base: &str,
        refresh_token: &str,
        seed_digest: &str,
    ) -> Result<Option<TokenPair>, PublishError> {
        let form =
            [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", self.client_id.as_str())];
        let mut request = http.client.post(format!("{base}/2/oauth2/token")).form(&form);
        if let Some(secret) = &self.client_secret {
            request = request.basic_auth(&self.client_id, Some(secret.expose_secret()));
        }
        // Nothing is posted by a refresh: any failure to get an answer is "try again later".
        let answer =
            call(request).await.map_err(|e| PublishError::Unavailable(format!("refreshing the X token: {e}")))?;
        if answer.status == 400 || answer.status == 401 {
            tracing::warn!(account = %self.id, error = %answer.body["error"], "X refused a refresh token");
            return Ok(None);
        }
        let token = |k: &str| answer.body[k].as_str().map(str::to_string);
        match (answer.status, token("access_token"), token("refresh_token")) {
            (200..=299, Some(access_token), Some(refresh_token)) => {
                let lifetime = answer.body["expires_in"].as_i64().unwrap_or(7200);
                tracing::info!(account = %self.id, lifetime, "X user token refreshed");
                Ok(Some(TokenPair {
                    access_token,
                    refresh_token,
                    expires_at: Utc::now() + Duration::seconds(lifetime),
                    seed_digest: seed_digest.to_string(),
                }))
            }
            (429, ..) => Err(PublishError::RateLimited { wait: reset_at(&answer.headers, Utc::now()) - Utc::now() }),
            (status, ..) => Err(PublishError::Unavailable(format!("refreshing the X token answered {status}"))),
        }
    }
}

/// One X account.
pub struct XPublisher {
    pub http: Http,
    /// `https://api.x.com` unless configured.
    pub base: String,
    pub user_id: String,
    /// For permalinks; `i/web` links without it.
    pub username: Option<String>,
    pub auth: XAuth,
    /// When a fixed token expires, where the office recorded it.
    pub token_expires_at: Option<DateTime<Utc>>,
}

impl XPublisher {
    fn permalink(&self, id: &str) -> String {
        match &self.username {
            Some(name) => format!("https://x.com/{name}/status/{id}"),
            None => format!("https://x.com/i/web/status/{id}"),
        }
    }

    async fn token(&self, rejected: Option<&str>) -> Result<String, PublishError> {
        match &self.auth {
            XAuth::Fixed(token) => Ok(token.expose_secret().to_string()),
            XAuth::Refreshing(refresh) => refresh.access_token(&self.http, &self.base, rejected).await,
        }
    }

    /// Sends a request built for a token; a refreshing account that gets 401 (nothing was
    /// done) refreshes once and sends it again.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Answer, PublishError> {
        let url = format!("{}{path}", self.base);
        let token = self.token(None).await?;
        let answer = call(build(self.http.client.request(method.clone(), &url).bearer_auth(&token))).await?;
        if answer.status != 401 || matches!(self.auth, XAuth::Fixed(_)) {
            return Ok(answer);
        }
        let token = self.token(Some(&token)).await?;
        call(build(self.http.client.request(method, &url).bearer_auth(&token))).await
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
        let kind: &'static str = match kind.split(';').next().unwrap_or("").trim() {
            "image/jpeg" | "image/jpg" => "image/jpeg",
            "image/png" => "image/png",
            "image/gif" => "image/gif",
            "image/webp" => "image/webp",
            other => {
                let reason = format!("X takes JPEG, PNG, GIF or WEBP images, not {other:?}");
                return Err(PublishError::Refused { reason, duplicate: false });
            }
        };
        let form = || {
            let part = || reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("image");
            let part = part().mime_str(kind).unwrap_or_else(|_| part());
            reqwest::multipart::Form::new().part("media", part).text("media_category", "tweet_image")
        };
        let answer = self.send(reqwest::Method::POST, "/2/media/upload", |r| r.multipart(form())).await?;
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
        let answer = self.send(reqwest::Method::POST, "/2/tweets", |r| r.json(&body)).await?;
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
        let answer = self.send(reqwest::Method::GET, &path, |r| r.query(&query)).await?;
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

    /// A native repost that shows again: an earlier repost of the same post is undone first
    /// (X keeps one repost per account and post; reposting again would change nothing).
    async fn repost(&self, id: &str) -> Result<Published, PublishError> {
        let path = format!("/2/users/{}/retweets", self.user_id);
        let undone = self.send(reqwest::Method::DELETE, &format!("{path}/{id}"), |r| r).await?;
        if matches!(undone.status, 401 | 429) {
            return Err(Self::failure(&undone, Utc::now()));
        }
        let answer = self.send(reqwest::Method::POST, &path, |r| r.json(&json!({ "tweet_id": id }))).await?;
        if answer.status < 300 && answer.body["data"]["retweeted"] == Value::Bool(true) {
            return Ok(Published { id: id.to_string(), permalink: Some(self.permalink(id)) });
        }
        Err(Self::failure(&answer, Utc::now()))
    }

    async fn engagement(&self, ids: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        let joined = ids.join(",");
        let query = [("ids", joined.as_str()), ("tweet.fields", "public_metrics")];
        let answer = self.send(reqwest::Method::GET, "/2/tweets", |r| r.query(&query)).await?;
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

    /// A refreshing account renews itself; a fixed token expires when the office says.
    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        Ok(match self.auth {
            XAuth::Fixed(_) => self.token_expires_at,
            XAuth::Refreshing(_) => None,
        })
    }
}
