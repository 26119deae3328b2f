//! The gRPC edge: the tonic `VoiceVirtualAgent` service. It converts an RPC into a turn (request
//! stream in, bounded response channel out) and answers `ListVirtualAgents`.

use std::sync::Arc;

use futures_util::StreamExt as _;
use tonic::{Request, Response, Status, Streaming};

use crate::outbound::{self, ResponseStream};
use crate::proto::voice_virtual_agent_server::VoiceVirtualAgent;
use crate::proto::{ListVaRequest, ListVaResponse, VoiceVaRequest};
use crate::shared::Shared;
use crate::turn::{self, Rpc};

/// The metadata key of Webex's tracking id (gRPC lower-cases keys on the wire).
const TRACKING_ID: &str = "trackingid";

/// The longest tracking id kept (longer values are cut, so a hostile header cannot bloat logs).
const MAX_TRACKING_ID: usize = 128;

/// The `VoiceVirtualAgent` service.
#[derive(Debug, Clone)]
pub(crate) struct VoiceAgentService {
    shared: Arc<Shared>,
    response_buffer: usize,
}

impl VoiceAgentService {
    pub(crate) fn new(shared: Arc<Shared>, response_buffer: usize) -> Self {
        Self {
            shared,
            response_buffer: response_buffer.max(1),
        }
    }
}

#[tonic::async_trait]
impl VoiceVirtualAgent for VoiceAgentService {
    type ProcessCallerInputStream = ResponseStream;

    async fn process_caller_input(
        &self,
        request: Request<Streaming<VoiceVaRequest>>,
    ) -> Result<Response<Self::ProcessCallerInputStream>, Status> {
        let tracking_id = request
            .metadata()
            .get(TRACKING_ID)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                let mut end = value.len().min(MAX_TRACKING_ID);
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                value[..end].to_owned()
            });
        let (_metadata, extensions, requests) = request.into_parts();
        let (out, responses) = outbound::channel(self.response_buffer);
        let rpc = Rpc {
            requests: requests.boxed(),
            out,
            tracking_id,
            extensions,
        };
        self.shared
            .tasks
            .spawn(turn::run(Arc::clone(&self.shared), rpc));
        Ok(Response::new(responses))
    }

    async fn list_virtual_agents(
        &self,
        _request: Request<ListVaRequest>,
    ) -> Result<Response<ListVaResponse>, Status> {
        Ok(Response::new(self.shared.agents.list()))
    }
}
