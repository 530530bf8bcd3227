//! Local HTTP servers playing X (API v2), Meta's Graph API (a Facebook Page, Instagram,
//! WhatsApp) and the Telegram Bot API for publishing, in the shapes their documentation gives
//! (docs/platforms.md). They keep what was posted (so reconciliation can read it back),
//! enforce X's rule against identical text, record every request with the credential it came
//! with, and can be told to fail a route in the ways the platforms do.
//!
//! Base URLs: X at `base`, Graph at `{base}/v21.0`, Telegram at `base`; images at
//! `{base}/images/{name}` (`missing.jpg` is a 404).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// A way a route fails next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The platform's rate limit, lifting after this many seconds.
    RateLimited { seconds: i64 },
    /// The credential is refused (expired or revoked).
    Unauthorized,
    /// The platform acts, then answers 503: the caller cannot tell it acted.
    AcceptThenFail,
    /// The platform is down: 503 without acting.
    Down,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path without the Telegram token.
    pub path: String,
    /// The bearer token, Graph `access_token` or Telegram bot token.
    pub token: Option<String>,
    pub body: Value,
}

/// Something that appeared on a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// `x`, `facebook`, `instagram`, `telegram`, `whatsapp`.
    pub platform: &'static str,
    pub id: String,
    /// The account it appeared on: X user id, Page or Instagram id, Telegram chat, WhatsApp number id.
    pub account: String,
    pub text: String,
    pub at: DateTime<Utc>,
    /// What it answers, where it is a reply.
    pub reply_to: Option<String>,
    /// The post it reposts (X).
    pub repost_of: Option<String>,
    pub media: Vec<String>,
}

#[derive(Default)]
struct Container {
    account: String,
    caption: String,
    image: String,
    published: bool,
}

#[derive(Default)]
struct World {
    now: Option<DateTime<Utc>>,
    requests: Vec<Recorded>,
    posted: Vec<Posted>,
    containers: BTreeMap<String, Container>,
    /// X: bearer token → user id. Graph: token → account ids it may act for. Telegram: tokens.
    x_tokens: HashMap<String, String>,
    /// X refresh tokens not spent yet → user id (each refresh spends one and issues another).
    x_refresh: HashMap<String, String>,
    graph_tokens: HashMap<String, Vec<String>>,
    telegram_tokens: Vec<String>,
    telegram_channel: (i64, String),
    /// Instagram's 24-hour publishing quota (used, total).
    instagram_quota: (u64, u64),
    token_expires_at: Option<DateTime<Utc>>,
    faults: HashMap<String, VecDeque<Fault>>,
    next_id: u64,
    /// Reposts taken back (before reposting the same post again).
    undone_reposts: usize,
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        1_860_000_000_000_000_000 + self.next_id
    }

    fn fault(&mut self, route: &str) -> Option<Fault> {
        self.faults.get_mut(route).and_then(VecDeque::pop_front)
    }
}

/// The running servers.
#[derive(Clone)]
pub struct FakePlatforms {
    pub base: String,
    world: Arc<Mutex<World>>,
}

/// Accounts the fake knows.
pub const X_OFFICIAL: (&str, &str) = ("x-token-resmi", "1384920776301551617");
pub const X_REACTIVE: (&str, &str) = ("x-token-reaktif", "1520001112223334445");
pub const PAGE: (&str, &str) = ("page-token-resmi", "104839201938475");
pub const REACTIVE_PAGE: (&str, &str) = ("page-token-reaktif", "109999201938400");
/// The refresh token X issued the official account when it was authorised.
pub const X_REFRESH_SEED: &str = "x-refresh-seed-resmi";
pub const X_CLIENT_ID: &str = "cGFudGF1LWNsaWVudA";
pub const INSTAGRAM: &str = "17841463920184756";
pub const WHATSAPP_NUMBER: &str = "110200300400500";
pub const TELEGRAM_TOKEN: &str = "7311112222:AAE-fake-bot-token";
pub const TELEGRAM_CHANNEL: &str = "@humasjatimtest";

