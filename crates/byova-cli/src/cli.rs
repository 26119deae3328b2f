//! The command line: global options and one subcommand tree per command group (clap derive).

use std::time::Duration;

use byova::TokenStore;
use byova::auth::keeper::{DEFAULT_AUDIENCE, DEFAULT_SUBJECT};
use byova::models::{BYOVA_SCHEMA_ID, MAX_TOKEN_LIFETIME_MINUTES, OrgId};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Webex Contact Center BYOVA / BYODS from the command line.
///
/// REST commands take their bearer from --token when given; otherwise from the token store:
/// the Service App token of --org for data sources and schemas, the Integration token (after
/// `byova auth login`) for webhooks. Credentials come from WEBEX_INTEGRATION_CLIENT_ID,
/// WEBEX_INTEGRATION_CLIENT_SECRET, WEBEX_SA_CLIENT_ID and WEBEX_SA_CLIENT_SECRET.
///
/// Exit status: 0 on success, 1 when Webex or a verification refused, 2 on a usage error.
#[derive(Debug, Parser)]
#[command(
    name = "byova",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The Webex REST base URL.
    #[arg(
        long,
        global = true,
        hide_env_values = true,
        env = "WEBEX_BASE_URL",
        help = "Webex REST base URL [default: https://webexapis.com/v1]",
        value_name = "URL"
    )]
    pub base_url: Option<String>,

    /// Bearer token to use as is, instead of tokens from the token store
    #[arg(
        long,
        global = true,
        env = "WEBEX_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// Where tokens live: memory, file:PATH or redis://… [default: file:~/.config/byova/tokens.json]
    #[arg(
        long,
        global = true,
        env = "WEBEX_TOKEN_STORE",
        hide_env_values = true,
        value_name = "STORE",
        value_parser = parse_token_store
    )]
    pub token_store: Option<TokenStore>,

    /// The customer org (UUID or Webex id) whose Service App token authenticates data-source
    /// and schema calls
    #[arg(long, global = true, hide_env_values = true, env = "WEBEX_ORG_ID", value_name = "ORG", value_parser = parse_org)]
    pub org: Option<OrgId>,

    /// Print JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Print tokens and secrets (jwsToken, webhook secrets) instead of redacting them
    #[arg(long, global = true)]
    pub show_secrets: bool,

    /// Log to stderr; repeat for more detail (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in the Integration and show the stored tokens
    #[command(subcommand)]
    Auth(AuthCommand),
    /// BYODS data sources of an org (/dataSources)
    #[command(subcommand, name = "datasources", visible_alias = "ds")]
    Datasources(DatasourcesCommand),
    /// Data-source schemas (/dataSources/schemas)
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// Webhooks of the Integration (/webhooks)
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Verify the JWS Webex attaches to BYOVA calls
    #[command(subcommand)]
    Jws(JwsCommand),
    /// Keep the data source registered and its JWS fresh, in the foreground
    Keeper(KeeperArgs),
    /// Run the BYOVA media server with the built-in demo agent
    Serve(crate::serve::ServeArgs),
    /// Call a BYOVA media server as Webex does: a scripted call with a timeline and protocol
    /// checks, or many calls at once (--calls) with latency percentiles
    Simulate(crate::simulate::SimulateArgs),
}

/// `byova auth …`
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Authorize the Integration in a browser and store its tokens
    Login(LoginArgs),
    /// Show what the stored tokens are good for (never the tokens)
    Status,
}

/// `byova auth login`
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Scope to request (repeatable) [default: the scopes BYOVA needs]
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// How long to wait for the browser to come back, in seconds
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Leave PKCE out of the authorization request
    #[arg(long)]
    pub no_pkce: bool,
}

/// `byova datasources …`
#[derive(Debug, Subcommand)]
pub enum DatasourcesCommand {
    /// List the org's data sources
    List,
    /// Show one data source
    Get(IdArg),
    /// Register a data source
    Create(CreateDatasourceArgs),
    /// Change a data source (only the fields given are sent)
    Update(UpdateDatasourceArgs),
    /// Renew the JWS: a fresh nonce with the current settings
    Renew(RenewDatasourceArgs),
    /// Delete a data source
    Delete(IdArg),
}

/// One resource id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The id
    pub id: String,
}

/// `byova datasources create`
#[derive(Debug, Args)]
pub struct CreateDatasourceArgs {
    /// Where Webex sends the data (the media server URL)
    #[arg(long)]
    pub url: String,
    /// Schema the data source implements
    #[arg(long, default_value = BYOVA_SCHEMA_ID)]
    pub schema_id: String,
    /// The JWS audience
    #[arg(long, default_value = DEFAULT_AUDIENCE)]
    pub audience: String,
    /// The JWS subject
    #[arg(long, default_value = DEFAULT_SUBJECT)]
    pub subject: String,
    /// The nonce [default: a fresh UUID]
    #[arg(long)]
    pub nonce: Option<String>,
    /// JWS lifetime in minutes (1-1440)
    #[arg(long, default_value = "1440", value_parser = lifetime_minutes())]
    pub token_lifetime_minutes: u32,
}

/// `byova datasources update`
#[derive(Debug, Args)]
pub struct UpdateDatasourceArgs {
    /// The data source id
    pub id: String,
    /// Where Webex sends the data
    #[arg(long)]
    pub url: Option<String>,
    /// Schema id
    #[arg(long)]
    pub schema_id: Option<String>,
    /// The JWS audience
    #[arg(long)]
    pub audience: Option<String>,
    /// The JWS subject
    #[arg(long)]
    pub subject: Option<String>,
    /// A new nonce (makes Webex mint a new JWS)
    #[arg(long)]
    pub nonce: Option<String>,
    /// JWS lifetime in minutes (1-1440)
    #[arg(long, value_parser = lifetime_minutes())]
    pub token_lifetime_minutes: Option<u32>,
    /// Whether Webex uses the data source
    #[arg(long)]
    pub status: Option<StatusArg>,
    /// Why it is disabled (shown in Control Hub)
    #[arg(long)]
    pub error_message: Option<String>,
}

