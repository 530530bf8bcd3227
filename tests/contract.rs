//! One contract suite per store port, run against both adapters: SQLite in a temp file and
//! DynamoDB on moto (tables made from `infra/template.yaml`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use pantau::adapters::dynamodb::DynamoStore;
use pantau::adapters::sqlite::SqliteStore;
use pantau::classify::triage::{TriageSettings, triage};
use pantau::domain::{
    Account, AccountKind, AlertKind, AlertRecord, Answer, Author, Case, CaseReply, CaseStatus, CaseTransition,
    Category, Classification, Event, EventKind, Feedback, Influence, KnownAccount, Language, Mention, MentionKey,
    NewMention, Occurrence, OccurrenceState, Platform, Post, PostStatus, ReplySource, ReportMeta, ReportPeriod,
    Schedule, Scores, Sentiment, Series, SeriesStatus,
};
use pantau::error::StoreError;
use pantau::platforms::Lookup;
use pantau::ports::{
    CaseStore, CountDelta, CounterStore, DocumentStore, Inserted, MentionQuery, MentionReader, MentionStore,
    MentionWriter, OccurrenceStore, Outbox, Position, PostStore, Replacement, ReportStore,
};
use pantau::sla::{Calendar, SlaPolicy};
use pantau::stores::{
    AlertLog, AnswerLibrary, ChannelHealth, Episode, FeedbackStore, KnownAccounts, KnownAccountsCache, LookupQueue,
    Marker, Markers, PendingReplies, PollCursor, PollCursors, Settings, SpikeEpisodes,
};
use pantau_tests::{SettableClock, create_tables, eventually, moto, sdk_config};

const RETENTION_DAYS: u32 = 30;

struct Backend {
    mentions: Arc<dyn MentionStore>,
    cases: Arc<dyn CaseStore>,
    occurrences: Arc<dyn OccurrenceStore>,
    posts: Arc<dyn PostStore>,
    reports: Arc<dyn ReportStore>,
    docs: Arc<dyn DocumentStore>,
    accounts: Arc<dyn KnownAccounts>,
    outbox: Arc<dyn Outbox>,
    counters: Arc<dyn CounterStore>,
    clock: Arc<SettableClock>,
    _dir: Option<tempfile::TempDir>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 3, 0, 0).unwrap()
}

fn backend_of<S>(store: Arc<S>, clock: Arc<SettableClock>, dir: Option<tempfile::TempDir>) -> Backend
where
    S: MentionStore
        + CaseStore
        + OccurrenceStore
        + PostStore
        + ReportStore
        + DocumentStore
        + KnownAccounts
        + Outbox
        + CounterStore
        + 'static,
{
    Backend {
        mentions: store.clone(),
        cases: store.clone(),
        occurrences: store.clone(),
        posts: store.clone(),
        reports: store.clone(),
        docs: store.clone(),
        accounts: store.clone(),
        counters: store.clone(),
        outbox: store,
        clock,
        _dir: dir,
    }
}

async fn sqlite() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let clock = SettableClock::new(t0());
    let store = SqliteStore::open(&dir.path().join("pantau.db"), clock.clone(), RETENTION_DAYS).unwrap();
    Some(backend_of(Arc::new(store), clock, Some(dir)))
}

async fn dynamodb() -> Option<Backend> {
    let endpoint = moto().await?;
    let sdk = sdk_config(&endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let tables = create_tables(&client).await;
    let clock = SettableClock::new(t0());
    let store = DynamoStore::new(client, tables, clock.clone(), RETENTION_DAYS).unwrap();
    Some(backend_of(Arc::new(store), clock, None))
}

/// Runs each contract test against both adapters, as `sqlite::name` and `dynamodb::name`.
macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { if let Some(b) = super::sqlite().await { super::$name(&b).await } })+
        }
        mod dynamodb {
            $(#[tokio::test] async fn $name() { if let Some(b) = super::dynamodb().await { super::$name(&b).await } })+
        }
    };
}

contract!(
    a_mention_is_stored_once_with_one_event,
    missing_mentions_are_absent,
    mentions_are_replaced_only_at_the_expected_revision,
    counters_move_only_with_the_change_they_count,
    a_batch_of_replacements_is_written_whole_or_not_at_all,
    expired_mentions_are_absent,
    listing_pages_newest_first_without_gaps_or_repeats,
    listing_respects_the_time_range_and_wib_days,
    listing_filters_by_labels_and_topic,
    mentions_by_author_newest_first,
    cases_are_created_once_and_moved_conditionally,
    open_cases_come_earliest_due_first,
    occurrences_are_due_once_and_claimed_once,
    the_calendar_pages_by_time_and_by_series,
    posts_and_series_are_created_once_and_replaced_conditionally,
    channels_turn_unhealthy_once,
    reports_replace_the_same_period,
    cases_are_read_by_status_and_time_of_their_message,
    documents_round_trip_page_by_prefix_and_expire,
    published_events_leave_the_outbox,
    listing_filters_by_case_status_language_and_influence,
    cases_are_read_in_batches_and_erased,
    mentions_are_erased_with_their_counts,
    documents_swap_only_from_what_was_read,
    alert_log_keeps_each_month_apart_and_pages,
    answers_are_added_and_replaced_conditionally,
    known_accounts_are_kept_paged_and_held_per_process,
    poll_cursors_round_trip,
    spike_episodes_alert_once_per_episode,
    feedback_pages_by_mention,
    lookups_are_queued_once_and_dropped,
    markers_mark_once,
    held_replies_belong_to_their_mention_and_expire,
    settings_default_until_replaced,
    writes_beyond_one_transaction_are_refused,
    listings_beyond_366_days_are_refused,
    authors_without_an_id_are_never_pooled,
);

fn mention(platform: Platform, id: &str, at: DateTime<Utc>, author: &str) -> Mention {
    let by = Author { id: Some(author.into()), handle: Some(format!("h_{author}")), name: None, followers: Some(1200) };
    let new = NewMention::new(MentionKey::new(platform, id).unwrap(), format!("Jalan rusak di Gresik ({id})"), at, by);
    Mention::received(new, at + Duration::seconds(2))
}

fn classified(mut m: Mention, category: Category, sentiment: Sentiment, topics: &[&str]) -> Mention {
    m.classification = Some(Classification {
        category,
        sentiment,
        language: Language::Indonesian,
        topics: topics.iter().map(|t| t.to_string()).collect(),
        confidence: 0.9,
        scores: Scores::default(),
        reasons: vec![],
        model: "test".into(),
        classified_at: m.received_at,
        text_revision: 0,
    });
    m
}

fn received(m: &Mention) -> Event {
    Event::new("ingest-webhook", EventKind::MentionReceived { key: m.key.clone() }, m.received_at)
}

fn query(from: DateTime<Utc>, to: DateTime<Utc>, limit: usize) -> MentionQuery {
    MentionQuery::between(from, to, limit)
}

async fn list_all(b: &Backend, mut q: MentionQuery) -> Vec<String> {
    let mut keys = Vec::new();
    loop {
        let page = b.mentions.list_mentions(&q).await.unwrap();
        assert!(page.items.len() <= q.limit);
        keys.extend(page.items.iter().map(|m| m.key.to_string()));
        match page.next {
            Some(next) => q.after = Some(next),
            None => return keys,
        }
    }
}

async fn a_mention_is_stored_once_with_one_event(b: &Backend) {
    let m = mention(Platform::Facebook, "101_202", t0(), "a1");
    let first = received(&m);
    assert_eq!(b.mentions.insert_mention(&m, std::slice::from_ref(&first)).await.unwrap(), Inserted::New);
    // A redelivery brings a new event id; neither the mention nor the event is written again.
    let again = received(&m);
    assert_eq!(b.mentions.insert_mention(&m, std::slice::from_ref(&again)).await.unwrap(), Inserted::Duplicate);
    assert_eq!(b.mentions.get_mention(&m.key).await.unwrap(), Some(m.clone()));
    let pending = eventually(
        || b.outbox.pending_events(t0() + Duration::days(1), 10),
        |p| p.as_ref().is_ok_and(|p| !p.is_empty()),
    )
    .await
    .unwrap();
    let ids: Vec<&str> = pending.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec![first.id.as_str()], "exactly the first delivery's event is pending");
    assert_eq!(pending[0], first);
}

