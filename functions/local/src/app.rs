//! The whole suite in one process: SQLite store, in-process bus and relay, the same handlers.

use std::path::Path;
use std::sync::{Arc, OnceLock, Weak};

use anyhow::Context;
use async_trait::async_trait;
use chrono::Duration;
use pantau::adapters::blob::FolderBlobStore;
use pantau::adapters::notifier::local_notifiers;
use pantau::adapters::sqlite::SqliteStore;
use pantau::app::classification::{ClassifyService, LiveClassifier, TAXONOMY_REFRESH};
use pantau::app::publishing::Failpoint;
use pantau::app::publishing::engagement::EngagementCollector;
use pantau::app::publishing::publisher::PublishService;
use pantau::app::relay::{RelayStats, sweep};
use pantau::auth::Authenticator;
use pantau::classify::DEFAULT_MODEL;
use pantau::config::{
    DEFAULT_RETENTION_DAYS, Env, PollSettings, PublisherDeps, Secrets, Source, publishers, publishing_settings,
    spike_settings, triage_settings,
};
use pantau::cursor::CursorSigner;
use pantau::domain::{Event, EventKind};
use pantau::error::BusError;
use pantau::handlers::api::ApiState;
use pantau::handlers::ingest_poll::{PollState, PollTokens};
use pantau::handlers::ingest_webhook::{WebhookSecrets, WebhookState};
use pantau::handlers::report::ReportState;
use pantau::handlers::watch::WatchState;
use pantau::handlers::{FunctionError, Trigger, classify, consumer, ingest_poll, publish, report, watch};
use pantau::platforms::client::ApiClient;
use pantau::platforms::publishing::Http;
use pantau::ports::{Announce, DocumentStore, EventBus, PublishReport};
use pantau::schedule::ScheduleName;
use pantau::stores::KnownAccountsCache;
use pantau::stores::accounts::REFRESH as KNOWN_ACCOUNTS_REFRESH;
use pantau::time::Clock;
use secrecy::SecretString;
use tokio::sync::Notify;

/// Events per relay pass.
const RELAY_BATCH: usize = 100;

/// Every handler's state, wired to one SQLite store.
pub struct LocalApp {
    pub store: Arc<SqliteStore>,
    pub clock: Arc<dyn Clock>,
    pub api: ApiState,
    pub webhook: WebhookState,
    pub report: ReportState,
    pub watch: WatchState,
    pub poll: PollState,
    pub classify: ClassifyService,
    pub publish: Arc<PublishService>,
    bus: Arc<LocalBus>,
    pub wake: Arc<Notify>,
}

/// How to build the app.
pub struct Options<'a> {
    pub db: &'a Path,
    /// Folder for files: `reports/`, `quarantine/`.
    pub data_dir: &'a Path,
    pub clock: Arc<dyn Clock>,
    pub secrets: Secrets,
    /// The classification model (the built-in default unless `--model` says otherwise).
    pub model: Option<&'a Path>,
}

/// `PANTAU_FAILPOINT`: where a test harness wants the process to stop.
fn failpoint() -> anyhow::Result<Option<Failpoint>> {
    Env.get("PANTAU_FAILPOINT")
        .map(|v| v.parse::<Failpoint>().map_err(|e| anyhow::anyhow!("invalid configuration PANTAU_FAILPOINT: {e}")))
        .transpose()
}

