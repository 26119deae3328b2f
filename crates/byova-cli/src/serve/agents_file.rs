//! `--agents FILE`: the virtual agents `ListVirtualAgents` offers, from TOML.
//!
//! ```toml
//! [[agents]]
//! id = "demo"
//! name = "byova demo agent"
//! default = true
//!
//! [[agents]]
//! id = "sales"
//! name = "Sales line"
//! attributes = { language = "en-US", team = "sales" }
//! ```
//!
//! `name` defaults to the id, `default` to false (the first agent is the default when none is
//! flagged), `attributes` to none. The proto's own names are accepted too (`[[agent]]`,
//! `virtual_agent_id`, `virtual_agent_name`, `is_default`). Other unknown keys are refused, so a
//! typo is not silently ignored.

use std::collections::BTreeMap;
use std::path::Path;

use byova::media::{AgentConfig, InputMode};
use serde::Deserialize;

use super::demo_agent::{DemoAgent, input_config};
use crate::exit::CliError;

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentsFile {
    #[serde(alias = "agent")]
    agents: Vec<AgentEntry>,
}

/// One virtual agent of the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentEntry {
    #[serde(alias = "virtual_agent_id")]
    id: String,
    #[serde(alias = "virtual_agent_name")]
    name: Option<String>,
    #[serde(default, alias = "is_default")]
    default: bool,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

impl AgentEntry {
    /// The agent served without `--agents`.
    pub(crate) fn demo() -> Self {
        Self {
            id: "demo".to_owned(),
            name: Some("byova demo agent".to_owned()),
            default: true,
            attributes: BTreeMap::new(),
        }
    }

    /// The registration of this entry, answered by `agent`.
    pub(crate) fn into_config(self, agent: DemoAgent) -> AgentConfig {
        let mut config = AgentConfig::new(self.id, agent)
            .default_agent(self.default)
            .barge_in(false)
            .input_mode(InputMode::VoiceAndDtmf)
            .input_config(input_config());
        if let Some(name) = self.name {
            config = config.name(name);
        }
        for (key, value) in self.attributes {
            config = config.attribute(key, value);
        }
        config
    }
}

/// Reads and checks the file (ids must be unique and non-empty, at most one default; the
/// server checks those again when it is built).
pub(crate) fn read(path: &Path) -> Result<Vec<AgentEntry>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        CliError::usage(format!(
            "cannot read the agents file {}: {error}",
            path.display()
        ))
    })?;
    parse(&text).map_err(|message| {
        CliError::usage(format!("the agents file {}: {message}", path.display()))
    })
}

fn parse(text: &str) -> Result<Vec<AgentEntry>, String> {
    let file: AgentsFile = toml::from_str(text).map_err(|error| error.to_string())?;
    if file.agents.is_empty() {
        return Err("it lists no agent ([[agents]] with at least an id)".to_owned());
    }
    let mut defaults = file.agents.iter().filter(|agent| agent.default);
    if let (Some(first), Some(second)) = (defaults.next(), defaults.next()) {
        return Err(format!(
            "more than one default agent: {:?} and {:?}",
            first.id, second.id
        ));
    }
    for (index, agent) in file.agents.iter().enumerate() {
        if agent.id.trim().is_empty() {
            return Err(format!("agent {} has an empty id", index + 1));
        }
        if file.agents[..index]
            .iter()
            .any(|other| other.id == agent.id)
        {
            return Err(format!("the agent id {:?} appears twice", agent.id));
        }
    }
    Ok(file.agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_agents_with_defaults_for_what_is_left_out() {
        let agents = parse(
            r#"
            [[agents]]
            id = "demo"
            name = "byova demo agent"
            default = true

            [[agents]]
            id = "sales"
            attributes = { language = "en-US", team = "sales" }
            "#,
        )
        .unwrap();
        assert_eq!(agents[0], AgentEntry::demo());
        assert_eq!(
            agents[1],
            AgentEntry {
                id: "sales".into(),
                name: None,
                default: false,
                attributes: BTreeMap::from([
                    ("language".into(), "en-US".into()),
                    ("team".into(), "sales".into()),
                ]),
            }
        );
    }

    #[test]
    fn accepts_the_proto_field_names() {
        let agents = parse(
            r#"
            [[agent]]
            virtual_agent_id = "demo"
            virtual_agent_name = "byova demo agent"
            is_default = true
            "#,
        )
        .unwrap();
        assert_eq!(agents, [AgentEntry::demo()]);
    }

    #[test]
    fn refuses_what_the_server_would_refuse_and_typos() {
        for (text, needle) in [
            ("agents = []", "lists no agent"),
            ("", "missing field `agents`"),
            (
                "[[agents]]\nid = \"a\"\ndefault = true\n[[agents]]\nid = \"b\"\ndefault = true",
                "more than one default agent: \"a\" and \"b\"",
            ),
            (
                "[[agents]]\nid = \"a\"\n[[agents]]\nid = \"a\"",
                "\"a\" appears twice",
            ),
            ("[[agents]]\nid = \" \"", "agent 1 has an empty id"),
            (
                "[[agents]]\nid = \"a\"\nnmae = \"A\"",
                "unknown field `nmae`",
            ),
            ("[[agents]]\nname = \"A\"", "missing field `id`"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(needle), "{text:?}: {error}");
        }
    }
}
