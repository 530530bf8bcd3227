//! The publisher (every minute): series made into occurrences ahead, then every occurrence whose
//! time has come claimed with a conditional write and a lease, published through its platform
//! and recorded — at most once. A definite refusal reschedules or fails it; an unknown outcome
//! (a timeout, a crash after the platform's answer) is settled by reading the account, never by
//! posting again blind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Map;

use super::best_time::BestTimes;
use super::calendar::{self, occurrence_id};
use super::rules::compose;
use super::{Failpoint, Publishers, PublishingSettings};
use crate::app::alerts::raised;
use crate::app::cases::CaseDesk;
use crate::domain::{
    AlertKind, CaseReply, Event, EventKind, MentionKey, Occurrence, OccurrenceState, Platform, Post, PostStatus,
    ReplySource, Series,
};
use crate::error::StoreError;
use crate::ports::{Announce, CaseStore, OccurrenceStore, PostStore, Publication, PublishError, Published, Publisher};
use crate::stores::{ChannelHealth, Marker, Markers, PendingReplies, Settings};
use crate::time::Clock;

const SOURCE: &str = "publish";
/// A channel whose credentials were refused is tried again after this long.
const UNHEALTHY_RETRY_MINUTES: i64 = 15;
/// An unknown outcome that cannot be checked right now is looked at again after this long.
const RECHECK_MINUTES: i64 = 5;
/// The shortest pause after a rate limit.
const MIN_RATE_WAIT_SECONDS: i64 = 30;
/// How far before a claim a post found on the account may be dated (clock skew).
const SKEW_SECONDS: i64 = 120;
/// Days of published posts the best-times model learns from.
const BEST_TIME_DAYS: i64 = 90;

/// What publishing needs.
pub struct PublishService {
    pub posts: Arc<dyn PostStore>,
    pub occurrences: Arc<dyn OccurrenceStore>,
    pub channels: Arc<dyn ChannelHealth>,
    pub markers: Arc<dyn Markers>,
    /// Replies sent from the inbox are recorded on their case.
    pub cases: Arc<dyn CaseStore>,
    pub settings_store: Arc<dyn Settings>,
    pub pending: Arc<dyn PendingReplies>,
    pub announce: Arc<dyn Announce>,
    pub publishers: Publishers,
    pub settings: PublishingSettings,
    pub clock: Arc<dyn Clock>,
    /// Set only by a test harness.
    pub failpoint: Option<Failpoint>,
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct TickOutcome {
    pub materialized: usize,
    pub looked_at: usize,
    pub published: usize,
    pub reposted: usize,
    pub rescheduled: usize,
    pub failed: usize,
    pub unconfirmed: usize,
    pub held: usize,
    /// Claimed by another tick first.
    pub lost: usize,
}

/// What became of one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Published,
    Reposted,
    Rescheduled,
    Failed,
    Unconfirmed,
    Held,
    Lost,
    Nothing,
}

impl TickOutcome {
    fn add(&mut self, step: Step) {
        match step {
            Step::Published => self.published += 1,
            Step::Reposted => {
                self.published += 1;
                self.reposted += 1
            }
            Step::Rescheduled => self.rescheduled += 1,
            Step::Failed => self.failed += 1,
            Step::Unconfirmed => self.unconfirmed += 1,
            Step::Held => self.held += 1,
            Step::Lost => self.lost += 1,
            Step::Nothing => {}
        }
    }
}

/// Posts read during one tick, once each.
type PostCache = Mutex<HashMap<String, Option<Post>>>;

