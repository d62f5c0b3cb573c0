//! Writes a WebSocket connection's queued packets straight to its stream as unmasked server
//! frames. A broadcast's frames are encoded once for all its recipients (`encode_frames`, see
//! shared_messages.rs), and that stays the only copy: each connection writes those bytes as they
//! are. (tungstenite's own write path copies every frame into a buffer per connection, which a
//! burst grows to its write threshold on every connection and which keeps that size afterwards.)
//!
//! Other small frames are copied into one buffer per I/O thread for the write, as a syscall costs
//! more per iovec than a small copy does; larger payloads are iovecs of their own.
use bytes::Bytes;
use std::cell::RefCell;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::ops::Range;
use std::pin::Pin;
use tokio::io::AsyncWrite;

/// Payloads up to this size are copied into the gather buffer; larger ones are written from
/// where they are.
const COPY_LIMIT: usize = 2048;
/// Bytes offered to one write: a socket takes little more at once (TCP_NOTSENT_LOWAT, see
/// stream.rs), and what it does not take is gathered again for the next write.
const WRITE_CHUNK: usize = 64 * 1024;
/// iovecs offered to one write (Linux takes up to 1024).
const MAX_SLICES: usize = 64;

const FIN: u8 = 0x80;
const OPCODE_TEXT: u8 = 0x1;
const OPCODE_BINARY: u8 = 0x2;
/// The longest header: FIN and opcode, a 64-bit length, and a payload's prefix byte.
const MAX_HEAD: usize = 11;

/// Frames to write, in order, each borrowed from where it is queued.
pub trait Frames {
    fn count(&self) -> usize;
    fn frame(&self, index: usize) -> Frame<'_>;
}

/// One server frame.
pub struct Frame<'a> {
    opcode: u8,
    /// A byte the payload starts with, ahead of `body` (an Engine.IO packet type): written with
    /// the header, so that the body is written as it is.
    prefix: Option<u8>,
    body: Body<'a>,
}

