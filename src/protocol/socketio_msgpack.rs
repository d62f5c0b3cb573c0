//! socket.io-msgpack-parser's wire format: each packet is one binary message, a msgpack map of
//! `type`, `data`, `nsp` and `id` (notepack.io 2.2 on both sides), with binary values inline.
//! Decoded packets are handed on as socket.io-parser's are: the data as JSON text, each binary
//! value a `{"_placeholder":true,"num":N}` for attachment N, so that JS rebuilds them as it does
//! for the default parser. Values JSON cannot carry (undefined, Date, ArrayBuffer, NaN, ...) are
//! left to the parser in JS (`Decoded::ForJs`), which is upstream's own.
use super::socketio_packet::PacketType;
use super::socketio_reassembly::IncomingPacket;
use bytes::Bytes;
use rmp::encode::{ByteBuf, ValueWriteError};
use rmp::Marker;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use std::convert::Infallible;
use std::fmt::Write as _;

/// Deeper data is left to JS (notepack.io recurses as far as the JS stack goes); lib/parser.js
/// encodes data as deep in JS too, which keeps what Rust encodes within serde_json's 128 levels.
pub const MAX_DEPTH: usize = 100;

/// What a binary message holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    Packet(IncomingPacket),
    /// A valid message whose values only JS represents: decoded by the parser in JS.
    ForJs,
}

/// Why a message was refused; socket.io-msgpack-parser throws these, and the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not msgpack: truncated, or a byte that starts no value (notepack.io: "Could not parse").
    Malformed,
    TrailingBytes(usize),
    InvalidType,
    InvalidNamespace,
    InvalidPayload,
    InvalidId,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Malformed => f.write_str("Could not parse"),
            DecodeError::TrailingBytes(count) => write!(f, "{count} trailing bytes"),
            DecodeError::InvalidType => f.write_str("invalid packet type"),
            DecodeError::InvalidNamespace => f.write_str("invalid namespace"),
            DecodeError::InvalidPayload => f.write_str("invalid payload"),
            DecodeError::InvalidId => f.write_str("invalid packet id"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a packet could not be encoded: its JSON text is not JSON JS made (nesting beyond
/// serde_json's limit, a placeholder with no attachment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot encode the packet as msgpack: {}", self.0)
    }
}

impl std::error::Error for EncodeError {}

/// Decodes one binary message as socket.io-msgpack-parser's `Decoder` does, with its checks.
pub fn decode(message: &Bytes) -> Result<Decoded, DecodeError> {
    let mut reader = Reader {
        message,
        pos: 0,
        attachments: Vec::new(),
    };
    let fields = reader.packet()?;
    if reader.pos != message.len() {
        return Err(DecodeError::TrailingBytes(message.len() - reader.pos));
    }
    let kind = match fields.kind {
        Some(Number::Int(n)) if (0..=4).contains(&n) => PacketType::from_number(n as u32),
        _ => None,
    }
    .ok_or(DecodeError::InvalidType)?;
    let nsp = fields.nsp.ok_or(DecodeError::InvalidNamespace)?;
    let data_valid = match (kind, fields.data_kind) {
        (_, DataKind::ForJs) => true,
        (PacketType::Connect, kind) => matches!(kind, DataKind::Absent | DataKind::Map),
        (PacketType::Disconnect, kind) => kind == DataKind::Absent,
        (PacketType::ConnectError, kind) => matches!(kind, DataKind::Str | DataKind::Map),
        (_, kind) => kind == DataKind::Array,
    };
    if !data_valid {
        return Err(DecodeError::InvalidPayload);
    }
    let id = match fields.id {
        None => None,
        Some(Number::Int(id)) => match u64::try_from(id) {
            Ok(id) => Some(id),
            // Valid (an integer), but only JS takes it as it is.
            Err(_) => return Ok(Decoded::ForJs),
        },
        Some(Number::Other) => return Err(DecodeError::InvalidId),
    };
    if fields.data_kind == DataKind::ForJs {
        return Ok(Decoded::ForJs);
    }
    Ok(Decoded::Packet(IncomingPacket {
        kind,
        nsp,
        id,
        data: fields.data,
        attachments: reader.attachments,
    }))
}

/// A number field as notepack.io gives it to the checks: an integer, or anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Int(i128),
    Other,
}

/// What the `data` field holds, as far as the checks look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    Absent,
    Map,
    Array,
    Str,
    Other,
    /// Holds a value JSON cannot carry.
    ForJs,
}

#[derive(Debug)]
struct Fields {
    kind: Option<Number>,
    nsp: Option<String>,
    data: String,
    data_kind: DataKind,
    id: Option<Number>,
}

