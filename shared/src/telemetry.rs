//! One telemetry setup: JSON logs through `tracing` in Lambda, readable logs locally.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// JSON lines without ANSI colours, as CloudWatch wants them.
pub fn init_lambda() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .try_init();
}

/// Human-readable logs on stderr for `pantau`; `json` for machine collection.
pub fn init_local(json: bool) {
    let builder = tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
