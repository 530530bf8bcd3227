//! Gathers a report: one read of the daily counters for the period and the one before, then
//! indexed queries for what counters cannot hold — cases of the period by status, alerts by
//! month, a few example messages per topic and the influential authors by label, and the
//! period's published posts by day.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};

use super::{
    AlertRow, CaseGroup, Cases, Compared, DayVolume, Durations, Example, Heatmap, Person, PostPlatform, PostRow, Posts,
    Repeats, Report, SCHEMA, SentimentDay, Share, SlaRow, TopicRow, Volume,
};
use crate::domain::{
    Case, CaseStatus, Category, Influence, Mention, Occurrence, OccurrenceState, Platform, ReportPeriod, Sentiment,
    SlaClock,
};
use crate::error::StoreError;
use crate::ports::{CaseStore, CounterStore, MentionQuery, MentionReader, OccurrenceStore, PostStore};
use crate::stores::{AlertLog, Settings};
use crate::time::{wib, wib_day_start};

/// What a report reads.
pub struct Sources<'a> {
    pub counters: &'a dyn CounterStore,
    pub cases: &'a dyn CaseStore,
    pub mentions: &'a dyn MentionReader,
    pub alerts: &'a dyn AlertLog,
    pub occurrences: &'a dyn OccurrenceStore,
    pub posts: &'a dyn PostStore,
    pub settings: &'a dyn Settings,
}

/// Rows of the ranked lists.
const TOP_TOPICS: usize = 15;
const TOPICS_WITH_EXAMPLES: usize = 5;
const EXAMPLES: usize = 2;
const TOP_HASHTAGS: usize = 15;
const TOP_TERMS: usize = 20;
const TOP_PEOPLE: usize = 10;
/// Messages of influential authors read per label and tier at most.
const PEOPLE_MESSAGES: usize = 500;
const TOP_POSTS: usize = 10;
/// Characters of an example message shown.
const EXAMPLE_CHARS: usize = 280;
/// Cases read per page.
const PAGE: usize = 500;

/// The period of the same length just before `from..=to`.
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let days = (to - from).num_days() + 1;
    (from - Duration::days(days), from - Duration::days(1))
}

/// A report's id: its kind and days.
pub fn report_id(period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> String {
    format!("{period}-{from}-{to}")
}

/// Sums of the counters of a range: by key, and by day then key.
#[derive(Default)]
struct Sums {
    total: HashMap<String, i64>,
    by_day: BTreeMap<NaiveDate, HashMap<String, i64>>,
}

impl Sums {
    fn get(&self, key: &str) -> u64 {
        u64::try_from(self.total.get(key).copied().unwrap_or(0)).unwrap_or(0)
    }

    fn day(&self, day: NaiveDate, key: &str) -> u64 {
        let n = self.by_day.get(&day).and_then(|d| d.get(key)).copied().unwrap_or(0);
        u64::try_from(n).unwrap_or(0)
    }

    /// Keys under `prefix` with their sums, largest first (ties by key).
    fn ranked(&self, prefix: &str) -> Vec<(String, u64)> {
        let mut rows: Vec<(String, u64)> = self
            .total
            .iter()
            .filter_map(|(k, n)| Some((k.strip_prefix(prefix)?.to_string(), u64::try_from(*n).ok()?)))
            .filter(|(k, n)| *n > 0 && !k.contains('#'))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows
    }
}

fn share(n: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| n as f64 / total as f64)
}

fn net(positive: u64, negative: u64, all: u64) -> Option<f64> {
    (all > 0).then(|| (positive as f64 - negative as f64) / all as f64 * 100.0)
}

fn shares(now: &Sums, before: &Sums, prefix: &str, keys: Vec<String>, total: u64) -> Vec<Share> {
    keys.into_iter()
        .map(|key| {
            let k = format!("{prefix}{key}");
            let n = now.get(&k);
            Share { n, previous: before.get(&k), share: share(n, total), key }
        })
        .collect()
}

fn sums(counts: &[crate::ports::Count], from: NaiveDate, to: NaiveDate) -> Sums {
    let mut s = Sums::default();
    for c in counts.iter().filter(|c| c.day >= from && c.day <= to) {
        *s.total.entry(c.key.clone()).or_default() += c.n;
        *s.by_day.entry(c.day).or_default().entry(c.key.clone()).or_default() += c.n;
    }
    s
}

