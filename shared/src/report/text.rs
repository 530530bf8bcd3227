//! The words and number formats of a report: Bahasa Indonesia by default (1.234,5; Senin, 7
//! Desember 2026), English on request (1,234.5; Monday, 7 December 2026). Label codes are turned
//! into words here and nowhere else.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};

use crate::domain::ReportPeriod;
use crate::time::wib;

/// The language a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "id" => Ok(Lang::Id),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?}: id (Bahasa Indonesia) or en (English)")),
        }
    }
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The word for `id` in this language.
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    fn separators(self) -> (char, char) {
        match self {
            Lang::Id => ('.', ','),
            Lang::En => (',', '.'),
        }
    }

    /// A whole number with thousands separators: `1.234.567` / `1,234,567`.
    pub fn int(self, n: u64) -> String {
        group(&n.to_string(), self.separators().0)
    }

    /// A signed whole number.
    pub fn signed_int(self, n: i64) -> String {
        let sign = if n < 0 {
            "−"
        } else if n > 0 {
            "+"
        } else {
            ""
        };
        format!("{sign}{}", self.int(n.unsigned_abs()))
    }

    /// A number with `places` decimals: `1.234,5` / `1,234.5`.
    pub fn dec(self, x: f64, places: usize) -> String {
        let (thousands, decimal) = self.separators();
        let text = format!("{:.*}", places, x.abs());
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        let sign = if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "−" } else { "" };
        if frac.is_empty() {
            format!("{sign}{}", group(whole, thousands))
        } else {
            format!("{sign}{}{decimal}{frac}", group(whole, thousands))
        }
    }

    /// A share 0–1 as a percentage with one decimal: `12,5%` / `12.5%`.
    pub fn pct(self, share: Option<f64>) -> String {
        share.map_or_else(|| "–".to_string(), |s| format!("{}%", self.dec(s * 100.0, 1)))
    }

    /// A change in percent with its sign: `+12,5%`.
    pub fn change(self, pct: Option<f64>) -> String {
        match pct {
            None => "–".into(),
            Some(p) if p > 0.0 => format!("+{}%", self.dec(p, 1)),
            Some(p) => format!("{}%", self.dec(p, 1)),
        }
    }

    /// A net-sentiment index (−100…100) with its sign.
    pub fn index(self, value: Option<f64>) -> String {
        match value {
            None => "–".into(),
            Some(v) if v > 0.0 => format!("+{}", self.dec(v, 1)),
            Some(v) => self.dec(v, 1),
        }
    }

    /// Hours as `3,5 jam` / `3.5 h`.
    pub fn hours(self, h: Option<f64>) -> String {
        match h {
            None => "–".into(),
            Some(h) if h >= 48.0 => format!("{} {}", self.dec(h / 24.0, 1), self.pick("hari", "days")),
            Some(h) => format!("{} {}", self.dec(h, 1), self.pick("jam", "h")),
        }
    }

    pub fn weekday(self, d: Weekday) -> &'static str {
        let i = d.num_days_from_monday() as usize;
        match self {
            Lang::Id => ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"][i],
            Lang::En => ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][i],
        }
    }

    pub fn weekday_short(self, i: usize) -> &'static str {
        match self {
            Lang::Id => ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"][i % 7],
            Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i % 7],
        }
    }

    pub fn month(self, m: u32) -> &'static str {
        let i = (m.clamp(1, 12) - 1) as usize;
        match self {
            Lang::Id => [
                "Januari",
                "Februari",
                "Maret",
                "April",
                "Mei",
                "Juni",
                "Juli",
                "Agustus",
                "September",
                "Oktober",
                "November",
                "Desember",
            ][i],
            Lang::En => [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ][i],
        }
    }

    /// `Senin, 7 Desember 2026` / `Monday, 7 December 2026`.
    pub fn date(self, d: NaiveDate) -> String {
        format!("{}, {} {} {}", self.weekday(d.weekday()), d.day(), self.month(d.month()), d.year())
    }

    /// `7 Des` / `7 Dec` (chart axes).
    pub fn day_month(self, d: NaiveDate) -> String {
        let month: String = self.month(d.month()).chars().take(3).collect();
        format!("{} {month}", d.day())
    }

    /// A moment in WIB: `Senin, 7 Desember 2026 09.30 WIB` / `… 09:30 WIB`.
    pub fn moment(self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&wib());
        let time = match self {
            Lang::Id => local.format("%H.%M"),
            Lang::En => local.format("%H:%M"),
        };
        format!("{} {time} WIB", self.date(local.date_naive()))
    }

    /// The range in words: one day, or `1–7 Desember 2026`, or across months.
    pub fn range(self, from: NaiveDate, to: NaiveDate) -> String {
        if from == to {
            return self.date(from);
        }
        if from.year() == to.year() && from.month() == to.month() {
            return format!("{}–{} {} {}", from.day(), to.day(), self.month(to.month()), to.year());
        }
        let short = |d: NaiveDate| format!("{} {} {}", d.day(), self.month(d.month()), d.year());
        format!("{} – {}", short(from), short(to))
    }

    pub fn period(self, p: ReportPeriod) -> &'static str {
        match p {
            ReportPeriod::Daily => self.pick("Laporan harian", "Daily report"),
            ReportPeriod::Weekly => self.pick("Laporan mingguan", "Weekly report"),
            ReportPeriod::Monthly => self.pick("Laporan bulanan", "Monthly report"),
            ReportPeriod::Custom => self.pick("Laporan periode", "Period report"),
        }
    }

    /// The previous period in words ("hari sebelumnya", "previous week").
    pub fn previous(self, p: ReportPeriod) -> &'static str {
        match p {
            ReportPeriod::Daily => self.pick("hari sebelumnya", "previous day"),
            ReportPeriod::Weekly => self.pick("minggu sebelumnya", "previous week"),
            ReportPeriod::Monthly => self.pick("bulan sebelumnya", "previous month"),
            ReportPeriod::Custom => self.pick("periode sebelumnya", "previous period"),
        }
    }

    /// A label code in words (categories, sentiments, platforms, case statuses, SLA clocks,
    /// influence tiers, alert kinds); an unknown code is shown as it is.
    pub fn label(self, code: &str) -> String {
        let (id, en) = match code {
            "pengaduan" => ("Pengaduan", "Complaint"),
            "aspirasi" => ("Aspirasi", "Aspiration"),
            "permintaan_informasi" => ("Permintaan informasi", "Information request"),
            "apresiasi" => ("Apresiasi", "Appreciation"),
            "hater" => ("Hater (serangan)", "Hater (hostile)"),
            "lainnya" => ("Lainnya", "Other"),
            "positif" => ("Positif", "Positive"),
            "netral" => ("Netral", "Neutral"),
            "negatif" => ("Negatif", "Negative"),
            "facebook" => ("Facebook", "Facebook"),
            "instagram" => ("Instagram", "Instagram"),
            "whatsapp" => ("WhatsApp", "WhatsApp"),
            "x" => ("X", "X"),
            "telegram" => ("Telegram", "Telegram"),
            "youtube" => ("YouTube", "YouTube"),
            "news" => ("Berita daring", "Online news"),
            "api" => ("Aplikasi lain (API)", "Other apps (API)"),
            "baru" => ("Baru", "New"),
            "diverifikasi" => ("Diverifikasi", "Verified"),
            "ditindaklanjuti" => ("Ditindaklanjuti", "In progress"),
            "selesai" => ("Selesai", "Resolved"),
            "ditunda" => ("Ditunda", "On hold"),
            "bukan_wewenang" => ("Bukan wewenang", "Not our authority"),
            "ditutup_otomatis" => ("Ditutup otomatis", "Closed automatically"),
            "triase" => ("Triase", "Triage"),
            "respon" => ("Respons pertama", "First response"),
            "respon_medsos" => ("Target media sosial", "Social-media target"),
            "penyelesaian" => ("Penyelesaian", "Resolution"),
            "kecil" => ("Kecil", "Small"),
            "menengah" => ("Menengah", "Medium"),
            "besar" => ("Besar", "Large"),
            "sangat_besar" => ("Sangat besar", "Very large"),
            "tidak_diketahui" => ("Tidak diketahui", "Unknown"),
            "influential_hater" => ("Hater berpengaruh", "Influential hater"),
            "spike" => ("Lonjakan", "Spike"),
            "sla_reminder" => ("Pengingat SLA", "SLA reminder"),
            "sla_breach" => ("SLA terlewat", "SLA breach"),
            "sla_digest" => ("Ringkasan SLA", "SLA digest"),
            "calendar" => ("Kalender libur", "Holiday calendar"),
            "publish_failed" => ("Unggahan gagal", "Post failed"),
            "publish_unconfirmed" => ("Unggahan belum pasti", "Post unconfirmed"),
            "channel_unhealthy" => ("Akun bermasalah", "Account unhealthy"),
            "token_expiry" => ("Token akan kedaluwarsa", "Token expiring"),
            "report_ready" => ("Laporan siap", "Report ready"),
            other => return other.to_string(),
        };
        self.pick(id, en).to_string()
    }
}

