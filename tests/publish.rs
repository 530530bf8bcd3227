//! The publisher against local servers playing X, Graph and Telegram (`pantau_tests::platforms`),
//! on a real SQLite store, with the clock moved minute by minute across a whole series: every
//! slot is published once at its WIB time — with ticks redelivered and run concurrently, with
//! rate limits, lost answers, refused tokens and X's duplicate rule in the way.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use pantau::adapters::sqlite::SqliteStore;
use pantau::app::publishing::publisher::PublishService;
use pantau::app::publishing::{Publishers, PublishingSettings};
use pantau::config::{PublisherDeps, Secrets};
use pantau::domain::{
    Account, AlertKind, EventKind, Occurrence, OccurrenceState, Platform, Post, PostStatus, Schedule, Series,
    SeriesStatus, Variant,
};
use pantau::ports::{OccurrenceStore, Outbox, PostStore};
use pantau::stores::ChannelHealth;
use pantau::time::{Clock, wib};
use pantau_tests::platforms::{FakePlatforms, Fault, Posted, X_OFFICIAL};
use pantau_tests::{Announced, SettableClock};

/// WIB times of the series under test (02:00, 05:00 and 12:00 UTC).
const TIMES: [&str; 3] = ["09:00", "12:00", "19:00"];

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
}

/// The evening before the series starts.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 30, 0).unwrap()
}

struct Setup {
    fake: FakePlatforms,
    store: Arc<SqliteStore>,
    clock: Arc<SettableClock>,
    /// Two publishers over one store: ticks that overlap.
    a: PublishService,
    b: PublishService,
    _dir: tempfile::TempDir,
}

fn publishers(fake: &FakePlatforms, store: &Arc<SqliteStore>) -> Publishers {
    let env: HashMap<String, String> = fake.env().into_iter().collect();
    let deps = PublisherDeps { tokens: store.clone(), outbox: None };
    pantau::config::publishers(&env, &Secrets::from_source(&env), deps).unwrap()
}

fn service(store: &Arc<SqliteStore>, clock: &Arc<SettableClock>, publishers: Publishers) -> PublishService {
    PublishService {
        posts: store.clone(),
        occurrences: store.clone(),
        channels: store.clone(),
        markers: store.clone(),
        cases: store.clone(),
        settings_store: store.clone(),
        pending: store.clone(),
        announce: Arc::new(Announced::default()),
        publishers,
        settings: PublishingSettings { reconcile_after_seconds: 120, lease_seconds: 300, ..Default::default() },
        clock: clock.clone(),
        failpoint: None,
    }
}

fn setup() -> Setup {
    let fake = FakePlatforms::start();
    let dir = tempfile::tempdir().unwrap();
    let clock = SettableClock::new(t0());
    fake.set_now(t0());
    let store = Arc::new(SqliteStore::open(&dir.path().join("p.db"), clock.clone(), 365).unwrap());
    let a = service(&store, &clock, publishers(&fake, &store));
    let b = service(&store, &clock, publishers(&fake, &store));
    Setup { fake, store, clock, a, b, _dir: dir }
}

fn post(fake: &FakePlatforms, platforms: &[Platform]) -> Post {
    let mut variants = BTreeMap::new();
    if platforms.contains(&Platform::X) {
        variants.insert(
            Platform::X,
            Variant {
                text: Some("Vaksinasi gratis di Puskesmas terdekat, Sabtu ini.".into()),
                alternatives: vec![
                    "Sudah vaksin? Puskesmas buka layanan gratis Sabtu ini.".into(),
                    "Ajak keluarga vaksin gratis di Puskesmas, Sabtu ini.".into(),
                ],
            },
        );
    }
    Post {
        id: "p1".into(),
        title: "Vaksinasi gratis".into(),
        text: "Vaksinasi gratis di seluruh Puskesmas Jawa Timur setiap Sabtu. Bawa KTP dan KK.".into(),
        variants,
        media: vec![fake.image("vaksin.jpg")],
        link: None,
        hashtags: vec!["JatimSehat".into()],
        topic: None,
        account: Account::Resmi,
        platforms: platforms.to_vec(),
        link_instagram: false,
        status: PostStatus::Approved,
        approval: None,
        created_by: "humas".into(),
        created_at: t0(),
        updated_by: "humas".into(),
        updated_at: t0(),
        revision: 0,
    }
}

