//! The schedules of the suite, as the template declares them (times in Asia/Jakarta), and the
//! arithmetic the local scheduler uses to fire them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};

use crate::time::{WIB, wib_day_start};

crate::domain::labels::vocabulary! {
    /// The schedules of the template, by the name their events carry.
    ScheduleName, "schedule" {
        /// Poll X mentions, YouTube comments, news feeds, Graph lookups (5 min).
        Poll => "poll",
        /// Publish due post occurrences (1 min).
        Publish => "publish",
        /// SLA reminders and breaches, automatic close, spikes (15 min).
        Watch => "watch",
        /// Sweep the outbox (1 min).
        Relay => "relay",
        ReportDaily => "report-daily",
        ReportWeekly => "report-weekly",
        ReportMonthly => "report-monthly",
    }
}

/// A named schedule and the function it triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub name: ScheduleName,
    pub expression: &'static str,
    pub function: &'static str,
}

/// Every schedule (a test compares them with `infra/template.yaml`).
pub const SCHEDULES: &[Schedule] = &[
    Schedule { name: ScheduleName::Poll, expression: "rate(5 minutes)", function: "ingest-poll" },
    Schedule { name: ScheduleName::Publish, expression: "rate(1 minute)", function: "publish" },
    Schedule { name: ScheduleName::Watch, expression: "rate(15 minutes)", function: "watch" },
    Schedule { name: ScheduleName::Relay, expression: "rate(1 minute)", function: "watch" },
    Schedule { name: ScheduleName::ReportDaily, expression: "cron(0 7 * * ? *)", function: "report" },
    Schedule { name: ScheduleName::ReportWeekly, expression: "cron(0 7 ? * MON *)", function: "report" },
    Schedule { name: ScheduleName::ReportMonthly, expression: "cron(0 7 1 * ? *)", function: "report" },
];

/// A parsed expression: the subset of EventBridge syntax the suite uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Minutes(u32),
    /// At minute:hour WIB, optionally only on a day of month or a weekday.
    Cron {
        minute: u32,
        hour: u32,
        day: Option<u32>,
        weekday: Option<Weekday>,
    },
}

/// An expression outside the supported subset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported schedule expression {0:?}")]
pub struct BadExpression(pub String);

impl Every {
    pub fn parse(expression: &str) -> Result<Every, BadExpression> {
        let bad = || BadExpression(expression.to_string());
        if let Some(rate) = expression.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let (n, unit) = rate.split_once(' ').ok_or_else(bad)?;
            let n: u32 = n.parse().map_err(|_| bad())?;
            return match unit {
                "minute" | "minutes" if n > 0 => Ok(Every::Minutes(n)),
                "hour" | "hours" if n > 0 => Ok(Every::Minutes(n * 60)),
                _ => Err(bad()),
            };
        }
        let cron = expression.strip_prefix("cron(").and_then(|c| c.strip_suffix(')')).ok_or_else(bad)?;
        let f: Vec<&str> = cron.split(' ').collect();
        if f.len() != 6 || f[3] != "*" || f[5] != "*" {
            return Err(bad());
        }
        let minute = f[0].parse().map_err(|_| bad())?;
        let hour = f[1].parse().map_err(|_| bad())?;
        let day = match f[2] {
            "*" | "?" => None,
            d => Some(d.parse().map_err(|_| bad())?),
        };
        let weekday = match f[4] {
            "*" | "?" => None,
            w => Some(w.parse::<Weekday>().map_err(|_| bad())?),
        };
        if minute > 59 || hour > 23 {
            return Err(bad());
        }
        Ok(Every::Cron { minute, hour, day, weekday })
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            Every::Minutes(n) => {
                let step = i64::from(n) * 60;
                let next = (after.timestamp().div_euclid(step) + 1) * step;
                DateTime::from_timestamp(next, 0).unwrap_or(after + Duration::seconds(step))
            }
            Every::Cron { minute, hour, day, weekday } => {
                let local = after.with_timezone(&WIB);
                let at = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
                let mut date: NaiveDate = local.date_naive();
                // At most ~366 days ahead for a day-of-month rule; a weekday rule needs 8.
                for _ in 0..400 {
                    let fits = day.is_none_or(|d| date.day() == d) && weekday.is_none_or(|w| date.weekday() == w);
                    let fire = wib_day_start(date) + Duration::seconds(i64::from(at.num_seconds_from_midnight()));
                    if fits && fire > after {
                        return fire;
                    }
                    date = date.succ_opt().unwrap_or(date);
                }
                after + Duration::days(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_declared_expression_parses() {
        for s in SCHEDULES {
            Every::parse(s.expression).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
        assert!(Every::parse("rate(0 minutes)").is_err());
        assert!(Every::parse("cron(0 7 * 1 ? *)").is_err());
    }

    #[test]
    fn crons_fire_at_wib_times() {
        let daily = Every::parse("cron(0 7 * * ? *)").unwrap();
        // 2026-11-27 00:30 UTC is 07:30 WIB: the next 07:00 WIB is tomorrow, 00:00 UTC.
        let after = Utc.with_ymd_and_hms(2026, 11, 27, 0, 30, 0).unwrap();
        assert_eq!(daily.next_after(after), Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap());
        let weekly = Every::parse("cron(0 7 ? * MON *)").unwrap();
        assert_eq!(weekly.next_after(after), Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
        let monthly = Every::parse("cron(0 7 1 * ? *)").unwrap();
        assert_eq!(monthly.next_after(after), Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        let five = Every::parse("rate(5 minutes)").unwrap();
        assert_eq!(five.next_after(after), Utc.with_ymd_and_hms(2026, 11, 27, 0, 35, 0).unwrap());
    }
}
