//! One telemetry setup: JSON logs through `tracing` in Lambda, readable logs locally.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Whether metrics go to stdout in the embedded metric format (Lambda) or to the log (`pantau`).
static METRICS_ON_STDOUT: AtomicBool = AtomicBool::new(false);

/// Emits one CloudWatch metric. In Lambda: the embedded metric format, a JSON line of its own on
/// stdout, which CloudWatch Logs turns into the metric `Pantau/{name}` with the given
/// dimensions. Locally: a debug log line (stdout belongs to the command's output).
pub fn emit_metric(name: &str, value: f64, dimensions: &[(&str, &str)], at: chrono::DateTime<chrono::Utc>) {
    emit(name, &[value], "Count", dimensions, at);
}

/// Emits durations in milliseconds, several values in one line (the embedded metric format
/// takes up to 100; more are cut to the first 100): a batch's latencies cost one log line.
pub fn emit_milliseconds(name: &str, values: &[f64], dimensions: &[(&str, &str)], at: chrono::DateTime<chrono::Utc>) {
    if !values.is_empty() {
        emit(name, &values[..values.len().min(100)], "Milliseconds", dimensions, at);
    }
}

/// Metric lines kept while [`capture_metrics`] is on (how tests hold the code to the metric
/// names and dimensions the template's alarms watch).
static CAPTURED: std::sync::Mutex<Option<Vec<serde_json::Value>>> = std::sync::Mutex::new(None);

/// From now on, keeps every metric line this process emits, as Lambda would write it.
pub fn capture_metrics() {
    if let Ok(mut captured) = CAPTURED.lock() {
        captured.get_or_insert_with(Vec::new);
    }
}

/// The metric lines kept since [`capture_metrics`], taken.
pub fn captured_metrics() -> Vec<serde_json::Value> {
    CAPTURED.lock().map(|mut c| c.as_mut().map(std::mem::take).unwrap_or_default()).unwrap_or_default()
}

fn emit(name: &str, values: &[f64], unit: &str, dimensions: &[(&str, &str)], at: chrono::DateTime<chrono::Utc>) {
    let line = metric_line(name, values, unit, dimensions, at);
    if METRICS_ON_STDOUT.load(Ordering::Relaxed) {
        // A metric that cannot be written is not worth failing a request for.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    } else {
        tracing::debug!(metric = name, ?values, ?dimensions, "metric");
    }
    if let Ok(mut captured) = CAPTURED.lock()
        && let Some(lines) = captured.as_mut()
    {
        lines.push(line);
    }
}

fn metric_line(
    name: &str,
    values: &[f64],
    unit: &str,
    dimensions: &[(&str, &str)],
    at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "Pantau",
                "Dimensions": [dimensions.iter().map(|(k, _)| *k).collect::<Vec<_>>()],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
    });
    if let Some(map) = line.as_object_mut() {
        for (k, v) in dimensions {
            map.insert((*k).to_string(), (*v).into());
        }
        let value = match values {
            [one] => (*one).into(),
            many => many.to_vec().into(),
        };
        map.insert(name.to_string(), value);
    }
    line
}

/// `RUST_LOG` as a list of `target=level` directives (`info`, `pantau=debug,aws_smithy=warn`),
/// `info` when unset or unreadable. Targets, not `EnvFilter`: it needs no regular expressions,
/// which would be the largest part of a Lambda's logging code.
fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// JSON lines without ANSI colours, as CloudWatch wants them; metrics in the embedded format.
pub fn init_lambda() {
    METRICS_ON_STDOUT.store(true, Ordering::Relaxed);
    let _ = tracing::subscriber::set_global_default(lambda_subscriber(std::io::stdout));
}

/// The functions' log lines on Lambda (JSON, no colours, no time: CloudWatch stamps each
/// event), written to `writer`; the cost test measures what they log per mention with it.
pub fn lambda_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_writer(writer)
        .finish()
        .with(filter())
}

/// Human-readable logs on stderr for `pantau`; `json` for machine collection.
pub fn init_local(json: bool) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr);
    let _ = if json {
        builder.json().finish().with(filter()).try_init()
    } else {
        builder.finish().with(filter()).try_init()
    };
}

/// Logs into a file (appended) instead of the terminal: for commands whose output is for
/// people (`pantau demo`), so log lines never read as part of it.
pub fn init_local_file(path: &Path, json: bool) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let builder = tracing_subscriber::fmt().with_ansi(false).with_writer(std::sync::Mutex::new(file));
    let _ = if json {
        builder.json().finish().with(filter()).try_init()
    } else {
        builder.finish().with(filter()).try_init()
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn metric_lines_follow_the_embedded_metric_format() {
        let at = chrono::DateTime::from_timestamp(1_794_798_000, 0).unwrap();
        let line = super::metric_line("UnmappedWebhookItems", &[2.0], "Count", &[("platform", "meta")], at);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Pantau");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "platform");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "UnmappedWebhookItems");
        assert_eq!(line["_aws"]["Timestamp"], 1_794_798_000_000_i64);
        assert_eq!((line["platform"].as_str(), line["UnmappedWebhookItems"].as_f64()), (Some("meta"), Some(2.0)));
        // Several values of one metric: an array, in the unit given; no dimensions: one empty set.
        let line = super::metric_line("ClassificationLatencyMs", &[12.0, 30.5], "Milliseconds", &[], at);
        assert_eq!(line["ClassificationLatencyMs"], serde_json::json!([12.0, 30.5]));
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Milliseconds");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([[]]));
    }
}