/// Three times a day for three days, again four days later (to the 16th): 18 per platform.
fn series(until: NaiveDate) -> Series {
    Series {
        id: "s1".into(),
        post_id: "p1".into(),
        schedule: Schedule {
            start: day(7),
            times_wib: TIMES.iter().map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap()).collect(),
            best_times: None,
            weekdays: vec![],
            run_days: 3,
            again_after_days: Some(4),
            max_occurrences: None,
            until: Some(until),
        },
        status: SeriesStatus::Active,
        materialized_until: t0(),
        created_by: "humas".into(),
        created_at: t0(),
        updated_at: t0(),
        revision: 0,
    }
}

async fn plan(s: &Setup, post: &Post, until: NaiveDate) {
    s.store.create_post(post).await.unwrap();
    s.store.create_series(&series(until)).await.unwrap();
}

impl Setup {
    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
        self.fake.set_now(t);
    }

    /// Every minute until `end`: two overlapping ticks, then the same tick redelivered.
    async fn run_until(&self, end: DateTime<Utc>) {
        self.run_with(&self.a, &self.b, end).await
    }

    async fn run_with(&self, a: &PublishService, b: &PublishService, end: DateTime<Utc>) {
        let mut t = self.clock.now();
        while t <= end {
            self.at(t);
            let (x, y) = tokio::join!(a.tick(), b.tick());
            x.unwrap();
            y.unwrap();
            a.tick().await.unwrap();
            t += Duration::minutes(1);
        }
    }

    async fn occurrences(&self) -> Vec<Occurrence> {
        let page = self.store.occurrences_of_series("s1", 500, None).await.unwrap();
        assert!(page.next.is_none());
        page.items
    }
}

/// The WIB day and time of each post of a platform.
fn wib_times(posted: &[Posted], platform: &str) -> Vec<String> {
    let mut times: Vec<String> = posted
        .iter()
        .filter(|p| p.platform == platform && p.reply_to.is_none())
        .map(|p| in_wib(p.at).format("%d %H:%M").to_string())
        .collect();
    times.sort();
    times
}

fn expected_times(days: &[u32]) -> Vec<String> {
    days.iter().flat_map(|d| TIMES.iter().map(move |t| format!("{d:02} {t}"))).collect()
}

#[tokio::test]
async fn a_series_posts_every_slot_once_at_its_wib_time_on_every_platform() {
    let s = setup();
    let platforms = [Platform::X, Platform::Facebook, Platform::Instagram, Platform::Telegram];
    plan(&s, &post(&s.fake, &platforms), day(16)).await;
    s.run_until(wib_end(16)).await;

    let posted = s.fake.posted();
    let expected = expected_times(&[7, 8, 9, 14, 15, 16]);
    for platform in ["x", "facebook", "instagram", "telegram"] {
        assert_eq!(wib_times(&posted, platform), expected, "{platform}: each slot once, on time");
    }
    assert_eq!(posted.len(), 4 * 18, "nothing else was posted");
    // X got its three wordings in turn, each with the image, so never the same text twice running.
    let x: Vec<&Posted> = posted.iter().filter(|p| p.platform == "x").collect();
    assert!(x.windows(2).all(|w| w[0].text != w[1].text));
    assert!(x.iter().all(|p| p.text.ends_with("#JatimSehat") && p.media.len() == 1), "hashtag and photo on X");
    let requests = s.fake.requests();
    let count = |method: &str, path: &str| requests.iter().filter(|r| r.method == method && r.path == path).count();
    assert_eq!(count("POST", "/2/tweets"), 18, "one X call per post, none retried");
    assert_eq!(count("POST", "/v21.0/17841463920184756/media_publish"), 18);
    assert!(requests.iter().filter(|r| r.path.starts_with("/2/")).all(|r| r.token.as_deref() == Some(X_OFFICIAL.0)));

    let occurrences = s.occurrences().await;
    assert_eq!(occurrences.len(), 72);
    for o in &occurrences {
        assert_eq!(o.state, OccurrenceState::Published, "{}", o.id);
        let id = o.platform_post_id.clone().unwrap();
        // Telegram's ids are `{chat}.{message}`.
        let on_platform = posted.iter().any(|p| p.id == id || format!("{}.{}", p.account, p.id) == id);
        assert!(on_platform, "{} records the platform's id {id}", o.id);
        assert_eq!(o.attempts, 1, "{}", o.id);
    }
    let events = s.store.pending_events(wib_end(30), 1000).await.unwrap();
    let published = events.iter().filter(|e| matches!(e.kind, EventKind::PostPublished { .. })).count();
    assert_eq!(published, 72, "one PostPublished per publication");
}

fn in_wib(t: DateTime<Utc>) -> DateTime<chrono::FixedOffset> {
    t.with_timezone(&wib())
}

