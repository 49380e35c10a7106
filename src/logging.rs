//! Logging: `tracing` events as hclog JSON lines on stderr.
//!
//! Terraform reads a provider's stderr and, for lines in hclog's JSON shape
//! (`{"@level":..,"@message":..,"@timestamp":..}`), re-levels them into its own log, where
//! `TF_LOG` / `TF_LOG_PROVIDER` decide what the user sees. Plain text would arrive as one
//! undifferentiated blob, so we always write JSON.
//!
//! Level choice: `TF_LOG_PROVIDER` if set, else `TF_LOG`. `trace`, `debug`, `info`, `warn`,
//! `error` mean themselves; `json` (Terraform's "trace, as JSON") means trace; unset, empty or
//! `off` mean warnings and errors only, because those are also what a person running `--debug`
//! by hand must not miss; any other value means trace, as Terraform itself treats an unknown
//! level. Dependencies (h2, hyper, rustls) log at most at `info`: their trace output is per frame
//! and would drown ours.

use std::fmt;
use std::io;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The hclog module name of every line.
pub(crate) const MODULE: &str = "sshkey";

/// Installs the global subscriber (stderr, hclog JSON, level from the environment). Calling it
/// twice, or after another subscriber was installed, is harmless: the first one stays.
pub fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let _ = tracing_subscriber::registry()
        .with(layer(level, io::stderr))
        .try_init();
}

/// The formatting layer with its filter, writing to `writer` (stderr in production, a buffer in
/// tests).
pub(crate) fn layer<S, W>(level: LevelFilter, writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let dependencies = level.min(LevelFilter::INFO);
    let filter = Targets::new()
        .with_default(dependencies)
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_target("terraform_provider_sshkey", level);
    tracing_subscriber::fmt::layer()
        .event_format(HclogFormat)
        .with_writer(writer)
        .with_filter(filter)
}

use tracing_subscriber::Layer as _;

/// Maps the Terraform variables to a level; see the module documentation.
pub(crate) fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let chosen = provider
        .filter(|v| !v.trim().is_empty())
        .or(global.filter(|v| !v.trim().is_empty()));
    let Some(value) = chosen else {
        return LevelFilter::WARN;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "off" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "info" => LevelFilter::INFO,
        "debug" => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// hclog's lowercase level names.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// hclog's layout, microseconds always written: go-plugin parses `@timestamp` with the Go layout
/// `2006-01-02T15:04:05.000000Z07:00`, which needs exactly six fraction digits, and a line it
/// cannot parse loses its level in Terraform's log.
const TIMESTAMP_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// `now` in UTC in hclog's layout.
pub(crate) fn timestamp(now: time::OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    now.format(TIMESTAMP_FORMAT)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// One hclog JSON line (without newline). `fields` come after the `@` keys; a field named like
/// an `@` key cannot override it.
pub(crate) fn render(
    level: Level,
    target: &str,
    message: &str,
    fields: Map<String, Value>,
    now: time::OffsetDateTime,
) -> String {
    let mut line = Map::new();
    line.insert("@level".into(), level_name(level).into());
    line.insert("@message".into(), message.into());
    line.insert("@module".into(), MODULE.into());
    line.insert("@timestamp".into(), timestamp(now).into());
    // Our own targets are implied by @module; foreign ones say where the line came from.
    let ours = target.starts_with(env!("CARGO_CRATE_NAME"))
        || target.starts_with("terraform_provider_sshkey");
    if !ours {
        line.insert("target".into(), target.into());
    }
    for (key, value) in fields {
        line.entry(key).or_insert(value);
    }
    Value::Object(line).to_string()
}

/// The `tracing-subscriber` event formatter producing [`render`]'s lines.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HclogFormat;

impl<S, N> FormatEvent<S, N> for HclogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut visitor = FieldCollector::default();
        event.record(&mut visitor);
        let meta = event.metadata();
        let line = render(
            *meta.level(),
            meta.target(),
            &visitor.message,
            visitor.fields,
            time::OffsetDateTime::now_utc(),
        );
        writeln!(writer, "{line}")
    }
}

/// Collects an event's fields as JSON, keeping numbers and booleans typed.
#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: Map<String, Value>,
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.insert(field.name().to_owned(), value.into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.fields
            .insert(field.name().to_owned(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().to_owned(), text.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn level_choice() {
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(Some(""), Some("off")), LevelFilter::WARN);
        assert_eq!(
            level_from_env(Some("debug"), Some("error")),
            LevelFilter::DEBUG
        );
        assert_eq!(level_from_env(None, Some("INFO")), LevelFilter::INFO);
        assert_eq!(level_from_env(None, Some("json")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some("error"), None), LevelFilter::ERROR);
        assert_eq!(level_from_env(Some("bogus"), None), LevelFilter::TRACE);
    }

    #[test]
    fn render_puts_hclog_keys_first_and_keeps_types() {
        let now = time::macros::datetime!(2026-11-26 22:40:01.123456789 UTC);
        let mut fields = Map::new();
        fields.insert("count".into(), 3.into());
        fields.insert("@level".into(), "spoof".into());
        let line = render(Level::DEBUG, "sshkey::plugin", "hello", fields, now);
        assert_eq!(
            line,
            r#"{"@level":"debug","@message":"hello","@module":"sshkey","@timestamp":"2026-11-26T22:40:01.123456Z","count":3}"#
        );
    }

    #[test]
    fn foreign_targets_are_named() {
        let now = time::macros::datetime!(2026-01-02 03:04:05 +02:00);
        let line = render(Level::WARN, "h2::proto", "x", Map::new(), now);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["target"], "h2::proto");
        assert_eq!(value["@timestamp"], "2026-01-02T01:04:05.000000Z");
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(level: LevelFilter, emit: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(layer(level, buffer.clone()));
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn events_become_json_lines_with_fields() {
        let lines = capture(LevelFilter::DEBUG, || {
            tracing::debug!(keys = 7_u64, ok = true, name = "k1", "deleting {}", "batch");
            tracing::trace!("filtered out");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["@level"], "debug");
        assert_eq!(line["@message"], "deleting batch");
        assert_eq!(line["@module"], "sshkey");
        assert_eq!(line["keys"], 7);
        assert_eq!(line["ok"], true);
        assert_eq!(line["name"], "k1");
        let stamp = line["@timestamp"].as_str().unwrap();
        assert_eq!(stamp.len(), "2026-11-26T22:40:01.123456Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'));
    }

    #[test]
    fn dependencies_are_capped_at_info() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::trace!(target: "h2::codec", "frame");
            tracing::info!(target: "h2::codec", "connection");
            tracing::trace!("ours");
        });
        let messages: Vec<_> = lines
            .iter()
            .map(|l| l["@message"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(messages, vec!["connection", "ours"]);
    }
}
