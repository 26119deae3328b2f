//! The readable timeline of a call: every RPC, what it sent, every response, its status, and the
//! protocol rules it broke.

use std::fmt::Write as _;
use std::time::Duration;

use byova::media::client::{Code, ResponseType, TimedResponse, event_metadata};
use byova::media::proto::VoiceVaResponse;

use super::call::{CallRecord, Entry, RpcRecord, Sent};
use super::describe::{self, AudioInfo, clip, seconds};

/// Longest prompt text shown.
const MAX_TEXT: usize = 72;

/// The timeline as text.
pub(super) fn render(call: &CallRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "call {} to {}", call.conversation_id, call.target);
    for entry in &call.entries {
        match entry {
            Entry::Rpc(rpc) => render_rpc(&mut out, rpc),
            Entry::Pause { at, length } => {
                let _ = writeln!(out, "{}  pause {} ms", stamp(*at), length.as_millis());
            }
            Entry::Skipped { steps, why } => {
                let _ = writeln!(
                    out,
                    "          {why}: {steps} step{} not played",
                    if *steps == 1 { "" } else { "s" }
                );
            }
        }
    }
    let violations = call.violations();
    let rpcs = call.rpcs().count();
    let responses: usize = call.rpcs().map(|rpc| rpc.result.responses.len()).sum();
    if violations.is_empty() {
        let _ = writeln!(
            out,
            "\nprotocol check: every rule kept ({rpcs} RPCs, {responses} responses, {})",
            seconds(call.duration)
        );
    } else {
        let _ = writeln!(
            out,
            "\nprotocol check: {} violation{} in {rpcs} RPCs",
            violations.len(),
            if violations.len() == 1 { "" } else { "s" }
        );
        for (rpc, violation) in violations {
            let _ = writeln!(out, "  ✗ RPC {rpc}: {violation}");
        }
    }
    out
}

/// `  12.345` (seconds from the start of the call).
fn stamp(at: Duration) -> String {
    format!("{:>8.3}", at.as_secs_f64())
}

fn render_rpc(out: &mut String, rpc: &RpcRecord) {
    let _ = writeln!(
        out,
        "{}  RPC {} → {}",
        stamp(rpc.opened),
        rpc.number,
        sent(&rpc.sent)
    );
    let responses = &rpc.result.responses;
    let mut index = 0;
    while index < responses.len() {
        // A run of plain audio CHUNKs reads best as one line.
        let run = responses[index..]
            .iter()
            .take_while(|r| is_plain_chunk(&r.response))
            .count();
        if run > 1 {
            let bytes: usize = responses[index..index + run]
                .iter()
                .map(TimedResponse::audio_bytes)
                .sum();
            let _ = writeln!(
                out,
                "{}    ← CHUNK ×{run}  audio {bytes} B ({} μ-law)",
                stamp(rpc.opened + responses[index].at),
                seconds(Duration::from_micros(bytes as u64 * 125))
            );
            index += run;
            continue;
        }
        let response = &responses[index];
        let _ = writeln!(
            out,
            "{}    ← {}",
            stamp(rpc.opened + response.at),
            describe_response(&response.response)
        );
        index += 1;
    }
    let mut end = match rpc.result.code() {
        Code::Ok => "✓ OK".to_owned(),
        code => {
            let message = rpc.result.status.message();
            if message.is_empty() {
                format!("✗ {}", describe::code_name(code))
            } else {
                format!("✗ {}: {message}", describe::code_name(code))
            }
        }
    };
    if responses.is_empty() && rpc.result.is_ok() {
        end.push_str(" (no response)");
    }
    if let Some(speech) = &rpc.speech {
        let _ = write!(
            end,
            " · {} frames sent ({})",
            speech.frames,
            seconds(speech.audio_sent())
        );
        match (speech.end_of_input, speech.speech_end) {
            (None, _) => end.push_str(" · no END_OF_INPUT"),
            (Some(_), Some(speech_end)) => {
                let _ = write!(
                    end,
                    " · END_OF_INPUT after {} of audio, speech ended at {}",
                    seconds(speech.audio_sent()),
                    seconds(speech_end)
                );
            }
            (Some(_), None) => {}
        }
    }
    let _ = writeln!(out, "{}    {end}", stamp(rpc.opened + rpc.result.duration));
    for violation in &rpc.violations {
        let _ = writeln!(out, "            ✗ protocol violation {violation}");
    }
}