async fn mentions_are_replaced_only_at_the_expected_revision(b: &Backend) {
    let m = mention(Platform::Facebook, "edit_1", t0(), "e");
    b.mentions.insert_mention(&m, &[]).await.unwrap();
    let edited = m.edited("Jalan rusak di Gresik, sudah 3 bulan", None, t0() + Duration::hours(1)).unwrap();
    let reclassify = received(&edited);
    b.mentions.replace_mention(&edited, m.revision, &[], std::slice::from_ref(&reclassify)).await.unwrap();
    // A writer that read the old revision loses cleanly and writes nothing, events included.
    let stale = m.deleted(t0() + Duration::hours(2)).unwrap();
    let lost = received(&stale);
    let err = b.mentions.replace_mention(&stale, m.revision, &[], std::slice::from_ref(&lost)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let stored = b.mentions.get_mention(&m.key).await.unwrap().unwrap();
    assert_eq!(stored, edited);
    assert_eq!(stored.edits.len(), 1);
    let pending = eventually(
        || b.outbox.pending_events(t0() + Duration::days(1), 10),
        |p| p.as_ref().is_ok_and(|p| !p.is_empty()),
    )
    .await
    .unwrap();
    assert_eq!(pending.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec![reclassify.id.as_str()]);
    let missing = mention(Platform::Facebook, "never_stored", t0(), "e");
    assert!(matches!(b.mentions.replace_mention(&missing, 0, &[], &[]).await, Err(StoreError::Conflict { .. })));
}

async fn counters_move_only_with_the_change_they_count(b: &Backend) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let delta = |key: &str, d: i64| CountDelta { day, key: key.to_string(), delta: d };
    let m = mention(Platform::X, "count_1", t0(), "c");
    b.mentions.insert_mention(&m, &[]).await.unwrap();
    let first = classified(m.clone(), Category::Pengaduan, Sentiment::Negatif, &["jalan"]);
    let first = pantau::domain::Mention { revision: 1, ..first };
    let counts = [delta("platform#x", 1), delta("category#pengaduan", 1), delta("topic#jalan", 1)];
    b.mentions.replace_mention(&first, 0, &counts, &[]).await.unwrap();
    // A redelivered classification (stale revision) loses, and counts nothing.
    let err = b.mentions.replace_mention(&first, 0, &counts, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
    // Reclassification moves the count from the old label to the new one.
    let second =
        pantau::domain::Mention { revision: 2, ..classified(first.clone(), Category::Hater, Sentiment::Negatif, &[]) };
    let moved = [delta("category#pengaduan", -1), delta("category#hater", 1), delta("topic#jalan", -1)];
    b.mentions.replace_mention(&second, 1, &moved, &[]).await.unwrap();
    let mut counts = b.counters.counts(day, day).await.unwrap();
    counts.sort_by(|a, b| a.key.cmp(&b.key));
    let seen: Vec<(&str, i64)> = counts.iter().map(|c| (c.key.as_str(), c.n)).collect();
    assert_eq!(seen, vec![("category#hater", 1), ("category#pengaduan", 0), ("platform#x", 1), ("topic#jalan", 0)]);
    let next_day = day.succ_opt().unwrap();
    assert!(b.counters.counts(next_day, next_day).await.unwrap().is_empty());
}

async fn a_batch_of_replacements_is_written_whole_or_not_at_all(b: &Backend) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let delta = |key: &str, d: i64| CountDelta { day, key: key.to_string(), delta: d };
    let stored: Vec<Mention> = (0..3).map(|i| mention(Platform::X, &format!("batch_{i}"), t0(), "b")).collect();
    for m in &stored {
        b.mentions.insert_mention(m, &[]).await.unwrap();
    }
    let next: Vec<Mention> = stored
        .iter()
        .map(|m| Mention { revision: 1, ..classified(m.clone(), Category::Aspirasi, Sentiment::Positif, &[]) })
        .collect();
    let event = |m: &Mention| {
        Event::new(
            "contract",
            EventKind::MentionClassified {
                key: m.key.clone(),
                category: Category::Aspirasi,
                sentiment: Sentiment::Positif,
                priority: pantau::domain::Priority::P4,
            },
            t0(),
        )
    };
    // The third mention changed meanwhile: nothing of the batch is written, and the error names it.
    let meanwhile = Mention { revision: 1, ..stored[2].clone() };
    b.mentions.replace_mention(&meanwhile, 0, &[], &[]).await.unwrap();
    let batch: Vec<Replacement<'_>> = next.iter().map(|m| Replacement { mention: m, expected_revision: 0 }).collect();
    let counts = [delta("category#aspirasi", 3), delta("total", 3)];
    let events: Vec<Event> = next.iter().map(event).collect();
    let err = b.mentions.replace_mentions(&batch, &counts, &events).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { key, .. } if key.contains("batch_2")), "{err:?}");
    for m in &stored[..2] {
        assert_eq!(b.mentions.get_mention(&m.key).await.unwrap().unwrap().revision, 0, "{} was written", m.key);
    }
    assert!(b.counters.counts(day, day).await.unwrap().iter().all(|c| !c.key.contains("aspirasi")));
    let far = t0() + Duration::days(1);
    let pending = b.outbox.pending_events(far, 100).await.unwrap();
    assert!(pending.iter().all(|e| !events.iter().any(|lost| lost.id == e.id)), "events of an unwritten batch");
    // The same batch against the revisions stored now: every mention, the counts once, every event.
    let third = Mention { revision: 2, ..next[2].clone() };
    let batch = [
        Replacement { mention: &next[0], expected_revision: 0 },
        Replacement { mention: &next[1], expected_revision: 0 },
        Replacement { mention: &third, expected_revision: 1 },
    ];
    b.mentions.replace_mentions(&batch, &counts, &events).await.unwrap();
    for r in &batch {
        let now = b.mentions.get_mention(&r.mention.key).await.unwrap().unwrap();
        assert_eq!(
            (now.revision, now.classification.map(|c| c.category)),
            (r.mention.revision, Some(Category::Aspirasi))
        );
    }
    let seen: BTreeMap<String, i64> =
        b.counters.counts(day, day).await.unwrap().into_iter().map(|c| (c.key, c.n)).collect();
    assert_eq!((seen.get("category#aspirasi"), seen.get("total")), (Some(&3), Some(&3)), "{seen:?}");
    let pending = b.outbox.pending_events(far, 100).await.unwrap();
    assert!(events.iter().all(|e| pending.iter().any(|p| p.id == e.id)), "every event of the batch is pending");
}

async fn missing_mentions_are_absent(b: &Backend) {
    let key = MentionKey::new(Platform::X, "404").unwrap();
    assert_eq!(b.mentions.get_mention(&key).await.unwrap(), None);
}

async fn expired_mentions_are_absent(b: &Backend) {
    let m = mention(Platform::Telegram, "-100.7", t0(), "a1");
    b.mentions.insert_mention(&m, &[]).await.unwrap();
    b.clock.set(t0() + Duration::days(i64::from(RETENTION_DAYS) - 1));
    assert!(b.mentions.get_mention(&m.key).await.unwrap().is_some(), "still inside retention");
    b.clock.set(t0() + Duration::days(i64::from(RETENTION_DAYS) + 1));
    // DynamoDB (and moto) may still hold the item: reads must treat it as gone.
    assert_eq!(b.mentions.get_mention(&m.key).await.unwrap(), None);
    let listed = list_all(b, query(t0() - Duration::days(1), t0() + Duration::days(1), 10)).await;
    assert!(listed.is_empty(), "expired mention listed: {listed:?}");
    assert!(b.mentions.mentions_by_author("telegram#a1", 10, None).await.unwrap().items.is_empty());
}

