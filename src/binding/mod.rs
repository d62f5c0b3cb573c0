//! The only module that speaks napi: the tokio runtime set up at load, and `BindingServer`, which
//! converts between JavaScript and `io::SocketIo`. No socket.io state and no protocol logic here.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod convert;
mod error;
mod events;
mod js_wakeup;
pub mod logs;
mod redis_streams;
mod server;

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
    match start_runtime(worker_threads()) {
        Ok(handle) => {
            let _first = RUNTIME.set(handle);
        }
        Err(err) => eprintln!("socket.io-rs: cannot start the I/O runtime: {err}"),
    }
}

/// With one I/O thread, a current-thread runtime on a thread of its own: it runs woken tasks in
/// the order they were woken, where the multi-thread scheduler runs the last task woken by a
/// batch of readiness events first (its LIFO slot), so that packets arriving on several
/// connections in one order reached JS in another. With more threads, the order across
/// connections is the threads' anyway.
fn start_runtime(threads: usize) -> std::io::Result<Handle> {
    if threads > 1 {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("socket.io-rs-io")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
        return Ok(handle);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("socket.io-rs-io".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    Ok(handle)
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
