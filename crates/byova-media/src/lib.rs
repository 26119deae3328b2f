//! `byova_media` — the Webex BYOVA gRPC media server (being built; see issue 5).

pub mod audio;
pub mod vad;
#[cfg(feature = "proxy")]
pub mod proxy;
