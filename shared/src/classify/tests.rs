//! Tests of the whole classifier on a small model trained from examples written here.

use super::*;
use std::sync::OnceLock;

fn examples() -> (Vec<CategoryExample>, Vec<SentimentExample>) {
    use Category::*;
    use Sentiment::*;
    let c = |t: &str, c: Category, s: Sentiment| CategoryExample { text: t.into(), category: c, sentiment: Some(s) };
    let cats = vec![
        c("Gubernur goblok, kerjanya cuma pencitraan", Hater, Negatif),
        c("dasar pejabat tolol, makan gaji buta", Hater, Negatif),
        c("Bupati bangsat gak becus ngurus rakyat", Hater, Negatif),
        c("pemprov isinya maling semua", Hater, Negatif),
        c("Jalan di depan rumah saya rusak parah, tolong diperbaiki", Pengaduan, Negatif),
        c("Lampu PJU padam sudah seminggu, mohon ditindaklanjuti", Pengaduan, Negatif),
        c("pelayanan samsat lambat banget, antri 5 jam", Pengaduan, Negatif),
        c("Sampah numpuk di pinggir jalan, bau sekali", Pengaduan, Negatif),
        c("Kapan pendaftaran PPDB dibuka?", PermintaanInformasi, Netral),
        c("Mau tanya syarat bikin KTP apa saja ya min?", PermintaanInformasi, Netral),
        c("mohon info jadwal samsat keliling minggu ini", PermintaanInformasi, Netral),
        c("Bagaimana cara daftar beasiswa?", PermintaanInformasi, Netral),
        c("Saran: perbanyak bus trans jatim ke Lamongan", Aspirasi, Netral),
        c("Semoga ada pelatihan UMKM di desa kami", Aspirasi, Netral),
        c("Usul taman kota ditambah lampu", Aspirasi, Netral),
        c("harapannya harga pupuk bisa turun", Aspirasi, Netral),
        c("Terima kasih Bu Gubernur, jalannya sudah mulus 🙏", Apresiasi, Positif),
        c("Mantap pelayanan dukcapil cepat sekali 👍", Apresiasi, Positif),
        c("Sukses terus Pemprov Jatim", Apresiasi, Positif),
        c("Apresiasi untuk petugas BPBD yang sigap", Apresiasi, Positif),
        c("Sahur pake indomie lagi gaes", Lainnya, Netral),
        c("anjir panas bgt hari ini", Lainnya, Negatif),
        c("Kecelakaan di tol Sumo pagi tadi", Lainnya, Netral),
        c("@budi ini lho yg kemarin", Lainnya, Netral),
    ];
    let s = |t: &str, s: Sentiment| SentimentExample { text: t.into(), sentiment: s };
    let sents = vec![
        s("makanannya enak sekali dan murah", Positif),
        s("pelayanan ramah, saya puas", Positif),
        s("tempatnya kotor dan pelayan kasar", Negatif),
        s("kecewa berat, pesanan datang terlambat", Negatif),
        s("restoran buka jam 10 pagi", Netral),
        s("lokasi di jalan sudirman", Netral),
    ];
    (cats, sents)
}

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        let (c, s) = examples();
        let opts = TrainOptions { bits: 14, epochs: 30, ..TrainOptions::default() };
        train(&c, &s, &opts, &mut |_| {})
    })
}

#[test]
fn learns_its_training_examples() {
    let (cats, _) = examples();
    let e = classifier().evaluate_category(&cats);
    assert!(e.accuracy > 0.9, "{}", e.table());
}

#[test]
fn output_has_exact_labels_probabilities_and_reasons() {
    let out = classifier().classify("Jalan rusak parah di Lamongan, tolong segera diperbaiki pak");
    assert_eq!(out.category, Category::Pengaduan);
    assert_eq!(out.sentiment, Sentiment::Negatif);
    assert_eq!(out.language, Language::Indonesian);
    assert!(out.topics.contains(&"infrastruktur_jalan".to_string()));
    let keys: Vec<_> = out.scores.category.keys().cloned().collect();
    assert_eq!(keys, vec!["apresiasi", "aspirasi", "hater", "lainnya", "pengaduan", "permintaan_informasi"]);
    let sum: f32 = out.scores.category.values().sum();
    assert!((sum - 1.0).abs() < 1e-4);
    assert!((out.confidence - out.scores.category["pengaduan"]).abs() < 1e-6);
    assert!(out.reasons.iter().any(|r| r.starts_with("Kata kunci keluhan")), "{:?}", out.reasons);
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["category"], "pengaduan");
    assert_eq!(json["sentiment"], "negatif");
    assert_eq!(json["language"], "id");
}

#[test]
fn the_borrowed_output_serialises_exactly_as_the_output() {
    for text in
        ["Jalan rusak parah di Lamongan, tolong segera diperbaiki pak", "Kapan PPDB dibuka? 🙏 #JatimCerdas", ""]
    {
        let borrowed = classifier().classify_ref(text);
        let json = serde_json::to_string(&borrowed).unwrap();
        let output = Output::from(borrowed);
        assert_eq!(json, serde_json::to_string(&output).unwrap());
        assert_eq!(output, classifier().classify(text));
    }
}

