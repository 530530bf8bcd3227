//! Builds the AWS-backed ports once per Lambda container, from typed configuration, and wires
//! each function's state. Every port handed out records the AWS actions it needs, so what a
//! function's code uses can be compared with what its IAM role grants (tests/template.rs).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::adapters::blob::S3BlobStore;
use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::dynamodb::access::{self, TableAccess};
use crate::adapters::eventbridge::EventBridgeBus;
use crate::app::classification::{ClassifyService, LiveClassifier, LoadError, TAXONOMY_REFRESH};
use crate::app::publishing::engagement::EngagementCollector;
use crate::app::publishing::publisher::PublishService;
use crate::app::relay::InlineRelay;
use crate::auth::Authenticator;
use crate::classify::Classifier;
use crate::config::{AwsSettings, ConfigError, Env, PollSettings, Secrets, Source, spike_settings, triage_settings};
use crate::cursor::CursorSigner;
use crate::handlers::FunctionError::{self, Rejected};
use crate::handlers::api::ApiState;
use crate::handlers::ingest_poll::{PollState, PollTokens};
use crate::handlers::ingest_webhook::{WebhookSecrets, WebhookState};
use crate::handlers::report::ReportState;
use crate::handlers::watch::WatchState;
use crate::platforms::client::ApiClient;
use crate::ports::{
    BlobStore, CaseStore, CounterStore, EventBus, MentionReader, MentionStore, OccurrenceStore, Outbox, PostStore,
    ReportStore,
};
use crate::stores::accounts::REFRESH as KNOWN_ACCOUNTS_REFRESH;
use crate::stores::{
    AlertLog, AnswerLibrary, Budgets, ChannelHealth, FeedbackStore, KnownAccounts, KnownAccountsCache, LookupQueue,
    Markers, PendingReplies, PollCursors, Settings, SpikeEpisodes,
};
use crate::time::{Clock, SystemClock};

/// One permission a function's code needs: a resource of the template (by logical id) and an
/// IAM action on it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub resource: &'static str,
    pub action: &'static str,
}

/// The logical ids of the non-table resources functions use.
pub const SECRET: &str = "PantauSecrets";
pub const BUS: &str = "PantauBus";
pub const BUCKET: &str = "ReportsBucket";
/// SES identities (alert e-mail): not a resource of the template.
pub const SES: &str = "ses";

/// Everything a function on AWS may need, built outside the handler.
pub struct AwsRuntime {
    pub settings: AwsSettings,
    pub secrets: Secrets,
    pub sdk: aws_config::SdkConfig,
    pub clock: Arc<dyn Clock>,
    store: Arc<DynamoStore>,
    bus: Arc<EventBridgeBus>,
    granted: Mutex<BTreeSet<Grant>>,
}

/// A model's bytes loaded, or the start's error naming why the model was refused.
pub fn load_model(bytes: &[u8]) -> Result<Classifier, FunctionError> {
    Classifier::load(bytes).map_err(|e| Rejected(LoadError::from(e).to_string()))
}

impl AwsRuntime {
    /// Reads settings (failing with the missing variable's name), the secret, and builds clients.
    pub async fn load() -> Result<Self, ConfigError> {
        AwsRuntime::load_from(&Env, crate::config::aws_sdk_config().await).await
    }

    /// As [`AwsRuntime::load`], from a given environment and SDK configuration (the staged
    /// wiring test runs each function with the template's environment against the emulator).
    pub async fn load_from(src: &dyn Source, sdk: aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let settings = AwsSettings::from_source(src)?;
        let secrets = match &settings.secret_id {
            Some(id) => Secrets::from_secrets_manager(&aws_sdk_secretsmanager::Client::new(&sdk), id).await?,
            None => Secrets::from_source(src),
        };
        AwsRuntime::new(settings, sdk, secrets)
    }

