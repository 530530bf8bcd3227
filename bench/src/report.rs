//! Builds the database a monthly-report benchmark reads: N mentions spread over one WIB month
//! (and the month before, for the comparison), each stored and classified through the same path
//! as production (the real classifier moves the counters and opens the cases), with half of
//! the cases answered. The report is then timed with `pantau report` (bench/report.sh).

use std::sync::Arc;

use anyhow::Context;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use clap::Parser;
use pantau::adapters::sqlite::SqliteStore;
use pantau::app::cases::CaseDesk;
use pantau::app::classification::{ClassifyService, LiveClassifier, TAXONOMY_REFRESH};
use pantau::classify::DEFAULT_MODEL;
use pantau::domain::{Author, CaseReply, Mention, MentionKey, NewMention, Platform, ReplySource};
use pantau::ports::{Announce, CaseStore, MentionWriter};
use pantau::stores::KnownAccountsCache;
use pantau::time::SettableClock;

#[derive(Parser)]
struct Args {
    /// The SQLite database to fill (must not exist).
    #[arg(long)]
    db: std::path::PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    mentions: usize,
    /// The month reported (its first day); a fifth of the mentions fall in the month before.
    #[arg(long, default_value = "2026-11-01")]
    month: NaiveDate,
}

struct Quiet;

#[async_trait::async_trait]
impl Announce for Quiet {
    async fn announce(&self, _: &[pantau::domain::Event]) {}
}

/// Messages in the voices the office receives, with places to vary them.
const TEXTS: [&str; 16] = [
    "Jalan provinsi di {p} rusak parah, tolong segera diperbaiki #JalanRusak",
    "Kapan pendaftaran beasiswa Jatim Cerdas dibuka min? anak saya mau daftar",
    "Terima kasih Pemprov Jatim, pelayanan Samsat di {p} makin cepat 👍",
    "Banjir lagi di {p}, warga mengungsi, mohon bantuan #JatimTangguh",
    "Usul pak, tambah armada bus Trans Jatim ke {p} biar nggak desak-desakan",
    "wkwk macet parah di {p} pagi ini",
    "Harga beras di pasar {p} naik terus, tolong operasi pasar",
    "PPDB SMA tahun ini ribet, server sering down, gimana ini",
    "Dasar pejabat korup, kerjanya cuma pencitraan! #GubernurPencitraan",
    "Lampu PJU di jalan {p} mati sudah seminggu, rawan begal",
    "Bansos sembako bulan ini kapan cair ya? di {p} belum ada kabar",
    "Mantap, vaksinasi gratis di Puskesmas {p} lancar, petugasnya ramah",
    "Air PDAM di {p} mati tiga hari, tolong dicek",
    "Selamat pagi Jawa Timur, semangat beraktivitas",
    "Info lowongan kerja Disnaker Jatim dong min",
    "Pemprov lamban tangani sampah di {p}, bau sampai ke rumah warga",
];
const PLACES: [&str; 12] = [
    "Sidoarjo",
    "Gresik",
    "Lamongan",
    "Jember",
    "Malang",
    "Tuban",
    "Bojonegoro",
    "Kediri",
    "Blitar",
    "Madiun",
    "Ngawi",
    "Pasuruan",
];
const PLATFORMS: [Platform; 6] =
    [Platform::X, Platform::Facebook, Platform::Instagram, Platform::Whatsapp, Platform::Telegram, Platform::Youtube];

