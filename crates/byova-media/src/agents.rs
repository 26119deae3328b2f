//! The virtual agents a server offers: [`AgentConfig`] (registration) and the routing table that
//! answers `ListVirtualAgents` and picks the agent of each call by `virtual_agent_id`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::agent::{DynAgent, Erased, VirtualAgent};
use crate::audio::{MAX_CHUNK, MIN_CHUNK};
use crate::proto;
use crate::reply::{InputConfig, InputMode};
use crate::sink::{OutputMode, ReplyDefaults};

/// A virtual agent offered to Webex: its id, display name, default flag and attributes (what
/// `ListVirtualAgents` returns), the agent itself, and its reply settings.
///
/// ```
/// use byova_media::{AgentConfig, OutputMode, agent_fn, Reply};
///
/// let config = AgentConfig::new("support-bot", agent_fn(|_, _| async { Ok(Reply::none()) }))
///     .name("Support bot")
///     .default_agent(true)
///     .attribute("language", "en-US")
///     .output_mode(OutputMode::Wav)
///     .barge_in(true);
/// # let _ = config;
/// ```
#[must_use]
pub struct AgentConfig {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) is_default: bool,
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) agent: Arc<dyn DynAgent>,
    pub(crate) output_mode: Option<OutputMode>,
    pub(crate) max_chunk: Option<usize>,
    pub(crate) barge_in: Option<bool>,
    pub(crate) input_mode: Option<InputMode>,
    pub(crate) input_config: Option<InputConfig>,
}

impl fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("is_default", &self.is_default)
            .field("attributes", &self.attributes)
            .field("output_mode", &self.output_mode)
            .finish_non_exhaustive()
    }
}

impl AgentConfig {
    /// An agent with an id (shown to Webex and echoed back as `virtual_agent_id`).
    pub fn new(id: impl Into<String>, agent: impl VirtualAgent) -> Self {
        Self {
            id: id.into(),
            name: None,
            is_default: false,
            attributes: BTreeMap::new(),
            agent: Arc::new(Erased(agent)),
            output_mode: None,
            max_chunk: None,
            barge_in: None,
            input_mode: None,
            input_config: None,
        }
    }

    /// The display name in Flow Designer (default: the id).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Makes this the default agent, used when Webex names none (default: the first agent
    /// registered).
    pub fn default_agent(mut self, is_default: bool) -> Self {
        self.is_default = is_default;
        self
    }

    /// Adds a free-form attribute returned by `ListVirtualAgents`.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// How replies carry audio (default: the server's setting, itself CHUNK by default).
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        self.output_mode = Some(mode);
        self
    }

    /// The largest CHUNK in bytes, clamped to 100 B – 64 KiB (default 64 KiB: Webex asks for
    /// chunks "as large as possible"; streamed audio still goes out as soon as it exists).
    pub fn max_chunk_bytes(mut self, bytes: usize) -> Self {
        self.max_chunk = Some(bytes.clamp(MIN_CHUNK, MAX_CHUNK));
        self
    }

    /// Whether prompts may be interrupted by the caller unless a prompt says otherwise
    /// (default: the server's setting, itself `false`).
    pub fn barge_in(mut self, enabled: bool) -> Self {
        self.barge_in = Some(enabled);
        self
    }

    /// The next input mode when a reply sets none (default: the server's setting).
    pub fn input_mode(mut self, mode: InputMode) -> Self {
        self.input_mode = Some(mode);
        self
    }

    /// The input handling config when a reply sets none (default: the server's setting).
    pub fn input_config(mut self, config: InputConfig) -> Self {
        self.input_config = Some(config);
        self
    }
}

/// A registered agent with its settings resolved.
pub(crate) struct AgentEntry {
    pub(crate) id: Arc<str>,
    pub(crate) name: String,
    pub(crate) is_default: bool,
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) agent: Arc<dyn DynAgent>,
    pub(crate) reply: Arc<ReplyDefaults>,
}

impl fmt::Debug for AgentEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentEntry")
            .field("id", &self.id)
            .field("is_default", &self.is_default)
            .field("reply", &self.reply)
            .finish_non_exhaustive()
    }
}

/// Why the agent list is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AgentsError {
    #[error("no virtual agent is registered")]
    Empty,
    #[error("virtual agent id {0:?} is registered twice")]
    DuplicateId(String),
    #[error("virtual agent ids must not be empty")]
    EmptyId,
    #[error("more than one default virtual agent: {0:?} and {1:?}")]
    TwoDefaults(String, String),
}

/// The routing table: agents by id, and the default.
#[derive(Debug)]
pub(crate) struct AgentTable {
    agents: Vec<Arc<AgentEntry>>,
    default: usize,
}

