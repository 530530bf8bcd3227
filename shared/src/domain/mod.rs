//! Domain types, parsed at the boundary and serialisable.

pub mod alert;
pub mod answer;
pub mod case;
pub mod event;
pub mod feedback;
pub mod known_account;
pub mod labels;
pub mod mention;
pub mod post;
pub mod report;

pub use alert::{AlertKind, AlertRecord, SlaStage};
pub use answer::Answer;
pub use case::{
    Case, CaseReply, CaseStatus, CaseTransition, Clock as SlaClock, InvalidTransition, RaisedAlert, ReplySource,
    SYSTEM, opens_case,
};
pub use event::{Event, EventKind};
pub use feedback::Feedback;
pub use known_account::{AccountKind, KnownAccount};
pub use labels::{Account, Action, Category, Influence, Language, Platform, Priority, Sentiment, UnknownLabel};
pub use mention::{
    Author, CaseRef, Classification, Correction, DomainError, Mention, MentionKey, NewMention, Origin, PastText,
    Scores, Triage,
};
pub use post::{
    Approval, Engagement, Occurrence, OccurrenceState, PUBLISH_PLATFORMS, Post, PostStatus, ReplyTarget, Schedule,
    Series, SeriesStatus, Variant,
};
pub use report::{ReportMeta, ReportPeriod};
