//! Typed configuration, read once at start. Settings come from the environment; secrets come
//! from one Secrets Manager secret on AWS (`PANTAU_SECRET_ID`) or from the environment locally.

use std::collections::HashMap;

use secrecy::SecretString;

use crate::adapters::dynamodb::TableNames;

/// Configuration that is missing or malformed; names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing configuration: set {0}")]
    Missing(&'static str),
    #[error("invalid configuration {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("reading secret {secret_id} from Secrets Manager failed: {source}")]
    SecretsManager {
        secret_id: String,
        #[source]
        source: crate::error::BoxError,
    },
}

/// Where configuration values come from: the process environment, or a fixed map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned().filter(|v| !v.is_empty())
    }
}

fn required(src: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    src.get(name).ok_or(ConfigError::Missing(name))
}

fn number<T: std::str::FromStr>(src: &dyn Source, name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match src.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: format!("{v:?}: {e}") }),
    }
}

/// The JWT claim that carries the caller's role (`PANTAU_ROLE_CLAIM`, default `pantau_role`).
pub fn role_claim(src: &dyn Source) -> String {
    src.get("PANTAU_ROLE_CLAIM").unwrap_or_else(|| "pantau_role".to_string())
}

/// Deliveries kept in the quarantine per platform and hour at most
/// (`PANTAU_QUARANTINE_PER_HOUR`, default 100).
pub fn quarantine_per_hour(src: &dyn Source) -> Result<u32, ConfigError> {
    number(src, "PANTAU_QUARANTINE_PER_HOUR", 100)
}

/// How the office publishes: `PANTAU_POST_APPROVAL` (`true`/`false`, default true),
/// `PANTAU_APPROVER_ROLE` (default `admin`), `PANTAU_FACEBOOK_MAX_CHARS` (1000),
/// `PANTAU_FACEBOOK_SHORT_CHARS` (250), `PANTAU_INSTAGRAM_MAX_HASHTAGS` (30),
/// `PANTAU_SERIES_MAX_OCCURRENCES` (500), `PANTAU_CROSSLINK_WAIT_MINUTES` (30),
/// `PANTAU_PUBLISH_BATCH` (10000), `PANTAU_PUBLISH_CONCURRENCY` (16).
pub fn publishing_settings(src: &dyn Source) -> Result<crate::app::publishing::PublishingSettings, ConfigError> {
    let d = crate::app::publishing::PublishingSettings::default();
    let approval = match src.get("PANTAU_POST_APPROVAL").as_deref() {
        None => d.approval_required,
        Some("true" | "1" | "yes") => true,
        Some("false" | "0" | "no") => false,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "PANTAU_POST_APPROVAL",
                reason: format!("{other:?}: true or false"),
            });
        }
    };
    let approver = match src.get("PANTAU_APPROVER_ROLE") {
        None => d.approver,
        Some(v) => {
            v.parse().map_err(|e| ConfigError::Invalid { name: "PANTAU_APPROVER_ROLE", reason: format!("{e}") })?
        }
    };
    let settings = crate::app::publishing::PublishingSettings {
        rules: crate::app::publishing::PostRules {
            facebook_max_chars: number(src, "PANTAU_FACEBOOK_MAX_CHARS", d.rules.facebook_max_chars)?,
            facebook_short_chars: number(src, "PANTAU_FACEBOOK_SHORT_CHARS", d.rules.facebook_short_chars)?,
            instagram_max_hashtags: number(src, "PANTAU_INSTAGRAM_MAX_HASHTAGS", d.rules.instagram_max_hashtags)?,
        },
        approval_required: approval,
        approver,
        max_series_occurrences: number(src, "PANTAU_SERIES_MAX_OCCURRENCES", d.max_series_occurrences)?,
        crosslink_wait_minutes: number(src, "PANTAU_CROSSLINK_WAIT_MINUTES", d.crosslink_wait_minutes)?,
        batch: number(src, "PANTAU_PUBLISH_BATCH", d.batch)?,
        concurrency: number(src, "PANTAU_PUBLISH_CONCURRENCY", d.concurrency)?,
        horizon_days: number(src, "PANTAU_PUBLISH_HORIZON_DAYS", d.horizon_days)?,
        tick_seconds: number(src, "PANTAU_PUBLISH_TICK_SECONDS", d.tick_seconds)?,
        ..d
    };
    if !(1..=90).contains(&settings.horizon_days) {
        return Err(ConfigError::Invalid { name: "PANTAU_PUBLISH_HORIZON_DAYS", reason: "1 to 90 days".into() });
    }
    if settings.rules.facebook_max_chars == 0
        || settings.batch == 0
        || settings.concurrency == 0
        || settings.tick_seconds == 0
    {
        return Err(ConfigError::Invalid { name: "PANTAU_PUBLISH_*", reason: "limits must be at least 1".into() });
    }
    Ok(settings)
}

