//! SLA clocks of SP4N-LAPOR! practice (docs/design.md "SLA clocks"): working days in Asia/Jakarta
//! that skip weekends, national holidays and collective leave (cuti bersama) from a calendar,
//! calendar days for resolution, due times at the end (23:59:59 WIB) of the last day.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::time::{wib_date, wib_day_start};

/// A day off in the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayOff {
    pub date: NaiveDate,
    /// `libur_nasional` or `cuti_bersama`.
    pub kind: String,
    pub name: String,
}

/// The calendar document (built-in default: `holidays.json`; editable through the config table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDoc {
    pub source: String,
    /// Years the calendar is complete for.
    pub years: Vec<i32>,
    pub days: Vec<DayOff>,
}

/// Kinds of day off a calendar may list.
pub const DAY_OFF_KINDS: [&str; 2] = ["libur_nasional", "cuti_bersama"];

impl CalendarDoc {
    /// Checks the document: known kinds, named days, no date twice, every day inside a listed
    /// year, years plausible.
    pub fn validate(&self) -> Result<(), String> {
        if self.years.is_empty() {
            return Err("years must list the years the calendar is complete for".into());
        }
        if let Some(y) = self.years.iter().find(|y| !(2000..=2100).contains(*y)) {
            return Err(format!("years: {y} is outside 2000–2100"));
        }
        let mut seen = BTreeSet::new();
        for (i, day) in self.days.iter().enumerate() {
            if !DAY_OFF_KINDS.contains(&day.kind.as_str()) {
                return Err(format!("days[{i}].kind must be one of {}, got {:?}", DAY_OFF_KINDS.join(", "), day.kind));
            }
            if day.name.trim().is_empty() || day.name.len() > 200 {
                return Err(format!("days[{i}].name must be 1 to 200 characters"));
            }
            if !self.years.contains(&day.date.year()) {
                return Err(format!("days[{i}].date {} is outside the listed years {:?}", day.date, self.years));
            }
            if !seen.insert(day.date) {
                return Err(format!("days[{i}].date {} is listed twice", day.date));
            }
        }
        Ok(())
    }
}

/// Working-day arithmetic over a calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    off: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

/// The shipped calendar.
pub const DEFAULT_CALENDAR: &str = include_str!("holidays.json");

impl Calendar {
    pub fn from_doc(doc: &CalendarDoc) -> Calendar {
        Calendar { off: doc.days.iter().map(|d| d.date).collect(), years: doc.years.iter().copied().collect() }
    }

    /// The built-in calendar.
    pub fn builtin() -> Result<Calendar, serde_json::Error> {
        Ok(Calendar::from_doc(&serde_json::from_str(DEFAULT_CALENDAR)?))
    }

    /// Monday to Friday, and not a holiday or collective leave day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.off.contains(&day)
    }

    /// Whether the calendar knows the holidays of this day's year.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.years.contains(&day.year())
    }

    /// The first working day on or after `day`.
    pub fn working_day_from(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        // A year has at most a few dozen days off; 60 steps always find a working day.
        for _ in 0..60 {
            if self.is_working_day(d) {
                return d;
            }
            d = d.succ_opt().unwrap_or(d);
        }
        d
    }

    /// The `n`-th working day after `start` (`start` itself not counted).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }
}

/// The clocks (defaults from SP4N-LAPOR! norms; configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    pub triage_working_days: u32,
    pub response_working_days: u32,
    pub resolution_days: u32,
    pub resolution_days_with_field_check: u32,
    pub auto_close_working_days: u32,
    /// The social-media response target in hours from arrival, on top of the formal clock
    /// (`null` turns it off).
    pub social_response_hours: Option<u32>,
    /// How long before a due time `watch` sends a reminder, in hours.
    pub reminder_hours: u32,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            triage_working_days: 3,
            response_working_days: 5,
            resolution_days: 14,
            resolution_days_with_field_check: 60,
            auto_close_working_days: 10,
            social_response_hours: Some(24),
            reminder_hours: 24,
        }
    }
}

/// Due times of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaDue {
    /// The working day the clocks start (the arrival day, or the next working day).
    pub start: NaiveDate,
    pub triage_due: DateTime<Utc>,
    pub response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    /// The social-media response target (hours from arrival), when one is set.
    #[serde(default)]
    pub social_response_due: Option<DateTime<Utc>>,
    /// Set when a clock ran past the years the calendar knows (holidays there are missing).
    pub warnings: Vec<String>,
}

/// 23:59:59 WIB of a day.
pub fn end_of_wib_day(day: NaiveDate) -> DateTime<Utc> {
    wib_day_start(day.succ_opt().unwrap_or(day)) - Duration::seconds(1)
}

