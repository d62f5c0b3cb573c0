//! The core's `tracing` events printed as the `debug` package prints upstream's lines, under
//! upstream's debug namespaces: an event's target is its namespace
//! (`debug!(target: "engine:socket", ...)`), so `DEBUG=engine*` shows the core's engine lines
//! beside lib/'s.
//!
//! Nothing is installed until `configure` enables a namespace. Until then tracing's global level
//! filter is off, so an event costs one relaxed atomic load and its arguments are never evaluated.
//! Once installed, the subscriber answers `never` for the callsites of namespaces that are off
//! (tracing caches that per callsite), and its level hint turns the global filter off again when
//! every namespace is.
//!
//! A small `Subscriber` of our own rather than tracing-subscriber: the core opens no spans, the
//! filter is a handful of exact targets, and the line format is `debug`'s, which none of
//! tracing-subscriber's formatters writes; so no dependency for it.
mod format;

pub use format::NamespaceStyle;
use parking_lot::RwLock;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Every target the core's events use: upstream's namespaces for the same happenings.
pub const NAMESPACES: &[&str] = &[
    "engine",
    "engine:socket",
    "engine:polling",
    "engine:ws",
    "socket.io:namespace",
    "socket.io-parser",
    "socket.io-redis-streams-adapter",
];

/// What the `debug` package has enabled, and how it prints it.
#[derive(Debug, Clone, Default)]
pub struct LogSettings {
    pub namespaces: Vec<NamespaceStyle>,
    /// `DEBUG_HIDE_DATE`: lines without colors start with the namespace.
    pub hide_date: bool,
}

struct Printer {
    style: NamespaceStyle,
    /// When the namespace printed last (ms since the epoch; 0 before its first line), for the
    /// `+Nms` of colored lines.
    previous_ms: AtomicU64,
}

struct Printers {
    namespaces: Vec<Printer>,
    hide_date: bool,
}

impl Printers {
    fn new(settings: LogSettings) -> Self {
        Self {
            namespaces: settings
                .namespaces
                .into_iter()
                .map(|style| Printer {
                    style,
                    previous_ms: AtomicU64::new(0),
                })
                .collect(),
            hide_date: settings.hide_date,
        }
    }

    fn find(&self, target: &str) -> Option<&Printer> {
        self.namespaces
            .iter()
            .find(|printer| printer.style.name == target)
    }
}

/// Prints the events of enabled namespaces with `write`, one whole line per call.
pub struct DebugLines<W> {
    printers: Arc<RwLock<Printers>>,
    write: W,
}

impl<W: Fn(&str) + Send + Sync + 'static> DebugLines<W> {
    pub fn new(settings: LogSettings, write: W) -> Self {
        Self {
            printers: Arc::new(RwLock::new(Printers::new(settings))),
            write,
        }
    }
}

impl<W: Fn(&str) + Send + Sync + 'static> Subscriber for DebugLines<W> {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.printers.read().find(metadata.target()).is_some()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(if self.printers.read().namespaces.is_empty() {
            LevelFilter::OFF
        } else {
            LevelFilter::TRACE
        })
    }

    /// The core opens no spans; any other crate's are never enabled (no namespace matches).
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let printers = self.printers.read();
        let Some(printer) = printers.find(event.metadata().target()) else {
            return;
        };
        let mut message = MessageText::default();
        event.record(&mut message);
        let now = now_ms();
        let previous = printer.previous_ms.swap(now, Ordering::Relaxed);
        let diff = if previous == 0 {
            0
        } else {
            now.saturating_sub(previous)
        };
        (self.write)(&format::line(
            &printer.style,
            printers.hide_date,
            now,
            diff,
            &message.finish(),
        ));
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// An event's message, then its other fields as ` name=value`.
#[derive(Default)]
struct MessageText {
    message: String,
    fields: String,
}

impl MessageText {
    fn finish(mut self) -> String {
        self.message.push_str(&self.fields);
        self.message
    }
}

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // Writing to a String cannot fail.
        let _infallible = if field.name() == "message" {
            write!(self.message, "{value:?}")
        } else {
            write!(self.fields, " {}={value:?}", field.name())
        };
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// The settings of the subscriber installed as the process's default, once one namespace was on.
static INSTALLED: OnceLock<Arc<RwLock<Printers>>> = OnceLock::new();

/// Prints the events of `settings.namespaces` from now on (and only those): the subscriber is
/// installed the first time one is enabled, and told of every later change.
pub fn configure(settings: LogSettings) {
    if let Some(installed) = INSTALLED.get() {
        *installed.write() = Printers::new(settings);
        // Callsites cached their interest, and tracing its level filter, under the old settings.
        tracing::callsite::rebuild_interest_cache();
        return;
    }
    if settings.namespaces.is_empty() {
        return;
    }
    let lines = DebugLines::new(settings, write_to_stderr);
    if INSTALLED.set(Arc::clone(&lines.printers)).is_ok() {
        // Fails only if something else in this process set tracing's default first: its
        // subscriber then gets the events, and these settings change nothing.
        let _other_default = tracing::subscriber::set_global_default(lines);
    }
}

/// How long a line waits, at most, for a full stderr pipe to drain.
const STDERR_PATIENCE: Duration = Duration::from_secs(1);

/// Writes a line to the process's stderr, which Node shares: when it is a pipe, Node made it
/// non-blocking, so a reader that falls behind makes the write fail with `WouldBlock` (Node
/// queues its own lines in memory then). A debug line is worth a short wait, not a lost line.
fn write_to_stderr(line: &str) {
    let mut rest = line.as_bytes();
    let mut stderr = std::io::stderr().lock();
    let mut waited = Duration::ZERO;
    while !rest.is_empty() {
        match stderr.write(rest) {
            Ok(0) => return,
            Ok(written) => rest = &rest[written..],
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err)
                if err.kind() == std::io::ErrorKind::WouldBlock && waited < STDERR_PATIENCE =>
            {
                std::thread::sleep(Duration::from_millis(1));
                waited += Duration::from_millis(1);
            }
            // Closed, or still full: the line is lost, as `debug`'s would be.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    fn plain(name: &str) -> NamespaceStyle {
        NamespaceStyle {
            name: name.into(),
            color: 6,
            use_colors: false,
        }
    }

    fn capture(settings: LogSettings, emit: impl FnOnce()) -> Vec<String> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let subscriber = DebugLines::new(settings, move |line: &str| {
            sink.lock().push(line.to_owned());
        });
        tracing::subscriber::with_default(subscriber, emit);
        let captured = lines.lock().clone();
        captured
    }

    #[test]
    fn only_enabled_namespaces_are_printed_with_their_fields() {
        let settings = LogSettings {
            namespaces: vec![plain("engine:socket")],
            hide_date: true,
        };
        let lines = capture(settings, || {
            tracing::debug!(target: "engine:socket", sid = %"abc", reason = "ping timeout", "session closed");
            tracing::debug!(target: "engine:ws", "received \"2probe\"");
            tracing::debug!("an event of no namespace");
        });
        assert_eq!(
            lines,
            ["engine:socket session closed sid=abc reason=\"ping timeout\"\n"]
        );
    }

    #[test]
    fn nothing_is_printed_when_no_namespace_is_enabled() {
        let lines = capture(LogSettings::default(), || {
            tracing::debug!(target: "engine", "handshaking client");
        });
        assert!(lines.is_empty());
    }
}
