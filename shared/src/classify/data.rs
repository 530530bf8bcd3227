//! Reading the training data, and training the default model from the repository's files.

use std::path::{Path, PathBuf};

use super::lexicon::lexicon;
use super::normalize::Normalizer;
use super::rules::Cues;
use super::{
    CategoryExample, Classifier, PartialExample, Progress, SentimentExample, TrainOptions, TrainingSet, train_set,
};
use crate::domain::labels::{Category, Sentiment, UnknownLabel};

/// Training data that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}, line {line}: {source}")]
    Label { path: PathBuf, line: u64, source: UnknownLabel },
    #[error("{path}, line {line}: expected {expected}")]
    Shape { path: PathBuf, line: u64, expected: &'static str },
}

/// Reads the office's category data: CSV with header `text,category,sentiment` (sentiment may
/// be empty).
pub fn read_category_csv(path: &Path) -> Result<Vec<CategoryExample>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(file);
    let headers = reader.headers().map_err(|source| DataError::Csv { path: path.into(), source })?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(ti), Some(ci)) = (col("text"), col("category")) else {
        return Err(DataError::Shape {
            path: path.into(),
            line: 1,
            expected: "a header with text and category columns",
        });
    };
    let si = col("sentiment");
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| DataError::Csv { path: path.into(), source })?;
        let line = record.position().map_or(0, |p| p.line());
        let (Some(text), Some(cat)) = (record.get(ti), record.get(ci)) else {
            return Err(DataError::Shape { path: path.into(), line, expected: "text and category" });
        };
        let category: Category =
            cat.trim().parse().map_err(|source| DataError::Label { path: path.into(), line, source })?;
        let sentiment = match si.and_then(|i| record.get(i)).map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                Some(s.parse::<Sentiment>().map_err(|source| DataError::Label { path: path.into(), line, source })?)
            }
        };
        out.push(CategoryExample { text: text.to_string(), category, sentiment });
    }
    Ok(out)
}

/// Reads SmSA (IndoNLU): `text<TAB>positive|negative|neutral`, no header.
pub fn read_smsa_tsv(path: &Path) -> Result<Vec<SentimentExample>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i as u64 + 1;
        let Some((t, label)) = line.rsplit_once('\t') else {
            return Err(DataError::Shape { path: path.into(), line: line_no, expected: "text<TAB>label" });
        };
        let sentiment = match label.trim() {
            "positive" => Sentiment::Positif,
            "negative" => Sentiment::Negatif,
            "neutral" => Sentiment::Netral,
            other => other.parse::<Sentiment>().map_err(|source| DataError::Label {
                path: path.into(),
                line: line_no,
                source,
            })?,
        };
        out.push(SentimentExample { text: t.to_string(), sentiment });
    }
    Ok(out)
}

/// Reads a sentiment CSV: `text` and `sentiment` (Pantau's labels or positive/negative/neutral,
/// as NusaX writes them), or EmoT's `text` and `emotion` (anger, sadness, fear → `negatif`;
/// happy, love → `positif`).
pub fn read_sentiment_csv(path: &Path) -> Result<Vec<SentimentExample>, DataError> {
    let mut reader = csv_reader(path)?;
    let headers = reader.headers().map_err(|source| DataError::Csv { path: path.into(), source })?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(ti), Some(si)) = (col("text"), col("sentiment").or_else(|| col("emotion"))) else {
        return Err(DataError::Shape {
            path: path.into(),
            line: 1,
            expected: "a header with text and sentiment columns",
        });
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| DataError::Csv { path: path.into(), source })?;
        let line = record.position().map_or(0, |p| p.line());
        let (Some(text), Some(label)) = (record.get(ti), record.get(si)) else {
            return Err(DataError::Shape { path: path.into(), line, expected: "text and sentiment" });
        };
        let sentiment = match label.trim() {
            "positive" | "happy" | "love" => Sentiment::Positif,
            "negative" | "anger" | "sadness" | "fear" => Sentiment::Negatif,
            "neutral" => Sentiment::Netral,
            other => {
                other.parse::<Sentiment>().map_err(|source| DataError::Label { path: path.into(), line, source })?
            }
        };
        out.push(SentimentExample { text: text.to_string(), sentiment });
    }
    Ok(out)
}