#[test]
fn rules_explain_targeted_abuse_and_questions() {
    let out = classifier().classify("Pak gubernur goblok!!");
    assert_eq!(out.category, Category::Hater);
    assert!(
        out.reasons.iter().any(|r| r.contains("yang ditujukan ke pejabat") && r.contains("'goblok'")),
        "{:?}",
        out.reasons
    );

    let out = classifier().classify("kapan bansos cair?");
    assert_eq!(out.category, Category::PermintaanInformasi);
    assert!(
        out.reasons.iter().any(|r| r.starts_with("Kalimat tanya") && r.contains("'kapan'") && r.contains("'?'")),
        "{:?}",
        out.reasons
    );

    let out = classifier().classify("anjir macet bgt");
    assert_ne!(out.category, Category::Hater);
}

#[test]
fn edge_cases_never_panic() {
    let c = classifier();
    let huge = "jalan rusak ".repeat(10_000);
    let cases =
        ["", " ", "😡😡😡", "🙏", "https://t.co/x", "@a @b", "????", "\u{0}\u{FEFF}\u{202E}abc", "ꦲꦏ꧀ꦱꦫ", "a", &huge];
    for t in cases {
        let out = c.classify(t);
        assert!(out.confidence.is_finite() && out.confidence > 0.0, "{t:?}");
        assert!(out.scores.sentiment.values().all(|p| p.is_finite()));
    }
    assert_eq!(c.classify("").language, Language::Other);
    assert_eq!(c.classify("😡😡😡").language, Language::Other);
    assert_eq!(c.classify("https://t.co/x").language, Language::Other);
    assert!(c.classify(&huge).reasons.iter().any(|r| r.contains("sangat panjang")));
}

#[test]
fn model_round_trips_and_training_is_reproducible() {
    let c = classifier();
    let bytes = c.to_bytes();
    let back = Classifier::load(&bytes).unwrap();
    assert_eq!(back.version(), c.version());
    let text = "Mohon info syarat beasiswa";
    assert_eq!(back.classify(text), c.classify(text));
    let (cats, sents) = examples();
    let opts = TrainOptions { bits: 14, epochs: 30, ..TrainOptions::default() };
    let again = train(&cats, &sents, &opts, &mut |_| {});
    assert_eq!(again.to_bytes(), bytes, "same data and seed give the same bytes");
    let other = train(&cats, &sents, &TrainOptions { seed: 1, ..opts }, &mut |_| {});
    assert_ne!(other.version(), c.version());
    assert!(Classifier::load(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn custom_taxonomy_is_used() {
    let t = Taxonomy::from_json(
        r#"{"topics":[{"id":"mudik","name":"Mudik","kind":"kegiatan","keywords":["mudik"],"hashtags":[]}]}"#,
    )
    .unwrap();
    let c = classifier().clone().with_taxonomy(&t);
    assert_eq!(c.classify("arus mudik lancar, jalan mulus").topics, vec!["mudik"]);
}

#[test]
fn partial_labels_teach_what_a_message_is_not() {
    let (cats, sents) = examples();
    let opts = TrainOptions { bits: 14, epochs: 30, ..TrainOptions::default() };
    let chatter = "lagi nongkrong sama temen temen di warkop";
    let base = train(&cats, &sents, &opts, &mut |_| {});
    let not_hater: Vec<Category> = Category::ALL.iter().copied().filter(|c| *c != Category::Hater).collect();
    let set = TrainingSet {
        categories: cats,
        sentiments: sents,
        partial: (0..5)
            .map(|i| PartialExample {
                text: format!("{chatter} {i}"),
                categories: not_hater.clone(),
                sentiment: None,
                weight: 1.0,
            })
            .collect(),
    };
    let taught = train_set(&set, &opts, &mut |_| {});
    let p = |c: &Classifier| c.classify(chatter).scores.category["hater"];
    assert!(p(&taught) < p(&base), "{} vs {}", p(&taught), p(&base));
}

#[test]
fn reasons_name_no_places_times_or_stop_words() {
    let out = classifier()
        .classify("Jalan rusak parah di Sumberpucung Malang tiap malam sejak bulan lalu, tolong diperbaiki");
    let joined = out.reasons.join(" | ");
    for w in ["'sumberpucung'", "'malang'", "'tiap'", "'malam'", "'bulan'", "'di'", "'lalu'"] {
        assert!(!joined.contains(w), "{w} in {joined}");
    }
}

#[test]
fn a_hater_always_shows_its_evidence() {
    let c = classifier();
    for t in ["Pak gubernur goblok!!", "dasar pejabat tolol", "pemprov isinya maling semua"] {
        let out = c.classify(t);
        if out.category == Category::Hater {
            assert!(out.reasons.iter().any(|r| r.contains("'")), "{t}: {:?}", out.reasons);
        }
    }
}
