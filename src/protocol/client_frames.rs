//! A client's WebSocket frames (RFC 6455), parsed as the `ws` package's server parses them: the
//! same checks, refused with the same close codes and descriptions, each as soon as the bytes it
//! needs have arrived (a bad header before its frame is complete), pings answered with pongs and
//! a Close answered with the client's code. Pure: src/engine/frame_reader.rs feeds it bytes.
use bytes::Bytes;
use std::collections::VecDeque;
use tokio_tungstenite::tungstenite::Utf8Bytes;

const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;
const RSV2_3: u8 = 0x30;
const MASKED: u8 = 0x80;
const OPCODE_CONTINUATION: u8 = 0x0;
const OPCODE_TEXT: u8 = 0x1;
const OPCODE_BINARY: u8 = 0x2;
const OPCODE_CLOSE: u8 = 0x8;
const OPCODE_PING: u8 = 0x9;
const OPCODE_PONG: u8 = 0xa;
/// The longest payload a control frame may have.
const MAX_CONTROL_PAYLOAD: u8 = 125;

/// Close codes of a refusal.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
pub const CLOSE_INVALID_DATA: u16 = 1007;
pub const CLOSE_TOO_BIG: u16 = 1009;

/// A message from the client.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    Text(Utf8Bytes),
    Binary(Bytes),
    /// A ping, whose pong is owed (`FrameParser::take_replies`).
    Ping,
    /// The client's Close frame, whose answer is owed; nothing is read after it.
    Close,
}

/// Frames that break the protocol or the size limit: the connection is closed with `code`.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub code: u16,
    pub description: String,
}

impl Refusal {
    /// A refusal whose description carries `ws`'s prefix, as `ws` words most of them.
    fn invalid_frame(code: u16, what: impl std::fmt::Display) -> Self {
        Self {
            code,
            description: format!("Invalid WebSocket frame: {what}"),
        }
    }

    pub fn too_big() -> Self {
        Self {
            code: CLOSE_TOO_BIG,
            description: "Max payload size exceeded".to_owned(),
        }
    }
}

/// The state of a client's frames between reads.
pub struct FrameParser {
    /// The largest message, in bytes (0: no limit, as for `ws`).
    limit: usize,
    /// A fragmented message being gathered: whether it is text, and its data so far.
    fragments: Option<(bool, Vec<u8>)>,
    /// Frames owed to the client: pongs, and the answer to its Close.
    replies: Vec<u8>,
    /// A Close was received, or the frames were refused: nothing more is parsed.
    ended: bool,
    close_received: bool,
}

/// A frame header as far as it has arrived.
enum Header {
    Incomplete,
    Complete {
        first: u8,
        mask: [u8; 4],
        payload_at: usize,
        payload_len: usize,
    },
}

