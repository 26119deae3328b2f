//! One scripted call, played as Webex plays it, recorded RPC by RPC.

use std::time::Duration;

use byova::media::JsonObject;
use byova::media::client::Status;
use byova::media::client::rules::{RpcCheck, Violation};
use byova::media::client::{
    Call, Caller, EventType, SpeakOptions, Target, TurnResult, ends_call, speech_end,
};
use tokio::time::Instant;

use super::audio::Utterance;
use crate::exit::CliError;

/// How to place the call.
#[derive(Debug)]
pub(super) struct CallSettings {
    pub(super) target: Target,
    pub(super) token: Option<String>,
    pub(super) conversation_id: String,
    pub(super) org_id: String,
    pub(super) agent_id: String,
    pub(super) timeout: Duration,
    pub(super) trailing_silence: Duration,
}

/// A step with its audio loaded.
#[derive(Debug)]
pub(super) enum LoadedStep {
    Say(Utterance),
    Dtmf(String),
    Event { name: String, data: JsonObject },
    NoInput,
    Pause(Duration),
}

/// What an RPC sent.
#[derive(Debug, Clone)]
pub(super) enum Sent {
    SessionStart,
    Say { name: String, audio: Duration },
    StartOfDtmf,
    Dtmf(String),
    Event { name: String, data: JsonObject },
    NoInput,
    SessionEnd,
}

/// A spoken turn's timing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Speech {
    /// Frames sent (sending stops when END_OF_INPUT arrives).
    pub(super) frames: usize,
    /// Where speech ends in the audio (the last sample at or above −40 dBFS).
    pub(super) speech_end: Option<Duration>,
    /// When END_OF_INPUT arrived, from the RPC's opening.
    pub(super) end_of_input: Option<Duration>,
}

impl Speech {
    /// The audio sent, 20 ms per frame.
    pub(super) fn audio_sent(&self) -> Duration {
        Duration::from_millis(self.frames as u64 * 20)
    }
}

/// One RPC of the call.
#[derive(Debug)]
pub(super) struct RpcRecord {
    /// 1-based.
    pub(super) number: usize,
    pub(super) sent: Sent,
    /// When it opened, from the start of the call.
    pub(super) opened: Duration,
    pub(super) result: TurnResult,
    pub(super) violations: Vec<Violation>,
    pub(super) speech: Option<Speech>,
}

/// An entry of the call's timeline.
#[derive(Debug)]
pub(super) enum Entry {
    Rpc(Box<RpcRecord>),
    Pause { at: Duration, length: Duration },
    Skipped { steps: usize, why: &'static str },
}

/// The whole call.
#[derive(Debug)]
pub(super) struct CallRecord {
    pub(super) target: String,
    pub(super) conversation_id: String,
    pub(super) entries: Vec<Entry>,
    pub(super) duration: Duration,
}

impl CallRecord {
    /// The RPCs.
    pub(super) fn rpcs(&self) -> impl Iterator<Item = &RpcRecord> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Rpc(rpc) => Some(&**rpc),
            _ => None,
        })
    }

    /// Every violation with its RPC's number.
    pub(super) fn violations(&self) -> Vec<(usize, &Violation)> {
        self.rpcs()
            .flat_map(|rpc| rpc.violations.iter().map(move |v| (rpc.number, v)))
            .collect()
    }
}