/// A tweet of ibrohim2019 with the authors' labels that Pantau reads.
#[derive(Debug, Clone, PartialEq)]
pub struct HateExample {
    pub text: String,
    /// Hate speech (every such tweet in the set has a target, an individual or a group).
    pub hs: bool,
    /// Abusive words.
    pub abusive: bool,
    /// `hs` with a target: what Pantau calls `hater`.
    pub targeted: bool,
    /// Hate speech the authors rated weak (criticism of one person, mostly without abuse).
    pub weak: bool,
}

/// Reads ibrohim2019 (`text`, `hs`, `abusive`, `hs_individual`, `hs_group`, … as 0/1).
pub fn read_ibrohim_csv(path: &Path) -> Result<Vec<HateExample>, DataError> {
    let mut reader = csv_reader(path)?;
    let headers = reader.headers().map_err(|source| DataError::Csv { path: path.into(), source })?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(ti), Some(hi), Some(ai)) = (col("text"), col("hs"), col("abusive")) else {
        return Err(DataError::Shape { path: path.into(), line: 1, expected: "a header with text, hs and abusive" });
    };
    let (ii, gi, wi) = (col("hs_individual"), col("hs_group"), col("hs_weak"));
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| DataError::Csv { path: path.into(), source })?;
        let flag = |i: Option<usize>| i.and_then(|i| record.get(i)).is_some_and(|v| v.trim() == "1");
        let hs = flag(Some(hi));
        let text = record.get(ti).unwrap_or_default().to_string();
        // Without target columns, every hate-speech tweet is taken as targeted.
        let targeted = hs && (ii.is_none() && gi.is_none() || flag(ii) || flag(gi));
        out.push(HateExample { text, hs, abusive: flag(Some(ai)), targeted, weak: flag(wi) });
    }
    Ok(out)
}

fn csv_reader(path: &Path) -> Result<csv::Reader<std::fs::File>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    Ok(csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(file))
}

/// What a labelled file holds, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text,category[,sentiment]` (the office's data, the realistic test set).
    Category,
    /// SmSA: `text<TAB>label`, no header.
    Smsa,
    /// `text,sentiment` or `text,emotion` (NusaX, EmoT).
    Sentiment,
    /// ibrohim2019: `text,hs,abusive,…`.
    Ibrohim,
}

/// The format of a file: `.tsv` is SmSA, else by the CSV header.
pub fn detect_format(path: &Path) -> Result<Format, DataError> {
    if path.extension().is_some_and(|e| e == "tsv") {
        return Ok(Format::Smsa);
    }
    let mut reader = csv_reader(path)?;
    let headers = reader.headers().map_err(|source| DataError::Csv { path: path.into(), source })?;
    let has = |c: &str| headers.iter().any(|h| h.trim() == c);
    if !has("text") {
        return Err(DataError::Shape { path: path.into(), line: 1, expected: "a header with a text column" });
    }
    if has("hs") && has("abusive") {
        Ok(Format::Ibrohim)
    } else if has("category") {
        Ok(Format::Category)
    } else if has("sentiment") || has("emotion") {
        Ok(Format::Sentiment)
    } else {
        Err(DataError::Shape {
            path: path.into(),
            line: 1,
            expected: "a category, sentiment, emotion or hs/abusive column beside text",
        })
    }
}

/// The labelled examples of one file.
#[derive(Debug, Clone, Default)]
pub struct Labelled {
    pub categories: Vec<CategoryExample>,
    /// Sentiment labels (for a category file: those of its rows that have one).
    pub sentiments: Vec<SentimentExample>,
    pub hate: Vec<HateExample>,
}

