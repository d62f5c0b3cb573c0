//! How the I/O threads wake the JS thread: a libuv async handle on Node's event loop, whose
//! callback calls JS's `on_events` (with no argument) in a callback scope, so that the ticks and
//! microtasks it queues run right after it, as after any I/O callback.
//!
//! Not a napi thread-safe function, which this was: Node queues each call under a mutex and
//! signals the loop while still holding it. On a core that the I/O thread and the JS thread
//! share, the woken JS thread often ran at once, blocked on that mutex and gave the core back:
//! two more context switches and a futex wait and wake per wake-up, half of the futex calls of
//! an echo. `uv_async_send` takes no lock, and sends coalesce until the callback runs.
use napi::sys;
use parking_lot::RwLock;
use std::alloc::{self, Layout};
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;

/// `UV_ASYNC` in libuv's `uv_handle_type`.
const UV_ASYNC: c_int = 1;

// libuv, as Node exports it to addons.
extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_async_init(
        event_loop: *mut sys::uv_loop_s,
        handle: *mut c_void,
        callback: unsafe extern "C" fn(*mut c_void),
    ) -> c_int;
    fn uv_async_send(handle: *mut c_void) -> c_int;
    fn uv_close(handle: *mut c_void, callback: unsafe extern "C" fn(*mut c_void));
    fn uv_unref(handle: *mut c_void);
}

/// What the handle's callback calls, and the layout the handle was allocated with; the handle's
/// `data` (its first field) points here from its creation to its close callback, which frees both.
struct Target {
    env: sys::napi_env,
    function: sys::napi_ref,
    context: sys::napi_async_context,
    layout: Layout,
}

/// The handle as the I/O threads see it: sendable while open. The lock orders a send against
/// the close, after which the handle must not be touched.
struct SharedHandle {
    raw: *mut c_void,
    open: RwLock<bool>,
}

// SAFETY: the I/O threads only pass `raw` to `uv_async_send`, which libuv allows from any thread,
// and only while `open` (under its read lock) says the JS thread has not closed it.
unsafe impl Send for SharedHandle {}
// SAFETY: as above.
unsafe impl Sync for SharedHandle {}

/// The JS thread's side of the wake-up; dropped on the JS thread (with the binding object that
/// owns it), which closes the handle. Wake-ups after that do nothing.
pub struct JsWakeup {
    shared: Arc<SharedHandle>,
    target: *mut Target,
}

impl JsWakeup {
    /// On the JS thread: a handle that calls `on_events` on it. It does not keep the process
    /// alive, so that an idle server lets Node exit after `io.close()`.
    pub fn new(
        on_events: &napi::bindgen_prelude::Function<'_, (), ()>,
    ) -> napi::Result<(Self, crate::io::event_queue::Wakeup)> {
        use napi::bindgen_prelude::JsValue;
        let value = on_events.value();
        let env = value.env;
        // SAFETY: every call below is made on the JS thread with its live `env`; the handle's
        // memory is allocated with libuv's size for an async handle, zeroed, and lives until
        // its close callback (`on_closed`).
        unsafe {
            let mut event_loop = ptr::null_mut();
            check(sys::napi_get_uv_event_loop(env, &mut event_loop))?;
            let layout = Layout::from_size_align(uv_handle_size(UV_ASYNC), 16)
                .map_err(|err| napi::Error::from_reason(err.to_string()))?;
            let mut name = ptr::null_mut();
            let label = "socket.io-rs:events";
            check(sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            ))?;
            let mut function = ptr::null_mut();
            check(sys::napi_create_reference(
                env,
                value.value,
                1,
                &mut function,
            ))?;
            let mut context = ptr::null_mut();
            if let Err(err) = check(sys::napi_async_init(
                env,
                ptr::null_mut(),
                name,
                &mut context,
            )) {
                sys::napi_delete_reference(env, function);
                return Err(err);
            }
            let target = Box::new(Target {
                env,
                function,
                context,
                layout,
            });
            let raw = alloc::alloc_zeroed(layout).cast::<c_void>();
            if raw.is_null() {
                alloc::handle_alloc_error(layout);
            }
            if uv_async_init(event_loop, raw, on_async) != 0 {
                alloc::dealloc(raw.cast(), layout);
                release(&target);
                return Err(napi::Error::from_reason(
                    "socket.io-rs: cannot set up the JS wake-up (uv_async_init)",
                ));
            }
            let target = Box::into_raw(target);
            *raw.cast::<*mut Target>() = target;
            uv_unref(raw);
            let shared = Arc::new(SharedHandle {
                raw,
                open: RwLock::new(true),
            });
            let wakeup = sender(Arc::clone(&shared));
            Ok((Self { shared, target }, wakeup))
        }
    }
}