/// One decoded value, as JSON text goes.
enum Value {
    /// Written to the JSON output.
    Json(DataKind),
    /// undefined (notepack.io's fixext 1 of type 0).
    Undefined,
    /// A value JSON cannot carry, or data nested beyond `MAX_DEPTH`.
    ForJs,
}

struct Reader<'a> {
    message: &'a Bytes,
    pos: usize,
    attachments: Vec<Bytes>,
}

impl Reader<'_> {
    fn take(&mut self, count: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(count)
            .filter(|&end| end <= self.message.len())
            .ok_or(DecodeError::Malformed)?;
        let bytes = &self.message[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len8(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(self.be::<1>()?[0]))
    }

    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.be()?)))
    }

    fn len32(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(u32::from_be_bytes(self.be()?)).map_err(|_| DecodeError::Malformed)
    }

    /// The top-level map. Fields other than the four are read and dropped (socket.io-client adds
    /// `options`); a repeated field keeps its last value, as notepack.io does.
    fn packet(&mut self) -> Result<Fields, DecodeError> {
        let mut fields = Fields {
            kind: None,
            nsp: None,
            data: String::new(),
            data_kind: DataKind::Absent,
            id: None,
        };
        let marker = Marker::from_u8(self.be::<1>()?[0]);
        let Some(entries) = self.map_len(marker)? else {
            // Not a map: `decoded.type` is no integer. The rest must still be msgpack.
            self.pos -= 1;
            self.skip()?;
            return Ok(fields);
        };
        for _ in 0..entries {
            let key_marker = Marker::from_u8(self.be::<1>()?[0]);
            let key = match self.str_len(key_marker)? {
                Some(len) => Some(self.take(len)?.to_vec()),
                None => {
                    self.pos -= 1;
                    self.skip()?;
                    None
                }
            };
            match key.as_deref() {
                Some(b"type") => fields.kind = self.number()?,
                Some(b"id") => fields.id = self.number()?,
                Some(b"nsp") => {
                    let marker = Marker::from_u8(self.be::<1>()?[0]);
                    fields.nsp = match self.str_len(marker)? {
                        Some(len) => Some(String::from_utf8_lossy(self.take(len)?).into_owned()),
                        None => {
                            self.pos -= 1;
                            self.skip()?;
                            None
                        }
                    };
                }
                Some(b"data") => {
                    let mut json = String::new();
                    self.attachments.clear();
                    fields.data_kind = match self.value(&mut json, 0)? {
                        Value::Json(kind) => kind,
                        Value::Undefined => DataKind::Absent,
                        Value::ForJs => DataKind::ForJs,
                    };
                    fields.data = if fields.data_kind == DataKind::Absent {
                        String::new()
                    } else {
                        json
                    };
                }
                _ => {
                    self.skip()?;
                }
            }
        }
        Ok(fields)
    }

    /// Reads a value that is not handed on: it must be msgpack, and yields no attachment.
    fn skip(&mut self) -> Result<Value, DecodeError> {
        let attachments = self.attachments.len();
        let value = self.value(&mut String::new(), 0);
        self.attachments.truncate(attachments);
        value
    }

    /// Reads past `count` values, however deeply nested, without recursing: a client's data
    /// must not choose how deep the stack goes.
    fn skip_items(&mut self, count: usize) -> Result<(), DecodeError> {
        let mut pending = count;
        while pending > 0 {
            pending -= 1;
            let marker = Marker::from_u8(self.be::<1>()?[0]);
            let (skipped, items) = match marker {
                Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null => (0, 0),
                Marker::True | Marker::False => (0, 0),
                Marker::U8 | Marker::I8 => (1, 0),
                Marker::U16 | Marker::I16 => (2, 0),
                Marker::U32 | Marker::I32 | Marker::F32 => (4, 0),
                Marker::U64 | Marker::I64 | Marker::F64 => (8, 0),
                Marker::FixStr(len) => (usize::from(len), 0),
                Marker::Str8 | Marker::Bin8 => (self.len8()?, 0),
                Marker::Str16 | Marker::Bin16 => (self.len16()?, 0),
                Marker::Str32 | Marker::Bin32 => (self.len32()?, 0),
                Marker::FixExt1 => (2, 0),
                Marker::FixExt2 => (3, 0),
                Marker::FixExt4 => (5, 0),
                Marker::FixExt8 => (9, 0),
                Marker::FixExt16 => (17, 0),
                Marker::Ext8 => (self.len8()? + 1, 0),
                Marker::Ext16 => (self.len16()? + 1, 0),
                Marker::Ext32 => (self.len32()?.saturating_add(1), 0),
                Marker::FixArray(len) => (0, usize::from(len)),
                Marker::Array16 => (0, self.len16()?),
                Marker::Array32 => (0, self.len32()?),
                Marker::FixMap(len) => (0, usize::from(len) * 2),
                Marker::Map16 => (0, self.len16()? * 2),
                Marker::Map32 => (0, self.len32()?.saturating_mul(2)),
                Marker::Reserved => return Err(DecodeError::Malformed),
            };
            self.take(skipped)?;
            pending = pending.saturating_add(items);
        }
        Ok(())
    }

    /// A `type` or `id` field: absent when undefined.
    fn number(&mut self) -> Result<Option<Number>, DecodeError> {
        let marker = Marker::from_u8(self.be::<1>()?[0]);
        let number = match marker {
            Marker::FixPos(n) => i128::from(n),
            Marker::FixNeg(n) => i128::from(n),
            Marker::U8 => i128::from(self.be::<1>()?[0]),
            Marker::U16 => i128::from(u16::from_be_bytes(self.be()?)),
            Marker::U32 => i128::from(u32::from_be_bytes(self.be()?)),
            Marker::U64 => i128::from(u64::from_be_bytes(self.be()?)),
            Marker::I8 => i128::from(i8::from_be_bytes(self.be()?)),
            Marker::I16 => i128::from(i16::from_be_bytes(self.be()?)),
            Marker::I32 => i128::from(i32::from_be_bytes(self.be()?)),
            Marker::I64 => i128::from(i64::from_be_bytes(self.be()?)),
            Marker::F32 => return Ok(Some(integral(f64::from(f32::from_be_bytes(self.be()?))))),
            Marker::F64 => return Ok(Some(integral(f64::from_be_bytes(self.be()?)))),
            _ => {
                self.pos -= 1;
                return Ok(match self.skip()? {
                    Value::Undefined => None,
                    _ => Some(Number::Other),
                });
            }
        };
        Ok(Some(Number::Int(number)))
    }

    fn map_len(&mut self, marker: Marker) -> Result<Option<usize>, DecodeError> {
        Ok(Some(match marker {
            Marker::FixMap(len) => usize::from(len),
            Marker::Map16 => self.len16()?,
            Marker::Map32 => self.len32()?,
            _ => return Ok(None),
        }))
    }

    fn str_len(&mut self, marker: Marker) -> Result<Option<usize>, DecodeError> {
        Ok(Some(match marker {
            Marker::FixStr(len) => usize::from(len),
            Marker::Str8 => self.len8()?,
            Marker::Str16 => self.len16()?,
            Marker::Str32 => self.len32()?,
            _ => return Ok(None),
        }))
    }

    /// Reads one value and writes it to `json`, binary values as placeholders. Once a value
    /// only JS can carry is found, the rest is only checked to be msgpack.
    fn value(&mut self, json: &mut String, depth: usize) -> Result<Value, DecodeError> {
        let marker = Marker::from_u8(self.be::<1>()?[0]);
        if let Some(len) = self.str_len(marker)? {
            let text = String::from_utf8_lossy(self.take(len)?);
            write_json_str(json, &text);
            return Ok(Value::Json(DataKind::Str));
        }
        let integer = match marker {
            Marker::FixPos(n) => Some(i128::from(n)),
            Marker::FixNeg(n) => Some(i128::from(n)),
            Marker::U8 => Some(i128::from(self.be::<1>()?[0])),
            Marker::U16 => Some(i128::from(u16::from_be_bytes(self.be()?))),
            Marker::U32 => Some(i128::from(u32::from_be_bytes(self.be()?))),
            Marker::U64 => Some(i128::from(u64::from_be_bytes(self.be()?))),
            Marker::I8 => Some(i128::from(i8::from_be_bytes(self.be()?))),
            Marker::I16 => Some(i128::from(i16::from_be_bytes(self.be()?))),
            Marker::I32 => Some(i128::from(i32::from_be_bytes(self.be()?))),
            Marker::I64 => Some(i128::from(i64::from_be_bytes(self.be()?))),
            _ => None,
        };
        if let Some(integer) = integer {
            // JSON.parse rounds beyond 2^53 as notepack.io's arithmetic does: once.
            let _infallible = write!(json, "{integer}");
            return Ok(Value::Json(DataKind::Other));
        }
        let float = match marker {
            Marker::F32 => Some(f64::from(f32::from_be_bytes(self.be()?))),
            Marker::F64 => Some(f64::from_be_bytes(self.be()?)),
            _ => None,
        };
        if let Some(float) = float {
            if !float.is_finite() {
                return Ok(Value::ForJs);
            }
            // Debug formatting prints the shortest text that reads back as the same f64.
            let _infallible = write!(json, "{float:?}");
            return Ok(Value::Json(DataKind::Other));
        }
        let bin = match marker {
            Marker::Bin8 => Some(self.len8()?),
            Marker::Bin16 => Some(self.len16()?),
            Marker::Bin32 => Some(self.len32()?),
            _ => None,
        };
        if let Some(len) = bin {
            let start = self.pos;
            self.take(len)?;
            let _infallible = write!(
                json,
                "{{\"_placeholder\":true,\"num\":{}}}",
                self.attachments.len()
            );
            self.attachments
                .push(self.message.slice(start..start + len));
            return Ok(Value::Json(DataKind::Other));
        }
        let ext = match marker {
            Marker::FixExt1 => Some(1),
            Marker::FixExt2 => Some(2),
            Marker::FixExt4 => Some(4),
            Marker::FixExt8 => Some(8),
            Marker::FixExt16 => Some(16),
            Marker::Ext8 => Some(self.len8()?),
            Marker::Ext16 => Some(self.len16()?),
            Marker::Ext32 => Some(self.len32()?),
            _ => None,
        };
        if let Some(len) = ext {
            let ext_type = self.be::<1>()?[0];
            self.take(len)?;
            let undefined = marker == Marker::FixExt1 && ext_type == 0;
            return Ok(if undefined {
                Value::Undefined
            } else {
                Value::ForJs
            });
        }
        let (len, is_map) = match marker {
            Marker::Null => {
                json.push_str("null");
                return Ok(Value::Json(DataKind::Other));
            }
            Marker::True | Marker::False => {
                json.push_str(if marker == Marker::True {
                    "true"
                } else {
                    "false"
                });
                return Ok(Value::Json(DataKind::Other));
            }
            Marker::FixArray(len) => (usize::from(len), false),
            Marker::Array16 => (self.len16()?, false),
            Marker::Array32 => (self.len32()?, false),
            Marker::FixMap(len) => (usize::from(len), true),
            Marker::Map16 => (self.len16()?, true),
            Marker::Map32 => (self.len32()?, true),
            _ => return Err(DecodeError::Malformed),
        };
        if depth >= MAX_DEPTH {
            self.skip_items(if is_map { len.saturating_mul(2) } else { len })?;
            return Ok(Value::ForJs);
        }
        let mut for_js = false;
        json.push(if is_map { '{' } else { '[' });
        for i in 0..len {
            if i > 0 {
                json.push(',');
            }
            if is_map {
                let key_marker = Marker::from_u8(self.be::<1>()?[0]);
                match self.str_len(key_marker)? {
                    // A key that JS would turn into a string, or one that JS would take for a
                    // placeholder: the parser in JS knows.
                    Some(len) => {
                        let key = String::from_utf8_lossy(self.take(len)?);
                        for_js |= key == "_placeholder";
                        write_json_str(json, &key);
                    }
                    None => {
                        self.pos -= 1;
                        self.value(json, depth + 1)?;
                        for_js = true;
                    }
                }
                json.push(':');
            }
            match self.value(json, depth + 1)? {
                Value::Json(_) => {}
                Value::Undefined | Value::ForJs => for_js = true,
            }
        }
        json.push(if is_map { '}' } else { ']' });
        Ok(if for_js {
            Value::ForJs
        } else {
            Value::Json(if is_map {
                DataKind::Map
            } else {
                DataKind::Array
            })
        })
    }
}

