//! Reading the training data, and training the default model from the repository's files.

use std::path::{Path, PathBuf};

use super::{CategoryExample, Classifier, Progress, SentimentExample, TrainOptions, train};
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

/// Where the default model's training data lives.
#[derive(Debug, Clone)]
pub struct DefaultData {
    /// The office's category data (`data/category/train.csv` in the repository).
    pub category_train: PathBuf,
    /// SmSA training split (`train_preprocess.tsv`).
    pub smsa_train: PathBuf,
}

impl DefaultData {
    /// The repository's files: `data/category/train.csv` and `data/smsa/train_preprocess.tsv`.
    pub fn new(repo_root: &Path) -> DefaultData {
        DefaultData {
            category_train: repo_root.join("data/category/train.csv"),
            smsa_train: repo_root.join("data/smsa/train_preprocess.tsv"),
        }
    }
}

/// Trains the default model with the default options: reproducible bit for bit.
pub fn train_default(data: &DefaultData, progress: &mut dyn FnMut(Progress)) -> Result<Classifier, DataError> {
    let category = read_category_csv(&data.category_train)?;
    let sentiment = read_smsa_tsv(&data.smsa_train)?;
    Ok(train(&category, &sentiment, &TrainOptions::default(), progress))
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
        std::fs::write(&tsv, "no tab here\n").unwrap();
        assert!(read_smsa_tsv(&tsv).is_err());
        assert!(read_smsa_tsv(&dir.join("missing.tsv")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