/// Places the call and plays the script.
pub(super) async fn run(
    settings: &CallSettings,
    steps: Vec<LoadedStep>,
) -> Result<CallRecord, CliError> {
    let channel = settings
        .target
        .connect()
        .await
        .map_err(|error| super::client_error(&settings.target, &error))?;
    let mut caller = Caller::new(channel);
    if let Some(token) = &settings.token {
        caller = caller
            .with_token(token)
            .map_err(|_| CliError::usage("--token holds characters gRPC metadata cannot carry"))?;
    }
    let call = caller
        .call(settings.conversation_id.clone())
        .customer_org_id(settings.org_id.clone())
        .virtual_agent_id(settings.agent_id.clone());
    let mut player = Player {
        settings,
        call,
        start: Instant::now(),
        entries: Vec::new(),
        ended: None,
    };
    let call = player.call.clone();
    player
        .rpc(
            Sent::SessionStart,
            call.session_start("", JsonObject::new()),
            None,
        )
        .await;
    let mut steps = steps.into_iter();
    while player.ended.is_none() {
        let Some(step) = steps.next() else { break };
        player.step(step).await;
    }
    let left = steps.len();
    match player.ended {
        None => {
            player.rpc(Sent::SessionEnd, call.session_end(), None).await;
        }
        Some(why) => {
            // The SESSION_END the caller would send is skipped too.
            player.entries.push(Entry::Skipped {
                steps: left + 1,
                why,
            });
        }
    }
    Ok(CallRecord {
        target: settings.target.uri(),
        conversation_id: settings.conversation_id.clone(),
        duration: player.start.elapsed(),
        entries: player.entries,
    })
}

struct Player<'a> {
    settings: &'a CallSettings,
    call: Call,
    start: Instant,
    entries: Vec<Entry>,
    /// Why the call is over, once it is.
    ended: Option<&'static str>,
}

impl Player<'_> {
    async fn step(&mut self, step: LoadedStep) {
        let call = self.call.clone();
        match step {
            LoadedStep::Say(utterance) => {
                let mut options = SpeakOptions::default();
                options.trailing_silence = self.settings.trailing_silence;
                let speak = call.speak(&utterance.mulaw, &options);
                let speech_end = speech_end(&utterance.mulaw);
                let sent = Sent::Say {
                    name: utterance.name.clone(),
                    audio: utterance.duration(),
                };
                self.rpc(sent, speak, Some(speech_end)).await;
            }
            LoadedStep::Dtmf(digits) => {
                self.rpc(Sent::StartOfDtmf, call.start_of_dtmf(), None)
                    .await;
                if self.ended.is_none() {
                    self.rpc(Sent::Dtmf(digits.clone()), call.dtmf(&digits), None)
                        .await;
                }
            }
            LoadedStep::Event { name, data } => {
                let sent = Sent::Event {
                    name: name.clone(),
                    data: data.clone(),
                };
                self.rpc(sent, call.custom_event(&name, data), None).await;
            }
            LoadedStep::NoInput => {
                self.rpc(Sent::NoInput, call.no_input(), None).await;
            }
            LoadedStep::Pause(length) => {
                self.entries.push(Entry::Pause {
                    at: self.start.elapsed(),
                    length,
                });
                tokio::time::sleep(length).await;
            }
        }
    }

    /// Runs one turn, bounded by the timeout, and records it. `speech_end` is given for spoken
    /// turns (the audio's speech end, if it has speech).
    async fn rpc(
        &mut self,
        sent: Sent,
        turn: impl Future<Output = TurnResult>,
        speech_end: Option<Option<Duration>>,
    ) {
        let opened = self.start.elapsed();
        let timeout = self.settings.timeout;
        let result = tokio::time::timeout(timeout, turn)
            .await
            .unwrap_or_else(|_| TurnResult {
                responses: Vec::new(),
                status: Status::deadline_exceeded(format!(
                    "no end within {} s (--timeout)",
                    timeout.as_secs_f32()
                )),
                duration: timeout,
                audio_started: None,
                frames_sent: 0,
            });
        let mut check = RpcCheck::new();
        for response in &result.responses {
            check.response(&response.response);
        }
        let violations = check.finish(&result.status);
        let speech = speech_end.map(|speech_end| Speech {
            frames: result.frames_sent,
            speech_end,
            end_of_input: result.first_event(EventType::EndOfInput).map(|r| r.at),
        });
        if !result.is_ok() {
            self.ended = Some("an RPC failed");
        } else if result.responses.iter().any(|r| ends_call(&r.response)) {
            self.ended = Some("the server ended the call");
        }
        let number = self
            .entries
            .iter()
            .filter(|e| matches!(e, Entry::Rpc(_)))
            .count()
            + 1;
        self.entries.push(Entry::Rpc(Box::new(RpcRecord {
            number,
            sent,
            opened,
            result,
            violations,
            speech,
        })));
    }
}
