//! The in-memory packet log: per namespace, packets in offset order, bounded by age and by bytes.
//! Eviction happens as packets are appended or looked up, so no timer ever walks the log.
use super::{PacketStore, StoredPacket, Unrecoverable};
use dashmap::DashMap;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Retention limits of the log.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// `maxDisconnectionDuration`: no client can come back later than this, so older packets are
    /// useless.
    pub max_age: Duration,
    /// Upper bound on the bytes a namespace's log holds.
    pub max_bytes: usize,
}

#[derive(Default)]
struct NamespaceLog {
    packets: VecDeque<(Instant, usize, StoredPacket)>,
    bytes: usize,
    /// The highest offset ever evicted.
    evicted_up_to: u64,
}

impl NamespaceLog {
    fn covers(&self, offset: u64, newest: u64) -> Result<(), Unrecoverable> {
        if offset > newest {
            return Err(Unrecoverable::UnknownOffset);
        }
        // Everything after `offset` must still be here; whether `offset` itself is does not
        // matter (a quiet client's last packet may have aged out with nothing after it).
        if self.evicted_up_to > offset {
            return Err(Unrecoverable::Evicted);
        }
        Ok(())
    }

    fn evict(&mut self, retention: &Retention, now: Instant) {
        while let Some((at, weight, packet)) = self.packets.front() {
            let too_old = now.duration_since(*at) > retention.max_age;
            if !too_old && self.bytes <= retention.max_bytes {
                break;
            }
            self.bytes -= weight;
            self.evicted_up_to = packet.offset;
            self.packets.pop_front();
        }
    }
}

pub struct MemoryPacketLog {
    retention: Retention,
    namespaces: DashMap<String, Arc<Mutex<NamespaceLog>>>,
    /// The highest offset appended in any namespace: offsets are one sequence for the server, and
    /// a client may hold one issued in another namespace (a volatile event carries the newest).
    newest: AtomicU64,
}

impl MemoryPacketLog {
    pub fn new(retention: Retention) -> Self {
        Self {
            retention,
            namespaces: DashMap::new(),
            newest: AtomicU64::new(0),
        }
    }

    fn namespace(&self, nsp: &str) -> Arc<Mutex<NamespaceLog>> {
        if let Some(log) = self.namespaces.get(nsp) {
            return Arc::clone(&log);
        }
        Arc::clone(&self.namespaces.entry(nsp.to_owned()).or_default())
    }

    /// The bytes held for a namespace (for tests and metrics).
    pub fn bytes(&self, nsp: &str) -> usize {
        self.namespace(nsp).lock().bytes
    }
}

impl PacketStore for MemoryPacketLog {
    fn covers(&self, nsp: &str, offset: u64) -> Result<(), Unrecoverable> {
        let log = self.namespace(nsp);
        let mut log = log.lock();
        log.evict(&self.retention, Instant::now());
        log.covers(offset, self.newest.load(Ordering::Relaxed))
    }

    fn append(&self, nsp: &str, packet: StoredPacket) {
        let log = self.namespace(nsp);
        let mut log = log.lock();
        let weight = packet.weight();
        self.newest.fetch_max(packet.offset, Ordering::Relaxed);
        log.bytes += weight;
        log.packets.push_back((Instant::now(), weight, packet));
        log.evict(&self.retention, Instant::now());
    }

