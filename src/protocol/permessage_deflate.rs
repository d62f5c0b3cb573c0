//! permessage-deflate (RFC 7692) as a transcoder of WebSocket frames, beneath the frame reader and
//! writer: client frames compressed by the client are inflated into plain frames before they are
//! read (src/protocol/client_frames.rs), and the plain frames written are deflated on their way
//! out. Negotiated as `server_no_context_takeover` (each server message compressed alone)
//! with the client's context kept across messages, the defaults of the `ws` package's clients.
use super::client_frames::unmask;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;
const MASK: u8 = 0x80;
/// Every deflated message ends with an empty stored block, which the wire form leaves out.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Why client data cannot be inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message is larger than the limit (close code 1009).
    TooLarge,
    /// Not deflate data (close code 1007).
    Corrupt,
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InflateError::TooLarge => "inflated message too large",
            InflateError::Corrupt => "invalid compressed data",
        })
    }
}

impl std::error::Error for InflateError {}

/// A frame's header: enough to know how long its payload is before the payload arrives.
struct Header {
    first: u8,
    mask: Option<[u8; 4]>,
    /// Where the payload starts.
    payload_at: usize,
    payload_len: u64,
}

struct Frame<'a> {
    first: u8,
    payload: &'a [u8],
    mask: Option<[u8; 4]>,
    /// The whole frame as received.
    raw: &'a [u8],
}

/// Parses the header of the frame at the start of `buf`, or None if it is not complete yet.
fn parse_header(buf: &[u8]) -> Option<Header> {
    let first = *buf.first()?;
    let second = *buf.get(1)?;
    let (payload_len, mut at) = match second & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(bytes), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if second & MASK != 0 {
        let key: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    Some(Header {
        first,
        mask,
        payload_at: at,
        payload_len,
    })
}

/// Parses the frame at the start of `buf`, or None if it is not complete yet.
fn parse(buf: &[u8]) -> Option<Frame<'_>> {
    let header = parse_header(buf)?;
    let end = header
        .payload_at
        .checked_add(usize::try_from(header.payload_len).ok()?)?;
    let payload = buf.get(header.payload_at..end)?;
    Some(Frame {
        first: header.first,
        payload,
        mask: header.mask,
        raw: &buf[..end],
    })
}

fn write_frame(out: &mut Vec<u8>, first: u8, masked: bool, payload: &[u8]) {
    out.push(first);
    let mask_bit = if masked { MASK } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        // A zero key leaves the payload as it is, and the reader requires client frames masked.
        out.extend_from_slice(&[0; 4]);
    }
    out.extend_from_slice(payload);
}

/// Client-to-server: compressed messages become plain frames.
pub struct Inflater {
    pending: Vec<u8>,
    /// A compressed fragmented message being gathered: its opcode and data so far.
    message: Option<(u8, Vec<u8>)>,
    decompress: Decompress,
    max_message: usize,
    /// Set once the header of a plain frame over the limit was passed on alone: the reader
    /// refuses the frame at its header (close code 1009, as `ws`), so what follows is dropped.
    refused: bool,
}

impl Inflater {
    pub fn new(max_message: usize) -> Self {
        Self {
            pending: Vec::new(),
            message: None,
            decompress: Decompress::new(false),
            max_message,
            refused: false,
        }
    }

    /// Bytes received and held back until their frame is complete: less than a frame header
    /// plus the message limit, since a longer frame is refused at its header.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Takes received bytes and appends to `out` the frames the reader may read.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), InflateError> {
        if self.refused {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(input);
        let mut consumed = 0;
        let result = self.transcode(&pending, &mut consumed, out);
        pending.drain(..consumed);
        self.pending = pending;
        result
    }

