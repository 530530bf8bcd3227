//! Builds the AWS-backed ports once per Lambda container, from typed configuration.

use std::sync::Arc;

use crate::adapters::blob::S3BlobStore;
use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::eventbridge::EventBridgeBus;
use crate::config::{AwsSettings, ConfigError, Env, Secrets};
use crate::relay::InlineRelay;
use crate::time::{Clock, SystemClock};

/// Everything a function on AWS may need, built outside the handler.
pub struct AwsRuntime {
    pub settings: AwsSettings,
    pub secrets: Secrets,
    pub store: Arc<DynamoStore>,
    pub bus: Arc<EventBridgeBus>,
    pub sdk: aws_config::SdkConfig,
    pub clock: Arc<dyn Clock>,
}

impl AwsRuntime {
    /// Reads settings (failing with the missing variable's name), the secret, and builds clients.
    pub async fn load() -> Result<Self, ConfigError> {
        let settings = AwsSettings::from_source(&Env)?;
        let sdk = crate::config::aws_sdk_config().await;
        let secrets = match &settings.secret_id {
            Some(id) => Secrets::from_secrets_manager(&aws_sdk_secretsmanager::Client::new(&sdk), id).await?,
            None => Secrets::from_source(&Env),
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            settings.tables.clone(),
            clock.clone(),
            settings.retention_days,
        )
        .map_err(|e| ConfigError::Invalid { name: "PANTAU_*_TABLE", reason: e.to_string() })?;
        let bus = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), settings.bus_name.clone());
        Ok(AwsRuntime { settings, secrets, store: Arc::new(store), bus: Arc::new(bus), sdk, clock })
    }

    /// Publishes committed events right away; the `relay` schedule sweeps what that misses.
    pub fn inline_relay(&self) -> Arc<InlineRelay> {
        Arc::new(InlineRelay { outbox: self.store.clone(), bus: self.bus.clone() })
    }

    /// The bucket for reports (`reports/`) and quarantined deliveries (`quarantine/`).
    pub fn blob_store(&self) -> Result<S3BlobStore, ConfigError> {
        let bucket = self.settings.reports_bucket.clone().ok_or(ConfigError::Missing("PANTAU_REPORTS_BUCKET"))?;
        Ok(S3BlobStore::new(aws_sdk_s3::Client::new(&self.sdk), bucket))
    }
}