async fn listing_pages_newest_first_without_gaps_or_repeats(b: &Backend) {
    let mut expected = Vec::new();
    for i in 0..11 {
        // Spread over three WIB days, two of them sharing a timestamp to test the tie-break.
        let at = t0() + Duration::hours(i * 7) - Duration::hours(if i == 4 { 7 } else { 0 });
        let platform = if i % 2 == 0 { Platform::X } else { Platform::Instagram };
        let m = mention(platform, &format!("m{i:02}"), at, "p");
        b.mentions.insert_mention(&m, &[]).await.unwrap();
        expected.push((at, m.key.to_string()));
    }
    expected.sort();
    expected.reverse();
    let expected: Vec<String> = expected.into_iter().map(|(_, k)| k).collect();
    let from = t0() - Duration::days(1);
    let to = t0() + Duration::days(4);
    let all = eventually(|| list_all(b, query(from, to, 3)), |keys| keys.len() == expected.len()).await;
    assert_eq!(all, expected);
    let page = b.mentions.list_mentions(&query(from, to, 11)).await.unwrap();
    assert_eq!(page.items.len(), 11);
    assert!(page.next.is_none(), "an exact final page has no cursor");
    // A cursor reused with a later `from` leaves nothing to list (never an error).
    let first = b.mentions.list_mentions(&query(from, to, 10)).await.unwrap();
    let late_from = MentionQuery { after: first.next, ..query(t0() + Duration::days(3), to, 10) };
    assert!(b.mentions.list_mentions(&late_from).await.unwrap().items.is_empty());
}

async fn listing_respects_the_time_range_and_wib_days(b: &Backend) {
    // 16:59:59Z is 23:59:59 WIB on the 16th; 17:00:00Z is 00:00 WIB on the 17th.
    let late = Utc.with_ymd_and_hms(2026, 11, 16, 16, 59, 59).unwrap();
    let midnight = Utc.with_ymd_and_hms(2026, 11, 16, 17, 0, 0).unwrap();
    for (id, at) in [("late", late), ("midnight", midnight), ("later", midnight + Duration::hours(1))] {
        b.mentions.insert_mention(&mention(Platform::News, id, at, "n"), &[]).await.unwrap();
    }
    let day16 = eventually(|| list_all(b, query(late - Duration::hours(20), midnight, 10)), |k| !k.is_empty()).await;
    assert_eq!(day16, vec!["news:late"], "`to` is exclusive");
    let across = list_all(b, query(late, midnight + Duration::hours(1), 10)).await;
    assert_eq!(across, vec!["news:midnight", "news:late"], "`from` is inclusive, across WIB midnight");
}

async fn listing_filters_by_labels_and_topic(b: &Backend) {
    let at = t0();
    let rows = [
        ("f1", Platform::Facebook, Category::Pengaduan, Sentiment::Negatif, vec!["jalan"]),
        ("f2", Platform::Facebook, Category::Apresiasi, Sentiment::Positif, vec!["kesehatan"]),
        ("x1", Platform::X, Category::Pengaduan, Sentiment::Negatif, vec!["banjir", "jalan"]),
        ("x2", Platform::X, Category::Hater, Sentiment::Negatif, vec![]),
    ];
    for (i, (id, platform, category, sentiment, topics)) in rows.iter().enumerate() {
        let m =
            classified(mention(*platform, id, at + Duration::minutes(i as i64), "f"), *category, *sentiment, topics);
        b.mentions.insert_mention(&m, &[]).await.unwrap();
    }
    let base = query(at - Duration::hours(1), at + Duration::hours(1), 10);
    let keys = |q: MentionQuery| async move { eventually(|| list_all(b, q.clone()), |k| !k.is_empty()).await };
    assert_eq!(
        keys(MentionQuery { platform: Some(Platform::Facebook), ..base.clone() }).await,
        vec!["facebook:f2", "facebook:f1"]
    );
    assert_eq!(
        keys(MentionQuery { category: Some(Category::Pengaduan), ..base.clone() }).await,
        vec!["x:x1", "facebook:f1"]
    );
    assert_eq!(
        keys(MentionQuery { category: Some(Category::Pengaduan), platform: Some(Platform::X), ..base.clone() }).await,
        vec!["x:x1"]
    );
    assert_eq!(keys(MentionQuery { sentiment: Some(Sentiment::Positif), ..base.clone() }).await, vec!["facebook:f2"]);
    assert_eq!(keys(MentionQuery { topic: Some("jalan".into()), ..base.clone() }).await, vec!["x:x1", "facebook:f1"]);
    let none = list_all(b, MentionQuery { topic: Some("jala".into()), ..base }).await;
    assert!(none.is_empty(), "topics match whole values only: {none:?}");
}

async fn mentions_by_author_newest_first(b: &Backend) {
    for (i, author) in ["u1", "u2", "u1", "u1"].iter().enumerate() {
        let m = mention(Platform::Youtube, &format!("c{i}"), t0() + Duration::minutes(i as i64), author);
        b.mentions.insert_mention(&m, &[]).await.unwrap();
    }
    let found = eventually(
        || b.mentions.mentions_by_author("youtube#u1", 10, None),
        |r| r.as_ref().is_ok_and(|p| p.items.len() == 3),
    )
    .await
    .unwrap();
    let keys: Vec<String> = found.items.iter().map(|m| m.key.to_string()).collect();
    assert_eq!(keys, vec!["youtube:c3", "youtube:c2", "youtube:c0"]);
    assert!(found.next.is_none());
    // Pages of two, following the position.
    let first = b.mentions.mentions_by_author("youtube#u1", 2, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = b.mentions.mentions_by_author("youtube#u1", 2, first.next.as_ref()).await.unwrap();
    let keys: Vec<String> = rest.items.iter().map(|m| m.key.to_string()).collect();
    assert_eq!((keys, rest.next), (vec!["youtube:c0".to_string()], None));
}

/// A complaint with triage, ready to open a case.
fn complaint(id: &str, at: DateTime<Utc>, followers: u64) -> Mention {
    let mut m = classified(mention(Platform::Whatsapp, id, at, "warga"), Category::Pengaduan, Sentiment::Negatif, &[]);
    m.triage = Some(triage(Category::Pengaduan, Some(followers), &TriageSettings::default()));
    m
}

fn case_of(m: &Mention) -> Case {
    Case::open(m, &SlaPolicy::default(), &Calendar::builtin().unwrap(), t0()).unwrap()
}

fn case(id: &str, due: DateTime<Utc>) -> Case {
    let mut c = case_of(&complaint(&format!("wamid.{id}"), t0(), 10));
    c.id = id.into();
    c.due_at = due;
    c
}

fn step(c: &Case, to: CaseStatus) -> Case {
    c.transition(CaseTransition { from: c.status, to, by: "operator:ani".into(), at: t0(), note: None, request: None })
        .unwrap()
}

async fn cases_are_created_once_and_moved_conditionally(b: &Backend) {
    let c = case("k1", t0() + Duration::days(3));
    let opened =
        Event::new("classify", EventKind::AlertRaised { kind: AlertKind::SlaReminder, data: Default::default() }, t0());
    assert_eq!(b.cases.create_case(&c, &[opened]).await.unwrap(), Inserted::New);
    assert_eq!(b.cases.create_case(&c, &[]).await.unwrap(), Inserted::Duplicate);
    let verified = step(&c, CaseStatus::Diverifikasi);
    b.cases.update_case(&verified, c.revision, &[]).await.unwrap();
    // A second officer working from the stale revision loses cleanly.
    let stale = step(&c, CaseStatus::Ditunda);
    let err = b.cases.update_case(&stale, c.revision, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let stored = b.cases.get_case("k1").await.unwrap().unwrap();
    assert_eq!(stored.status, CaseStatus::Diverifikasi);
    assert_eq!(stored.history.len(), 1);
    assert!(b.cases.get_case("nope").await.unwrap().is_none());
}

async fn open_cases_come_earliest_due_first(b: &Backend) {
    for (id, days) in [("c3", 3), ("c1", 1), ("c5", 5), ("c2", 2), ("c4", 4)] {
        b.cases.create_case(&case(id, t0() + Duration::days(days)), &[]).await.unwrap();
    }
    let closed = step(
        &step(&step(&case("c2", t0() + Duration::days(2)), CaseStatus::Diverifikasi), CaseStatus::Ditindaklanjuti),
        CaseStatus::Selesai,
    );
    b.cases.update_case(&closed, 0, &[]).await.unwrap();
    let read_all = || async {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let page = b.cases.open_cases(2, after.as_ref()).await.unwrap();
            ids.extend(page.items.iter().map(|c| c.id.clone()));
            match page.next {
                Some(next) => after = Some(next),
                None => return ids,
            }
        }
    };
    let ids = eventually(read_all, |ids| ids.len() == 4).await;
    assert_eq!(ids, vec!["c1", "c3", "c4", "c5"], "closed cases leave the inbox");
}

fn occurrence(id: &str, due: DateTime<Utc>, state: OccurrenceState) -> Occurrence {
    Occurrence {
        id: id.into(),
        post_id: Some("post1".into()),
        series_id: None,
        reply: None,
        platform: Platform::X,
        account: Account::Resmi,
        slot: due,
        ordinal: 0,
        due_at: due,
        moved: false,
        state,
        lease_until: None,
        claimed_at: None,
        attempts: 0,
        sent_text: None,
        container_id: None,
        platform_post_id: None,
        permalink: None,
        published_at: None,
        reposted: None,
        note: None,
        engagement: None,
        awaiting_person: false,
        updated_at: t0(),
        revision: 0,
    }
}

fn of_series(id: &str, series: &str, slot: DateTime<Utc>) -> Occurrence {
    Occurrence { series_id: Some(series.into()), ..occurrence(id, slot, OccurrenceState::Scheduled) }
}

async fn occurrences_are_due_once_and_claimed_once(b: &Backend) {
    let now = t0();
    for (id, minutes, state) in [
        ("o1", -5, OccurrenceState::Scheduled),
        ("o2", 0, OccurrenceState::Scheduled),
        ("o3", 5, OccurrenceState::Scheduled),
        ("o4", -9, OccurrenceState::Published),
        ("o5", -7, OccurrenceState::Held),
    ] {
        assert_eq!(
            b.occurrences.put_occurrence(&occurrence(id, now + Duration::minutes(minutes), state)).await.unwrap(),
            Inserted::New
        );
    }
    assert_eq!(
        b.occurrences.put_occurrence(&occurrence("o1", now, OccurrenceState::Failed)).await.unwrap(),
        Inserted::Duplicate,
        "materialising twice adds nothing and changes nothing"
    );
    let due = eventually(|| b.occurrences.due_occurrences(now, 10), |d| d.as_ref().is_ok_and(|d| d.len() == 2))
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        vec!["o1", "o2"],
        "due at or before now, earliest first; published and held ones are not looked at"
    );
    let mut claimed = due[0].clone();
    claimed.state = OccurrenceState::Publishing;
    claimed.lease_until = Some(now + Duration::minutes(5));
    claimed.revision = 1;
    let claim_event =
        Event::new("publish", EventKind::AlertRaised { kind: AlertKind::PublishFailed, data: Default::default() }, now);
    b.occurrences.update_occurrence(&claimed, 0, std::slice::from_ref(&claim_event)).await.unwrap();
    // A second publisher that read the same due list must not claim it again.
    let err = b.occurrences.update_occurrence(&claimed, 0, &[alert_event(7)]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let pending = b.outbox.pending_events(now + Duration::days(1), 100).await.unwrap();
    assert!(pending.iter().any(|e| e.id == claim_event.id), "the events commit with the change");
    assert!(alerts_in_outbox(b).await.is_empty(), "a refused change leaves its events out");
    let due = eventually(|| b.occurrences.due_occurrences(now, 10), |d| d.as_ref().is_ok_and(|d| d.len() == 1))
        .await
        .unwrap();
    assert_eq!(due[0].id, "o2");
    // When the lease runs out the publisher looks at it again.
    let later = now + Duration::minutes(6);
    let due = eventually(|| b.occurrences.due_occurrences(later, 10), |d| d.as_ref().is_ok_and(|d| d.len() == 3))
        .await
        .unwrap();
    assert_eq!(due.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), vec!["o2", "o1", "o3"]);
    let stored = b.occurrences.get_occurrence("o1").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.revision), (OccurrenceState::Publishing, 1));
    assert_eq!(b.occurrences.get_occurrence("o9").await.unwrap(), None);
    assert_eq!(b.occurrences.due_occurrences(later, 2).await.unwrap().len(), 2, "the limit holds");
}