    fn missed_since(
        &self,
        nsp: &str,
        offset: u64,
        rooms: &[Arc<str>],
    ) -> Result<Vec<StoredPacket>, Unrecoverable> {
        let log = self.namespace(nsp);
        let mut log = log.lock();
        log.evict(&self.retention, Instant::now());
        log.covers(offset, self.newest.load(Ordering::Relaxed))?;
        let start = log
            .packets
            .partition_point(|(_, _, packet)| packet.offset <= offset);
        Ok(log
            .packets
            .range(start..)
            .map(|(_, _, packet)| packet)
            .filter(|packet| packet.reaches(rooms))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::engine_packet::{Message, TextMessage};

    fn packet(offset: u64, rooms: &[&str], except: &[&str]) -> StoredPacket {
        StoredPacket {
            offset,
            frames: Arc::from(vec![Message::Text(TextMessage::new(&format!(
                "2[\"e\",\"{offset}\"]"
            )))]),
            rooms: rooms.iter().map(|r| Arc::from(*r)).collect(),
            except: except.iter().map(|r| Arc::from(*r)).collect(),
        }
    }

    fn rooms(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|r| Arc::from(*r)).collect()
    }

    fn log(max_bytes: usize) -> MemoryPacketLog {
        MemoryPacketLog::new(Retention {
            max_age: Duration::from_secs(60),
            max_bytes,
        })
    }

    fn offsets(packets: Vec<StoredPacket>) -> Vec<u64> {
        packets.into_iter().map(|p| p.offset).collect()
    }

    #[test]
    fn replays_what_follows_the_offset_and_reaches_the_rooms() {
        let log = log(usize::MAX);
        log.append("/", packet(1, &[], &[]));
        log.append("/", packet(2, &["a"], &[]));
        log.append("/", packet(3, &["b"], &[]));
        log.append("/", packet(4, &[], &["a"]));
        log.append("/", packet(5, &[], &[]));
        let missed = log
            .missed_since("/", 1, &rooms(&["sid", "a"]))
            .expect("recoverable");
        assert_eq!(offsets(missed), vec![2, 5]);
    }

    #[test]
    fn namespaces_are_separate() {
        let log = log(usize::MAX);
        log.append("/", packet(1, &[], &[]));
        log.append("/chat", packet(2, &[], &[]));
        assert_eq!(
            offsets(log.missed_since("/chat", 0, &rooms(&["x"])).expect("ok")),
            vec![2]
        );
    }

    #[test]
    fn an_offset_never_issued_is_refused() {
        let log = log(usize::MAX);
        log.append("/", packet(1, &[], &[]));
        assert_eq!(
            log.missed_since("/", 7, &rooms(&["x"])).map(offsets),
            Err(Unrecoverable::UnknownOffset)
        );
    }

    #[test]
    fn the_byte_budget_evicts_the_oldest_and_refuses_offsets_before_them() {
        let one = packet(1, &[], &[]).weight();
        let log = log(one * 2);
        for offset in 1..=4 {
            log.append("/", packet(offset, &[], &[]));
        }
        assert!(log.bytes("/") <= one * 2);
        assert_eq!(
            log.missed_since("/", 1, &rooms(&["x"])).map(offsets),
            Err(Unrecoverable::Evicted)
        );
        assert_eq!(
            offsets(log.missed_since("/", 2, &rooms(&["x"])).expect("ok")),
            vec![3, 4]
        );
    }

    #[test]
    fn an_offset_issued_in_another_namespace_is_known() {
        let log = log(usize::MAX);
        log.append("/", packet(1, &[], &[]));
        log.append("/chat", packet(2, &[], &[]));
        log.append("/", packet(3, &[], &[]));
        assert_eq!(
            offsets(log.missed_since("/chat", 3, &rooms(&["x"])).expect("ok")),
            Vec::<u64>::new()
        );
        assert_eq!(
            offsets(log.missed_since("/", 2, &rooms(&["x"])).expect("ok")),
            vec![3]
        );
    }

    #[test]
    fn covers_answers_as_missed_since_would() {
        let one = packet(1, &[], &[]).weight();
        let log = log(one * 2);
        for offset in 1..=4 {
            log.append("/", packet(offset, &[], &[]));
        }
        assert_eq!(log.covers("/", 1), Err(Unrecoverable::Evicted));
        assert_eq!(log.covers("/", 2), Ok(()));
        assert_eq!(log.covers("/", 4), Ok(()));
        assert_eq!(log.covers("/", 5), Err(Unrecoverable::UnknownOffset));
    }

    #[test]
    fn a_quiet_client_whose_last_packet_aged_out_still_recovers() {
        let log = log(packet(1, &[], &[]).weight());
        log.append("/", packet(1, &[], &[]));
        log.append("/", packet(2, &[], &[]));
        // packet 1 is gone, but the client had it: nothing it missed was dropped.
        assert_eq!(
            offsets(log.missed_since("/", 1, &rooms(&["x"])).expect("ok")),
            vec![2]
        );
    }
}
