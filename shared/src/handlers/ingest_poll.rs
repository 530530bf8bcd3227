//! The `ingest-poll` function (schedule `poll`, every 5 minutes): X mentions, YouTube comments,
//! news feeds, and Instagram mentions known only by ids. Each source keeps its own cursor and
//! rate-limit pause ([`PollCursors`]); one failing source never stops the others.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::app::ingest::{Ingest, IngestOutcome};
use crate::config::{PollSettings, Secrets};
use crate::error::StoreError;
use crate::platforms::client::{ApiClient, ApiError};
use crate::platforms::{Item, meta, news, x, youtube};
use crate::ports::{Announce, MentionStore};
use crate::schedule::ScheduleName;
use crate::stores::{LookupQueue, PollCursor, PollCursors};
use crate::time::Clock;

use super::{FunctionError, Trigger, not_mine};
const SOURCE: &str = "ingest-poll";
/// Pages of X mentions read per run (100 each).
const X_PAGES: usize = 5;
/// Pages of comments read per video per run (100 each).
const YOUTUBE_PAGES: usize = 3;
/// Lookups resolved per run, and queued ones read to find them.
const LOOKUPS: usize = 50;
const QUEUE_READ: usize = 500;

/// Tokens of the polled APIs.
pub struct PollTokens {
    pub x_bearer: Option<SecretString>,
    pub youtube_key: Option<SecretString>,
    pub meta_access: Option<SecretString>,
}

impl PollTokens {
    pub fn from_secrets(secrets: &Secrets) -> Self {
        PollTokens {
            x_bearer: secrets.x_bearer_token.clone(),
            youtube_key: secrets.youtube_api_key.clone(),
            meta_access: secrets.meta_access_token.clone(),
        }
    }
}

/// What `ingest-poll` needs.
pub struct PollState {
    pub mentions: Arc<dyn MentionStore>,
    pub cursors: Arc<dyn PollCursors>,
    /// Messages known only by ids, queued by the webhook and resolved here.
    pub lookups: Arc<dyn LookupQueue>,
    pub announce: Arc<dyn Announce>,
    pub client: ApiClient,
    pub settings: PollSettings,
    pub tokens: PollTokens,
    /// Engagement of the office's own posts, read hourly.
    pub engagement: crate::app::publishing::engagement::EngagementCollector,
    pub clock: Arc<dyn Clock>,
}

/// The source id of the hourly engagement read.
const ENGAGEMENT: &str = "engagement";

/// What one source did in one run.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SourceReport {
    pub stored: usize,
    pub duplicates: usize,
    /// Set when the source waits for a rate limit to end.
    pub paused_until: Option<DateTime<Utc>>,
    /// Set when the source failed this run (others still ran).
    pub error: Option<String>,
}

/// What a run did, per source.
#[derive(Debug, Default, Serialize)]
pub struct PollOutcome {
    pub sources: BTreeMap<String, SourceReport>,
}

/// A source's failure: the platform (recorded, next run retries) or our store (the run fails).
enum SourceError {
    Api(ApiError),
    Store(StoreError),
}

impl From<ApiError> for SourceError {
    fn from(e: ApiError) -> Self {
        SourceError::Api(e)
    }
}

impl From<StoreError> for SourceError {
    fn from(e: StoreError) -> Self {
        SourceError::Store(e)
    }
}