/// Inserts `sep` every three digits from the right.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_are_written_as_each_language_writes_them() {
        assert_eq!(Lang::Id.int(1_234_567), "1.234.567");
        assert_eq!(Lang::En.int(1_234_567), "1,234,567");
        assert_eq!(Lang::Id.dec(1234.5, 1), "1.234,5");
        assert_eq!(Lang::En.dec(1234.5, 1), "1,234.5");
        assert_eq!(Lang::Id.dec(-0.04, 1), "0,0");
        assert_eq!(Lang::Id.dec(-3.25, 1), "−3,2");
        assert_eq!(Lang::Id.pct(Some(0.125)), "12,5%");
        assert_eq!(Lang::Id.change(Some(12.0)), "+12,0%");
        assert_eq!(Lang::Id.int(999), "999");
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(Lang::Id.date(d), "Senin, 7 Desember 2026");
        assert_eq!(Lang::En.date(d), "Monday, 7 December 2026");
        assert_eq!(Lang::Id.range(d, d + chrono::Duration::days(6)), "7–13 Desember 2026");
        let at = DateTime::parse_from_rfc3339("2026-12-07T02:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(Lang::Id.moment(at), "Senin, 7 Desember 2026 09.30 WIB");
        assert_eq!(Lang::Id.label("permintaan_informasi"), "Permintaan informasi");
        assert_eq!(Lang::En.label("selesai"), "Resolved");
    }
}
