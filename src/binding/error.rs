//! Every core error that reaches JavaScript is mapped here, once, to an `Error` whose message is
//! a stable code that lib/ turns into upstream's HTTP answer.
use crate::engine::session::PollError;
use crate::engine::PostError;

pub fn poll_error(err: PollError) -> napi::Error {
    napi::Error::from_reason(match err {
        PollError::Overlap => "OVERLAP",
        PollError::TransportMismatch => "TRANSPORT_MISMATCH",
        PollError::UnknownSid => "UNKNOWN_SID",
    })
}

pub fn post_error(err: PostError) -> napi::Error {
    match err {
        PostError::Session(err) => poll_error(err),
        PostError::BinaryBody => napi::Error::from_reason("BINARY_BODY"),
    }
}

pub fn invalid_arg(message: String) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, message)
}