/// `PANTAU_REPORT_MAX_DAYS`: the longest report (default 92 days, at most 183).
pub fn report_max_days(src: &dyn Source) -> Result<i64, ConfigError> {
    use crate::handlers::report::{DEFAULT_REPORT_DAYS, MAX_REPORT_DAYS};
    let days = number(src, "PANTAU_REPORT_MAX_DAYS", DEFAULT_REPORT_DAYS)?;
    if !(1..=MAX_REPORT_DAYS).contains(&days) {
        return Err(ConfigError::Invalid {
            name: "PANTAU_REPORT_MAX_DAYS",
            reason: format!("1 to {MAX_REPORT_DAYS} days"),
        });
    }
    Ok(days)
}

/// What the publishers need besides configuration.
pub struct PublisherDeps<'a> {
    /// Where rotating X tokens are kept (the config table).
    pub tokens: std::sync::Arc<dyn crate::stores::OAuthTokens>,
    /// On a single server: the local outbox folder for platforms without credentials.
    pub outbox: Option<(&'a std::path::Path, std::sync::Arc<dyn crate::time::Clock>)>,
}

/// The accounts Pantau publishes with, from configuration: every platform whose account id
/// and credentials are set gets our HTTP client; on a single server the rest write to the
/// local outbox folder. An X account with a refresh token (and `PANTAU_X_CLIENT_ID`) renews
/// its user token; one with only a user token uses it as it is.
pub fn publishers(
    src: &dyn Source,
    secrets: &Secrets,
    deps: PublisherDeps<'_>,
) -> Result<crate::app::publishing::Publishers, ConfigError> {
    use crate::domain::{Account, Platform};
    use crate::platforms::meta_publish::{FacebookPublisher, Graph, InstagramPublisher, WhatsAppPublisher};
    use crate::platforms::outbox::OutboxPublisher;
    use crate::platforms::telegram_publish::TelegramPublisher;
    use crate::platforms::x_publish::{XAuth, XPublisher, XRefresh};
    let http = crate::platforms::publishing::Http::new()
        .map_err(|e| ConfigError::Invalid { name: "HTTP client", reason: e.to_string() })?;
    let x_base = base_url(src, "PANTAU_X_API_BASE", "https://api.x.com")?;
    let graph_base = base_url(src, "PANTAU_GRAPH_API_BASE", "https://graph.facebook.com/v21.0")?;
    let telegram_base = base_url(src, "PANTAU_TELEGRAM_API_BASE", "https://api.telegram.org")?;
    let x_expiry = match src.get("PANTAU_X_TOKEN_EXPIRES_AT") {
        None => None,
        Some(v) => {
            Some(chrono::DateTime::parse_from_rfc3339(&v).map(|t| t.with_timezone(&chrono::Utc)).map_err(|e| {
                ConfigError::Invalid { name: "PANTAU_X_TOKEN_EXPIRES_AT", reason: format!("{v:?}: {e}") }
            })?)
        }
    };
    let x_client = src.get("PANTAU_X_CLIENT_ID");
    let mut all = crate::app::publishing::Publishers::default();
    let graph = |id: String, token: &SecretString| Graph {
        http: http.clone(),
        base: graph_base.clone(),
        id,
        token: token.clone(),
    };
    for (account, prefix, x_token, x_refresh, page_token) in [
        (Account::Resmi, "PANTAU_", &secrets.x_user_token, &secrets.x_refresh_token, &secrets.meta_page_token),
        (
            Account::Reaktif,
            "PANTAU_REACTIVE_",
            &secrets.reactive_x_user_token,
            &secrets.reactive_x_refresh_token,
            &secrets.reactive_meta_page_token,
        ),
    ] {
        let id = |name: &str| src.get(&format!("{prefix}{name}"));
        let auth = match (x_refresh, &x_client, x_token) {
            (Some(seed), Some(client_id), _) => Some(XAuth::Refreshing(XRefresh {
                client_id: client_id.clone(),
                client_secret: secrets.x_client_secret.clone(),
                seed: seed.clone(),
                store: deps.tokens.clone(),
                id: format!("x:{account}"),
            })),
            (Some(_), None, _) => return Err(ConfigError::Missing("PANTAU_X_CLIENT_ID")),
            (None, _, Some(token)) => Some(XAuth::Fixed(token.clone())),
            (None, _, None) => None,
        };
        if let (Some(user_id), Some(auth)) = (id("X_USER_ID"), auth) {
            all.insert(
                account,
                std::sync::Arc::new(XPublisher {
                    http: http.clone(),
                    base: x_base.clone(),
                    user_id,
                    username: id("X_USERNAME"),
                    auth,
                    token_expires_at: x_expiry.filter(|_| account == Account::Resmi),
                }),
            );
        }
        if let (Some(page), Some(token)) = (id("FACEBOOK_PAGE_ID"), page_token) {
            all.insert(account, std::sync::Arc::new(FacebookPublisher(graph(page, token))));
        }
        if let (Some(ig), Some(token)) = (id("INSTAGRAM_USER_ID"), page_token) {
            all.insert(account, std::sync::Arc::new(InstagramPublisher(graph(ig, token))));
        }
    }
    if let (Some(channel), Some(token)) = (src.get("PANTAU_TELEGRAM_CHANNEL"), &secrets.telegram_bot_token) {
        let publisher = TelegramPublisher { http: http.clone(), base: telegram_base, token: token.clone(), channel };
        all.insert(Account::Resmi, std::sync::Arc::new(publisher));
    }
    if let (Some(phone), Some(token)) = (src.get("PANTAU_WHATSAPP_PHONE_NUMBER_ID"), &secrets.whatsapp_token) {
        all.insert(Account::Resmi, std::sync::Arc::new(WhatsAppPublisher(graph(phone, token))));
    }
    if let Some((dir, clock)) = deps.outbox {
        // WhatsApp only answers its inbox: it has no posts.
        for platform in crate::domain::PUBLISH_PLATFORMS.into_iter().chain([Platform::Whatsapp]) {
            if all.get(platform, Account::Resmi).is_none() {
                let publisher = OutboxPublisher { platform, dir: dir.to_path_buf(), clock: clock.clone() };
                all.insert(Account::Resmi, std::sync::Arc::new(publisher));
            }
        }
    }
    Ok(all)
}