async fn the_calendar_pages_by_time_and_by_series(b: &Backend) {
    let day = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let mut slots = Vec::new();
    for d in 0..3 {
        for (i, hour) in [2, 5, 11].into_iter().enumerate() {
            let slot = day + Duration::days(d) + Duration::hours(hour);
            let id = format!("s1-x-{d}{i}");
            b.occurrences.put_occurrence(&of_series(&id, "s1", slot)).await.unwrap();
            slots.push((slot, id));
        }
    }
    b.occurrences.put_occurrence(&of_series("s2-x-0", "s2", day + Duration::hours(3))).await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = b.occurrences.occurrences_between(day, day + Duration::days(2), 4, after.as_ref()).await.unwrap();
        assert!(page.items.len() <= 4);
        seen.extend(page.items.iter().map(|o| o.id.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec!["s1-x-00", "s2-x-0", "s1-x-01", "s1-x-02", "s1-x-10", "s1-x-11", "s1-x-12"],
        "two days, earliest first, no gaps or repeats across pages"
    );
    let mut of_s1 = Vec::new();
    let mut after = None;
    loop {
        let page = b.occurrences.occurrences_of_series("s1", 5, after.as_ref()).await.unwrap();
        of_s1.extend(page.items.iter().map(|o| o.id.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(of_s1, slots.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(), "by slot");
    let err = b.occurrences.occurrences_between(day, day + Duration::days(400), 10, None).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

fn post(id: &str, at: DateTime<Utc>) -> Post {
    Post {
        id: id.into(),
        title: format!("judul {id}"),
        text: "Vaksinasi gratis di Puskesmas".into(),
        variants: BTreeMap::new(),
        media: vec![],
        link: None,
        hashtags: vec!["JatimSehat".into()],
        topic: None,
        account: Account::Resmi,
        platforms: vec![Platform::X, Platform::Facebook],
        link_instagram: false,
        status: PostStatus::Draft,
        approval: None,
        created_by: "humas".into(),
        created_at: at,
        updated_by: "humas".into(),
        updated_at: at,
        revision: 0,
    }
}

fn series(id: &str, at: DateTime<Utc>) -> Series {
    Series {
        id: id.into(),
        post_id: "p1".into(),
        schedule: Schedule {
            start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            times_wib: vec![chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap()],
            best_times: None,
            weekdays: vec![],
            run_days: 3,
            again_after_days: Some(4),
            max_occurrences: None,
            until: None,
        },
        status: SeriesStatus::Active,
        materialized_until: at,
        created_by: "humas".into(),
        created_at: at,
        updated_at: at,
        revision: 0,
    }
}

async fn posts_and_series_are_created_once_and_replaced_conditionally(b: &Backend) {
    for (i, id) in ["p1", "p2", "p3"].into_iter().enumerate() {
        assert_eq!(b.posts.create_post(&post(id, t0() + Duration::minutes(i as i64))).await.unwrap(), Inserted::New);
    }
    assert_eq!(b.posts.create_post(&post("p1", t0())).await.unwrap(), Inserted::Duplicate);
    let mut approved = post("p1", t0());
    approved.status = PostStatus::Approved;
    approved.revision = 1;
    b.posts.update_post(&approved, 0).await.unwrap();
    let err = b.posts.update_post(&approved, 0).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(b.posts.get_post("p1").await.unwrap(), Some(approved));
    assert_eq!(b.posts.get_post("p9").await.unwrap(), None);
    let first =
        eventually(|| b.posts.list_posts(2, None), |p| p.as_ref().is_ok_and(|p| p.items.len() == 2)).await.unwrap();
    let rest = b.posts.list_posts(2, first.next.as_ref()).await.unwrap();
    let ids: Vec<&str> = first.items.iter().chain(&rest.items).map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p3", "p2", "p1"], "newest first across pages");
    assert!(rest.next.is_none());

    for (i, id) in ["s1", "s2", "s3"].into_iter().enumerate() {
        assert_eq!(
            b.posts.create_series(&series(id, t0() + Duration::minutes(i as i64))).await.unwrap(),
            Inserted::New
        );
    }
    assert_eq!(b.posts.create_series(&series("s1", t0())).await.unwrap(), Inserted::Duplicate);
    let mut cancelled = series("s2", t0() + Duration::minutes(1));
    cancelled.status = SeriesStatus::Cancelled;
    cancelled.revision = 1;
    b.posts.update_series(&cancelled, 0).await.unwrap();
    assert!(matches!(b.posts.update_series(&cancelled, 0).await, Err(StoreError::Conflict { .. })));
    assert_eq!(b.posts.get_series("s2").await.unwrap(), Some(cancelled));
    let active =
        eventually(|| b.posts.active_series(10, None), |p| p.as_ref().is_ok_and(|p| p.items.len() == 2)).await.unwrap();
    assert_eq!(active.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s1", "s3"], "oldest first");
}

async fn channels_turn_unhealthy_once(b: &Backend) {
    let now = t0();
    assert_eq!(b.docs.channel(Platform::X, Account::Resmi).await.unwrap(), None);
    assert!(b.docs.mark_unhealthy(Platform::X, Account::Resmi, "401", now, &[alert_event(1)]).await.unwrap());
    assert!(!b.docs.mark_unhealthy(Platform::X, Account::Resmi, "401", now, &[alert_event(2)]).await.unwrap());
    assert_eq!(alerts_in_outbox(b).await, vec![1], "one alert per outage");
    assert_eq!(b.docs.channel(Platform::X, Account::Reaktif).await.unwrap(), None, "accounts apart");
    b.docs.mark_healthy(Platform::X, Account::Resmi, now).await.unwrap();
    assert!(b.docs.channel(Platform::X, Account::Resmi).await.unwrap().is_some_and(|c| c.healthy));
    assert!(b.docs.mark_unhealthy(Platform::X, Account::Resmi, "401", now, &[alert_event(3)]).await.unwrap());
}

async fn reports_replace_the_same_period(b: &Backend) {
    let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
    let report = |day, objects: &[&str]| ReportMeta {
        id: format!("daily-{}", d(day)),
        period: ReportPeriod::Daily,
        from: d(day),
        to: d(day),
        created_at: t0(),
        objects: objects.iter().map(|o| o.to_string()).collect(),
    };
    b.reports.put_report(&report(15, &["a.json"])).await.unwrap();
    b.reports.put_report(&report(16, &["b.json"])).await.unwrap();
    b.reports.put_report(&report(16, &["b2.json"])).await.unwrap();
    b.reports.put_report(&report(20, &["c.json"])).await.unwrap();
    let listed = b.reports.list_reports(ReportPeriod::Daily, d(15), d(16)).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.objects[0].as_str()).collect::<Vec<_>>(), vec!["a.json", "b2.json"]);
    assert!(b.reports.list_reports(ReportPeriod::Weekly, d(1), d(30)).await.unwrap().is_empty());
    // Two custom ranges that start the same day are two reports.
    let custom = |to, object: &str| ReportMeta {
        id: format!("custom-{}-{}", d(1), d(to)),
        period: ReportPeriod::Custom,
        from: d(1),
        to: d(to),
        created_at: t0(),
        objects: vec![object.to_string()],
    };
    b.reports.put_report(&custom(7, "week.json")).await.unwrap();
    b.reports.put_report(&custom(14, "fortnight.json")).await.unwrap();
    let listed = b.reports.list_reports(ReportPeriod::Custom, d(1), d(1)).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let got = b.reports.get_report(ReportPeriod::Custom, d(1), d(14)).await.unwrap().unwrap();
    assert_eq!(got.objects, ["fortnight.json"]);
    assert_eq!(b.reports.get_report(ReportPeriod::Custom, d(1), d(8)).await.unwrap(), None);
    assert_eq!(b.reports.get_report(ReportPeriod::Daily, d(16), d(16)).await.unwrap().unwrap().objects, ["b2.json"]);
}

async fn cases_are_read_by_status_and_time_of_their_message(b: &Backend) {
    let at = |minutes: i64| t0() + Duration::minutes(minutes);
    for (id, minutes, status) in [
        ("c1", 0, CaseStatus::Baru),
        ("c2", 10, CaseStatus::Baru),
        ("c3", 20, CaseStatus::Selesai),
        ("c4", 30, CaseStatus::Baru),
        ("c5", 200, CaseStatus::Baru),
    ] {
        let mut c = case_of(&complaint(&format!("wamid.{id}"), at(minutes), 10));
        c.status = status;
        b.cases.create_case(&c, &[]).await.unwrap();
    }
    let read = |status, limit| async move {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let page = b.cases.cases_by_status(status, at(0), at(60), limit, after.as_ref()).await.unwrap();
            assert!(page.items.len() <= limit);
            ids.extend(page.items.iter().map(|c| c.mention_key.external_id().to_string()));
            match page.next {
                Some(next) => after = Some(next),
                None => return ids,
            }
        }
    };
    let baru = eventually(|| read(CaseStatus::Baru, 2), |ids| ids.len() == 3).await;
    assert_eq!(baru, ["wamid.c1", "wamid.c2", "wamid.c4"], "oldest first, the range's end excluded, pages joined");
    assert_eq!(read(CaseStatus::Selesai, 10).await, ["wamid.c3"]);
    assert!(read(CaseStatus::Ditunda, 10).await.is_empty());
    let err =
        b.cases.cases_by_status(CaseStatus::Baru, at(0), at(0) + Duration::days(400), 10, None).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

async fn documents_round_trip_page_by_prefix_and_expire(b: &Backend) {
    let doc = |n: i64| serde_json::json!({"n": n, "teks": "jalan rusak"});
    for (id, n) in [("a#1", 1), ("a#2", 2), ("a#3", 3), ("ab#1", 4), ("b#1", 5)] {
        b.docs.put_doc("kind1", id, &doc(n), None).await.unwrap();
    }
    b.docs.put_doc("kind2", "a#1", &doc(9), None).await.unwrap();
    assert_eq!(b.docs.get_doc("kind1", "a#2").await.unwrap(), Some(doc(2)));
    assert_eq!(b.docs.get_doc("kind1", "zzz").await.unwrap(), None);
    // Pages of two under the prefix `a#`: ids in order, none of `ab#` or another kind.
    let mut ids = Vec::new();
    let mut after: Option<Position> = None;
    loop {
        let page = b.docs.list_docs("kind1", "a#", 2, after.as_ref()).await.unwrap();
        assert!(page.items.len() <= 2);
        ids.extend(page.items.into_iter().map(|d| d.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(ids, vec!["a#1", "a#2", "a#3"]);
    let all = b.docs.list_docs("kind1", "", 100, None).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert!(all.next.is_none());
    // An expired document reads as absent, is not listed, and may be created afresh.
    b.docs.put_doc("kind1", "a#2", &doc(20), Some(t0() + Duration::hours(1))).await.unwrap();
    assert_eq!(b.docs.get_doc("kind1", "a#2").await.unwrap(), Some(doc(20)));
    b.clock.set(t0() + Duration::hours(2));
    assert_eq!(b.docs.get_doc("kind1", "a#2").await.unwrap(), None);
    let listed = b.docs.list_docs("kind1", "a#", 10, None).await.unwrap();
    assert_eq!(listed.items.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), vec!["a#1", "a#3"]);
    b.docs.swap_doc("kind1", "a#2", None, &doc(21), None, &[]).await.unwrap();
    assert_eq!(b.docs.get_doc("kind1", "a#2").await.unwrap(), Some(doc(21)));
    b.docs.delete_doc("kind1", "a#2").await.unwrap();
    b.docs.delete_doc("kind1", "a#2").await.unwrap();
    assert_eq!(b.docs.get_doc("kind1", "a#2").await.unwrap(), None);
}

fn alert_event(n: i64) -> Event {
    Event::new(
        "watch",
        EventKind::AlertRaised { kind: AlertKind::Spike, data: [("n".to_string(), n.into())].into_iter().collect() },
        t0(),
    )
}

/// The `n` of the alert events in the outbox, oldest first.
async fn alerts_in_outbox(b: &Backend) -> Vec<i64> {
    let pending = b.outbox.pending_events(t0() + Duration::days(400), 100).await.unwrap();
    pending
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AlertRaised { data, .. } => data.get("n").and_then(|v| v.as_i64()),
            _ => None,
        })
        .collect()
}

async fn documents_swap_only_from_what_was_read(b: &Backend) {
    let first = serde_json::json!({"active": true, "peak": 12.5});
    b.docs.swap_doc("spike", "volume:all", None, &first, None, &[alert_event(1)]).await.unwrap();
    let twice = b.docs.swap_doc("spike", "volume:all", None, &first, None, &[alert_event(2)]).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "{twice}");
    let read = b.docs.get_doc("spike", "volume:all").await.unwrap().unwrap();
    let ended = serde_json::json!({"active": false, "peak": 12.5});
    b.docs.swap_doc("spike", "volume:all", Some(&read), &ended, None, &[alert_event(3)]).await.unwrap();
    let stale = b.docs.swap_doc("spike", "volume:all", Some(&read), &first, None, &[alert_event(4)]).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    assert_eq!(b.docs.get_doc("spike", "volume:all").await.unwrap(), Some(ended));
    assert_eq!(alerts_in_outbox(b).await, vec![1, 3], "events are written only with a swap that happened");
}

fn alert_record(id: &str, at: DateTime<Utc>, key: &str) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        kind: AlertKind::InfluentialHater,
        raised_at: at,
        title: "Hater berpengaruh".into(),
        body: "…".into(),
        data: [("key".to_string(), key.into())].into_iter().collect(),
        delivered: vec![],
        failed: vec![],
    }
}

async fn alert_log_keeps_each_month_apart_and_pages(b: &Backend) {
    let log: &dyn DocumentStore = b.docs.as_ref();
    let nov = t0();
    let dec = Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap();
    for i in 0..5 {
        AlertLog::save_alert(log, &alert_record(&format!("n{i}"), nov, "x:1")).await.unwrap();
    }
    let mut later = alert_record("d1", dec, "x:2");
    AlertLog::save_alert(log, &later).await.unwrap();
    later.delivered.push("telegram".into());
    AlertLog::save_alert(log, &later).await.unwrap();
    assert_eq!(log.alert("d1", dec).await.unwrap().unwrap().delivered, vec!["telegram"], "saving updates");
    assert!(log.alert("d1", nov).await.unwrap().is_none(), "kept under the month it was raised");
    let month = |d: DateTime<Utc>| pantau::time::wib_date(d).with_day(1).unwrap();
    let first = log.alerts_of_month(month(nov), 3, None).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let rest = log.alerts_of_month(month(nov), 3, first.next.as_ref()).await.unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next.is_none());
    assert_eq!(log.alerts_of_month(month(dec), 10, None).await.unwrap().items.len(), 1);
    log.delete_alert(&later).await.unwrap();
    assert!(log.alert("d1", dec).await.unwrap().is_none());
    // Kept two years, then gone.
    b.clock.set(nov + Duration::days(pantau::stores::alerts::RETENTION_DAYS + 1));
    assert!(log.alert("n0", nov).await.unwrap().is_none());
}