    fn transcode(
        &mut self,
        pending: &[u8],
        consumed: &mut usize,
        out: &mut Vec<u8>,
    ) -> Result<(), InflateError> {
        loop {
            let rest = &pending[*consumed..];
            let Some(header) = parse_header(rest) else {
                return Ok(());
            };
            let opcode = header.first & 0x0f;
            let rsv1 = header.first & RSV1 != 0;
            let compressed =
                (opcode == 1 || opcode == 2) && rsv1 || opcode == 0 && self.message.is_some();
            // A frame is held here until it is complete, so one over the limit is refused at
            // its header rather than buffered whole.
            if header.payload_len > self.max_message as u64 {
                if compressed {
                    return Err(InflateError::TooLarge);
                }
                out.extend_from_slice(&rest[..header.payload_at]);
                self.refused = true;
                *consumed = pending.len();
                return Ok(());
            }
            let Some(frame) = parse(rest) else {
                return Ok(());
            };
            let fin = frame.first & FIN != 0;
            let length = frame.raw.len();
            if compressed {
                let data = match frame.mask {
                    Some(key) => unmask(frame.payload, key),
                    None => frame.payload.to_vec(),
                };
                let (kind, mut gathered) = self.message.take().unwrap_or((opcode, Vec::new()));
                gathered.extend_from_slice(&data);
                if gathered.len() > self.max_message {
                    return Err(InflateError::TooLarge);
                }
                if fin {
                    let plain = self.inflate(&gathered)?;
                    write_frame(out, FIN | kind, true, &plain);
                } else {
                    self.message = Some((kind, gathered));
                }
            } else {
                out.extend_from_slice(frame.raw);
            }
            *consumed += length;
        }
    }

    fn inflate(&mut self, compressed: &[u8]) -> Result<Vec<u8>, InflateError> {
        let mut input = Vec::with_capacity(compressed.len() + TAIL.len());
        input.extend_from_slice(compressed);
        input.extend_from_slice(&TAIL);
        let mut out = Vec::with_capacity(compressed.len() * 3);
        let start_in = self.decompress.total_in();
        loop {
            let read = (self.decompress.total_in() - start_in) as usize;
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(1024));
            }
            let before_out = self.decompress.total_out();
            let status = self
                .decompress
                .decompress_vec(&input[read..], &mut out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            if out.len() > self.max_message {
                return Err(InflateError::TooLarge);
            }
            let done = (self.decompress.total_in() - start_in) as usize == input.len();
            let stalled = self.decompress.total_out() == before_out && out.len() < out.capacity();
            if done && out.len() < out.capacity() || status == Status::StreamEnd || stalled {
                return Ok(out);
            }
        }
    }
}

/// Server-to-client: plain data frames of at least `threshold` bytes leave compressed.
pub struct Deflater {
    pending: Vec<u8>,
    compress: Compress,
    threshold: usize,
}

impl Deflater {
    pub fn new(threshold: usize) -> Self {
        Self {
            pending: Vec::new(),
            compress: Compress::new(Compression::default(), false),
            threshold,
        }
    }