/// Reads any labelled file Pantau knows ([`Format`]).
pub fn read_labelled(path: &Path, format: Option<Format>) -> Result<Labelled, DataError> {
    let format = match format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    Ok(match format {
        Format::Smsa => Labelled { sentiments: read_smsa_tsv(path)?, ..Labelled::default() },
        Format::Sentiment => Labelled { sentiments: read_sentiment_csv(path)?, ..Labelled::default() },
        Format::Ibrohim => Labelled { hate: read_ibrohim_csv(path)?, ..Labelled::default() },
        Format::Category => {
            let categories = read_category_csv(path)?;
            let sentiments = categories
                .iter()
                .filter_map(|e| e.sentiment.map(|sentiment| SentimentExample { text: e.text.clone(), sentiment }))
                .collect();
            Labelled { categories, sentiments, hate: Vec::new() }
        }
    })
}

/// Weight of a tweet of ibrohim2019 that says "not `hater`" (swearing or chatter without hate
/// speech): what `hater` precision on real text rests on.
pub const IBROHIM_NOT_HATER_WEIGHT: f32 = 1.0;
/// Weight of a tweet of ibrohim2019 with targeted hate speech: 2,000 political tweets at full
/// weight drown the office's 316 `hater` examples and pull its other categories out of shape
/// (chosen on the validation tenths of the training files, see `pantau train` in the README).
pub const IBROHIM_HATER_WEIGHT: f32 = 0.3;
/// Weight of a tweet of ibrohim2019 taken as `lainnya` by [`ibrohim_training`]: a guess from
/// the absence of cues.
pub const IBROHIM_LAINNYA_WEIGHT: f32 = 0.2;
/// Weight of an EmoT tweet's sentiment (emotion is only a proxy of sentiment, and the set has no
/// neutral tweet); EmoT is not among the default inputs, only evaluated on.
pub const EMOT_WEIGHT: f32 = 0.3;

/// Does a message show a cue of an intent other than `lainnya` (a question, a request for
/// information, a suggestion, a wish or plea, a concrete problem, praise)?
pub fn has_intent_cue(cues: &Cues) -> bool {
    cues.question_marks > 0
        || cues.tanya_at_start
        || cues.minta_info.any()
        || cues.usulan.any()
        || cues.masalah.any()
        || cues.pujian.any()
        || cues.harapan.any()
}

/// ibrohim2019's tweets as Pantau's training examples (category only: hate speech is negative,
/// but 2,000 political tweets labelled `negatif` teach the sentiment head that politics is):
/// - hate speech with a target → `hater` (at [`IBROHIM_HATER_WEIGHT`]), except weak hate speech
///   without abusive words (mostly plain criticism of one politician: "cukup 1 periode"), which
///   may be `hater`, `pengaduan`, `aspirasi` or `lainnya` but is not praise or a genuine question;
/// - abusive words without hate speech (swearing without a target) → any category but `hater`;
/// - neither → `lainnya` (at [`IBROHIM_LAINNYA_WEIGHT`]) when the tweet shows no intent cue
///   ([`has_intent_cue`]) and names or addresses no official, institution or person, else any
///   category but `hater` (a question, praise, a complaint or political talk among the chatter).
pub fn ibrohim_training(tweets: &[HateExample]) -> Vec<PartialExample> {
    use Category::*;
    let normalizer = Normalizer::default();
    let mut n = super::normalize::Normalized::default();
    let not_hater = || vec![Pengaduan, PermintaanInformasi, Aspirasi, Apresiasi, Lainnya];
    let mut out = Vec::with_capacity(tweets.len());
    for t in tweets {
        let (categories, weight) = if t.targeted && (t.abusive || !t.weak) {
            (vec![Hater], IBROHIM_HATER_WEIGHT)
        } else if t.targeted {
            (vec![Hater, Pengaduan, Aspirasi, Lainnya], IBROHIM_HATER_WEIGHT)
        } else if t.hs {
            continue;
        } else if t.abusive {
            (not_hater(), IBROHIM_NOT_HATER_WEIGHT)
        } else {
            normalizer.normalize_into(&t.text, &mut n);
            let cues = Cues::scan(&n, lexicon());
            if has_intent_cue(&cues) || cues.has_named_target() {
                (not_hater(), IBROHIM_NOT_HATER_WEIGHT)
            } else {
                (vec![Lainnya], IBROHIM_LAINNYA_WEIGHT)
            }
        };
        out.push(PartialExample { text: t.text.clone(), categories, sentiment: None, weight });
    }
    out
}

