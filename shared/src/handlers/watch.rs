//! The `watch` function. Schedule `relay`: the outbox sweep. Schedule `watch` (every 15
//! minutes): SLA reminders and breaches, automatic close of quiet cases, spike detection, the
//! holiday-calendar check. Event `AlertRaised`: the alert is recorded and sent to every
//! channel once. Each is a use case of [`crate::app`].

use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;

use crate::app::alerts::AlertDelivery;
use crate::app::publishing::tokens::check_tokens;
use crate::app::relay::{RelayStats, sweep};
use crate::app::sla_watch::SlaWatch;
use crate::app::spikes::SpikeWatch;
use crate::domain::EventKind;
use crate::ports::{CaseStore, CounterStore, EventBus, MentionReader, Notifier, Outbox};
use crate::schedule::ScheduleName;
use crate::spike::SpikeSettings;
use crate::stores::{AlertLog, Markers, Settings, SpikeEpisodes};
use crate::time::Clock;

use super::{FunctionError, Trigger, not_mine};

/// Events younger than this are left to the relay that runs right after their commit.
pub const SWEEP_GRACE_SECONDS: i64 = 30;
const SWEEP_BATCH: usize = 100;

/// What `watch` needs.
pub struct WatchState {
    pub outbox: Arc<dyn Outbox>,
    pub bus: Arc<dyn EventBus>,
    /// Every configured channel; each alert reaches each channel once.
    pub notifiers: Vec<Arc<dyn Notifier>>,
    pub alerts: Arc<dyn AlertLog>,
    pub cases: Arc<dyn CaseStore>,
    pub mentions: Arc<dyn MentionReader>,
    pub counters: Arc<dyn CounterStore>,
    pub settings: Arc<dyn Settings>,
    pub markers: Arc<dyn Markers>,
    pub episodes: Arc<dyn SpikeEpisodes>,
    pub spikes: SpikeSettings,
    /// The publishing accounts, whose tokens are checked ahead.
    pub publishers: crate::app::publishing::Publishers,
    pub clock: Arc<dyn Clock>,
}

/// What one invocation did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct WatchOutcome {
    pub relayed: usize,
    pub relay_failed: usize,
    pub notified: usize,
    pub cases_checked: usize,
    pub reminders: usize,
    pub breaches: usize,
    pub auto_closed: usize,
    /// Cases changed by someone else during the run; the next run looks again.
    pub cases_skipped: usize,
    pub spikes_started: usize,
    pub spikes_ended: usize,
    pub calendar_warnings: usize,
    pub token_warnings: usize,
}

pub async fn handle(state: &WatchState, trigger: Trigger) -> Result<WatchOutcome, FunctionError> {
    let now = state.clock.now();
    match trigger {
        Trigger::Schedule(ScheduleName::Relay) => {
            let before = now - Duration::seconds(SWEEP_GRACE_SECONDS);
            let RelayStats { published, failed } =
                sweep(state.outbox.as_ref(), state.bus.as_ref(), before, SWEEP_BATCH).await?;
            tracing::info!(published, failed, "outbox sweep");
            Ok(WatchOutcome { relayed: published, relay_failed: failed, ..Default::default() })
        }
        Trigger::Schedule(ScheduleName::Watch) => {
            let sla = SlaWatch {
                cases: state.cases.as_ref(),
                mentions: state.mentions.as_ref(),
                settings: state.settings.as_ref(),
                markers: state.markers.as_ref(),
                now,
            };
            let cases = sla.run().await?;
            let spikes = SpikeWatch {
                counters: state.counters.as_ref(),
                episodes: state.episodes.as_ref(),
                settings: &state.spikes,
                now,
            }
            .run()
            .await?;
            let outcome = WatchOutcome {
                cases_checked: cases.checked,
                reminders: cases.reminders,
                breaches: cases.breaches,
                auto_closed: cases.auto_closed,
                cases_skipped: cases.skipped,
                spikes_started: spikes.started,
                spikes_ended: spikes.ended,
                calendar_warnings: sla.check_calendar().await?,
                token_warnings: check_tokens(&state.publishers, state.markers.as_ref(), now).await?,
                ..Default::default()
            };
            tracing::info!(?outcome, "watch run");
            Ok(outcome)
        }
        Trigger::Event(EventKind::AlertRaised { kind, data }) => {
            let delivery = AlertDelivery {
                log: state.alerts.as_ref(),
                mentions: state.mentions.as_ref(),
                notifiers: &state.notifiers,
                now,
            };
            let delivered = delivery.deliver(kind, data).await?;
            if !delivered.retry.is_empty() {
                // The event is retried; channels that had it are skipped then.
                return Err(FunctionError::Retryable(delivered.retry.join("; ")));
            }
            Ok(WatchOutcome { notified: delivered.notified, ..Default::default() })
        }
        other => Err(not_mine("watch", &other)),
    }
}
