//! query-service configuration, read from the environment once.

use shared::config::{or_default, parse_or, CommonConfig, ConfigError};
use shared::http::TrustedProxies;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub common: CommonConfig,
    /// `EDGE_LISTEN`, default `127.0.0.1:8080`: the one public base URL.
    pub listen: SocketAddr,
    /// `COMMAND_URL`, default `http://127.0.0.1:8081`: where writes are forwarded.
    pub command_url: String,
    /// How long a read waits for the read model to catch up with the caller's last write
    /// (`READ_WAIT_MS`, default 2000). Past it the answer carries `X-Read-Consistency: stale`.
    pub read_wait: Duration,
    /// How long a resolved API key stays cached (`API_KEY_CACHE_SECS`, default 60).
    pub key_cache_ttl: Duration,
    /// The sliding window of request limits (`RATE_WINDOW_SECS`, default 600 as SPEC §8).
    pub rate_window: Duration,
    /// Proxies in front of the edge (a load balancer, an ingress) whose `X-Forwarded-For` is
    /// believed (`EDGE_TRUSTED_PROXIES`, addresses or CIDR networks, default none): the
    /// client address the edge passes on to command-service.
    pub trusted_proxies: TrustedProxies,
    /// Host names the MCP gateway answers (`MCP_ALLOWED_HOSTS`, comma-separated, a name
    /// without a port matching any port; default the listen address, `localhost`,
    /// `127.0.0.1` and `::1`): a request naming another `Host` is refused (DNS rebinding).
    pub mcp_allowed_hosts: Vec<String>,
}

/// The hosts the MCP gateway answers by default: the listen address and loopback names.
pub fn default_mcp_hosts(listen: SocketAddr) -> Vec<String> {
    let mut hosts = vec![listen.ip().to_string()];
    for local in ["localhost", "127.0.0.1", "::1"] {
        if !hosts.iter().any(|h| h == local) {
            hosts.push(local.to_owned());
        }
    }
    hosts
}

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let listen = parse_or("EDGE_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let mcp_allowed_hosts = match std::env::var("MCP_ALLOWED_HOSTS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect(),
            _ => default_mcp_hosts(listen),
        };
        Ok(Self {
            common: CommonConfig::from_env()?,
            listen,
            command_url: or_default("COMMAND_URL", "http://127.0.0.1:8081"),
            read_wait: Duration::from_millis(parse_or("READ_WAIT_MS", 2000)?),
            key_cache_ttl: Duration::from_secs(parse_or("API_KEY_CACHE_SECS", 60)?),
            rate_window: Duration::from_secs(parse_or("RATE_WINDOW_SECS", 600)?),
            trusted_proxies: parse_or("EDGE_TRUSTED_PROXIES", TrustedProxies::default())?,
            mcp_allowed_hosts,
        })
    }
}
