//! `/v1/posts`, `/v1/series`, `/v1/occurrences`, `/v1/best-times`: the content calendar. An
//! operator writes posts (checked against each platform's rules), an approver approves them,
//! series repeat them on a schedule, and each occurrence can be moved, skipped or — when
//! nobody can read its outcome back — confirmed by a person. Every change is conditional on
//! the revision the caller read (409 otherwise).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, Call, Handled, bad, conflict, not_found};
use crate::app::publishing::calendar;
use crate::app::publishing::rules::{Finding, Verdict, check};
use crate::domain::{
    Account, Approval, Event, EventKind, Occurrence, OccurrenceState, Platform, Post, PostStatus, Schedule, Series,
    SeriesStatus, Variant,
};
use crate::error::StoreError;
use crate::http::json;
use crate::ports::{Inserted, Position};

const POSTS: &str = "posts";
const OCCURRENCES: &str = "occurrences";
/// Longest title, text and wording accepted (the platforms' own limits are checked after).
const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 5000;
const MAX_MEDIA: usize = 10;
const MAX_HASHTAGS: usize = 30;
/// A held occurrence this late when its post is approved is skipped, not sent.
const STALE_HELD_HOURS: i64 = 1;
/// Days of calendar a listing covers without `to`.
const CALENDAR_DAYS: i64 = 14;

fn refused(verdict: &Verdict) -> ApiError {
    let first = &verdict.refusals[0];
    let place = first.platform.map_or_else(|| first.field.clone(), |p| format!("{p}: {}", first.field));
    let mut e = bad(format!("{place}: {}", first.message));
    e.2.insert("refusals".into(), serde_json::to_value(&verdict.refusals).unwrap_or_default());
    e
}

fn stale(what: &str, id: &str) -> ApiError {
    conflict(format!("{what} {id} was changed by someone else meanwhile; read it again"))
}

fn saved(result: Result<(), StoreError>, what: &str, id: &str) -> Result<(), ApiError> {
    match result {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(stale(what, id)),
        Err(e) => Err(e.into()),
    }
}

/// What an operator sends to create or replace a post.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostInput {
    title: String,
    text: String,
    #[serde(default)]
    variants: BTreeMap<Platform, Variant>,
    #[serde(default)]
    media: Vec<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    account: Option<Account>,
    platforms: Vec<Platform>,
    #[serde(default)]
    link_instagram: bool,
    /// The revision read (replacing a post).
    #[serde(default)]
    revision: Option<u32>,
}

/// An image the platforms can fetch: https, or plain http on this machine (a single server
/// serving its own files, a test).
fn media_url(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(u) => match (u.scheme(), u.host()) {
            ("https", Some(_)) => true,
            ("http", Some(url::Host::Domain(d))) => d == "localhost",
            ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
            ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
            _ => false,
        },
        Err(_) => false,
    }
}

fn check_text(name: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(bad(format!("{name} must not be blank")));
    }
    if value.chars().count() > max {
        return Err(bad(format!("{name} must be at most {max} characters")));
    }
    Ok(())
}

/// A post with what the rules said of it.
#[derive(Serialize)]
struct PostView {
    #[serde(flatten)]
    post: Post,
    warnings: Vec<Finding>,
}