/// Default retention of mentions, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// Settings every function on AWS needs.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub tables: TableNames,
    pub bus_name: String,
    pub reports_bucket: Option<String>,
    pub retention_days: u32,
    pub secret_id: Option<String>,
}

impl AwsSettings {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let tables = TableNames {
            mentions: required(src, "PANTAU_MENTIONS_TABLE")?,
            cases: required(src, "PANTAU_CASES_TABLE")?,
            posts: required(src, "PANTAU_POSTS_TABLE")?,
            reports: required(src, "PANTAU_REPORTS_TABLE")?,
            config: required(src, "PANTAU_CONFIG_TABLE")?,
            outbox: required(src, "PANTAU_OUTBOX_TABLE")?,
            counters: required(src, "PANTAU_COUNTERS_TABLE")?,
        };
        tables.validate().map_err(|e| ConfigError::Invalid { name: "PANTAU_*_TABLE", reason: e.to_string() })?;
        Ok(AwsSettings {
            tables,
            bus_name: required(src, "PANTAU_EVENT_BUS")?,
            reports_bucket: src.get("PANTAU_REPORTS_BUCKET"),
            retention_days: number(src, "PANTAU_MENTION_TTL_DAYS", DEFAULT_RETENTION_DAYS)?,
            secret_id: src.get("PANTAU_SECRET_ID"),
        })
    }
}

