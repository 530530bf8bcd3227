//! The report's tables as CSV files that open as they should in Excel. Indonesian: UTF-8 with a
//! byte-order mark (so Excel reads the encoding), `;` between fields and a decimal comma — what
//! Excel expects where the Windows region is Indonesia, whose list separator is `;`. English:
//! the same encoding, `,` and a decimal point. Numbers carry no thousands separators; shares are
//! percentages; times are WIB.

use super::{Lang, Report};

/// One table: its file stem, headers and rows.
pub struct Table {
    pub name: &'static str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A cell: text, or a number written in the language's decimal style.
pub enum Cell {
    Text(String),
    Int(u64),
    Num(Option<f64>),
}

impl Table {
    fn new(name: &'static str, lang: Lang, headers: &[(&str, &str)]) -> Table {
        Table { name, headers: headers.iter().map(|(id, en)| lang.pick(id, en).to_string()).collect(), rows: vec![] }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn pct(share: Option<f64>) -> Cell {
    Cell::Num(share.map(|s| (s * 1000.0).round() / 10.0))
}

fn num(x: Option<f64>) -> Cell {
    Cell::Num(x.map(|v| (v * 10.0).round() / 10.0))
}

/// Every table of the report in `lang`.
pub fn tables(r: &Report, lang: Lang) -> Vec<Table> {
    let label = |code: &str| lang.label(code);
    let mut all = Vec::new();

    let mut platforms: Vec<String> = r.volume.by_platform.iter().map(|s| s.key.clone()).collect();
    platforms.sort();
    let mut t = Table { name: "volume_by_day", headers: vec![lang.pick("Tanggal", "Date").to_string()], rows: vec![] };
    t.headers.extend(platforms.iter().map(|p| label(p)));
    t.headers.push(lang.pick("Jumlah", "Total").to_string());
    for d in &r.volume.by_day {
        let mut row = vec![text(d.day.to_string())];
        row.extend(platforms.iter().map(|p| Cell::Int(d.by_platform.get(p).copied().unwrap_or(0))));
        row.push(Cell::Int(d.total));
        t.rows.push(row);
    }
    all.push(t);

    if let Some(hours) = &r.volume.by_hour {
        let mut t = Table::new("volume_by_hour", lang, &[("Jam (WIB)", "Hour (WIB)"), ("Jumlah", "Count")]);
        t.rows = hours.iter().enumerate().map(|(h, n)| vec![text(format!("{h:02}:00")), Cell::Int(*n)]).collect();
        all.push(t);
    }

    let share_headers = [
        ("Label", "Label"),
        ("Jumlah", "Count"),
        ("Porsi (%)", "Share (%)"),
        ("Periode sebelumnya", "Previous period"),
    ];
    for (name, rows, words) in [
        ("platforms", &r.volume.by_platform, true),
        ("categories", &r.categories, true),
        ("sentiments", &r.sentiments, true),
        ("hashtags", &r.hashtags, false),
        ("terms", &r.terms, false),
    ] {
        let mut t = Table::new(name, lang, &share_headers);
        t.rows = rows
            .iter()
            .map(|s| {
                let key = if words {
                    label(&s.key)
                } else if name == "hashtags" {
                    format!("#{}", s.key)
                } else {
                    s.key.clone()
                };
                vec![text(key), Cell::Int(s.n), pct(s.share), Cell::Int(s.previous)]
            })
            .collect();
        all.push(t);
    }

    let mut t = Table::new(
        "topics",
        lang,
        &[
            ("Kode", "Code"),
            ("Topik", "Topic"),
            ("Jumlah", "Count"),
            ("Periode sebelumnya", "Previous period"),
            ("Positif", "Positive"),
            ("Netral", "Neutral"),
            ("Negatif", "Negative"),
            ("Indeks sentimen", "Net sentiment"),
        ],
    );
    t.rows = r
        .topics
        .iter()
        .map(|x| {
            vec![
                text(&x.id),
                text(&x.name),
                Cell::Int(x.n),
                Cell::Int(x.previous),
                Cell::Int(x.positif),
                Cell::Int(x.netral),
                Cell::Int(x.negatif),
                num(x.net_sentiment),
            ]
        })
        .collect();
    all.push(t);

    let mut t = Table::new(
        "people",
        lang,
        &[
            ("Peran", "Role"),
            ("Akun", "Account"),
            ("Platform", "Platform"),
            ("Pengikut", "Followers"),
            ("Pesan", "Messages"),
            ("Kasus terbuka", "Open cases"),
            ("Kasus selesai", "Closed cases"),
            ("Balasan", "Replies"),
            ("Pesan terakhir", "Latest message"),
        ],
    );
    for (role, list) in
        [(lang.pick("pengkritik", "critic"), &r.critics), (lang.pick("pendukung", "advocate"), &r.advocates)]
    {
        for p in list {
            t.rows.push(vec![
                text(role),
                text(&p.name),
                text(label(&p.platform)),
                Cell::Num(p.followers.map(|f| f as f64)),
                Cell::Int(p.messages),
                Cell::Int(p.open_cases),
                Cell::Int(p.closed_cases),
                Cell::Int(p.replies),
                text(&p.latest.text),
            ]);
        }
    }
    all.push(t);

    let mut t = Table::new(
        "alerts",
        lang,
        &[("Waktu (WIB)", "Time (WIB)"), ("Jenis", "Kind"), ("Judul", "Title"), ("Isi", "Text")],
    );
    t.rows = r
        .alerts
        .iter()
        .map(|a| vec![text(lang.moment(a.raised_at)), text(label(&a.kind)), text(&a.title), text(&a.body)])
        .collect();
    all.push(t);

    let mut t = Table::new(
        "cases",
        lang,
        &[
            ("Kelompok", "Group"),
            ("Nilai", "Value"),
            ("Dibuka", "Opened"),
            ("Dijawab", "Answered"),
            ("Selesai", "Closed"),
            ("Median respons (jam)", "Median response (hours)"),
            ("p90 respons (jam)", "p90 response (hours)"),
        ],
    );
    let all_cases = [(
        lang.pick("semua", "all"),
        String::new(),
        r.cases.opened,
        r.cases.answered,
        r.cases.resolved,
        r.cases.first_response,
    )];
    for (group, key, opened, answered, resolved, d) in all_cases {
        t.rows.push(vec![
            text(group),
            text(key),
            Cell::Int(opened),
            Cell::Int(answered),
            Cell::Int(resolved),
            num(d.median_hours),
            num(d.p90_hours),
        ]);
    }
    for (group, list) in [
        (lang.pick("platform", "platform"), &r.cases.by_platform),
        (lang.pick("kategori", "category"), &r.cases.by_category),
    ] {
        for g in list {
            t.rows.push(vec![
                text(group),
                text(label(&g.key)),
                Cell::Int(g.opened),
                Cell::Int(g.answered),
                Cell::Int(g.resolved),
                num(g.first_response.median_hours),
                num(g.first_response.p90_hours),
            ]);
        }
    }
    all.push(t);

    let mut t = Table::new(
        "sla",
        lang,
        &[
            ("Jam-tenggat", "Clock"),
            ("Tepat waktu", "Met"),
            ("Terlewat", "Missed"),
            ("Berjalan", "Running"),
            ("Kepatuhan (%)", "Compliance (%)"),
        ],
    );
    t.rows = r
        .cases
        .sla
        .iter()
        .map(|s| {
            vec![text(label(&s.clock)), Cell::Int(s.met), Cell::Int(s.missed), Cell::Int(s.running), pct(s.compliance)]
        })
        .collect();
    all.push(t);

    let mut t = Table::new(
        "posts",
        lang,
        &[
            ("Unggahan", "Post"),
            ("Platform", "Platform"),
            ("Terbit (WIB)", "Published (WIB)"),
            ("Suka", "Likes"),
            ("Komentar", "Comments"),
            ("Bagikan", "Shares"),
            ("Tayangan", "Impressions"),
            ("Ulangan", "Repeat"),
            ("Tautan", "Link"),
        ],
    );
    t.rows = r
        .posts
        .top
        .iter()
        .map(|p| {
            vec![
                text(&p.title),
                text(label(&p.platform)),
                text(p.published_at.map(|t| lang.moment(t)).unwrap_or_default()),
                Cell::Int(p.likes),
                Cell::Int(p.comments),
                Cell::Int(p.shares),
                Cell::Num(p.impressions.map(|i| i as f64)),
                text(if p.repeat { lang.pick("ya", "yes") } else { lang.pick("tidak", "no") }),
                text(p.permalink.clone().unwrap_or_default()),
            ]
        })
        .collect();
    all.push(t);
    all
}

/// A table as a CSV file in `lang`'s conventions.
pub fn encode(table: &Table, lang: Lang) -> Vec<u8> {
    let sep = match lang {
        Lang::Id => ';',
        Lang::En => ',',
    };
    let field = |s: &str| {
        if s.contains(sep)
            || s.contains('"')
            || s.contains('\n')
            || s.contains('\r')
            || s.starts_with(['=', '+', '-', '@'])
        {
            // Quoted; a leading formula character is neutralised so Excel shows it as text.
            let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| cells.join(&sep.to_string());
    out.push_str(&line(table.headers.iter().map(|h| field(h)).collect()));
    out.push_str("\r\n");
    for row in &table.rows {
        let cells = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => field(s),
                Cell::Int(n) => n.to_string(),
                Cell::Num(None) => String::new(),
                Cell::Num(Some(x)) => {
                    let s = format!("{x}");
                    if lang == Lang::Id { s.replace('.', ",") } else { s }
                }
            })
            .collect();
        out.push_str(&line(cells));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_csv_has_a_bom_semicolons_and_decimal_commas() {
        let t = Table {
            name: "t",
            headers: vec!["Label".into(), "Porsi (%)".into()],
            rows: vec![
                vec![Cell::Text("Jalan; rusak \"parah\"".into()), Cell::Num(Some(12.5))],
                vec![Cell::Text("=1+1".into()), Cell::Int(3)],
            ],
        };
        let id = String::from_utf8(encode(&t, Lang::Id)).unwrap();
        assert_eq!(id, "\u{feff}Label;Porsi (%)\r\n\"Jalan; rusak \"\"parah\"\"\";12,5\r\n\"'=1+1\";3\r\n");
        let en = String::from_utf8(encode(&t, Lang::En)).unwrap();
        assert!(en.contains("Jalan; rusak \"\"parah\"\"\",12.5"), "{en}");
    }
}