fn answer(id: &str, title: &str) -> Answer {
    Answer {
        id: id.into(),
        title: title.into(),
        text: "Terima kasih, laporan diteruskan ke Dinas PU Bina Marga.".into(),
        link: None,
        topics: vec!["infrastruktur_jalan".into()],
        categories: vec![Category::Pengaduan],
        variants: BTreeMap::new(),
        updated_at: t0(),
        updated_by: "op".into(),
    }
}

async fn answers_are_added_and_replaced_conditionally(b: &Backend) {
    let lib: &dyn DocumentStore = b.docs.as_ref();
    lib.add_answer(&answer("a2", "Zebra")).await.unwrap();
    lib.add_answer(&answer("a1", "Alpha")).await.unwrap();
    let again = lib.add_answer(&answer("a1", "Other")).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict { .. }), "ids are created once: {again}");
    let titles: Vec<String> = lib.answers().await.unwrap().into_iter().map(|a| a.title).collect();
    assert_eq!(titles, vec!["Alpha", "Zebra"], "sorted by title");
    let read = lib.answer("a1").await.unwrap().unwrap();
    let edited = Answer { text: "Baru".into(), ..read.clone() };
    lib.replace_answer(&read, &edited).await.unwrap();
    let stale = lib.replace_answer(&read, &Answer { text: "Lain".into(), ..read.clone() }).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "a replaced answer is not overwritten from an old read");
    assert_eq!(lib.answer("a1").await.unwrap().unwrap().text, "Baru");
    assert!(lib.answer(&"z".repeat(300)).await.unwrap().is_none(), "ids that cannot exist are absent");
    lib.delete_answer("a1").await.unwrap();
    assert!(lib.answer("a1").await.unwrap().is_none());
}

