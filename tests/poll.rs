//! `ingest-poll` against local HTTP servers that speak X API v2, YouTube Data API v3, RSS/Atom
//! and the Graph API as documented (fixtures in `tests/fixtures/`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, TimeZone, Utc};
use pantau::adapters::sqlite::SqliteStore;
use pantau::config::PollSettings;
use pantau::handlers::Trigger;
use pantau::handlers::ingest_poll::{PollOutcome, PollState, PollTokens, handle};
use pantau::platforms::Lookup;
use pantau::platforms::client::ApiClient;
use pantau::ports::{MentionQuery, MentionReader};
use pantau::schedule::ScheduleName;
use pantau::stores::LookupQueue;
use pantau_tests::{SettableClock, repo};

#[derive(Default)]
struct Fake {
    requests: Mutex<Vec<(String, HashMap<String, String>)>>,
    /// When set, X answers 429 with this reset time.
    x_limited_until: Mutex<Option<i64>>,
    /// When set, X answers pages after since_id with ids counting down from this many pages.
    x_backlog_pages: Mutex<Option<u32>>,
    /// When set, YouTube answers this many one-comment pages for the first video.
    yt_pages: Mutex<Option<u32>>,
}

type Shared = Arc<Fake>;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(repo().join("tests/fixtures").join(path)).unwrap()
}

fn json(body: String) -> Response {
    ([("content-type", "application/json")], body).into_response()
}

fn record(fake: &Fake, path: &str, query: &HashMap<String, String>) {
    fake.requests.lock().unwrap().push((path.to_string(), query.clone()));
}

async fn x_mentions(
    State(fake): State<Shared>,
    Path(user): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&fake, &format!("/2/users/{user}/mentions"), &q);
    assert_eq!(headers.get("authorization").unwrap(), "Bearer x-token");
    if let Some(reset) = *fake.x_limited_until.lock().unwrap() {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-rate-limit-reset", reset.to_string())],
            "{\"title\":\"Too Many Requests\"}",
        )
            .into_response();
    }
    if let (Some(pages), Some(since)) = (*fake.x_backlog_pages.lock().unwrap(), q.get("since_id")) {
        // A long backlog: page n (0-based, from pagination_token "p{n}") holds one post.
        let n: u32 = q.get("pagination_token").and_then(|t| t.trim_start_matches('p').parse().ok()).unwrap_or(0);
        let id = format!("99990000000000{:04}", 9999 - n);
        let next = (n + 1 < pages).then(|| format!("p{}", n + 1));
        let mut page = serde_json::json!({
            "data": [{"id": id, "text": format!("backlog {n}"), "created_at": "2026-11-15T01:00:00.000Z", "author_id": "42"}],
            "includes": {"users": [{"id": "42", "username": "warga42", "name": "Warga", "public_metrics": {"followers_count": 7}}]},
            "meta": {"result_count": 1, "newest_id": id}
        });
        if let Some(next) = next {
            page["meta"]["next_token"] = next.into();
        }
        assert!(since.as_str() < "9999", "since_id must not move before the walk ends");
        return json(page.to_string());
    }
    if q.contains_key("since_id") {
        return json(r#"{"meta":{"result_count":0}}"#.into());
    }
    json(fixture("x/mentions_page.json"))
}

async fn playlist(State(fake): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    record(&fake, "/youtube/v3/playlistItems", &q);
    assert_eq!(q.get("key").map(String::as_str), Some("yt-key"));
    json(fixture("youtube/search_videos.json"))
}

