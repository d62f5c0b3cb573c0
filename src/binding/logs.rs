//! The `debug` package's settings, from lib/logs.js, for the core's log lines (`crate::logs`).
use crate::logs::{self, LogSettings, NamespaceStyle};
use napi_derive::napi;

/// One enabled namespace as its `debug` instance prints it.
#[napi(object, object_to_js = false)]
pub struct BindingDebugNamespace {
    pub namespace: String,
    pub color: u32,
    pub use_colors: bool,
}

/// The namespaces the core logs under, for JS to ask `debug` which are enabled.
#[napi]
pub fn log_namespaces() -> Vec<String> {
    logs::NAMESPACES
        .iter()
        .map(|name| name.to_string())
        .collect()
}

/// The core prints the lines of `enabled` (and only those) from now on.
#[napi]
pub fn configure_logs(enabled: Vec<BindingDebugNamespace>, hide_date: bool) {
    logs::configure(LogSettings {
        namespaces: enabled
            .into_iter()
            .map(|namespace| NamespaceStyle {
                name: namespace.namespace,
                color: namespace.color,
                use_colors: namespace.use_colors,
            })
            .collect(),
        hide_date,
    });
}
