//! Reads a client's WebSocket frames off its stream (parsed by src/protocol/client_frames.rs).
//!
//! What a connection reads lands in one buffer per I/O thread, and messages are unmasked out of
//! it; only a frame cut off by the end of a read is kept by its connection. An idle connection
//! therefore holds no read buffer (tungstenite kept a zero-filled one per connection).
use super::stream::ByteStream;
use crate::protocol::client_frames::{FrameParser, Incoming, Refusal, CLOSE_INVALID_DATA};
use crate::protocol::permessage_deflate::InflateError;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Bytes read at once into the I/O thread's buffer.
const READ_SIZE: usize = 16 * 1024;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_SIZE].into_boxed_slice());
}

#[derive(Debug)]
pub enum ReadError {
    Refused(Refusal),
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    /// Client data a compressing stream could not inflate is refused as `ws` refuses it.
    fn from(err: io::Error) -> Self {
        match err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<InflateError>())
        {
            Some(InflateError::TooLarge) => ReadError::Refused(Refusal::too_big()),
            Some(InflateError::Corrupt) => ReadError::Refused(Refusal {
                code: CLOSE_INVALID_DATA,
                description: InflateError::Corrupt.to_string(),
            }),
            None => ReadError::Io(err),
        }
    }
}

/// A connection's reading side: its parser, the bytes of a frame cut off by the end of a read,
/// and messages parsed but not yet taken.
pub struct ClientReader {
    parser: FrameParser,
    partial: Vec<u8>,
    ready: VecDeque<Incoming>,
}

impl ClientReader {
    /// `head`: bytes Node had already read past the upgrade request.
    pub fn new(limit: usize, head: Vec<u8>) -> Self {
        Self {
            parser: FrameParser::new(limit),
            partial: head,
            ready: VecDeque::new(),
        }
    }

    pub fn parser(&mut self) -> &mut FrameParser {
        &mut self.parser
    }

    /// The next message; None once the connection or the frames ended. Cancel-safe: what was
    /// read stays here for the next call.
    pub async fn next(&mut self, stream: &mut ByteStream) -> Option<Result<Incoming, ReadError>> {
        poll_fn(|cx| self.poll_next(stream, cx)).await
    }

    fn poll_next(
        &mut self,
        stream: &mut ByteStream,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Incoming, ReadError>>> {
        loop {
            if let Some(message) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(message)));
            }
            if self.parser.ended() {
                return Poll::Ready(None);
            }
            // What Node read past the request head comes first.
            if !self.partial.is_empty() {
                match self.parser.parse(&self.partial, &mut self.ready) {
                    Ok(taken) => drop(self.partial.drain(..taken)),
                    Err(refusal) => return Poll::Ready(Some(Err(ReadError::Refused(refusal)))),
                }
                if self.partial.is_empty() {
                    // The frame it held was large: an idle connection keeps no buffer.
                    self.partial = Vec::new();
                }
                if !self.ready.is_empty() || self.parser.ended() {
                    continue;
                }
            }
            let read = if self.partial.is_empty() {
                self.poll_read_shared(stream, cx)
            } else {
                self.poll_read_partial(stream, cx)
            };
            match read {
                Poll::Pending => {
                    // Waiting for the client: an idle connection keeps no room for messages.
                    if self.ready.capacity() > 0 {
                        self.ready = VecDeque::new();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false)) => return Poll::Ready(None),
                Poll::Ready(Err(err)) => {
                    // Nothing more is read from a stream that failed (or data it refused).
                    self.parser.end();
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }

    /// Reads into the I/O thread's buffer, parses what is complete and keeps the rest. False at
    /// the end of the stream.
    fn poll_read_shared(
        &mut self,
        stream: &mut ByteStream,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, ReadError>> {
        READ_BUFFER.with_borrow_mut(|buffer| {
            let mut read = ReadBuf::new(buffer);
            match Pin::new(&mut *stream).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err.into())),
                Poll::Ready(Ok(())) => {}
            }
            let received = read.filled();
            if received.is_empty() {
                return Poll::Ready(Ok(false));
            }
            let taken = self
                .parser
                .parse(received, &mut self.ready)
                .map_err(ReadError::Refused)?;
            self.partial.extend_from_slice(&received[taken..]);
            Poll::Ready(Ok(true))
        })
    }

    /// Reads the rest of a cut-off frame after its start.
    fn poll_read_partial(
        &mut self,
        stream: &mut ByteStream,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, ReadError>> {
        let start = self.partial.len();
        self.partial.resize(start + READ_SIZE, 0);
        let mut read = ReadBuf::new(&mut self.partial[start..]);
        let polled = Pin::new(&mut *stream).poll_read(cx, &mut read);
        let received = read.filled().len();
        self.partial.truncate(start + received);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(err)) => Poll::Ready(Err(err.into())),
            Poll::Ready(Ok(())) => Poll::Ready(Ok(received > 0)),
        }
    }
}
