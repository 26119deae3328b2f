//! `--save-prompts DIR`: the audio the server sent, as WAV files.
//!
//! WAV prompts are written as received (`rpc02-prompt1.wav`); raw audio (CHUNK mode, or raw
//! audio in a FINAL) is taken as 8 kHz μ-law and wrapped in a WAV header, one file per RPC for
//! its CHUNKs (`rpc02-chunks.wav`).

use std::path::Path;

use byova::media::audio::mulaw_wav;
use byova::media::client::ResponseType;

use super::call::CallRecord;
use crate::exit::CliError;

/// Writes the prompts of `call` into `dir` (created if missing); returns the paths written.
pub(super) fn save(call: &CallRecord, dir: &Path) -> Result<Vec<String>, CliError> {
    let failed = |error: std::io::Error| CliError::Refused {
        kind: "save_prompts",
        message: format!("cannot save the prompts in {}: {error}", dir.display()),
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut saved = Vec::new();
    for rpc in call.rpcs() {
        let mut chunks = Vec::new();
        let mut number = 0;
        for response in &rpc.result.responses {
            let chunk = response.response.response_type == ResponseType::Chunk as i32;
            for prompt in &response.response.prompts {
                let audio = &prompt.audio_content;
                if audio.is_empty() {
                    continue;
                }
                if chunk {
                    chunks.extend_from_slice(audio);
                    continue;
                }
                number += 1;
                let path = dir.join(format!("rpc{:02}-prompt{number}.wav", rpc.number));
                let bytes = if audio.starts_with(b"RIFF") {
                    audio.to_vec()
                } else {
                    mulaw_wav(audio)
                };
                std::fs::write(&path, bytes).map_err(failed)?;
                saved.push(path.display().to_string());
            }
        }
        if !chunks.is_empty() {
            let path = dir.join(format!("rpc{:02}-chunks.wav", rpc.number));
            std::fs::write(&path, mulaw_wav(&chunks)).map_err(failed)?;
            saved.push(path.display().to_string());
        }
    }
    Ok(saved)
}
