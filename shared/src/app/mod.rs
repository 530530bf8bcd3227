//! The use cases: what Pantau does, written once against the ports and called by every entry
//! point (the Lambda handlers, `pantau serve`, the CLI). They never see HTTP, Lambda or SDK
//! types; the handlers parse an event, call one of these and map the result to a response.

pub mod alerts;
pub mod cases;
pub mod classification;
pub mod corrections;
pub mod counting;
pub mod ingest;
pub mod privacy;
pub mod publishing;
pub mod relay;
pub mod sla_watch;
pub mod spikes;
