//! The messages of `@socket.io/redis-streams-adapter` as they sit in the stream, over
//! socket.io-adapter's `ClusterAdapter`: one entry per message with the fields `uid` (the sending
//! adapter), `nsp`, `type` (the `MessageType` number, in decimal) and `data` (JSON text, or base64
//! msgpack when the data holds binary). Pure: no I/O.
use crate::io::packet::OutgoingPacket;
use crate::protocol::socketio_packet::PacketType;
use serde::Deserialize;
use serde_json::value::RawValue;

/// socket.io-adapter's `MessageType.BROADCAST`.
pub const BROADCAST: u32 = 3;

/// One stream entry, fields decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The stream id (`<ms>-<seq>`): the offset that connection-state recovery hands clients.
    pub id: String,
    pub uid: String,
    pub nsp: String,
    pub kind: u32,
    pub data: Option<String>,
}

impl StreamEntry {
    /// The entry from its fields; None when `nsp` or `type` is missing or `type` is not a number
    /// (upstream ignores entries without `nsp`).
    pub fn from_fields(
        id: &str,
        fields: impl IntoIterator<Item = (String, String)>,
    ) -> Option<Self> {
        let (mut uid, mut nsp, mut kind, mut data) = (None, None, None, None);
        for (name, value) in fields {
            match name.as_str() {
                "uid" => uid = Some(value),
                "nsp" => nsp = Some(value),
                "type" => kind = value.parse().ok(),
                "data" => data = Some(value),
                _ => {}
            }
        }
        Some(Self {
            id: id.to_owned(),
            uid: uid.unwrap_or_default(),
            nsp: nsp.filter(|nsp| !nsp.is_empty())?,
            kind: kind?,
            data,
        })
    }
}

/// A broadcast that a node delivers to its own sockets with no JavaScript: an EVENT without ack
/// id, no ack request, not volatile, not local, data in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainBroadcast {
    pub rooms: Vec<String>,
    pub except: Vec<String>,
    /// The JSON array of the event's arguments.
    pub data: String,
}

#[derive(Deserialize)]
struct BroadcastData<'a> {
    #[serde(borrow)]
    packet: BroadcastPacket<'a>,
    opts: BroadcastOptions,
    #[serde(rename = "requestId")]
    request_id: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct BroadcastPacket<'a> {
    #[serde(rename = "type")]
    kind: u32,
    #[serde(borrow)]
    data: &'a RawValue,
    id: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct BroadcastOptions {
    #[serde(default)]
    rooms: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    flags: Option<Flags>,
}

#[derive(Deserialize, Default)]
struct Flags {
    volatile: Option<serde::de::IgnoredAny>,
    local: Option<bool>,
}

impl PlainBroadcast {
    /// The broadcast in `entry`, if it is a plain one; anything else (acks, volatile, binary,
    /// other message types) is for the JS adapter.
    pub fn from_entry(entry: &StreamEntry) -> Option<Self> {
        if entry.kind != BROADCAST {
            return None;
        }
        let text = entry.data.as_deref()?;
        // Binary data is base64 msgpack; JSON data is an object.
        if !text.starts_with('{') {
            return None;
        }
        let data: BroadcastData<'_> = serde_json::from_str(text).ok()?;
        let flags = data.opts.flags.unwrap_or_default();
        let plain = data.request_id.is_none()
            && data.packet.kind == PacketType::Event as u32
            && data.packet.id.is_none()
            && flags.volatile.is_none()
            && flags.local != Some(true)
            && data.packet.data.get().trim_start().starts_with('[');
        plain.then(|| Self {
            rooms: data.opts.rooms,
            except: data.opts.except,
            data: data.packet.data.get().to_owned(),
        })
    }