async fn comments(State(fake): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    record(&fake, "/youtube/v3/commentThreads", &q);
    if let (Some(pages), Some("k3Vq9ZpT2xA")) = (*fake.yt_pages.lock().unwrap(), q.get("videoId").map(String::as_str)) {
        let n: u32 = q.get("pageToken").and_then(|t| t.trim_start_matches('y').parse().ok()).unwrap_or(0);
        let mut page = serde_json::json!({"kind": "youtube#commentThreadListResponse", "items": [{
            "kind": "youtube#commentThread", "id": format!("Ugbacklog{n}"),
            "snippet": {"videoId": "k3Vq9ZpT2xA", "topLevelComment": {"kind": "youtube#comment", "id": format!("Ugbacklog{n}"),
                "snippet": {"textOriginal": format!("komentar lama {n}"), "authorDisplayName": "@warga", "authorChannelId": {"value": "UCw"},
                    "publishedAt": format!("2026-11-14T09:{:02}:00Z", 59 - n), "updatedAt": "2026-11-14T09:00:00Z"}}}}]});
        if n + 1 < pages {
            page["nextPageToken"] = format!("y{}", n + 1).into();
        }
        return json(page.to_string());
    }
    if q.get("videoId").map(String::as_str) != Some("k3Vq9ZpT2xA") || q.contains_key("pageToken") {
        return json(r#"{"kind":"youtube#commentThreadListResponse","items":[]}"#.into());
    }
    json(fixture("youtube/comment_threads.json"))
}

async fn rss(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    record(&fake, "/feeds/rss.xml", &HashMap::new());
    if headers.get("if-none-match").is_some_and(|v| v == "\"v1\"") {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([("content-type", "application/rss+xml"), ("etag", "\"v1\"")], fixture("news/rss.xml")).into_response()
}

async fn atom(State(fake): State<Shared>) -> Response {
    record(&fake, "/feeds/atom.xml", &HashMap::new());
    ([("content-type", "application/atom+xml")], fixture("news/atom.xml")).into_response()
}

async fn graph(
    State(fake): State<Shared>,
    Path(user): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    record(&fake, &format!("/graph/{user}"), &q);
    assert_eq!(q.get("access_token").map(String::as_str), Some("meta-token"));
    assert!(q["fields"].starts_with("mentioned_comment.comment_id(17991827364501928)"));
    json(
        serde_json::json!({"id": user, "mentioned_comment": {"id": "17991827364501928", "text": "@humasjatim.demo jalan Pandaan berlubang lagi",
            "timestamp": "2026-11-13T03:00:11+0000", "username": "warga.pasuruan", "media": {"id": "18029475610293847"}}})
        .to_string(),
    )
}

async fn start_fake() -> (String, Shared) {
    let fake = Shared::default();
    let app = Router::new()
        .route("/2/users/{user}/mentions", get(x_mentions))
        .route("/youtube/v3/playlistItems", get(playlist))
        .route("/youtube/v3/commentThreads", get(comments))
        .route("/feeds/rss.xml", get(rss))
        .route("/feeds/atom.xml", get(atom))
        .route("/graph/{user}", get(graph))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 3, 0, 0).unwrap()
}

struct Setup {
    state: PollState,
    store: Arc<SqliteStore>,
    clock: Arc<SettableClock>,
    fake: Shared,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let (base, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = SettableClock::new(t0());
    let store = Arc::new(SqliteStore::open(&dir.path().join("p.db"), clock.clone(), 365).unwrap());
    let settings = PollSettings {
        x_api_base: base.clone(),
        x_user_id: Some("1384920776301551617".into()),
        youtube_api_base: base.clone(),
        youtube_channel_id: Some("UCq7Jm2bX4dPz9LwRk3TfN8A".into()),
        youtube_videos: 3,
        graph_api_base: format!("{base}/graph"),
        instagram_user_id: Some("17841463920184756".into()),
        news_feeds: vec![format!("{base}/feeds/rss.xml"), format!("{base}/feeds/atom.xml")],
        news_keywords: vec!["Pemprov Jatim".into(), "Gubernur Jawa Timur".into(), "Khofifah".into()],
    };
    let state = PollState {
        mentions: store.clone(),
        cursors: store.clone(),
        lookups: store.clone(),
        announce: Arc::new(pantau_tests::Announced::default()),
        client: ApiClient::new().unwrap(),
        settings,
        tokens: PollTokens {
            x_bearer: Some("x-token".to_string().into()),
            youtube_key: Some("yt-key".to_string().into()),
            meta_access: Some("meta-token".to_string().into()),
        },
        engagement: pantau::app::publishing::engagement::EngagementCollector {
            occurrences: store.clone(),
            publishers: Default::default(),
            clock: clock.clone(),
        },
        clock: clock.clone(),
    };
    Setup { state, store, clock, fake, _dir: dir }
}

async fn poll(s: &Setup) -> PollOutcome {
    handle(&s.state, Trigger::Schedule(ScheduleName::Poll)).await.unwrap()
}

fn stored(outcome: &PollOutcome, source: &str) -> usize {
    outcome.sources.get(source).unwrap_or_else(|| panic!("no source {source}: {outcome:?}")).stored
}

async fn count(store: &SqliteStore) -> usize {
    let q = MentionQuery::between(t0() - Duration::days(60), t0() + Duration::days(1), 200);
    store.list_mentions(&q).await.unwrap().items.len()
}

#[tokio::test]
async fn every_source_is_read_once_and_cursors_move_forward() {
    let s = setup().await;
    let lookup =
        Lookup::InstagramComment { media_id: "18029475610293847".into(), comment_id: "17991827364501928".into() };
    s.store.queue_lookup(&lookup, t0()).await.unwrap();

    let first = poll(&s).await;
    assert!(stored(&first, "x-mentions") >= 3, "{first:?}");
    assert!(stored(&first, "youtube") >= 3, "{first:?}");
    let rss = stored(&first, &format!("news:{}", s.state.settings.news_feeds[0]));
    assert_eq!(rss, 3, "only items naming the office are kept");
    assert_eq!(stored(&first, "meta-lookups"), 1);
    assert!(s.store.queued_lookups(10).await.unwrap().is_empty(), "resolved lookups leave the queue");
    let total = first.sources.values().map(|r| r.stored).sum::<usize>();
    assert_eq!(count(&s.store).await, total);
    let ig = s.store.get_mention(&"instagram:17991827364501928".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(ig.author.handle.as_deref(), Some("warga.pasuruan"));

    s.clock.set(t0() + Duration::minutes(5));
    let second = poll(&s).await;
    assert_eq!(second.sources.values().map(|r| r.stored).sum::<usize>(), 0, "{second:?}");
    assert_eq!(count(&s.store).await, total);
    let requests = s.fake.requests.lock().unwrap().clone();
    let x_calls: Vec<_> = requests.iter().filter(|(p, _)| p.starts_with("/2/users/")).collect();
    assert_eq!(x_calls.len(), 2);
    assert!(!x_calls[0].1.contains_key("since_id"));
    assert_eq!(
        x_calls[1].1.get("since_id").map(String::as_str),
        Some("2121458643812053003"),
        "since_id is the newest id seen"
    );
    let playlist = requests.iter().find(|(p, _)| p == "/youtube/v3/playlistItems").unwrap();
    assert_eq!(playlist.1.get("playlistId").map(String::as_str), Some("UUq7Jm2bX4dPz9LwRk3TfN8A"));
}

#[tokio::test]
async fn a_rate_limited_source_pauses_until_its_reset_and_the_others_go_on() {
    let s = setup().await;
    let reset = t0() + Duration::minutes(15);
    *s.fake.x_limited_until.lock().unwrap() = Some(reset.timestamp());
    let first = poll(&s).await;
    let x = &first.sources["x-mentions"];
    assert_eq!(x.paused_until, Some(reset));
    assert_eq!(x.stored, 0);
    assert!(stored(&first, "youtube") > 0, "YouTube still polled");

    *s.fake.x_limited_until.lock().unwrap() = None;
    s.clock.set(t0() + Duration::minutes(5));
    let before = s.fake.requests.lock().unwrap().iter().filter(|(p, _)| p.starts_with("/2/users/")).count();
    let second = poll(&s).await;
    assert_eq!(second.sources["x-mentions"].paused_until, Some(reset));
    let after = s.fake.requests.lock().unwrap().iter().filter(|(p, _)| p.starts_with("/2/users/")).count();
    assert_eq!(before, after, "no call to X before the reset");

    s.clock.set(reset + Duration::seconds(1));
    let third = poll(&s).await;
    assert!(stored(&third, "x-mentions") >= 3, "{third:?}");
}

#[tokio::test]
async fn a_backlog_longer_than_one_run_is_read_over_several_runs() {
    let s = setup().await;
    poll(&s).await; // sets since_id from the newest page
    *s.fake.x_backlog_pages.lock().unwrap() = Some(8);
    let first = poll(&s).await;
    assert_eq!(stored(&first, "x-mentions"), 5, "one run reads five pages");
    let second = poll(&s).await;
    assert_eq!(stored(&second, "x-mentions"), 3, "the next run resumes where the walk stopped");
    let requests = s.fake.requests.lock().unwrap().clone();
    let x: Vec<_> = requests.iter().filter(|(p, _)| p.starts_with("/2/users/")).collect();
    assert_eq!(x[6].1.get("pagination_token").map(String::as_str), Some("p5"));
    *s.fake.x_backlog_pages.lock().unwrap() = None;
    poll(&s).await;
    let last = s.fake.requests.lock().unwrap().iter().rev().find(|(p, _)| p.starts_with("/2/users/")).cloned().unwrap();
    assert_eq!(
        last.1.get("since_id").map(String::as_str),
        Some("999900000000009999"),
        "since_id moves to the newest once the walk ends"
    );
}

#[tokio::test]
async fn a_long_comment_thread_is_read_over_several_runs() {
    let s = setup().await;
    *s.fake.yt_pages.lock().unwrap() = Some(5);
    let first = poll(&s).await;
    assert_eq!(stored(&first, "youtube"), 3, "three pages per video per run");
    let second = poll(&s).await;
    assert_eq!(stored(&second, "youtube"), 2, "the walk resumes at page four");
    let third = poll(&s).await;
    assert_eq!(stored(&third, "youtube"), 0, "then only newer comments are read");
}

#[tokio::test]
async fn an_unreachable_source_is_reported_and_does_not_stop_the_others() {
    let mut s = setup().await;
    s.state.settings.news_feeds.insert(0, "http://127.0.0.1:9/unreachable.xml".into());
    let outcome = poll(&s).await;
    let failed = &outcome.sources["news:http://127.0.0.1:9/unreachable.xml"];
    assert!(failed.error.is_some());
    assert!(stored(&outcome, "x-mentions") > 0);
}
