//! Runnable examples for byova-rs; each file of this folder is one example, documented at its
//! top. Run one with `cargo run --example NAME` from the workspace root:
//!
//! | example | shows |
//! | --- | --- |
//! | `media_server_minimal` | the smallest media server: greeting, utterances, DTMF |
//! | `multiturn` | per-call state over several turns, transcript and summary |
//! | `dtmf_menu` | a touch-tone menu with sensitive PIN entry and per-step DTMF settings |
//! | `streaming_tts` | CHUNK mode fed by a (simulated) streaming text-to-speech engine |
//! | `proxy` | forwarding calls to a WebSocket AI backend (a built-in one included) |
//! | `quickstart_authorize` | authorizing the Integration and setting up the webhooks |
//! | `manual_token` | registering a sandbox org from a refresh token, calling the API |
//! | `webhook_receiver` | a hyper server handling signed Service App webhooks |
//! | `byods_and_media` | the data-source keeper and a JWS-authenticated media server together |
//!
//! The media examples run without any Webex account; the others read credentials from
//! `WEBEX_*` variables and say which are missing.