pub async fn handle(state: &PollState, trigger: Trigger) -> Result<PollOutcome, FunctionError> {
    match trigger {
        Trigger::Schedule(ScheduleName::Poll) => {}
        other => return Err(not_mine("ingest-poll", &other)),
    }
    let s = &state.settings;
    let t = &state.tokens;
    let mut sources = Vec::new();
    if let (Some(user), Some(token)) = (&s.x_user_id, &t.x_bearer) {
        sources.push(("x-mentions".to_string(), Source::X { user, token }));
    }
    if let (Some(channel), Some(key)) = (&s.youtube_channel_id, &t.youtube_key) {
        sources.push(("youtube".to_string(), Source::Youtube { channel, key }));
    }
    for feed in &s.news_feeds {
        sources.push((format!("news:{feed}"), Source::Feed(feed)));
    }
    if let Some(token) = &t.meta_access {
        sources.push((
            "meta-lookups".to_string(),
            Source::Lookups { instagram_user: s.instagram_user_id.as_deref(), token },
        ));
    }
    if state.engagement.publishers.iter().next().is_some() {
        sources.push((ENGAGEMENT.to_string(), Source::Engagement));
    }
    let mut outcome = PollOutcome::default();
    for (id, source) in sources {
        let report = run_source(state, &id, source).await?;
        outcome.sources.insert(id, report);
    }
    Ok(outcome)
}

/// A configured source.
enum Source<'s> {
    X {
        user: &'s str,
        token: &'s SecretString,
    },
    Youtube {
        channel: &'s str,
        key: &'s SecretString,
    },
    Feed(&'s str),
    Lookups {
        instagram_user: Option<&'s str>,
        token: &'s SecretString,
    },
    /// Engagement of the office's posts (hourly).
    Engagement,
}

/// Runs one source with its cursor: skips it while paused, records platform failures, saves
/// the cursor, and fails the run only for store failures (so Lambda retries).
async fn run_source(state: &PollState, id: &str, source: Source<'_>) -> Result<SourceReport, FunctionError> {
    let now = state.clock.now();
    let mut cursor = state.cursors.cursor(id).await?;
    let mut report = SourceReport::default();
    if let Some(until) = cursor.resume_after.filter(|until| *until > now) {
        report.paused_until = Some(until);
        return Ok(report);
    }
    cursor.resume_after = None;
    let (c, r) = (&mut cursor, &mut report);
    let result = match source {
        Source::X { user, token } => poll_x(state, user, token, c, r).await,
        Source::Youtube { channel, key } => poll_youtube(state, channel, key, c, r).await,
        Source::Feed(feed) => poll_feed(state, feed, c, r).await,
        Source::Lookups { instagram_user, token } => resolve_lookups(state, instagram_user, token, r).await,
        Source::Engagement => {
            let run = state.engagement.collect().await?;
            r.stored = run.updated;
            r.error = (!run.errors.is_empty()).then(|| run.errors.join("; "));
            c.resume_after = Some(now + chrono::Duration::hours(1));
            Ok(())
        }
    };
    match result {
        Ok(()) => {}
        Err(SourceError::Api(ApiError::RateLimited { until })) => {
            tracing::warn!(source = id, %until, "rate limited; pausing this source");
            cursor.resume_after = Some(until);
            report.paused_until = Some(until);
        }
        Err(SourceError::Api(err)) => {
            tracing::error!(source = id, error = %err, "poll failed; the next run retries");
            report.error = Some(err.to_string());
        }
        Err(SourceError::Store(err)) => return Err(err.into()),
    }
    state.cursors.save_cursor(id, &cursor).await?;
    tracing::info!(source = id, stored = report.stored, duplicates = report.duplicates, "polled");
    Ok(report)
}

/// Stores items and announces their events; store failures stop the source.
async fn store(state: &PollState, items: Vec<Item>, report: &mut SourceReport) -> Result<(), SourceError> {
    let ingest = Ingest {
        mentions: state.mentions.as_ref(),
        lookups: state.lookups.as_ref(),
        source: SOURCE,
        now: state.clock.now(),
    };
    let IngestOutcome { stats, events, error } = ingest.apply(items).await;
    state.announce.announce(&events).await;
    report.stored += stats.stored;
    report.duplicates += stats.duplicates;
    error.map_or(Ok(()), |e| Err(SourceError::Store(e)))
}