/// The training examples of one file, by its format: the office's category CSV, SmSA, a
/// sentiment CSV (NusaX; EmoT's emotions at [`EMOT_WEIGHT`]), ibrohim2019 ([`ibrohim_training`]).
pub fn read_training(path: &Path) -> Result<TrainingSet, DataError> {
    let mut set = TrainingSet::default();
    match detect_format(path)? {
        Format::Category => set.categories = read_category_csv(path)?,
        Format::Smsa => set.sentiments = read_smsa_tsv(path)?,
        Format::Sentiment => {
            let examples = read_sentiment_csv(path)?;
            let mut reader = csv_reader(path)?;
            let headers = reader.headers().map_err(|source| DataError::Csv { path: path.into(), source })?;
            if headers.iter().any(|h| h.trim() == "emotion") {
                set.partial = examples
                    .into_iter()
                    .map(|e| PartialExample {
                        text: e.text,
                        categories: Vec::new(),
                        sentiment: Some(e.sentiment),
                        weight: EMOT_WEIGHT,
                    })
                    .collect();
            } else {
                set.sentiments = examples;
            }
        }
        Format::Ibrohim => set.partial = ibrohim_training(&read_ibrohim_csv(path)?),
    }
    Ok(set)
}

/// The files the default model is trained on, relative to the repository root, in order.
pub const DEFAULT_INPUTS: &[&str] = &[
    "data/category/train.csv",
    "data/social/train.csv",
    "data/smsa/train_preprocess.tsv",
    "data/ibrohim2019/train.csv",
    "data/nusax/ind_train.csv",
    "data/nusax/jav_train.csv",
    "data/nusax/eng_train.csv",
];

/// The held-out files `pantau train` scores by default, relative to the repository root.
pub const DEFAULT_HELD_OUT: &[&str] = &[
    "data/category/test.csv",
    "data/realistic/final.csv",
    "data/smsa/valid_preprocess.tsv",
    "data/ibrohim2019/heldout.csv",
    "data/nusax/ind_valid.csv",
    "data/nusax/jav_valid.csv",
    "data/nusax/eng_valid.csv",
    "data/emot/valid.csv",
];

/// Where the default model's training data lives.
#[derive(Debug, Clone)]
pub struct DefaultData {
    /// [`DEFAULT_INPUTS`] under the repository root.
    pub files: Vec<PathBuf>,
}

impl DefaultData {
    /// The repository's files ([`DEFAULT_INPUTS`]).
    pub fn new(repo_root: &Path) -> DefaultData {
        DefaultData { files: DEFAULT_INPUTS.iter().map(|f| repo_root.join(f)).collect() }
    }
}

/// Reads training files in order into one set.
pub fn read_training_files(files: &[PathBuf]) -> Result<TrainingSet, DataError> {
    let mut set = TrainingSet::default();
    for f in files {
        set.extend(read_training(f)?);
    }
    Ok(set)
}

