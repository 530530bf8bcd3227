//! E-mail through Amazon SES (v2 `SendEmail`, simple text body): subject is the title, body is
//! the body, from a verified sender to the duty list.

use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::{ALERT_EMAIL_FROM, ALERT_EMAIL_TO};
use crate::config::ConfigError;
use crate::error::NotifyError;
use crate::ports::{Notification, Notifier};

/// SES refuses a message with more recipients than this.
const MAX_RECIPIENTS: usize = 50;

/// Sends alerts as e-mail from one verified SES identity.
#[derive(Debug, Clone)]
pub struct EmailNotifier {
    client: aws_sdk_sesv2::Client,
    from: String,
    to: Vec<String>,
}

type SendEmailSdkError = SdkError<SendEmailError, aws_sdk_sesv2::config::http::HttpResponse>;

/// `SendEmail` failed: SES's code and message, or what broke on the way.
#[derive(Debug, thiserror::Error)]
#[error("SES SendEmail: {}", describe(.0))]
struct SendFailed(#[source] SendEmailSdkError);

fn describe(err: &SendEmailSdkError) -> String {
    match err {
        SdkError::ServiceError(service) => format!(
            "HTTP {} {}: {}",
            service.raw().status().as_u16(),
            service.err().code().unwrap_or("unknown error"),
            service.err().message().unwrap_or_default()
        ),
        other => super::error_chain(other),
    }
}

impl EmailNotifier {
    /// `from` is the verified sender (`alerts@…` or `Name <alerts@…>`), `to` 1 to 50 recipients.
    pub fn new(client: aws_sdk_sesv2::Client, from: String, to: Vec<String>) -> Result<Self, ConfigError> {
        if !from.contains('@') {
            return Err(ConfigError::Invalid { name: ALERT_EMAIL_FROM, reason: format!("{from:?} is not an address") });
        }
        if let Some(bad) = to.iter().find(|a| !a.contains('@')) {
            return Err(ConfigError::Invalid { name: ALERT_EMAIL_TO, reason: format!("{bad:?} is not an address") });
        }
        match to.len() {
            0 => Err(ConfigError::Missing(ALERT_EMAIL_TO)),
            n if n > MAX_RECIPIENTS => Err(ConfigError::Invalid {
                name: ALERT_EMAIL_TO,
                reason: format!("{n} recipients; SES takes at most {MAX_RECIPIENTS} (use a mailing list)"),
            }),
            _ => Ok(EmailNotifier { client, from, to }),
        }
    }
}

/// Throttling, quotas that refill, server errors and network failures may pass later; a refused
/// sender, a paused account or a bad request needs an operator.
fn retryable(err: &SendEmailSdkError) -> bool {
    match err {
        SdkError::ServiceError(service) => {
            matches!(
                service.err().code(),
                Some("TooManyRequestsException" | "LimitExceededException" | "Throttling" | "ThrottlingException")
            ) || service.raw().status().as_u16() >= 500
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    }
}

fn text(data: &str) -> Result<Content, NotifyError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(|e| NotifyError::new("email", false, e))
}

#[async_trait]
impl Notifier for EmailNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        // A line break in a subject would be a header injection; SES refuses it anyway.
        let subject: String = notification.title.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let message =
            Message::builder().subject(text(&subject)?).body(Body::builder().text(text(&notification.body)?).build());
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().set_to_addresses(Some(self.to.clone())).build())
            .content(EmailContent::builder().simple(message.build()).build())
            .send()
            .await
            .map_err(|e| NotifyError::new(self.channel(), retryable(&e), SendFailed(e)))?;
        Ok(())
    }

    fn channel(&self) -> &'static str {
        "email"
    }
}
