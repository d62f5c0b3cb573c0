//! A WebSocket connection's queue of outgoing packets. Packets sent from the JS thread are only
//! appended, and each writer is woken once per JS turn (`Engine::flush`), or sooner in a turn that
//! queues much, so a connection that receives many packets in a turn writes them with one syscall
//! instead of one each. Packets from the I/O threads (pings, closes) wake their writer at once.
use super::shared_messages::SharedMessages;
use crate::protocol::engine_packet::Packet;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// What a WebSocket connection's writer is told to do.
#[derive(Debug)]
pub enum Outgoing {
    Packet(Packet),
    /// Messages shared with other connections (a broadcast's frames): queued to each recipient
    /// as one reference, not one per message.
    Messages(Arc<SharedMessages>),
    /// Send a Close frame after what is queued, then end.
    Close,
}

#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Vec<Outgoing>>,
    wake: Notify,
    /// Set once a Close is queued or the writer is gone: nothing queued later would ever be
    /// written.
    closed: AtomicBool,
}

/// The connection is closing or closed: nothing more is sent on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("queued", &self.queue.lock().len())
            .finish()
    }
}

impl Outbox {
    pub fn new() -> Arc<Outbox> {
        Arc::new(Self::default())
    }

    /// Appends without waking the writer. Ok(true) when the queue was empty: the caller must see
    /// to a wake-up (`Engine::flush` does it for the JS thread's sends).
    pub fn push(&self, item: Outgoing) -> Result<bool, Closed> {
        self.push_all(std::iter::once(item))
    }

    /// `push` for several items, under one lock. Ok(true) when the queue was empty before.
    pub fn push_all(&self, items: impl IntoIterator<Item = Outgoing>) -> Result<bool, Closed> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Closed);
        }
        let mut queue = self.queue.lock();
        let was_empty = queue.is_empty();
        for item in items {
            if matches!(item, Outgoing::Close) {
                self.closed.store(true, Ordering::Release);
            }
            queue.push(item);
        }
        Ok(was_empty)
    }

    /// Appends and wakes the writer.
    pub fn send(&self, item: Outgoing) -> Result<(), Closed> {
        self.push(item)?;
        self.wake();
        Ok(())
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until woken, then takes everything queued.
    pub async fn next_batch(&self) -> Vec<Outgoing> {
        self.wake.notified().await;
        std::mem::take(&mut *self.queue.lock())
    }

    /// The writer ends: later sends fail instead of piling up.
    pub fn shut(&self) {
        self.closed.store(true, Ordering::Release);
        self.queue.lock().clear();
    }

    /// Whether two handles name the same connection (during an upgrade, two are in play).
    pub fn same(a: &Arc<Outbox>, b: &Arc<Outbox>) -> bool {
        Arc::ptr_eq(a, b)
    }

    #[cfg(test)]
    pub fn take_queued(&self) -> Vec<Outgoing> {
        std::mem::take(&mut *self.queue.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_holds_everything_pushed_before_the_wake() {
        let outbox = Outbox::new();
        assert_eq!(outbox.push(Outgoing::Packet(Packet::text("a"))), Ok(true));
        assert_eq!(outbox.push(Outgoing::Packet(Packet::text("b"))), Ok(false));
        outbox.wake();
        assert_eq!(outbox.next_batch().await.len(), 2);
        assert_eq!(
            outbox.push(Outgoing::Close),
            Ok(true),
            "empty again after a batch"
        );
    }

    #[test]
    fn nothing_is_queued_after_a_close() {
        let outbox = Outbox::new();
        assert_eq!(outbox.push(Outgoing::Packet(Packet::text("a"))), Ok(true));
        assert_eq!(outbox.push(Outgoing::Close), Ok(false));
        assert_eq!(
            outbox.push(Outgoing::Packet(Packet::text("b"))),
            Err(Closed)
        );
        assert_eq!(outbox.take_queued().len(), 2);
    }

    #[test]
    fn a_shut_outbox_refuses_packets() {
        let outbox = Outbox::new();
        outbox.shut();
        assert_eq!(outbox.send(Outgoing::Close), Err(Closed));
    }
}