impl PublishService {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn desk(&self) -> CaseDesk<'_> {
        CaseDesk { cases: self.cases.as_ref(), settings: self.settings_store.as_ref(), pending: self.pending.as_ref() }
    }

    /// One tick: materialise series ahead, then look at everything due.
    pub async fn tick(&self) -> Result<TickOutcome, StoreError> {
        let mut outcome = TickOutcome { materialized: self.materialize_all().await?, ..Default::default() };
        let due = self.occurrences.due_occurrences(self.now(), self.settings.batch).await?;
        outcome.looked_at = due.len();
        let cache: PostCache = Mutex::new(HashMap::new());
        // Nothing new is started once the tick's time is spent (a Lambda run has a deadline):
        // what is left is still due for the next tick.
        let started = std::time::Instant::now();
        let budget = std::time::Duration::from_secs(self.settings.tick_seconds);
        let steps: Vec<Result<Step, StoreError>> = futures_util::stream::iter(due)
            .take_while(|_| std::future::ready(started.elapsed() < budget))
            .map(|o| {
                let cache = &cache;
                async move { self.process(o, cache).await }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        if steps.len() < outcome.looked_at {
            tracing::warn!(
                left = outcome.looked_at - steps.len(),
                "publish tick out of time; the rest is due next tick"
            );
            outcome.looked_at = steps.len();
        }
        for step in steps {
            outcome.add(step?);
        }
        tracing::info!(?outcome, "publish tick");
        Ok(outcome)
    }

    /// Makes every active series' occurrences exist up to the horizon.
    async fn materialize_all(&self) -> Result<usize, StoreError> {
        let horizon = self.now() + Duration::days(self.settings.horizon_days);
        let mut made = 0;
        let mut after = None;
        let mut best: Option<BestTimes> = None;
        loop {
            let page = self.posts.active_series(200, after.as_ref()).await?;
            for series in page.items {
                // Extended at most once an hour.
                if series.materialized_until >= horizon - Duration::hours(1) {
                    continue;
                }
                if series.schedule.best_times.is_some() && best.is_none() {
                    best = Some(self.best_times().await?);
                }
                made += self.materialize(&series, horizon, best.as_ref()).await?;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(made),
            }
        }
    }

    /// The best-times model from the last months' published posts.
    pub async fn best_times(&self) -> Result<BestTimes, StoreError> {
        let now = self.now();
        let mut published = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .occurrences
                .occurrences_between(now - Duration::days(BEST_TIME_DAYS), now, 500, after.as_ref())
                .await?;
            published.extend(page.items.into_iter().filter(|o| o.state == OccurrenceState::Published));
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(BestTimes::learn(&published)),
            }
        }
    }

    /// Makes one series' occurrences up to `horizon`; returns how many were new.
    pub async fn materialize(
        &self,
        series: &Series,
        horizon: DateTime<Utc>,
        best: Option<&BestTimes>,
    ) -> Result<usize, StoreError> {
        let Some(post) = self.posts.get_post(&series.post_id).await? else { return Ok(0) };
        let now = self.now();
        let prior = BestTimes::default();
        let model = best.unwrap_or(&prior);
        let hours = |p: Platform, d: chrono::Weekday, n: u32| model.hours(p, d, n);
        let from =
            (series.revision > 0 || series.materialized_until > series.created_at).then_some(series.materialized_until);
        let mut made = 0;
        for occurrence in calendar::occurrences(series, &post, from, horizon, now, &hours) {
            if self.occurrences.put_occurrence(&occurrence).await? == crate::ports::Inserted::New {
                made += 1;
            }
        }
        let mut next = series.clone();
        next.materialized_until = horizon;
        next.revision += 1;
        match self.posts.update_series(&next, series.revision).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(made),
            Err(e) => Err(e),
        }
    }

    async fn post(&self, id: &str, cache: &PostCache) -> Result<Option<Post>, StoreError> {
        if let Some(post) = cache.lock().ok().and_then(|c| c.get(id).cloned()) {
            return Ok(post);
        }
        let post = self.posts.get_post(id).await?;
        if let Ok(mut c) = cache.lock() {
            c.insert(id.to_string(), post.clone());
        }
        Ok(post)
    }

    /// Writes the next state of an occurrence read at `current`; a lost race is `Lost`.
    async fn save(
        &self,
        current: &Occurrence,
        mut next: Occurrence,
        events: &[Event],
        step: Step,
    ) -> Result<Step, StoreError> {
        next.revision = current.revision + 1;
        next.updated_at = self.now();
        match self.occurrences.update_occurrence(&next, current.revision, events).await {
            Ok(()) => {
                self.announce.announce(events).await;
                let metric = match step {
                    Step::Published | Step::Reposted => Some("PostsPublished"),
                    Step::Failed => Some("PostsFailed"),
                    Step::Unconfirmed => Some("PostsUnconfirmed"),
                    _ => None,
                };
                if let Some(metric) = metric {
                    let platform = next.platform.to_string();
                    crate::telemetry::emit_metric(metric, 1.0, &[("Platform", &platform)], next.updated_at);
                }
                Ok(step)
            }
            Err(StoreError::Conflict { .. }) => Ok(Step::Lost),
            Err(e) => Err(e),
        }
    }

    fn rescheduled(&self, o: &Occurrence, due: DateTime<Utc>, note: impl Into<String>) -> Occurrence {
        let mut next = o.clone();
        next.state = OccurrenceState::Scheduled;
        next.due_at = due;
        next.lease_until = None;
        next.note = Some(note.into());
        next
    }

    /// Looks at one occurrence whose time has come.
    pub async fn process(&self, o: Occurrence, cache: &PostCache) -> Result<Step, StoreError> {
        match o.state {
            OccurrenceState::Scheduled => self.start(o, cache).await,
            OccurrenceState::Publishing | OccurrenceState::Unconfirmed => self.settle(o, cache).await,
            _ => Ok(Step::Nothing),
        }
    }

    /// The publication of an occurrence, with the Instagram link where it waits for one.
    /// `Err` carries the step taken instead (held, waiting).
    async fn publication(&self, o: &Occurrence, post: Option<&Post>) -> Result<Result<Publication, Step>, StoreError> {
        if let Some(reply) = &o.reply {
            let reply_to = Some(reply.in_reply_to.clone());
            return Ok(Ok(Publication { text: reply.text.clone(), media: vec![], reply_to, to: reply.to.clone() }));
        }
        let Some(post) = post else { return Ok(Err(Step::Nothing)) };
        let mut instagram_link = None;
        let links = post.link_instagram && matches!(o.platform, Platform::X | Platform::Facebook);
        if let (true, Some(series)) = (links, &o.series_id) {
            let ig = self.occurrences.get_occurrence(&occurrence_id(series, Platform::Instagram, o.slot)).await?;
            // Waits only for an Instagram post on its way before the deadline (not one held
            // back by its quota for hours).
            let deadline = o.slot + Duration::minutes(self.settings.crosslink_wait_minutes);
            match ig {
                Some(ig) if ig.state == OccurrenceState::Published => instagram_link = ig.permalink,
                Some(ig) if ig.state.is_due_kind() && ig.due_at <= deadline && self.now() < deadline => {
                    return Ok(Err(Step::Rescheduled));
                }
                _ => {}
            }
        }
        let text = compose(post, o.platform, o.ordinal, instagram_link.as_deref());
        let media = if matches!(o.platform, Platform::X | Platform::Facebook | Platform::Instagram | Platform::Telegram)
        {
            post.media.clone()
        } else {
            vec![]
        };
        Ok(Ok(Publication { text, media, reply_to: None, to: None }))
    }

    /// Claims a scheduled occurrence and publishes it.
    async fn start(&self, o: Occurrence, cache: &PostCache) -> Result<Step, StoreError> {
        let now = self.now();
        let post = match &o.post_id {
            Some(id) => match self.post(id, cache).await? {
                Some(post) => Some(post),
                None => {
                    let mut next = o.clone();
                    next.state = OccurrenceState::Cancelled;
                    next.note = Some("its post no longer exists".into());
                    return self.save(&o, next, &[], Step::Failed).await;
                }
            },
            None => None,
        };
        if let Some(post) = &post
            && self.settings.approval_required
            && post.status != PostStatus::Approved
        {
            let mut next = o.clone();
            next.state = OccurrenceState::Held;
            next.note = Some("its post was edited and waits for approval".into());
            return self.save(&o, next, &[], Step::Held).await;
        }
        if let Some(channel) = self.channels.channel(o.platform, o.account).await?
            && !channel.healthy
            && now < channel.since + Duration::minutes(UNHEALTHY_RETRY_MINUTES)
        {
            let note = format!("waits for the {} account: {}", o.platform, channel.reason.unwrap_or_default());
            let due = channel.since + Duration::minutes(UNHEALTHY_RETRY_MINUTES);
            return self.save(&o, self.rescheduled(&o, due, note), &[], Step::Rescheduled).await;
        }
        let publication = match self.publication(&o, post.as_ref()).await? {
            Ok(p) => p,
            Err(Step::Rescheduled) => {
                let next = self.rescheduled(&o, now + Duration::minutes(1), "waits for the Instagram post it links");
                return self.save(&o, next, &[], Step::Rescheduled).await;
            }
            Err(step) => return Ok(step),
        };
        let Some(publisher) = self.publishers.get(o.platform, o.account).cloned() else {
            return self.unauthorized(&o, "no credentials are configured for this account").await;
        };
        // The claim: once it is written, only this attempt may publish.
        let mut claimed = o.clone();
        claimed.state = OccurrenceState::Publishing;
        claimed.lease_until = Some(now + Duration::seconds(self.settings.lease_seconds));
        claimed.claimed_at = Some(now);
        claimed.attempts += 1;
        claimed.sent_text = Some(publication.text.clone());
        claimed.container_id = None;
        claimed.note = None;
        if self.save(&o, claimed.clone(), &[], Step::Nothing).await? == Step::Lost {
            return Ok(Step::Lost);
        }
        claimed.revision = o.revision + 1;
        let prepared = match publisher.prepare(&publication).await {
            Ok(prepared) => prepared,
            // Nothing is posted by preparing: any failure is safe to retry later.
            Err(e) => return self.refused(&claimed, e, true).await,
        };
        if let Some(container) = &prepared {
            let mut kept = claimed.clone();
            kept.container_id = Some(container.clone());
            if self.save(&claimed, kept.clone(), &[], Step::Nothing).await? == Step::Lost {
                return Ok(Step::Lost);
            }
            claimed = kept;
            claimed.revision += 1;
        }
        match publisher.publish(&publication, prepared.as_deref()).await {
            Ok(published) => {
                if let Some(Failpoint::AfterPlatformAccepted(only)) = self.failpoint
                    && only.is_none_or(|p| p == o.platform)
                {
                    tracing::error!(occurrence = %o.id, "failpoint after-platform-accepted: stopping the process");
                    std::process::abort();
                }
                self.record(&claimed, published, None).await
            }
            Err(PublishError::Refused { duplicate: true, reason }) if o.platform == Platform::X => {
                self.repost_instead(&claimed, publisher.as_ref(), &reason).await
            }
            Err(e) => self.refused(&claimed, e, false).await,
        }
    }

    /// What a definite refusal (or an unknown outcome) does to a claimed occurrence.
    async fn refused(&self, claimed: &Occurrence, error: PublishError, preparing: bool) -> Result<Step, StoreError> {
        let now = self.now();
        match error {
            PublishError::RateLimited { wait } => {
                let until = now + wait.max(Duration::seconds(MIN_RATE_WAIT_SECONDS));
                let note =
                    format!("rate limited by {} until {} WIB", claimed.platform, crate::app::alerts::wib_text(until));
                self.save(claimed, self.rescheduled(claimed, until, note), &[], Step::Rescheduled).await
            }
            PublishError::Unauthorized(reason) => self.unauthorized(claimed, &reason).await,
            PublishError::Refused { reason, .. } => {
                let mut next = claimed.clone();
                next.state = OccurrenceState::Failed;
                next.lease_until = None;
                next.note = Some(reason.clone());
                let alert = self.alert(AlertKind::PublishFailed, claimed, &reason);
                self.save(claimed, next, &[alert], Step::Failed).await
            }
            PublishError::Unavailable(reason) => {
                let next = self.rescheduled(claimed, now + Duration::minutes(1), format!("not sent: {reason}"));
                self.save(claimed, next, &[], Step::Rescheduled).await
            }
            PublishError::Unknown(reason) if preparing => {
                let next =
                    self.rescheduled(claimed, now + Duration::minutes(1), format!("could not prepare: {reason}"));
                self.save(claimed, next, &[], Step::Rescheduled).await
            }
            PublishError::Unknown(reason) => {
                let mut next = claimed.clone();
                next.state = OccurrenceState::Unconfirmed;
                next.lease_until = None;
                next.due_at = now + Duration::seconds(self.settings.reconcile_after_seconds);
                next.note = Some(format!("outcome unknown ({reason}); the account is checked before anything else"));
                self.save(claimed, next, &[], Step::Unconfirmed).await
            }
        }
    }

    /// The account's credentials were refused: the occurrence waits, the account is marked
    /// unhealthy and one alert goes out.
    async fn unauthorized(&self, o: &Occurrence, reason: &str) -> Result<Step, StoreError> {
        let now = self.now();
        let alert = self.alert(AlertKind::ChannelUnhealthy, o, reason);
        if self.channels.mark_unhealthy(o.platform, o.account, reason, now, std::slice::from_ref(&alert)).await? {
            self.announce.announce(std::slice::from_ref(&alert)).await;
            tracing::error!(platform = %o.platform, account = %o.account, reason, "publishing account refused; its posts wait");
        }
        let next = self.rescheduled(
            o,
            now + Duration::minutes(UNHEALTHY_RETRY_MINUTES),
            format!("the account's credentials were refused: {reason}"),
        );
        self.save(o, next, &[], Step::Rescheduled).await
    }

    /// X refused the same text again: a native repost of the series' first post on X instead.
    async fn repost_instead(
        &self,
        claimed: &Occurrence,
        publisher: &dyn Publisher,
        reason: &str,
    ) -> Result<Step, StoreError> {
        let original = match &claimed.series_id {
            Some(series) => self.first_published(series, claimed.platform).await?,
            None => None,
        };
        let Some(original) = original else {
            return self
                .refused(claimed, PublishError::Refused { reason: reason.to_string(), duplicate: true }, false)
                .await;
        };
        match publisher.repost(&original).await {
            Ok(published) => self.record(claimed, published, Some(original)).await,
            Err(e) => self.refused(claimed, e, false).await,
        }
    }

    /// The platform id of a series' first published post on a platform (not a repost).
    async fn first_published(&self, series: &str, platform: Platform) -> Result<Option<String>, StoreError> {
        let mut after = None;
        loop {
            let page = self.occurrences.occurrences_of_series(series, 200, after.as_ref()).await?;
            let found = page
                .items
                .iter()
                .find(|o| o.platform == platform && o.state == OccurrenceState::Published && o.reposted.is_none());
            if let Some(o) = found {
                return Ok(o.platform_post_id.clone());
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(None),
            }
        }
    }

    /// Records a publication the platform accepted (or that reconciliation found), with its
    /// `PostPublished` event; a reply becomes the case's response.
    async fn record(
        &self,
        claimed: &Occurrence,
        published: Published,
        reposted: Option<String>,
    ) -> Result<Step, StoreError> {
        let now = self.now();
        let mut next = claimed.clone();
        next.state = OccurrenceState::Published;
        next.lease_until = None;
        next.platform_post_id = Some(published.id.clone());
        next.permalink = published.permalink.clone();
        next.published_at = Some(now);
        next.note = None;
        let step = if reposted.is_some() { Step::Reposted } else { Step::Published };
        next.reposted = reposted;
        let post = claimed.post_id.clone().or_else(|| claimed.reply.as_ref().map(|r| format!("reply:{}", r.case_id)));
        let event = Event::new(
            SOURCE,
            EventKind::PostPublished {
                post: post.unwrap_or_default(),
                occurrence: claimed.id.clone(),
                platform: claimed.platform.to_string(),
                platform_post_id: published.id.clone(),
            },
            now,
        );
        let step = self.save(claimed, next.clone(), std::slice::from_ref(&event), step).await?;
        if step == Step::Lost {
            return Ok(step);
        }
        self.channels.mark_healthy(claimed.platform, claimed.account, now).await?;
        tracing::info!(occurrence = %claimed.id, platform = %claimed.platform, id = %published.id, "published");
        if let Some(reply) = &claimed.reply {
            self.reply_recorded(&next, reply).await?;
        }
        Ok(step)
    }

    /// A sent reply is the case's response, once (its id is the occurrence's).
    async fn reply_recorded(&self, o: &Occurrence, target: &crate::domain::ReplyTarget) -> Result<(), StoreError> {
        let Ok(key) = target.case_id.parse::<MentionKey>() else { return Ok(()) };
        let reply = CaseReply {
            id: o.id.clone(),
            at: o.published_at.unwrap_or_else(|| self.now()),
            by: format!("akun {}", o.account),
            text: target.text.clone(),
            url: o.permalink.clone(),
            answer_id: None,
            source: ReplySource::Dikirim,
        };
        self.desk().record_reply(&key, reply).await.map(drop)
    }

    /// Settles an occurrence whose outcome is unknown: a lease that ran out (the process died
    /// or hung after claiming) or an unconfirmed attempt.
    async fn settle(&self, o: Occurrence, cache: &PostCache) -> Result<Step, StoreError> {
        let now = self.now();
        let claimed_at = o.claimed_at.unwrap_or(o.updated_at);
        if o.state == OccurrenceState::Publishing {
            // The lease ran out: from here on, treat the attempt as unconfirmed.
            let mut next = o.clone();
            next.state = OccurrenceState::Unconfirmed;
            next.lease_until = None;
            next.due_at = (claimed_at + Duration::seconds(self.settings.reconcile_after_seconds)).max(now);
            next.note = Some("the attempt did not finish; the account is checked before anything else".into());
            let step = self.save(&o, next.clone(), &[], Step::Unconfirmed).await?;
            if step == Step::Lost || next.due_at > now {
                return Ok(step);
            }
            let mut current = next;
            current.revision = o.revision + 1;
            return self.reconcile(current, cache).await;
        }
        self.reconcile(o, cache).await
    }

    async fn reconcile(&self, o: Occurrence, cache: &PostCache) -> Result<Step, StoreError> {
        let now = self.now();
        let claimed_at = o.claimed_at.unwrap_or(o.updated_at);
        let Some(publisher) = self.publishers.get(o.platform, o.account).cloned() else {
            return self.for_a_person(&o, "no credentials are configured to check the account").await;
        };
        if !publisher.can_reconcile() {
            return self.for_a_person(&o, &format!("{} offers no way to read what was posted", o.platform)).await;
        }
        let post = match &o.post_id {
            Some(id) => self.post(id, cache).await?,
            None => None,
        };
        let mut publication = match self.publication(&o, post.as_ref()).await? {
            Ok(p) => p,
            Err(_) => Publication { text: String::new(), media: vec![], reply_to: None, to: None },
        };
        // Look for exactly what was sent in that attempt.
        if let Some(sent) = &o.sent_text {
            publication.text = sent.clone();
        }
        let since = claimed_at - Duration::seconds(SKEW_SECONDS);
        match publisher.find_recent(&publication, o.container_id.as_deref(), since).await {
            Ok(Some(found)) => {
                tracing::info!(occurrence = %o.id, id = %found.id, "unknown outcome settled: it was published");
                self.record(&o, found, None).await
            }
            Ok(None) => {
                // Not on the account: the attempt did not post, so another may.
                let next = self.rescheduled(&o, now, "the last attempt did not post (checked on the account)");
                self.save(&o, next, &[], Step::Rescheduled).await
            }
            Err(PublishError::RateLimited { wait }) => {
                let mut next = o.clone();
                next.due_at = now + wait.max(Duration::seconds(MIN_RATE_WAIT_SECONDS));
                self.save(&o, next, &[], Step::Unconfirmed).await
            }
            Err(e) => {
                let mut next = o.clone();
                next.due_at = now + Duration::minutes(RECHECK_MINUTES);
                next.note = Some(format!("outcome unknown; checking the account failed: {e}"));
                self.save(&o, next, &[], Step::Unconfirmed).await
            }
        }
    }

    /// An outcome nobody can read back: it waits for a person (`POST /v1/occurrences/{id}/
    /// confirmation`), with one alert.
    async fn for_a_person(&self, o: &Occurrence, why: &str) -> Result<Step, StoreError> {
        let now = self.now();
        let alert = self.alert(AlertKind::PublishUnconfirmed, o, why);
        let record = serde_json::json!({"occurrence": o.id, "why": why});
        if self.markers.mark_once(Marker::Unconfirmed, &o.id, &record, now, std::slice::from_ref(&alert)).await? {
            self.announce.announce(std::slice::from_ref(&alert)).await;
        }
        let mut next = o.clone();
        next.state = OccurrenceState::Unconfirmed;
        next.lease_until = None;
        next.awaiting_person = true;
        next.note = Some(format!("{why}; confirm it by hand"));
        self.save(o, next, &[], Step::Unconfirmed).await
    }

    fn alert(&self, kind: AlertKind, o: &Occurrence, why: &str) -> Event {
        let mut data = Map::new();
        data.insert("occurrence".into(), o.id.clone().into());
        data.insert("platform".into(), o.platform.as_str().into());
        data.insert("account".into(), o.account.as_str().into());
        data.insert("reason".into(), why.into());
        if let Some(post) = &o.post_id {
            data.insert("post".into(), post.clone().into());
        }
        if let Some(reply) = &o.reply {
            data.insert("case".into(), reply.case_id.clone().into());
        }
        data.insert("due_wib".into(), crate::app::alerts::wib_text(o.due_at).into());
        raised(SOURCE, kind, data, self.now())
    }
}
