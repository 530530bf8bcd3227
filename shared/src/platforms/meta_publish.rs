//! Publishing through Meta's Graph API: a Facebook Page (`/{page}/feed`, `/{page}/photos`,
//! replies under comments), Instagram (a media container, its status, then `media_publish`,
//! within the account's publishing quota) and WhatsApp replies (`/{phone}/messages`, only within
//! the 24-hour window). Token expiry through `debug_token`. Shapes: docs/platforms.md §3, 4, 6.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::publishing::{Answer, Http, call, comparable, graph_failure, not_before};
use crate::domain::{Engagement, Platform};
use crate::ports::{Publication, PublishError, Published, Publisher};

/// Checks of an Instagram container before publishing it, and the pause between them.
const CONTAINER_CHECKS: usize = 10;
const CONTAINER_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);
/// How often a post held by Instagram's 24-hour publishing quota looks for room again.
const QUOTA_RECHECK_HOURS: i64 = 1;

/// A Graph API account: its base URL (with the version), its id and its token.
pub struct Graph {
    pub http: Http,
    /// `https://graph.facebook.com/v21.0` unless configured.
    pub base: String,
    pub id: String,
    pub token: SecretString,
}

impl Graph {
    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Answer, PublishError> {
        let request =
            self.http.client.get(self.url(path)).query(query).query(&[("access_token", self.token.expose_secret())]);
        call(request).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<Answer, PublishError> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("access_token", self.token.expose_secret()));
        call(self.http.client.post(self.url(path)).form(&fields)).await
    }

    /// A successful answer's body, or what the failure means.
    fn ok(answer: Answer) -> Result<Value, PublishError> {
        if answer.status < 300 && answer.body.get("error").is_none() {
            Ok(answer.body)
        } else {
            Err(graph_failure(answer.status, &answer.headers, &answer.body))
        }
    }

    /// A read that failed never means "not posted": reading again later may tell.
    fn read(answer: Answer) -> Result<Value, PublishError> {
        Self::ok(answer).map_err(|e| match e {
            PublishError::Refused { reason, .. } => PublishError::Unknown(reason),
            other => other,
        })
    }

    /// When the token expires (`debug_token`; 0 means never).
    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        let token = self.token.expose_secret().to_string();
        let body = Self::read(self.get("debug_token", &[("input_token", &token)]).await?)?;
        let data = &body["data"];
        if data["is_valid"] == Value::Bool(false) {
            return Err(PublishError::Unauthorized("Graph says the token is no longer valid".into()));
        }
        let at = |k: &str| data[k].as_i64().filter(|t| *t > 0).and_then(|t| DateTime::from_timestamp(t, 0));
        Ok([at("expires_at"), at("data_access_expires_at")].into_iter().flatten().min())
    }

    /// Engagement fields of several objects in one call (`?ids=`).
    async fn engagement(
        &self,
        ids: &[String],
        fields: &str,
        read: impl Fn(&Value) -> Engagement,
    ) -> Result<Vec<(String, Engagement)>, PublishError> {
        let joined = ids.join(",");
        let body = Self::read(self.get("", &[("ids", &joined), ("fields", fields)]).await?)?;
        Ok(ids.iter().filter_map(|id| body.get(id).map(|v| (id.clone(), read(v)))).collect())
    }
}

fn id_of(body: &Value, field: &str) -> Result<String, PublishError> {
    body[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| PublishError::Unknown(format!("Graph answered without `{field}`")))
}

/// A Facebook Page.
pub struct FacebookPublisher(pub Graph);

#[async_trait]
impl Publisher for FacebookPublisher {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn can_reconcile(&self) -> bool {
        true
    }

    async fn prepare(&self, _: &Publication) -> Result<Option<String>, PublishError> {
        Ok(None)
    }

    async fn publish(&self, p: &Publication, _: Option<&str>) -> Result<Published, PublishError> {
        let g = &self.0;
        if let Some(comment) = &p.reply_to {
            let body = Graph::ok(g.post(&format!("{comment}/comments"), &[("message", &p.text)]).await?)?;
            let id = id_of(&body, "id")?;
            return Ok(Published { permalink: Some(format!("https://www.facebook.com/{id}")), id });
        }
        let (body, field) = match p.media.first() {
            Some(image) => (
                Graph::ok(g.post(&format!("{}/photos", g.id), &[("url", image), ("caption", &p.text)]).await?)?,
                "post_id",
            ),
            None => (Graph::ok(g.post(&format!("{}/feed", g.id), &[("message", &p.text)]).await?)?, "id"),
        };
        let id = id_of(&body, field).or_else(|_| id_of(&body, "id"))?;
        Ok(Published { permalink: Some(format!("https://www.facebook.com/{id}")), id })
    }