impl FakePlatforms {
    /// Starts the servers on their own thread and runtime (usable from sync and async tests).
    pub fn start() -> FakePlatforms {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let mut world = World {
            telegram_channel: (-1_001_987_654_321, "humasjatimtest".into()),
            instagram_quota: (0, 50),
            ..Default::default()
        };
        world.x_tokens.insert(X_OFFICIAL.0.into(), X_OFFICIAL.1.into());
        world.x_tokens.insert(X_REACTIVE.0.into(), X_REACTIVE.1.into());
        world.x_refresh.insert(X_REFRESH_SEED.into(), X_OFFICIAL.1.into());
        world.graph_tokens.insert(PAGE.0.into(), vec![PAGE.1.into(), INSTAGRAM.into(), WHATSAPP_NUMBER.into()]);
        world.graph_tokens.insert(REACTIVE_PAGE.0.into(), vec![REACTIVE_PAGE.1.into()]);
        world.telegram_tokens.push(TELEGRAM_TOKEN.into());
        let world = Arc::new(Mutex::new(world));
        let shared = world.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = axum::Router::new().fallback(handle).with_state(shared);
                let _ = axum::serve(listener, app).await;
            });
        });
        FakePlatforms { base, world }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The environment that points Pantau's publishers at these servers with the official
    /// and reactive accounts (secrets included, as `pantau` reads them locally).
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("PANTAU_X_API_BASE", self.base.clone()),
            ("PANTAU_GRAPH_API_BASE", format!("{}/v21.0", self.base)),
            ("PANTAU_TELEGRAM_API_BASE", self.base.clone()),
            ("PANTAU_X_USER_ID", X_OFFICIAL.1.into()),
            ("PANTAU_X_USERNAME", "humasjatim".into()),
            ("PANTAU_X_USER_TOKEN", X_OFFICIAL.0.into()),
            ("PANTAU_REACTIVE_X_USER_ID", X_REACTIVE.1.into()),
            ("PANTAU_REACTIVE_X_USER_TOKEN", X_REACTIVE.0.into()),
            ("PANTAU_FACEBOOK_PAGE_ID", PAGE.1.into()),
            ("PANTAU_META_PAGE_TOKEN", PAGE.0.into()),
            ("PANTAU_REACTIVE_FACEBOOK_PAGE_ID", REACTIVE_PAGE.1.into()),
            ("PANTAU_REACTIVE_META_PAGE_TOKEN", REACTIVE_PAGE.0.into()),
            ("PANTAU_INSTAGRAM_USER_ID", INSTAGRAM.into()),
            ("PANTAU_WHATSAPP_PHONE_NUMBER_ID", WHATSAPP_NUMBER.into()),
            ("PANTAU_WHATSAPP_TOKEN", PAGE.0.into()),
            ("PANTAU_TELEGRAM_CHANNEL", TELEGRAM_CHANNEL.into()),
            ("PANTAU_TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The same, with the official X account on a refresh token (OAuth 2.0 with
    /// `offline.access`) instead of a fixed user token.
    pub fn env_refreshing(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            self.env().into_iter().filter(|(k, _)| k != "PANTAU_X_USER_TOKEN").collect();
        env.push(("PANTAU_X_REFRESH_TOKEN".into(), X_REFRESH_SEED.into()));
        env.push(("PANTAU_X_CLIENT_ID".into(), X_CLIENT_ID.into()));
        env
    }

    /// X stops accepting every access token it issued by refresh (they expired).
    pub fn expire_x_access_tokens(&self) {
        self.world().x_tokens.retain(|token, _| token.starts_with("x-token-"));
    }

    pub fn image(&self, name: &str) -> String {
        format!("{}/images/{name}", self.base)
    }

    /// The platforms' clock (what they stamp posts with); real time unless set.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.world().now = Some(now);
    }

    /// The next calls of `route` fail in turn: `x.tweets`, `x.retweets`, `x.media`,
    /// `facebook.feed`, `facebook.photos`, `facebook.comments`, `instagram.media`,
    /// `instagram.media_publish`, `instagram.replies`, `telegram.send`, `whatsapp.messages`.
    pub fn fail(&self, route: &str, faults: &[Fault]) {
        self.world().faults.entry(route.to_string()).or_default().extend(faults.iter().copied());
    }

    pub fn set_instagram_quota(&self, used: u64, total: u64) {
        self.world().instagram_quota = (used, total);
    }

    pub fn set_token_expiry(&self, at: DateTime<Utc>) {
        self.world().token_expires_at = Some(at);
    }

    /// Every publication, reply and repost that appeared, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.world().posted.clone()
    }

    /// How many reposts were undone to repost again.
    pub fn undone_reposts(&self) -> usize {
        self.world().undone_reposts
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.world().requests.clone()
    }
}

