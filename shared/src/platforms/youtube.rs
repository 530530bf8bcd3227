//! YouTube Data API v3: the office channel's recent uploads and their comment threads (YouTube
//! pushes uploads only, so comments are polled).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{Author, MentionKey, NewMention, Platform};

/// `playlistItems.list` of the uploads playlist.
#[derive(Debug, Deserialize)]
pub struct PlaylistItems {
    #[serde(default)]
    pub items: Vec<PlaylistItem>,
}

#[derive(Debug, Deserialize)]
pub struct PlaylistItem {
    #[serde(rename = "contentDetails")]
    pub content_details: ContentDetails,
}

#[derive(Debug, Deserialize)]
pub struct ContentDetails {
    #[serde(rename = "videoId")]
    pub video_id: String,
}

/// `commentThreads.list`.
#[derive(Debug, Deserialize)]
pub struct CommentThreads {
    #[serde(default)]
    pub items: Vec<CommentThread>,
    #[serde(rename = "nextPageToken")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CommentThread {
    pub snippet: ThreadSnippet,
}

#[derive(Debug, Deserialize)]
pub struct ThreadSnippet {
    #[serde(rename = "videoId")]
    pub video_id: Option<String>,
    #[serde(rename = "topLevelComment")]
    pub top_level_comment: Comment,
}

#[derive(Debug, Deserialize)]
pub struct Comment {
    pub id: String,
    pub snippet: CommentSnippet,
}

#[derive(Debug, Deserialize)]
pub struct CommentSnippet {
    #[serde(rename = "textOriginal")]
    pub text_original: Option<String>,
    #[serde(rename = "textDisplay")]
    pub text_display: Option<String>,
    #[serde(rename = "authorDisplayName")]
    pub author_display_name: Option<String>,
    #[serde(rename = "authorChannelId")]
    pub author_channel_id: Option<ChannelId>,
    #[serde(rename = "publishedAt")]
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct ChannelId {
    pub value: String,
}

/// The uploads playlist of a channel (`UC…` → `UU…`).
pub fn uploads_playlist(channel_id: &str) -> String {
    match channel_id.strip_prefix("UC") {
        Some(rest) => format!("UU{rest}"),
        None => channel_id.to_string(),
    }
}

/// A top-level comment as a mention (commenters' subscriber counts are not in the response).
pub fn to_mention(thread: &CommentThread, video_id: &str) -> Option<NewMention> {
    let comment = &thread.snippet.top_level_comment;
    let text = comment.snippet.text_original.clone().or_else(|| comment.snippet.text_display.clone())?;
    let key = MentionKey::new(Platform::Youtube, &comment.id).ok()?;
    let name = comment.snippet.author_display_name.clone();
    let author = Author {
        id: comment.snippet.author_channel_id.as_ref().map(|c| c.value.clone()),
        handle: name.as_ref().filter(|n| n.starts_with('@')).cloned(),
        name,
        followers: None,
    };
    let mut mention = NewMention::new(key, text, super::plausible(comment.snippet.published_at)?, author);
    mention.url = Some(format!("https://www.youtube.com/watch?v={video_id}&lc={}", comment.id));
    mention.thread_id = Some(video_id.to_string());
    Some(mention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_threads_become_mentions_with_links() {
        let threads: CommentThreads =
            serde_json::from_str(include_str!("../../../tests/fixtures/youtube/comment_threads.json")).unwrap();
        assert!(threads.next_page_token.is_some());
        let mentions: Vec<_> = threads.items.iter().filter_map(|t| to_mention(t, "k3Vq9ZpT2xA")).collect();
        assert_eq!(mentions.len(), threads.items.len());
        assert!(mentions[0].url.as_deref().is_some_and(|u| u.contains("lc=")));
        let uploads: PlaylistItems =
            serde_json::from_str(include_str!("../../../tests/fixtures/youtube/search_videos.json")).unwrap();
        assert!(!uploads.items.is_empty());
        assert_eq!(uploads_playlist("UCq7Jm2bX4dPz9LwRk3TfN8A"), "UUq7Jm2bX4dPz9LwRk3TfN8A");
    }
}
