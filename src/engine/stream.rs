//! The byte stream under a WebSocket: the client's TCP connection itself (handed over by its
//! descriptor), or one end of a socket pair whose other end Node pipes to a connection it must
//! keep, such as a TLS one (Node decrypts, Rust speaks WebSocket).
use crate::protocol::permessage_deflate::{Deflater, InflateError, Inflater};
use std::io;
use std::os::fd::{BorrowedFd, IntoRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// A stream as handed over from Node, before the runtime registers it.
pub enum HandedStream {
    Tcp(std::net::TcpStream),
    Bridged(std::os::unix::net::UnixStream),
}

impl HandedStream {
    /// Takes over a connection that Node holds as descriptor `fd`: a duplicate of it (Node closes
    /// its own afterwards), or, when `fd` is negative (a connection Node must keep, such as a TLS
    /// one), one end of a new socket pair, whose other end's descriptor is returned for Node to
    /// pipe the connection to.
    pub fn take_over(fd: i32) -> io::Result<(Self, Option<RawFd>)> {
        if fd < 0 {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
            return Ok((HandedStream::Bridged(ours), Some(theirs.into_raw_fd())));
        }
        Ok((HandedStream::Tcp(duplicate(fd)?), None))
    }

    /// Registers the stream with the runtime (inside it).
    pub fn into_async(self) -> io::Result<ByteStream> {
        match self {
            HandedStream::Tcp(stream) => {
                stream.set_nonblocking(true)?;
                let stream = TcpStream::from_std(stream)?;
                stream.set_nodelay(true)?;
                limit_unsent(&stream);
                Ok(ByteStream::Tcp(stream))
            }
            HandedStream::Bridged(stream) => {
                stream.set_nonblocking(true)?;
                Ok(ByteStream::Bridged(UnixStream::from_std(stream)?))
            }
        }
    }
}

/// A duplicate (CLOEXEC) of descriptor `fd`, a TCP connection that Node closes afterwards:
/// closing a duplicated descriptor sends no FIN, so the connection stays up.
pub fn duplicate(fd: i32) -> io::Result<std::net::TcpStream> {
    // SAFETY: `fd` is the descriptor of a socket Node keeps open for the duration of this call;
    // it is only duplicated, never closed here.
    let owned = unsafe { BorrowedFd::borrow_raw(fd as RawFd) }.try_clone_to_owned()?;
    Ok(std::net::TcpStream::from(owned))
}

/// Unsent bytes a connection's kernel buffer takes before the socket stops accepting writes.
#[cfg(any(target_os = "linux", target_os = "android"))]
const UNSENT_LIMIT: u32 = 128 * 1024;

/// Past `UNSENT_LIMIT` unsent bytes, what a connection is sent waits in its queue as the frames
/// shared by all recipients (see frame_writer.rs) instead of as a copy in the kernel's buffer of
/// each connection, which the kernel would otherwise grow to megabytes for a slow reader. The
/// writes start as soon as the socket has room again. An optimisation only: a kernel without
/// the option (before Linux 3.12) just buffers more.
fn limit_unsent(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _unsupported = socket2::SockRef::from(stream).set_tcp_notsent_lowat(UNSENT_LIMIT);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

pub enum ByteStream {
    Tcp(TcpStream),
    Bridged(UnixStream),
    /// permessage-deflate negotiated: frames are transcoded on their way in and out.
    Deflate(Box<DeflateStream>),
}

impl AsyncRead for ByteStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_read(cx, buf),
            ByteStream::Deflate(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ByteStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_write(cx, buf),
            ByteStream::Deflate(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            ByteStream::Deflate(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_flush(cx),
            ByteStream::Deflate(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_shutdown(cx),
            ByteStream::Deflate(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

impl ByteStream {
    /// Wraps the stream in the permessage-deflate transcoder: server messages of `threshold`
    /// bytes or more are compressed, client messages inflate up to `max_message` bytes. `head`,
    /// what was read before the switch, goes through the transcoder first.
    pub fn deflating(self, threshold: usize, max_message: usize, head: &[u8]) -> io::Result<Self> {
        let mut stream = DeflateStream {
            inner: self,
            inflater: Inflater::new(max_message),
            deflater: Deflater::new(threshold),
            readable: Vec::new(),
            read_at: 0,
            writable: Vec::new(),
            written: 0,
        };
        stream
            .inflater
            .push(head, &mut stream.readable)
            .map_err(inflate_error)?;
        Ok(ByteStream::Deflate(Box::new(stream)))
    }
}

pub struct DeflateStream {
    inner: ByteStream,
    inflater: Inflater,
    deflater: Deflater,
    /// Plain frames ready for the frame reader, from `read_at` on.
    readable: Vec<u8>,
    read_at: usize,
    /// Frames to send, from `written` on.
    writable: Vec<u8>,
    written: usize,
}

impl DeflateStream {
    fn poll_send_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.writable.len() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.writable[self.written..]) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.writable.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for DeflateStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.read_at < this.readable.len() {
                let n = buf.remaining().min(this.readable.len() - this.read_at);
                buf.put_slice(&this.readable[this.read_at..this.read_at + n]);
                this.read_at += n;
                return Poll::Ready(Ok(()));
            }
            this.readable.clear();
            this.read_at = 0;
            let mut chunk = [0u8; 4096];
            let mut received = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut received) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            if received.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.inflater
                .push(received.filled(), &mut this.readable)
                .map_err(inflate_error)?;
        }
    }
}

impl AsyncWrite for DeflateStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.deflater.push(buf, &mut this.writable);
        // Sent as far as the socket takes it now; the rest goes with the next write or flush.
        if let Poll::Ready(Err(err)) = this.poll_send_pending(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_send_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_send_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

/// Carried whole, for the frame reader to close with `ws`'s code (see `frame_reader::ReadError`).
fn inflate_error(err: InflateError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}
