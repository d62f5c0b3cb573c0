//! The only module that speaks napi: the tokio runtime set up at load, and thin classes over the
//! core. Nothing here holds logic of its own.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod engine;
mod error;
mod event_queue;
mod events;
mod recovery;
mod rooms;

use std::sync::OnceLock;
use tokio::runtime::Handle;

static RUNTIME: OnceLock<Handle> = OnceLock::new();

/// I/O threads: `SOCKET_IO_RS_THREADS`, else one fewer than the cores this process may run on
/// (the JS thread needs one), at least 1 and at most 4. Measured on a server pinned to one core,
/// two I/O threads cost twice the CPU of one per broadcast delivery: every cross-thread wake-up
/// is a context switch there.
fn worker_threads() -> usize {
    let configured = std::env::var("SOCKET_IO_RS_THREADS")
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|threads: &usize| *threads > 0);
    configured.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        cores.saturating_sub(1).clamp(1, 4)
    })
}

#[napi_derive::module_init]
fn init() {
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(%info, "panic in socket.io-rs");
        eprintln!("socket.io-rs: panic: {info}");
    }));
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .thread_name("socket.io-rs-io")
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let _first = RUNTIME.set(runtime.handle().clone());
            napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
        }
        Err(err) => eprintln!("socket.io-rs: cannot start the I/O runtime: {err}"),
    }
}

fn runtime() -> napi::Result<Handle> {
    RUNTIME
        .get()
        .cloned()
        .ok_or_else(|| napi::Error::from_reason("socket.io-rs: the I/O runtime did not start"))
}

#[napi_derive::napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
