//! Series on the calendar: the slots a schedule gives, checked before a series is stored, and
//! made into occurrences a rolling horizon ahead. Occurrence ids are their slots, so making
//! them twice adds none and editing a series never duplicates or loses one.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};

use crate::domain::{Account, Occurrence, OccurrenceState, Platform, Post, Schedule, Series};
use crate::time::wib;

/// The hours a "best times" series takes, by platform and weekday (from the engagement model).
pub type BestHours<'a> = &'a (dyn Fn(Platform, Weekday, u32) -> Vec<NaiveTime> + Sync);

/// A schedule that cannot be a series, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> ScheduleError {
    ScheduleError { field, message: message.into() }
}

/// Checks a schedule: times to publish at, an end, runs that make sense, and at most `cap`
/// publications per platform.
pub fn check(schedule: &Schedule, cap: u32) -> Result<(), ScheduleError> {
    match (schedule.times_wib.is_empty(), schedule.best_times) {
        (true, None) => return Err(refuse("schedule.times_wib", "give at least one time of day (or best_times)")),
        (false, Some(_)) => return Err(refuse("schedule.best_times", "give times_wib or best_times, not both")),
        (_, Some(n)) if !(1..=6).contains(&n) => return Err(refuse("schedule.best_times", "1 to 6 a day")),
        _ => {}
    }
    let distinct: BTreeSet<&NaiveTime> = schedule.times_wib.iter().collect();
    if distinct.len() != schedule.times_wib.len() {
        return Err(refuse("schedule.times_wib", "a time is given twice"));
    }
    if schedule.times_wib.len() > 12 {
        return Err(refuse("schedule.times_wib", "at most 12 times a day"));
    }
    if schedule.run_days == 0 || schedule.run_days > 366 {
        return Err(refuse("schedule.run_days", "1 to 366 consecutive days"));
    }
    if schedule.again_after_days.is_some_and(|d| d > 366) {
        return Err(refuse("schedule.again_after_days", "at most 366 days"));
    }
    if let Some(until) = schedule.until
        && until < schedule.start
    {
        return Err(refuse("schedule.until", format!("{until} is before the start {}", schedule.start)));
    }
    if schedule.max_occurrences == Some(0) {
        return Err(refuse("schedule.max_occurrences", "at least 1"));
    }
    if schedule.again_after_days.is_some() && schedule.until.is_none() && schedule.max_occurrences.is_none() {
        return Err(refuse("schedule", "a repeating series needs an end: max_occurrences or until"));
    }
    let per_day = schedule.best_times.unwrap_or(schedule.times_wib.len() as u32);
    let total = count_slots(schedule, per_day, cap.saturating_add(1));
    if total > cap {
        return Err(refuse(
            "schedule",
            format!("it would publish more than {cap} times on each platform; end it sooner"),
        ));
    }
    if total == 0 {
        return Err(refuse("schedule", "no day of it is published on (check weekdays, run_days and until)"));
    }
    Ok(())
}

/// Whether a WIB day is one the schedule publishes on.
fn publishes_on(schedule: &Schedule, day: NaiveDate) -> bool {
    let offset = (day - schedule.start).num_days();
    if offset < 0 || schedule.until.is_some_and(|u| day > u) {
        return false;
    }
    let run = i64::from(schedule.run_days);
    let in_run = match schedule.again_after_days {
        None => offset < run,
        Some(gap) => offset % (run + i64::from(gap)) < run,
    };
    in_run && (schedule.weekdays.is_empty() || schedule.weekdays.contains(&day.weekday()))
}

/// The last day the schedule can publish on without an end of its own (one run).
fn last_day(schedule: &Schedule) -> Option<NaiveDate> {
    match (schedule.until, schedule.again_after_days) {
        (Some(until), _) => Some(until),
        (None, None) => Some(schedule.start + Duration::days(i64::from(schedule.run_days) - 1)),
        (None, Some(_)) => None,
    }
}

/// How many slots the schedule has on one platform, stopping at `stop`.
fn count_slots(schedule: &Schedule, per_day: u32, stop: u32) -> u32 {
    let mut n = 0u32;
    let mut day = schedule.start;
    let last = last_day(schedule);
    // A repeating series without `until` ends by count; give up beyond a few years.
    let limit = schedule.start + Duration::days(3 * 366);
    while last.is_none_or(|l| day <= l) && day <= limit && n < stop {
        if publishes_on(schedule, day) {
            n = n.saturating_add(per_day);
        }
        day = match day.succ_opt() {
            Some(next) => next,
            None => break,
        };
        if schedule.max_occurrences.is_some_and(|m| n >= m) {
            return n.min(schedule.max_occurrences.unwrap_or(n));
        }
    }
    n
}