impl FrameParser {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            fragments: None,
            replies: Vec::new(),
            ended: false,
            close_received: false,
        }
    }

    /// Parses the complete frames at the start of `buf`, appending their messages to `out`, and
    /// returns how many bytes they took; the rest is an incomplete frame, whose header so far was
    /// checked. After a refusal or a Close, nothing more is parsed.
    pub fn parse(&mut self, buf: &[u8], out: &mut VecDeque<Incoming>) -> Result<usize, Refusal> {
        let mut at = 0;
        while !self.ended && at < buf.len() {
            let frame = &buf[at..];
            let header = self.header(frame).inspect_err(|_| self.ended = true)?;
            let Header::Complete {
                first,
                mask,
                payload_at,
                payload_len,
            } = header
            else {
                break;
            };
            let Some(payload) = frame.get(payload_at..payload_at + payload_len) else {
                break;
            };
            at += payload_at + payload_len;
            let payload = unmask(payload, mask);
            self.frame(first, payload, out)
                .inspect_err(|_| self.ended = true)?;
        }
        Ok(at)
    }

    /// Takes the frames owed to the client.
    pub fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.replies)
    }

    pub fn has_replies(&self) -> bool {
        !self.replies.is_empty()
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Nothing more is parsed (the stream beneath failed).
    pub fn end(&mut self) {
        self.ended = true;
    }

    /// Whether the client's Close frame arrived (then its answer is owed, not a Close of ours).
    pub fn close_received(&self) -> bool {
        self.close_received
    }

    /// Checks the header at the start of `frame` as far as it has arrived (`ws`'s checks, in
    /// its order).
    fn header(&self, frame: &[u8]) -> Result<Header, Refusal> {
        let Some(&first) = frame.first() else {
            return Ok(Header::Incomplete);
        };
        if first & RSV2_3 != 0 {
            return Err(Refusal::invalid_frame(
                CLOSE_PROTOCOL_ERROR,
                "RSV2 and RSV3 must be clear",
            ));
        }
        if first & RSV1 != 0 {
            return Err(Refusal::invalid_frame(
                CLOSE_PROTOCOL_ERROR,
                "RSV1 must be clear",
            ));
        }
        let fin = first & FIN != 0;
        let opcode = first & 0x0f;
        match opcode {
            OPCODE_CONTINUATION if self.fragments.is_none() => {
                return Err(Refusal::invalid_frame(
                    CLOSE_PROTOCOL_ERROR,
                    "invalid opcode 0",
                ))
            }
            OPCODE_TEXT | OPCODE_BINARY if self.fragments.is_some() => {
                return Err(Refusal::invalid_frame(
                    CLOSE_PROTOCOL_ERROR,
                    format!("invalid opcode {opcode}"),
                ))
            }
            OPCODE_CONTINUATION | OPCODE_TEXT | OPCODE_BINARY => {}
            OPCODE_CLOSE | OPCODE_PING | OPCODE_PONG if !fin => {
                return Err(Refusal::invalid_frame(
                    CLOSE_PROTOCOL_ERROR,
                    "FIN must be set",
                ))
            }
            OPCODE_CLOSE | OPCODE_PING | OPCODE_PONG => {}
            _ => {
                return Err(Refusal::invalid_frame(
                    CLOSE_PROTOCOL_ERROR,
                    format!("invalid opcode {opcode}"),
                ))
            }
        }
        let Some(&second) = frame.get(1) else {
            return Ok(Header::Incomplete);
        };
        let short_len = second & 0x7f;
        let control = opcode >= OPCODE_CLOSE;
        if control
            && (short_len > MAX_CONTROL_PAYLOAD || (opcode == OPCODE_CLOSE && short_len == 1))
        {
            return Err(Refusal::invalid_frame(
                CLOSE_PROTOCOL_ERROR,
                format!("invalid payload length {short_len}"),
            ));
        }
        if second & MASKED == 0 {
            return Err(Refusal::invalid_frame(
                CLOSE_PROTOCOL_ERROR,
                "MASK must be set",
            ));
        }
        let (payload_len, mask_at) = match short_len {
            126 => match frame.get(2..4) {
                Some(bytes) => (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4),
                None => return Ok(Header::Incomplete),
            },
            127 => match frame.get(2..10) {
                Some(bytes) => {
                    let mut length = [0; 8];
                    length.copy_from_slice(bytes);
                    let length = u64::from_be_bytes(length);
                    if length >> 53 != 0 {
                        return Err(Refusal {
                            code: CLOSE_TOO_BIG,
                            description: "Unsupported WebSocket frame: payload length > 2^53 - 1"
                                .to_owned(),
                        });
                    }
                    (length, 10)
                }
                None => return Ok(Header::Incomplete),
            },
            n => (u64::from(n), 2),
        };
        if !control && payload_len > 0 && self.limit > 0 {
            let gathered = self.fragments.as_ref().map_or(0, |(_, data)| data.len());
            let total = (gathered as u64).saturating_add(payload_len);
            if total > self.limit as u64 {
                return Err(Refusal::too_big());
            }
        }
        // Within the limit, or with none, within what the address space can hold.
        let payload_len = usize::try_from(payload_len).map_err(|_| Refusal::too_big())?;
        let Some(key) = frame.get(mask_at..mask_at + 4) else {
            return Ok(Header::Incomplete);
        };
        Ok(Header::Complete {
            first,
            mask: [key[0], key[1], key[2], key[3]],
            payload_at: mask_at + 4,
            payload_len,
        })
    }

    /// A complete frame whose header was checked.
    fn frame(
        &mut self,
        first: u8,
        payload: Vec<u8>,
        out: &mut VecDeque<Incoming>,
    ) -> Result<(), Refusal> {
        let fin = first & FIN != 0;
        match first & 0x0f {
            OPCODE_CLOSE => {
                self.close(&payload)?;
                self.ended = true;
                self.close_received = true;
                out.push_back(Incoming::Close);
            }
            OPCODE_PING => {
                push_frame(&mut self.replies, OPCODE_PONG, &payload);
                out.push_back(Incoming::Ping);
            }
            OPCODE_PONG => {}
            opcode => {
                let (text, data) = match self.fragments.take() {
                    Some((text, mut data)) => {
                        data.extend_from_slice(&payload);
                        (text, data)
                    }
                    None => (opcode == OPCODE_TEXT, payload),
                };
                if !fin {
                    self.fragments = Some((text, data));
                    return Ok(());
                }
                out.push_back(message(text, data)?);
            }
        }
        Ok(())
    }

    /// Checks a Close frame's payload and owes the client the answer: its code and reason back,
    /// or an empty Close for none (as `ws`).
    fn close(&mut self, payload: &[u8]) -> Result<(), Refusal> {
        if let [high, low, reason @ ..] = payload {
            let code = u16::from_be_bytes([*high, *low]);
            if !valid_close_code(code) {
                return Err(Refusal::invalid_frame(
                    CLOSE_PROTOCOL_ERROR,
                    format!("invalid status code {code}"),
                ));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(invalid_utf8());
            }
        }
        push_frame(&mut self.replies, OPCODE_CLOSE, payload);
        Ok(())
    }
}