impl AgentTable {
    /// Resolves the configs against the server defaults.
    pub(crate) fn new(
        configs: Vec<AgentConfig>,
        defaults: &ReplyDefaults,
    ) -> Result<Self, AgentsError> {
        if configs.is_empty() {
            return Err(AgentsError::Empty);
        }
        let mut agents: Vec<Arc<AgentEntry>> = Vec::with_capacity(configs.len());
        let mut default = None;
        for (index, config) in configs.into_iter().enumerate() {
            if config.id.is_empty() {
                return Err(AgentsError::EmptyId);
            }
            if agents.iter().any(|agent| *agent.id == *config.id) {
                return Err(AgentsError::DuplicateId(config.id));
            }
            if config.is_default {
                if let Some(previous) = default {
                    let previous: &Arc<AgentEntry> = &agents[previous];
                    return Err(AgentsError::TwoDefaults(previous.id.to_string(), config.id));
                }
                default = Some(index);
            }
            let reply = ReplyDefaults {
                mode: config.output_mode.unwrap_or(defaults.mode),
                max_chunk: config.max_chunk.unwrap_or(defaults.max_chunk),
                barge_in: config.barge_in.unwrap_or(defaults.barge_in),
                input_mode: config.input_mode.unwrap_or(defaults.input_mode),
                input_config: config.input_config.unwrap_or(defaults.input_config),
            };
            agents.push(Arc::new(AgentEntry {
                name: config.name.unwrap_or_else(|| config.id.clone()),
                id: config.id.into(),
                is_default: false,
                attributes: config.attributes,
                agent: config.agent,
                reply: Arc::new(reply),
            }));
        }
        let default = default.unwrap_or(0);
        if let Some(entry) = Arc::get_mut(&mut agents[default]) {
            entry.is_default = true;
        }
        Ok(Self { agents, default })
    }

    /// The agent a call names; an empty id means the default agent.
    pub(crate) fn resolve(&self, id: &str) -> Option<&Arc<AgentEntry>> {
        if id.is_empty() {
            return self.agents.get(self.default);
        }
        self.agents.iter().find(|agent| &*agent.id == id)
    }

    /// Every agent, for `ListVirtualAgents`.
    pub(crate) fn list(&self) -> proto::ListVaResponse {
        proto::ListVaResponse {
            virtual_agents: self
                .agents
                .iter()
                .map(|agent| proto::VirtualAgentInfo {
                    virtual_agent_id: agent.id.to_string(),
                    virtual_agent_name: agent.name.clone(),
                    is_default: agent.is_default,
                    attributes: agent
                        .attributes
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Reply, agent_fn};

    fn agent(id: &str) -> AgentConfig {
        AgentConfig::new(id, agent_fn(|_, _| async { Ok(Reply::none()) }))
    }

    #[test]
    fn first_agent_is_the_default_unless_one_is_marked() {
        let table =
            AgentTable::new(vec![agent("a"), agent("b")], &ReplyDefaults::default()).unwrap();
        assert_eq!(&*table.resolve("").unwrap().id, "a");
        assert_eq!(&*table.resolve("b").unwrap().id, "b");
        assert!(table.resolve("c").is_none());
        let table = AgentTable::new(
            vec![
                agent("a"),
                agent("b")
                    .default_agent(true)
                    .name("Bee")
                    .attribute("k", "v"),
            ],
            &ReplyDefaults::default(),
        )
        .unwrap();
        assert_eq!(&*table.resolve("").unwrap().id, "b");
        let list = table.list();
        assert_eq!(list.virtual_agents.len(), 2);
        assert!(!list.virtual_agents[0].is_default);
        assert_eq!(list.virtual_agents[0].virtual_agent_name, "a");
        assert!(list.virtual_agents[1].is_default);
        assert_eq!(list.virtual_agents[1].virtual_agent_name, "Bee");
        assert_eq!(list.virtual_agents[1].attributes["k"], "v");
    }

    #[test]
    fn invalid_tables_are_refused() {
        let defaults = ReplyDefaults::default();
        assert_eq!(
            AgentTable::new(vec![], &defaults).unwrap_err(),
            AgentsError::Empty
        );
        assert_eq!(
            AgentTable::new(vec![agent("a"), agent("a")], &defaults).unwrap_err(),
            AgentsError::DuplicateId("a".into())
        );
        assert_eq!(
            AgentTable::new(vec![agent("")], &defaults).unwrap_err(),
            AgentsError::EmptyId
        );
        assert!(matches!(
            AgentTable::new(
                vec![
                    agent("a").default_agent(true),
                    agent("b").default_agent(true)
                ],
                &defaults
            )
            .unwrap_err(),
            AgentsError::TwoDefaults(..)
        ));
    }

    #[test]
    fn agent_settings_override_server_defaults() {
        let defaults = ReplyDefaults::default();
        let table = AgentTable::new(
            vec![
                agent("w").output_mode(OutputMode::Wav).max_chunk_bytes(10),
                agent("c"),
            ],
            &defaults,
        )
        .unwrap();
        let wav = table.resolve("w").unwrap();
        assert_eq!(wav.reply.mode, OutputMode::Wav);
        assert_eq!(wav.reply.max_chunk, MIN_CHUNK);
        assert_eq!(table.resolve("c").unwrap().reply.mode, OutputMode::Chunk);
    }
}
