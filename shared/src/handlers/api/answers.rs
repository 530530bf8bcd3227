//! `/v1/answers`: the answer library (prepared answers with a link to an article or news,
//! topics and per-platform variants), and the suggestions shown with cases and haters.

use std::collections::BTreeMap;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, Call, Handled, bad, conflict, no_content, not_found};
use crate::domain::{Action, Answer, Case, Category, Mention, Platform};
use crate::http::json;
use crate::stores::answers::MAX_ANSWERS;

/// Suggestions shown at most.
const MAX_SUGGESTIONS: usize = 3;

/// What a client sends to create or replace an answer (server-owned fields are refused).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerInput {
    title: String,
    text: String,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    categories: Vec<Category>,
    #[serde(default)]
    variants: BTreeMap<String, String>,
}

/// A suggested answer for one mention: the text for its platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub answer_id: String,
    pub title: String,
    pub text: String,
    pub link: Option<String>,
    /// Topics shared with the mention.
    pub matched_topics: Vec<String>,
}

/// Checks a link is an absolute http(s) URL.
pub(super) fn check_link(name: &str, value: &str) -> Result<(), ApiError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && value.len() <= 2000 => Ok(()),
        _ => Err(bad(format!("{name} must be an http(s) URL of at most 2000 characters, got {value:?}"))),
    }
}

/// Checks a text member is not blank and at most `max` characters.
pub(super) fn text_field(name: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(bad(format!("{name} must not be blank")));
    }
    if value.chars().count() > max {
        return Err(bad(format!("{name} must be at most {max} characters")));
    }
    Ok(())
}

impl AnswerInput {
    fn validate(&self, known_topics: &[String]) -> Result<(), ApiError> {
        text_field("title", &self.title, 200)?;
        text_field("text", &self.text, 4000)?;
        if let Some(link) = &self.link {
            check_link("link", link)?;
        }
        if self.topics.len() > 20 {
            return Err(bad("topics: at most 20"));
        }
        if let Some(unknown) = self.topics.iter().find(|t| !known_topics.contains(t)) {
            return Err(bad(format!("topics: {unknown:?} is not in the taxonomy (GET /v1/taxonomy lists them)")));
        }
        for (platform, text) in &self.variants {
            platform.parse::<Platform>().map_err(|e| bad(format!("variants: {e}")))?;
            text_field(&format!("variants.{platform}"), text, 4000)?;
        }
        Ok(())
    }

    fn into_answer(self, id: String, call: &Call<'_>) -> Answer {
        Answer {
            id,
            title: self.title.trim().to_string(),
            text: self.text,
            link: self.link,
            topics: self.topics,
            categories: self.categories,
            variants: self.variants,
            updated_at: call.now(),
            updated_by: call.who.subject.clone(),
        }
    }

    /// Whether a stored answer holds exactly this input (a retried create).
    fn same_as(&self, a: &Answer) -> bool {
        self.title.trim() == a.title
            && self.text == a.text
            && self.link == a.link
            && self.topics == a.topics
            && self.categories == a.categories
            && self.variants == a.variants
    }
}

async fn read_input(call: &Call<'_>) -> Result<AnswerInput, ApiError> {
    let input: AnswerInput = call.body("answer {title, text, link, topics, categories, variants}")?;
    let taxonomy = call.state.settings.taxonomy().await?;
    let known: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    input.validate(&known)?;
    Ok(input)
}

/// The whole library, sorted by title.
async fn library(call: &Call<'_>) -> Result<Vec<Answer>, ApiError> {
    Ok(call.state.answers.answers().await?)
}

/// The answer of the path.
async fn load(call: &Call<'_>) -> Result<Answer, ApiError> {
    let id = call.param();
    call.state.answers.answer(id).await?.ok_or_else(|| not_found(format!("no answer {id}")))
}

#[derive(Serialize)]
struct AnswerList {
    items: Vec<Answer>,
}

pub(super) async fn list(call: &Call<'_>) -> Handled {
    let q = call.query(&["topic"])?;
    let mut items = library(call).await?;
    if let Some(topic) = q.get("topic") {
        items.retain(|a| a.topics.contains(topic));
    }
    Ok(json(StatusCode::OK, &AnswerList { items }))
}

/// `POST /v1/answers`. With an `Idempotency-Key`, a retry returns the answer created first.
pub(super) async fn create(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input = read_input(call).await?;
    let id = call.creation_id();
    if let Some(existing) = call.state.answers.answer(&id).await? {
        return if input.same_as(&existing) {
            Ok(json(StatusCode::OK, &existing))
        } else {
            Err(conflict("this Idempotency-Key was used for a different answer"))
        };
    }
    if library(call).await?.len() >= MAX_ANSWERS {
        return Err(conflict(format!("the library holds {MAX_ANSWERS} answers at most; delete unused ones first")));
    }
    let answer = input.into_answer(id, call);
    // Conditional on absence: of two requests with the same key, one creates and the other
    // gets a 409 and, retried, the first one's answer.
    call.state.answers.add_answer(&answer).await?;
    Ok(json(StatusCode::CREATED, &answer))
}

