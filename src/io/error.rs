//! Why a call into the socket.io layer was refused; the binding maps each to a JS error once.
use crate::engine::session::PollError;
use crate::engine::PostError;
use crate::io::parser::FramingError;

#[derive(Debug)]
pub enum IoError {
    /// A polling request the session cannot take (lib/ answers with upstream's HTTP error).
    Poll(PollError),
    /// A binary POST body on an Engine.IO v4 session.
    BinaryBody,
    /// A value the consumer passed is out of range (an option, a packet type).
    InvalidArgument(String),
    /// A connection handed over by Node could not be taken.
    TakeOver(std::io::Error),
    /// A packet from the consumer that the server's parser cannot frame.
    Framing(FramingError),
}

impl From<FramingError> for IoError {
    fn from(err: FramingError) -> Self {
        IoError::Framing(err)
    }
}

impl From<PollError> for IoError {
    fn from(err: PollError) -> Self {
        IoError::Poll(err)
    }
}

impl From<PostError> for IoError {
    fn from(err: PostError) -> Self {
        match err {
            PostError::Session(err) => IoError::Poll(err),
            PostError::BinaryBody => IoError::BinaryBody,
        }
    }
}

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IoError::Poll(err) => write!(f, "{err:?}"),
            IoError::BinaryBody => f.write_str("binary body"),
            IoError::InvalidArgument(message) => f.write_str(message),
            IoError::TakeOver(err) => write!(f, "cannot take over the connection: {err}"),
            IoError::Framing(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for IoError {}
