//! Rust-to-JS events, batched: I/O threads push, and one threadsafe-function call per batch wakes
//! JS, which drains everything queued so far with one synchronous call.
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Weak, so an idle server does not keep Node alive after `io.close()`.
type Wakeup = ThreadsafeFunction<(), (), (), Status, false, true>;

pub struct EventQueue<E> {
    pending: Mutex<Vec<E>>,
    scheduled: AtomicBool,
    wakeup: Wakeup,
}

impl<E> EventQueue<E> {
    pub fn new(wakeup: &Function<'_, (), ()>) -> napi::Result<Self> {
        let wakeup = wakeup
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(|_| Ok(()))?;
        Ok(Self {
            pending: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            wakeup,
        })
    }

    pub fn push(&self, event: E) {
        self.pending.lock().push(event);
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            self.wakeup
                .call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// Everything queued so far. The flag is cleared first, so an event pushed during the drain
    /// schedules the next wake-up rather than being stranded.
    pub fn drain(&self) -> Vec<E> {
        self.scheduled.store(false, Ordering::Release);
        std::mem::take(&mut *self.pending.lock())
    }
}