/// The slots of one platform up to `until` (UTC), each with its ordinal from the series' start.
pub fn slots(
    schedule: &Schedule,
    platform: Platform,
    until: DateTime<Utc>,
    best: BestHours<'_>,
) -> Vec<(u32, DateTime<Utc>)> {
    let mut found = Vec::new();
    let mut ordinal = 0u32;
    let mut day = schedule.start;
    let last = last_day(schedule);
    let until_day = crate::time::wib_date(until);
    while last.is_none_or(|l| day <= l) && day <= until_day {
        if publishes_on(schedule, day) {
            let mut times = match schedule.best_times {
                Some(n) => best(platform, day.weekday(), n),
                None => schedule.times_wib.clone(),
            };
            times.sort();
            for time in times {
                if schedule.max_occurrences.is_some_and(|m| ordinal >= m) {
                    return found;
                }
                let at = day.and_time(time).and_local_timezone(wib()).single().map(|t| t.with_timezone(&Utc));
                if let Some(at) = at
                    && at <= until
                {
                    found.push((ordinal, at));
                }
                ordinal += 1;
            }
        }
        day = match day.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    found
}

/// The id of the occurrence of a slot: its series, platform and WIB minute.
pub fn occurrence_id(series_id: &str, platform: Platform, slot: DateTime<Utc>) -> String {
    format!("{series_id}-{platform}-{}", slot.with_timezone(&wib()).format("%Y%m%d%H%M"))
}

/// The occurrences of a series' slots in `(from, until]`, not before `now`.
pub fn occurrences(
    series: &Series,
    post: &Post,
    from: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    best: BestHours<'_>,
) -> Vec<Occurrence> {
    let mut made = Vec::new();
    for platform in &post.platforms {
        for (ordinal, slot) in slots(&series.schedule, *platform, until, best) {
            if from.is_some_and(|f| slot <= f) || slot < now - Duration::minutes(1) {
                continue;
            }
            made.push(Occurrence {
                id: occurrence_id(&series.id, *platform, slot),
                post_id: Some(post.id.clone()),
                series_id: Some(series.id.clone()),
                reply: None,
                platform: *platform,
                account: post.account,
                slot,
                ordinal,
                due_at: slot,
                moved: false,
                state: OccurrenceState::Scheduled,
                lease_until: None,
                claimed_at: None,
                attempts: 0,
                sent_text: None,
                container_id: None,
                platform_post_id: None,
                permalink: None,
                published_at: None,
                reposted: None,
                note: None,
                engagement: None,
                awaiting_person: false,
                updated_at: now,
                revision: 0,
            });
        }
    }
    made
}

/// An occurrence of an account on a platform for a reply to a citizen.
pub fn reply_occurrence(
    id: String,
    platform: Platform,
    account: Account,
    target: crate::domain::ReplyTarget,
    now: DateTime<Utc>,
) -> Occurrence {
    Occurrence {
        id,
        post_id: None,
        series_id: None,
        reply: Some(target),
        platform,
        account,
        slot: now,
        ordinal: 0,
        due_at: now,
        moved: false,
        state: OccurrenceState::Scheduled,
        lease_until: None,
        claimed_at: None,
        attempts: 0,
        sent_text: None,
        container_id: None,
        platform_post_id: None,
        permalink: None,
        published_at: None,
        reposted: None,
        note: None,
        engagement: None,
        awaiting_person: false,
        updated_at: now,
        revision: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(run_days: u32, again: Option<u32>, max: Option<u32>) -> Schedule {
        Schedule {
            start: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            times_wib: ["07:00", "12:00", "19:00"]
                .iter()
                .map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap())
                .collect(),
            best_times: None,
            weekdays: vec![],
            run_days,
            again_after_days: again,
            max_occurrences: max,
            until: None,
        }
    }

    fn never(_: Platform, _: Weekday, _: u32) -> Vec<NaiveTime> {
        vec![]
    }

    #[test]
    fn three_a_day_for_three_days_then_again_after_four() {
        let s = schedule(3, Some(4), Some(18));
        check(&s, 500).unwrap();
        let far = Utc::now() + Duration::days(3650);
        let got = slots(&s, Platform::X, far, &never);
        assert_eq!(got.len(), 18);
        let days: BTreeSet<NaiveDate> = got.iter().map(|(_, t)| crate::time::wib_date(*t)).collect();
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(days.into_iter().collect::<Vec<_>>(), [day(7), day(8), day(9), day(14), day(15), day(16)]);
        assert_eq!(got[0].1.to_rfc3339(), "2026-12-07T00:00:00+00:00", "07:00 WIB");
        assert_eq!(got.iter().map(|(o, _)| *o).collect::<Vec<_>>(), (0..18).collect::<Vec<_>>());
    }

    #[test]
    fn schedules_that_cannot_be_a_series_name_their_field() {
        let mut s = schedule(1, None, None);
        s.times_wib.clear();
        assert_eq!(check(&s, 500).unwrap_err().field, "schedule.times_wib");
        let mut s = schedule(1, None, None);
        s.until = Some(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(check(&s, 500).unwrap_err().field, "schedule.until");
        assert_eq!(check(&schedule(1, Some(2), None), 500).unwrap_err().field, "schedule");
        assert!(check(&schedule(300, None, None), 500).unwrap_err().message.contains("more than 500"));
        let mut weekends = schedule(1, None, None);
        weekends.weekdays = vec![Weekday::Sat];
        assert!(check(&weekends, 500).unwrap_err().message.contains("no day"), "7 Dec 2026 is a Monday");
    }

    #[test]
    fn a_slot_is_its_occurrence_id() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(occurrence_id("s1", Platform::Instagram, at), "s1-instagram-202612071900");
    }
}