impl PostInput {
    /// Checks the input's own shape, its media (fetched) and topic, then the platforms' rules.
    async fn into_post(self, call: &Call<'_>, base: Option<&Post>) -> Result<(Post, Vec<Finding>), ApiError> {
        check_text("title", &self.title, MAX_TITLE)?;
        check_text("text", &self.text, MAX_TEXT)?;
        for (platform, variant) in &self.variants {
            if let Some(text) = &variant.text {
                check_text(&format!("variants.{platform}.text"), text, MAX_TEXT)?;
            }
            if variant.alternatives.len() > 20 {
                return Err(bad(format!("variants.{platform}.alternatives: at most 20")));
            }
            for (i, alternative) in variant.alternatives.iter().enumerate() {
                check_text(&format!("variants.{platform}.alternatives[{i}]"), alternative, MAX_TEXT)?;
            }
        }
        if self.media.len() > MAX_MEDIA {
            return Err(bad(format!("media: at most {MAX_MEDIA} images")));
        }
        for (i, url) in self.media.iter().enumerate() {
            if url.len() > 2000 || !media_url(url) {
                return Err(bad(format!(
                    "media[{i}] must be an https URL (http only on this machine) of at most 2000 characters, got {url:?}"
                )));
            }
        }
        if let Some(link) = &self.link {
            super::answers::check_link("link", link)?;
        }
        if self.hashtags.len() > MAX_HASHTAGS {
            return Err(bad(format!("hashtags: at most {MAX_HASHTAGS}")));
        }
        for (i, tag) in self.hashtags.iter().enumerate() {
            let bare = tag.trim_start_matches('#');
            if bare.is_empty() || bare.len() > 100 || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(bad(format!("hashtags[{i}] must be letters, digits or _ (without spaces), got {tag:?}")));
            }
        }
        let mut distinct = BTreeSet::new();
        if let Some(p) = self.platforms.iter().find(|p| !distinct.insert(**p)) {
            return Err(bad(format!("platforms: {p} is given twice")));
        }
        if let Some(topic) = &self.topic {
            let taxonomy = call.state.settings.taxonomy().await?;
            if !taxonomy.topics.iter().any(|t| &t.id == topic) {
                return Err(bad(format!("topic: {topic:?} is not in the taxonomy (GET /v1/taxonomy lists them)")));
            }
        }
        let now = call.now();
        let who = call.who.subject.clone();
        let publishing = &call.state.publishing.settings;
        let post = Post {
            id: base.map_or_else(|| call.creation_id(), |b| b.id.clone()),
            title: self.title.trim().to_string(),
            text: self.text,
            variants: self.variants,
            media: self.media,
            link: self.link,
            hashtags: self.hashtags.into_iter().map(|t| t.trim_start_matches('#').to_string()).collect(),
            topic: self.topic,
            account: self.account.unwrap_or(Account::Resmi),
            platforms: self.platforms,
            link_instagram: self.link_instagram,
            // An edit sends an approved post back to approval.
            status: if publishing.approval_required { PostStatus::Draft } else { PostStatus::Approved },
            approval: None,
            created_by: base.map_or_else(|| who.clone(), |b| b.created_by.clone()),
            created_at: base.map_or(now, |b| b.created_at),
            updated_by: who,
            updated_at: now,
            revision: base.map_or(0, |b| b.revision + 1),
        };
        let verdict = check(&post, &publishing.rules);
        if !verdict.refusals.is_empty() {
            return Err(refused(&verdict));
        }
        for (i, url) in post.media.iter().enumerate() {
            if let Err(why) = call.state.media.probe(url).await {
                return Err(bad(format!("media[{i}]: could not be fetched: {why}")));
            }
        }
        Ok((post, verdict.warnings))
    }
}

async fn load_post(call: &Call<'_>, id: &str) -> Result<Post, ApiError> {
    let found = if id.len() <= 64 { call.state.posts.get_post(id).await? } else { None };
    found.ok_or_else(|| not_found(format!("no post {id}")))
}

/// `POST /v1/posts`.
pub(super) async fn create_post(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: PostInput =
        call.body("post {title, text, platforms, variants, media, link, hashtags, topic, account}")?;
    if input.revision.is_some() {
        return Err(bad("revision: a new post has none"));
    }
    let (post, warnings) = input.into_post(call, None).await?;
    match call.state.posts.create_post(&post).await? {
        Inserted::New => Ok(json(StatusCode::CREATED, &PostView { post, warnings })),
        // The same Idempotency-Key again: the post created first.
        Inserted::Duplicate => {
            let existing = load_post(call, &post.id).await?;
            Ok(json(StatusCode::OK, &PostView { post: existing, warnings }))
        }
    }
}

#[derive(Serialize)]
struct PostPage {
    items: Vec<Post>,
    next_cursor: Option<String>,
}

/// `GET /v1/posts`: newest first.
pub(super) async fn list_posts(call: &Call<'_>) -> Handled {
    let q = call.query(&["status", "limit", "cursor"])?;
    let status = q.label::<PostStatus>("status")?;
    let limit = q.limit()?;
    let mut after = call.position(POSTS, q.get("cursor"))?;
    let mut items = Vec::new();
    let next = loop {
        let page = call.state.posts.list_posts(limit, after.as_ref()).await?;
        items.extend(page.items.into_iter().filter(|p| status.is_none_or(|s| p.status == s)));
        match page.next {
            Some(next) if items.len() < limit => after = Some(next),
            other => break other,
        }
    };
    let next_cursor = call.cursor(POSTS, next.as_ref());
    Ok(json(StatusCode::OK, &PostPage { items, next_cursor }))
}

