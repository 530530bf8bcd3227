//! Inline SVG charts for the HTML report: no script, no external asset, a fixed drawing size
//! (`viewBox`) that scales to the page, a `<title>` for screen readers, and numbers printed on
//! or beside the marks so a chart reads without a legend lookup.

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Colours of the series (platforms in turn, then the rest).
pub const PALETTE: [&str; 8] = ["#1f6fb2", "#e07b00", "#2e9e5b", "#c23b3b", "#7b52ab", "#5b6d7a", "#c9a100", "#17a2b8"];
pub const POSITIVE: &str = "#2e9e5b";
pub const NEUTRAL: &str = "#9aa5b1";
pub const NEGATIVE: &str = "#c23b3b";
const INK: &str = "#1d2733";
const GRID: &str = "#dde3ea";
const WIDTH: f64 = 480.0;

fn open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="13"><title>{}</title>"#,
        esc(title)
    );
}

/// One horizontal bar per row: label, bar, the value in words.
pub struct Bar<'a> {
    pub label: &'a str,
    pub value: f64,
    pub text: String,
    pub color: &'a str,
}

/// A bar list: each row its label and value as text (readable at any width) around a bar
/// drawn in SVG, all bars on one scale.
pub fn bars(title: &str, rows: &[Bar<'_>]) -> String {
    let max = rows.iter().map(|r| r.value).fold(0.0, f64::max);
    let mut out = String::new();
    let _ = write!(out, r#"<figure class="bars" role="img" aria-label="{}">"#, esc(title));
    for r in rows {
        let w = if max > 0.0 { (r.value / max * 100.0).max(if r.value > 0.0 { 0.8 } else { 0.0 }) } else { 0.0 };
        let _ = write!(
            out,
            r#"<div class="bar"><span class="bl">{}</span><svg class="bs" viewBox="0 0 100 10" preserveAspectRatio="none" width="100" height="10"><rect width="{w:.2}" height="10" rx="1" fill="{}"/></svg><span class="bv">{}</span></div>"#,
            esc(r.label),
            r.color,
            esc(&r.text)
        );
    }
    out.push_str("</figure>");
    out
}

/// Columns over days (or hours), each stacked by series; `labels` under every `label_every`-th.
pub struct Stack<'a> {
    pub label: String,
    pub parts: Vec<(f64, &'a str)>,
}

pub fn columns(title: &str, columns: &[Stack<'_>], label_every: usize, max_text: &str) -> String {
    let height = 220.0;
    let (left, bottom, top) = (44.0, 28.0, 16.0);
    let plot_h = height - bottom - top;
    let n = columns.len().max(1) as f64;
    let slot = (WIDTH - left - 8.0) / n;
    let bar_w = (slot * 0.72).max(1.0);
    let max = columns.iter().map(|c| c.parts.iter().map(|p| p.0).sum::<f64>()).fold(0.0, f64::max);
    let mut out = String::new();
    open(&mut out, height, title);
    let _ = write!(
        out,
        r#"<line x1="{left}" y1="{}" x2="{WIDTH}" y2="{}" stroke="{GRID}"/><line x1="{left}" y1="{top}" x2="{WIDTH}" y2="{top}" stroke="{GRID}" stroke-dasharray="3 3"/><text x="{}" y="{}" text-anchor="end" fill="{INK}">{}</text><text x="{}" y="{}" text-anchor="end" fill="{INK}">0</text>"#,
        top + plot_h,
        top + plot_h,
        left - 4.0,
        top + 4.0,
        esc(max_text),
        left - 4.0,
        top + plot_h + 4.0
    );
    for (i, c) in columns.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        for (value, color) in &c.parts {
            let h = if max > 0.0 { value / max * plot_h } else { 0.0 };
            if h > 0.0 {
                y -= h;
                let _ =
                    write!(out, r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{color}"/>"#);
            }
        }
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" fill="{INK}" font-size="10">{}</text>"#,
                x + bar_w / 2.0,
                height - 10.0,
                esc(&c.label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Lines over the same points (sentiment by day): each series a colour.
pub fn lines(title: &str, labels: &[String], series: &[(&str, &str, Vec<f64>)], label_every: usize) -> String {
    let height = 200.0;
    let (left, bottom, top) = (44.0, 28.0, 12.0);
    let plot_h = height - bottom - top;
    let n = labels.len().max(2) as f64 - 1.0;
    let step = (WIDTH - left - 12.0) / n;
    let max = series.iter().flat_map(|s| s.2.iter().copied()).fold(0.0, f64::max);
    let mut out = String::new();
    open(&mut out, height, title);
    let _ =
        write!(out, r#"<line x1="{left}" y1="{}" x2="{WIDTH}" y2="{}" stroke="{GRID}"/>"#, top + plot_h, top + plot_h);
    for (name, color, values) in series {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let y = top + plot_h - if max > 0.0 { v / max * plot_h } else { 0.0 };
                format!("{:.1},{y:.1}", left + i as f64 * step)
            })
            .collect();
        if points.len() == 1 {
            let _ = write!(
                out,
                r#"<circle cx="{left}" cy="{}" r="4" fill="{color}"/>"#,
                points[0].split(',').nth(1).unwrap_or("0")
            );
        } else {
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"><title>{}</title></polyline>"#,
                points.join(" "),
                esc(name)
            );
        }
    }
    for (i, l) in labels.iter().enumerate() {
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" fill="{INK}" font-size="10">{}</text>"#,
                left + i as f64 * step,
                height - 10.0,
                esc(l)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Shares of one whole as one bar split in parts, with a legend beneath.
pub fn split(title: &str, parts: &[(&str, f64, &str, String)]) -> String {
    let height = 64.0;
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let mut out = String::new();
    open(&mut out, height, title);
    let mut x = 0.0;
    for (_, value, color, _) in parts {
        let w = if total > 0.0 { value / total * WIDTH } else { 0.0 };
        if w > 0.0 {
            let _ = write!(out, r#"<rect x="{x:.1}" y="0" width="{w:.1}" height="26" fill="{color}"/>"#);
            x += w;
        }
    }
    if total == 0.0 {
        let _ = write!(out, r#"<rect x="0" y="0" width="{WIDTH}" height="26" fill="{GRID}"/>"#);
    }
    let legend_w = WIDTH / parts.len().max(1) as f64;
    for (i, (name, _, color, text)) in parts.iter().enumerate() {
        let lx = i as f64 * legend_w;
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="40" width="12" height="12" fill="{color}"/><text x="{:.1}" y="50" fill="{INK}">{} {}</text>"#,
            lx + 16.0,
            esc(name),
            esc(text)
        );
    }
    out.push_str("</svg>");
    out
}

/// A 7 × 24 grid (weekday × WIB hour): darker is more; empty cells are blank.
pub fn heatmap(title: &str, rows: &[&str], cells: &[Vec<Option<f64>>]) -> String {
    let (left, top, cell_w, cell_h) = (40.0, 18.0, 24.0, 22.0);
    let height = top + cell_h * rows.len() as f64 + 6.0;
    let max = cells.iter().flatten().flatten().copied().fold(0.0, f64::max);
    let mut out = String::new();
    open(&mut out, height, title);
    for h in (0..24).step_by(3) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="12" text-anchor="middle" fill="{INK}" font-size="10">{h:02}</text>"#,
            left + h as f64 * cell_w + cell_w / 2.0
        );
    }
    for (d, name) in rows.iter().enumerate() {
        let y = top + d as f64 * cell_h;
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end" fill="{INK}">{}</text>"#,
            left - 4.0,
            y + 15.0,
            esc(name)
        );
        for h in 0..24 {
            let x = left + h as f64 * cell_w;
            let value = cells.get(d).and_then(|r| r.get(h)).copied().flatten();
            let (fill, opacity) = match value {
                Some(v) if max > 0.0 => ("#1f6fb2", 0.15 + 0.85 * (v / max)),
                Some(_) => ("#1f6fb2", 0.15),
                None => ("#f1f4f7", 1.0),
            };
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}" fill-opacity="{opacity:.2}"/>"#,
                cell_w - 2.0,
                cell_h - 2.0
            );
        }
    }
    out.push_str("</svg>");
    out
}