fn sent(sent: &Sent) -> String {
    match sent {
        Sent::SessionStart => "SESSION_START".to_owned(),
        Sent::Say { name, audio } => format!("say {name} ({})", seconds(*audio)),
        Sent::StartOfDtmf => "START_OF_DTMF".to_owned(),
        Sent::Dtmf(digits) => format!("DTMF {digits}"),
        Sent::Event { name, data } if data.is_empty() => format!("CUSTOM_EVENT {name}"),
        Sent::Event { name, data } => {
            format!(
                "CUSTOM_EVENT {name} {}",
                serde_json::Value::Object(data.clone())
            )
        }
        Sent::NoInput => "NO_INPUT".to_owned(),
        Sent::SessionEnd => "SESSION_END".to_owned(),
    }
}

/// A CHUNK carrying only prompt audio.
fn is_plain_chunk(response: &VoiceVaResponse) -> bool {
    response.response_type == ResponseType::Chunk as i32
        && response.output_events.is_empty()
        && !response.prompts.is_empty()
        && response
            .prompts
            .iter()
            .all(|p| p.text.is_empty() && p.audio_uri.is_empty() && !p.audio_content.is_empty())
        && response.input_mode == 0
        && response.input_handling_config.is_none()
        && response.session_transcript.is_none()
        && response.session_summary.is_none()
}

/// One response on one line.
pub(super) fn describe_response(response: &VoiceVaResponse) -> String {
    let mut parts = vec![describe::response_type(response.response_type)];
    for event in &response.output_events {
        let mut text = describe::event_type(event.event_type);
        if !event.name.is_empty() {
            let _ = write!(text, " \"{}\"", event.name);
        }
        let metadata = event_metadata(event);
        if !metadata.is_empty() {
            let _ = write!(text, " {}", serde_json::Value::Object(metadata));
        }
        parts.push(text);
    }
    for (n, prompt) in response.prompts.iter().enumerate() {
        let mut text = if response.prompts.len() == 1 {
            "prompt".to_owned()
        } else {
            format!("prompt {}", n + 1)
        };
        if !prompt.text.is_empty() {
            let _ = write!(text, " \"{}\"", clip(&prompt.text, MAX_TEXT));
        }
        if !prompt.audio_content.is_empty() {
            let _ = write!(text, " {}", AudioInfo::of(&prompt.audio_content).describe());
        }
        if !prompt.audio_uri.is_empty() {
            let _ = write!(text, " uri {}", prompt.audio_uri);
        }
        if prompt.text.is_empty() && prompt.audio_content.is_empty() && prompt.audio_uri.is_empty()
        {
            text.push_str(" (empty)");
        }
        if prompt.is_barge_in_enabled {
            text.push_str(" (barge-in)");
        }
        parts.push(text);
    }
    if let Some(mode) = describe::input_mode(response.input_mode) {
        parts.push(format!("input {mode}"));
    }
    if let Some(config) = &response.input_handling_config {
        let config = describe::input_config(config);
        if !config.is_empty() {
            parts.push(config);
        }
    }
    if response.input_sensitive {
        parts.push("input sensitive".to_owned());
    }
    if let Some(text) = response
        .session_transcript
        .as_ref()
        .and_then(describe::text)
    {
        parts.push(format!("transcript \"{}\"", clip(text, MAX_TEXT)));
    }
    if let Some(text) = response.session_summary.as_ref().and_then(describe::text) {
        parts.push(format!("summary \"{}\"", clip(text, MAX_TEXT)));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use byova::media::proto::{OutputEvent, Prompt};

    use super::*;

    #[test]
    fn a_response_reads_as_one_line() {
        let response = VoiceVaResponse {
            response_type: 0,
            output_events: vec![OutputEvent {
                event_type: 3,
                name: "order".into(),
                ..OutputEvent::default()
            }],
            prompts: vec![Prompt {
                text: "Hello there".into(),
                audio_content: vec![0xFF; 800].into(),
                is_barge_in_enabled: true,
                ..Prompt::default()
            }],
            input_mode: 3,
            ..VoiceVaResponse::default()
        };
        assert_eq!(
            describe_response(&response),
            "FINAL · CUSTOM_EVENT \"order\" · prompt \"Hello there\" 800 B (0.10 s μ-law) \
             (barge-in) · input INPUT_VOICE_DTMF"
        );
    }
}