/// Trains the default model with the default options: reproducible bit for bit.
pub fn train_default(data: &DefaultData, progress: &mut dyn FnMut(Progress)) -> Result<Classifier, DataError> {
    let set = read_training_files(&data.files)?;
    Ok(train_set(&set, &TrainOptions::default(), progress))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats_and_names_bad_lines() {
        let dir = std::env::temp_dir().join(format!("pantau-data-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv_path = dir.join("c.csv");
        std::fs::write(
            &csv_path,
            "text,category,sentiment\n\"Jalan rusak, tolong\",pengaduan,negatif\nhalo,lainnya,\n",
        )
        .unwrap();
        let c = read_category_csv(&csv_path).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].text, "Jalan rusak, tolong");
        assert_eq!(c[0].category, Category::Pengaduan);
        assert_eq!(c[1].sentiment, None);
        std::fs::write(&csv_path, "text,category,sentiment\nx,complaint,negatif\n").unwrap();
        let err = read_category_csv(&csv_path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("complaint"), "{err}");

        let tsv = dir.join("s.tsv");
        std::fs::write(&tsv, "bagus sekali\tpositive\njelek\tnegative\nbiasa\tneutral\n").unwrap();
        let s = read_smsa_tsv(&tsv).unwrap();
        assert_eq!(
            s.iter().map(|e| e.sentiment).collect::<Vec<_>>(),
            vec![Sentiment::Positif, Sentiment::Negatif, Sentiment::Netral]
        );
        let nusax = dir.join("n.csv");
        std::fs::write(&nusax, "text,sentiment\ngood,positive\nbad,negative\nok,neutral\n").unwrap();
        assert_eq!(detect_format(&nusax).unwrap(), Format::Sentiment);
        let s = read_sentiment_csv(&nusax).unwrap();
        assert_eq!(s[2].sentiment, Sentiment::Netral);
        let emot = dir.join("e.csv");
        std::fs::write(&emot, "text,emotion\nsenang,happy\nkesal,anger\ntakut,fear\n").unwrap();
        let set = read_training(&emot).unwrap();
        assert!(set.sentiments.is_empty() && set.partial.len() == 3);
        assert_eq!(set.partial[2].sentiment, Some(Sentiment::Negatif));
        assert!(set.partial.iter().all(|p| p.categories.is_empty() && p.weight == EMOT_WEIGHT));

        let ib = dir.join("i.csv");
        std::fs::write(
            &ib,
            "text,hs,abusive,hs_individual,hs_group,hs_weak\n\
             USER dasar bego lu,1,1,1,0,1\n\
             cukup 1 periode,1,0,1,0,1\n\
             anjir macet parah,0,1,0,0,0\n\
             lagi makan bakso,0,0,0,0,0\n\
             kapan bansos cair?,0,0,0,0,0\n\
             presiden ke surabaya hari ini,0,0,0,0,0\n",
        )
        .unwrap();
        assert_eq!(detect_format(&ib).unwrap(), Format::Ibrohim);
        let tweets = read_ibrohim_csv(&ib).unwrap();
        assert!(tweets[0].targeted && tweets[0].abusive && !tweets[2].hs);
        let ex = ibrohim_training(&tweets);
        use Category::*;
        assert_eq!(ex[0].categories, vec![Hater]);
        assert!(ex[1].categories.contains(&Hater) && !ex[1].categories.contains(&Apresiasi));
        assert!(!ex[2].categories.contains(&Hater) && ex[2].categories.len() == 5);
        assert_eq!((ex[3].categories.clone(), ex[3].weight), (vec![Lainnya], IBROHIM_LAINNYA_WEIGHT));
        assert!(!ex[4].categories.contains(&Hater) && ex[4].categories.len() == 5, "a question is no guessed lainnya");
        assert_eq!(ex[5].categories.len(), 5, "talk about an official is no guessed lainnya");
        assert!(ex.iter().all(|e| e.sentiment.is_none()));
        std::fs::write(&tsv, "no tab here\n").unwrap();
        assert!(read_smsa_tsv(&tsv).is_err());
        assert!(read_smsa_tsv(&dir.join("missing.tsv")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