fn days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// Builds the report of WIB days `from..=to` as the stores stand at `now`.
pub async fn build(
    src: &Sources<'_>,
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let (previous_from, previous_to) = previous_period(from, to);
    let counts = src.counters.counts(previous_from, to).await?;
    let (cur, prev) = (sums(&counts, from, to), sums(&counts, previous_from, previous_to));
    let start = wib_day_start(from);
    let end = wib_day_start(to.succ_opt().unwrap_or(to));

    let total = Compared { value: cur.get("total"), previous: prev.get("total") };
    let platforms = cur.ranked("platform#").into_iter().map(|(k, _)| k).collect();
    let by_day = days(from, to)
        .into_iter()
        .map(|day| {
            let by_platform: BTreeMap<String, u64> = Platform::ALL
                .iter()
                .map(|p| (p.to_string(), cur.day(day, &format!("platform#{p}"))))
                .filter(|(_, n)| *n > 0)
                .collect();
            DayVolume { day, total: cur.day(day, "total"), by_platform }
        })
        .collect();
    let by_hour = (from == to).then(|| (0..24).map(|h| cur.get(&format!("hour#{h:02}#all"))).collect());
    let volume = Volume {
        change_pct: (total.previous > 0)
            .then(|| (total.value as f64 - total.previous as f64) / total.previous as f64 * 100.0),
        by_platform: shares(&cur, &prev, "platform#", platforms, total.value),
        total,
        by_day,
        by_hour,
    };
    let categories =
        shares(&cur, &prev, "category#", Category::ALL.iter().map(|c| c.to_string()).collect(), total.value);
    let sentiments =
        shares(&cur, &prev, "sentiment#", Sentiment::ALL.iter().map(|s| s.to_string()).collect(), total.value);
    let net_of = |s: &Sums| {
        let (p, ne, n) = (s.get("sentiment#positif"), s.get("sentiment#netral"), s.get("sentiment#negatif"));
        net(p, n, p + ne + n)
    };
    let net_sentiment = Compared { value: net_of(&cur), previous: net_of(&prev) };
    let sentiment_by_day = days(from, to)
        .into_iter()
        .map(|day| SentimentDay {
            day,
            positif: cur.day(day, "sentiment#positif"),
            netral: cur.day(day, "sentiment#netral"),
            negatif: cur.day(day, "sentiment#negatif"),
        })
        .collect();

    let taxonomy = src.settings.taxonomy().await?;
    let names: HashMap<&str, &str> = taxonomy.topics.iter().map(|t| (t.id.as_str(), t.name.as_str())).collect();
    let mut topics = Vec::new();
    for (i, (id, n)) in cur.ranked("topic#").into_iter().take(TOP_TOPICS).enumerate() {
        let sentiment = |s: &str| cur.get(&format!("topic_sentiment#{id}#{s}"));
        let (positif, netral, negatif) = (sentiment("positif"), sentiment("netral"), sentiment("negatif"));
        let examples = if i < TOPICS_WITH_EXAMPLES { topic_examples(src, &id, start, end).await? } else { vec![] };
        topics.push(TopicRow {
            name: names.get(id.as_str()).map_or_else(|| id.clone(), |n| n.to_string()),
            previous: prev.get(&format!("topic#{id}")),
            net_sentiment: net(positif, negatif, positif + netral + negatif),
            id,
            n,
            positif,
            netral,
            negatif,
            examples,
        });
    }
    let ranked_shares = |prefix: &str, top: usize| {
        let keys = cur.ranked(prefix).into_iter().take(top).map(|(k, _)| k).collect();
        shares(&cur, &prev, prefix, keys, total.value)
    };
    let hashtags = ranked_shares("hashtag#", TOP_HASHTAGS);
    let terms = ranked_shares("term#", TOP_TERMS);

    let critics = people(src, Category::Hater, start, end).await?;
    let advocates = people(src, Category::Apresiasi, start, end).await?;
    let alerts = alerts(src, from, to, start, end).await?;
    let cases = cases(src, start, end, now).await?;
    let posts = posts(src, start, end).await?;
    let empty = total.value == 0 && cases.opened == 0 && posts.published == 0;
    Ok(Report {
        schema: SCHEMA,
        id: report_id(period, from, to),
        period,
        from,
        to,
        previous_from,
        previous_to,
        generated_at: now,
        empty,
        volume,
        categories,
        sentiments,
        net_sentiment,
        sentiment_by_day,
        topics,
        hashtags,
        terms,
        critics,
        advocates,
        alerts,
        cases,
        posts,
    })
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(EXAMPLE_CHARS).collect();
    if text.chars().count() > EXAMPLE_CHARS {
        out.push('…');
    }
    out
}

