//! `pantau classify`, `pantau eval`, `pantau train` and `pantau reclassify`.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pantau::classify::data::{DEFAULT_HELD_OUT, DEFAULT_INPUTS, Format, read_labelled, read_training_files};
use pantau::classify::{
    CategoryExample, Classifier, DEFAULT_MODEL, Evaluation, HateReport, OutputRef, Reliability, TrainOptions, train_set,
};
use serde::Serialize;

/// The model of `--model`, or the built-in default.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<Classifier> {
    match path {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading model {}", path.display()))?;
            Classifier::load(&bytes).with_context(|| format!("model {} is refused", path.display()))
        }
        None => Classifier::load(DEFAULT_MODEL).context("the built-in model is refused"),
    }
}

fn open_input(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    Ok(Box::new(std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?))
}

fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    match path {
        None => Ok(Box::new(BufWriter::new(std::io::stdout().lock()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufWriter::new(std::io::stdout().lock()))),
        Some(p) => {
            Ok(Box::new(BufWriter::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)))
        }
    }
}

/// Writes `{"id":…,` and the output's fields as one JSON line. The output is serialised into a
/// reused buffer and spliced after the id (serde's `flatten` goes through a map and costs a
/// third of the time of the classification itself).
fn write_line(out: &mut dyn Write, buf: &mut Vec<u8>, id: Option<&str>, output: &OutputRef) -> anyhow::Result<()> {
    buf.clear();
    serde_json::to_writer(&mut *buf, output)?;
    match (id, buf.split_first()) {
        (Some(id), Some((b'{', rest))) => {
            out.write_all(b"{\"id\":")?;
            serde_json::to_writer(&mut *out, id)?;
            out.write_all(b",")?;
            out.write_all(rest)?;
        }
        _ => out.write_all(buf)?,
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// Classifies every row of a CSV (`text` column, optional `id`) or JSONL (`text` field, optional
/// `id`) file, writing one JSON line per row in input order.
pub fn classify(input: &Path, output: Option<&Path>, model: Option<&Path>) -> anyhow::Result<usize> {
    let classifier = load_model(model)?;
    let mut reader = BufReader::new(open_input(input)?);
    let mut out = open_output(output)?;
    let jsonl = match input.extension().and_then(|e| e.to_str()) {
        Some("jsonl" | "json" | "ndjson") => true,
        Some("csv") => false,
        // stdin or unknown: JSON Lines start with '{'.
        _ => reader.fill_buf()?.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
    };
    let mut rows = 0;
    let mut buf = Vec::with_capacity(2048);
    if jsonl {
        for (i, line) in reader.split(b'\n').enumerate() {
            let line = line?;
            let row = i + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: serde_json::Value =
                serde_json::from_slice(&line).with_context(|| format!("row {row}: not valid JSON (or not UTF-8)"))?;
            let text =
                value.get("text").and_then(|t| t.as_str()).with_context(|| format!("row {row}: no \"text\" string"))?;
            let id = value.get("id").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
            write_line(&mut *out, &mut buf, id.as_deref(), &classifier.classify_ref(text))?;
            rows += 1;
        }
    } else {
        let mut csv = csv::Reader::from_reader(reader);
        let headers = csv.headers().context("reading the CSV header")?.clone();
        let text_col =
            headers.iter().position(|h| h.trim() == "text").context("the CSV header has no \"text\" column")?;
        let id_col = headers.iter().position(|h| h.trim() == "id");
        // One record, refilled row after row.
        let mut record = csv::ByteRecord::new();
        // Row numbers count the header as row 1.
        for row in 2.. {
            if !csv.read_byte_record(&mut record).with_context(|| format!("row {row}: not valid CSV"))? {
                break;
            }
            let field = |col: usize| -> anyhow::Result<&str> {
                std::str::from_utf8(record.get(col).unwrap_or_default())
                    .with_context(|| format!("row {row}: not valid UTF-8"))
            };
            let text = field(text_col)?;
            let id = id_col.map(field).transpose()?;
            write_line(&mut *out, &mut buf, id, &classifier.classify_ref(text))?;
            rows += 1;
        }
    }
    out.flush()?;
    Ok(rows)
}

fn format_of(format: Option<&str>) -> Option<Format> {
    match format {
        Some("smsa") => Some(Format::Smsa),
        _ => None,
    }
}

/// The scores of a model on labelled data.
#[derive(Serialize)]
pub struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Evaluation>,
    /// How well the category confidence matches accuracy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Evaluation>,
    /// `hater` against hate-speech labels (ibrohim2019).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hate: Option<HateReport>,
}

fn report(classifier: &Classifier, path: &Path, format: Option<&str>) -> anyhow::Result<Report> {
    let data = read_labelled(path, format_of(format))?;
    Ok(Report {
        category: (!data.categories.is_empty()).then(|| classifier.evaluate_category(&data.categories)),
        reliability: (!data.categories.is_empty()).then(|| classifier.category_reliability(&data.categories)),
        sentiment: (!data.sentiments.is_empty()).then(|| classifier.evaluate_sentiment(&data.sentiments)),
        hate: (!data.hate.is_empty()).then(|| classifier.evaluate_hate(&data.hate)),
    })
}

/// Scores a model on a labelled file: the office's category CSV (`text,category[,sentiment]`),
/// SmSA's TSV, a sentiment CSV (NusaX `text,sentiment`; EmoT `text,emotion`), or ibrohim2019
/// (`text,hs,abusive,…`), recognised by extension and header.
pub fn evaluate(input: &Path, model: Option<&Path>, format: Option<&str>) -> anyhow::Result<Report> {
    let classifier = load_model(model)?;
    report(&classifier, input, format)
}

/// Everything in a report, for people.
pub fn print_report(report: &Report) {
    if let Some(e) = &report.category {
        print_evaluation("category", e);
        let share = |gold: &str| {
            let gi = e.labels.iter().position(|l| l == gold)?;
            let hi = e.labels.iter().position(|l| l == "hater")?;
            let n: u32 = e.confusion[gi].iter().sum();
            (n > 0).then(|| e.confusion[gi][hi] as f64 / n as f64)
        };
        if let (Some(l), Some(a)) = (share("lainnya"), share("apresiasi")) {
            println!("  labelled hater: {:.4} of gold lainnya, {:.4} of gold apresiasi", l, a);
        }
    }
    if let Some(r) = &report.reliability {
        println!("category confidence (reliability):");
        for line in r.table().lines() {
            println!("  {line}");
        }
    }
    if let Some(e) = &report.sentiment {
        print_evaluation("sentiment", e);
    }
    if let Some(h) = &report.hate {
        println!("hate speech (ibrohim2019):");
        for line in h.table().lines() {
            println!("  {line}");
        }
    }
}

/// A table of an evaluation, for people.
pub fn print_evaluation(name: &str, e: &Evaluation) {
    println!("{name}: macro-F1 {:.4}, accuracy {:.4}, {} examples", e.macro_f1, e.accuracy, e.examples);
    println!("  {:<22} {:>9} {:>9} {:>9} {:>8}", "label", "precision", "recall", "F1", "support");
    for m in &e.per_label {
        println!("  {:<22} {:>9.4} {:>9.4} {:>9.4} {:>8}", m.label, m.precision, m.recall, m.f1, m.support);
    }
    println!("  confusion (rows: gold, columns: predicted, in the label order above)");
    for (label, row) in e.labels.iter().zip(&e.confusion) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>5}")).collect();
        println!("  {:<22} {}", label, cells.join(""));
    }
}