impl LocalApp {
    pub async fn build(options: Options<'_>) -> anyhow::Result<Arc<LocalApp>> {
        let retention = match Env.get("PANTAU_MENTION_TTL_DAYS") {
            Some(v) => v.parse().with_context(|| format!("invalid configuration PANTAU_MENTION_TTL_DAYS: {v:?}"))?,
            None => DEFAULT_RETENTION_DAYS,
        };
        let store = Arc::new(
            SqliteStore::open(options.db, options.clock.clone(), retention)
                .with_context(|| format!("opening database {}", options.db.display()))?,
        );
        let cursor_key = match &options.secrets.cursor_secret {
            Some(key) => key.clone(),
            None => local_cursor_key(store.as_ref()).await?,
        };
        let model_bytes = match options.model {
            Some(path) => std::fs::read(path).with_context(|| format!("reading model {}", path.display()))?,
            None => DEFAULT_MODEL.to_vec(),
        };
        let classifier = Arc::new(LiveClassifier::load(&model_bytes, store.clone(), TAXONOMY_REFRESH).await?);
        let bus = Arc::new(LocalBus { app: OnceLock::new() });
        let blobs: Arc<FolderBlobStore> = Arc::new(FolderBlobStore::new(options.data_dir));
        let wake = Arc::new(Notify::new());
        let announce: Arc<dyn Announce> = Arc::new(WakeRelay(wake.clone()));
        let clock = options.clock;
        let deps = PublisherDeps { tokens: store.clone(), outbox: Some((options.data_dir, clock.clone())) };
        let publishers = publishers(&Env, &options.secrets, deps)?;
        let publish = Arc::new(PublishService {
            posts: store.clone(),
            occurrences: store.clone(),
            channels: store.clone(),
            markers: store.clone(),
            cases: store.clone(),
            settings_store: store.clone(),
            pending: store.clone(),
            announce: announce.clone(),
            publishers: publishers.clone(),
            settings: publishing_settings(&Env)?,
            clock: clock.clone(),
            failpoint: failpoint()?,
        });
        let app = Arc::new(LocalApp {
            api: ApiState {
                mentions: store.clone(),
                cases: store.clone(),
                settings: store.clone(),
                pending: store.clone(),
                answers: store.clone(),
                accounts: store.clone(),
                feedback: store.clone(),
                alerts: store.clone(),
                lookups: store.clone(),
                counters: store.clone(),
                posts: store.clone(),
                occurrences: store.clone(),
                publishing: publish.clone(),
                media: Arc::new(Http::new()?),
                reports: store.clone(),
                blobs: blobs.clone(),
                markers: store.clone(),
                report_max_days: pantau::config::report_max_days(&Env)?,
                announce: announce.clone(),
                auth: Authenticator::new(
                    Authenticator::admin_keys(options.secrets.api_keys.as_ref()),
                    pantau::config::role_claim(&Env),
                )
                .with_key_store(store.clone()),
                cursors: CursorSigner::new(cursor_key),
                clock: clock.clone(),
            },
            webhook: WebhookState {
                mentions: store.clone(),
                cases: store.clone(),
                settings: store.clone(),
                pending: store.clone(),
                lookups: store.clone(),
                quarantine: blobs.clone(),
                quarantine_per_hour: pantau::config::quarantine_per_hour(&Env)?,
                budgets: store.clone(),
                announce: announce.clone(),
                secrets: WebhookSecrets::from_secrets(&options.secrets),
                clock: clock.clone(),
            },
            report: ReportState {
                counters: store.clone(),
                cases: store.clone(),
                mentions: store.clone(),
                alerts: store.clone(),
                occurrences: store.clone(),
                posts: store.clone(),
                settings: store.clone(),
                reports: store.clone(),
                blobs,
                markers: store.clone(),
                announce: announce.clone(),
                max_days: pantau::config::report_max_days(&Env)?,
                clock: clock.clone(),
            },
            classify: ClassifyService {
                mentions: store.clone(),
                cases: store.clone(),
                settings: store.clone(),
                pending: store.clone(),
                announce: announce.clone(),
                classifier,
                triage: triage_settings(&Env)?,
                accounts: Arc::new(KnownAccountsCache::new(store.clone(), KNOWN_ACCOUNTS_REFRESH)),
                clock: clock.clone(),
                source: "classify",
            },
            poll: PollState {
                mentions: store.clone(),
                cursors: store.clone(),
                lookups: store.clone(),
                announce,
                client: ApiClient::new()?,
                settings: PollSettings::from_source(&Env)?,
                tokens: PollTokens::from_secrets(&options.secrets),
                engagement: EngagementCollector {
                    occurrences: store.clone(),
                    publishers: publishers.clone(),
                    clock: clock.clone(),
                },
                clock: clock.clone(),
            },
            watch: WatchState {
                outbox: store.clone(),
                bus: bus.clone(),
                notifiers: local_notifiers(&Env, &options.secrets).await?,
                alerts: store.clone(),
                cases: store.clone(),
                mentions: store.clone(),
                counters: store.clone(),
                settings: store.clone(),
                markers: store.clone(),
                episodes: store.clone(),
                spikes: spike_settings(&Env)?,
                publishers,
                clock: clock.clone(),
            },
            publish,
            store,
            clock,
            bus: bus.clone(),
            wake,
        });
        // The bus delivers to the app's handlers; it holds the app weakly to avoid a cycle.
        let _ = bus.app.set(Arc::downgrade(&app));
        Ok(app)
    }