pub(super) async fn get_post(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let post = load_post(call, call.param()).await?;
    let warnings = check(&post, &call.state.publishing.settings.rules).warnings;
    Ok(json(StatusCode::OK, &PostView { post, warnings }))
}

/// `PUT /v1/posts/{id}`: replaces the post as read at `revision`; an approved post goes back
/// to approval.
pub(super) async fn update_post(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: PostInput = call.body("post {title, text, platforms, …, revision}")?;
    let current = load_post(call, call.param()).await?;
    let Some(revision) = input.revision else { return Err(bad("revision: send the revision you read")) };
    if revision != current.revision {
        return Err(stale("post", &current.id));
    }
    let (post, warnings) = input.into_post(call, Some(&current)).await?;
    saved(call.state.posts.update_post(&post, current.revision).await, "post", &post.id)?;
    Ok(json(StatusCode::OK, &PostView { post, warnings }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevisionInput {
    revision: u32,
}

/// `POST /v1/posts/{id}/approval`: the approver (`admin`, or the configured approver role)
/// approves the post as read; its held occurrences go back on the calendar.
pub(super) async fn approve_post(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let approver = call.state.publishing.settings.approver;
    if !call.who.allows(approver) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("role {} may not approve posts; it needs {approver}", call.who.role),
        ));
    }
    let input: RevisionInput = call.body("approval {revision}")?;
    let current = load_post(call, call.param()).await?;
    if input.revision != current.revision {
        return Err(stale("post", &current.id));
    }
    if current.status == PostStatus::Approved {
        return Ok(json(StatusCode::OK, &PostView { post: current, warnings: vec![] }));
    }
    let mut post = current.clone();
    post.status = PostStatus::Approved;
    post.approval = Some(Approval { by: call.who.subject.clone(), at: call.now() });
    post.revision += 1;
    saved(call.state.posts.update_post(&post, current.revision).await, "post", &post.id)?;
    release_held(call, &post.id).await?;
    let warnings = check(&post, &call.state.publishing.settings.rules).warnings;
    Ok(json(StatusCode::OK, &PostView { post, warnings }))
}

/// Occurrences of a post's series: each page of each series, with `f` deciding the next state.
async fn each_occurrence_of(
    call: &Call<'_>,
    series: &Series,
    change: impl Fn(&Occurrence) -> Option<Occurrence>,
) -> Result<usize, ApiError> {
    let mut changed = 0;
    let mut after = None;
    loop {
        let page = call.state.occurrences.occurrences_of_series(&series.id, 200, after.as_ref()).await?;
        for o in &page.items {
            if let Some(mut next) = change(o) {
                next.revision = o.revision + 1;
                next.updated_at = call.now();
                match call.state.occurrences.update_occurrence(&next, o.revision, &[]).await {
                    Ok(()) => changed += 1,
                    // Claimed or moved meanwhile: it stays as the other writer left it.
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(changed),
        }
    }
}

/// The active series of a post.
async fn series_of_post(call: &Call<'_>, post_id: &str) -> Result<Vec<Series>, ApiError> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = call.state.posts.active_series(200, after.as_ref()).await?;
        found.extend(page.items.into_iter().filter(|s| s.post_id == post_id));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(found),
        }
    }
}

/// Held occurrences go back on the calendar; those whose time passed more than
/// [`STALE_HELD_HOURS`] ago are skipped (a morning post is not sent days late).
async fn release_held(call: &Call<'_>, post_id: &str) -> Result<(), ApiError> {
    let stale = call.now() - Duration::hours(STALE_HELD_HOURS);
    for series in series_of_post(call, post_id).await? {
        each_occurrence_of(call, &series, |o| {
            (o.state == OccurrenceState::Held).then(|| match o.due_at < stale {
                true => Occurrence {
                    state: OccurrenceState::Cancelled,
                    note: Some("its time passed while the post waited for approval".into()),
                    ..o.clone()
                },
                false => Occurrence { state: OccurrenceState::Scheduled, note: None, ..o.clone() },
            })
        })
        .await?;
    }
    Ok(())
}