/// `byova datasources renew`
#[derive(Debug, Args)]
pub struct RenewDatasourceArgs {
    /// The data source id
    pub id: String,
    /// JWS lifetime in minutes (1-1440)
    #[arg(long, default_value = "1440", value_parser = lifetime_minutes())]
    pub token_lifetime_minutes: u32,
}

/// A data-source status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// In use
    Active,
    /// Switched off
    Disabled,
}

/// `byova schemas …`
#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// List the schemas
    List,
    /// Show one schema
    Get(IdArg),
}

/// `byova webhooks …`
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List webhooks (every page)
    List(ListWebhooksArgs),
    /// Show one webhook
    Get(IdArg),
    /// Create a webhook
    Create(CreateWebhookArgs),
    /// Delete a webhook
    Delete(IdArg),
    /// Make sure the Service App authorized/deauthorized webhooks exist, signed and active
    Ensure(EnsureWebhooksArgs),
}

/// `byova webhooks list`
#[derive(Debug, Args)]
pub struct ListWebhooksArgs {
    /// Page size asked of Webex
    #[arg(long, value_name = "N")]
    pub max: Option<u32>,
    /// Only webhooks owned by this (`org` for org-wide webhooks)
    #[arg(long, value_name = "OWNER")]
    pub owned_by: Option<String>,
}

/// `byova webhooks create`
#[derive(Debug, Args)]
pub struct CreateWebhookArgs {
    /// Display name
    #[arg(long)]
    pub name: String,
    /// Where Webex posts events
    #[arg(long)]
    pub target_url: String,
    /// Resource
    #[arg(long, default_value = "serviceApp")]
    pub resource: String,
    /// Event, e.g. authorized or deauthorized
    #[arg(long)]
    pub event: String,
    /// Event filter
    #[arg(long)]
    pub filter: Option<String>,
    /// HMAC secret: Webex then signs each delivery (X-Spark-Signature)
    #[arg(long)]
    pub secret: Option<String>,
    /// `org` for an org-wide webhook
    #[arg(long, value_name = "OWNER")]
    pub owned_by: Option<String>,
}

/// `byova webhooks ensure`
#[derive(Debug, Args)]
pub struct EnsureWebhooksArgs {
    /// Where Webex should post Service App events
    #[arg(long, hide_env_values = true, env = "WEBEX_WEBHOOK_TARGET_URL")]
    pub target_url: String,
    /// The secret the webhooks are signed with
    #[arg(long, env = "WEBEX_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
}

/// `byova jws …`
#[derive(Debug, Subcommand)]
pub enum JwsCommand {
    /// Verify a JWS and print its claims as JSON
    Verify(VerifyArgs),
}

/// `byova jws verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The compact JWS, or `-` to read it from stdin
    pub token: String,
    /// The data-source URL registered with Webex (com.cisco.datasource.url must equal it)
    #[arg(long, hide_env_values = true, env = "WEBEX_DATASOURCE_URL")]
    pub datasource_url: String,
    /// The expected com.cisco.datasource.schema.uuid [default: the BYOVA schema]
    #[arg(long, value_name = "UUID")]
    pub schema_uuid: Option<String>,
    /// Also accept this issuer; its keys come from {ISS}/oauth2/v2/keys/verificationjwk (repeatable)
    #[arg(long = "issuer", value_name = "ISS")]
    pub issuers: Vec<String>,
    /// Accept only the Webex issuers of this region: us, eu, ca, integration (repeatable)
    /// [default: all]
    #[arg(
        long = "region",
        value_name = "REGION",
        env = "WEBEX_REGION",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub regions: Vec<byova::jws::Region>,
    /// Require this audience
    #[arg(long)]
    pub audience: Option<String>,
}

/// `byova keeper`
#[derive(Debug, Args)]
pub struct KeeperArgs {
    /// The media server URL Webex dials (the data source's url)
    #[arg(long, hide_env_values = true, env = "WEBEX_DATASOURCE_URL")]
    pub datasource_url: String,
    /// Adopt this data source instead of finding it by url and schema
    #[arg(long, value_name = "ID")]
    pub data_source_id: Option<String>,
    /// Schema id
    #[arg(long, default_value = BYOVA_SCHEMA_ID)]
    pub schema_id: String,
    /// The JWS audience
    #[arg(long, default_value = DEFAULT_AUDIENCE)]
    pub audience: String,
    /// The JWS subject
    #[arg(long, default_value = DEFAULT_SUBJECT)]
    pub subject: String,
    /// JWS lifetime in minutes (1-1440)
    #[arg(long, default_value = "1440", value_parser = lifetime_minutes())]
    pub token_lifetime_minutes: u32,
    /// Renew this many seconds before the JWS expires
    #[arg(long, value_name = "SECONDS", default_value = "3600", value_parser = parse_seconds)]
    pub renewal_lead: Duration,
    /// Retry a failed renewal after this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub retry_interval: Duration,
}

fn parse_token_store(value: &str) -> Result<TokenStore, String> {
    value
        .parse()
        .map_err(|error: byova::Error| error.message().unwrap_or("invalid token store").to_owned())
}

fn parse_org(value: &str) -> Result<OrgId, String> {
    value.trim().parse().map_err(|error| format!("{error}"))
}

fn parse_seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| "expected a whole number of seconds".to_owned())
}

fn lifetime_minutes() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..=i64::from(MAX_TOKEN_LIFETIME_MINUTES))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
