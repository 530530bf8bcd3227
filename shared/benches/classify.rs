//! Throughput of `classify()` on one core over a realistic mix of messages, and model load time
//! of the built-in default model. `cargo bench -p pantau-shared --bench classify`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pantau::classify::{Classifier, DEFAULT_MODEL};

/// A mix like the inbox: short comments, questions, Javanese, emoji, links, a few long posts.
pub const MESSAGES: &[&str] = &[
    "Jalan di depan rumah saya rusak parah, tolong segera diperbaiki pak 🙏",
    "Kapan pendaftaran PPDB jalur zonasi dibuka min?",
    "gubernur goblok kerjanya cuma pencitraan 😡😡",
    "Terima kasih Bu Gubernur, jalannya sudah mulus sekarang 👍👍",
    "Saran: perbanyak armada bus Trans Jatim ke Gresik, antrinya panjang banget",
    "anjir panas bgt hari ini",
    "@jatimpemprov https://t.co/abc123 cek ini",
    "Suwun Bu Gub programe, wong cilik koyok aku iso nduwe usaha warung 🥰",
    "sapi ku sakit, rak gelem mangan wis rong dino 😢",
    "mohon info syarat pemutihan pajak motor yg mati 3 tahun",
    "#JatimBangkit #JatimCerdas mantappp",
    "Lampu PJU di Jl. Raya Jetis Mojokerto padam sejak Selasa, mohon ditindaklanjuti",
    "LAMONGAN – Seorang pengendara motor meninggal dunia setelah terjatuh menghindari lubang di Jalan Raya Deket, Senin (12/2) malam. Warga menyebut lubang itu sudah ada sejak awal musim hujan dan belum juga ditambal oleh dinas terkait meski sudah dilaporkan berkali-kali.",
    "piye iki cak, banyune PDAM mati terus wis seminggu",
    "😂😂😂",
    "The road near Juanda is flooded again, please fix the drainage",
    "udh 3 bln bansos blm cair, knp ya min? sy sdh daftar DTKS",
    "Semoga ke depan ada pelatihan UMKM digital di desa-desa",
    "Sahur pake indomie lagi gaes wkwkwk",
    "Pak, pungli di gerbang Bromo masih ada, 20rb per motor tanpa karcis. Tolong ditertibkan!!",
    "ok",
    "Selamat atas penghargaan Provinsi Terinovatif 2024, sukses terus Pemprov Jatim 🎉",
    "kenapa harga beras naik terus? pemerintah kemana aja",
    "Apakah ada subsidi pemasangan panel surya untuk rumah tangga di Jatim?",
];

fn bench(c: &mut Criterion) {
    let clf = Classifier::load(DEFAULT_MODEL).expect("the built-in model loads");
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(MESSAGES.len() as u64));
    g.bench_function("mix", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(clf.classify(black_box(m)));
            }
        })
    });
    g.finish();
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    g.bench_function("default_model", |b| b.iter(|| black_box(Classifier::load(black_box(DEFAULT_MODEL)).is_ok())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