/// Declares the secrets: each a field of [`Secrets`] read from the key of the same name,
/// locally from the environment and on AWS from the secret's JSON.
macro_rules! secrets {
    ($($(#[$meta:meta])* $field:ident => $key:literal,)+) => {
        /// Secrets, wrapped so they never reach logs or debug output. A key that is unset,
        /// empty or still the template's placeholder is `None`.
        #[derive(Default, Clone)]
        pub struct Secrets {
            $($(#[$meta])* pub $field: Option<SecretString>,)+
        }

        /// The secret keys, with the same names locally (environment) and on AWS (secret JSON).
        pub const SECRET_KEYS: &[&str] = &[$($key),+];

        impl Secrets {
            /// Builds the secrets from a lookup by key name.
            fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Secrets {
                let read = |key: &str| get(key).filter(|v| !v.is_empty() && v != PLACEHOLDER).map(SecretString::from);
                Secrets { $($field: read($key),)+ }
            }

            /// The names of the secrets that are set (for logs: never their values).
            pub fn present(&self) -> Vec<&'static str> {
                let mut present = Vec::new();
                $(if self.$field.is_some() { present.push($key); })+
                present
            }
        }
    };
}

secrets! {
    /// Comma-separated admin bearer keys for bootstrapping `/v1`.
    api_keys => "PANTAU_API_KEYS",
    /// Verifies `X-Hub-Signature-256`.
    meta_app_secret => "PANTAU_META_APP_SECRET",
    /// The Meta subscription handshake token.
    meta_verify_token => "PANTAU_META_VERIFY_TOKEN",
    /// X CRC and `x-twitter-webhooks-signature`.
    x_consumer_secret => "PANTAU_X_CONSUMER_SECRET",
    /// The expected `X-Telegram-Bot-Api-Secret-Token`.
    telegram_secret_token => "PANTAU_TELEGRAM_SECRET_TOKEN",
    /// Signs page cursors.
    cursor_secret => "PANTAU_CURSOR_SECRET",
    /// X API v2 bearer token (polling mentions).
    x_bearer_token => "PANTAU_X_BEARER_TOKEN",
    /// YouTube Data API key.
    youtube_api_key => "PANTAU_YOUTUBE_API_KEY",
    /// Graph API token (lookups).
    meta_access_token => "PANTAU_META_ACCESS_TOKEN",
    /// Telegram bot token (alert channel).
    telegram_bot_token => "PANTAU_TELEGRAM_BOT_TOKEN",
    /// Slack-compatible incoming-webhook URL (alert channel).
    slack_webhook_url => "PANTAU_SLACK_WEBHOOK_URL",
    /// X OAuth 2.0 user access token of the official account (publishing).
    x_user_token => "PANTAU_X_USER_TOKEN",
    /// … of the reactive account.
    reactive_x_user_token => "PANTAU_REACTIVE_X_USER_TOKEN",
    /// Facebook Page access token of the official Page (publishing to the Page and Instagram).
    meta_page_token => "PANTAU_META_PAGE_TOKEN",
    /// … of the reactive Page.
    reactive_meta_page_token => "PANTAU_REACTIVE_META_PAGE_TOKEN",
    /// WhatsApp Cloud API token (replies from the inbox).
    whatsapp_token => "PANTAU_WHATSAPP_TOKEN",
    /// X OAuth 2.0 refresh token of the official account (publishing; renews the user token).
    x_refresh_token => "PANTAU_X_REFRESH_TOKEN",
    /// … of the reactive account.
    reactive_x_refresh_token => "PANTAU_REACTIVE_X_REFRESH_TOKEN",
    /// The X app's client secret (confidential clients), for refreshing.
    x_client_secret => "PANTAU_X_CLIENT_SECRET",
}

/// What `ingest-poll` polls, and where. A source without its id (or feeds) is not polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSettings {
    pub x_api_base: String,
    /// The office's X account id (mentions of it are polled).
    pub x_user_id: Option<String>,
    pub youtube_api_base: String,
    /// The office's YouTube channel (`UC…`); comments on its recent uploads are polled.
    pub youtube_channel_id: Option<String>,
    /// How many recent uploads to read comments of.
    pub youtube_videos: u32,
    pub graph_api_base: String,
    /// The office's Instagram account id (to resolve mentions known only by ids).
    pub instagram_user_id: Option<String>,
    pub news_feeds: Vec<String>,
    /// Words a news item must contain to be kept (the office, its leaders, programmes).
    pub news_keywords: Vec<String>,
}

/// A comma-separated setting, trimmed, empty items dropped.
pub(crate) fn list(src: &dyn Source, name: &str) -> Vec<String> {
    src.get(name)
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// A base URL setting (default when unset), without a trailing slash; refuses what is not a URL.
pub(crate) fn base_url(src: &dyn Source, name: &'static str, default: &str) -> Result<String, ConfigError> {
    let url = src.get(name).unwrap_or_else(|| default.to_string());
    url::Url::parse(&url).map_err(|e| ConfigError::Invalid { name, reason: format!("{url:?}: {e}") })?;
    Ok(url.trim_end_matches('/').to_string())
}

/// Spike detection settings: `PANTAU_SPIKE_SENSITIVITY` (standard deviations, default 3),
/// `PANTAU_SPIKE_WEEKS` (earlier weeks compared, 4), `PANTAU_SPIKE_MIN_WEEKS` (history needed
/// before the baseline applies, 2), `PANTAU_SPIKE_MIN_VOLUME` (10 an hour),
/// `PANTAU_SPIKE_FIXED_VOLUME` (50 an hour without history), `PANTAU_SPIKE_NEGATIVE_MARGIN`
/// (0.25 above the baseline share), `PANTAU_SPIKE_FIXED_NEGATIVE_SHARE` (0.6 without history).
pub fn spike_settings(src: &dyn Source) -> Result<crate::spike::SpikeSettings, ConfigError> {
    let d = crate::spike::SpikeSettings::default();
    let s = crate::spike::SpikeSettings {
        sensitivity: number(src, "PANTAU_SPIKE_SENSITIVITY", d.sensitivity)?,
        weeks: number(src, "PANTAU_SPIKE_WEEKS", d.weeks)?,
        min_weeks: number(src, "PANTAU_SPIKE_MIN_WEEKS", d.min_weeks)?,
        min_volume: number(src, "PANTAU_SPIKE_MIN_VOLUME", d.min_volume)?,
        fixed_volume: number(src, "PANTAU_SPIKE_FIXED_VOLUME", d.fixed_volume)?,
        negative_margin: number(src, "PANTAU_SPIKE_NEGATIVE_MARGIN", d.negative_margin)?,
        fixed_negative_share: number(src, "PANTAU_SPIKE_FIXED_NEGATIVE_SHARE", d.fixed_negative_share)?,
        min_negative_volume: d.min_negative_volume,
    };
    let invalid = |name: &'static str, reason: &str| ConfigError::Invalid { name, reason: reason.to_string() };
    if !(s.sensitivity > 0.0 && s.sensitivity <= 20.0) {
        return Err(invalid("PANTAU_SPIKE_SENSITIVITY", "must be above 0 and at most 20"));
    }
    if s.weeks == 0 || s.weeks > 12 || s.min_weeks > s.weeks {
        return Err(invalid("PANTAU_SPIKE_WEEKS", "weeks must be 1 to 12 and at least PANTAU_SPIKE_MIN_WEEKS"));
    }
    if !(0.0..1.0).contains(&s.negative_margin) || !(0.0..=1.0).contains(&s.fixed_negative_share) {
        return Err(invalid("PANTAU_SPIKE_NEGATIVE_MARGIN", "shares are fractions between 0 and 1"));
    }
    Ok(s)
}

/// Triage settings: `PANTAU_INFLUENCE_TIERS` (`menengah,besar,sangat_besar` follower counts,
/// default `1000,10000,100000`) and `PANTAU_REACTIVE_ACCOUNT` (the second account's handle;
/// when set, influential critics are answered from it).
pub fn triage_settings(src: &dyn Source) -> Result<crate::classify::triage::TriageSettings, ConfigError> {
    use crate::classify::triage::{InfluenceThresholds, TriageSettings};
    let thresholds =
        match src.get("PANTAU_INFLUENCE_TIERS") {
            None => InfluenceThresholds::default(),
            Some(v) => {
                let n: Vec<u64> = v.split(',').map(|x| x.trim().parse()).collect::<Result<_, _>>().map_err(|e| {
                    ConfigError::Invalid { name: "PANTAU_INFLUENCE_TIERS", reason: format!("{v:?}: {e}") }
                })?;
                match n[..] {
                    [menengah, besar, sangat_besar] if menengah < besar && besar < sangat_besar => {
                        InfluenceThresholds { menengah, besar, sangat_besar }
                    }
                    _ => {
                        return Err(ConfigError::Invalid {
                            name: "PANTAU_INFLUENCE_TIERS",
                            reason: format!("{v:?}: three increasing follower counts expected"),
                        });
                    }
                }
            }
        };
    let min_confidence = number(src, "PANTAU_MIN_CONFIDENCE", crate::classify::triage::DEFAULT_MIN_CONFIDENCE)?;
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(ConfigError::Invalid {
            name: "PANTAU_MIN_CONFIDENCE",
            reason: format!("{min_confidence}: a probability from 0 to 1 (0 turns the check off)"),
        });
    }
    Ok(TriageSettings { thresholds, reactive_account: src.get("PANTAU_REACTIVE_ACCOUNT").is_some(), min_confidence })
}

/// `PANTAU_MODEL_KEY`: the classification model to load from the bucket instead of the
/// embedded one (`models/<name>.bin`; the classify function may read only under `models/`).
/// Empty or unset: the embedded model.
pub fn model_key(src: &dyn Source) -> Result<Option<String>, ConfigError> {
    let Some(key) = src.get("PANTAU_MODEL_KEY").map(|k| k.trim().to_string()).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let name = key.strip_prefix("models/").unwrap_or_default();
    if name.is_empty() || name.contains('/') || key.contains("..") {
        return Err(ConfigError::Invalid {
            name: "PANTAU_MODEL_KEY",
            reason: format!("{key:?}: an object directly under models/, for example models/pantau-clf-….bin"),
        });
    }
    Ok(Some(key))
}

/// `PANTAU_MODEL_FILE`: the classification model the classify function starts with, a file of
/// its Lambda layer (the template's `ModelLayer`, unpacked under `/opt`). The Lambda binary
/// carries no model, so that its artefact stays small (infra/README.md, "Build");
/// `PANTAU_MODEL_KEY`, when set, is read instead.
pub fn model_file(src: &dyn Source) -> Result<Vec<u8>, ConfigError> {
    let path = src.get("PANTAU_MODEL_FILE").map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let path = path.ok_or(ConfigError::Missing("PANTAU_MODEL_FILE"))?;
    std::fs::read(&path).map_err(|e| ConfigError::Invalid { name: "PANTAU_MODEL_FILE", reason: format!("{path}: {e}") })
}

/// Default keywords for news: the office and its province.
pub const DEFAULT_NEWS_KEYWORDS: [&str; 4] =
    ["Pemprov Jatim", "Pemerintah Provinsi Jawa Timur", "Gubernur Jawa Timur", "Gubernur Jatim"];

impl PollSettings {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let mut keywords = list(src, "PANTAU_NEWS_KEYWORDS");
        if keywords.is_empty() {
            keywords = DEFAULT_NEWS_KEYWORDS.iter().map(|k| k.to_string()).collect();
        }
        Ok(PollSettings {
            x_api_base: base_url(src, "PANTAU_X_API_BASE", "https://api.x.com")?,
            x_user_id: src.get("PANTAU_X_USER_ID"),
            youtube_api_base: base_url(src, "PANTAU_YOUTUBE_API_BASE", "https://www.googleapis.com")?,
            youtube_channel_id: src.get("PANTAU_YOUTUBE_CHANNEL_ID"),
            youtube_videos: number(src, "PANTAU_YOUTUBE_VIDEOS", 5)?,
            graph_api_base: base_url(src, "PANTAU_GRAPH_API_BASE", "https://graph.facebook.com/v21.0")?,
            instagram_user_id: src.get("PANTAU_INSTAGRAM_USER_ID"),
            news_feeds: list(src, "PANTAU_NEWS_FEEDS"),
            news_keywords: keywords,
        })
    }
}

/// The template's placeholder for secrets an operator has not filled in: treated as unset, so a
/// platform is never verified with a publicly known key.
pub const PLACEHOLDER: &str = "CHANGE_ME";

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").field("present", &self.present()).finish()
    }
}