    /// Takes bytes the writer wrote and appends to `out` the frames to send.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(input);
        let mut consumed = 0;
        while let Some(frame) = parse(&pending[consumed..]) {
            let opcode = frame.first & 0x0f;
            let whole_data_message = frame.first & FIN != 0 && (opcode == 1 || opcode == 2);
            if whole_data_message
                && frame.first & RSV1 == 0
                && frame.payload.len() >= self.threshold
            {
                let compressed = self.deflate(frame.payload);
                write_frame(out, FIN | RSV1 | opcode, false, &compressed);
            } else {
                out.extend_from_slice(frame.raw);
            }
            consumed += frame.raw.len();
        }
        pending.drain(..consumed);
        self.pending = pending;
    }

    fn deflate(&mut self, plain: &[u8]) -> Vec<u8> {
        // server_no_context_takeover: every message starts from a fresh dictionary.
        self.compress.reset();
        let mut out = Vec::with_capacity(plain.len() / 2 + 64);
        loop {
            let read = self.compress.total_in() as usize;
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            }
            let result = self
                .compress
                .compress_vec(&plain[read..], &mut out, FlushCompress::Sync);
            let all_read = self.compress.total_in() as usize == plain.len();
            if result.is_err() || all_read && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame: masked with a real key.
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [1, 2, 3, 4];
        let masked: Vec<u8> = payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        let mut out = Vec::new();
        write_frame(&mut out, first, false, &masked);
        out[1] |= MASK;
        let at = out.len() - masked.len();
        out.splice(at..at, key);
        out
    }

    fn compressed(text: &[u8]) -> Vec<u8> {
        let mut deflater = Deflater::new(0);
        deflater.deflate(text)
    }

    #[test]
    fn a_compressed_client_message_becomes_a_plain_masked_frame() {
        let text = "4hello hello hello hello".repeat(10);
        let mut inflater = Inflater::new(1 << 20);
        let mut out = Vec::new();
        let frame = client_frame(FIN | RSV1 | 1, &compressed(text.as_bytes()));
        // Arrives in two pieces.
        inflater.push(&frame[..5], &mut out).expect("valid");
        assert!(out.is_empty());
        inflater.push(&frame[5..], &mut out).expect("valid");
        let plain = parse(&out).expect("a whole frame");
        assert_eq!(plain.first, FIN | 1);
        assert_eq!(plain.mask, Some([0; 4]));
        assert_eq!(plain.payload, text.as_bytes());
    }

    #[test]
    fn fragmented_compressed_messages_and_control_frames() {
        let data = compressed(b"4fragmented message");
        let mut inflater = Inflater::new(1 << 20);
        let mut out = Vec::new();
        let mut input = client_frame(RSV1 | 1, &data[..3]);
        input.extend(client_frame(FIN | 9, b"ping"));
        input.extend(client_frame(FIN, &data[3..]));
        inflater.push(&input, &mut out).expect("valid");
        let ping = parse(&out).expect("ping first");
        assert_eq!(ping.first & 0x0f, 9);
        let message = parse(&out[ping.raw.len()..]).expect("the message");
        assert_eq!(message.payload, b"4fragmented message");
    }

    #[test]
    fn plain_client_frames_pass_unchanged_and_bombs_are_refused() {
        let mut inflater = Inflater::new(100);
        let mut out = Vec::new();
        let frame = client_frame(FIN | 1, b"4plain");
        inflater.push(&frame, &mut out).expect("valid");
        assert_eq!(out, frame);
        let bomb = compressed(&[b'a'; 10_000]);
        assert_eq!(
            inflater.push(&client_frame(FIN | RSV1 | 1, &bomb), &mut Vec::new()),
            Err(InflateError::TooLarge)
        );
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_at_its_header() {
        // the header (4 bytes), the mask key and the first bytes of the payload
        let start_of = |first| client_frame(first, &[b'x'; 1001])[..12].to_vec();
        for first in [FIN | RSV1 | 1, RSV1 | 2] {
            let mut inflater = Inflater::new(1000);
            assert_eq!(
                inflater.push(&start_of(first), &mut Vec::new()),
                Err(InflateError::TooLarge),
                "frame {first:#x}"
            );
        }
        // A plain one goes on by its header alone, for the reader to refuse; nothing after it.
        let mut inflater = Inflater::new(1000);
        let mut out = Vec::new();
        inflater
            .push(&start_of(FIN | 1), &mut out)
            .expect("passed on");
        assert_eq!(out, start_of(FIN | 1)[..8]);
        inflater.push(&[b'x'; 2000], &mut out).expect("dropped");
        assert_eq!((out.len(), inflater.buffered()), (8, 0));

        let mut inflater = Inflater::new(1000);
        let mut out = Vec::new();
        let frame = client_frame(FIN | 2, &[b'x'; 1000]);
        inflater
            .push(&frame[..500], &mut out)
            .expect("within the limit");
        assert_eq!(inflater.buffered(), 500);
        inflater
            .push(&frame[500..], &mut out)
            .expect("within the limit");
        assert_eq!((out, inflater.buffered()), (frame, 0));
    }

    #[test]
    fn large_server_frames_leave_compressed_and_inflate_back() {
        let text = "4".to_owned() + &"payload ".repeat(300);
        let mut plain = Vec::new();
        write_frame(&mut plain, FIN | 1, false, text.as_bytes());
        let mut small = Vec::new();
        write_frame(&mut small, FIN | 1, false, b"4tiny");
        let mut deflater = Deflater::new(1024);
        let mut out = Vec::new();
        deflater.push(&plain, &mut out);
        deflater.push(&small, &mut out);
        let first = parse(&out).expect("compressed frame");
        assert_eq!(first.first, FIN | RSV1 | 1);
        assert!(first.payload.len() < text.len() / 4);
        let second = parse(&out[first.raw.len()..]).expect("small frame");
        assert_eq!(second.payload, b"4tiny");
        let mut decompress = Inflater::new(1 << 20);
        assert_eq!(
            decompress.inflate(first.payload).expect("inflates"),
            text.as_bytes()
        );
    }
}