pub(super) async fn get(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    Ok(json(StatusCode::OK, &load(call).await?))
}

/// `PUT /v1/answers/{id}`: replaces an existing answer.
pub(super) async fn update(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let input = read_input(call).await?;
    let existing = load(call).await?;
    let answer = input.into_answer(existing.id.clone(), call);
    // Conditional on what was read: an answer deleted or changed meanwhile is not overwritten.
    call.state.answers.replace_answer(&existing, &answer).await?;
    Ok(json(StatusCode::OK, &answer))
}

pub(super) async fn delete(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let existing = load(call).await?;
    call.state.answers.delete_answer(&existing.id).await?;
    Ok(no_content())
}

/// Answers ranked for a message: shared topics first, then a fitting category; answers made
/// for other categories are left out.
pub fn suggest(library: &[Answer], topics: &[String], category: Category, platform: Platform) -> Vec<Suggestion> {
    let mut ranked: Vec<(usize, bool, &Answer, Vec<String>)> = library
        .iter()
        .filter(|a| a.categories.is_empty() || a.categories.contains(&category))
        .map(|a| {
            let shared: Vec<String> = a.topics.iter().filter(|t| topics.contains(t)).cloned().collect();
            (shared.len(), a.categories.contains(&category), a, shared)
        })
        .filter(|(shared, fits, _, _)| *shared > 0 || *fits)
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.title.cmp(&b.2.title)));
    ranked
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, a, matched_topics)| Suggestion {
            answer_id: a.id.clone(),
            title: a.title.clone(),
            text: a.variants.get(platform.as_str()).cloned().unwrap_or_else(|| a.text.clone()),
            link: a.link.clone(),
            matched_topics,
        })
        .collect()
}

/// Suggestions for a mention the office should answer with a prepared answer (a triaged hater
/// or any mention with a case).
pub(super) async fn for_mention(call: &Call<'_>, mention: &Mention) -> Result<Vec<Suggestion>, ApiError> {
    let (Some(class), Some(triage)) = (&mention.classification, &mention.triage) else { return Ok(Vec::new()) };
    let answerable = mention.case.is_some() || (class.category == Category::Hater && triage.action != Action::Abaikan);
    if !answerable {
        return Ok(Vec::new());
    }
    Ok(suggest(&library(call).await?, &class.topics, class.category, mention.platform))
}

/// Suggestions for a case.
pub(super) async fn for_case(
    call: &Call<'_>,
    case: &Case,
    mention: Option<&Mention>,
) -> Result<Vec<Suggestion>, ApiError> {
    let platform = mention.map_or(case.mention_key.platform(), |m| m.platform);
    Ok(suggest(&library(call).await?, &case.topics, case.category, platform))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: &str, topics: &[&str], categories: &[Category]) -> Answer {
        Answer {
            id: id.into(),
            title: format!("Jawaban {id}"),
            text: format!("teks {id}"),
            link: Some("https://jatimprov.go.id/berita/1".into()),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            categories: categories.to_vec(),
            variants: BTreeMap::from([("x".to_string(), format!("pendek {id}"))]),
            updated_at: chrono::Utc::now(),
            updated_by: "op".into(),
        }
    }

    #[test]
    fn suggestions_rank_shared_topics_then_category_and_pick_the_platform_text() {
        let library = vec![
            answer("a", &["banjir"], &[]),
            answer("b", &["banjir", "jalan"], &[Category::Pengaduan]),
            answer("c", &[], &[Category::Pengaduan]),
            answer("d", &["jalan"], &[Category::Apresiasi]),
            answer("e", &["pajak"], &[]),
        ];
        let topics = vec!["banjir".to_string(), "jalan".to_string()];
        let got = suggest(&library, &topics, Category::Pengaduan, Platform::X);
        let ids: Vec<&str> = got.iter().map(|s| s.answer_id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"], "d is for another category, e shares nothing");
        assert_eq!(got[0].text, "pendek b");
        assert_eq!(got[0].matched_topics, ["banjir", "jalan"]);
        let fb = suggest(&library, &topics, Category::Pengaduan, Platform::Facebook);
        assert_eq!(fb[0].text, "teks b");
        assert!(suggest(&library, &[], Category::Lainnya, Platform::X).is_empty());
    }
}
