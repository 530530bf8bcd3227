//! Pantau's library: everything that is not a Lambda entry point. Domain types, ports and
//! their adapters, platform parsing, the function handlers, and glue for Lambda and AWS.

pub mod adapters;
pub mod auth;
pub mod aws;
pub mod cases;
pub mod classify;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod http;
pub mod ingest;
pub mod lambda;
pub mod platforms;
pub mod ports;
pub mod relay;
pub mod schedule;
pub mod sla;
pub mod spike;
pub mod telemetry;
pub mod time;