fn message(text: bool, data: Vec<u8>) -> Result<Incoming, Refusal> {
    let data = Bytes::from(data);
    if !text {
        return Ok(Incoming::Binary(data));
    }
    Utf8Bytes::try_from(data)
        .map(Incoming::Text)
        .map_err(|_| invalid_utf8())
}

fn invalid_utf8() -> Refusal {
    Refusal::invalid_frame(CLOSE_INVALID_DATA, "invalid UTF-8 sequence")
}

/// `ws`'s rule: the codes of RFC 6455 a peer may send, and those for libraries and applications.
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Appends a server control frame (unmasked, payload of at most 125 bytes).
fn push_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(FIN | opcode);
    out.push(payload.len() as u8);
    out.extend_from_slice(payload);
}

/// A server's Close frame: with `code`, or empty.
pub fn close_frame(code: Option<u16>) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4);
    match code {
        Some(code) => push_frame(&mut frame, OPCODE_CLOSE, &code.to_be_bytes()),
        None => push_frame(&mut frame, OPCODE_CLOSE, &[]),
    }
    frame
}

/// A client frame's payload unmasked with its key, a word at a time.
pub(super) fn unmask(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut data = payload.to_vec();
    let key = u32::from_ne_bytes(mask);
    let mut words = data.chunks_exact_mut(4);
    for word in &mut words {
        let masked = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]) ^ key;
        word.copy_from_slice(&masked.to_ne_bytes());
    }
    for (byte, key) in words.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

    /// A client frame: masked with `KEY`.
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![first];
        match payload.len() {
            n if n < 126 => frame.push(MASKED | n as u8),
            n if n <= usize::from(u16::MAX) => {
                frame.push(MASKED | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(MASKED | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&KEY);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
        frame
    }

    fn parse_all(parser: &mut FrameParser, bytes: &[u8]) -> Result<Vec<Incoming>, Refusal> {
        let mut out = VecDeque::new();
        let taken = parser.parse(bytes, &mut out)?;
        assert_eq!(taken, bytes.len(), "every frame complete");
        Ok(out.into())
    }

    fn refusal(bytes: &[u8]) -> Refusal {
        let mut parser = FrameParser::new(100);
        let mut out = VecDeque::new();
        parser.parse(bytes, &mut out).expect_err("refused")
    }

    #[test]
    fn messages_of_every_length_form_are_unmasked() {
        let mut parser = FrameParser::new(0);
        for len in [0, 1, 5, 125, 126, 127, 65535, 65536, 70000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let got = parse_all(&mut parser, &client_frame(FIN | OPCODE_BINARY, &data)).unwrap();
            assert_eq!(
                got,
                vec![Incoming::Binary(Bytes::from(data))],
                "length {len}"
            );
        }
        let got = parse_all(
            &mut parser,
            &client_frame(FIN | OPCODE_TEXT, "4héllo".as_bytes()),
        );
        assert_eq!(
            got.unwrap(),
            vec![Incoming::Text(Utf8Bytes::from("4héllo"))]
        );
    }

    #[test]
    fn frames_split_anywhere_give_the_same_messages() {
        let mut stream = client_frame(FIN | OPCODE_TEXT, b"42[\"a\"]");
        stream.extend(client_frame(OPCODE_TEXT, b"first "));
        stream.extend(client_frame(FIN | OPCODE_PING, b"p"));
        stream.extend(client_frame(FIN | OPCODE_CONTINUATION, b"second"));
        stream.extend(client_frame(FIN | OPCODE_BINARY, &[1; 300]));
        let expected = vec![
            Incoming::Text(Utf8Bytes::from("42[\"a\"]")),
            Incoming::Ping,
            Incoming::Text(Utf8Bytes::from("first second")),
            Incoming::Binary(Bytes::from(vec![1; 300])),
        ];
        for piece in [1, 2, 3, 7, 64, stream.len()] {
            let mut parser = FrameParser::new(1000);
            let (mut pending, mut out) = (Vec::new(), VecDeque::new());
            for chunk in stream.chunks(piece) {
                pending.extend_from_slice(chunk);
                let taken = parser.parse(&pending, &mut out).unwrap();
                pending.drain(..taken);
            }
            assert!(pending.is_empty());
            assert_eq!(Vec::from(out), expected, "pieces of {piece}");
            assert_eq!(parser.take_replies(), [FIN | OPCODE_PONG, 1, b'p']);
        }
    }

    #[test]
    fn a_bad_header_is_refused_before_its_frame_is_complete() {
        let cases: [(&[u8], u16, &str); 9] = [
            (&[0xff], 1002, "RSV2 and RSV3 must be clear"),
            (&[0xc1], 1002, "RSV1 must be clear"),
            (&[0x83], 1002, "invalid opcode 3"),
            (&[0x80], 1002, "invalid opcode 0"),
            (&[0x09], 1002, "FIN must be set"),
            (&[0x89, 0xfe], 1002, "invalid payload length 126"),
            (&[0x88, 0x81], 1002, "invalid payload length 1"),
            (&[0x81, 0x02], 1002, "MASK must be set"),
            (&[0x82, 0xfe, 0x00, 0x65], 1009, "Max payload size exceeded"),
        ];
        for (bytes, code, description) in cases {
            let refused = refusal(bytes);
            assert_eq!(refused.code, code, "{bytes:?}");
            assert!(refused.description.ends_with(description), "{refused:?}");
        }
        let huge = refusal(&[0x82, 0xff, 0x00, 0x20, 0, 0, 0, 0, 0, 0]);
        assert_eq!(huge.code, 1009);
        assert!(huge.description.contains("2^53"));
    }

    #[test]
    fn fragments_count_toward_the_limit_and_must_follow_the_rules() {
        let mut parser = FrameParser::new(10);
        let mut out = VecDeque::new();
        parser
            .parse(&client_frame(OPCODE_BINARY, &[0; 6]), &mut out)
            .unwrap();
        let refused = parser
            .parse(&client_frame(FIN | OPCODE_CONTINUATION, &[0; 5]), &mut out)
            .unwrap_err();
        assert_eq!(refused.code, 1009);
        assert!(parser.ended());

        let mut parser = FrameParser::new(10);
        parser
            .parse(&client_frame(OPCODE_TEXT, b"a"), &mut out)
            .unwrap();
        let refused = parser
            .parse(&client_frame(FIN | OPCODE_TEXT, b"b"), &mut out)
            .unwrap_err();
        assert_eq!(
            refused.description,
            "Invalid WebSocket frame: invalid opcode 1"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn invalid_utf8_is_refused_with_1007() {
        let refused = refusal(&client_frame(FIN | OPCODE_TEXT, &[0x34, 0xff]));
        assert_eq!(refused.code, 1007);
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.push(0xff);
        assert_eq!(
            refusal(&client_frame(FIN | OPCODE_CLOSE, &payload)).code,
            1007
        );
    }

    #[test]
    fn a_close_is_answered_with_its_code_and_ends_the_frames() {
        for (payload, ok) in [
            (vec![], true),
            (vec![0x03, 0xe8, b'b', b'y', b'e'], true),
            (vec![0x0f, 0xa0], true),
            (vec![0x03, 0xed], false),
            (vec![0x03, 0xe7], false),
        ] {
            let mut parser = FrameParser::new(100);
            let mut stream = client_frame(FIN | OPCODE_CLOSE, &payload);
            stream.extend(client_frame(FIN | OPCODE_TEXT, b"after"));
            let mut out = VecDeque::new();
            match parser.parse(&stream, &mut out) {
                Ok(_) => {
                    assert!(ok, "{payload:?}");
                    assert_eq!(Vec::from(out), vec![Incoming::Close]);
                    let mut answer = vec![FIN | OPCODE_CLOSE, payload.len() as u8];
                    answer.extend_from_slice(&payload);
                    assert_eq!(parser.take_replies(), answer);
                }
                Err(refused) => {
                    assert!(!ok, "{payload:?}");
                    assert_eq!(refused.code, 1002);
                }
            }
            assert!(parser.ended());
        }
    }
}