    async fn find_recent(
        &self,
        p: &Publication,
        _: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError> {
        let g = &self.0;
        let wanted = comparable(&p.text);
        let (path, field) = match &p.reply_to {
            Some(comment) => (format!("{comment}/comments"), "message"),
            None => (format!("{}/published_posts", g.id), "message"),
        };
        let since_unix = since.timestamp().to_string();
        let query = [
            ("fields", "id,message,created_time,from,permalink_url"),
            ("since", since_unix.as_str()),
            ("limit", "100"),
        ];
        let body = Graph::read(g.get(&path, &query).await?)?;
        let found = body["data"].as_array().into_iter().flatten().find(|item| {
            comparable(item[field].as_str().unwrap_or("")) == wanted
                && not_before(item["created_time"].as_str(), since)
                && (p.reply_to.is_none() || item["from"]["id"].as_str() == Some(g.id.as_str()))
        });
        Ok(found.and_then(|item| {
            let id = item["id"].as_str()?.to_string();
            let permalink = item["permalink_url"]
                .as_str()
                .map(str::to_string)
                .or_else(|| Some(format!("https://www.facebook.com/{id}")));
            Some(Published { id, permalink })
        }))
    }

    async fn repost(&self, _: &str) -> Result<Published, PublishError> {
        Err(PublishError::Refused { reason: "Facebook Pages have no native repost".into(), duplicate: false })
    }

    async fn engagement(&self, ids: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        let fields = "reactions.summary(total_count),comments.summary(true),shares";
        self.0
            .engagement(ids, fields, |v| Engagement {
                likes: v["reactions"]["summary"]["total_count"].as_u64().unwrap_or(0),
                comments: v["comments"]["summary"]["total_count"].as_u64().unwrap_or(0),
                shares: v["shares"]["count"].as_u64().unwrap_or(0),
                impressions: None,
                at: None,
            })
            .await
    }

    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        self.0.token_expiry().await
    }
}

/// An Instagram professional account.
pub struct InstagramPublisher(pub Graph);

impl InstagramPublisher {
    async fn container_status(&self, container: &str) -> Result<String, PublishError> {
        let body = Graph::read(self.0.get(container, &[("fields", "status_code")]).await?)?;
        Ok(body["status_code"].as_str().unwrap_or("").to_string())
    }

    async fn permalink(&self, media: &str) -> Option<String> {
        let body = Graph::read(self.0.get(media, &[("fields", "permalink")]).await.ok()?).ok()?;
        body["permalink"].as_str().map(str::to_string)
    }
}

#[async_trait]
impl Publisher for InstagramPublisher {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn can_reconcile(&self) -> bool {
        true
    }

    /// Within the quota, a media container for the image and caption: nothing is posted yet.
    async fn prepare(&self, p: &Publication) -> Result<Option<String>, PublishError> {
        if p.reply_to.is_some() {
            return Ok(None);
        }
        let g = &self.0;
        let Some(image) = p.media.first() else {
            return Err(PublishError::Refused { reason: "Instagram needs an image".into(), duplicate: false });
        };
        let limit = Graph::read(
            g.get(&format!("{}/content_publishing_limit", g.id), &[("fields", "config,quota_usage")]).await?,
        )?;
        let entry = &limit["data"][0];
        let used = entry["quota_usage"].as_u64().unwrap_or(0);
        if let Some(total) = entry["config"]["quota_total"].as_u64()
            && used >= total
        {
            // A rolling window: room comes back as the oldest posts of the window age out.
            return Err(PublishError::RateLimited { wait: Duration::hours(QUOTA_RECHECK_HOURS) });
        }
        let body = Graph::ok(g.post(&format!("{}/media", g.id), &[("image_url", image), ("caption", &p.text)]).await?)?;
        // No container id in a success leaves nothing to publish: try again later.
        body["id"]
            .as_str()
            .map(|id| Some(id.to_string()))
            .ok_or_else(|| PublishError::Unavailable("no container id".into()))
    }

