//! `byova_media` — the Webex Contact Center BYOVA (Bring Your Own Virtual Agent) media server.
//!
//! Webex calls this gRPC server during every call that reaches a Virtual Agent V2 activity: one
//! `ProcessCallerInput` RPC per turn (session start, each utterance, each DTMF step, session
//! end), all carrying the same `conversation_id`. The server keeps the conversation between
//! RPCs, detects when the caller starts and stops speaking (START_OF_INPUT / END_OF_INPUT), hands
//! your [`VirtualAgent`] complete utterances, DTMF digits and events, and turns its [`Reply`]
//! into exactly the messages Webex expects, in WAV or CHUNK [`OutputMode`].
//!
//! # A minimal agent and server
//!
//! ```
//! use byova_media::{
//!     AgentConfig, AgentResult, Context, Dtmf, MediaServer, Reply, SessionStart, Utterance,
//!     VirtualAgent,
//! };
//!
//! struct Greeter;
//!
//! impl VirtualAgent for Greeter {
//!     type State = ();
//!
//!     async fn on_session_start(&self, _: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
//!         Ok(Reply::say("Hello! How can I help?"))
//!     }
//!
//!     async fn on_utterance(&self, _: &mut Context<'_, ()>, u: Utterance) -> AgentResult {
//!         let seconds = u.duration().as_secs_f32();
//!         Ok(Reply::say(format!("I heard {seconds:.1} seconds of speech.")))
//!     }
//!
//!     async fn on_dtmf(&self, _: &mut Context<'_, ()>, dtmf: Dtmf) -> AgentResult {
//!         Ok(match dtmf.digits.as_str() {
//!             "0" => Reply::say("Connecting you to an agent.").transfer_to_agent(),
//!             _ => Reply::say("Goodbye!").end_session(),
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), byova_media::Error> {
//! let server = MediaServer::builder()
//!     .addr("127.0.0.1:0".parse().unwrap())
//!     // In production configure JWS verification with `.jws(verifier)` instead.
//!     .disable_authentication()
//!     .agent(AgentConfig::new("greeter", Greeter).name("Greeter"))
//!     .build()?
//!     .bind()
//!     .await?;
//! println!("listening on {}", server.local_addr());
//! // `MediaServer::serve` runs until Ctrl-C / SIGTERM; here we stop at once.
//! server.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Pieces
//!
//! - [`VirtualAgent`] (or [`agent_fn`] for small closure agents), the [`Context`] every callback
//!   gets, and the inputs: [`SessionStart`], [`Utterance`], [`Dtmf`], [`Event`], [`SessionEnd`].
//! - [`Reply`] with [`Prompt`], [`Audio`], [`OutputEvent`], [`InputMode`], [`InputConfig`];
//!   [`ReplySink`] streams audio while a callback runs.
//! - [`MediaServer`] / [`MediaServerBuilder`] (also [`MediaServerBuilder::from_env`]),
//!   [`RunningServer`] and [`ShutdownHandle`]; [`TlsConfig`], [`FailurePolicy`], [`Detector`].
//! - [`audio`]: G.711, WAV, resampling, chunking; [`vad`]: endpointing; [`proto`]: the generated
//!   wire types, client and server.
//! - With the `client` feature, [`client`]: a caller that drives a server as Webex does.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod audio;
#[cfg(feature = "proxy")]
pub mod proxy;
pub mod vad;

#[path = "generated/mod.rs"]
pub mod proto;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
pub mod dtmf;

mod agent;
mod agents;
mod codec;
mod config;
mod env;
mod error;
mod input;
mod json;
mod linger;
mod metrics;
mod outbound;
mod registry;
mod reply;
mod server;
mod service;
mod shared;
mod sink;
mod tracker;
mod turn;

pub use agent::{
    AgentError, AgentInput, AgentResult, CallInfo, Context, FnAgent, VirtualAgent, agent_fn,
};
pub use agents::AgentConfig;
pub use config::{Detector, FailureAction, FailurePolicy, TlsConfig};
pub use error::{Error, ErrorKind};
pub use input::{
    AudioFrame, Dtmf, Event, SessionEnd, SessionEndReason, SessionStart, Utterance, UtteranceEnd,
};
pub use json::JsonObject;
pub use reply::{
    Audio, DtmfConfig, InputConfig, InputMode, OutputEvent, OutputEventKind, Prompt, Reply,
    SpeechTimers, TextContent,
};
pub use server::{MediaServer, MediaServerBuilder, RunningServer, ShutdownHandle};
pub use sink::{OutputMode, ReplySink, SinkError};
