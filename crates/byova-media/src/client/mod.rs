//! A caller: drives a BYOVA media server the way Webex Contact Center does (feature `client`).
//!
//! A [`Caller`] holds the gRPC channel (and the JWS to present); a [`Call`] is one conversation
//! seen from the Webex side; each method of a call runs one `ProcessCallerInput` turn and returns
//! a [`TurnResult`]: every response with the time it arrived, and the RPC's final status.
//! [`Call::open_turn`] gives full control over a turn ([`Turn`]). A [`Target`] names the server
//! (`host:port` or `http(s)://…`, TLS settings).
//!
//! [`rules`] checks replies against the protocol rules; [`load`] runs thousands of such callers
//! at once and reports latency percentiles (what `byova simulate --calls` uses).
//!
//! ```no_run
//! use byova_media::client::{Caller, SpeakOptions};
//!
//! # async fn run(utterance_mulaw: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let caller = Caller::connect("http://127.0.0.1:50051").await?;
//! let call = caller.call("call-1").customer_org_id("org-1");
//! let greeting = call.session_start("entry", Default::default()).await;
//! assert!(greeting.is_ok());
//! // 20 ms μ-law frames in real time; sending stops when END_OF_INPUT arrives.
//! let turn = call.speak(&utterance_mulaw, &SpeakOptions::default()).await;
//! println!("END_OF_INPUT after {:?}", turn.first_event(byova_media::client::EventType::EndOfInput));
//! call.session_end().await;
//! # Ok(())
//! # }
//! ```

mod caller;
mod error;
mod input;
pub mod load;
pub mod rules;
mod speech;
mod target;
mod turn;

pub use self::caller::{Call, Caller, SpeakOptions};
pub use self::error::ClientError;
pub use self::speech::{SPEECH_THRESHOLD, speech_end};
pub use self::target::{DEFAULT_PORT, Target};
pub use self::turn::{TimedResponse, Turn, TurnClosed, TurnResult, ends_call, has_event};
pub use crate::proto::event_input::EventType as InputEventType;
pub use crate::proto::output_event::EventType;
pub use crate::proto::voice_va_response::ResponseType;
/// The gRPC status of a turn (re-exported from tonic).
pub use tonic::{Code, Status};

/// The canonical name of a gRPC status code, as gRPC spells it (`UNAVAILABLE`).
///
/// ```
/// use byova_media::client::{Code, code_name};
/// assert_eq!(code_name(Code::ResourceExhausted), "RESOURCE_EXHAUSTED");
/// ```
#[must_use]
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The metadata of an output event as JSON (empty when it has none).
#[must_use]
pub fn event_metadata(event: &crate::proto::OutputEvent) -> crate::JsonObject {
    event
        .metadata
        .clone()
        .map(crate::json::struct_to_json)
        .unwrap_or_default()
}