fn requests_to(s: &Setup, method: &str, path: &str) -> usize {
    s.fake.requests().iter().filter(|r| r.method == method && r.path == path).count()
}

/// 23:59 WIB of a December day.
fn wib_end(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, 16, 59, 0).unwrap()
}

#[tokio::test]
async fn rate_limits_lost_answers_and_outages_delay_but_never_double_a_post() {
    let s = setup();
    let platforms = [Platform::X, Platform::Facebook, Platform::Instagram, Platform::Telegram];
    plan(&s, &post(&s.fake, &platforms), day(9)).await;
    // The first day goes through; then, on the second morning, every platform misbehaves once.
    s.run_until(Utc.with_ymd_and_hms(2026, 12, 8, 1, 59, 0).unwrap()).await;
    s.fake.fail("x.tweets", &[Fault::RateLimited { seconds: 120 }, Fault::Down]);
    s.fake.fail("facebook.photos", &[Fault::AcceptThenFail]);
    s.fake.fail("instagram.media_publish", &[Fault::AcceptThenFail]);
    s.fake.fail("telegram.send", &[Fault::RateLimited { seconds: 60 }]);
    s.run_until(wib_end(9)).await;

    let posted = s.fake.posted();
    let expected = expected_times(&[7, 8, 9]);
    for platform in ["facebook", "instagram"] {
        assert_eq!(wib_times(&posted, platform), expected, "{platform}: the post whose answer was lost is there once");
    }
    // X: limited until 09:02, then a 503 that posted nothing: read back, found absent, sent.
    let x = wib_times(&posted, "x");
    assert_eq!(x.len(), 9);
    let late = x.iter().find(|t| t.starts_with("08 09")).unwrap();
    assert!(
        late.as_str() > "08 09:03" && late.as_str() < "08 09:10",
        "X's post waited for the reset and the check: {x:?}"
    );
    assert_eq!(requests_to(&s, "POST", "/2/tweets"), 11, "nine posts, one limited, one lost");
    let telegram = wib_times(&posted, "telegram");
    assert_eq!(telegram.len(), 9);
    assert!(telegram.contains(&"08 09:01".to_string()), "Telegram's post went a minute later: {telegram:?}");

    assert_eq!(
        requests_to(&s, "POST", "/v21.0/104839201938475/photos"),
        9,
        "the lost answer was settled by reading the Page"
    );
    assert_eq!(
        requests_to(&s, "POST", "/v21.0/17841463920184756/media_publish"),
        9,
        "and the Instagram container's status"
    );
    let occurrences = s.occurrences().await;
    assert!(occurrences.iter().all(|o| o.state == OccurrenceState::Published));
    let settled: Vec<&Occurrence> =
        occurrences.iter().filter(|o| o.platform == Platform::Facebook && o.attempts == 1).collect();
    assert_eq!(settled.len(), 9);
    let morning = occurrences
        .iter()
        .find(|o| o.platform == Platform::Facebook && in_wib(o.slot).format("%d %H:%M").to_string() == "08 09:00")
        .unwrap();
    let on_page = posted
        .iter()
        .find(|p| p.platform == "facebook" && in_wib(p.at).format("%d %H:%M").to_string() == "08 09:00")
        .unwrap();
    assert_eq!(morning.platform_post_id.as_deref(), Some(on_page.id.as_str()), "the id read back from the Page");
}

#[tokio::test]
async fn x_refusing_identical_text_gets_a_native_repost() {
    let s = setup();
    let mut p = post(&s.fake, &[Platform::X]);
    p.variants.clear();
    plan(&s, &p, day(7)).await;
    s.run_until(wib_end(7)).await;

    // The post and one repost of it remain: the 19:00 repost took back the 12:00 one to show again.
    let posted = s.fake.posted();
    assert_eq!(posted.len(), 2);
    let first = &posted[0];
    assert_eq!(first.repost_of, None);
    assert_eq!(posted[1].repost_of.as_deref(), Some(first.id.as_str()), "a repost of the first post, not a failure");
    assert_eq!(in_wib(posted[1].at).format("%H:%M").to_string(), "19:00");
    assert_eq!(s.fake.undone_reposts(), 1);
    let occurrences = s.occurrences().await;
    assert!(occurrences.iter().all(|o| o.state == OccurrenceState::Published));
    assert_eq!(occurrences.iter().filter(|o| o.reposted.as_deref() == Some(first.id.as_str())).count(), 2);
    let tweets = s.fake.requests().iter().filter(|r| r.method == "POST" && r.path == "/2/tweets").count();
    assert_eq!(tweets, 3, "each later slot tried the text once, then reposted");
}

