//! query-service configuration, read from the environment once.

use shared::config::{or_default, parse_or, CommonConfig, ConfigError};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub common: CommonConfig,
    /// `EDGE_LISTEN`, default `127.0.0.1:8080`: the one public base URL.
    pub listen: SocketAddr,
    /// `COMMAND_URL`, default `http://127.0.0.1:8081`: where writes are forwarded.
    pub command_url: String,
}

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            listen: parse_or("EDGE_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            command_url: or_default("COMMAND_URL", "http://127.0.0.1:8081"),
        })
    }
}