impl SlaPolicy {
    /// Due times for a case whose message arrived at `received`.
    pub fn due(&self, received: DateTime<Utc>, field_check: bool, calendar: &Calendar) -> SlaDue {
        let start = calendar.working_day_from(wib_date(received));
        let triage = calendar.add_working_days(start, self.triage_working_days);
        let response = calendar.add_working_days(start, self.response_working_days);
        let warnings = [start, triage, response]
            .iter()
            .filter(|d| !calendar.covers(**d))
            .map(|d| {
                format!(
                    "{d} is past the holiday calendar (years {:?}); working days there skip weekends only",
                    calendar.years
                )
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        SlaDue {
            start,
            triage_due: end_of_wib_day(triage),
            response_due: end_of_wib_day(response),
            resolution_due: self.resolution_due(start, field_check),
            social_response_due: self.social_response_hours.map(|h| received + Duration::hours(i64::from(h))),
            warnings,
        }
    }

    /// End of the resolution clock (calendar days from the start day).
    pub fn resolution_due(&self, start: NaiveDate, field_check: bool) -> DateTime<Utc> {
        let days = if field_check { self.resolution_days_with_field_check } else { self.resolution_days };
        end_of_wib_day(start + Duration::days(i64::from(days)))
    }

    /// Checks the numbers are usable: every clock at least one day, at most a year.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("triage_working_days", self.triage_working_days),
            ("response_working_days", self.response_working_days),
            ("resolution_days", self.resolution_days),
            ("resolution_days_with_field_check", self.resolution_days_with_field_check),
            ("auto_close_working_days", self.auto_close_working_days),
        ] {
            if !(1..=365).contains(&v) {
                return Err(format!("{name} must be from 1 to 365, got {v}"));
            }
        }
        if self.social_response_hours.is_some_and(|h| !(1..=720).contains(&h)) {
            return Err("social_response_hours must be from 1 to 720, or null".into());
        }
        if !(1..=240).contains(&self.reminder_hours) {
            return Err(format!("reminder_hours must be from 1 to 240, got {}", self.reminder_hours));
        }
        Ok(())
    }

    /// When a case answered at `responded` closes automatically if nobody replies.
    pub fn auto_close_at(&self, responded: DateTime<Utc>, calendar: &Calendar) -> DateTime<Utc> {
        let start = calendar.working_day_from(wib_date(responded));
        end_of_wib_day(calendar.add_working_days(start, self.auto_close_working_days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn wib(m: u32, day: u32, h: u32) -> DateTime<Utc> {
        // WIB = UTC+7
        Utc.with_ymd_and_hms(2026, m, day, h, 0, 0).unwrap() - Duration::hours(7)
    }

    #[test]
    fn the_shipped_calendar_has_the_skb_days_of_2026_and_2027() {
        let doc: CalendarDoc = serde_json::from_str(DEFAULT_CALENDAR).unwrap();
        doc.validate().unwrap();
        let count = |year: i32, kind: &str| doc.days.iter().filter(|x| x.date.year() == year && x.kind == kind).count();
        assert_eq!((count(2026, "libur_nasional"), count(2026, "cuti_bersama")), (17, 8));
        assert_eq!((count(2027, "libur_nasional"), count(2027, "cuti_bersama")), (18, 8));
        let c = Calendar::from_doc(&doc);
        assert!(!c.is_working_day(d(3, 20)) && !c.is_working_day(d(3, 24)) && c.is_working_day(d(3, 25)));
        assert!(!c.is_working_day(d(11, 28)), "Saturday");
        assert!(c.is_working_day(d(11, 27)));
    }

    #[test]
    fn clocks_skip_weekends_and_holidays_and_end_at_2359_wib() {
        let c = Calendar::builtin().unwrap();
        let p = SlaPolicy::default();
        // Friday 27 Nov 2026, 10:00 WIB: triage by end of Wed 2 Dec, response by Fri 4 Dec.
        let due = p.due(wib(11, 27, 10), false, &c);
        assert_eq!(due.start, d(11, 27));
        assert_eq!(due.triage_due, Utc.with_ymd_and_hms(2026, 12, 2, 16, 59, 59).unwrap());
        assert_eq!(due.response_due, end_of_wib_day(d(12, 4)));
        assert_eq!(due.resolution_due, end_of_wib_day(d(12, 11)), "14 calendar days");
        assert!(due.warnings.is_empty());
        // Saturday arrival starts on Monday.
        assert_eq!(p.due(wib(11, 28, 9), false, &c).start, d(11, 30));
        // Before Lebaran: Thu 19 Mar (Nyepi) arrival starts Wed 25 Mar; 3 working days → Mon 30 Mar.
        let lebaran = p.due(wib(3, 19, 8), false, &c);
        assert_eq!(lebaran.start, d(3, 25));
        assert_eq!(lebaran.triage_due, end_of_wib_day(d(3, 30)));
        assert_eq!(
            p.due(wib(3, 19, 8), true, &c).resolution_due,
            end_of_wib_day(d(5, 24)),
            "60 days with a field check"
        );
    }

    #[test]
    fn a_clock_past_the_calendar_warns() {
        let c = Calendar::builtin().unwrap();
        let due = SlaPolicy::default().due(wib(12, 30, 12), false, &c);
        assert!(due.warnings.is_empty(), "2027 is in the calendar: {:?}", due.warnings);
        // Wed 30 Dec 2026: 31 Dec works, 1 Jan 2027 is off, then Mon 4 Jan; triage ends Tue 5 Jan?
        // No: 5 Jan 2027 is Isra Mikraj, so the third working day is Wed 6 Jan.
        assert_eq!(due.triage_due, end_of_wib_day(NaiveDate::from_ymd_opt(2027, 1, 6).unwrap()));
        let only_2026 = Calendar::from_doc(&CalendarDoc { source: "test".into(), years: vec![2026], days: vec![] });
        let past = SlaPolicy::default().due(wib(12, 30, 12), false, &only_2026);
        assert!(past.warnings.iter().any(|w| w.contains("2027")), "{:?}", past.warnings);
        // Christmas: 24 (cuti bersama) and 25 Dec are off; a reply on Mon 14 Dec auto-closes
        // 10 working days later, on Wed 30 Dec.
        assert_eq!(SlaPolicy::default().auto_close_at(wib(12, 14, 9), &c), end_of_wib_day(d(12, 30)));
    }
}