    async fn publish(&self, p: &Publication, prepared: Option<&str>) -> Result<Published, PublishError> {
        let g = &self.0;
        if let Some(comment) = &p.reply_to {
            let body = Graph::ok(g.post(&format!("{comment}/replies"), &[("message", &p.text)]).await?)?;
            return Ok(Published { id: id_of(&body, "id")?, permalink: None });
        }
        let Some(container) = prepared else {
            return Err(PublishError::Refused { reason: "no media container to publish".into(), duplicate: false });
        };
        for attempt in 0..CONTAINER_CHECKS {
            match self.container_status(container).await?.as_str() {
                "FINISHED" => break,
                "ERROR" | "EXPIRED" => {
                    return Err(PublishError::Refused {
                        reason: format!("the media container is not usable ({container})"),
                        duplicate: false,
                    });
                }
                "PUBLISHED" => return Err(PublishError::Unknown("the container is published already".into())),
                _ if attempt + 1 == CONTAINER_CHECKS => {
                    return Err(PublishError::Unavailable("the media container is still processing".into()));
                }
                _ => tokio::time::sleep(CONTAINER_PAUSE).await,
            }
        }
        let body = Graph::ok(g.post(&format!("{}/media_publish", g.id), &[("creation_id", container)]).await?)?;
        let id = id_of(&body, "id")?;
        let permalink = self.permalink(&id).await;
        Ok(Published { id, permalink })
    }

    /// A container tells: published (then the media is found by its caption), finished
    /// (not published: safe to publish), in progress (unknown yet).
    async fn find_recent(
        &self,
        p: &Publication,
        prepared: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError> {
        let g = &self.0;
        if let Some(comment) = &p.reply_to {
            let body = Graph::read(g.get(&format!("{comment}/replies"), &[("fields", "id,text,timestamp")]).await?)?;
            let wanted = comparable(&p.text);
            let found = body["data"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| comparable(r["text"].as_str().unwrap_or("")) == wanted);
            return Ok(found
                .and_then(|r| r["id"].as_str())
                .map(|id| Published { id: id.to_string(), permalink: None }));
        }
        let Some(container) = prepared else { return Ok(None) };
        match self.container_status(container).await?.as_str() {
            "PUBLISHED" => {}
            "FINISHED" | "ERROR" | "EXPIRED" => return Ok(None),
            other => return Err(PublishError::Unknown(format!("the media container is {other:?}"))),
        }
        let body =
            Graph::read(g.get(&format!("{}/media", g.id), &[("fields", "id,caption,timestamp,permalink")]).await?)?;
        let wanted = comparable(&p.text);
        let found = body["data"].as_array().into_iter().flatten().find(|m| {
            comparable(m["caption"].as_str().unwrap_or("")) == wanted && not_before(m["timestamp"].as_str(), since)
        });
        Ok(found.and_then(|m| {
            Some(Published {
                id: m["id"].as_str()?.to_string(),
                permalink: m["permalink"].as_str().map(str::to_string),
            })
        }))
    }

    async fn repost(&self, _: &str) -> Result<Published, PublishError> {
        Err(PublishError::Refused { reason: "Instagram has no native repost".into(), duplicate: false })
    }

    async fn engagement(&self, ids: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        self.0
            .engagement(ids, "like_count,comments_count", |v| Engagement {
                likes: v["like_count"].as_u64().unwrap_or(0),
                comments: v["comments_count"].as_u64().unwrap_or(0),
                shares: 0,
                impressions: None,
                at: None,
            })
            .await
    }

    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        self.0.token_expiry().await
    }
}

/// The WhatsApp Cloud API number: replies to citizens only.
pub struct WhatsAppPublisher(pub Graph);

#[async_trait]
impl Publisher for WhatsAppPublisher {
    fn platform(&self) -> Platform {
        Platform::Whatsapp
    }

    fn can_reconcile(&self) -> bool {
        false
    }

    async fn prepare(&self, _: &Publication) -> Result<Option<String>, PublishError> {
        Ok(None)
    }

    async fn publish(&self, p: &Publication, _: Option<&str>) -> Result<Published, PublishError> {
        let g = &self.0;
        let Some(to) = &p.to else {
            return Err(PublishError::Refused {
                reason: "WhatsApp needs the recipient's number".into(),
                duplicate: false,
            });
        };
        let mut body = json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"preview_url": false, "body": p.text}
        });
        if let Some(message) = &p.reply_to {
            body["context"] = json!({ "message_id": message });
        }
        let request =
            g.http.client.post(g.url(&format!("{}/messages", g.id))).bearer_auth(g.token.expose_secret()).json(&body);
        let body = Graph::ok(call(request).await?)?;
        let id = body["messages"][0]["id"].as_str().ok_or_else(|| PublishError::Unknown("no message id".into()))?;
        Ok(Published { id: id.to_string(), permalink: None })
    }

    async fn find_recent(
        &self,
        _: &Publication,
        _: Option<&str>,
        _: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError> {
        Err(PublishError::Unknown("WhatsApp offers no way to read sent messages".into()))
    }

    async fn repost(&self, _: &str) -> Result<Published, PublishError> {
        Err(PublishError::Refused { reason: "WhatsApp has no repost".into(), duplicate: false })
    }

    async fn engagement(&self, _: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        Ok(vec![])
    }

    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        self.0.token_expiry().await
    }
}
