//! When to post: engagement of the office's own posts by WIB hour of the week, per platform,
//! shrunk towards a prior shape of the day until enough posts exist. Feeds "best times"
//! series and the reports' heat map.

use std::collections::HashMap;

use chrono::{Datelike, NaiveTime, Timelike, Weekday};
use serde::Serialize;

use crate::domain::{Occurrence, OccurrenceState, Platform};
use crate::time::wib;

/// How many posts' worth of weight the prior carries in each hour.
const PRIOR_WEIGHT: f64 = 3.0;
/// Best hours of one day are at least this far apart.
const MIN_GAP_HOURS: usize = 3;

/// The prior: people read in the morning, at lunch and in the evening; little at night.
fn prior(weekday: Weekday, hour: usize) -> f64 {
    let weekend = matches!(weekday, Weekday::Sat | Weekday::Sun);
    match (weekend, hour) {
        (_, 0..=4) | (_, 23) => 0.3,
        (false, 6..=8) => 1.3,
        (false, 11..=13) => 1.2,
        (false, 18..=21) => 1.4,
        (true, 8..=11) => 1.3,
        (true, 18..=21) => 1.3,
        _ => 0.9,
    }
}

/// Engagement by hour of the week on one platform: the estimate and how many posts it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourOfWeek {
    /// `[weekday from Monday][hour]`.
    pub estimate: [[f64; 24]; 7],
    pub posts: [[u32; 24]; 7],
}

/// Engagement sums and post counts by `[weekday][hour]`.
type Cells = ([[f64; 24]; 7], [[u32; 24]; 7]);

/// The model over the office's published posts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BestTimes {
    pub platforms: HashMap<Platform, HourOfWeek>,
}

impl BestTimes {
    /// Learns from published occurrences with engagement (others are ignored).
    pub fn learn(occurrences: &[Occurrence]) -> BestTimes {
        let mut sums: HashMap<Platform, Cells> = HashMap::new();
        for o in occurrences {
            let (Some(engagement), Some(at)) = (&o.engagement, o.published_at) else { continue };
            if o.state != OccurrenceState::Published || o.reply.is_some() {
                continue;
            }
            let local = at.with_timezone(&wib());
            let (d, h) = (local.weekday().num_days_from_monday() as usize, local.hour() as usize);
            let cells = sums.entry(o.platform).or_insert(([[0.0; 24]; 7], [[0; 24]; 7]));
            cells.0[d][h] += engagement.score();
            cells.1[d][h] += 1;
        }
        let platforms = sums
            .into_iter()
            .map(|(platform, (sum, n))| {
                let total: f64 = sum.iter().flatten().sum();
                let count: u32 = n.iter().flatten().sum();
                let mean = if count > 0 { total / f64::from(count) } else { 1.0 };
                let mut estimate = [[0.0; 24]; 7];
                for d in 0..7 {
                    let weekday = Weekday::try_from(d as u8).unwrap_or(Weekday::Mon);
                    for h in 0..24 {
                        let weight = PRIOR_WEIGHT * prior(weekday, h) * mean;
                        estimate[d][h] = (sum[d][h] + weight) / (f64::from(n[d][h]) + PRIOR_WEIGHT);
                    }
                }
                (platform, HourOfWeek { estimate, posts: n })
            })
            .collect();
        BestTimes { platforms }
    }

    /// The `n` best hours of a weekday on a platform, at least three hours apart, earliest
    /// first (the prior alone where the platform has no posts yet).
    pub fn hours(&self, platform: Platform, weekday: Weekday, n: u32) -> Vec<NaiveTime> {
        let d = weekday.num_days_from_monday() as usize;
        let score = |h: usize| match self.platforms.get(&platform) {
            Some(model) => model.estimate[d][h],
            None => prior(weekday, h),
        };
        let mut ranked: Vec<usize> = (0..24).collect();
        ranked.sort_by(|a, b| score(*b).total_cmp(&score(*a)).then(a.cmp(b)));
        let mut chosen: Vec<usize> = Vec::new();
        for h in ranked {
            if chosen.len() as u32 >= n {
                break;
            }
            if chosen.iter().all(|c| c.abs_diff(h) >= MIN_GAP_HOURS) {
                chosen.push(h);
            }
        }
        chosen.sort_unstable();
        chosen.into_iter().filter_map(|h| NaiveTime::from_hms_opt(h as u32, 0, 0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Engagement;

    #[test]
    fn without_posts_the_prior_picks_morning_noon_and_evening() {
        let model = BestTimes::default();
        let hours: Vec<u32> = model.hours(Platform::X, Weekday::Tue, 3).iter().map(|t| t.hour()).collect();
        assert_eq!(hours.len(), 3);
        assert!(hours.iter().any(|h| (6..=8).contains(h)) && hours.iter().any(|h| (18..=21).contains(h)), "{hours:?}");
    }

    #[test]
    fn engagement_moves_the_best_hour_once_posts_exist() {
        let post = |hour: u32, likes: u64| {
            let at = chrono::DateTime::parse_from_rfc3339(&format!("2026-12-01T{:02}:00:00+07:00", hour)).unwrap();
            let mut o = crate::app::publishing::calendar::reply_occurrence(
                "o".into(),
                Platform::Facebook,
                crate::domain::Account::Resmi,
                crate::domain::ReplyTarget { case_id: "c".into(), in_reply_to: "1".into(), to: None, text: "t".into() },
                at.into(),
            );
            o.reply = None;
            o.state = OccurrenceState::Published;
            o.published_at = Some(at.into());
            o.engagement = Some(Engagement { likes, ..Default::default() });
            o
        };
        // Tuesday 15:00 WIB posts do far better than anything else.
        let mut posts: Vec<Occurrence> = (0..6).map(|_| post(15, 400)).collect();
        posts.extend((0..6).map(|_| post(7, 10)));
        let model = BestTimes::learn(&posts);
        assert_eq!(model.hours(Platform::Facebook, Weekday::Tue, 1)[0].hour(), 15);
        assert_eq!(model.platforms[&Platform::Facebook].posts[1][15], 6);
    }
}