fn messages(mentions: Vec<crate::domain::NewMention>) -> Vec<Item> {
    mentions.into_iter().map(|m| Item::Message { mention: Box::new(m), edit: false }).collect()
}

async fn poll_x(
    state: &PollState,
    user: &str,
    token: &SecretString,
    cursor: &mut PollCursor,
    report: &mut SourceReport,
) -> Result<(), SourceError> {
    let url = format!("{}/2/users/{user}/mentions", state.settings.x_api_base);
    // Resume an unfinished walk, or start a new one from the newest mentions.
    let mut next_token: Option<String> = cursor.backlog_token.take();
    let mut newest: Option<String> = cursor.backlog_newest.take();
    for _ in 0..X_PAGES {
        let mut query = vec![
            ("max_results", "100".to_string()),
            (
                "tweet.fields",
                "created_at,author_id,conversation_id,referenced_tweets,attachments,note_tweet".to_string(),
            ),
            ("expansions", "author_id".to_string()),
            ("user.fields", "public_metrics,username,name".to_string()),
        ];
        if let Some(since) = &cursor.since_id {
            query.push(("since_id", since.clone()));
        }
        if let Some(token) = &next_token {
            query.push(("pagination_token", token.clone()));
        }
        let Some((_, body)) =
            state.client.get(&url, &query, Some(token.expose_secret()), &[], state.clock.now()).await?
        else {
            break;
        };
        let page = x::mentions_page(&body, user).map_err(ApiError::Shape)?;
        newest = newest.or(page.newest_id.clone());
        store(state, messages(page.mentions), report).await?;
        // Without a cursor yet, read only the newest page instead of the whole history.
        next_token = page.next_token.filter(|_| cursor.since_id.is_some());
        if next_token.is_none() {
            break;
        }
    }
    match next_token {
        // More pages than one run reads (a backlog after an outage): resume there next run;
        // `since_id` moves only once the walk has reached it.
        Some(token) => {
            cursor.backlog_token = Some(token);
            cursor.backlog_newest = newest;
        }
        None if newest.is_some() => cursor.since_id = newest,
        None => {}
    }
    Ok(())
}

async fn poll_youtube(
    state: &PollState,
    channel: &str,
    key: &SecretString,
    cursor: &mut PollCursor,
    report: &mut SourceReport,
) -> Result<(), SourceError> {
    let base = &state.settings.youtube_api_base;
    let now = state.clock.now();
    let uploads: youtube::PlaylistItems = state
        .client
        .get_json(
            &format!("{base}/youtube/v3/playlistItems"),
            &[
                ("part", "contentDetails".to_string()),
                ("playlistId", youtube::uploads_playlist(channel)),
                ("maxResults", state.settings.youtube_videos.to_string()),
                ("key", key.expose_secret().to_string()),
            ],
            None,
            now,
        )
        .await?;
    for video in uploads.items.iter().map(|i| i.content_details.video_id.clone()) {
        let seen = cursor.seen_until.get(&video).copied();
        // Resume an unfinished walk back to `seen`, or start from the newest comments.
        let (mut page_token, mut newest) = match cursor.youtube_backlog.remove(&video) {
            Some((token, newest)) => (Some(token), newest),
            None => (None, seen),
        };
        'pages: for _ in 0..YOUTUBE_PAGES {
            let mut query = vec![
                ("part", "snippet".to_string()),
                ("videoId", video.clone()),
                ("order", "time".to_string()),
                ("maxResults", "100".to_string()),
                ("textFormat", "plainText".to_string()),
                ("key", key.expose_secret().to_string()),
            ];
            if let Some(token) = &page_token {
                query.push(("pageToken", token.clone()));
            }
            let threads: youtube::CommentThreads =
                state.client.get_json(&format!("{base}/youtube/v3/commentThreads"), &query, None, now).await?;
            let mut fresh = Vec::new();
            let mut reached_seen = false;
            for thread in &threads.items {
                let published = thread.snippet.top_level_comment.snippet.published_at;
                // Newest first: stop at what an earlier run already read (same-second comments are
                // read again; the store drops the duplicates).
                if seen.is_some_and(|s| published < s) {
                    reached_seen = true;
                    break;
                }
                newest = newest.max(Some(published));
                fresh.extend(youtube::to_mention(thread, &video));
            }
            store(state, messages(fresh), report).await?;
            page_token = threads.next_page_token.filter(|_| !reached_seen);
            if page_token.is_none() {
                break 'pages;
            }
        }
        match (page_token, newest) {
            // More pages than one run reads: resume there; `seen_until` moves when the walk ends.
            (Some(token), newest) => {
                cursor.youtube_backlog.insert(video, (token, newest));
            }
            (None, Some(newest)) => {
                cursor.seen_until.insert(video, newest);
            }
            (None, None) => {}
        }
    }
    Ok(())
}

