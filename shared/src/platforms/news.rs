//! Online news: RSS 2.0 and Atom 1.0 feeds, kept when they mention the office.

use chrono::{DateTime, Utc};

use crate::domain::{Author, MentionKey, NewMention, Platform};

/// One feed item, whatever the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    pub id: String,
    pub title: String,
    pub link: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub summary: String,
}

/// A parsed feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub title: Option<String>,
    pub items: Vec<FeedItem>,
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text_of(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(|c| c.text().unwrap_or_default().trim().to_string()).filter(|t| !t.is_empty())
}

/// Removes HTML tags and collapses white space (summaries are often HTML).
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out.replace("&nbsp;", " ").replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses RSS 2.0 (`rss/channel/item`) or Atom (`feed/entry`).
pub fn parse_feed(xml: &str) -> Result<Feed, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    match root.tag_name().name() {
        "rss" => {
            let channel = child(root, "channel").ok_or("RSS without a channel")?;
            let items = channel
                .children()
                .filter(|n| n.is_element() && n.tag_name().name() == "item")
                .filter_map(|item| {
                    let link = text_of(item, "link");
                    let id = text_of(item, "guid").or_else(|| link.clone())?;
                    Some(FeedItem {
                        id,
                        title: text_of(item, "title").unwrap_or_default(),
                        published: text_of(item, "pubDate")
                            .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
                            .map(|d| d.with_timezone(&Utc)),
                        summary: strip_html(&text_of(item, "description").unwrap_or_default()),
                        link,
                    })
                })
                .collect();
            Ok(Feed { title: text_of(channel, "title"), items })
        }
        "feed" => {
            let items = root
                .children()
                .filter(|n| n.is_element() && n.tag_name().name() == "entry")
                .filter_map(|entry| {
                    let link = entry
                        .children()
                        .filter(|n| n.is_element() && n.tag_name().name() == "link")
                        .find(|l| matches!(l.attribute("rel"), None | Some("alternate")))
                        .and_then(|l| l.attribute("href"))
                        .map(str::to_string);
                    let id = text_of(entry, "id").or_else(|| link.clone())?;
                    let date = text_of(entry, "published").or_else(|| text_of(entry, "updated"));
                    Some(FeedItem {
                        id,
                        title: text_of(entry, "title").unwrap_or_default(),
                        published: date
                            .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
                            .map(|d| d.with_timezone(&Utc)),
                        summary: strip_html(
                            &text_of(entry, "summary").or_else(|| text_of(entry, "content")).unwrap_or_default(),
                        ),
                        link,
                    })
                })
                .collect();
            Ok(Feed { title: text_of(root, "title"), items })
        }
        other => Err(format!("neither RSS nor Atom (root element {other})")),
    }
}

/// Whether an item mentions any keyword (case-insensitive, on title and summary).
pub fn mentions_any(item: &FeedItem, keywords: &[String]) -> bool {
    let haystack = format!("{} {}", item.title, item.summary).to_lowercase();
    keywords.iter().any(|k| !k.trim().is_empty() && haystack.contains(&k.trim().to_lowercase()))
}

/// A news item as a mention; the author is the outlet.
pub fn to_mention(
    item: &FeedItem,
    outlet: &str,
    outlet_name: Option<&str>,
    fallback_time: DateTime<Utc>,
) -> Option<NewMention> {
    // Ids are URLs or tags; white space is not allowed in keys. Ids that are not URLs or tags
    // (a bare "95352") are only unique within their outlet, so they take its host as a prefix.
    let id: String = item.id.split_whitespace().collect::<Vec<_>>().join("");
    let id = if id.contains(':') { id } else { format!("{outlet}/{id}") };
    let key = MentionKey::new(Platform::News, id).ok()?;
    let text = if item.summary.is_empty() { item.title.clone() } else { format!("{}\n{}", item.title, item.summary) };
    let author =
        Author { id: Some(outlet.to_string()), handle: None, name: outlet_name.map(str::to_string), followers: None };
    let when = item.published.and_then(super::plausible).unwrap_or(fallback_time);
    let mut mention = NewMention::new(key, text, when, author);
    mention.url = item.link.clone();
    Some(mention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom_items_parse_with_dates_and_links() {
        let rss = parse_feed(include_str!("../../../tests/fixtures/news/rss.xml")).unwrap();
        assert_eq!(rss.items.len(), 5);
        assert_eq!(rss.title.as_deref(), Some("Warta Brang Wetan"));
        let first = &rss.items[0];
        assert_eq!(first.id, "https://www.warta-brangwetan.example/?p=95352");
        assert!(first.published.is_some() && first.link.is_some());
        assert!(!first.summary.contains('<'), "{}", first.summary);
        let atom = parse_feed(include_str!("../../../tests/fixtures/news/atom.xml")).unwrap();
        assert_eq!(atom.items.len(), 4);
        assert!(
            atom.items.iter().all(|i| i.link.as_deref().is_some_and(|l| l.starts_with("https://kabarjatim.example/")))
        );
    }

    #[test]
    fn keywords_filter_what_concerns_the_office() {
        let rss = parse_feed(include_str!("../../../tests/fixtures/news/rss.xml")).unwrap();
        let keywords = vec!["Pemprov Jatim".to_string(), "gubernur jawa timur".to_string(), "Khofifah".to_string()];
        let kept: Vec<_> = rss.items.iter().filter(|i| mentions_any(i, &keywords)).collect();
        assert_eq!(kept.len(), 3);
        assert!(!kept.iter().any(|i| i.title.contains("Persebaya")));
        assert!(!mentions_any(&rss.items[0], &[" ".to_string()]), "blank keywords match nothing");
    }

    #[test]
    fn bare_guids_are_scoped_to_their_outlet() {
        let item = |id: &str| FeedItem {
            id: id.into(),
            title: "Pemprov Jatim".into(),
            link: None,
            published: None,
            summary: String::new(),
        };
        let now = chrono::Utc::now();
        let a = to_mention(&item("95352"), "a.example", None, now).unwrap();
        let b = to_mention(&item("95352"), "b.example", None, now).unwrap();
        assert_ne!(a.key, b.key);
        let url = to_mention(&item("https://a.example/?p=1"), "a.example", None, now).unwrap();
        assert_eq!(url.key.to_string(), "news:https://a.example/?p=1");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_feed("not xml").is_err());
        assert!(parse_feed("<html><body/></html>").is_err());
        assert_eq!(strip_html("<p>Banjir&nbsp;di <b>Tuban</b></p>"), "Banjir di Tuban");
    }
}
