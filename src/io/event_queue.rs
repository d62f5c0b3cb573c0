//! Events for the consumer (JavaScript), batched: I/O threads push, one wake-up per batch tells
//! the consumer, which drains everything queued so far with one call.
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Tells the consumer that events wait (the binding calls into JS); called at most once per
/// drain, from any thread.
pub type Wakeup = Box<dyn Fn() + Send + Sync>;

/// Past this many undrained events, connections stop reading (see `Backlog`): a flood from clients
/// waits in their sockets' kernel buffers rather than in this process's memory.
const HIGH_WATER: usize = 64 * 1024;

pub struct EventQueue<E> {
    pending: Mutex<Vec<E>>,
    scheduled: AtomicBool,
    wakeup: Wakeup,
    backlog: Backlog,
}

impl<E> EventQueue<E> {
    pub fn new(wakeup: Wakeup) -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            wakeup,
            backlog: Backlog::default(),
        }
    }

    pub fn push(&self, event: E) {
        self.push_quietly(event);
        self.wake();
    }

    /// Queues an event without telling the consumer: for a consumer that drains right after the
    /// call that queued it (see `Clients::drained_after`).
    pub fn push_quietly(&self, event: E) {
        let mut pending = self.pending.lock();
        pending.push(event);
        self.backlog
            .full
            .store(pending.len() >= HIGH_WATER, Ordering::Release);
    }

    /// Makes sure the consumer drains soon, even with no event queued (see
    /// `Clients::on_poll_answer`).
    pub fn wake(&self) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            (self.wakeup)();
        }
    }

    /// Everything queued so far. The flag is cleared first, so an event pushed during the drain
    /// schedules the next wake-up rather than being stranded.
    pub fn drain(&self) -> Vec<E> {
        self.scheduled.store(false, Ordering::Release);
        let events = std::mem::take(&mut *self.pending.lock());
        self.backlog.full.store(false, Ordering::Release);
        self.backlog.drained.notify_waiters();
        events
    }

    pub fn backlog(&self) -> &Backlog {
        &self.backlog
    }
}

/// Whether the consumer is behind on events, and the signal that it caught up.
#[derive(Default)]
pub struct Backlog {
    full: AtomicBool,
    drained: Notify,
}

impl Backlog {
    /// Waits while the queue is over its high-water mark.
    pub async fn wait_for_room(&self) {
        loop {
            // Registered before the check, so a drain in between is not missed.
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if !self.full.load(Ordering::Acquire) {
                return;
            }
            drained.await;
        }
    }

    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn readers_wait_while_the_backlog_is_full_and_resume_on_drain() {
        let backlog = Arc::new(Backlog::default());
        backlog.wait_for_room().await; // empty: no wait
        backlog.full.store(true, Ordering::Release);
        let waiter = tokio::spawn({
            let backlog = Arc::clone(&backlog);
            async move { backlog.wait_for_room().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        backlog.full.store(false, Ordering::Release);
        backlog.drained.notify_waiters();
        let resumed = tokio::time::timeout(std::time::Duration::from_secs(1), waiter).await;
        assert!(
            matches!(resumed, Ok(Ok(()))),
            "the reader resumes once drained"
        );
    }
}