async fn poll_feed(
    state: &PollState,
    feed: &str,
    cursor: &mut PollCursor,
    report: &mut SourceReport,
) -> Result<(), SourceError> {
    let mut conditional = Vec::new();
    if let Some(etag) = &cursor.etag {
        conditional.push(("if-none-match", etag.clone()));
    }
    if let Some(modified) = &cursor.last_modified {
        conditional.push(("if-modified-since", modified.clone()));
    }
    let now = state.clock.now();
    let Some((headers, body)) = state.client.get(feed, &[], None, &conditional, now).await? else {
        return Ok(()); // 304: nothing new
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = String::from_utf8_lossy(&body);
    let parsed = news::parse_feed(&text).map_err(|e| ApiError::Shape(format!("feed {feed}: {e}")))?;
    let outlet =
        url::Url::parse(feed).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| feed.to_string());
    let mentions = parsed
        .items
        .iter()
        .filter(|item| news::mentions_any(item, &state.settings.news_keywords))
        .filter_map(|item| news::to_mention(item, &outlet, parsed.title.as_deref(), now))
        .collect();
    store(state, messages(mentions), report).await?;
    cursor.etag = header("etag");
    cursor.last_modified = header("last-modified");
    Ok(())
}

/// Fetches messages known only by ids (Instagram mentions, Page mentions and visitor posts).
async fn resolve_lookups(
    state: &PollState,
    instagram_user: Option<&str>,
    token: &SecretString,
    report: &mut SourceReport,
) -> Result<(), SourceError> {
    let mut resolvable = Vec::new();
    for queued in state.lookups.queued_lookups(QUEUE_READ).await? {
        // Instagram lookups wait (uncounted) until PANTAU_INSTAGRAM_USER_ID is configured.
        let request = meta::lookup_request(&queued.lookup, instagram_user);
        resolvable.extend(request.map(|r| (queued.id, queued.lookup, r)));
    }
    for (id, lookup, (node, fields)) in resolvable.into_iter().take(LOOKUPS) {
        let url = format!("{}/{node}", state.settings.graph_api_base);
        let query = [("fields", fields), ("access_token", token.expose_secret().to_string())];
        let answer: serde_json::Value = match state.client.get_json(&url, &query, None, state.clock.now()).await {
            Ok(answer) => answer,
            // Gone or never visible to us (deleted comment, private post): drop it, keep going.
            Err(ApiError::Status { status: 400..=499, body }) => {
                tracing::warn!(lookup = %id, body = %body, "Graph API refused the lookup; dropping it");
                state.lookups.drop_lookup(&id).await?;
                continue;
            }
            Err(other) => return Err(other.into()),
        };
        match meta::lookup_to_mention(&lookup, &answer) {
            Some(mention) => store(state, messages(vec![mention]), report).await?,
            None => tracing::warn!(lookup = %id, "mention could not be resolved from the Graph API; dropping it"),
        }
        state.lookups.drop_lookup(&id).await?;
    }
    Ok(())
}
