//! Replies sent from the inbox: the citizen's message answered on its platform, from the
//! account triage named, through the same at-most-once machinery as posts (an occurrence
//! claimed, published, recorded; an unknown outcome checked, never sent again blind). The sent
//! reply becomes the case's response.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::calendar::reply_occurrence;
use super::publisher::PublishService;
use crate::domain::{Account, Mention, Occurrence, Platform, ReplyTarget};
use crate::error::StoreError;
use crate::ports::Inserted;

/// WhatsApp's customer-service window: free-form replies only this long after the citizen's
/// last message.
pub const WHATSAPP_WINDOW_HOURS: i64 = 24;

/// Why a reply cannot be sent, in words for the officer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReplyRefused(pub String);

/// What the officer asks to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRequest {
    /// A stable id for this request (the `Idempotency-Key`'s digest): a retried request
    /// addresses the same reply.
    pub id: String,
    pub text: String,
    /// The account to send from; the one triage named otherwise.
    pub account: Option<Account>,
}

/// Where the citizen's message is answered on its platform.
fn target(mention: &Mention) -> Result<(String, Option<String>), ReplyRefused> {
    let id = mention.external_id.clone();
    match mention.platform {
        Platform::X if id.starts_with("dm.") => {
            Err(ReplyRefused("replies to X direct messages are not sent by Pantau; log the reply instead".into()))
        }
        Platform::X | Platform::Facebook | Platform::Instagram | Platform::Telegram => Ok((id, None)),
        Platform::Whatsapp => match &mention.author.id {
            Some(number) => Ok((id, Some(number.clone()))),
            None => Err(ReplyRefused("the WhatsApp message has no sender number to answer".into())),
        },
        other => Err(ReplyRefused(format!("replies on {other} are not sent by Pantau; reply there and log it"))),
    }
}

impl PublishService {
    /// Sends a reply to a case's mention; returns the reply's occurrence as it stands after the
    /// attempt (published, or waiting to be settled). `last_inbound` is when the citizen last
    /// wrote on the platform (WhatsApp's window).
    pub async fn send_reply(
        &self,
        case_id: &str,
        mention: &Mention,
        request: ReplyRequest,
        last_inbound: DateTime<Utc>,
    ) -> Result<Result<Occurrence, ReplyRefused>, StoreError> {
        let now = self.clock.now();
        let (in_reply_to, to) = match target(mention) {
            Ok(t) => t,
            Err(refused) => return Ok(Err(refused)),
        };
        if mention.platform == Platform::Whatsapp && now > last_inbound + Duration::hours(WHATSAPP_WINDOW_HOURS) {
            let closed = crate::app::alerts::wib_text(last_inbound + Duration::hours(WHATSAPP_WINDOW_HOURS));
            return Ok(Err(ReplyRefused(format!(
                "WhatsApp's 24-hour customer-service window closed at {closed}: after it only approved message templates may be sent; answer when the citizen writes again, or by another channel"
            ))));
        }
        let account = request.account.or_else(|| mention.triage.as_ref().map(|t| t.account)).unwrap_or(Account::Resmi);
        let id = format!("reply-{}", request.id);
        let reply = ReplyTarget { case_id: case_id.to_string(), in_reply_to, to, text: request.text };
        let occurrence = reply_occurrence(id.clone(), mention.platform, account, reply, now);
        let current = match self.occurrences.put_occurrence(&occurrence).await? {
            Inserted::New => occurrence.clone(),
            // The same request again: it stands as it is, or is picked up where it stopped.
            Inserted::Duplicate => match self.occurrences.get_occurrence(&id).await? {
                Some(existing) => existing,
                None => return Err(StoreError::conflict("SendReply", "posts", &id, "the reply vanished")),
            },
        };
        if current.reply.as_ref().is_some_and(|r| r.text != occurrence.reply.as_ref().map_or("", |o| o.text.as_str())) {
            return Ok(Err(ReplyRefused("this Idempotency-Key was used for a different reply".into())));
        }
        if current.state == crate::domain::OccurrenceState::Scheduled {
            let cache = Mutex::new(HashMap::new());
            self.process(current, &cache).await?;
        }
        Ok(Ok(self.occurrences.get_occurrence(&id).await?.unwrap_or(occurrence)))
    }
}