fn token_of(headers: &HeaderMap, query: &HashMap<String, String>, form: &HashMap<String, String>) -> Option<String> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    bearer.or_else(|| query.get("access_token").cloned()).or_else(|| form.get("access_token").cloned())
}

fn pairs(raw: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect()
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn handle(State(world): State<Arc<Mutex<World>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let query = pairs(parts.uri.query().unwrap_or(""));
    let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let form = if content_type.starts_with("application/x-www-form-urlencoded") {
        pairs(&String::from_utf8_lossy(&bytes))
    } else {
        HashMap::new()
    };
    let json_body: Value = if content_type.starts_with("application/json") {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    } else {
        serde_json::to_value(&form).unwrap_or(Value::Null)
    };
    let path = parts.uri.path().to_string();
    if let Some(name) = path.strip_prefix("/images/") {
        return image(&parts.method, name);
    }
    let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
    let (recorded_path, telegram) = match path.strip_prefix("/bot").and_then(|rest| rest.split_once('/')) {
        Some((token, method)) => (format!("/bot…/{method}"), Some((token.to_string(), method.to_string()))),
        None => (path.clone(), None),
    };
    let token = match &telegram {
        Some((token, _)) => Some(token.clone()),
        None => token_of(&parts.headers, &query, &form),
    };
    w.requests.push(Recorded {
        method: parts.method.to_string(),
        path: recorded_path,
        token: token.clone(),
        body: if content_type.starts_with("multipart/") {
            json!({"multipart_bytes": bytes.len()})
        } else {
            json_body.clone()
        },
    });
    if let Some((token, method)) = telegram {
        return telegram_method(&mut w, &token, &method, &json_body);
    }
    if let Some(rest) = path.strip_prefix("/v21.0/") {
        let mut fields = query.clone();
        fields.extend(form);
        return graph(&mut w, &parts.method, rest, token.as_deref(), &fields, &json_body);
    }
    if path == "/2/oauth2/token" {
        return x_token(&mut w, &form);
    }
    if path.starts_with("/2/") {
        return x(&mut w, &parts.method, &path, token.as_deref(), &query, &json_body);
    }
    answer(StatusCode::NOT_FOUND, json!({"error": format!("no route {path}")}))
}

/// A small JPEG-typed body (the publishers only pass it on).
fn image(method: &Method, name: &str) -> Response {
    if name == "missing.jpg" {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let body: &[u8] = if method == Method::HEAD { b"" } else { b"\xFF\xD8\xFF\xE0fake-jpeg\xFF\xD9" };
    (StatusCode::OK, [("content-type", "image/jpeg")], body.to_vec()).into_response()
}

fn x_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn x_problem(status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    answer(status, json!({"title": title, "type": "about:blank", "status": status.as_u16(), "detail": detail}))
}

fn x_fault(fault: Fault) -> Response {
    match fault {
        Fault::RateLimited { seconds } => {
            let reset = (Utc::now() + Duration::seconds(seconds)).timestamp();
            let mut response = x_problem(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            let headers = response.headers_mut();
            headers.insert("x-rate-limit-limit", "100".parse().expect("header"));
            headers.insert("x-rate-limit-remaining", "0".parse().expect("header"));
            headers.insert("x-rate-limit-reset", reset.to_string().parse().expect("header"));
            response
        }
        Fault::Unauthorized => x_problem(StatusCode::UNAUTHORIZED, "Unauthorized"),
        Fault::AcceptThenFail | Fault::Down => x_problem(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
    }
}

/// `POST /2/oauth2/token` (`grant_type=refresh_token`): spends the refresh token, issues a
/// new pair.
fn x_token(w: &mut World, form: &HashMap<String, String>) -> Response {
    let refused =
        |d: &str| answer(StatusCode::BAD_REQUEST, json!({"error": "invalid_request", "error_description": d}));
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("refresh_token") || field("client_id") != Some(X_CLIENT_ID) {
        return refused("Missing required parameter [grant_type] or unknown client");
    }
    let Some(user) = form.get("refresh_token").and_then(|r| w.x_refresh.remove(r)) else {
        return refused("Value passed for the token was invalid.");
    };
    let n = w.id();
    let (access, refresh) = (format!("x-access-{n}"), format!("x-refresh-{n}"));
    w.x_tokens.insert(access.clone(), user.clone());
    w.x_refresh.insert(refresh.clone(), user);
    answer(
        StatusCode::OK,
        json!({
            "token_type": "bearer", "expires_in": 7200, "access_token": access,
            "scope": "tweet.read tweet.write users.read offline.access media.write", "refresh_token": refresh
        }),
    )
}

fn x(
    w: &mut World,
    method: &Method,
    path: &str,
    token: Option<&str>,
    query: &HashMap<String, String>,
    body: &Value,
) -> Response {
    let Some(user) = token.and_then(|t| w.x_tokens.get(t).cloned()) else {
        return x_problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    };
    let now = w.now();
    match (method.as_str(), path) {
        ("POST", "/2/tweets") => {
            let fault = w.fault("x.tweets");
            if let Some(f @ (Fault::RateLimited { .. } | Fault::Unauthorized | Fault::Down)) = fault {
                return x_fault(f);
            }
            let Some(text) = body["text"].as_str().map(str::to_string) else {
                return x_problem(StatusCode::BAD_REQUEST, "text is required");
            };
            let reply_to = body["reply"]["in_reply_to_tweet_id"].as_str().map(str::to_string);
            let duplicate = reply_to.is_none()
                && w.posted.iter().any(|p| {
                    p.platform == "x"
                        && p.account == user
                        && p.repost_of.is_none()
                        && p.text == text
                        && now - p.at < Duration::hours(12)
                });
            if duplicate {
                return x_problem(
                    StatusCode::FORBIDDEN,
                    "You are not allowed to create a Tweet with duplicate content.",
                );
            }
            let id = w.id().to_string();
            let media = body["media"]["media_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect();
            w.posted.push(Posted {
                platform: "x",
                id: id.clone(),
                account: user,
                text: text.clone(),
                at: now,
                reply_to,
                repost_of: None,
                media,
            });
            if fault == Some(Fault::AcceptThenFail) {
                return x_fault(Fault::AcceptThenFail);
            }
            answer(StatusCode::CREATED, json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}}))
        }
        ("POST", "/2/media/upload") => {
            if let Some(f) = w.fault("x.media") {
                return x_fault(f);
            }
            let id = w.id().to_string();
            answer(
                StatusCode::OK,
                json!({"data": {"id": id, "media_key": format!("3_{id}"), "size": 14, "expires_after_secs": 86400}}),
            )
        }
        ("POST", p) if p == format!("/2/users/{user}/retweets") => {
            if let Some(f) = w.fault("x.retweets") {
                return x_fault(f);
            }
            let Some(of) = body["tweet_id"].as_str().map(str::to_string) else {
                return x_problem(StatusCode::BAD_REQUEST, "tweet_id is required");
            };
            let id = w.id().to_string();
            w.posted.push(Posted {
                platform: "x",
                id,
                account: user,
                text: String::new(),
                at: now,
                reply_to: None,
                repost_of: Some(of),
                media: vec![],
            });
            answer(StatusCode::OK, json!({"data": {"retweeted": true}}))
        }
        ("DELETE", p) if p.starts_with(&format!("/2/users/{user}/retweets/")) => {
            let of = p.rsplit('/').next().unwrap_or("").to_string();
            let before = w.posted.len();
            w.posted
                .retain(|p| !(p.platform == "x" && p.account == user && p.repost_of.as_deref() == Some(of.as_str())));
            let undone = before - w.posted.len();
            w.undone_reposts += undone;
            answer(StatusCode::OK, json!({"data": {"retweeted": false}}))
        }
        ("GET", p) if p.starts_with("/2/users/") && p.ends_with("/tweets") => {
            let start = query
                .get("start_time")
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            let mut data: Vec<Value> = w
                .posted
                .iter()
                .filter(|p| p.platform == "x" && p.account == user && p.repost_of.is_none())
                .filter(|p| start.is_none_or(|s| p.at >= s))
                .map(|p| {
                    let mut t = json!({"id": p.id, "text": p.text, "created_at": x_time(p.at), "edit_history_tweet_ids": [p.id]});
                    if let Some(parent) = &p.reply_to {
                        t["referenced_tweets"] = json!([{"type": "replied_to", "id": parent}]);
                    }
                    t
                })
                .collect();
            data.reverse();
            let count = data.len();
            answer(StatusCode::OK, json!({"data": data, "meta": {"result_count": count}}))
        }
        ("GET", "/2/tweets") => {
            let ids: Vec<&str> = query.get("ids").map(|s| s.split(',').collect()).unwrap_or_default();
            let data: Vec<Value> = w
                .posted
                .iter()
                .filter(|p| p.platform == "x" && ids.contains(&p.id.as_str()))
                .map(|p| {
                    let n = p.text.len() as u64;
                    json!({"id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id], "public_metrics": {
                        "retweet_count": n % 5, "reply_count": n % 3, "like_count": n % 17, "quote_count": 0,
                        "bookmark_count": 0, "impression_count": 100 + n
                    }})
                })
                .collect();
            answer(StatusCode::OK, json!({"data": data}))
        }
        _ => x_problem(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

fn graph_error(status: StatusCode, code: i64, message: &str) -> Response {
    answer(
        status,
        json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf123"}}),
    )
}

fn graph_fault(fault: Fault) -> Response {
    match fault {
        Fault::RateLimited { .. } => graph_error(StatusCode::BAD_REQUEST, 32, "Page request limit reached"),
        Fault::Unauthorized => graph_error(
            StatusCode::BAD_REQUEST,
            190,
            "Error validating access token: Session has expired on Thursday, 03-Dec-26 01:00:00 PST.",
        ),
        Fault::AcceptThenFail | Fault::Down => graph_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            2,
            "An unexpected error has occurred. Please retry your request later.",
        ),
    }
}

fn graph_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

fn graph(
    w: &mut World,
    method: &Method,
    rest: &str,
    token: Option<&str>,
    fields: &HashMap<String, String>,
    body: &Value,
) -> Response {
    let Some(allowed) = token.and_then(|t| w.graph_tokens.get(t).cloned()) else {
        return graph_error(StatusCode::BAD_REQUEST, 190, "Invalid OAuth access token - Cannot parse access token");
    };
    let now = w.now();
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    // A fault on a publishing route; acting first where it is `AcceptThenFail`.
    let publish = |w: &mut World, route: &str, act: &mut dyn FnMut(&mut World) -> Response| -> Response {
        match w.fault(route) {
            Some(Fault::AcceptThenFail) => {
                act(w);
                graph_fault(Fault::AcceptThenFail)
            }
            Some(f) => graph_fault(f),
            None => act(w),
        }
    };
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["debug_token"]) => {
            let expires = w.token_expires_at.map_or(0, |t| t.timestamp());
            answer(
                StatusCode::OK,
                json!({"data": {"app_id": "1", "type": "PAGE", "is_valid": true, "expires_at": expires, "data_access_expires_at": 0, "scopes": ["pages_manage_posts"]}}),
            )
        }
        ("POST", [account, edge @ ("feed" | "photos")]) if allowed.iter().any(|a| a == account) => {
            let account = account.to_string();
            let photos = *edge == "photos";
            let route = if photos { "facebook.photos" } else { "facebook.feed" };
            publish(w, route, &mut |w| {
                let text = if photos { field("caption") } else { field("message") };
                let id = format!("{account}_{}", w.id());
                let media = if photos { vec![field("url")] } else { vec![] };
                w.posted.push(Posted {
                    platform: "facebook",
                    id: id.clone(),
                    account: account.clone(),
                    text,
                    at: now,
                    reply_to: None,
                    repost_of: None,
                    media,
                });
                if photos {
                    answer(StatusCode::OK, json!({"id": w.id().to_string(), "post_id": id}))
                } else {
                    answer(StatusCode::OK, json!({"id": id}))
                }
            })
        }
        ("POST", [comment, "comments"]) => {
            let comment = comment.to_string();
            let account = allowed[0].clone();
            publish(w, "facebook.comments", &mut |w| {
                let id = format!("{}_{}", comment, w.id());
                w.posted.push(Posted {
                    platform: "facebook",
                    id: id.clone(),
                    account: account.clone(),
                    text: field("message"),
                    at: now,
                    reply_to: Some(comment.clone()),
                    repost_of: None,
                    media: vec![],
                });
                answer(StatusCode::OK, json!({"id": id}))
            })
        }
        ("GET", [account, "published_posts"]) => {
            let since = field("since").parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0));
            let mut data: Vec<Value> = w
                .posted
                .iter()
                .filter(|p| p.platform == "facebook" && &p.account == account && p.reply_to.is_none())
                .filter(|p| since.is_none_or(|s| p.at >= s))
                .map(|p| json!({"id": p.id, "message": p.text, "created_time": graph_time(p.at), "permalink_url": format!("https://www.facebook.com/{}", p.id)}))
                .collect();
            data.reverse();
            answer(StatusCode::OK, json!({"data": data, "paging": {}}))
        }
        ("GET", [comment, "comments"]) => {
            let data: Vec<Value> = w
                .posted
                .iter()
                .filter(|p| p.platform == "facebook" && p.reply_to.as_deref() == Some(*comment))
                .map(|p| json!({"id": p.id, "message": p.text, "created_time": graph_time(p.at), "from": {"id": p.account, "name": "Humas"}}))
                .collect();
            answer(StatusCode::OK, json!({"data": data}))
        }
        ("GET", [account, "content_publishing_limit"]) if *account == INSTAGRAM => {
            let (used, total) = w.instagram_quota;
            answer(
                StatusCode::OK,
                json!({"data": [{"quota_usage": used, "config": {"quota_total": total, "quota_duration": 86400}}]}),
            )
        }
        ("POST", [account, "media"]) if *account == INSTAGRAM && allowed.iter().any(|a| a == account) => {
            publish(w, "instagram.media", &mut |w| {
                if field("image_url").is_empty() {
                    return graph_error(StatusCode::BAD_REQUEST, 100, "The parameter image_url is required");
                }
                let id = w.id().to_string();
                let container = Container {
                    account: INSTAGRAM.into(),
                    caption: field("caption"),
                    image: field("image_url"),
                    published: false,
                };
                w.containers.insert(id.clone(), container);
                answer(StatusCode::OK, json!({"id": id}))
            })
        }
        ("POST", [account, "media_publish"]) if *account == INSTAGRAM && allowed.iter().any(|a| a == account) => {
            let creation = field("creation_id");
            publish(w, "instagram.media_publish", &mut |w| {
                let id = w.id().to_string();
                let Some(container) = w.containers.get_mut(&creation) else {
                    return graph_error(StatusCode::BAD_REQUEST, 100, "Media ID is not available");
                };
                if container.published {
                    return graph_error(StatusCode::BAD_REQUEST, 9007, "The media has already been published");
                }
                container.published = true;
                let posted = Posted {
                    platform: "instagram",
                    id: id.clone(),
                    account: container.account.clone(),
                    text: container.caption.clone(),
                    at: now,
                    reply_to: None,
                    repost_of: None,
                    media: vec![container.image.clone()],
                };
                w.posted.push(posted);
                w.instagram_quota.0 += 1;
                answer(StatusCode::OK, json!({"id": id}))
            })
        }
        ("GET", [account, "media"]) if *account == INSTAGRAM => {
            let mut data: Vec<Value> = w
                .posted
                .iter()
                .filter(|p| p.platform == "instagram" && p.reply_to.is_none())
                .map(|p| json!({"id": p.id, "caption": p.text, "timestamp": graph_time(p.at), "permalink": format!("https://www.instagram.com/p/{}/", p.id)}))
                .collect();
            data.reverse();
            answer(StatusCode::OK, json!({"data": data}))
        }
        ("POST", [comment, "replies"]) => {
            let comment = comment.to_string();
            publish(w, "instagram.replies", &mut |w| {
                let id = w.id().to_string();
                w.posted.push(Posted {
                    platform: "instagram",
                    id: id.clone(),
                    account: INSTAGRAM.into(),
                    text: field("message"),
                    at: now,
                    reply_to: Some(comment.clone()),
                    repost_of: None,
                    media: vec![],
                });
                answer(StatusCode::OK, json!({"id": id}))
            })
        }
        ("GET", [comment, "replies"]) => {
            let data: Vec<Value> = w
                .posted
                .iter()
                .filter(|p| p.platform == "instagram" && p.reply_to.as_deref() == Some(*comment))
                .map(|p| json!({"id": p.id, "text": p.text, "timestamp": graph_time(p.at)}))
                .collect();
            answer(StatusCode::OK, json!({"data": data}))
        }
        ("POST", [number, "messages"]) if *number == WHATSAPP_NUMBER && allowed.iter().any(|a| a == number) => {
            let to = body["to"].as_str().unwrap_or("").to_string();
            let text = body["text"]["body"].as_str().unwrap_or("").to_string();
            let context = body["context"]["message_id"].as_str().map(str::to_string);
            publish(w, "whatsapp.messages", &mut |w| {
                let id = format!("wamid.HBgM{}", w.id());
                w.posted.push(Posted {
                    platform: "whatsapp",
                    id: id.clone(),
                    account: to.clone(),
                    text: text.clone(),
                    at: now,
                    reply_to: context.clone(),
                    repost_of: None,
                    media: vec![],
                });
                answer(
                    StatusCode::OK,
                    json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": id}]}),
                )
            })
        }
        ("GET", []) => {
            // `?ids=a,b&fields=…`: engagement of several objects.
            let ids: Vec<String> = field("ids").split(',').map(str::to_string).collect();
            let mut out = serde_json::Map::new();
            for p in w.posted.iter().filter(|p| ids.contains(&p.id)) {
                let n = p.text.len() as u64;
                let value = match p.platform {
                    "instagram" => json!({"id": p.id, "like_count": n % 13, "comments_count": n % 4}),
                    _ => {
                        json!({"id": p.id, "reactions": {"data": [], "summary": {"total_count": n % 11}}, "comments": {"data": [], "summary": {"total_count": n % 3}}, "shares": {"count": n % 2}})
                    }
                };
                out.insert(p.id.clone(), value);
            }
            answer(StatusCode::OK, Value::Object(out))
        }
        ("GET", [object]) => {
            if let Some(container) = w.containers.get(*object) {
                let status = if container.published { "PUBLISHED" } else { "FINISHED" };
                return answer(StatusCode::OK, json!({"status_code": status, "id": object}));
            }
            match w.posted.iter().find(|p| p.id == *object) {
                Some(p) if p.platform == "instagram" => answer(
                    StatusCode::OK,
                    json!({"id": p.id, "permalink": format!("https://www.instagram.com/p/{}/", p.id)}),
                ),
                Some(p) => answer(StatusCode::OK, json!({"id": p.id, "message": p.text})),
                None => graph_error(StatusCode::BAD_REQUEST, 100, "Unsupported get request."),
            }
        }
        _ => graph_error(StatusCode::BAD_REQUEST, 100, "Unsupported request or missing permissions"),
    }
}