fn known(platform: Platform, author_id: &str, kind: AccountKind, influence: Influence) -> KnownAccount {
    KnownAccount {
        platform,
        author_id: author_id.into(),
        kind,
        influence,
        name: format!("Akun {author_id}"),
        notes: Some("Sering mengkritik program jalan".into()),
        updated_at: t0(),
        updated_by: "op".into(),
        revision: 0,
    }
}

async fn known_accounts_are_kept_paged_and_held_per_process(b: &Backend) {
    let registry = b.accounts.as_ref();
    let critic = known(Platform::Facebook, "100012345678901", AccountKind::Pengkritik, Influence::Besar);
    registry.add_known_account(&critic).await.unwrap();
    let twice = registry.add_known_account(&KnownAccount { name: "Lain".into(), ..critic.clone() }).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "an account is created once: {twice}");
    registry
        .add_known_account(&known(Platform::X, "783214", AccountKind::Media, Influence::SangatBesar))
        .await
        .unwrap();
    registry.add_known_account(&known(Platform::Facebook, "2", AccountKind::Media, Influence::Menengah)).await.unwrap();
    registry
        .add_known_account(&known(Platform::Instagram, "kompas", AccountKind::Media, Influence::Besar))
        .await
        .unwrap();
    let ids = |items: &[KnownAccount]| items.iter().map(KnownAccount::id).collect::<Vec<_>>();
    let all = registry.all_known_accounts().await.unwrap();
    assert_eq!(ids(&all), ["facebook:100012345678901", "facebook:2", "instagram:kompas", "x:783214"], "by id");
    let first = registry.known_accounts_page(Some(Platform::Facebook), 1, None).await.unwrap();
    let second = registry.known_accounts_page(Some(Platform::Facebook), 1, first.next.as_ref()).await.unwrap();
    assert_eq!(
        (ids(&first.items), ids(&second.items)),
        (vec!["facebook:100012345678901".to_string()], vec!["facebook:2".to_string()])
    );
    assert!(second.next.is_none(), "a platform's accounts are a prefix of their ids");
    assert_eq!(registry.known_accounts_page(None, 10, None).await.unwrap().items.len(), 4);

    let read = registry.known_account(Platform::Facebook, "100012345678901").await.unwrap().unwrap();
    assert_eq!(read, critic);
    let raised = KnownAccount { influence: Influence::SangatBesar, revision: 1, ..read.clone() };
    registry.replace_known_account(&read, &raised).await.unwrap();
    let stale = registry.replace_known_account(&read, &KnownAccount { revision: 1, ..read.clone() }).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "a changed account is not overwritten from an old read");
    assert!(registry.known_account(Platform::X, "100012345678901").await.unwrap().is_none(), "ids are per platform");
    assert!(registry.known_account(Platform::Facebook, "a b").await.unwrap().is_none(), "ids that cannot exist");
    assert!(registry.known_account(Platform::Facebook, &"9".repeat(300)).await.unwrap().is_none());

    // Classification's copy: read whole, then held for its age.
    let author = |id: Option<&str>| Author { id: id.map(str::to_string), handle: None, name: None, followers: None };
    let held = KnownAccountsCache::new(b.accounts.clone(), std::time::Duration::from_secs(3600));
    let fresh = KnownAccountsCache::new(b.accounts.clone(), std::time::Duration::ZERO);
    let tier = |found: Option<KnownAccount>| found.map(|a| a.influence);
    let critic_author = author(Some("100012345678901"));
    assert_eq!(tier(held.find(Platform::Facebook, &critic_author).await.unwrap()), Some(Influence::SangatBesar));
    assert_eq!(held.find(Platform::Instagram, &critic_author).await.unwrap(), None);
    assert_eq!(held.find(Platform::Facebook, &author(None)).await.unwrap(), None, "an author without an id is no one");
    registry.delete_known_account(Platform::Facebook, "100012345678901").await.unwrap();
    assert!(registry.known_account(Platform::Facebook, "100012345678901").await.unwrap().is_none());
    assert_eq!(
        tier(held.find(Platform::Facebook, &critic_author).await.unwrap()),
        Some(Influence::SangatBesar),
        "held"
    );
    assert_eq!(fresh.find(Platform::Facebook, &critic_author).await.unwrap(), None, "read again once it is old");
    assert_eq!(tier(fresh.find(Platform::X, &author(Some("783214"))).await.unwrap()), Some(Influence::SangatBesar));
}

