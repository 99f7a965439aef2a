//! command-service configuration, read from the environment once.

use crate::accounts::limits::AuthLimits;
use crate::accounts::Hashing;
use crate::app::webhooks::WebhookSettings;
use shared::config::{or_default, parse_or, CommonConfig, ConfigError};
use shared::http::TrustedProxies;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct CommandConfig {
    pub common: CommonConfig,
    /// `COMMAND_LISTEN`, default `127.0.0.1:8081`.
    pub listen: SocketAddr,
    /// How long a resolved API key stays cached (`API_KEY_CACHE_SECS`, default 60).
    pub key_cache_ttl: Duration,
    pub relay: RelayConfig,
    /// `RESCORE_WORKER` (default true): work queued account rescores in this process.
    pub rescore_worker: bool,
    /// `RESCORE_WORKERS` (default 2): how many batches of rescores this process works at once
    /// (each on its own part of a job).
    pub rescore_workers: usize,
    /// Peers whose `X-Forwarded-For` names the client (`COMMAND_TRUSTED_PROXIES`, addresses
    /// or CIDR networks, default loopback `127.0.0.0/8,::1`): the edge's addresses.
    pub trusted_proxies: TrustedProxies,
    /// Failed-login and registration limits (`LOGIN_FAILURE_*`, `REGISTRATION_*`).
    pub auth_limits: AuthLimits,
    /// Password hashes computed at once (`PASSWORD_HASH_CONCURRENCY`, default: cores).
    pub hashing: Hashing,
    /// `WEBHOOK_ALLOWED_NETWORKS`, `WEBHOOK_ROTATION_GRACE`, `WEBHOOK_TEST_WAIT_MS`,
    /// `WEBHOOK_MAX_ENDPOINTS`.
    pub webhooks: WebhookSettings,
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// `RELAY_ENABLED` (default true): run the outbox relay to NATS in this process.
    pub enabled: bool,
    /// Events read and published per round (`RELAY_BATCH`, default 500).
    pub batch_size: i64,
    /// Fallback poll when no NOTIFY arrives (`RELAY_POLL_MS`, default 1000).
    pub poll_interval: Duration,
    /// After a wake-up, how long to let more commits gather before publishing
    /// (`RELAY_COALESCE_MS`, default 5).
    pub coalesce: Duration,
    /// How often a standby replica retries for leadership (`RELAY_STANDBY_MS`, default 2000).
    pub standby_retry: Duration,
    /// JetStream duplicate window (`NATS_DUPLICATE_WINDOW_SECS`, default 600).
    pub duplicate_window: Duration,
    /// JetStream retention (`NATS_MAX_AGE_DAYS`, default 7).
    pub max_age: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: 500,
            poll_interval: Duration::from_millis(1000),
            coalesce: Duration::from_millis(5),
            standby_retry: Duration::from_millis(2000),
            duplicate_window: Duration::from_secs(600),
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl CommandConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = RelayConfig::default();
        Ok(Self {
            common: CommonConfig::from_env()?,
            listen: parse_or("COMMAND_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8081)))?,
            key_cache_ttl: Duration::from_secs(parse_or("API_KEY_CACHE_SECS", 60)?),
            rescore_worker: or_default("RESCORE_WORKER", "true") != "false",
            rescore_workers: parse_or("RESCORE_WORKERS", 2)?,
            trusted_proxies: parse_or("COMMAND_TRUSTED_PROXIES", TrustedProxies::loopback())?,
            auth_limits: AuthLimits::from_env()?,
            hashing: match parse_or("PASSWORD_HASH_CONCURRENCY", 0usize)? {
                0 => Hashing::per_core(),
                n => Hashing::new(n),
            },
            webhooks: WebhookSettings {
                networks: shared::webhooks::NetworkPolicy::from_env()?,
                rotation_grace: shared::config::duration_or(
                    "WEBHOOK_ROTATION_GRACE",
                    Duration::from_secs(86_400),
                )?,
                test_wait: Duration::from_millis(parse_or("WEBHOOK_TEST_WAIT_MS", 10_000)?),
                max_endpoints: parse_or("WEBHOOK_MAX_ENDPOINTS", 50)?,
            },
            relay: RelayConfig {
                enabled: or_default("RELAY_ENABLED", "true") != "false",
                batch_size: parse_or("RELAY_BATCH", d.batch_size)?,
                poll_interval: Duration::from_millis(parse_or("RELAY_POLL_MS", 1000)?),
                coalesce: Duration::from_millis(parse_or("RELAY_COALESCE_MS", 5)?),
                standby_retry: Duration::from_millis(parse_or("RELAY_STANDBY_MS", 2000)?),
                duplicate_window: Duration::from_secs(parse_or("NATS_DUPLICATE_WINDOW_SECS", 600)?),
                max_age: Duration::from_secs(parse_or::<u64>("NATS_MAX_AGE_DAYS", 7)? * 24 * 3600),
            },
        })
    }
}