fn example(m: &Mention) -> Example {
    let author = m.author.handle.clone().or_else(|| m.author.name.clone()).unwrap_or_else(|| "—".into());
    Example {
        key: m.key.to_string(),
        platform: m.platform.to_string(),
        created_at: m.created_at,
        author,
        text: shorten(&m.text),
        url: m.url.clone(),
        sentiment: m.classification.as_ref().map(|c| c.sentiment.to_string()),
    }
}

async fn topic_examples(
    src: &Sources<'_>,
    topic: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Example>, StoreError> {
    let mut q = MentionQuery::between(start, end, EXAMPLES);
    q.topic = Some(topic.to_string());
    Ok(src.mentions.list_mentions(&q).await?.items.iter().map(example).collect())
}

/// Authors with a large following who wrote in `category`, most messages first.
async fn people(
    src: &Sources<'_>,
    category: Category,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Person>, StoreError> {
    let mut found: Vec<Mention> = Vec::new();
    for influence in [Influence::SangatBesar, Influence::Besar] {
        let mut q = MentionQuery::between(start, end, 200);
        q.category = Some(category);
        q.influence = Some(influence);
        let mut read = 0;
        loop {
            let page = src.mentions.list_mentions(&q).await?;
            read += page.items.len();
            found.extend(page.items);
            match page.next {
                Some(next) if read < PEOPLE_MESSAGES => q.after = Some(next),
                _ => break,
            }
        }
    }
    // Newest first within the listing: the first message seen per author is the latest.
    found.sort_by_key(|m| std::cmp::Reverse(m.created_at));
    let mut by_author: Vec<(String, Vec<&Mention>)> = Vec::new();
    for m in &found {
        let who =
            m.author_key().unwrap_or_else(|| format!("{}#{}", m.platform, m.author.handle.clone().unwrap_or_default()));
        match by_author.iter_mut().find(|(k, _)| *k == who) {
            Some((_, list)) => list.push(m),
            None => by_author.push((who, vec![m])),
        }
    }
    by_author.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let mut people = Vec::new();
    for (author, messages) in by_author.into_iter().take(TOP_PEOPLE) {
        let latest = messages[0];
        let case_ids: Vec<String> = messages.iter().filter_map(|m| m.case.as_ref().map(|c| c.id.clone())).collect();
        let mut cases: Vec<Case> = Vec::new();
        for chunk in case_ids.chunks(crate::ports::MAX_GET_CASES) {
            cases.extend(src.cases.get_cases(chunk).await?);
        }
        people.push(Person {
            author,
            platform: latest.platform.to_string(),
            name: latest.author.handle.clone().or_else(|| latest.author.name.clone()).unwrap_or_else(|| "—".into()),
            followers: messages.iter().filter_map(|m| m.author.followers).max(),
            influence: latest.triage.as_ref().map_or_else(String::new, |t| t.influence.to_string()),
            messages: messages.len() as u64,
            open_cases: cases.iter().filter(|c| c.status.is_open()).count() as u64,
            closed_cases: cases.iter().filter(|c| !c.status.is_open()).count() as u64,
            replies: cases.iter().map(|c| c.replies.len() as u64).sum(),
            latest: example(latest),
        });
    }
    Ok(people)
}

async fn alerts(
    src: &Sources<'_>,
    from: NaiveDate,
    to: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<AlertRow>, StoreError> {
    let mut rows = Vec::new();
    for month in crate::stores::alerts::months(from, to) {
        let mut after = None;
        loop {
            let page = src.alerts.alerts_of_month(month, 200, after.as_ref()).await?;
            for r in page.items.into_iter().filter(|r| r.raised_at >= start && r.raised_at < end) {
                // The words of the alert: the message it is about, its reason, or its own text.
                let said = ["message", "text", "reason", "why"]
                    .iter()
                    .find_map(|k| r.data.get(*k).and_then(|v| v.as_str()).map(shorten))
                    .unwrap_or_else(|| shorten(&r.body));
                rows.push(AlertRow { raised_at: r.raised_at, kind: r.kind.to_string(), title: r.title, body: said });
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    rows.sort_by_key(|a| a.raised_at);
    Ok(rows)
}

/// Median and 90th percentile (nearest rank) of hours.
fn durations(mut hours: Vec<f64>) -> Durations {
    hours.sort_by(f64::total_cmp);
    let rank = |p: f64| -> Option<f64> {
        let n = hours.len();
        (n > 0).then(|| hours[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
    };
    Durations { n: hours.len() as u64, median_hours: rank(0.5), p90_hours: rank(0.9) }
}

fn first_response_hours(c: &Case) -> Option<f64> {
    c.first_response_at.map(|at| (at - c.opened_at).num_seconds().max(0) as f64 / 3600.0)
}

/// Running totals of a group of cases: counts, and first-response hours for the percentiles
/// (eight bytes a case; the cases themselves are not kept).
#[derive(Default)]
struct Tally {
    opened: u64,
    answered: u64,
    resolved: u64,
    hours: Vec<f64>,
}

impl Tally {
    fn add(&mut self, c: &Case) {
        self.opened += 1;
        if let Some(h) = first_response_hours(c) {
            self.answered += 1;
            self.hours.push(h);
        }
        if c.closed_at.is_some() {
            self.resolved += 1;
        }
    }

    fn row(self, key: String) -> CaseGroup {
        CaseGroup {
            key,
            opened: self.opened,
            answered: self.answered,
            resolved: self.resolved,
            first_response: durations(self.hours),
        }
    }
}

fn rows(groups: BTreeMap<String, Tally>) -> Vec<CaseGroup> {
    let mut rows: Vec<CaseGroup> = groups.into_iter().map(|(k, t)| t.row(k)).collect();
    rows.sort_by(|a, b| b.opened.cmp(&a.opened).then_with(|| a.key.cmp(&b.key)));
    rows
}

/// One clock of one case: met, missed (late, or past due and not done) or running; none when
/// the case has no such clock.
fn clock_outcome(clock: SlaClock, c: &Case, now: DateTime<Utc>) -> Option<usize> {
    let (due, done) = match clock {
        SlaClock::Triase => (Some(c.sla.triage_due), c.triaged_at),
        SlaClock::ResponMedsos => (c.sla.social_response_due, c.first_response_at),
        SlaClock::Respon => (Some(c.sla.response_due), c.first_response_at),
        SlaClock::Penyelesaian => (Some(c.sla.resolution_due), c.closed_at),
    };
    let due = due?;
    Some(match done {
        Some(at) if at <= due => 0,
        Some(_) => 1,
        None if now > due => 1,
        None => 2,
    })
}

/// The period's cases by status, read a page at a time and tallied as they come.
async fn cases(
    src: &Sources<'_>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Cases, StoreError> {
    let mut all = Tally::default();
    let mut open = 0;
    let mut by_platform: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut clocks = vec![[0u64; 3]; SlaClock::ALL.len()];
    for status in CaseStatus::ALL {
        let mut after = None;
        loop {
            let page = src.cases.cases_by_status(*status, start, end, PAGE, after.as_ref()).await?;
            for c in &page.items {
                all.add(c);
                by_platform.entry(c.mention_key.platform().to_string()).or_default().add(c);
                by_category.entry(c.category.to_string()).or_default().add(c);
                if c.status.is_open() {
                    open += 1;
                }
                for (i, clock) in SlaClock::ALL.iter().enumerate() {
                    if let Some(outcome) = clock_outcome(*clock, c, now) {
                        clocks[i][outcome] += 1;
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let mut backlog_now = 0;
    let mut after = None;
    loop {
        let page = src.cases.open_cases(PAGE, after.as_ref()).await?;
        backlog_now += page.items.len() as u64;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let sla = SlaClock::ALL
        .iter()
        .zip(clocks)
        .map(|(clock, [met, missed, running])| SlaRow {
            clock: clock.to_string(),
            met,
            missed,
            running,
            compliance: share(met, met + missed),
        })
        .collect();
    let overall = all.row(String::new());
    Ok(Cases {
        opened: overall.opened,
        answered: overall.answered,
        resolved: overall.resolved,
        open,
        backlog_now,
        first_response: overall.first_response,
        by_platform: rows(by_platform),
        by_category: rows(by_category),
        sla,
    })
}

fn score(o: &Occurrence) -> f64 {
    o.engagement.as_ref().map_or(0.0, |e| e.score())
}

async fn posts(src: &Sources<'_>, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Posts, StoreError> {
    let mut published: Vec<Occurrence> = Vec::new();
    let mut after = None;
    loop {
        let page = src.occurrences.occurrences_between(start, end, PAGE, after.as_ref()).await?;
        published.extend(page.items.into_iter().filter(|o| o.state == OccurrenceState::Published && o.reply.is_none()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut by_platform: BTreeMap<String, PostPlatform> = BTreeMap::new();
    for o in &published {
        let row = by_platform.entry(o.platform.to_string()).or_insert_with(|| PostPlatform {
            platform: o.platform.to_string(),
            posts: 0,
            likes: 0,
            comments: 0,
            shares: 0,
            impressions: None,
        });
        row.posts += 1;
        if let Some(e) = &o.engagement {
            row.likes += e.likes;
            row.comments += e.comments;
            row.shares += e.shares;
            if let Some(i) = e.impressions {
                row.impressions = Some(row.impressions.unwrap_or(0) + i);
            }
        }
    }
    let mut titles: HashMap<String, String> = HashMap::new();
    let mut ranked: Vec<&Occurrence> = published.iter().collect();
    ranked.sort_by(|a, b| score(b).total_cmp(&score(a)).then_with(|| a.id.cmp(&b.id)));
    let mut top = Vec::new();
    for o in ranked.into_iter().take(TOP_POSTS) {
        let title = match &o.post_id {
            Some(id) => match titles.get(id) {
                Some(t) => t.clone(),
                None => {
                    let t = src.posts.get_post(id).await?.map_or_else(|| id.clone(), |p| p.title);
                    titles.insert(id.clone(), t.clone());
                    t
                }
            },
            None => o.id.clone(),
        };
        let e = o.engagement.clone().unwrap_or_default();
        top.push(PostRow {
            occurrence: o.id.clone(),
            post: o.post_id.clone(),
            title,
            platform: o.platform.to_string(),
            published_at: o.published_at,
            permalink: o.permalink.clone(),
            likes: e.likes,
            comments: e.comments,
            shares: e.shares,
            impressions: e.impressions,
            repeat: o.ordinal > 0 || o.reposted.is_some(),
        });
    }
    let heatmap = (!published.is_empty()).then(|| {
        let mut sum = vec![vec![0.0; 24]; 7];
        let mut n = vec![vec![0u32; 24]; 7];
        for o in &published {
            let at = o.published_at.unwrap_or(o.due_at).with_timezone(&wib());
            let (d, h) = (at.weekday().num_days_from_monday() as usize, at.hour() as usize);
            sum[d][h] += score(o);
            n[d][h] += 1;
        }
        let score =
            (0..7).map(|d| (0..24).map(|h| (n[d][h] > 0).then(|| sum[d][h] / f64::from(n[d][h]))).collect()).collect();
        Heatmap { score, posts: n }
    });
    let mean = |list: &[f64]| list.iter().sum::<f64>() / list.len().max(1) as f64;
    let is_repeat = |o: &&Occurrence| o.ordinal > 0 || o.reposted.is_some();
    let firsts: Vec<f64> = published.iter().filter(|o| !is_repeat(o)).map(score).collect();
    let again: Vec<f64> = published.iter().filter(is_repeat).map(score).collect();
    let repeats = (!firsts.is_empty() && !again.is_empty()).then(|| Repeats {
        firsts: firsts.len() as u64,
        first_score: mean(&firsts),
        repeats: again.len() as u64,
        repeat_score: mean(&again),
    });
    Ok(Posts {
        published: published.len() as u64,
        reposts: published.iter().filter(|o| o.reposted.is_some()).count() as u64,
        by_platform: by_platform.into_values().collect(),
        top,
        heatmap,
        repeats,
    })
}