#[tokio::test]
async fn a_refused_token_holds_the_account_with_one_alert_until_it_works_again() {
    let s = setup();
    plan(&s, &post(&s.fake, &[Platform::Facebook]), day(7)).await;
    s.fake.fail("facebook.photos", &[Fault::Unauthorized, Fault::Unauthorized]);
    s.run_until(Utc.with_ymd_and_hms(2026, 12, 7, 2, 20, 0).unwrap()).await;

    let channel = s.store.channel(Platform::Facebook, Account::Resmi).await.unwrap().unwrap();
    assert!(!channel.healthy);
    assert!(channel.reason.unwrap().contains("190"));
    let events = s.store.pending_events(wib_end(30), 1000).await.unwrap();
    let alerts: Vec<_> = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::AlertRaised { kind, .. } if *kind == AlertKind::ChannelUnhealthy))
        .collect();
    assert_eq!(alerts.len(), 1, "one alert for the outage, not one per attempt");
    assert!(s.fake.posted().is_empty());

    s.run_until(wib_end(7)).await;
    let times = wib_times(&s.fake.posted(), "facebook");
    assert_eq!(times.len(), 3, "{times:?}");
    assert!(times[0].as_str() > "07 09:15", "the morning post waited for the account: {times:?}");
    assert!(s.store.channel(Platform::Facebook, Account::Resmi).await.unwrap().unwrap().healthy);
    assert!(s.occurrences().await.iter().all(|o| o.state == OccurrenceState::Published));
}

#[tokio::test]
async fn instagram_waits_for_its_quota_and_x_links_the_instagram_post() {
    let s = setup();
    let mut p = post(&s.fake, &[Platform::X, Platform::Instagram]);
    p.link_instagram = true;
    plan(&s, &p, day(7)).await;
    s.fake.set_instagram_quota(50, 50);
    s.run_until(Utc.with_ymd_and_hms(2026, 12, 7, 3, 10, 0).unwrap()).await;
    assert!(s.fake.posted().iter().all(|p| p.platform != "instagram"), "nothing over the quota");
    assert!(
        s.fake.requests().iter().all(|r| r.method != "POST" || !r.path.ends_with("/media")),
        "not even a container"
    );
    // X does not wait for an Instagram post held back for an hour: it goes without the link.
    let x = s.fake.posted();
    assert_eq!(x.len(), 1);
    assert!(!x[0].text.contains("instagram.com"));
    assert!(["09:00", "09:01"].contains(&in_wib(x[0].at).format("%H:%M").to_string().as_str()));

    // Room again: the morning post goes at its next look, the later slots on time, and X's
    // later posts link the Instagram post of their slot.
    s.fake.set_instagram_quota(10, 50);
    s.run_until(wib_end(7)).await;
    let posted = s.fake.posted();
    assert_eq!(wib_times(&posted, "instagram"), ["07 11:00", "07 12:00", "07 19:00"]);
    let requests = s.fake.requests();
    let steps: Vec<&str> = requests
        .iter()
        .filter(|r| r.path.starts_with("/v21.0/17841463920184756/media") && r.method == "POST")
        .map(|r| r.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["media", "media_publish", "media", "media_publish", "media", "media_publish"],
        "container, then publish"
    );
    for x in posted.iter().filter(|p| p.platform == "x").skip(1) {
        let hour = in_wib(x.at).format("%H").to_string();
        let ig =
            posted.iter().find(|i| i.platform == "instagram" && in_wib(i.at).format("%H").to_string() == hour).unwrap();
        assert!(x.text.contains(&format!("https://www.instagram.com/p/{}/", ig.id)), "{}", x.text);
        assert!(x.at - ig.at <= Duration::minutes(2), "X waited only for its Instagram post");
    }
}

#[tokio::test]
async fn a_telegram_outcome_nobody_can_read_waits_for_a_person_and_is_never_resent() {
    let s = setup();
    plan(&s, &post(&s.fake, &[Platform::Telegram]), day(7)).await;
    s.fake.fail("telegram.send", &[Fault::AcceptThenFail]);
    s.run_until(wib_end(7)).await;

    let posted = s.fake.posted();
    assert_eq!(wib_times(&posted, "telegram"), expected_times(&[7]), "the lost answer is not sent again");
    let occurrences = s.occurrences().await;
    let waiting: Vec<&Occurrence> = occurrences.iter().filter(|o| o.state == OccurrenceState::Unconfirmed).collect();
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].awaiting_person);
    assert!(waiting[0].note.as_deref().unwrap().contains("confirm"), "{:?}", waiting[0].note);
    let events = s.store.pending_events(wib_end(30), 1000).await.unwrap();
    let alerts = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::AlertRaised { kind, .. } if *kind == AlertKind::PublishUnconfirmed))
        .count();
    assert_eq!(alerts, 1, "one alert asks a person to look");
}