impl Secrets {
    /// Secrets from a source (the environment locally).
    pub fn from_source(src: &dyn Source) -> Self {
        Secrets::from_lookup(|k| src.get(k))
    }

    /// Secrets from a JSON object with the same keys (the Secrets Manager secret).
    pub fn from_json(secret_id: &str, json: &str) -> Result<Self, ConfigError> {
        let map: HashMap<String, serde_json::Value> = serde_json::from_str(json).map_err(|e| ConfigError::Invalid {
            name: "PANTAU_SECRET_ID",
            reason: format!("secret {secret_id} is not a JSON object of strings: {e}"),
        })?;
        Ok(Secrets::from_lookup(|k| map.get(k).and_then(serde_json::Value::as_str).map(str::to_string)))
    }

    /// Reads the one secret from Secrets Manager.
    pub async fn from_secrets_manager(
        client: &aws_sdk_secretsmanager::Client,
        secret_id: &str,
    ) -> Result<Self, ConfigError> {
        let out = client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| ConfigError::SecretsManager { secret_id: secret_id.to_string(), source: e.into() })?;
        let json = out.secret_string().ok_or_else(|| ConfigError::Invalid {
            name: "PANTAU_SECRET_ID",
            reason: format!("secret {secret_id} has no string value"),
        })?;
        Secrets::from_json(secret_id, json)
    }
}