/// A float as notepack.io's integer check sees it.
fn integral(value: f64) -> Number {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 2f64.powi(64) {
        Number::Int(value as i128)
    } else {
        Number::Other
    }
}

fn write_json_str(json: &mut String, text: &str) {
    json.push('"');
    for c in text.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            '\n' => json.push_str("\\n"),
            '\r' => json.push_str("\\r"),
            '\t' => json.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _infallible = write!(json, "\\u{:04x}", u32::from(c));
            }
            c => json.push(c),
        }
    }
    json.push('"');
}

/// Encodes a packet as socket.io-msgpack-parser's `Encoder` does, with the fields in the order
/// upstream's `socket.emit` and acks give them: `id` first in an ACK, else after `data`. `data`
/// is the JSON text JS made (empty for none), its placeholders standing for `attachments`.
pub fn encode(
    kind: PacketType,
    nsp: &str,
    id: Option<u64>,
    data: &str,
    attachments: &[Bytes],
) -> Result<Vec<u8>, EncodeError> {
    let mut out = ByteBuf::with_capacity(data.len() + nsp.len() + 24);
    let type_number = match kind {
        PacketType::BinaryEvent => PacketType::Event,
        PacketType::BinaryAck => PacketType::Ack,
        other => other,
    } as u64;
    let has_data = !data.is_empty();
    let entries = 2 + u32::from(has_data) + u32::from(id.is_some());
    infallible(rmp::encode::write_map_len(&mut out, entries));
    let write_id = |out: &mut ByteBuf| {
        if let Some(id) = id {
            infallible(rmp::encode::write_str(out, "id"));
            infallible(rmp::encode::write_uint(out, id));
        }
    };
    let id_first = matches!(kind, PacketType::Ack | PacketType::BinaryAck);
    if id_first {
        write_id(&mut out);
    }
    infallible(rmp::encode::write_str(&mut out, "type"));
    infallible(rmp::encode::write_uint(&mut out, type_number));
    if has_data {
        infallible(rmp::encode::write_str(&mut out, "data"));
        let mut json = serde_json::Deserializer::from_str(data);
        Transcode {
            out: &mut out,
            attachments,
        }
        .deserialize(&mut json)
        .and_then(|()| json.end())
        .map_err(|err| EncodeError(err.to_string()))?;
    }
    if !id_first {
        write_id(&mut out);
    }
    infallible(rmp::encode::write_str(&mut out, "nsp"));
    infallible(rmp::encode::write_str(&mut out, nsp));
    Ok(out.into_vec())
}

