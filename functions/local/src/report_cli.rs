//! `pantau report`: a report of a period from the database, written to a folder of its own in
//! one language (the JSON carries label codes), without recording or announcing it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use pantau::domain::ReportPeriod;
use pantau::handlers::report::{check_period, files, period_days};
use pantau::report::{Lang, Sources, build};
use pantau::time::wib_date;

use crate::app::LocalApp;

/// Marks a folder as a `pantau report` output: only such a folder is written again.
const MARKER: &str = ".pantau-report";

pub struct Request {
    pub period: ReportPeriod,
    pub date: Option<NaiveDate>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub out: PathBuf,
    pub lang: Lang,
}

/// Makes the report; returns its folder and headline.
pub async fn run(app: &LocalApp, request: Request) -> anyhow::Result<(PathBuf, String)> {
    let from = match (request.date, request.from) {
        (Some(_), Some(_)) => bail!("give --date or --from, not both"),
        (Some(d), None) | (None, Some(d)) => d,
        (None, None) => bail!("give --date (a daily report) or --from"),
    };
    let (from, to) = period_days(request.period, from, request.to).map_err(anyhow::Error::msg)?;
    let now = app.clock.now();
    check_period(request.period, from, to, wib_date(now), app.report.max_days).map_err(anyhow::Error::msg)?;
    let s = app.store.as_ref();
    let sources = Sources { counters: s, cases: s, mentions: s, alerts: s, occurrences: s, posts: s, settings: s };
    let report = build(&sources, request.period, from, to, now).await?;
    let folder = request.out.join(&report.id);
    prepare(&folder)?;
    let english = request.lang == Lang::En;
    for (name, bytes, _) in files(&report).map_err(|e| anyhow::anyhow!("{e}"))? {
        // The JSON (label codes), and the HTML and CSV of the language asked for.
        if name == "report.json" || name.contains(".en.") == english {
            let path = folder.join(&name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let page = folder.join(if english { "report.en.html" } else { "report.html" });
    let (title, message) = pantau::report::announce::headline(&report, request.lang, &page.display().to_string());
    Ok((folder, format!("{title}\n{message}")))
}

/// A new folder, or one an earlier `pantau report` made; anything else is refused untouched.
fn prepare(folder: &Path) -> anyhow::Result<()> {
    if folder.exists() && !folder.join(MARKER).is_file() && std::fs::read_dir(folder)?.next().is_some() {
        bail!(
            "{} exists and was not made by `pantau report`; nothing in it was touched. Choose another --out",
            folder.display()
        );
    }
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    std::fs::write(folder.join(MARKER), "Made by `pantau report`; a new run of the same report replaces its files.\n")?;
    Ok(())
}
