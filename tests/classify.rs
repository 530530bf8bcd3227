//! The `classify` function end to end on the embedded store: classification, triage, counters,
//! events — once per text and model, however often the event is delivered.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use pantau::adapters::sqlite::SqliteStore;
use pantau::app::classification::{ClassifyOutcome, ClassifyService, LiveClassifier};
use pantau::classify::triage::TriageSettings;
use pantau::classify::{Classifier, DEFAULT_MODEL};
use pantau::domain::{Author, Category, Event, EventKind, Mention, MentionKey, NewMention, Platform};
use pantau::handlers::Trigger;
use pantau::handlers::classify::{handle, handle_batch};
use pantau::ports::{CaseStore, CounterStore, MentionReader, MentionWriter};
use pantau::stores::KnownAccountsCache;
use pantau_tests::{Announced, SettableClock};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 3, 0, 0).unwrap()
}

struct Setup {
    state: ClassifyService,
    store: Arc<SqliteStore>,
    announced: Arc<Announced>,
    _dir: tempfile::TempDir,
}

async fn setup(reactive: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clock = SettableClock::new(t0());
    let store = Arc::new(SqliteStore::open(&dir.path().join("c.db"), clock.clone(), 365).unwrap());
    let announced = Arc::new(Announced::default());
    let state = ClassifyService {
        mentions: store.clone(),
        cases: store.clone(),
        settings: store.clone(),
        pending: store.clone(),
        announce: announced.clone(),
        // Looks at the stored taxonomy on every message, so a test sees a change at once.
        classifier: Arc::new(LiveClassifier::load(DEFAULT_MODEL, store.clone(), Duration::ZERO).await.unwrap()),
        triage: TriageSettings { reactive_account: reactive, ..Default::default() },
        // Reads the registry on every message, so a test sees an edit at once.
        accounts: Arc::new(KnownAccountsCache::new(store.clone(), Duration::ZERO)),
        clock,
        source: "classify",
    };
    Setup { state, store, announced, _dir: dir }
}

async fn store(s: &Setup, id: &str, text: &str, followers: Option<u64>) -> MentionKey {
    let key = MentionKey::new(Platform::X, id).unwrap();
    let author = Author { id: Some(format!("a{id}")), handle: Some(format!("h{id}")), name: None, followers };
    let mention = Mention::received(NewMention::new(key.clone(), text, t0(), author), t0());
    s.store.insert_mention(&mention, &[]).await.unwrap();
    key
}

async fn classify(s: &Setup, key: &MentionKey) -> ClassifyOutcome {
    handle(&s.state, Trigger::Event(EventKind::MentionReceived { key: key.clone() })).await.unwrap()
}

async fn count(s: &Setup, key: &str) -> i64 {
    let day = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    s.store.counts(day, day).await.unwrap().into_iter().filter(|c| c.key == key).map(|c| c.n).sum()
}

#[tokio::test]
async fn a_redelivered_event_neither_classifies_nor_counts_twice() {
    let s = setup(false).await;
    let key = store(
        &s,
        "1",
        "Jalan provinsi di Tuban rusak parah, lubangnya dalam, sudah 3 bulan tidak diperbaiki. Tolong segera!",
        Some(40),
    )
    .await;
    let first = classify(&s, &key).await;
    assert!(
        matches!(first, ClassifyOutcome::Classified { category: Category::Pengaduan, changed_from: None, .. }),
        "{first:?}"
    );
    assert_eq!(classify(&s, &key).await, ClassifyOutcome::AlreadyClassified { key: key.to_string() });
    assert_eq!(count(&s, "total").await, 1);
    assert_eq!(count(&s, "category#pengaduan").await, 1);
    assert_eq!(count(&s, "platform#x").await, 1);
    let stored = s.store.get_mention(&key).await.unwrap().unwrap();
    let c = stored.classification.unwrap();
    assert!(
        !c.reasons.is_empty() && c.scores.category.len() == 6 && c.topics.contains(&"infrastruktur_jalan".to_string()),
        "{c:?}"
    );
    assert_eq!(stored.triage.unwrap().action, pantau::domain::Action::TanggapiSegera);
    let events = s.announced.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "one MentionClassified, no alert: {events:?}");
    assert!(matches!(&events[0].kind, EventKind::MentionClassified { category: Category::Pengaduan, .. }));
}