    /// The Socket.IO packet to deliver; with `offset`, the entry's id is appended to the
    /// arguments, as upstream does when connection-state recovery is on.
    pub fn packet(&self, nsp: &str, offset: Option<&str>) -> OutgoingPacket {
        let data = match offset {
            Some(offset) => with_offset(&self.data, offset),
            None => self.data.clone(),
        };
        OutgoingPacket::new(nsp, PacketType::Event, &data)
    }
}

/// Bits of a stream id's sequence number kept in its number (`offset_number`).
const SEQUENCE_BITS: u32 = 22;

/// A stream id (`<ms>-<seq>`) as one number that orders as the ids do, for the room index to
/// record per socket: the milliseconds above 22 bits of sequence. None for an id whose sequence
/// does not fit (4 M entries in one millisecond) or that is not an id.
pub fn offset_number(id: &str) -> Option<u64> {
    let (ms, seq) = id.split_once('-')?;
    let (ms, seq): (u64, u64) = (ms.parse().ok()?, seq.parse().ok()?);
    (seq < 1 << SEQUENCE_BITS && ms < 1 << (64 - SEQUENCE_BITS))
        .then_some(ms << SEQUENCE_BITS | seq)
}

/// The stream id of an `offset_number`.
pub fn offset_id(number: u64) -> String {
    format!(
        "{}-{}",
        number >> SEQUENCE_BITS,
        number & ((1 << SEQUENCE_BITS) - 1)
    )
}

/// The JSON array `array` with the string `offset` appended.
pub fn with_offset(array: &str, offset: &str) -> String {
    let body = array.trim_end();
    let body = body.strip_suffix(']').unwrap_or(body);
    let empty = body
        .trim_start()
        .strip_prefix('[')
        .is_some_and(|inner| inner.trim().is_empty());
    let offset = serde_json::Value::from(offset).to_string();
    if empty {
        format!("[{offset}]")
    } else {
        format!("{body},{offset}]")
    }
}

/// The `data` field of a BROADCAST entry for a plain broadcast from this node, as
/// socket.io-adapter's `ClusterAdapter` publishes it (`{packet, opts}`).
pub fn broadcast_data(
    nsp: &str,
    data: &str,
    rooms: &[String],
    except: &[String],
    flags: &str,
) -> String {
    let list = |values: &[String]| serde_json::Value::from(values.to_vec()).to_string();
    format!(
        "{{\"packet\":{{\"type\":{},\"data\":{data},\"nsp\":{}}},\"opts\":{{\"rooms\":{},\"except\":{},\"flags\":{flags}}}}}",
        PacketType::Event as u32,
        serde_json::Value::from(nsp),
        list(rooms),
        list(except),
    )
}