/// Writing into a `ByteBuf` cannot fail.
fn infallible<T>(result: Result<T, ValueWriteError<Infallible>>) -> T {
    match result {
        Ok(value) => value,
        Err(
            ValueWriteError::InvalidMarkerWrite(never) | ValueWriteError::InvalidDataWrite(never),
        ) => match never {},
    }
}

/// The msgpack encoding of a placeholder's two entries, up to its `num`.
const PLACEHOLDER_PREFIX: &[u8] = b"\xac_placeholder\xc3\xa3num";

/// Writes the JSON value it is given as msgpack, a placeholder as its attachment. msgpack puts
/// a container's length before its items: the items are written first and the header is
/// inserted before them, which moves each byte once per container around it.
struct Transcode<'o, 'a> {
    out: &'o mut ByteBuf,
    attachments: &'a [Bytes],
}

impl<'de> DeserializeSeed<'de> for Transcode<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Transcode<'_, '_> {
    fn header<E: serde::de::Error>(
        &mut self,
        start: usize,
        count: usize,
        write: fn(&mut ByteBuf, u32) -> Result<Marker, ValueWriteError<Infallible>>,
    ) -> Result<(), E> {
        let count = u32::try_from(count).map_err(|_| E::custom("too many items"))?;
        let mut header = ByteBuf::with_capacity(5);
        infallible(write(&mut header, count));
        self.out
            .as_mut_vec()
            .splice(start..start, header.into_vec());
        Ok(())
    }