/// A correction as a training example.
fn example(f: pantau::domain::Feedback) -> CategoryExample {
    CategoryExample { text: f.text, category: f.category, sentiment: Some(f.sentiment) }
}

/// Officers' corrections saved from `GET /v1/feedback` (`{"items": [...]}`), as training examples.
pub fn feedback_file_examples(path: &Path) -> anyhow::Result<Vec<CategoryExample>> {
    #[derive(serde::Deserialize)]
    struct List {
        items: Vec<pantau::domain::Feedback>,
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let list: List = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not the body of GET /v1/feedback", path.display()))?;
    Ok(list.items.into_iter().map(example).collect())
}

/// Officers' corrections kept in a database, as training examples.
pub async fn feedback_examples(db: &Path) -> anyhow::Result<Vec<CategoryExample>> {
    if !db.exists() {
        bail!("no database at {}: pass --db with the database the corrections were made in", db.display());
    }
    let store = pantau::adapters::sqlite::SqliteStore::open(
        db,
        std::sync::Arc::new(pantau::time::SystemClock),
        pantau::config::DEFAULT_RETENTION_DAYS,
    )?;
    use pantau::stores::FeedbackStore;
    let mut examples = Vec::new();
    let mut after = None;
    loop {
        let page = store.feedback_page(500, after.as_ref()).await?;
        examples.extend(page.items.into_iter().map(example));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(examples),
        }
    }
}

/// Trains on the given files (default: the repository's, [`DEFAULT_INPUTS`]), writes the model,
/// and scores it on the held-out files that exist ([`DEFAULT_HELD_OUT`] by default).
pub fn train_model(
    output: &Path,
    inputs: &[PathBuf],
    held_out: &[PathBuf],
    feedback: &[CategoryExample],
) -> anyhow::Result<(Classifier, Vec<(PathBuf, Report)>)> {
    let defaults: Vec<PathBuf> = DEFAULT_INPUTS.iter().map(PathBuf::from).collect();
    let inputs = if inputs.is_empty() { &defaults[..] } else { inputs };
    let mut set = read_training_files(inputs)?;
    set.categories.extend_from_slice(feedback);
    if set.categories.is_empty() {
        bail!("no category examples: give at least one CSV with text and category columns");
    }
    let options = TrainOptions::default();
    let bar = ProgressBar::new(u64::from(options.epochs));
    bar.set_style(ProgressStyle::with_template("{msg:12} {bar:40} epoch {pos}/{len}")?);
    let classifier = train_set(&set, &options, &mut |p| {
        bar.set_message(p.stage);
        bar.set_length(u64::from(p.epochs));
        bar.set_position(u64::from(p.epoch));
    });
    bar.finish_and_clear();
    std::fs::write(output, classifier.to_bytes()).with_context(|| format!("writing {}", output.display()))?;
    let held_out: Vec<PathBuf> = if held_out.is_empty() {
        DEFAULT_HELD_OUT.iter().map(PathBuf::from).filter(|p| p.exists()).collect()
    } else {
        held_out.to_vec()
    };
    let mut reports = Vec::new();
    for path in held_out {
        let r = report(&classifier, &path, None)?;
        reports.push((path, r));
    }
    Ok((classifier, reports))
}