async fn poll_cursors_round_trip(b: &Backend) {
    let cursors: &dyn DocumentStore = b.docs.as_ref();
    assert_eq!(cursors.cursor("x-mentions").await.unwrap(), PollCursor::default(), "a new source starts fresh");
    let cursor = PollCursor { since_id: Some("1890".into()), etag: Some("\"abc\"".into()), ..Default::default() };
    cursors.save_cursor("x-mentions", &cursor).await.unwrap();
    assert_eq!(cursors.cursor("x-mentions").await.unwrap(), cursor);
    assert_eq!(cursors.cursor("https://news.example/rss").await.unwrap(), PollCursor::default());
}

async fn spike_episodes_alert_once_per_episode(b: &Backend) {
    let episodes: &dyn DocumentStore = b.docs.as_ref();
    let start = Episode { active: true, since: t0(), peak: 60.0, threshold: 50.0 };
    episodes.swap_episode("volume:all", None, &start, &[alert_event(1)]).await.unwrap();
    let twice = episodes.swap_episode("volume:all", None, &start, &[alert_event(2)]).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "a second run cannot start the same episode");
    let other = Episode { active: true, since: t0(), peak: 0.7, threshold: 0.6 };
    episodes.swap_episode("negative:all", None, &other, &[]).await.unwrap();
    let mut active: Vec<String> = episodes.active_episodes().await.unwrap().into_iter().map(|(id, _)| id).collect();
    active.sort();
    assert_eq!(active, vec!["negative:all", "volume:all"]);
    let ended = Episode { active: false, ..start.clone() };
    episodes.swap_episode("volume:all", Some(&start), &ended, &[alert_event(3)]).await.unwrap();
    assert_eq!(episodes.active_episodes().await.unwrap().len(), 1);
    assert_eq!(episodes.episode("volume:all").await.unwrap(), Some(ended));
    assert_eq!(alerts_in_outbox(b).await, vec![1, 3]);
    // An ended episode is forgotten after 90 days.
    b.clock.set(t0() + Duration::days(91));
    assert_eq!(episodes.episode("volume:all").await.unwrap(), None);
    assert!(episodes.episode("negative:all").await.unwrap().is_some(), "an active one stays");
}

async fn feedback_pages_by_mention(b: &Backend) {
    let store: &dyn DocumentStore = b.docs.as_ref();
    for i in 0..5 {
        let f = Feedback {
            key: format!("x:{i}"),
            text: "jalan rusak".into(),
            category: Category::Pengaduan,
            sentiment: Sentiment::Negatif,
            by: "op".into(),
            at: t0(),
        };
        store.save_feedback(&f).await.unwrap();
    }
    let first = store.feedback_page(2, None).await.unwrap();
    let second = store.feedback_page(2, first.next.as_ref()).await.unwrap();
    let third = store.feedback_page(2, second.next.as_ref()).await.unwrap();
    let keys: Vec<String> = [first.items, second.items, third.items].concat().into_iter().map(|f| f.key).collect();
    assert_eq!(keys, vec!["x:0", "x:1", "x:2", "x:3", "x:4"]);
    assert!(third.next.is_none());
    store.delete_feedback("x:3").await.unwrap();
    assert!(store.feedback("x:3").await.unwrap().is_none());
    assert_eq!(store.feedback("x:4").await.unwrap().unwrap().category, Category::Pengaduan);
}

async fn lookups_are_queued_once_and_dropped(b: &Backend) {
    let queue: &dyn DocumentStore = b.docs.as_ref();
    let lookup = Lookup::InstagramComment { media_id: "m1".into(), comment_id: "c1".into() };
    queue.queue_lookup(&lookup, t0()).await.unwrap();
    queue.queue_lookup(&lookup, t0()).await.unwrap();
    queue.queue_lookup(&Lookup::FacebookPost { post_id: "p1".into() }, t0()).await.unwrap();
    let queued = queue.queued_lookups(10).await.unwrap();
    assert_eq!(queued.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), vec!["facebook:p1", "instagram:c1"]);
    assert_eq!(queued[1].lookup, lookup);
    queue.drop_lookup("instagram:c1").await.unwrap();
    assert_eq!(queue.queued_lookups(10).await.unwrap().len(), 1);
    b.clock.set(t0() + Duration::days(31));
    assert!(queue.queued_lookups(10).await.unwrap().is_empty(), "a lookup nobody resolves expires");
}

async fn markers_mark_once(b: &Backend) {
    let markers: &dyn DocumentStore = b.docs.as_ref();
    let record = serde_json::json!({"missing_year": 2028});
    assert!(markers.mark_once(Marker::CalendarWarning, "2028", &record, t0(), &[alert_event(1)]).await.unwrap());
    assert!(!markers.mark_once(Marker::CalendarWarning, "2028", &record, t0(), &[alert_event(2)]).await.unwrap());
    assert!(markers.mark_once(Marker::SlaDigest, "2028", &record, t0(), &[alert_event(3)]).await.unwrap());
    assert_eq!(alerts_in_outbox(b).await, vec![1, 3], "each marker's event once");
}

fn reply(id: &str, at: DateTime<Utc>) -> CaseReply {
    CaseReply {
        id: id.into(),
        at,
        by: "akun resmi".into(),
        text: "Terima kasih, sudah kami teruskan.".into(),
        url: None,
        answer_id: None,
        source: ReplySource::Platform,
    }
}

async fn held_replies_belong_to_their_mention_and_expire(b: &Backend) {
    let pending: &dyn DocumentStore = b.docs.as_ref();
    pending.hold_reply("x:12", &reply("x:901", t0() + Duration::minutes(5))).await.unwrap();
    pending.hold_reply("x:12", &reply("x:900", t0())).await.unwrap();
    pending.hold_reply("x:123", &reply("x:902", t0())).await.unwrap();
    let held: Vec<String> = pending.replies_for("x:12").await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(held, vec!["x:900", "x:901"], "oldest first, and not those of x:123");
    pending.release_reply("x:12", "x:900").await.unwrap();
    assert_eq!(pending.replies_for("x:12").await.unwrap().len(), 1);
    b.clock.set(t0() + Duration::days(pantau::stores::pending_replies::WAIT_DAYS + 1));
    assert!(pending.replies_for("x:123").await.unwrap().is_empty(), "a reply waits 14 days at most");
}

async fn settings_default_until_replaced(b: &Backend) {
    let settings: &dyn DocumentStore = b.docs.as_ref();
    assert!(settings.stored_taxonomy().await.unwrap().is_none());
    assert_eq!(settings.taxonomy().await.unwrap(), pantau::classify::Taxonomy::builtin());
    assert_eq!(settings.sla_policy().await.unwrap(), SlaPolicy::default());
    let shipped = settings.calendar_doc().await.unwrap();
    assert!(shipped.years.contains(&2026));
    let policy = SlaPolicy { triage_working_days: 2, ..SlaPolicy::default() };
    settings.save_sla_policy(&policy).await.unwrap();
    assert_eq!(settings.sla_policy().await.unwrap(), policy);
    let mut calendar = shipped.clone();
    calendar.days.truncate(3);
    settings.save_calendar(&calendar).await.unwrap();
    assert_eq!(settings.calendar_doc().await.unwrap(), calendar);
}