#[tokio::test]
async fn x_user_tokens_are_refreshed_once_across_publishers_and_renewed_when_refused() {
    let s = setup();
    let env: HashMap<String, String> = s.fake.env_refreshing().into_iter().collect();
    let refreshing = || {
        let deps = PublisherDeps { tokens: s.store.clone(), outbox: None };
        pantau::config::publishers(&env, &Secrets::from_source(&env), deps).unwrap()
    };
    let (a, b) = (service(&s.store, &s.clock, refreshing()), service(&s.store, &s.clock, refreshing()));
    let mut p = post(&s.fake, &[Platform::X]);
    p.media.clear();
    plan(&s, &p, day(7)).await;
    s.run_with(&a, &b, Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap()).await;
    let refreshes = || requests_to(&s, "POST", "/2/oauth2/token");
    assert_eq!(refreshes(), 1, "the first use refreshes the configured token, once for both publishers");
    // X retires the access token early: the next call gets 401, refreshes once, and posts.
    s.fake.expire_x_access_tokens();
    s.run_with(&a, &b, wib_end(7)).await;
    assert_eq!(refreshes(), 2);
    let posted = s.fake.posted();
    assert_eq!(wib_times(&posted, "x"), expected_times(&[7]));
    let tokens: Vec<Option<String>> =
        s.fake.requests().iter().filter(|r| r.path == "/2/tweets").map(|r| r.token.clone()).collect();
    assert_eq!(tokens.len(), 4, "three posts and one refused attempt");
    assert!(tokens.iter().all(|t| t.as_deref().is_some_and(|t| t.starts_with("x-access-"))));
    assert!(s.occurrences().await.iter().all(|o| o.state == OccurrenceState::Published && o.attempts == 1));
}

#[tokio::test]
async fn engagement_is_read_back_and_feeds_the_best_times() {
    let s = setup();
    let platforms = [Platform::X, Platform::Facebook, Platform::Instagram, Platform::Telegram];
    plan(&s, &post(&s.fake, &platforms), day(7)).await;
    s.run_until(wib_end(7)).await;
    let collector = pantau::app::publishing::engagement::EngagementCollector {
        occurrences: s.store.clone(),
        publishers: publishers(&s.fake, &s.store),
        clock: s.clock.clone(),
    };
    let run = collector.collect().await.unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(run.updated, 9, "X, Facebook and Instagram give counts; a Telegram bot cannot");
    let occurrences = s.occurrences().await;
    let x = occurrences.iter().find(|o| o.platform == Platform::X).unwrap();
    let engagement = x.engagement.as_ref().unwrap();
    assert!(engagement.impressions.is_some_and(|n| n > 100), "X gives impressions: {engagement:?}");
    assert!(occurrences.iter().filter(|o| o.platform == Platform::Telegram).all(|o| o.engagement.is_none()));

    let model = s.a.best_times().await.unwrap();
    let cells = &model.platforms[&Platform::X];
    // Monday 7 December: the three hours posted at rest on one post each.
    assert_eq!([cells.posts[0][9], cells.posts[0][12], cells.posts[0][19]], [1, 1, 1]);
    assert_eq!(cells.posts.iter().flatten().sum::<u32>(), 3);
}

#[tokio::test]
async fn tokens_about_to_expire_are_warned_about_once() {
    let s = setup();
    let publishers = publishers(&s.fake, &s.store);
    s.fake.set_token_expiry(t0() + Duration::days(30));
    let check = || pantau::app::publishing::tokens::check_tokens(&publishers, s.store.as_ref(), t0());
    assert_eq!(check().await.unwrap(), 0, "a month ahead is no warning");
    s.fake.set_token_expiry(t0() + Duration::days(3));
    // The Page token serves the official Page, Instagram and WhatsApp; the reactive Page has its own
    // (the fake gives both the same expiry).
    assert_eq!(check().await.unwrap(), 4);
    assert_eq!(check().await.unwrap(), 0, "once per account and expiry");
    let events = s.store.pending_events(wib_end(30), 1000).await.unwrap();
    let warnings = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::AlertRaised { kind, .. } if *kind == AlertKind::TokenExpiry))
        .count();
    assert_eq!(warnings, 4);
}
