//! The `--json` report of a single call.

use byova::media::client::event_metadata;
use byova::media::proto::VoiceVaResponse;
use serde_json::{Value, json};

use super::call::{CallRecord, Entry, RpcRecord, Sent};
use super::describe::{self, AudioInfo};

fn ms(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// The whole call as JSON; `saved` lists the prompt files written.
pub(super) fn call_json(call: &CallRecord, saved: &[String]) -> Value {
    let violations: Vec<Value> = call
        .violations()
        .into_iter()
        .map(|(rpc, v)| {
            json!({
                "rpc": rpc,
                "rule": v.rule.id(),
                "response": v.response.map(|i| i + 1),
                "message": v.message,
            })
        })
        .collect();
    let mut pauses = Vec::new();
    let mut skipped = Value::Null;
    for entry in &call.entries {
        match entry {
            Entry::Pause { at, length } => {
                pauses.push(json!({ "atMs": ms(*at), "lengthMs": ms(*length) }));
            }
            Entry::Skipped { steps, why } => skipped = json!({ "steps": steps, "why": why }),
            Entry::Rpc(_) => {}
        }
    }
    json!({
        "target": call.target,
        "conversationId": call.conversation_id,
        "ok": violations.is_empty(),
        "durationMs": ms(call.duration),
        "rpcs": call.rpcs().map(rpc_json).collect::<Vec<_>>(),
        "pauses": pauses,
        "skipped": skipped,
        "violations": violations,
        "savedPrompts": saved,
    })
}

fn sent_json(sent: &Sent) -> Value {
    match sent {
        Sent::SessionStart => json!({ "type": "SESSION_START" }),
        Sent::Say { name, audio } => {
            json!({ "type": "AUDIO", "file": name, "audioMs": ms(*audio) })
        }
        Sent::StartOfDtmf => json!({ "type": "START_OF_DTMF" }),
        Sent::Dtmf(digits) => json!({ "type": "DTMF", "digits": digits }),
        Sent::Event { name, data } => {
            json!({ "type": "CUSTOM_EVENT", "name": name, "parameters": data })
        }
        Sent::NoInput => json!({ "type": "NO_INPUT" }),
        Sent::SessionEnd => json!({ "type": "SESSION_END" }),
    }
}

fn rpc_json(rpc: &RpcRecord) -> Value {
    let status = &rpc.result.status;
    let mut value = json!({
        "number": rpc.number,
        "sent": sent_json(&rpc.sent),
        "openedMs": ms(rpc.opened),
        "durationMs": ms(rpc.result.duration),
        "status": { "code": describe::code_name(status.code()), "message": status.message() },
        "responses": rpc.result.responses.iter().map(|r| {
            let mut value = response_json(&r.response);
            value["atMs"] = json!(ms(r.at));
            value
        }).collect::<Vec<_>>(),
        "violations": rpc.violations.iter().map(|v| json!({
            "rule": v.rule.id(),
            "response": v.response.map(|i| i + 1),
            "message": v.message,
        })).collect::<Vec<_>>(),
    });
    if let Some(speech) = &rpc.speech {
        value["framesSent"] = json!(speech.frames);
        value["audioSentMs"] = json!(ms(speech.audio_sent()));
        value["speechEndMs"] = json!(speech.speech_end.map(ms));
        value["endOfInputAtMs"] = json!(speech.end_of_input.map(ms));
    }
    value
}

/// One response as JSON.
pub(super) fn response_json(response: &VoiceVaResponse) -> Value {
    let events: Vec<Value> = response
        .output_events
        .iter()
        .map(|event| {
            json!({
                "type": describe::event_type(event.event_type),
                "name": event.name,
                "metadata": event_metadata(event),
            })
        })
        .collect();
    let prompts: Vec<Value> = response
        .prompts
        .iter()
        .map(|prompt| {
            let audio = AudioInfo::of(&prompt.audio_content);
            json!({
                "text": prompt.text,
                "audioBytes": audio.bytes,
                "audioFormat": match &audio.wav {
                    _ if audio.bytes == 0 => Value::Null,
                    Some(format) => json!(format!("WAV {format}")),
                    None => json!("raw"),
                },
                "audioMs": if audio.bytes == 0 { Value::Null } else { json!(audio.duration.map(ms)) },
                "audioUri": prompt.audio_uri,
                "bargeIn": prompt.is_barge_in_enabled,
            })
        })
        .collect();
    let config = response.input_handling_config.as_ref().map(|config| {
        json!({
            "dtmf": config.dtmf_config.as_ref().map(|d| json!({
                "length": d.dtmf_input_length,
                "terminator": byova::media::dtmf::digit_to_char(d.termchar).map(String::from),
                "interDigitTimeoutMs": d.inter_digit_timeout_msec,
            })),
            "speechTimers": config.speech_timers.as_ref().map(|t| json!({
                "maxSpeechMs": t.max_speech_timeout_msec,
                "completeMs": t.complete_timeout_msec,
                "incompleteMs": t.incomplete_timeout_msec,
                "noInputMs": t.no_input_timeout_msec,
            })),
        })
    });
    json!({
        "type": describe::response_type(response.response_type),
        "events": events,
        "prompts": prompts,
        "inputMode": describe::input_mode(response.input_mode),
        "inputConfig": config,
        "inputSensitive": response.input_sensitive,
        "transcript": response.session_transcript.as_ref().and_then(describe::text),
        "summary": response.session_summary.as_ref().and_then(describe::text),
    })
}
