//! Every core error that reaches JavaScript is mapped here, once. Polling refusals become an
//! `Error` whose message is a stable code that lib/ turns into upstream's HTTP answer.
use crate::engine::session::PollError;
use crate::io::error::IoError;

pub fn to_js(err: IoError) -> napi::Error {
    match err {
        IoError::Poll(PollError::Overlap) => napi::Error::from_reason("OVERLAP"),
        IoError::Poll(PollError::TransportMismatch) => {
            napi::Error::from_reason("TRANSPORT_MISMATCH")
        }
        IoError::Poll(PollError::UnknownSid) => napi::Error::from_reason("UNKNOWN_SID"),
        IoError::BinaryBody => napi::Error::from_reason("BINARY_BODY"),
        IoError::InvalidArgument(_) | IoError::TakeOver(_) | IoError::Framing(_) => {
            napi::Error::new(napi::Status::InvalidArg, err.to_string())
        }
    }
}