/// The stream a namespace's messages go to (upstream's `computeStreamName`, with its 32-bit
/// `hashCode` and JavaScript's remainder, sign included).
pub fn stream_name(base: &str, count: u32, nsp: &str) -> String {
    if count <= 1 {
        return base.to_owned();
    }
    let hash = nsp.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    format!("{base}-{}", hash.wrapping_rem(count as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: u32, data: &str) -> StreamEntry {
        StreamEntry {
            id: "1700000000000-0".into(),
            uid: "abc".into(),
            nsp: "/".into(),
            kind,
            data: Some(data.into()),
        }
    }

    #[test]
    fn a_plain_broadcast_is_read_with_its_rooms() {
        let broadcast = PlainBroadcast::from_entry(&entry(
            3,
            r#"{"packet":{"type":2,"data":["hello",{"a":1}],"nsp":"/"},"opts":{"rooms":["r1"],"except":["r2"],"flags":{}}}"#,
        ))
        .expect("plain");
        assert_eq!(broadcast.rooms, vec!["r1"]);
        assert_eq!(broadcast.except, vec!["r2"]);
        assert_eq!(broadcast.data, r#"["hello",{"a":1}]"#);
        assert_eq!(
            broadcast.packet("/", Some("1700000000000-0")).data,
            r#"["hello",{"a":1}, "1700000000000-0"]"#.replace(", ", ",")
        );
    }

    #[test]
    fn everything_else_is_left_to_javascript() {
        for data in [
            r#"{"packet":{"type":2,"data":["a"]},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}}"#,
            r#"{"packet":{"type":2,"data":["a"]},"opts":{"rooms":[],"except":[],"flags":{"local":true}}}"#,
            r#"{"packet":{"type":2,"data":["a"]},"requestId":"x","opts":{"rooms":[],"except":[],"flags":{}}}"#,
            r#"{"packet":{"type":2,"data":["a"],"id":3},"opts":{"rooms":[],"except":[],"flags":{}}}"#,
            r#"{"packet":{"type":1,"data":["a"]},"opts":{"rooms":[],"except":[],"flags":{}}}"#,
            "gqZwYWNrZXSC",
            "{not json",
        ] {
            assert_eq!(PlainBroadcast::from_entry(&entry(3, data)), None, "{data}");
        }
        assert_eq!(
            PlainBroadcast::from_entry(&entry(
                4,
                r#"{"opts":{"rooms":[],"except":[]},"rooms":["a"]}"#
            )),
            None
        );
    }

    #[test]
    fn offsets_number_in_the_order_of_stream_ids() {
        let ids = [
            "0-1",
            "1700000000000-0",
            "1700000000000-7",
            "1700000000001-0",
        ];
        let numbers: Vec<u64> = ids
            .iter()
            .map(|id| offset_number(id).expect("an id"))
            .collect();
        assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(ids.iter().zip(&numbers).all(|(id, n)| offset_id(*n) == *id));
        assert_eq!(offset_number("1-4194304"), None);
        assert_eq!(offset_number("x-1"), None);
    }

    #[test]
    fn offsets_are_appended_as_the_last_argument() {
        assert_eq!(with_offset("[]", "1-0"), r#"["1-0"]"#);
        assert_eq!(with_offset("[ ]", "1-0"), r#"["1-0"]"#);
        assert_eq!(with_offset(r#"["a",1]"#, "2-5"), r#"["a",1,"2-5"]"#);
    }

    #[test]
    fn published_data_reads_back_as_the_same_broadcast() {
        let data = broadcast_data("/chat", r#"["x",2]"#, &["r".into()], &[], "{}");
        assert_eq!(
            data,
            r#"{"packet":{"type":2,"data":["x",2],"nsp":"/chat"},"opts":{"rooms":["r"],"except":[],"flags":{}}}"#
        );
        let read = PlainBroadcast::from_entry(&entry(3, &data)).expect("plain");
        assert_eq!(
            (read.rooms, read.data),
            (vec!["r".to_owned()], r#"["x",2]"#.to_owned())
        );
    }

    #[test]
    fn fields_without_a_namespace_or_a_type_are_ignored() {
        let fields = |pairs: &[(&'static str, &str)]| {
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(StreamEntry::from_fields(
            "1-0",
            fields(&[("uid", "u"), ("nsp", "/"), ("type", "3")])
        )
        .is_some());
        assert!(StreamEntry::from_fields("1-0", fields(&[("uid", "u"), ("type", "3")])).is_none());
        assert!(StreamEntry::from_fields("1-0", fields(&[("nsp", "/"), ("type", "x")])).is_none());
    }

    #[test]
    fn namespaces_map_to_streams_as_upstream_hashes_them() {
        assert_eq!(stream_name("socket.io", 1, "/"), "socket.io");
        // Upstream's hashCode in Node: "/" -> 47, "/chat" -> 46457863,
        // "/admin-dashboard-namespace" -> -81448811, "/négatif-ü" -> 261169212.
        assert_eq!(stream_name("s", 3, "/"), "s-2");
        assert_eq!(stream_name("s", 3, "/chat"), "s-1");
        assert_eq!(stream_name("s", 3, "/admin-dashboard-namespace"), "s--2");
        assert_eq!(stream_name("s", 3, "/négatif-ü"), "s-0");
    }
}