fn telegram_method(w: &mut World, token: &str, method: &str, body: &Value) -> Response {
    if !w.telegram_tokens.iter().any(|t| t == token) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
        );
    }
    let fault = match method {
        "sendMessage" | "sendPhoto" => w.fault("telegram.send"),
        _ => None,
    };
    match fault {
        Some(Fault::RateLimited { seconds }) => {
            let description = format!("Too Many Requests: retry after {seconds}");
            return answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error_code": 429, "description": description, "parameters": {"retry_after": seconds}}),
            );
        }
        Some(Fault::Unauthorized) => {
            return answer(
                StatusCode::UNAUTHORIZED,
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            );
        }
        Some(Fault::Down) => {
            return answer(
                StatusCode::BAD_GATEWAY,
                json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
            );
        }
        _ => {}
    }
    let now = w.now();
    match method {
        "sendMessage" | "sendPhoto" => {
            let chat = match &body["chat_id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let text = body["text"].as_str().or_else(|| body["caption"].as_str()).unwrap_or("").to_string();
            let reply_to = body["reply_parameters"]["message_id"].as_i64().map(|m| m.to_string());
            let message_id = (w.posted.iter().filter(|p| p.platform == "telegram").count() + 100) as i64;
            let (channel_id, channel_name) = w.telegram_channel.clone();
            let chat_json = if chat == TELEGRAM_CHANNEL || chat == channel_id.to_string() {
                json!({"id": channel_id, "title": "Humas Jatim", "username": channel_name, "type": "channel"})
            } else {
                json!({"id": chat.parse::<i64>().unwrap_or(0), "first_name": "Warga", "type": "private"})
            };
            let account = chat_json["id"].to_string();
            let media = body["photo"].as_str().map(|p| vec![p.to_string()]).unwrap_or_default();
            w.posted.push(Posted {
                platform: "telegram",
                id: message_id.to_string(),
                account,
                text: text.clone(),
                at: now,
                reply_to,
                repost_of: None,
                media,
            });
            if fault == Some(Fault::AcceptThenFail) {
                return answer(
                    StatusCode::BAD_GATEWAY,
                    json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
                );
            }
            let key = if method == "sendPhoto" { "caption" } else { "text" };
            answer(
                StatusCode::OK,
                json!({"ok": true, "result": {"message_id": message_id, "date": now.timestamp(), "chat": chat_json, key: text}}),
            )
        }
        _ => answer(
            StatusCode::NOT_FOUND,
            json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}),
        ),
    }
}