/// What an operator sends to create or change a series.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesInput {
    #[serde(default)]
    post_id: Option<String>,
    schedule: ScheduleInput,
    #[serde(default)]
    revision: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleInput {
    start: chrono::NaiveDate,
    #[serde(default)]
    times_wib: Vec<String>,
    #[serde(default)]
    best_times: Option<u32>,
    #[serde(default)]
    weekdays: Vec<String>,
    #[serde(default)]
    run_days: Option<u32>,
    #[serde(default)]
    again_after_days: Option<u32>,
    #[serde(default)]
    max_occurrences: Option<u32>,
    #[serde(default)]
    until: Option<chrono::NaiveDate>,
}

impl ScheduleInput {
    fn into_schedule(self, call: &Call<'_>) -> Result<Schedule, ApiError> {
        let mut times = Vec::new();
        for (i, t) in self.times_wib.iter().enumerate() {
            let time = chrono::NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
                bad(format!("schedule.times_wib[{i}] must be a time of day HH:MM (00:00–23:59), got {t:?}"))
            })?;
            times.push(time);
        }
        let mut weekdays = Vec::new();
        for (i, d) in self.weekdays.iter().enumerate() {
            let day = d
                .parse::<chrono::Weekday>()
                .map_err(|_| bad(format!("schedule.weekdays[{i}]: not a weekday: {d:?}")))?;
            weekdays.push(day);
        }
        let today = crate::time::wib_date(call.now());
        if self.start < today {
            return Err(bad(format!("schedule.start {} is in the past (today is {today} WIB)", self.start)));
        }
        if self.start > today + Duration::days(366) {
            return Err(bad("schedule.start is more than a year ahead"));
        }
        let schedule = Schedule {
            start: self.start,
            times_wib: times,
            best_times: self.best_times,
            weekdays,
            run_days: self.run_days.unwrap_or(1),
            again_after_days: self.again_after_days,
            max_occurrences: self.max_occurrences,
            until: self.until,
        };
        calendar::check(&schedule, call.state.publishing.settings.max_series_occurrences)
            .map_err(|e| bad(e.to_string()))?;
        Ok(schedule)
    }
}

/// A series with its next occurrences.
#[derive(Serialize)]
struct SeriesView {
    #[serde(flatten)]
    series: Series,
    upcoming: Vec<Occurrence>,
}

async fn series_view(call: &Call<'_>, series: Series, status: StatusCode) -> Handled {
    let page = call.state.occurrences.occurrences_of_series(&series.id, 200, None).await?;
    let now = call.now();
    let upcoming = page
        .items
        .into_iter()
        .filter(|o| o.state.is_due_kind() && o.due_at >= now - Duration::hours(1))
        .take(20)
        .collect();
    Ok(json(status, &SeriesView { series, upcoming }))
}

async fn load_series(call: &Call<'_>, id: &str) -> Result<Series, ApiError> {
    let found = if id.len() <= 64 { call.state.posts.get_series(id).await? } else { None };
    found.ok_or_else(|| not_found(format!("no series {id}")))
}

/// `POST /v1/series`: a post repeated on a schedule; its occurrences for the coming days are
/// made at once.
pub(super) async fn create_series(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: SeriesInput = call.body("series {post_id, schedule}")?;
    if input.revision.is_some() {
        return Err(bad("revision: a new series has none"));
    }
    let post_id = input.post_id.ok_or_else(|| bad("post_id: name the post the series repeats"))?;
    let schedule = input.schedule.into_schedule(call)?;
    let post = load_post(call, &post_id).await.map_err(|_| bad(format!("post_id: no post {post_id}")))?;
    let now = call.now();
    let series = Series {
        id: call.creation_id(),
        post_id: post.id,
        schedule,
        status: SeriesStatus::Active,
        materialized_until: now,
        created_by: call.who.subject.clone(),
        created_at: now,
        updated_at: now,
        revision: 0,
    };
    if call.state.posts.create_series(&series).await? == Inserted::Duplicate {
        let existing = load_series(call, &series.id).await?;
        return series_view(call, existing, StatusCode::OK).await;
    }
    let service = &call.state.publishing;
    let best = match series.schedule.best_times {
        Some(_) => Some(service.best_times().await?),
        None => None,
    };
    let horizon = now + Duration::days(service.settings.horizon_days);
    service.materialize(&series, horizon, best.as_ref()).await?;
    let stored = load_series(call, &series.id).await?;
    series_view(call, stored, StatusCode::CREATED).await
}