/// A cheap, repeatable pseudo-random number from an index.
fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(!args.db.exists(), "{} exists: the generator fills a new database", args.db.display());
    let first = args.month;
    let previous = first.checked_sub_months(chrono::Months::new(1)).context("month")?;
    let next = first.checked_add_months(chrono::Months::new(1)).context("month")?;
    let clock = SettableClock::new(Utc::now());
    let store = Arc::new(SqliteStore::open(&args.db, clock.clone(), 3650)?);
    let classifier = Arc::new(LiveClassifier::load(DEFAULT_MODEL, store.clone(), TAXONOMY_REFRESH).await?);
    let service = Arc::new(ClassifyService {
        mentions: store.clone(),
        cases: store.clone(),
        settings: store.clone(),
        pending: store.clone(),
        announce: Arc::new(Quiet),
        classifier,
        triage: Default::default(),
        accounts: Arc::new(KnownAccountsCache::new(store.clone(), pantau::stores::accounts::REFRESH)),
        clock: clock.clone(),
        source: "bench",
    });
    let start_prev = Utc.from_utc_datetime(&previous.and_hms_opt(0, 0, 0).context("time")?) - Duration::hours(7);
    let span_prev = (first - previous).num_seconds();
    let start = Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).context("time")?) - Duration::hours(7);
    let span = (next - first).num_seconds();
    let started = std::time::Instant::now();
    let mut failed = 0usize;
    for i in 0..args.mentions {
        if let Err(e) = one(&store, &service, &clock, i, (start_prev, span_prev), (start, span)).await {
            failed += 1;
            if failed < 5 {
                eprintln!("mention {i} failed: {e:#}");
            }
        }
        if (i + 1).is_multiple_of(50_000) {
            eprintln!("{} mentions ({:.0} s)", i + 1, started.elapsed().as_secs_f64());
        }
    }
    anyhow::ensure!(failed == 0, "{failed} mentions failed");
    eprintln!(
        "{} mentions over {} and {} in {:.0} s",
        args.mentions,
        previous.format("%Y-%m"),
        first.format("%Y-%m"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Stores and classifies mention `i` at its own time (so its case opens then), and answers
/// half of the cases within hours to days.
async fn one(
    store: &Arc<SqliteStore>,
    service: &ClassifyService,
    clock: &SettableClock,
    i: usize,
    (start_prev, span_prev): (chrono::DateTime<Utc>, i64),
    (start, span): (chrono::DateTime<Utc>, i64),
) -> anyhow::Result<()> {
    let r = mix(i as u64);
    let at = if r.is_multiple_of(5) {
        start_prev + Duration::seconds((r >> 8) as i64 % span_prev)
    } else {
        start + Duration::seconds((r >> 8) as i64 % span)
    };
    let platform = PLATFORMS[(r >> 40) as usize % PLATFORMS.len()];
    let text = TEXTS[(r >> 20) as usize % TEXTS.len()].replace("{p}", PLACES[(r >> 30) as usize % PLACES.len()]);
    let followers = match (r >> 50) % 100 {
        0 => 250_000,
        1..=3 => 25_000,
        4..=20 => 2_000,
        _ => 150,
    };
    let who = (r >> 12) % 200_000;
    let author = Author {
        id: Some(format!("u{who}")),
        handle: Some(format!("warga{who}")),
        name: None,
        followers: Some(followers),
    };
    let key = MentionKey::new(platform, format!("b{i}"))?;
    let received = at + Duration::seconds(5);
    clock.set(received);
    let mention = Mention::received(NewMention::new(key.clone(), text, at, author), received);
    store.insert_mention(&mention, &[]).await?;
    service.classify(&key).await?;
    if r.is_multiple_of(2)
        && let Some(case) = store.get_case(&key.to_string()).await?
    {
        let answered = case.opened_at + Duration::minutes(30 + (r >> 16) as i64 % (72 * 60));
        clock.set(answered);
        let reply = CaseReply {
            id: format!("r{i}"),
            at: answered,
            by: "bench".into(),
            text: "Terima kasih, laporan diteruskan ke dinas terkait.".into(),
            url: None,
            answer_id: None,
            source: ReplySource::Dicatat,
        };
        CaseDesk { cases: store.as_ref(), settings: store.as_ref(), pending: store.as_ref() }
            .record_reply(&key, reply)
            .await?;
    }
    Ok(())
}
