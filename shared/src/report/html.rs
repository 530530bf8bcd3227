//! The report as one self-contained HTML file: inline CSS and SVG, system fonts, no script, no
//! external asset; one column that reads on a phone and prints on A4.

use std::fmt::Write;

use super::svg::{self, Bar, NEGATIVE, NEUTRAL, PALETTE, POSITIVE, Stack, esc};
use super::{Durations, Lang, Report, Share};

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;background:#f4f6f9;color:#1d2733;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
main{max-width:860px;margin:0 auto;padding:16px}
header{background:#14385c;color:#fff;padding:20px 16px;border-radius:10px}
header h1{margin:0 0 4px;font-size:1.45em}
header p{margin:2px 0;opacity:.9}
section{background:#fff;border-radius:10px;padding:14px 16px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h2{font-size:1.15em;margin:0 0 10px;color:#14385c}
h3{font-size:1em;margin:14px 0 6px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{background:#f4f6f9;border-radius:8px;padding:10px}
.card b{display:block;font-size:1.5em}
.card small{color:#5b6d7a}
.up{color:#2e7d32}.down{color:#c23b3b}
.chart{width:100%;max-width:720px;height:auto;display:block;margin:6px 0}
.bars{margin:6px 0;display:grid;grid-template-columns:minmax(6em,36%) 1fr auto;gap:5px 8px;align-items:center;font-size:.92em}
.bar{display:contents}
.bl{line-height:1.25}
.bs{width:100%;height:14px;display:block;background:#f1f4f7;border-radius:2px}
.bv{white-space:nowrap;color:#3b4a58;font-size:.92em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{padding:5px 6px;border-bottom:1px solid #e6eaef;text-align:left;vertical-align:top}
th{background:#f4f6f9;font-weight:600}
td.n,th.n{text-align:right;white-space:nowrap}
blockquote{margin:6px 0;padding:6px 10px;border-left:3px solid #c9d3de;background:#fafbfc;font-size:.92em}
blockquote cite{display:block;color:#5b6d7a;font-style:normal;font-size:.9em}
.person{margin:10px 0 2px}
.empty{padding:18px;text-align:center;color:#5b6d7a;background:#f4f6f9;border-radius:8px}
.note{color:#5b6d7a;font-size:.88em}
footer{color:#5b6d7a;font-size:.85em;text-align:center;margin:18px 0}
@media print{body{background:#fff}main{max-width:none;padding:0}section{box-shadow:none;break-inside:avoid;border:1px solid #e6eaef}header{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@page{size:A4;margin:12mm}
"#;

fn platform_color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

fn sentiment_color(code: &str) -> &'static str {
    match code {
        "positif" => POSITIVE,
        "negatif" => NEGATIVE,
        _ => NEUTRAL,
    }
}

/// A table: headers (numeric ones end with `#`), rows of cells (already escaped HTML).
fn table(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    out.push_str(r#"<div class="scroll"><table><thead><tr>"#);
    for h in headers {
        match h.strip_suffix('#') {
            Some(h) => {
                let _ = write!(out, r#"<th class="n">{}</th>"#, esc(h));
            }
            None => {
                let _ = write!(out, "<th>{}</th>", esc(h));
            }
        }
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = headers.get(i).is_some_and(|h| h.ends_with('#'));
            let _ = write!(out, "{}{cell}</td>", if numeric { r#"<td class="n">"# } else { "<td>" });
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

fn change_class(pct: Option<f64>, good_up: bool) -> &'static str {
    match pct {
        Some(p) if (p > 0.0) == good_up && p != 0.0 => "up",
        Some(p) if p != 0.0 => "down",
        _ => "",
    }
}

fn pct_change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| (now as f64 - before as f64) / before as f64 * 100.0)
}

fn none_yet(out: &mut String, lang: Lang, what: &str) {
    let _ = write!(out, r#"<p class="empty">{}</p>"#, esc(&format!("{} {what}.", lang.pick("Tidak ada", "No"))));
}

fn share_bars(
    lang: Lang,
    title: &str,
    rows: &[Share],
    color: impl Fn(usize, &str) -> &'static str,
    label: impl Fn(&str) -> String,
) -> String {
    let labels: Vec<String> = rows.iter().map(|r| label(&r.key)).collect();
    let bars: Vec<Bar<'_>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Bar {
            label: &labels[i],
            value: r.n as f64,
            text: match r.share {
                Some(s) => format!("{} ({})", lang.int(r.n), lang.pct(Some(s))),
                None => lang.int(r.n),
            },
            color: color(i, &r.key),
        })
        .collect();
    svg::bars(title, &bars)
}

fn durations(lang: Lang, d: &Durations) -> (String, String) {
    (lang.hours(d.median_hours), lang.hours(d.p90_hours))
}

/// Renders the report in `lang`.
pub fn render(r: &Report, lang: Lang) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("{} — {}", lang.period(r.period), lang.range(r.from, r.to));
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body><main>"#,
        lang.code(),
        esc(&title)
    );
    let _ = write!(
        out,
        "<header><h1>{}</h1><p>{}</p><p>{}</p></header>",
        esc(&title),
        esc(&format!(
            "{} {} ({})",
            lang.pick("Dibandingkan dengan", "Compared with the"),
            lang.previous(r.period),
            lang.range(r.previous_from, r.previous_to)
        )),
        esc(&format!("{} {}", lang.pick("Dibuat", "Generated"), lang.moment(r.generated_at)))
    );
    if r.empty {
        let _ = write!(
            out,
            r#"<section><p class="empty"><b>{}</b><br>{}</p></section>"#,
            esc(lang.pick("Tidak ada data untuk periode ini", "No data for this period")),
            esc(lang.pick(
                "Tidak ada percakapan, kasus, atau unggahan yang tercatat pada hari-hari ini.",
                "No mentions, cases or posts were recorded on these days."
            ))
        );
    }
    summary(&mut out, r, lang);
    volume(&mut out, r, lang);
    labels(&mut out, r, lang);
    topics(&mut out, r, lang);
    words(&mut out, r, lang);
    people(&mut out, r, lang);
    alerts(&mut out, r, lang);
    cases(&mut out, r, lang);
    posts(&mut out, r, lang);
    let _ = write!(
        out,
        "<footer>{}</footer></main></body></html>",
        esc(lang.pick(
            "Pantau — dihitung dari penghitung harian dan indeks; semua waktu WIB (Asia/Jakarta).",
            "Pantau — computed from the daily counters and indexes; all times WIB (Asia/Jakarta)."
        ))
    );
    out
}

fn card(out: &mut String, value: &str, label: &str, note: &str, class: &str) {
    let _ = write!(
        out,
        r#"<div class="card"><b>{}</b>{}<br><small class="{class}">{}</small></div>"#,
        esc(value),
        esc(label),
        esc(note)
    );
}

fn summary(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(out, r#"<section><h2>{}</h2><div class="cards">"#, esc(lang.pick("Ringkasan", "Summary")));
    let prev = lang.pick("sebelumnya", "before");
    card(
        out,
        &lang.int(r.volume.total.value),
        lang.pick("percakapan", "mentions"),
        &format!("{} ({prev} {})", lang.change(r.volume.change_pct), lang.int(r.volume.total.previous)),
        change_class(r.volume.change_pct, true),
    );
    card(
        out,
        &lang.index(r.net_sentiment.value),
        lang.pick("indeks sentimen bersih", "net sentiment index"),
        &format!("{prev} {}", lang.index(r.net_sentiment.previous)),
        "",
    );
    card(
        out,
        &lang.int(r.cases.opened),
        lang.pick("kasus baru", "new cases"),
        &format!(
            "{} {}; {} {}",
            lang.int(r.cases.answered),
            lang.pick("sudah dijawab", "answered"),
            lang.int(r.cases.backlog_now),
            lang.pick("terbuka kini", "open now")
        ),
        "",
    );
    card(
        out,
        &lang.hours(r.cases.first_response.median_hours),
        lang.pick("median respons pertama", "median first response"),
        &format!("p90 {}", lang.hours(r.cases.first_response.p90_hours)),
        "",
    );
    if let Some(row) = r.cases.sla.iter().find(|s| s.clock == "respon") {
        card(
            out,
            &lang.pct(row.compliance),
            lang.pick("respons tepat waktu (SLA)", "responses on time (SLA)"),
            &format!("{} {}", lang.int(row.missed), lang.pick("terlewat", "missed")),
            "",
        );
    }
    card(
        out,
        &lang.int(r.posts.published),
        lang.pick("unggahan kantor", "office posts"),
        &format!("{} {}", lang.int(r.posts.reposts), lang.pick("di antaranya repost", "of them reposts")),
        "",
    );
    out.push_str("</div></section>");
}

fn volume(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(out, "<section><h2>{}</h2>", esc(lang.pick("Volume percakapan", "Mention volume")));
    if r.volume.total.value == 0 {
        none_yet(out, lang, lang.pick("percakapan pada periode ini", "mentions in this period"));
        out.push_str("</section>");
        return;
    }
    let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Per platform", "By platform")));
    out.push_str(&share_bars(
        lang,
        lang.pick("Percakapan per platform", "Mentions by platform"),
        &r.volume.by_platform,
        |i, _| platform_color(i),
        |k| lang.label(k),
    ));
    let order: Vec<&str> = r.volume.by_platform.iter().map(|s| s.key.as_str()).collect();
    match &r.volume.by_hour {
        Some(hours) => {
            let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Per jam (WIB)", "By hour (WIB)")));
            let stacks: Vec<Stack<'_>> = hours
                .iter()
                .enumerate()
                .map(|(h, n)| Stack { label: format!("{h:02}"), parts: vec![(*n as f64, PALETTE[0])] })
                .collect();
            let max = hours.iter().max().copied().unwrap_or(0);
            out.push_str(&svg::columns(
                lang.pick("Percakapan per jam", "Mentions by hour"),
                &stacks,
                3,
                &lang.int(max),
            ));
        }
        None => {
            let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Per hari", "By day")));
            let stacks: Vec<Stack<'_>> = r
                .volume
                .by_day
                .iter()
                .map(|d| Stack {
                    label: lang.day_month(d.day),
                    parts: order
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (d.by_platform.get(*p).copied().unwrap_or(0) as f64, platform_color(i)))
                        .collect(),
                })
                .collect();
            let max = r.volume.by_day.iter().map(|d| d.total).max().unwrap_or(0);
            let every = (r.volume.by_day.len() / 8).max(1);
            out.push_str(&svg::columns(
                lang.pick("Percakapan per hari, per platform", "Mentions by day and platform"),
                &stacks,
                every,
                &lang.int(max),
            ));
            let legend: Vec<String> = order
                .iter()
                .enumerate()
                .map(|(i, p)| format!(r#"<span style="color:{}">■</span> {}"#, platform_color(i), esc(&lang.label(p))))
                .collect();
            let _ = write!(out, r#"<p class="note">{}</p>"#, legend.join(" &nbsp; "));
        }
    }
    let rows: Vec<Vec<String>> = r
        .volume
        .by_platform
        .iter()
        .map(|s| {
            vec![
                esc(&lang.label(&s.key)),
                lang.int(s.n),
                lang.pct(s.share),
                lang.int(s.previous),
                lang.change(pct_change(s.n, s.previous)),
            ]
        })
        .collect();
    let h = [
        lang.pick("Platform", "Platform"),
        lang.pick("Jumlah#", "Count#"),
        lang.pick("Porsi#", "Share#"),
        lang.pick("Sebelumnya#", "Before#"),
        lang.pick("Perubahan#", "Change#"),
    ];
    table(out, &h, &rows);
    out.push_str("</section>");
}

fn labels(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(out, "<section><h2>{}</h2>", esc(lang.pick("Kategori dan sentimen", "Categories and sentiment")));
    if r.volume.total.value == 0 {
        none_yet(out, lang, lang.pick("percakapan untuk dikelompokkan", "mentions to sort"));
        out.push_str("</section>");
        return;
    }
    let mut categories = r.categories.clone();
    categories.sort_by_key(|c| std::cmp::Reverse(c.n));
    out.push_str(&share_bars(
        lang,
        lang.pick("Kategori", "Categories"),
        &categories,
        |i, _| PALETTE[(i + 2) % PALETTE.len()],
        |k| lang.label(k),
    ));
    let parts: Vec<(String, f64, &str, String)> = r
        .sentiments
        .iter()
        .map(|s| (lang.label(&s.key), s.n as f64, sentiment_color(&s.key), lang.pct(s.share)))
        .collect();
    let refs: Vec<(&str, f64, &str, String)> =
        parts.iter().map(|(a, b, c, d)| (a.as_str(), *b, *c, d.clone())).collect();
    out.push_str(&svg::split(lang.pick("Sentimen", "Sentiment"), &refs));
    let _ = write!(
        out,
        r#"<p>{} <b>{}</b> ({} {}). <span class="note">{}</span></p>"#,
        esc(lang.pick("Indeks sentimen bersih:", "Net sentiment index:")),
        esc(&lang.index(r.net_sentiment.value)),
        esc(lang.previous(r.period)),
        esc(&lang.index(r.net_sentiment.previous)),
        esc(lang.pick(
            "(positif − negatif) ÷ semua × 100, dari −100 sampai +100.",
            "(positive − negative) ÷ all × 100, from −100 to +100."
        ))
    );
    if r.sentiment_by_day.len() > 1 {
        let days: Vec<String> = r.sentiment_by_day.iter().map(|d| lang.day_month(d.day)).collect();
        let series = vec![
            (lang.pick("Positif", "Positive"), POSITIVE, r.sentiment_by_day.iter().map(|d| d.positif as f64).collect()),
            (lang.pick("Netral", "Neutral"), NEUTRAL, r.sentiment_by_day.iter().map(|d| d.netral as f64).collect()),
            (lang.pick("Negatif", "Negative"), NEGATIVE, r.sentiment_by_day.iter().map(|d| d.negatif as f64).collect()),
        ];
        let every = (days.len() / 8).max(1);
        out.push_str(&svg::lines(lang.pick("Sentimen per hari", "Sentiment by day"), &days, &series, every));
    }
    let rows: Vec<Vec<String>> = categories
        .iter()
        .chain(r.sentiments.iter())
        .map(|s| {
            vec![
                esc(&lang.label(&s.key)),
                lang.int(s.n),
                lang.pct(s.share),
                lang.int(s.previous),
                lang.change(pct_change(s.n, s.previous)),
            ]
        })
        .collect();
    let h = [
        lang.pick("Label", "Label"),
        lang.pick("Jumlah#", "Count#"),
        lang.pick("Porsi#", "Share#"),
        lang.pick("Sebelumnya#", "Before#"),
        lang.pick("Perubahan#", "Change#"),
    ];
    table(out, &h, &rows);
    out.push_str("</section>");
}

fn quote(out: &mut String, lang: Lang, e: &super::Example) {
    let link = e
        .url
        .as_ref()
        .map_or_else(String::new, |u| format!(r#" · <a href="{}">{}</a>"#, esc(u), esc(lang.pick("buka", "open"))));
    let _ = write!(
        out,
        "<blockquote>{}<cite>{} · {} · {}{link}</cite></blockquote>",
        esc(&e.text),
        esc(&e.author),
        esc(&lang.label(&e.platform)),
        esc(&lang.moment(e.created_at))
    );
}

fn topics(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(
        out,
        "<section><h2>{}</h2>",
        esc(lang.pick("Topik: kebijakan, program, kegiatan", "Topics: policies, programmes, activities"))
    );
    if r.topics.is_empty() {
        none_yet(out, lang, lang.pick("topik yang dikenali", "recognised topics"));
        out.push_str("</section>");
        return;
    }
    let bars: Vec<Bar<'_>> = r
        .topics
        .iter()
        .map(|t| Bar { label: &t.name, value: t.n as f64, text: lang.int(t.n), color: PALETTE[0] })
        .collect();
    out.push_str(&svg::bars(lang.pick("Topik menurut jumlah percakapan", "Topics by number of mentions"), &bars));
    let rows: Vec<Vec<String>> = r
        .topics
        .iter()
        .map(|t| {
            vec![
                esc(&t.name),
                lang.int(t.n),
                lang.change(pct_change(t.n, t.previous)),
                lang.int(t.positif),
                lang.int(t.netral),
                lang.int(t.negatif),
                lang.index(t.net_sentiment),
            ]
        })
        .collect();
    let h = [
        lang.pick("Topik", "Topic"),
        lang.pick("Jumlah#", "Count#"),
        lang.pick("Perubahan#", "Change#"),
        lang.pick("Positif#", "Positive#"),
        lang.pick("Netral#", "Neutral#"),
        lang.pick("Negatif#", "Negative#"),
        lang.pick("Indeks#", "Index#"),
    ];
    table(out, &h, &rows);
    for t in r.topics.iter().filter(|t| !t.examples.is_empty()) {
        let _ =
            write!(out, "<h3>{}</h3>", esc(&format!("{} — {}", t.name, lang.pick("contoh pesan", "example messages"))));
        for e in &t.examples {
            quote(out, lang, e);
        }
    }
    out.push_str("</section>");
}

fn words(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(out, "<section><h2>{}</h2>", esc(lang.pick("Tagar dan istilah teratas", "Top hashtags and terms")));
    if r.hashtags.is_empty() && r.terms.is_empty() {
        none_yet(out, lang, lang.pick("tagar atau istilah", "hashtags or terms"));
        out.push_str("</section>");
        return;
    }
    if !r.hashtags.is_empty() {
        let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Tagar", "Hashtags")));
        out.push_str(&share_bars(
            lang,
            lang.pick("Tagar teratas", "Top hashtags"),
            &r.hashtags,
            |_, _| PALETTE[4],
            |k| format!("#{k}"),
        ));
    }
    if !r.terms.is_empty() {
        let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Istilah", "Terms")));
        out.push_str(&share_bars(
            lang,
            lang.pick("Istilah teratas", "Top terms"),
            &r.terms,
            |_, _| PALETTE[5],
            str::to_string,
        ));
    }
    out.push_str("</section>");
}

fn people(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(out, "<section><h2>{}</h2>", esc(lang.pick("Tokoh berpengaruh", "Influential voices")));
    for (list, title, none) in [
        (
            &r.critics,
            lang.pick("Pengkritik (hater) dengan pengikut besar", "Critics (haters) with a large following"),
            lang.pick("pengkritik berpengaruh", "influential critics"),
        ),
        (
            &r.advocates,
            lang.pick("Pendukung dengan pengikut besar", "Advocates with a large following"),
            lang.pick("pendukung berpengaruh", "influential advocates"),
        ),
    ] {
        let _ = write!(out, "<h3>{}</h3>", esc(title));
        if list.is_empty() {
            none_yet(out, lang, none);
            continue;
        }
        for p in list {
            let followers = p.followers.map_or_else(|| "–".into(), |f| lang.int(f));
            let _ = write!(
                out,
                r#"<div class="person"><b>{}</b> <span class="note">{} · {} {}</span><br>{}</div>"#,
                esc(&p.name),
                esc(&lang.label(&p.platform)),
                esc(&followers),
                esc(lang.pick("pengikut", "followers")),
                esc(&format!(
                    "{} {} · {} {} / {} {} · {} {}",
                    lang.int(p.messages),
                    lang.pick("pesan", "messages"),
                    lang.int(p.open_cases),
                    lang.pick("kasus terbuka", "cases open"),
                    lang.int(p.closed_cases),
                    lang.pick("selesai", "closed"),
                    lang.int(p.replies),
                    lang.pick("balasan kantor", "office replies")
                ))
            );
            quote(out, lang, &p.latest);
        }
    }
    out.push_str("</section>");
}

fn alerts(out: &mut String, r: &Report, lang: Lang) {
    let _ = write!(out, "<section><h2>{}</h2>", esc(lang.pick("Peringatan dan lonjakan", "Alerts and spikes")));
    if r.alerts.is_empty() {
        none_yet(out, lang, lang.pick("peringatan pada periode ini", "alerts in this period"));
        out.push_str("</section>");
        return;
    }
    let spikes = r.alerts.iter().filter(|a| a.kind == "spike").count() as u64;
    let _ = write!(
        out,
        "<p>{}</p>",
        esc(&format!(
            "{} {} {}, {} {}.",
            lang.int(r.alerts.len() as u64),
            lang.pick("peringatan", "alerts"),
            lang.pick("tercatat", "raised"),
            lang.int(spikes),
            lang.pick("di antaranya lonjakan", "of them spikes")
        ))
    );
    let rows: Vec<Vec<String>> = r
        .alerts
        .iter()
        .map(|a| {
            vec![
                esc(&lang.moment(a.raised_at)),
                esc(&lang.label(&a.kind)),
                format!("<b>{}</b><br>{}", esc(&a.title), esc(&a.body)),
            ]
        })
        .collect();
    table(out, &[lang.pick("Waktu", "Time"), lang.pick("Jenis", "Kind"), lang.pick("Isi", "What")], &rows);
    out.push_str("</section>");
}

fn cases(out: &mut String, r: &Report, lang: Lang) {
    let c = &r.cases;
    let _ =
        write!(out, "<section><h2>{}</h2>", esc(lang.pick("Kasus dan kecepatan respons", "Cases and response times")));
    let _ = write!(
        out,
        "<p>{}</p>",
        esc(&format!(
            "{} {}; {} {}, {} {}, {} {}. {} {}.",
            lang.int(c.opened),
            lang.pick("kasus dari pesan periode ini", "cases from this period's messages"),
            lang.int(c.answered),
            lang.pick("sudah dijawab", "answered"),
            lang.int(c.resolved),
            lang.pick("selesai", "closed"),
            lang.int(c.open),
            lang.pick("masih terbuka", "still open"),
            lang.pick("Seluruh kasus terbuka saat ini:", "All cases open now:"),
            lang.int(c.backlog_now)
        ))
    );
    if c.opened == 0 {
        out.push_str("</section>");
        return;
    }
    let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Kepatuhan SLA per jam-tenggat", "SLA compliance per clock")));
    let bars: Vec<Bar<'_>> = c
        .sla
        .iter()
        .filter(|s| s.met + s.missed + s.running > 0)
        .map(|s| Bar {
            label: "",
            value: s.compliance.unwrap_or(0.0) * 100.0,
            text: lang.pct(s.compliance),
            color: if s.compliance.unwrap_or(0.0) >= 0.9 {
                POSITIVE
            } else if s.compliance.unwrap_or(0.0) >= 0.7 {
                "#c9a100"
            } else {
                NEGATIVE
            },
        })
        .collect();
    let names: Vec<String> =
        c.sla.iter().filter(|s| s.met + s.missed + s.running > 0).map(|s| lang.label(&s.clock)).collect();
    let bars: Vec<Bar<'_>> = bars.into_iter().zip(names.iter()).map(|(b, n)| Bar { label: n, ..b }).collect();
    out.push_str(&svg::bars(lang.pick("Kepatuhan SLA", "SLA compliance"), &bars));
    let rows: Vec<Vec<String>> = c
        .sla
        .iter()
        .map(|s| {
            vec![
                esc(&lang.label(&s.clock)),
                lang.int(s.met),
                lang.int(s.missed),
                lang.int(s.running),
                lang.pct(s.compliance),
            ]
        })
        .collect();
    let h = [
        lang.pick("Jam-tenggat", "Clock"),
        lang.pick("Tepat waktu#", "Met#"),
        lang.pick("Terlewat#", "Missed#"),
        lang.pick("Berjalan#", "Running#"),
        lang.pick("Kepatuhan#", "Compliance#"),
    ];
    table(out, &h, &rows);
    for (title, groups) in [
        (lang.pick("Per platform", "By platform"), &c.by_platform),
        (lang.pick("Per kategori", "By category"), &c.by_category),
    ] {
        let _ = write!(out, "<h3>{}</h3>", esc(title));
        let rows: Vec<Vec<String>> = groups
            .iter()
            .map(|g| {
                let (median, p90) = durations(lang, &g.first_response);
                vec![
                    esc(&lang.label(&g.key)),
                    lang.int(g.opened),
                    lang.int(g.answered),
                    lang.int(g.resolved),
                    median,
                    p90,
                ]
            })
            .collect();
        let h = [
            "",
            lang.pick("Dibuka#", "Opened#"),
            lang.pick("Dijawab#", "Answered#"),
            lang.pick("Selesai#", "Closed#"),
            lang.pick("Median respons#", "Median response#"),
            lang.pick("p90 respons#", "p90 response#"),
        ];
        table(out, &h, &rows);
    }
    out.push_str("</section>");
}

fn posts(out: &mut String, r: &Report, lang: Lang) {
    let p = &r.posts;
    let _ = write!(out, "<section><h2>{}</h2>", esc(lang.pick("Unggahan kantor", "The office's posts")));
    if p.published == 0 {
        none_yet(out, lang, lang.pick("unggahan yang terbit pada periode ini", "posts published in this period"));
        out.push_str("</section>");
        return;
    }
    let _ = write!(
        out,
        "<p>{}</p>",
        esc(&format!(
            "{} {} ({} {}).",
            lang.int(p.published),
            lang.pick("unggahan terbit", "posts published"),
            lang.int(p.reposts),
            lang.pick("berupa repost", "of them reposts")
        ))
    );
    let rows: Vec<Vec<String>> = p
        .by_platform
        .iter()
        .map(|x| {
            vec![
                esc(&lang.label(&x.platform)),
                lang.int(x.posts),
                lang.int(x.likes),
                lang.int(x.comments),
                lang.int(x.shares),
                x.impressions.map_or_else(|| "–".into(), |i| lang.int(i)),
            ]
        })
        .collect();
    let h = [
        lang.pick("Platform", "Platform"),
        lang.pick("Unggahan#", "Posts#"),
        lang.pick("Suka#", "Likes#"),
        lang.pick("Komentar#", "Comments#"),
        lang.pick("Bagikan#", "Shares#"),
        lang.pick("Tayangan#", "Impressions#"),
    ];
    table(out, &h, &rows);
    let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Unggahan terbaik", "Best posts")));
    let rows: Vec<Vec<String>> = p
        .top
        .iter()
        .map(|x| {
            let title = match &x.permalink {
                Some(link) if link.starts_with("http") => format!(r#"<a href="{}">{}</a>"#, esc(link), esc(&x.title)),
                _ => esc(&x.title),
            };
            let when = x.published_at.map_or_else(String::new, |t| lang.moment(t));
            let repeat = if x.repeat { lang.pick(" (ulangan)", " (repeat)") } else { "" };
            vec![
                format!("{title}{}<br><span class=\"note\">{}</span>", esc(repeat), esc(&when)),
                esc(&lang.label(&x.platform)),
                lang.int(x.likes),
                lang.int(x.comments),
                lang.int(x.shares),
            ]
        })
        .collect();
    let h = [
        lang.pick("Unggahan", "Post"),
        lang.pick("Platform", "Platform"),
        lang.pick("Suka#", "Likes#"),
        lang.pick("Komentar#", "Comments#"),
        lang.pick("Bagikan#", "Shares#"),
    ];
    table(out, &h, &rows);
    if let Some(map) = &p.heatmap {
        let _ = write!(out, "<h3>{}</h3>", esc(lang.pick("Jam unggah terbaik (WIB)", "Best posting hours (WIB)")));
        let days: Vec<&str> = (0..7).map(|d| lang.weekday_short(d)).collect();
        out.push_str(&svg::heatmap(
            lang.pick("Keterlibatan rata-rata per hari dan jam", "Mean engagement by weekday and hour"),
            &days,
            &map.score,
        ));
        let _ = write!(out, r#"<p class="note">{}</p>"#, esc(lang.pick("Makin gelap makin tinggi keterlibatan rata-rata (suka + 2×komentar + 3×bagikan); kotak kosong: tidak ada unggahan.", "Darker is higher mean engagement (likes + 2×comments + 3×shares); blank: no post.")));
    }
    if let Some(rep) = &p.repeats {
        let _ = write!(
            out,
            "<p>{}</p>",
            esc(&format!(
                "{} {} ({} {}); {} {} ({} {}).",
                lang.pick("Skor rata-rata unggahan pertama", "Mean score of first posts"),
                lang.dec(rep.first_score, 1),
                lang.int(rep.firsts),
                lang.pick("unggahan", "posts"),
                lang.pick("ulangan", "repeats"),
                lang.dec(rep.repeat_score, 1),
                lang.int(rep.repeats),
                lang.pick("unggahan", "posts")
            ))
        );
    }
    out.push_str("</section>");
}