pub(super) async fn get_series(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let series = load_series(call, call.param()).await?;
    series_view(call, series, StatusCode::OK).await
}

#[derive(Serialize)]
struct SeriesList {
    items: Vec<Series>,
}

/// `GET /v1/series?post=`: the active series (of one post).
pub(super) async fn list_series(call: &Call<'_>) -> Handled {
    let q = call.query(&["post"])?;
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = call.state.posts.active_series(200, after.as_ref()).await?;
        items.extend(page.items.into_iter().filter(|s| q.get("post").is_none_or(|p| &s.post_id == p)));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(json(StatusCode::OK, &SeriesList { items }))
}

/// Whether an officer's hand is on an occurrence (moved, or past the scheduled stage): a series
/// edit leaves it as it is.
fn kept_by_edit(o: &Occurrence) -> bool {
    o.moved || !matches!(o.state, OccurrenceState::Scheduled | OccurrenceState::Held)
}

/// `PUT /v1/series/{id}`: a new schedule. Occurrences already published, claimed or moved
/// stay; scheduled ones the new schedule no longer has are cancelled; new slots are added.
/// None is duplicated: an occurrence's id is its slot.
pub(super) async fn update_series(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: SeriesInput = call.body("series {schedule, revision}")?;
    let current = load_series(call, call.param()).await?;
    if input.post_id.as_ref().is_some_and(|p| *p != current.post_id) {
        return Err(bad("post_id: a series keeps its post; make a new series for another"));
    }
    let Some(revision) = input.revision else { return Err(bad("revision: send the revision you read")) };
    if revision != current.revision {
        return Err(stale("series", &current.id));
    }
    if current.status == SeriesStatus::Cancelled {
        return Err(conflict(format!("series {} is cancelled", current.id)));
    }
    let schedule = input.schedule.into_schedule(call)?;
    let post = load_post(call, &current.post_id).await?;
    let now = call.now();
    let service = &call.state.publishing;
    let horizon = now + Duration::days(service.settings.horizon_days);
    let mut next = current.clone();
    next.schedule = schedule;
    next.updated_at = now;
    next.revision += 1;
    let best = match next.schedule.best_times {
        Some(_) => service.best_times().await?,
        None => Default::default(),
    };
    let hours = |p: Platform, d: chrono::Weekday, n: u32| best.hours(p, d, n);
    let wanted: BTreeSet<String> =
        calendar::occurrences(&next, &post, None, horizon, now, &hours).into_iter().map(|o| o.id).collect();
    saved(call.state.posts.update_series(&next, current.revision).await, "series", &current.id)?;
    each_occurrence_of(call, &next, |o| {
        (!kept_by_edit(o) && !wanted.contains(&o.id) && o.due_at >= now).then(|| Occurrence {
            state: OccurrenceState::Cancelled,
            note: Some("no longer in the series' schedule".into()),
            ..o.clone()
        })
    })
    .await?;
    // Every slot of the new schedule, from now: the ones that exist are left alone.
    let mut fresh = next.clone();
    fresh.materialized_until = now;
    fresh.created_at = now;
    for o in calendar::occurrences(&fresh, &post, None, horizon, now, &hours) {
        call.state.occurrences.put_occurrence(&o).await?;
    }
    let stored = load_series(call, &current.id).await?;
    let mut advanced = stored.clone();
    advanced.materialized_until = horizon;
    advanced.revision += 1;
    let _ = call.state.posts.update_series(&advanced, stored.revision).await;
    series_view(call, load_series(call, &current.id).await?, StatusCode::OK).await
}

/// `DELETE /v1/series/{id}`: the series stops; its occurrences not yet published are cancelled.
pub(super) async fn cancel_series(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let current = load_series(call, call.param()).await?;
    if current.status == SeriesStatus::Active {
        let mut next = current.clone();
        next.status = SeriesStatus::Cancelled;
        next.updated_at = call.now();
        next.revision += 1;
        saved(call.state.posts.update_series(&next, current.revision).await, "series", &current.id)?;
    }
    let series = load_series(call, &current.id).await?;
    each_occurrence_of(call, &series, |o| {
        matches!(o.state, OccurrenceState::Scheduled | OccurrenceState::Held).then(|| Occurrence {
            state: OccurrenceState::Cancelled,
            note: Some("the series was cancelled".into()),
            ..o.clone()
        })
    })
    .await?;
    series_view(call, series, StatusCode::OK).await
}

