//! One contract suite per store port, run against both adapters: SQLite in a temp file and
//! DynamoDB on moto (tables made from `infra/template.yaml`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use pantau::adapters::dynamodb::DynamoStore;
use pantau::adapters::sqlite::SqliteStore;
use pantau::classify::triage::{TriageSettings, triage};
use pantau::domain::{
    Author, Case, CaseStatus, CaseTransition, Category, Classification, Event, EventKind, Influence, Language, Mention,
    MentionKey, NewMention, Occurrence, OccurrenceState, Platform, ReportMeta, ReportPeriod, Scores, Sentiment,
};
use pantau::error::StoreError;
use pantau::ports::{
    CaseStore, ConfigStore, CountDelta, CounterStore, Inserted, MentionQuery, MentionStore, OccurrenceStore, Outbox,
    ReportStore,
};
use pantau::sla::{Calendar, SlaPolicy};
use pantau_tests::{SettableClock, create_tables, eventually, moto, sdk_config};

const RETENTION_DAYS: u32 = 30;

struct Backend {
    mentions: Arc<dyn MentionStore>,
    cases: Arc<dyn CaseStore>,
    occurrences: Arc<dyn OccurrenceStore>,
    reports: Arc<dyn ReportStore>,
    config: Arc<dyn ConfigStore>,
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
    S: MentionStore + CaseStore + OccurrenceStore + ReportStore + ConfigStore + Outbox + CounterStore + 'static,
{
    Backend {
        mentions: store.clone(),
        cases: store.clone(),
        occurrences: store.clone(),
        reports: store.clone(),
        config: store.clone(),
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
    expired_mentions_are_absent,
    listing_pages_newest_first_without_gaps_or_repeats,
    listing_respects_the_time_range_and_wib_days,
    listing_filters_by_labels_and_topic,
    mentions_by_author_newest_first,
    cases_are_created_once_and_moved_conditionally,
    open_cases_come_earliest_due_first,
    occurrences_are_due_once_and_claimed_once,
    reports_replace_the_same_period,
    config_documents_round_trip,
    published_events_leave_the_outbox,
    listing_filters_by_case_status_language_and_influence,
    cases_are_read_in_batches_and_erased,
    mentions_are_erased_with_their_counts,
    config_documents_swap_only_from_what_was_read,
);

fn mention(platform: Platform, id: &str, at: DateTime<Utc>, author: &str) -> Mention {
    let by = Author { id: author.into(), handle: Some(format!("h_{author}")), name: None, followers: Some(1200) };
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
        Event::new("classify", EventKind::AlertRaised { kind: "case_opened".into(), data: Default::default() }, t0());
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
        post_id: "post1".into(),
        platform: Platform::X,
        due_at: due,
        state,
        platform_post_id: None,
        updated_at: t0(),
    }
}

async fn occurrences_are_due_once_and_claimed_once(b: &Backend) {
    let now = t0();
    for (id, minutes, state) in [
        ("o1", -5, OccurrenceState::Scheduled),
        ("o2", 0, OccurrenceState::Scheduled),
        ("o3", 5, OccurrenceState::Scheduled),
        ("o4", -9, OccurrenceState::Approved),
    ] {
        assert_eq!(
            b.occurrences.put_occurrence(&occurrence(id, now + Duration::minutes(minutes), state)).await.unwrap(),
            Inserted::New
        );
    }
    assert_eq!(
        b.occurrences.put_occurrence(&occurrence("o1", now, OccurrenceState::Draft)).await.unwrap(),
        Inserted::Duplicate
    );
    let due = eventually(|| b.occurrences.due_occurrences(now, 10), |d| d.as_ref().is_ok_and(|d| d.len() == 2))
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        vec!["o1", "o2"],
        "due at or before now, earliest first"
    );
    let mut claimed = due[0].clone();
    claimed.state = OccurrenceState::Publishing;
    b.occurrences.move_occurrence(&claimed, OccurrenceState::Scheduled, &[]).await.unwrap();
    // A second publisher that read the same due list must not claim it again.
    let err = b.occurrences.move_occurrence(&claimed, OccurrenceState::Scheduled, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let due = eventually(|| b.occurrences.due_occurrences(now, 10), |d| d.as_ref().is_ok_and(|d| d.len() == 1))
        .await
        .unwrap();
    assert_eq!(due[0].id, "o2");
    let stored = b.occurrences.get_occurrence("post1", "o1").await.unwrap().unwrap();
    assert_eq!(stored.state, OccurrenceState::Publishing);
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
}

async fn config_documents_round_trip(b: &Backend) {
    let taxonomy =
        serde_json::json!({"id": "jalan", "keywords": ["jalan rusak", "lubang"], "hashtags": ["#JalanJatim"]});
    b.config.put_config("taxonomy", "jalan", &taxonomy).await.unwrap();
    b.config.put_config("taxonomy", "banjir", &serde_json::json!({"id": "banjir"})).await.unwrap();
    b.config.put_config("holiday", "2026-12-25", &serde_json::json!({"name": "Natal"})).await.unwrap();
    assert_eq!(b.config.get_config("taxonomy", "jalan").await.unwrap(), Some(taxonomy));
    assert_eq!(b.config.get_config("taxonomy", "pajak").await.unwrap(), None);
    let listed: BTreeMap<String, serde_json::Value> =
        b.config.list_config("taxonomy").await.unwrap().into_iter().collect();
    assert_eq!(listed.keys().collect::<Vec<_>>(), vec!["banjir", "jalan"]);
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

async fn config_documents_swap_only_from_what_was_read(b: &Backend) {
    let alert = |n: i64| {
        Event::new(
            "watch",
            EventKind::AlertRaised { kind: "spike".into(), data: [("n".to_string(), n.into())].into_iter().collect() },
            t0(),
        )
    };
    let first = serde_json::json!({"active": true, "peak": 12.5});
    b.config.swap_config("spike", "volume:all", None, &first, &[alert(1)]).await.unwrap();
    let twice = b.config.swap_config("spike", "volume:all", None, &first, &[alert(2)]).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "{twice}");
    let read = b.config.get_config("spike", "volume:all").await.unwrap().unwrap();
    let ended = serde_json::json!({"active": false, "peak": 12.5});
    b.config.swap_config("spike", "volume:all", Some(&read), &ended, &[alert(3)]).await.unwrap();
    let stale = b.config.swap_config("spike", "volume:all", Some(&read), &first, &[alert(4)]).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    assert_eq!(b.config.get_config("spike", "volume:all").await.unwrap(), Some(ended));
    let pending = b.outbox.pending_events(t0() + Duration::days(1), 10).await.unwrap();
    let ns: Vec<i64> = pending
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AlertRaised { data, .. } => data.get("n").and_then(|v| v.as_i64()),
            _ => None,
        })
        .collect();
    assert_eq!(ns, vec![1, 3], "events are written only with a swap that happened");
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
