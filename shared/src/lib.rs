//! Pantau's library: everything that is not a Lambda entry point. Domain types, ports and
//! their adapters, platform parsing, the function handlers, and glue for Lambda and AWS.

pub mod adapters;
pub mod app;
pub mod auth;
pub mod aws;
pub mod classify;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod http;
pub mod lambda;
pub mod platforms;
pub mod ports;
pub mod report;
pub mod schedule;
pub mod sla;
pub mod spike;
pub mod stores;
pub mod telemetry;
pub mod time;
