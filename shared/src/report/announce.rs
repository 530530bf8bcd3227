//! The message a report's announcement carries: its headline numbers in sentences a person on
//! the notifier channels reads at a glance, and where the report is.

use super::{Lang, Report};

/// A title and message for the report's `AlertRaised` (kind `report_ready`).
pub fn headline(r: &Report, lang: Lang, link: &str) -> (String, String) {
    let title = format!("{}: {}", lang.period(r.period), lang.range(r.from, r.to));
    if r.empty {
        let message = format!(
            "{} {link}",
            lang.pick(
                "Tidak ada percakapan, kasus, atau unggahan yang tercatat pada periode ini. Laporan:",
                "No mentions, cases or posts were recorded in this period. Report:"
            )
        );
        return (title, message);
    }
    let compared = match r.volume.change_pct {
        Some(_) => {
            format!("{} {} {}", lang.change(r.volume.change_pct), lang.pick("dari", "on the"), lang.previous(r.period))
        }
        None => format!("{}: {}", lang.previous(r.period), lang.int(r.volume.total.previous)),
    };
    let mut lines = vec![format!(
        "{} {} ({compared}); {} {}.",
        lang.int(r.volume.total.value),
        lang.pick("percakapan", "mentions"),
        lang.pick("indeks sentimen bersih", "net sentiment index"),
        lang.index(r.net_sentiment.value),
    )];
    if !r.topics.is_empty() {
        let top: Vec<String> = r.topics.iter().take(3).map(|t| format!("{} ({})", t.name, lang.int(t.n))).collect();
        lines.push(format!("{} {}.", lang.pick("Topik teratas:", "Top topics:"), top.join(", ")));
    }
    let negative = r.sentiments.iter().find(|s| s.key == "negatif").and_then(|s| s.share);
    if let Some(share) = negative {
        lines.push(format!("{} {}.", lang.pick("Porsi sentimen negatif:", "Negative share:"), lang.pct(Some(share))));
    }
    let missed: u64 = r.cases.sla.iter().filter(|s| s.clock == "respon").map(|s| s.missed).sum();
    lines.push(format!(
        "{} {}, {} {}; {} {}; {} {}.",
        lang.int(r.cases.opened),
        lang.pick("kasus baru", "new cases"),
        lang.int(r.cases.answered),
        lang.pick("sudah dijawab", "answered"),
        lang.pick("median respons pertama", "median first response"),
        lang.hours(r.cases.first_response.median_hours),
        lang.int(missed),
        lang.pick("melewati SLA respons", "past the response SLA"),
    ));
    if !r.critics.is_empty() {
        lines.push(format!(
            "{} {}.",
            lang.int(r.critics.len() as u64),
            lang.pick("pengkritik berpengaruh perlu diperhatikan", "influential critics to watch")
        ));
    }
    if r.posts.published > 0 {
        lines.push(format!(
            "{} {}.",
            lang.int(r.posts.published),
            lang.pick("unggahan kantor terbit", "office posts published")
        ));
    }
    lines.push(format!("{} {link}", lang.pick("Laporan lengkap:", "Full report:")));
    (title, lines.join("\n"))
}