    /// The attachment a map just written stands for, when it is a placeholder.
    fn placeholder(&self, start: usize, entries: usize) -> Option<u64> {
        let written = &self.out.as_slice()[start..];
        let mut num = written
            .strip_prefix(PLACEHOLDER_PREFIX)
            .filter(|_| entries == 2)?;
        let value = rmp::decode::read_int(&mut num).ok()?;
        num.is_empty().then_some(value)
    }
}

impl<'de> Visitor<'de> for Transcode<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<(), E> {
        match rmp::encode::write_bool(self.out, value) {
            Ok(()) => Ok(()),
            Err(never) => match never {},
        }
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<(), E> {
        infallible(rmp::encode::write_sint(self.out, value));
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<(), E> {
        infallible(rmp::encode::write_uint(self.out, value));
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<(), E> {
        // JSON.stringify writes integral numbers without a fraction; these are beyond u64.
        infallible(rmp::encode::write_f64(self.out, value));
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        u32::try_from(value.len()).map_err(|_| E::custom("string too long"))?;
        infallible(rmp::encode::write_str(self.out, value));
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        match rmp::encode::write_nil(self.out) {
            Ok(()) => Ok(()),
            Err(never) => match never {},
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let start = self.out.as_slice().len();
        let mut count = 0;
        while seq
            .next_element_seed(Transcode {
                out: self.out,
                attachments: self.attachments,
            })?
            .is_some()
        {
            count += 1;
        }
        self.header(start, count, rmp::encode::write_array_len)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let start = self.out.as_slice().len();
        let mut count = 0;
        // JSON keys are strings, which `Transcode` writes as msgpack strings.
        while map
            .next_key_seed(Transcode {
                out: self.out,
                attachments: self.attachments,
            })?
            .is_some()
        {
            map.next_value_seed(Transcode {
                out: self.out,
                attachments: self.attachments,
            })?;
            count += 1;
        }
        if let Some(num) = self.placeholder(start, count) {
            let attachment = usize::try_from(num)
                .ok()
                .and_then(|num| self.attachments.get(num))
                .ok_or_else(|| A::Error::custom("placeholder without attachment"))?;
            self.out.as_mut_vec().truncate(start);
            let len =
                u32::try_from(attachment.len()).map_err(|_| A::Error::custom("binary too long"))?;
            infallible(rmp::encode::write_bin_len(self.out, len));
            self.out.as_mut_vec().extend_from_slice(attachment);
            return Ok(());
        }
        self.header(start, count, rmp::encode::write_map_len)
    }
}

#[cfg(test)]
mod tests {
    //! The byte vectors were made once by the real socket.io-msgpack-parser 3.0.2 (notepack.io
    //! 2.2.0): `new Encoder().encode(packet)[0].toString("hex")` for the packet each test names.
    use super::*;

    fn bytes(hex: &str) -> Bytes {
        let digits: Vec<u8> = hex
            .as_bytes()
            .chunks(2)
            .map(|pair| {
                u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex")
            })
            .collect();
        Bytes::from(digits)
    }

    fn packet(hex: &str) -> IncomingPacket {
        match decode(&bytes(hex)) {
            Ok(Decoded::Packet(packet)) => packet,
            other => panic!("a packet, got {other:?}"),
        }
    }

    fn placeholder(num: usize) -> String {
        format!("{{\"_placeholder\":true,\"num\":{num}}}")
    }

    #[test]
    fn encodes_an_event_as_the_real_encoder() {
        // {type:2, data:["hello",{a:1,b:[true,false,null],c:"é",d:1.5,e:-3,f:300,g:70000,
        // h:5000000000,i:-200,j:-40000,k:-3000000000,l:-0.25}], nsp:"/"}
        let json = r#"["hello",{"a":1,"b":[true,false,null],"c":"é","d":1.5,"e":-3,"f":300,"g":70000,"h":5000000000,"i":-200,"j":-40000,"k":-3000000000,"l":-0.25}]"#;
        let expected = "83a47479706502a46461746192a568656c6c6f8ca16101a16293c3c2c0a163a2c3a9a164cb3ff8000000000000a165fda166cd012ca167ce00011170a168cf000000012a05f200a169d1ff38a16ad2ffff63c0a16bd3ffffffff4d2fa200a16ccbbfd0000000000000a36e7370a12f";
        let encoded = encode(PacketType::Event, "/", None, json, &[]).expect("encodes");
        assert_eq!(Bytes::from(encoded), bytes(expected));
    }

    #[test]
    fn encodes_binary_inline_with_the_id_after_the_data() {
        // {type:2, data:["bin",{file:<01 02 03>,list:[<300 x 07>]}], id:4, nsp:"/chat"}
        let json = format!(
            r#"["bin",{{"file":{},"list":[{}]}}]"#,
            placeholder(0),
            placeholder(1)
        );
        let attachments = [Bytes::from_static(&[1, 2, 3]), Bytes::from(vec![7; 300])];
        let encoded = encode(
            PacketType::BinaryEvent,
            "/chat",
            Some(4),
            &json,
            &attachments,
        )
        .expect("encodes");
        let mut expected =
            bytes("84a47479706502a46461746192a362696e82a466696c65c403010203a46c69737491c5012c")
                .to_vec();
        expected.extend([7; 300]);
        expected.extend_from_slice(&bytes("a2696404a36e7370a52f63686174"));
        assert_eq!(encoded, expected);
    }

    #[test]
    fn encodes_acks_connects_and_errors_as_the_real_encoder() {
        let cases = [
            // {id:12, type:3, data:["ok",2], nsp:"/"}
            (
                encode(PacketType::Ack, "/", Some(12), r#"["ok",2]"#, &[]),
                "84a269640ca47479706503a46461746192a26f6b02a36e7370a12f",
            ),
            // {type:0, data:{sid:"abc"}, nsp:"/"}
            (
                encode(PacketType::Connect, "/", None, r#"{"sid":"abc"}"#, &[]),
                "83a47479706500a46461746181a3736964a3616263a36e7370a12f",
            ),
            // {type:1, nsp:"/admin"}
            (
                encode(PacketType::Disconnect, "/admin", None, "", &[]),
                "82a47479706501a36e7370a62f61646d696e",
            ),
            // {type:4, data:{message:"not authorized",data:{code:1}}, nsp:"/"}
            (
                encode(
                    PacketType::ConnectError,
                    "/",
                    None,
                    r#"{"message":"not authorized","data":{"code":1}}"#,
                    &[],
                ),
                "83a47479706504a46461746182a76d657373616765ae6e6f7420617574686f72697a6564a46461746181a4636f646501a36e7370a12f",
            ),
        ];
        for (encoded, expected) in cases {
            assert_eq!(Bytes::from(encoded.expect("encodes")), bytes(expected));
        }
    }

    #[test]
    fn encodes_long_strings_arrays_and_maps_with_their_wider_headers() {
        // {type:2, data:["s"*40, "t"*300, [0..16], {k0:0,...,k16:16}], nsp:"/"}
        let numbers: Vec<String> = (0..17).map(|i| i.to_string()).collect();
        let entries: Vec<String> = (0..17).map(|i| format!("\"k{i}\":{i}")).collect();
        let json = format!(
            "[\"{}\",\"{}\",[{}],{{{}}}]",
            "s".repeat(40),
            "t".repeat(300),
            numbers.join(","),
            entries.join(",")
        );
        let mut expected = bytes("83a47479706502a46461746194d928").to_vec();
        expected.extend([b's'; 40]);
        expected.extend_from_slice(&bytes("da012c"));
        expected.extend([b't'; 300]);
        expected.extend_from_slice(&bytes("dc0011000102030405060708090a0b0c0d0e0f10de0011a26b3000a26b3101a26b3202a26b3303a26b3404a26b3505a26b3606a26b3707a26b3808a26b3909a36b31300aa36b31310ba36b31320ca36b31330da36b31340ea36b31350fa36b313610a36e7370a12f"));
        let encoded = encode(PacketType::Event, "/", None, &json, &[]).expect("encodes");
        assert_eq!(encoded, expected);
    }

    #[test]
    fn floats_keep_every_bit_of_what_js_wrote() {
        // Found by fuzzing: without serde_json's float_roundtrip this one came out 1 ulp off.
        let value = 1.2101860734132549e-121_f64;
        let encoded =
            encode(PacketType::Event, "/", None, &format!("[{value:?}]"), &[]).expect("encodes");
        let mut expected = vec![0xcb];
        expected.extend(value.to_be_bytes());
        assert!(encoded.windows(9).any(|window| window == expected));
    }

    #[test]
    fn refuses_a_placeholder_without_its_attachment() {
        let json = format!("[\"x\",{}]", placeholder(1));
        let attachments = [Bytes::from_static(b"a")];
        assert!(encode(PacketType::BinaryEvent, "/", None, &json, &attachments).is_err());
    }

    #[test]
    fn decodes_what_socket_io_client_sends() {
        // {type:2, data:["chat",{nested:{deep:[1,2,{x:<09 08>}]}},<ff>],
        //  options:{compress:true}, nsp:"/", id:3}
        let event = packet("85a47479706502a46461746193a46368617481a66e657374656481a46465657093010281a178c4020908c401ffa76f7074696f6e7381a8636f6d7072657373c3a36e7370a12fa2696403");
        assert_eq!(event.kind, PacketType::Event);
        assert_eq!((event.nsp.as_str(), event.id), ("/", Some(3)));
        assert_eq!(
            event.data,
            format!(
                r#"["chat",{{"nested":{{"deep":[1,2,{{"x":{}}}]}}}},{}]"#,
                placeholder(0),
                placeholder(1)
            )
        );
        assert_eq!(
            event.attachments,
            vec![Bytes::from_static(&[9, 8]), Bytes::from_static(&[0xff])]
        );
        // {type:3, data:[{ok:true}], nsp:"/", id:0}
        let ack = packet("84a47479706503a4646174619181a26f6bc3a36e7370a12fa2696400");
        assert_eq!((ack.kind, ack.id), (PacketType::Ack, Some(0)));
        assert_eq!(ack.data, r#"[{"ok":true}]"#);
        assert!(ack.attachments.is_empty());
    }

    #[test]
    fn a_connect_without_auth_carries_undefined_data() {
        // {type:0, nsp:"/", data:undefined}
        let connect = packet("83a47479706500a36e7370a12fa464617461d40000");
        assert_eq!(connect.kind, PacketType::Connect);
        assert_eq!(connect.data, "", "no data");
        // {type:0, data:{token:"x"}, nsp:"/admin"}
        let connect = packet("83a47479706500a46461746181a5746f6b656ea178a36e7370a62f61646d696e");
        assert_eq!(connect.nsp, "/admin");
        assert_eq!(connect.data, r#"{"token":"x"}"#);
    }

    #[test]
    fn leaves_values_json_cannot_carry_to_js() {
        for hex in [
            // {type:2, data:["e",undefined], options:{compress:true}, nsp:"/"}
            "84a47479706502a46461746192a165d40000a76f7074696f6e7381a8636f6d7072657373c3a36e7370a12f",
            // {type:2, data:["e",new Date(0)], nsp:"/"}
            "83a47479706502a46461746192a165d7000000000000000000a36e7370a12f",
            // {type:2, data:["e",new Uint8Array([1]).buffer], nsp:"/"}
            "83a47479706502a46461746192a165c7010001a36e7370a12f",
            // {type:2, data:["e",NaN], nsp:"/"}
            "83a47479706502a46461746192a165cb7ff8000000000000a36e7370a12f",
            // {type:2, data:["e",{_placeholder:true,num:0}], nsp:"/"}
            "83a47479706502a46461746192a16582ac5f706c616365686f6c646572c3a36e756d00a36e7370a12f",
        ] {
            assert_eq!(decode(&bytes(hex)), Ok(Decoded::ForJs), "{hex}");
        }
    }

    #[test]
    fn refuses_what_socket_io_msgpack_parser_refuses() {
        let cases = [
            // {type:9, data:[], nsp:"/"}
            (
                "83a47479706509a46461746190a36e7370a12f",
                DecodeError::InvalidType,
            ),
            // {type:2, data:["e"]}
            (
                "82a47479706502a46461746191a165",
                DecodeError::InvalidNamespace,
            ),
            // {type:2, data:"x", nsp:"/"}
            (
                "83a47479706502a464617461a178a36e7370a12f",
                DecodeError::InvalidPayload,
            ),
            // {type:2, data:["e"], nsp:"/", id:"1"}
            (
                "84a47479706502a46461746191a165a36e7370a12fa26964a131",
                DecodeError::InvalidId,
            ),
            // {type:0, data:[1], nsp:"/"}
            (
                "83a47479706500a4646174619101a36e7370a12f",
                DecodeError::InvalidPayload,
            ),
            ("2a", DecodeError::InvalidType),
            ("83a474797065", DecodeError::Malformed),
            ("c1", DecodeError::Malformed),
            (
                "83a47479706502a46461746191a165a36e7370a12f00",
                DecodeError::TrailingBytes(1),
            ),
        ];
        for (hex, expected) in cases {
            assert_eq!(decode(&bytes(hex)), Err(expected), "{hex}");
        }
    }

    #[test]
    fn an_announced_length_beyond_the_message_is_malformed() {
        // An array of 2^32-1 items, then nothing: refused without reserving room for them.
        let message = bytes("83a47479706502a464617461ddffffffff");
        assert_eq!(decode(&message), Err(DecodeError::Malformed));
    }

    #[test]
    fn deep_data_is_left_to_js() {
        let mut message = bytes("83a47479706502a36e7370a12fa464617461").to_vec();
        message.extend(std::iter::repeat_n(0x91, MAX_DEPTH + 1));
        message.push(0xc0);
        assert_eq!(decode(&Bytes::from(message)), Ok(Decoded::ForJs));
    }

    #[test]
    fn data_nested_as_deep_as_a_message_allows_is_read_without_recursing() {
        let mut message = bytes("83a47479706502a36e7370a12fa464617461").to_vec();
        message.extend(std::iter::repeat_n(0x91, 1 << 20));
        message.push(0xc0);
        assert_eq!(decode(&Bytes::from(message.clone())), Ok(Decoded::ForJs));
        message.pop();
        assert_eq!(decode(&Bytes::from(message)), Err(DecodeError::Malformed));
    }

    #[test]
    fn what_it_encodes_decodes_back() {
        let json = format!(
            r#"["e",{{"s":"a\"b\\c\n\u0001é","n":-1.5e-7,"big":12345678901234,"list":[null,true,{}]}}]"#,
            placeholder(0)
        );
        let attachments = [Bytes::from_static(b"\x00\x01")];
        let encoded =
            encode(PacketType::BinaryEvent, "/x", Some(9), &json, &attachments).expect("encodes");
        let decoded = packet(
            &encoded
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        );
        assert_eq!((decoded.kind, decoded.id), (PacketType::Event, Some(9)));
        assert_eq!(decoded.attachments, attachments.to_vec());
        let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
        assert_eq!(value(&decoded.data), value(&json));
    }
}
