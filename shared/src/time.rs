//! Time helpers: storage is UTC, people read and schedule in Asia/Jakarta (WIB, UTC+7, no DST).

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};

/// Western Indonesia Time. Indonesia has no daylight saving, so a fixed offset is exact.
pub const WIB: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Western Indonesia Time as a value (see [`WIB`]).
pub fn wib() -> FixedOffset {
    WIB
}

/// The WIB calendar day an instant falls on (reports and day partitions use WIB days).
pub fn wib_date(at: DateTime<Utc>) -> NaiveDate {
    // Checked: instants at the edge of chrono's range have no representable local date.
    at.naive_utc().checked_add_signed(chrono::TimeDelta::hours(7)).map(|local| local.date()).unwrap_or(at.date_naive())
}

/// The UTC instant at which a WIB day starts.
pub fn wib_day_start(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match wib().from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        _ => Utc.from_utc_datetime(&midnight),
    }
}

/// Fixed-width RFC 3339 in UTC with milliseconds, so that strings sort like instants.
pub fn sortable(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Something that tells the time; handlers take it so that tests and `--now` can fix it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant (`pantau invoke --now`, tests).
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock moved by hand: the demo walks through days with it, tests through whole series.
pub struct SettableClock(std::sync::atomic::AtomicI64);

impl SettableClock {
    pub fn new(at: DateTime<Utc>) -> std::sync::Arc<Self> {
        std::sync::Arc::new(SettableClock(std::sync::atomic::AtomicI64::new(at.timestamp_millis())))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        self.0.store(at.timestamp_millis(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wib_day_changes_at_17_utc() {
        let before = Utc.with_ymd_and_hms(2026, 11, 27, 16, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 11, 27, 17, 0, 0).unwrap();
        assert_eq!(wib_date(before), NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        assert_eq!(wib_date(after), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        assert_eq!(wib_day_start(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()), after);
    }

    #[test]
    fn sortable_strings_order_like_instants() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::milliseconds(1);
        assert_eq!(sortable(a), "2026-01-02T03:04:05.000Z");
        assert!(sortable(a) < sortable(b));
    }
}
