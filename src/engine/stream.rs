//! The byte stream under a WebSocket: the client's TCP connection itself (handed over by its
//! descriptor), or one end of a socket pair whose other end Node pipes to a connection it must
//! keep, such as a TLS one (Node decrypts, Rust speaks WebSocket).
use std::io;
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
    /// Registers the stream with the runtime (inside it).
    pub fn into_async(self) -> io::Result<ByteStream> {
        match self {
            HandedStream::Tcp(stream) => {
                stream.set_nonblocking(true)?;
                let stream = TcpStream::from_std(stream)?;
                stream.set_nodelay(true)?;
                Ok(ByteStream::Tcp(stream))
            }
            HandedStream::Bridged(stream) => {
                stream.set_nonblocking(true)?;
                Ok(ByteStream::Bridged(UnixStream::from_std(stream)?))
            }
        }
    }
}

pub enum ByteStream {
    Tcp(TcpStream),
    Bridged(UnixStream),
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
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            ByteStream::Bridged(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}