    /// A runtime over given settings, SDK configuration and secrets.
    pub fn new(settings: AwsSettings, sdk: aws_config::SdkConfig, secrets: Secrets) -> Result<Self, ConfigError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            settings.tables.clone(),
            clock.clone(),
            settings.retention_days,
        )
        .map_err(|e| ConfigError::Invalid { name: "PANTAU_*_TABLE", reason: e.to_string() })?;
        let bus = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), settings.bus_name.clone());
        let mut granted = BTreeSet::new();
        if settings.secret_id.is_some() {
            granted.insert(Grant { resource: SECRET, action: "secretsmanager:GetSecretValue" });
        }
        Ok(AwsRuntime {
            settings,
            secrets,
            sdk,
            clock,
            store: Arc::new(store),
            bus: Arc::new(bus),
            granted: Mutex::new(granted),
        })
    }

    /// What the ports handed out so far need.
    pub fn granted(&self) -> BTreeSet<Grant> {
        self.granted.lock().map(|g| g.clone()).unwrap_or_default()
    }

    fn grant(&self, resource: &'static str, actions: &[&'static str]) {
        if let Ok(mut granted) = self.granted.lock() {
            granted.extend(actions.iter().map(|action| Grant { resource, action }));
        }
    }

    fn tables(&self, accesses: &[TableAccess]) -> Arc<DynamoStore> {
        for (table, actions) in accesses {
            self.grant(table.logical_id, actions);
        }
        self.store.clone()
    }

    pub fn mention_reader(&self) -> Arc<dyn MentionReader> {
        self.tables(access::MENTION_READER)
    }

    pub fn mentions(&self) -> Arc<dyn MentionStore> {
        self.tables(access::MENTION_READER);
        self.tables(access::MENTION_WRITER)
    }

    /// Mentions, also listed by the status of their case (the API).
    pub fn mentions_with_case_listing(&self) -> Arc<dyn MentionStore> {
        self.tables(access::MENTIONS_BY_CASE);
        self.mentions()
    }

    pub fn cases(&self) -> Arc<dyn CaseStore> {
        self.tables(access::CASES)
    }

    pub fn counters(&self) -> Arc<dyn CounterStore> {
        self.tables(access::COUNTERS)
    }

    pub fn occurrences(&self) -> Arc<dyn OccurrenceStore> {
        self.tables(access::OCCURRENCES)
    }

    pub fn posts(&self) -> Arc<dyn PostStore> {
        self.tables(access::POSTS)
    }

    pub fn channels(&self) -> Arc<dyn ChannelHealth> {
        self.tables(access::DOCUMENTS_WITH_EVENTS)
    }

    /// Publishing: the publisher, series made into occurrences, replies from the inbox.
    /// The publishing accounts; rotating X tokens are kept in the config table.
    pub fn publishers(&self, src: &dyn Source) -> Result<crate::app::publishing::Publishers, ConfigError> {
        let deps = crate::config::PublisherDeps { tokens: self.tables(access::DOCUMENTS_WRITE), outbox: None };
        crate::config::publishers(src, &self.secrets, deps)
    }

    pub fn publish_service(&self, src: &dyn Source) -> Result<PublishService, ConfigError> {
        Ok(PublishService {
            posts: self.posts(),
            occurrences: self.occurrences(),
            channels: self.channels(),
            markers: self.markers(),
            cases: self.cases(),
            settings_store: self.settings(),
            pending: self.pending_replies(),
            announce: self.inline_relay(),
            publishers: self.publishers(src)?,
            settings: crate::config::publishing_settings(src)?,
            clock: self.clock.clone(),
            failpoint: None,
        })
    }

    pub fn reports(&self) -> Arc<dyn ReportStore> {
        self.tables(access::REPORTS)
    }

    pub fn outbox(&self) -> Arc<dyn Outbox> {
        self.tables(access::OUTBOX)
    }

    /// The office's settings, read only.
    pub fn settings(&self) -> Arc<dyn Settings> {
        self.tables(access::DOCUMENTS_READ)
    }

    /// The office's settings, read and replaced (the API).
    pub fn settings_editor(&self) -> Arc<dyn Settings> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn alert_log(&self) -> Arc<dyn AlertLog> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn answers(&self) -> Arc<dyn AnswerLibrary> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    /// The office's known accounts, read only (classification).
    pub fn known_accounts(&self) -> Arc<dyn KnownAccounts> {
        self.tables(access::DOCUMENTS_READ)
    }

    /// The office's known accounts, read and edited (the API).
    pub fn known_accounts_editor(&self) -> Arc<dyn KnownAccounts> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn feedback(&self) -> Arc<dyn FeedbackStore> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn lookups(&self) -> Arc<dyn LookupQueue> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn pending_replies(&self) -> Arc<dyn PendingReplies> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn poll_cursors(&self) -> Arc<dyn PollCursors> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn episodes(&self) -> Arc<dyn SpikeEpisodes> {
        self.tables(access::DOCUMENTS_WITH_EVENTS)
    }

    pub fn budgets(&self) -> Arc<dyn Budgets> {
        self.tables(access::DOCUMENTS_WRITE)
    }

    pub fn markers(&self) -> Arc<dyn Markers> {
        self.tables(access::DOCUMENTS_WITH_EVENTS)
    }

    pub fn bus(&self) -> Arc<dyn EventBus> {
        self.grant(BUS, &["events:PutEvents"]);
        self.bus.clone()
    }

    /// Publishes committed events right away; the `relay` schedule sweeps what that misses.
    pub fn inline_relay(&self) -> Arc<InlineRelay> {
        Arc::new(InlineRelay { outbox: self.tables(access::OUTBOX_CLEAR), bus: self.bus() })
    }

    /// The bucket for reports (`reports/`) and quarantined deliveries (`quarantine/`).
    pub fn blob_store(&self) -> Result<Arc<dyn BlobStore>, ConfigError> {
        self.bucket(&["s3:GetObject", "s3:PutObject", "s3:ListBucket"])
    }

    /// The bucket, with `actions` declared as what the function does with it.
    fn bucket(&self, actions: &[&'static str]) -> Result<Arc<dyn BlobStore>, ConfigError> {
        let bucket = self.settings.reports_bucket.clone().ok_or(ConfigError::Missing("PANTAU_REPORTS_BUCKET"))?;
        self.grant(BUCKET, actions);
        Ok(Arc::new(S3BlobStore::new(aws_sdk_s3::Client::new(&self.sdk), bucket)))
    }

    /// Classification models in the bucket (`models/`), read only.
    fn model_objects(&self) -> Result<Arc<dyn BlobStore>, ConfigError> {
        self.bucket(&["s3:GetObject"])
    }

    /// The function `ingest-webhook`.
    pub fn webhook_state(&self, src: &dyn Source) -> Result<WebhookState, ConfigError> {
        Ok(WebhookState {
            mentions: self.mentions(),
            cases: self.cases(),
            settings: self.settings(),
            pending: self.pending_replies(),
            lookups: self.lookups(),
            quarantine: self.blob_store()?,
            quarantine_per_hour: crate::config::quarantine_per_hour(src)?,
            budgets: self.budgets(),
            announce: self.inline_relay(),
            secrets: WebhookSecrets::from_secrets(&self.secrets),
            clock: self.clock.clone(),
        })
    }

    /// The function `ingest-poll`.
    pub fn poll_state(&self, src: &dyn Source) -> Result<PollState, ConfigError> {
        Ok(PollState {
            mentions: self.mentions(),
            cursors: self.poll_cursors(),
            lookups: self.lookups(),
            announce: self.inline_relay(),
            client: ApiClient::new()
                .map_err(|e| ConfigError::Invalid { name: "HTTP client", reason: e.to_string() })?,
            settings: PollSettings::from_source(src)?,
            tokens: PollTokens::from_secrets(&self.secrets),
            engagement: EngagementCollector {
                occurrences: self.occurrences(),
                publishers: self.publishers(src)?,
                clock: self.clock.clone(),
            },
            clock: self.clock.clone(),
        })
    }

    /// The function `classify`: the model object `PANTAU_MODEL_KEY` names in the bucket when
    /// one is configured (a model `pantau train` wrote, copied under `models/`), else `default`
    /// (on Lambda the model file of the function's layer, [`crate::config::model_file`], loaded
    /// while the secret is read). The office's taxonomy is read while the model is loaded.
    pub async fn classify_service(
        &self,
        default: impl Future<Output = Result<Classifier, FunctionError>>,
        src: &dyn Source,
    ) -> Result<ClassifyService, FunctionError> {
        let settings = self.settings();
        let models = self.model_objects().map_err(|e| Rejected(e.to_string()))?;
        let configured = crate::config::model_key(src).map_err(|e| Rejected(e.to_string()))?;
        let model = async {
            let Some(key) = &configured else { return default.await };
            match models.get_blob(key).await {
                Ok(Some(bytes)) => load_model(&bytes),
                Ok(None) => Err(Rejected(format!("PANTAU_MODEL_KEY: no object {key:?} in the bucket"))),
                Err(e) => Err(FunctionError::Retryable(format!("reading model {key:?}: {e}"))),
            }
        };
        let taxonomy = async { settings.stored_taxonomy().await.map_err(|e| Rejected(e.to_string())) };
        let (base, taxonomy) = tokio::try_join!(model, taxonomy)?;
        let classifier = LiveClassifier::new(base, taxonomy, settings.clone(), TAXONOMY_REFRESH);
        tracing::info!(model = %classifier.version(), configured = configured.is_some(), "classifier loaded");
        Ok(ClassifyService {
            mentions: self.mentions(),
            cases: self.cases(),
            settings,
            pending: self.pending_replies(),
            announce: self.inline_relay(),
            classifier: Arc::new(classifier),
            triage: triage_settings(src).map_err(|e| Rejected(e.to_string()))?,
            accounts: Arc::new(KnownAccountsCache::new(self.known_accounts(), KNOWN_ACCOUNTS_REFRESH)),
            clock: self.clock.clone(),
            source: "classify",
        })
    }

    /// The function `watch`.
    pub fn watch_state(&self, src: &dyn Source) -> Result<WatchState, ConfigError> {
        let notifiers = crate::adapters::notifier::notifiers(src, &self.secrets, Some(&self.sdk))?;
        if crate::adapters::notifier::sends_email(src) {
            self.grant(SES, &["ses:SendEmail"]);
        }
        Ok(WatchState {
            outbox: self.outbox(),
            bus: self.bus(),
            notifiers,
            alerts: self.alert_log(),
            cases: self.cases(),
            mentions: self.mention_reader(),
            counters: self.counters(),
            settings: self.settings(),
            markers: self.markers(),
            episodes: self.episodes(),
            spikes: spike_settings(src)?,
            publishers: self.publishers(src)?,
            clock: self.clock.clone(),
        })
    }

    /// The function `report`.
    pub fn report_state(&self, src: &dyn Source) -> Result<ReportState, ConfigError> {
        Ok(ReportState {
            counters: self.counters(),
            cases: self.cases(),
            mentions: self.mention_reader(),
            alerts: self.alert_log(),
            occurrences: self.occurrences(),
            posts: self.posts(),
            settings: self.settings(),
            reports: self.reports(),
            blobs: self.blob_store()?,
            markers: self.markers(),
            announce: self.inline_relay(),
            max_days: crate::config::report_max_days(src)?,
            clock: self.clock.clone(),
        })
    }

    /// The function `api`: the role comes from the JWT claim `PANTAU_ROLE_CLAIM`.
    pub fn api_state(&self, src: &dyn Source) -> Result<ApiState, ConfigError> {
        let cursor_key = self.secrets.cursor_secret.clone().ok_or(ConfigError::Missing("PANTAU_CURSOR_SECRET"))?;
        Ok(ApiState {
            mentions: self.mentions_with_case_listing(),
            cases: self.cases(),
            settings: self.settings_editor(),
            pending: self.pending_replies(),
            answers: self.answers(),
            accounts: self.known_accounts_editor(),
            feedback: self.feedback(),
            alerts: self.alert_log(),
            lookups: self.lookups(),
            counters: self.counters(),
            posts: self.posts(),
            occurrences: self.occurrences(),
            publishing: Arc::new(self.publish_service(src)?),
            media: Arc::new(
                crate::platforms::publishing::Http::new()
                    .map_err(|e| ConfigError::Invalid { name: "HTTP client", reason: e.to_string() })?,
            ),
            reports: self.reports(),
            blobs: self.blob_store()?,
            markers: self.markers(),
            report_max_days: crate::config::report_max_days(src)?,
            announce: self.inline_relay(),
            auth: Authenticator::new(
                Authenticator::admin_keys(self.secrets.api_keys.as_ref()),
                crate::config::role_claim(src),
            ),
            cursors: CursorSigner::new(cursor_key),
            clock: self.clock.clone(),
        })
    }
}