/// The I/O threads' side: signals the handle while it is open.
fn sender(shared: Arc<SharedHandle>) -> crate::io::event_queue::Wakeup {
    Box::new(move || {
        let open = shared.open.read();
        if *open {
            // SAFETY: open, so not closed yet; see `SharedHandle`.
            unsafe { uv_async_send(shared.raw) };
        }
    })
}

impl Drop for JsWakeup {
    fn drop(&mut self) {
        *self.shared.open.write() = false;
        // SAFETY: on the JS thread (see `JsWakeup`), with the env still alive: the reference and
        // the async context are released here rather than in the close callback, which may run
        // after the env is gone (at its teardown). The handle is closed once; the close callback
        // frees its memory and the `Target`.
        unsafe {
            release(&*self.target);
            uv_close(self.shared.raw, on_closed);
        }
    }
}

/// Releases what `target` holds in the env, on the JS thread while the env lives.
unsafe fn release(target: &Target) {
    // SAFETY: the caller's (see `JsWakeup::drop`).
    unsafe {
        sys::napi_delete_reference(target.env, target.function);
        sys::napi_async_destroy(target.env, target.context);
    }
}

/// The handle's callback, on the JS thread.
unsafe extern "C" fn on_async(handle: *mut c_void) {
    // SAFETY: `data` points to the `Target` until the close callback, and libuv calls this one
    // only before the handle is closed. Copied out: the call into JS may drop the binding object
    // and, with it, release what the `Target` names.
    let (env, function_ref, context) = unsafe {
        let target = &**handle.cast::<*mut Target>();
        (target.env, target.function, target.context)
    };
    // SAFETY: on the JS thread, outside any other call into JS, with a handle scope around the
    // values made here. The receiver is the global object, as for a function called plainly
    // (napi_make_callback takes an object).
    unsafe {
        let mut scope = ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut function = ptr::null_mut();
        let mut receiver = ptr::null_mut();
        if sys::napi_get_reference_value(env, function_ref, &mut function) == sys::Status::napi_ok
            && sys::napi_get_global(env, &mut receiver) == sys::Status::napi_ok
        {
            let mut result = ptr::null_mut();
            let status = sys::napi_make_callback(
                env,
                context,
                receiver,
                function,
                0,
                ptr::null(),
                &mut result,
            );
            if status == sys::Status::napi_pending_exception {
                // As for a throw out of any I/O callback: the process meets it as uncaught.
                let mut error = ptr::null_mut();
                if sys::napi_get_and_clear_last_exception(env, &mut error) == sys::Status::napi_ok {
                    sys::napi_fatal_exception(env, error);
                }
            }
        }
        sys::napi_close_handle_scope(env, scope);
    }
}

/// The handle's close callback: frees its memory and its `Target`, whose napi parts `Drop`
/// released already.
unsafe extern "C" fn on_closed(handle: *mut c_void) {
    // SAFETY: `data` points to the `Target` made with the handle; this is the last use of both.
    unsafe {
        let target = Box::from_raw(*handle.cast::<*mut Target>());
        alloc::dealloc(handle.cast(), target.layout);
    }
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "socket.io-rs: cannot set up the JS wake-up (napi status {status})"
        )))
    }
}