async fn writes_beyond_one_transaction_are_refused(b: &Backend) {
    let m = mention(Platform::X, "big", t0(), "a");
    let events: Vec<Event> = (0..100).map(alert_event).collect();
    let err = b.mentions.insert_mention(&m, &events).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("100-item"), "{err}");
    assert!(b.mentions.get_mention(&m.key).await.unwrap().is_none(), "nothing was written");
    b.mentions.insert_mention(&m, &events[..99]).await.unwrap();
    let day = pantau::time::wib_date(m.created_at);
    let counts: Vec<CountDelta> = (0..100).map(|i| CountDelta { day, key: format!("k{i}"), delta: 1 }).collect();
    let mut next = m.clone();
    next.revision = 1;
    let err = b.mentions.replace_mention(&next, 0, &counts, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

async fn listings_beyond_366_days_are_refused(b: &Backend) {
    let err = b.mentions.list_mentions(&query(t0() - Duration::days(367), t0(), 10)).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    b.mentions.list_mentions(&query(t0() - Duration::days(366), t0(), 10)).await.unwrap();
    let day = pantau::time::wib_date(t0());
    let err = b.counters.counts(day - Duration::days(366), day).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    b.counters.counts(day - Duration::days(365), day).await.unwrap();
}

async fn authors_without_an_id_are_never_pooled(b: &Backend) {
    for i in 0..2 {
        let mut m = mention(Platform::Facebook, &format!("anon{i}"), t0() + Duration::minutes(i), "x");
        m.author.id = None;
        b.mentions.insert_mention(&m, &[]).await.unwrap();
        assert_eq!(m.author_key(), None);
    }
    let named = mention(Platform::Facebook, "named", t0(), "u7");
    b.mentions.insert_mention(&named, &[]).await.unwrap();
    for probe in ["facebook#", "facebook#unknown", "facebook#null"] {
        assert!(b.mentions.mentions_by_author(probe, 10, None).await.unwrap().items.is_empty(), "{probe}");
    }
    let by_u7 = eventually(
        || b.mentions.mentions_by_author("facebook#u7", 10, None),
        |p| p.as_ref().is_ok_and(|p| p.items.len() == 1),
    )
    .await
    .unwrap();
    assert_eq!(by_u7.items[0].key.to_string(), "facebook:named");
}

async fn published_events_leave_the_outbox(b: &Backend) {
    let mut events = Vec::new();
    // More than one DynamoDB batch (25) of deletes.
    for i in 0..30 {
        let m = mention(Platform::Api, &format!("e{i:02}"), t0() + Duration::seconds(i), "z");
        let event = Event::new(
            "ingest-webhook",
            EventKind::MentionReceived { key: m.key.clone() },
            t0() + Duration::seconds(i),
        );
        b.mentions.insert_mention(&m, std::slice::from_ref(&event)).await.unwrap();
        events.push(event);
    }
    let early = b.outbox.pending_events(t0() + Duration::seconds(9), 100).await.unwrap();
    assert!(
        early.len() <= 10 && early.iter().all(|e| e.created_at <= t0() + Duration::seconds(9)),
        "created_before is honoured"
    );
    let all = eventually(
        || b.outbox.pending_events(t0() + Duration::days(1), 100),
        |p| p.as_ref().is_ok_and(|p| p.len() == 30),
    )
    .await
    .unwrap();
    assert_eq!(
        all.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        events.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        "oldest first"
    );
    let ids: Vec<String> = events[..27].iter().map(|e| e.id.clone()).collect();
    b.outbox.mark_published(&ids).await.unwrap();
    let left = eventually(
        || b.outbox.pending_events(t0() + Duration::days(1), 100),
        |p| p.as_ref().is_ok_and(|p| p.len() == 3),
    )
    .await
    .unwrap();
    assert_eq!(
        left.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        events[27..].iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
}

async fn listing_filters_by_case_status_language_and_influence(b: &Backend) {
    let small = complaint("s1", t0(), 10);
    let big = complaint("b1", t0() + Duration::minutes(1), 50_000);
    let mut english = complaint("e1", t0() + Duration::minutes(2), 10);
    if let Some(c) = english.classification.as_mut() {
        c.language = Language::English;
    }
    let no_case = complaint("n1", t0() + Duration::minutes(3), 10);
    for m in [&small, &big, &english, &no_case] {
        b.mentions.insert_mention(m, &[]).await.unwrap();
    }
    for m in [&small, &big, &english] {
        b.cases.create_case(&case_of(m), &[]).await.unwrap();
    }
    let verified = step(&case_of(&big), CaseStatus::Diverifikasi);
    b.cases.update_case(&verified, 0, &[]).await.unwrap();
    let base = query(t0() - Duration::hours(1), t0() + Duration::hours(1), 1);
    let keys = |q: MentionQuery| async move { eventually(|| list_all(b, q.clone()), |_| true).await };
    let baru = eventually(
        || list_all(b, MentionQuery { case_status: Some(CaseStatus::Baru), ..base.clone() }),
        |k| k.len() == 2,
    )
    .await;
    assert_eq!(baru, vec!["whatsapp:e1", "whatsapp:s1"], "newest first, one per page, across pages");
    assert_eq!(
        keys(MentionQuery { case_status: Some(CaseStatus::Diverifikasi), ..base.clone() }).await,
        vec!["whatsapp:b1"]
    );
    assert_eq!(
        keys(MentionQuery { case_status: Some(CaseStatus::Baru), language: Some(Language::English), ..base.clone() })
            .await,
        vec!["whatsapp:e1"],
        "other filters apply with the case status"
    );
    assert_eq!(keys(MentionQuery { influence: Some(Influence::Besar), ..base.clone() }).await, vec!["whatsapp:b1"]);
    assert_eq!(
        keys(MentionQuery { language: Some(Language::Indonesian), ..base.clone() }).await,
        vec!["whatsapp:n1", "whatsapp:b1", "whatsapp:s1"]
    );
    assert!(keys(MentionQuery { case_status: Some(CaseStatus::Selesai), ..base }).await.is_empty());
}

async fn cases_are_read_in_batches_and_erased(b: &Backend) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let c = case_of(&complaint(&format!("g{i}"), t0() + Duration::minutes(i), 10));
        b.cases.create_case(&c, &[]).await.unwrap();
        ids.push(c.id);
    }
    let mut asked = ids.clone();
    asked.push("whatsapp:absent".into());
    asked.push(ids[0].clone());
    let mut found: Vec<String> = b.cases.get_cases(&asked).await.unwrap().into_iter().map(|c| c.id).collect();
    found.sort();
    found.dedup();
    assert_eq!(found, ids, "absent ids are left out");
    b.cases.delete_case(&ids[1]).await.unwrap();
    b.cases.delete_case(&ids[1]).await.unwrap();
    assert!(b.cases.get_case(&ids[1]).await.unwrap().is_none());
    assert_eq!(b.cases.get_cases(&ids).await.unwrap().len(), 4);
}

async fn mentions_are_erased_with_their_counts(b: &Backend) {
    let m = complaint("d1", t0(), 10);
    b.mentions.insert_mention(&m, &[]).await.unwrap();
    let day = pantau::time::wib_date(m.created_at);
    let count = |delta| vec![CountDelta { day, key: "category#pengaduan".into(), delta }];
    let mut counted = m.clone();
    counted.revision = 1;
    b.mentions.replace_mention(&counted, 0, &count(1), &[]).await.unwrap();
    let stale = b.mentions.delete_mention(&m.key, 0, &count(-1), &[]).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    b.mentions.delete_mention(&m.key, 1, &count(-1), &[]).await.unwrap();
    assert!(b.mentions.get_mention(&m.key).await.unwrap().is_none());
    let n: i64 =
        b.counters.counts(day, day).await.unwrap().iter().filter(|c| c.key == "category#pengaduan").map(|c| c.n).sum();
    assert_eq!(n, 0, "the count left with the mention");
    let again = b.mentions.delete_mention(&m.key, 1, &[], &[]).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict { .. }), "already gone: {again}");
}

/// The single-server store deletes what is past retention (DynamoDB's TTL does it on AWS).
#[tokio::test]
async fn sqlite_purges_mentions_past_retention() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SettableClock::new(t0());
    let store = SqliteStore::open(&dir.path().join("p.db"), clock.clone(), RETENTION_DAYS).unwrap();
    let old = mention(Platform::Telegram, "-100.1", t0(), "a1");
    store.insert_mention(&old, &[]).await.unwrap();
    clock.set(t0() + Duration::days(i64::from(RETENTION_DAYS) - 1));
    let fresh = mention(Platform::Telegram, "-100.2", t0() + Duration::days(i64::from(RETENTION_DAYS) - 1), "a1");
    store.insert_mention(&fresh, &[]).await.unwrap();
    assert_eq!(store.purge_expired().await.unwrap(), 0, "nothing past retention yet");
    clock.set(t0() + Duration::days(i64::from(RETENTION_DAYS) + 1));
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    assert_eq!(store.purge_expired().await.unwrap(), 0);
    assert!(store.get_mention(&fresh.key).await.unwrap().is_some());
}
