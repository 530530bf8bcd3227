//! Domain types, parsed at the boundary and serialisable.

pub mod case;
pub mod event;
pub mod labels;
pub mod mention;
pub mod post;
pub mod report;

pub use case::{
    Case, CaseReply, CaseStatus, CaseTransition, Clock as SlaClock, InvalidTransition, RaisedAlert, ReplySource,
    SYSTEM, opens_case,
};
pub use event::{Event, EventKind};
pub use labels::{Account, Action, Category, Influence, Language, Platform, Priority, Sentiment, UnknownLabel};
pub use mention::{
    Author, CaseRef, Classification, Correction, DomainError, Mention, MentionKey, NewMention, PastText, Scores, Triage,
};
pub use post::{Occurrence, OccurrenceState, Post, Series, Variant};
pub use report::{ReportMeta, ReportPeriod};