enum Body<'a> {
    /// Where it is queued: a large one is written from there.
    Queued(&'a [u8]),
    /// Made for this write (a small control packet): copied.
    Made(Bytes),
    /// Whole frames already encoded, headers included (see `encode_frames`): copied or written
    /// from where they are as a payload is, with no header to gather in front.
    Encoded(&'a [u8]),
}

impl<'a> Frame<'a> {
    pub fn text(prefix: Option<u8>, body: &'a [u8]) -> Self {
        Self {
            opcode: OPCODE_TEXT,
            prefix,
            body: Body::Queued(body),
        }
    }

    pub fn binary(prefix: Option<u8>, body: &'a [u8]) -> Self {
        Self {
            opcode: OPCODE_BINARY,
            prefix,
            body: Body::Queued(body),
        }
    }

    /// Frames already encoded by `encode_frames`, written as they are.
    pub fn encoded(bytes: &'a [u8]) -> Self {
        Self {
            opcode: 0,
            prefix: None,
            body: Body::Encoded(bytes),
        }
    }

    /// A text frame whose payload is made for the write.
    pub fn made_text(body: Bytes) -> Self {
        Self {
            opcode: OPCODE_TEXT,
            prefix: None,
            body: Body::Made(body),
        }
    }

    fn body(&self) -> &[u8] {
        match &self.body {
            Body::Queued(body) | Body::Encoded(body) => body,
            Body::Made(body) => body,
        }
    }

    /// The header, prefix included, in `head[..len]` (none for frames already encoded).
    fn head(&self) -> ([u8; MAX_HEAD], usize) {
        let mut head = [0u8; MAX_HEAD];
        if matches!(self.body, Body::Encoded(_)) {
            return (head, 0);
        }
        head[0] = FIN | self.opcode;
        let len = self.body().len() + usize::from(self.prefix.is_some());
        let mut head_len = match len {
            0..=125 => {
                head[1] = len as u8;
                2
            }
            126..=0xFFFF => {
                head[1] = 126;
                head[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            _ => {
                head[1] = 127;
                head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
                10
            }
        };
        if let Some(byte) = self.prefix {
            head[head_len] = byte;
            head_len += 1;
        }
        (head, head_len)
    }

    fn wire_len(&self) -> usize {
        self.head().1 + self.body().len()
    }
}

/// How far the frames have been written: a frame, and a byte offset into it.
#[derive(Clone, Copy, Default)]
struct Position {
    frame: usize,
    offset: usize,
}

impl Position {
    fn advance(&mut self, frames: &(impl Frames + ?Sized), mut written: usize) {
        while written > 0 {
            let rest = frames.frame(self.frame).wire_len() - self.offset;
            if written < rest {
                self.offset += written;
                return;
            }
            written -= rest;
            self.frame += 1;
            self.offset = 0;
        }
    }
}

/// A part of one write: copied bytes (a range of the gather buffer), or a body as it is queued.
enum Piece<'a> {
    Copied(Range<usize>),
    Queued(&'a [u8]),
}

thread_local! {
    /// Where small frames are copied for a write (one per I/O thread: a write completes or
    /// leaves it within one poll).
    static GATHER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The iovecs of the next write: from `at` on, up to `WRITE_CHUNK` bytes (or one frame, if
/// larger) and `MAX_SLICES` iovecs.
fn gather<'a>(
    gathered: &'a mut Vec<u8>,
    frames: &'a (impl Frames + ?Sized),
    at: Position,
) -> Vec<IoSlice<'a>> {
    gathered.clear();
    let mut pieces: Vec<Piece<'a>> = Vec::new();
    let mut run_start = 0;
    let mut total = 0;
    let mut skip = at.offset;
    for index in at.frame..frames.count() {
        if total >= WRITE_CHUNK || pieces.len() + 2 > MAX_SLICES {
            break;
        }
        let frame = frames.frame(index);
        let (head, head_len) = frame.head();
        let head = &head[skip.min(head_len)..head_len];
        let body_skip = skip.saturating_sub(head_len);
        skip = 0;
        gathered.extend_from_slice(head);
        total += head.len();
        let in_place = match frame.body {
            Body::Queued(body) | Body::Encoded(body) if body.len() - body_skip > COPY_LIMIT => {
                Some(body)
            }
            Body::Queued(_) | Body::Encoded(_) | Body::Made(_) => None,
        };
        match in_place {
            Some(body) => {
                pieces.push(Piece::Copied(run_start..gathered.len()));
                run_start = gathered.len();
                pieces.push(Piece::Queued(&body[body_skip..]));
                total += body.len() - body_skip;
            }
            None => {
                let body = &frame.body()[body_skip..];
                gathered.extend_from_slice(body);
                total += body.len();
            }
        }
    }
    pieces.push(Piece::Copied(run_start..gathered.len()));
    let gathered: &'a [u8] = gathered;
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Copied(range) => IoSlice::new(&gathered[range]),
            Piece::Queued(body) => IoSlice::new(body),
        })
        .filter(|slice| !slice.is_empty())
        .collect()
}

/// Whether `frames` are all small enough to be copied for each write (see `COPY_LIMIT`): then
/// encoding them once for every connection that writes them (`encode_frames`) takes a copy per
/// connection away, where for larger ones it would add a copy that writing them from where they
/// are does not make.
pub fn copied_when_written(frames: &(impl Frames + ?Sized)) -> bool {
    (0..frames.count()).all(|index| frames.frame(index).body().len() <= COPY_LIMIT)
}

/// `frames` encoded one after the other, as `write_frames` writes them: for frames that many
/// connections write, encoded once for all of them.
pub fn encode_frames(frames: &(impl Frames + ?Sized)) -> Vec<u8> {
    let mut encoded = Vec::new();
    for index in 0..frames.count() {
        let frame = frames.frame(index);
        let (head, head_len) = frame.head();
        encoded.extend_from_slice(&head[..head_len]);
        encoded.extend_from_slice(frame.body());
    }
    encoded
}

/// Writes `frames` whole, in order.
pub async fn write_frames<W: AsyncWrite + Unpin>(
    stream: &mut W,
    frames: &(impl Frames + ?Sized),
) -> io::Result<()> {
    let mut at = Position::default();
    while at.frame < frames.count() {
        let written = poll_fn(|cx| {
            GATHER.with_borrow_mut(|gathered| {
                let slices = gather(gathered, frames, at);
                Pin::new(&mut *stream).poll_write_vectored(cx, &slices)
            })
        })
        .await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        at.advance(frames, written);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll};

    /// Takes at most `per_write` bytes per write, and records them.
    struct Trickle {
        per_write: usize,
        written: Vec<u8>,
        writes: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            this.writes += 1;
            let mut room = this.per_write;
            for buf in bufs {
                let n = buf.len().min(room);
                this.written.extend_from_slice(&buf[..n]);
                room -= n;
            }
            Poll::Ready(Ok(this.per_write - room))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Frames kept as (binary, prefix, payload).
    struct Kept(Vec<(bool, Option<u8>, Vec<u8>)>);

    impl Frames for Kept {
        fn count(&self) -> usize {
            self.0.len()
        }

        fn frame(&self, index: usize) -> Frame<'_> {
            let (binary, prefix, body) = &self.0[index];
            if *binary {
                Frame::binary(*prefix, body)
            } else {
                Frame::text(*prefix, body)
            }
        }
    }

    /// The frames as tungstenite encodes them.
    fn tungstenite_bytes(frames: &Kept) -> Vec<u8> {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        use tokio_tungstenite::tungstenite::protocol::frame::Frame as Encoded;
        let mut out = Vec::new();
        for (binary, prefix, body) in &frames.0 {
            let mut payload: Vec<u8> = prefix.iter().copied().collect();
            payload.extend_from_slice(body);
            let opcode = OpCode::Data(if *binary { Data::Binary } else { Data::Text });
            Encoded::message(payload, opcode, true)
                .format(&mut out)
                .expect("a Vec takes any frame");
        }
        out
    }

    async fn written(frames: &Kept, per_write: usize) -> Trickle {
        let mut sink = Trickle {
            per_write,
            written: Vec::new(),
            writes: 0,
        };
        write_frames(&mut sink, frames).await.expect("writes");
        sink
    }

    #[tokio::test]
    async fn frames_are_written_as_tungstenite_encodes_them_however_the_writes_split() {
        let sizes = [
            0, 1, 124, 125, 126, 127, 2047, 2048, 2049, 65534, 65535, 65536, 70000, 3,
        ];
        let mut kept = Vec::new();
        for (k, n) in sizes.into_iter().enumerate() {
            for prefix in [None, Some(b'4')] {
                let body: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                kept.push((k % 2 == 1, prefix, body));
            }
        }
        let frames = Kept(kept);
        let want = tungstenite_bytes(&frames);
        for per_write in [1, 7, 1000, 65536, usize::MAX / 2] {
            let sink = written(&frames, per_write).await;
            assert!(sink.written == want, "{per_write} bytes per write");
        }
    }

    #[tokio::test]
    async fn a_made_payload_is_written_too() {
        struct Made;
        impl Frames for Made {
            fn count(&self) -> usize {
                2
            }
            fn frame(&self, index: usize) -> Frame<'_> {
                Frame::made_text(Bytes::from(vec![b'0' + index as u8; 3000]))
            }
        }
        let want = tungstenite_bytes(&Kept(vec![
            (false, None, vec![b'0'; 3000]),
            (false, None, vec![b'1'; 3000]),
        ]));
        let mut sink = Trickle {
            per_write: 1000,
            written: Vec::new(),
            writes: 0,
        };
        write_frames(&mut sink, &Made).await.expect("writes");
        assert!(sink.written == want);
    }

    #[tokio::test]
    async fn frames_encoded_once_are_written_as_they_are_however_the_writes_split() {
        // Small enough to be copied into the write, and large enough to be written in place.
        for sizes in [&[0, 1, 125, 126][..], &[0, 1, 125, 126, 3000, 70000]] {
            encoded_frames_are_written_as_they_are(sizes).await;
        }
    }

    async fn encoded_frames_are_written_as_they_are(sizes: &[usize]) {
        let kept = Kept(
            sizes
                .iter()
                .enumerate()
                .map(|(k, &n)| (k % 2 == 1, Some(b'4'), vec![b'x'; n]))
                .collect(),
        );
        let encoded = encode_frames(&kept);
        /// The encoded frames, then the same frames one by one.
        struct Twice<'a>(&'a [u8], &'a Kept);
        impl Frames for Twice<'_> {
            fn count(&self) -> usize {
                1 + self.1.count()
            }
            fn frame(&self, index: usize) -> Frame<'_> {
                match index {
                    0 => Frame::encoded(self.0),
                    _ => self.1.frame(index - 1),
                }
            }
        }
        let one = tungstenite_bytes(&kept);
        let want = [one.clone(), one].concat();
        for per_write in [1, 7, 1000, 65536, usize::MAX / 2] {
            let mut sink = Trickle {
                per_write,
                written: Vec::new(),
                writes: 0,
            };
            write_frames(&mut sink, &Twice(&encoded, &kept))
                .await
                .expect("writes");
            assert!(
                sink.written == want,
                "{sizes:?}, {per_write} bytes per write"
            );
        }
    }

    #[tokio::test]
    async fn small_frames_go_out_in_one_write() {
        let frames = Kept(
            (0..100)
                .map(|_| (false, Some(b'4'), b"2[\"m\",1]".to_vec()))
                .collect(),
        );
        let sink = written(&frames, usize::MAX / 2).await;
        assert_eq!(sink.writes, 1);
        assert_eq!(sink.written.len(), 100 * 11);
    }
}
