//! The data-source keeper: keeps the BYOVA data source registered and its JWS fresh.

mod adopt;
mod claims;
mod config;
mod state;
mod task;

pub use config::{
    DEFAULT_AUDIENCE, DEFAULT_RENEWAL_LEAD, DEFAULT_RETRY_INTERVAL, DEFAULT_SUBJECT,
    DEFAULT_TOKEN_LIFETIME_MINUTES, KeeperConfig,
};
pub use state::KeeperState;
pub use task::DataSourceKeeper;