#[tokio::test]
async fn an_edit_is_reclassified_and_its_counts_move() {
    let s = setup(false).await;
    let key =
        store(&s, "2", "Terima kasih Bu Gubernur, jalan di desa kami sudah diperbaiki, mantap sekali 👍", Some(12))
            .await;
    classify(&s, &key).await;
    assert_eq!(count(&s, "category#apresiasi").await, 1);
    let current = s.store.get_mention(&key).await.unwrap().unwrap();
    let edited =
        current.edited("Kapan jadwal perbaikan jalan di Desa Sumberejo? Mohon infonya min", None, t0()).unwrap();
    s.store.replace_mention(&edited, current.revision, &[], &[]).await.unwrap();
    let again = classify(&s, &key).await;
    assert!(
        matches!(
            again,
            ClassifyOutcome::Classified {
                category: Category::PermintaanInformasi,
                changed_from: Some(Category::Apresiasi),
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(count(&s, "category#apresiasi").await, 0);
    assert_eq!(count(&s, "category#permintaan_informasi").await, 1);
    assert_eq!(count(&s, "total").await, 1, "moved, not counted twice");
}

#[tokio::test]
async fn an_influential_hater_raises_one_alert_and_is_answered_reactively() {
    let s = setup(true).await;
    let text = "Gubernur goblok, kerjanya cuma pencitraan, dasar pejabat tidak becus! Memalukan rakyat Jatim 🤡";
    let big = store(&s, "3", text, Some(250_000)).await;
    let small = store(&s, "4", text, Some(30)).await;
    classify(&s, &big).await;
    classify(&s, &small).await;
    classify(&s, &big).await;
    let alerts: Vec<Event> = s
        .announced
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::AlertRaised { .. }))
        .cloned()
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    match &alerts[0].kind {
        EventKind::AlertRaised { kind, data } => {
            assert_eq!(*kind, pantau::domain::AlertKind::InfluentialHater);
            assert_eq!(data["key"], big.to_string());
            assert_eq!(data["followers"], 250_000);
        }
        other => panic!("{other:?}"),
    }
    let triage = s.store.get_mention(&big).await.unwrap().unwrap().triage.unwrap();
    assert_eq!((triage.account, triage.priority), (pantau::domain::Account::Reaktif, pantau::domain::Priority::P1));
    let monitored = s.store.get_mention(&small).await.unwrap().unwrap().triage.unwrap();
    assert_eq!(monitored.action, pantau::domain::Action::Pantau);
}

#[tokio::test]
async fn deleted_or_missing_mentions_are_skipped() {
    let s = setup(false).await;
    let missing = MentionKey::new(Platform::X, "404").unwrap();
    assert!(matches!(classify(&s, &missing).await, ClassifyOutcome::Skipped { .. }));
    let key = store(&s, "5", "Halo", None).await;
    let current = s.store.get_mention(&key).await.unwrap().unwrap();
    s.store.replace_mention(&current.deleted(t0()).unwrap(), 0, &[], &[]).await.unwrap();
    assert!(matches!(classify(&s, &key).await, ClassifyOutcome::Skipped { .. }));
    assert_eq!(count(&s, "total").await, 0);
}

#[test]
fn bad_models_are_refused_with_a_message() {
    let err = Classifier::load(b"not a model").unwrap_err();
    assert!(!err.to_string().is_empty());
    let truncated = &DEFAULT_MODEL[..DEFAULT_MODEL.len() / 2];
    assert!(Classifier::load(truncated).is_err());
}

/// The committed default model is what `pantau train` builds from the repository's files.
/// Training takes seconds in release and minutes in debug: `tests/run` runs it in release.
#[test]
#[ignore = "trains the default model; run in release (tests/run does)"]
fn the_default_model_is_reproduced_bit_for_bit() {
    let data = pantau::classify::data::DefaultData::new(&pantau_tests::repo());
    let trained = pantau::classify::data::train_default(&data, &mut |_| {}).unwrap();
    let committed = Classifier::load(DEFAULT_MODEL).unwrap();
    assert_eq!(trained.version(), committed.version());
    assert!(trained.to_bytes() == DEFAULT_MODEL, "retrained model differs from shared/models/default.bin");
}

#[test]
fn a_concrete_problem_asked_to_be_fixed_is_a_complaint_not_an_aspiration() {
    let clf = Classifier::load(DEFAULT_MODEL).unwrap();
    let out = clf.classify("Jalan provinsi di Gresik rusak parah, tolong segera diperbaiki!");
    assert_eq!(out.category, Category::Pengaduan, "{:?}", out.reasons);
    // The reasons name the problem: the precedence rule's, or the complaint keywords.
    assert!(out.reasons.iter().any(|r| r.contains("masalah nyata") || r.contains("'rusak'")), "{:?}", out.reasons);
    // A defect with a plea to fix it, which the model alone reads as a wish, is a complaint.
    let out = clf.classify("Lampu jalan di Kediri mati, mohon diperbaiki");
    assert_eq!(out.category, Category::Pengaduan, "{:?}", out.reasons);
    // An explicit proposal stays an aspiration.
    assert_eq!(
        clf.classify("Usul pak, jalan rusak di Tuban sebaiknya dibeton saja biar awet").category,
        Category::Aspirasi
    );
}

#[tokio::test]
async fn a_complaint_opens_one_case_and_a_correction_outlives_a_new_model() {
    let s = setup(false).await;
    let key =
        store(&s, "9", "Lampu PJU di Jalan Ahmad Yani Sidoarjo mati sudah seminggu, gelap dan rawan", Some(30)).await;
    classify(&s, &key).await;
    let case = s.store.get_case(&key.to_string()).await.unwrap().expect("a complaint opens a case");
    assert_eq!((case.status, case.category), (pantau::domain::CaseStatus::Baru, Category::Pengaduan));
    // A redelivered event does not open a second one (the id is the mention key).
    classify(&s, &key).await;
    assert_eq!(s.store.get_case(&key.to_string()).await.unwrap().unwrap().revision, case.revision);

    // An officer says it is an aspiration; then another model version classifies again.
    let current = s.store.get_mention(&key).await.unwrap().unwrap();
    let correction = pantau::domain::Correction {
        category: Category::Aspirasi,
        sentiment: pantau::domain::Sentiment::Netral,
        model_category: Some(Category::Pengaduan),
        model_sentiment: None,
        by: "operator-1".into(),
        at: t0(),
        note: None,
        text_revision: current.text_revision(),
    };
    let mut corrected = current.corrected(correction);
    if let Some(c) = corrected.classification.as_mut() {
        c.model = "an-older-model".into();
    }
    corrected.revision += 1;
    let moved = pantau::app::counting::count_changes(&current, &corrected);
    s.store.replace_mention(&corrected, current.revision, &moved, &[]).await.unwrap();
    assert!(matches!(classify(&s, &key).await, ClassifyOutcome::Classified { category: Category::Aspirasi, .. }));
    let stored = s.store.get_mention(&key).await.unwrap().unwrap();
    let labels = stored.classification.unwrap();
    assert_eq!((labels.category, labels.model.as_str()), (Category::Aspirasi, s.state.classifier.version().as_str()));
    assert_eq!(count(&s, "category#aspirasi").await, 1);
    assert_eq!(count(&s, "category#pengaduan").await, 0);
}

#[tokio::test]
async fn a_taxonomy_change_applies_without_a_restart_and_reclassify_re_topics_once() {
    use pantau::classify::{Topic, TopicKind};
    let s = setup(false).await;
    let text = "Kapan pendaftaran program Jatim Sehat Gratis dibuka? Mohon infonya min";
    let old = store(&s, "t1", text, Some(30)).await;
    classify(&s, &old).await;
    let topics = |m: &Mention| m.classification.as_ref().map(|c| c.topics.clone()).unwrap_or_default();
    let before = s.store.get_mention(&old).await.unwrap().unwrap();
    assert!(!topics(&before).contains(&"jatim_sehat".to_string()), "{:?}", topics(&before));

    let mut taxonomy = s.state.settings.taxonomy().await.unwrap();
    taxonomy.version += 1;
    taxonomy.topics.push(Topic {
        id: "jatim_sehat".into(),
        name: "Jatim Sehat Gratis".into(),
        kind: TopicKind::Program,
        keywords: vec!["jatim sehat".into()],
        hashtags: vec![],
    });
    s.state.settings.save_taxonomy(&taxonomy).await.unwrap();

    // A new message is topiced with the new taxonomy by the same running service.
    let new = store(&s, "t2", text, Some(30)).await;
    classify(&s, &new).await;
    let fresh = s.store.get_mention(&new).await.unwrap().unwrap();
    assert!(topics(&fresh).contains(&"jatim_sehat".to_string()), "{:?}", topics(&fresh));
    // The old one keeps its topics until deliberately reclassified: then once, and its count moves.
    assert_eq!(count(&s, "topic#jatim_sehat").await, 1);
    assert!(matches!(s.state.reclassify_once(&old).await.unwrap(), ClassifyOutcome::Classified { .. }));
    let after = s.store.get_mention(&old).await.unwrap().unwrap();
    assert!(topics(&after).contains(&"jatim_sehat".to_string()), "{:?}", topics(&after));
    assert_eq!(count(&s, "topic#jatim_sehat").await, 2);
    assert_eq!(count(&s, "total").await, 2, "moved, not counted again");
    assert_eq!(
        s.state.reclassify_once(&old).await.unwrap(),
        ClassifyOutcome::AlreadyClassified { key: old.to_string() }
    );
    assert_eq!(s.store.get_mention(&old).await.unwrap().unwrap().revision, after.revision, "nothing written twice");
}

#[tokio::test]
async fn a_batch_classifies_each_mention_once_and_adds_up_the_counters_it_shares() {
    let s = setup(false).await;
    let tuban =
        store(&s, "b1", "Jalan provinsi di Tuban rusak parah, sudah 3 bulan tidak diperbaiki. Tolong segera!", None)
            .await;
    let gresik =
        store(&s, "b2", "Jalan di Gresik berlubang besar, bahaya buat pengendara motor malam hari", None).await;
    let praise = store(&s, "b3", "Terima kasih Bu Gubernur, pelayanan Samsat cepat sekali 👍", None).await;
    let gone = MentionKey::new(Platform::X, "never_stored").unwrap();
    let event = |key: &MentionKey| Trigger::Event(EventKind::MentionReceived { key: key.clone() });
    // A queue delivery: three mentions, one of them twice (redelivered), one never stored, and
    // an event that is not for classify.
    let scheduled = Trigger::Schedule(pantau::schedule::ScheduleName::Relay);
    let triggers = vec![event(&tuban), event(&gresik), event(&tuban), event(&praise), event(&gone), scheduled];
    let results = handle_batch(&s.state, triggers.clone()).await;
    let outcomes: Vec<String> =
        results.iter().map(|r| r.as_ref().map(|o| format!("{o:?}")).unwrap_or_else(|e| format!("error {e}"))).collect();
    assert!(
        matches!(results[0], Ok(ClassifyOutcome::Classified { category: Category::Pengaduan, .. })),
        "{outcomes:?}"
    );
    assert!(matches!(results[1], Ok(ClassifyOutcome::Classified { .. })), "{outcomes:?}");
    assert_eq!(results[2].as_ref().ok(), Some(&ClassifyOutcome::AlreadyClassified { key: tuban.to_string() }));
    assert!(
        matches!(results[3], Ok(ClassifyOutcome::Classified { category: Category::Apresiasi, .. })),
        "{outcomes:?}"
    );
    assert_eq!(results[4].as_ref().ok(), Some(&ClassifyOutcome::Skipped { key: gone.to_string() }));
    assert!(results[5].as_ref().is_err_and(|e| !e.is_retryable()), "{outcomes:?}");
    assert_eq!(count(&s, "total").await, 3);
    assert_eq!(count(&s, "platform#x").await, 3);
    assert_eq!(count(&s, "category#pengaduan").await + count(&s, "category#apresiasi").await, 3);
    let events = s.announced.0.lock().unwrap().clone();
    let classified = events.iter().filter(|e| matches!(e.kind, EventKind::MentionClassified { .. })).count();
    assert_eq!(classified, 3, "one MentionClassified per mention: {events:?}");
    // The whole delivery again (the queue redelivers it): nothing more is stored or counted.
    let again = handle_batch(&s.state, triggers).await;
    assert!(again[..4].iter().all(|r| matches!(r, Ok(ClassifyOutcome::AlreadyClassified { .. }))), "{again:?}");
    assert_eq!(count(&s, "total").await, 3);
    assert_eq!(s.announced.0.lock().unwrap().len(), events.len());
}