    /// Runs one function's handler for a bus or schedule trigger, as its Lambda would.
    pub async fn run_function(&self, function: &str, trigger: Trigger) -> Result<serde_json::Value, FunctionError> {
        let to_json =
            |v: Result<serde_json::Value, serde_json::Error>| v.map_err(|e| FunctionError::Rejected(e.to_string()));
        match function {
            "watch" => {
                // The single-server store has no TTL sweeper: the watch schedule purges.
                if trigger == Trigger::Schedule(ScheduleName::Watch) {
                    let purged = self.store.purge_expired().await?;
                    let documents = self.store.purge_expired_documents().await?;
                    if purged + documents > 0 {
                        tracing::info!(purged, documents, "mentions and documents past retention deleted");
                    }
                }
                to_json(serde_json::to_value(watch::handle(&self.watch, trigger).await?))
            }
            "report" => to_json(serde_json::to_value(report::handle(&self.report, trigger).await?)),
            "ingest-poll" => to_json(serde_json::to_value(ingest_poll::handle(&self.poll, trigger).await?)),
            "classify" => to_json(serde_json::to_value(classify::handle(&self.classify, trigger).await?)),
            "publish" => to_json(serde_json::to_value(publish::handle(&self.publish, trigger).await?)),
            other => Err(FunctionError::Rejected(format!("no function {other}"))),
        }
    }

    /// Relays every pending event to its consumers until the outbox is empty (or stuck).
    pub async fn drain(&self) -> Result<RelayStats, FunctionError> {
        let mut total = RelayStats::default();
        loop {
            let before = self.clock.now() + Duration::days(3650);
            let stats = sweep(self.store.as_ref(), self.bus.as_ref(), before, RELAY_BATCH).await?;
            total.published += stats.published;
            total.failed += stats.failed;
            if stats.published == 0 {
                return Ok(total);
            }
        }
    }
}

/// The in-process bus: delivers each event to its consumer's handler and reports success only
/// when the handler succeeded, so failed deliveries stay in the outbox.
struct LocalBus {
    app: OnceLock<Weak<LocalApp>>,
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, events: &[Event]) -> Result<PublishReport, BusError> {
        let app = self
            .app
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| BusError { bus: "in-process".into(), source: "the application has shut down".into() })?;
        let mut report = PublishReport::default();
        for event in events {
            let outcome = match consumer(&event.kind) {
                // Consumers get the detail as EventBridge delivers it (with `event_id`).
                Some(function) => match EventKind::from_parts(event.kind.detail_type(), event.published_detail()) {
                    Ok(kind) => app.run_function(function, Trigger::Event(kind)).await.map(|_| ()),
                    Err(e) => Err(FunctionError::Rejected(e.to_string())),
                },
                None => Ok(()),
            };
            match outcome {
                Ok(()) => report.published.push(event.id.clone()),
                Err(e) => report.failed.push((event.id.clone(), e.to_string())),
            }
        }
        Ok(report)
    }
}

/// Locally, committed events wake the relay task instead of being published inline.
struct WakeRelay(Arc<Notify>);

#[async_trait]
impl Announce for WakeRelay {
    async fn announce(&self, events: &[Event]) {
        if !events.is_empty() {
            self.0.notify_one();
        }
    }
}

/// Cursor key for a local database: generated once and kept in its config table, so cursors
/// survive restarts without any set-up.
async fn local_cursor_key(store: &SqliteStore) -> anyhow::Result<SecretString> {
    if let Some(serde_json::Value::String(key)) = store.get_doc("local", "cursor_secret").await? {
        return Ok(SecretString::from(key));
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    store.put_doc("local", "cursor_secret", &serde_json::Value::String(key.clone()), None).await?;
    Ok(SecretString::from(key))
}

/// What `pantau reclassify` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ReclassifyOutcome {
    pub seen: usize,
    pub reclassified: usize,
    pub changed_category: usize,
}

/// Classifies again, with this app's model, the mentions of WIB days `from..=to` that need it
/// (`all`: every one, for the topics of a changed taxonomy); counts move from old labels to new
/// ones in the same write.
pub async fn reclassify(
    app: &LocalApp,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    all: bool,
) -> anyhow::Result<ReclassifyOutcome> {
    use pantau::app::classification::ClassifyOutcome;
    use pantau::time::wib_day_start;
    anyhow::ensure!(from <= to, "--from must not be after --to");
    let query = pantau::ports::MentionQuery::between(wib_day_start(from), wib_day_start(to + Duration::days(1)), 200);
    let mut keys = Vec::new();
    pantau::ports::visit_mentions(app.store.as_ref(), query, |m| keys.push(m.key.clone())).await?;
    let bar = indicatif::ProgressBar::new(keys.len() as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} mentions ({per_sec}, {eta} left)")?);
    let mut outcome = ReclassifyOutcome { seen: keys.len(), ..Default::default() };
    for key in keys {
        let outcome_of =
            if all { app.classify.reclassify_once(&key).await? } else { app.classify.classify_once(&key).await? };
        if let ClassifyOutcome::Classified { category, changed_from, .. } = outcome_of {
            outcome.reclassified += 1;
            if changed_from.is_some_and(|old| old != category) {
                outcome.changed_category += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish();
    app.drain().await?;
    Ok(outcome)
}