#[derive(Serialize)]
struct OccurrencePage {
    items: Vec<Occurrence>,
    next_cursor: Option<String>,
}

/// `GET /v1/occurrences?from=&to=&platform=&state=`: the calendar, earliest first.
pub(super) async fn list_occurrences(call: &Call<'_>) -> Handled {
    let q = call.query(&["from", "to", "platform", "state", "limit", "cursor"])?;
    let now = call.now();
    let from = q.time("from")?.unwrap_or(now - Duration::days(1));
    let to = q.time("to")?.unwrap_or(from + Duration::days(CALENDAR_DAYS));
    if from >= to {
        return Err(bad("from must be before to"));
    }
    if to - from > Duration::days(super::MAX_RANGE_DAYS) {
        return Err(bad(format!("a listing may cover at most {} days", super::MAX_RANGE_DAYS)));
    }
    let platform = q.label::<Platform>("platform")?;
    let state = q.label::<OccurrenceState>("state")?;
    let limit = q.limit()?;
    let mut after = call.position(OCCURRENCES, q.get("cursor"))?;
    let mut items = Vec::new();
    let next = loop {
        let page = call.state.occurrences.occurrences_between(from, to, limit, after.as_ref()).await?;
        let last = page.items.last().map(|o| Position(crate::adapters::vocabulary::occurrence_cal_key(o)));
        for o in page.items {
            if items.len() < limit && platform.is_none_or(|p| o.platform == p) && state.is_none_or(|s| o.state == s) {
                items.push(o);
            }
        }
        match page.next {
            Some(next) if items.len() < limit => after = Some(next),
            Some(_) => break last,
            None => break None,
        }
    };
    let next = if items.len() == limit {
        items.last().map(|o| Position(crate::adapters::vocabulary::occurrence_cal_key(o)))
    } else {
        next
    };
    let next_cursor = call.cursor(OCCURRENCES, next.as_ref());
    Ok(json(StatusCode::OK, &OccurrencePage { items, next_cursor }))
}

async fn load_occurrence(call: &Call<'_>, id: &str) -> Result<Occurrence, ApiError> {
    let found = if id.len() <= 200 { call.state.occurrences.get_occurrence(id).await? } else { None };
    found.ok_or_else(|| not_found(format!("no occurrence {id}")))
}

pub(super) async fn get_occurrence(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &load_occurrence(call, call.param()).await?))
}

/// Writes an officer's change of an occurrence read at `revision`.
async fn change_occurrence(call: &Call<'_>, current: &Occurrence, mut next: Occurrence, events: &[Event]) -> Handled {
    next.revision = current.revision + 1;
    next.updated_at = call.now();
    match call.state.occurrences.update_occurrence(&next, current.revision, events).await {
        Ok(()) => {
            call.state.announce.announce(events).await;
            Ok(json(StatusCode::OK, &next))
        }
        Err(StoreError::Conflict { .. }) => Err(stale("occurrence", &current.id)),
        Err(e) => Err(e.into()),
    }
}