/// Loads the shared AWS SDK configuration; endpoints follow `AWS_ENDPOINT_URL[_<SERVICE>]`.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn missing_settings_name_the_variable() {
        let err = AwsSettings::from_source(&src(&[("PANTAU_MENTIONS_TABLE", "m1")])).unwrap_err();
        assert_eq!(err.to_string(), "missing configuration: set PANTAU_CASES_TABLE");
        let all = [
            ("PANTAU_MENTIONS_TABLE", "mentions"),
            ("PANTAU_CASES_TABLE", "cases"),
            ("PANTAU_POSTS_TABLE", "posts"),
            ("PANTAU_REPORTS_TABLE", "reports"),
            ("PANTAU_CONFIG_TABLE", "config"),
            ("PANTAU_OUTBOX_TABLE", "outbox"),
            ("PANTAU_COUNTERS_TABLE", "counters"),
            ("PANTAU_EVENT_BUS", "pantau"),
            ("PANTAU_MENTION_TTL_DAYS", "soon"),
        ];
        let err = AwsSettings::from_source(&src(&all)).unwrap_err();
        assert!(err.to_string().contains("PANTAU_MENTION_TTL_DAYS"), "{err}");
        let mut bad_table = all;
        bad_table[0] = ("PANTAU_MENTIONS_TABLE", "m");
        bad_table[8] = ("PANTAU_MENTION_TTL_DAYS", "30");
        assert!(AwsSettings::from_source(&src(&bad_table)).unwrap_err().to_string().contains("3 to 255"));
    }

    #[test]
    fn a_model_key_must_name_an_object_directly_under_models() {
        assert_eq!(model_key(&src(&[])).unwrap(), None);
        assert_eq!(model_key(&src(&[("PANTAU_MODEL_KEY", "  ")])).unwrap(), None);
        assert_eq!(
            model_key(&src(&[("PANTAU_MODEL_KEY", "models/m1.bin")])).unwrap().as_deref(),
            Some("models/m1.bin")
        );
        for bad in ["m1.bin", "models/", "models/a/b.bin", "reports/x.bin", "models/..bin"] {
            let err = model_key(&src(&[("PANTAU_MODEL_KEY", bad)])).unwrap_err().to_string();
            assert!(err.contains("PANTAU_MODEL_KEY") && err.contains("models/"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_model_file_is_required_and_a_missing_one_is_named() {
        let err = model_file(&src(&[])).unwrap_err().to_string();
        assert!(err.contains("set PANTAU_MODEL_FILE"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("default.bin").display().to_string();
        let err = model_file(&src(&[("PANTAU_MODEL_FILE", absent.as_str())])).unwrap_err().to_string();
        assert!(err.contains("PANTAU_MODEL_FILE") && err.contains(&absent), "{err}");
        std::fs::write(&absent, b"model bytes").unwrap();
        assert_eq!(model_file(&src(&[("PANTAU_MODEL_FILE", absent.as_str())])).unwrap(), b"model bytes");
    }

    #[test]
    fn poll_settings_default_to_the_real_hosts_and_refuse_bad_urls() {
        let settings =
            PollSettings::from_source(&src(&[("PANTAU_NEWS_FEEDS", "https://a.example/rss, ,https://b.example/atom")]))
                .unwrap();
        assert_eq!(settings.x_api_base, "https://api.x.com");
        assert_eq!(settings.news_feeds, vec!["https://a.example/rss", "https://b.example/atom"]);
        assert_eq!(settings.news_keywords.len(), DEFAULT_NEWS_KEYWORDS.len());
        assert!(settings.x_user_id.is_none());
        let err = PollSettings::from_source(&src(&[("PANTAU_X_API_BASE", "not a url")])).unwrap_err();
        assert!(err.to_string().contains("PANTAU_X_API_BASE"));
    }

    #[test]
    fn triage_settings_take_increasing_tiers() {
        let s = triage_settings(&src(&[
            ("PANTAU_INFLUENCE_TIERS", "500, 5000, 50000"),
            ("PANTAU_REACTIVE_ACCOUNT", "@jatim_reaktif"),
        ]))
        .unwrap();
        assert_eq!((s.thresholds.menengah, s.thresholds.sangat_besar, s.reactive_account), (500, 50_000, true));
        assert!(triage_settings(&src(&[("PANTAU_INFLUENCE_TIERS", "5000,500,50000")])).is_err());
        assert!(
            triage_settings(&src(&[("PANTAU_INFLUENCE_TIERS", "a,b,c")]))
                .unwrap_err()
                .to_string()
                .contains("PANTAU_INFLUENCE_TIERS")
        );
        assert!(!triage_settings(&src(&[])).unwrap().reactive_account);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secrets = Secrets::from_source(&src(&[("PANTAU_META_APP_SECRET", "hunter2"), ("UNRELATED", "x")]));
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("PANTAU_META_APP_SECRET"));
        assert_eq!(secrets.meta_app_secret.unwrap().expose_secret(), "hunter2");
    }

    #[test]
    fn secret_json_must_be_an_object() {
        assert!(Secrets::from_json("arn", "[1]").is_err());
        let s = Secrets::from_json(
            "arn",
            r#"{"PANTAU_X_CONSUMER_SECRET":"abc","PANTAU_META_APP_SECRET":"","PANTAU_TELEGRAM_SECRET_TOKEN":"CHANGE_ME"}"#,
        )
        .unwrap();
        assert!(s.x_consumer_secret.is_some());
        assert!(s.telegram_secret_token.is_none(), "the template placeholder is not a secret");
        assert!(s.meta_app_secret.is_none(), "empty values count as unset");
    }
}