fn not_movable(o: &Occurrence) -> ApiError {
    let mut e = conflict(format!("occurrence {} is {}; only scheduled, held or failed ones change", o.id, o.state));
    e.2.insert("state".into(), o.state.as_str().into());
    e
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveInput {
    due_at: DateTime<Utc>,
    revision: u32,
}

/// `PUT /v1/occurrences/{id}`: moves it to another time (a failed one is tried again then).
pub(super) async fn move_occurrence(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: MoveInput = call.body("move {due_at, revision}")?;
    let current = load_occurrence(call, call.param()).await?;
    if input.revision != current.revision {
        return Err(stale("occurrence", &current.id));
    }
    if !matches!(current.state, OccurrenceState::Scheduled | OccurrenceState::Held | OccurrenceState::Failed) {
        return Err(not_movable(&current));
    }
    let now = call.now();
    if input.due_at < now - Duration::minutes(1) || input.due_at > now + Duration::days(366) {
        return Err(bad("due_at must be from now to a year ahead"));
    }
    let state = if current.state == OccurrenceState::Held { OccurrenceState::Held } else { OccurrenceState::Scheduled };
    let next = Occurrence { due_at: input.due_at, moved: true, state, note: None, ..current.clone() };
    change_occurrence(call, &current, next, &[]).await
}

/// `POST /v1/occurrences/{id}/skip`: this one is not published; the series goes on.
pub(super) async fn skip_occurrence(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: RevisionInput = call.body("skip {revision}")?;
    let current = load_occurrence(call, call.param()).await?;
    if input.revision != current.revision {
        return Err(stale("occurrence", &current.id));
    }
    if !matches!(current.state, OccurrenceState::Scheduled | OccurrenceState::Held | OccurrenceState::Failed) {
        return Err(not_movable(&current));
    }
    let note = Some(format!("skipped by {}", call.who.subject));
    let next = Occurrence { state: OccurrenceState::Cancelled, note, ..current.clone() };
    change_occurrence(call, &current, next, &[]).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmationInput {
    published: bool,
    #[serde(default)]
    platform_post_id: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    revision: u32,
}

/// `POST /v1/occurrences/{id}/confirmation`: a person settles an outcome the platform cannot
/// tell (Telegram): published (with its id) or not (it is scheduled again, now).
pub(super) async fn confirm_occurrence(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input: ConfirmationInput = call.body("confirmation {published, platform_post_id, permalink, revision}")?;
    let current = load_occurrence(call, call.param()).await?;
    if input.revision != current.revision {
        return Err(stale("occurrence", &current.id));
    }
    if current.state != OccurrenceState::Unconfirmed {
        let mut e =
            conflict(format!("occurrence {} is {}; only an unconfirmed one is confirmed", current.id, current.state));
        e.2.insert("state".into(), current.state.as_str().into());
        return Err(e);
    }
    if let Some(link) = &input.permalink {
        super::answers::check_link("permalink", link)?;
    }
    let now = call.now();
    if !input.published {
        let next = Occurrence {
            state: OccurrenceState::Scheduled,
            due_at: now,
            awaiting_person: false,
            note: Some(format!("{} confirmed it was not posted", call.who.subject)),
            ..current.clone()
        };
        return change_occurrence(call, &current, next, &[]).await;
    }
    let id = input
        .platform_post_id
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| bad("platform_post_id: give the id of the post on the platform"))?;
    if id.len() > 200 {
        return Err(bad("platform_post_id: at most 200 characters"));
    }
    let next = Occurrence {
        state: OccurrenceState::Published,
        platform_post_id: Some(id.clone()),
        permalink: input.permalink,
        published_at: Some(now),
        awaiting_person: false,
        note: Some(format!("confirmed by {}", call.who.subject)),
        ..current.clone()
    };
    let post = current.post_id.clone().or_else(|| current.reply.as_ref().map(|r| format!("reply:{}", r.case_id)));
    let event = Event::new(
        "api",
        EventKind::PostPublished {
            post: post.unwrap_or_default(),
            occurrence: current.id.clone(),
            platform: current.platform.to_string(),
            platform_post_id: id,
        },
        now,
    );
    change_occurrence(call, &current, next, &[event]).await
}

#[derive(Serialize)]
struct BestTimesView {
    platform: Platform,
    /// Per weekday (Monday first), the best hours (WIB).
    best_hours: BTreeMap<String, Vec<String>>,
    /// Estimated engagement by `[weekday][hour]` (WIB), and the posts each rests on.
    estimate: Option<[[f64; 24]; 7]>,
    posts: Option<[[u32; 24]; 7]>,
}

/// `GET /v1/best-times?platform=`: when posting works best, from the office's own posts.
pub(super) async fn best_times(call: &Call<'_>) -> Handled {
    let q = call.query(&["platform"])?;
    let platform = q.label::<Platform>("platform")?.unwrap_or(Platform::X);
    let model = call.state.publishing.best_times().await?;
    let days = [
        chrono::Weekday::Mon,
        chrono::Weekday::Tue,
        chrono::Weekday::Wed,
        chrono::Weekday::Thu,
        chrono::Weekday::Fri,
        chrono::Weekday::Sat,
        chrono::Weekday::Sun,
    ];
    let best_hours = days
        .iter()
        .map(|d| (d.to_string(), model.hours(platform, *d, 3).iter().map(|t| t.format("%H:%M").to_string()).collect()))
        .collect();
    let cells = model.platforms.get(&platform);
    Ok(json(
        StatusCode::OK,
        &BestTimesView { platform, best_hours, estimate: cells.map(|c| c.estimate), posts: cells.map(|c| c.posts) },
    ))
}
