//! Typed configuration read from the environment once: helpers that name the key on failure,
//! a wrapper that keeps secrets out of logs, and the settings every service shares.

use crate::plan::{AccountPlans, Plan, PlanLimits, PlanTable};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("invalid value for {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// A value that must not appear in logs or debug output.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A required variable.
pub fn require(key: &'static str) -> Result<String, ConfigError> {
    match std::env::var(key) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(key)),
    }
}

/// An optional variable with a default.
pub fn or_default(key: &'static str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// An optional variable parsed into `T`, with a default when unset.
pub fn parse_or<T>(key: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match std::env::var(key) {
        Ok(raw) if !raw.trim().is_empty() => {
            raw.trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    key,
                    reason: e.to_string(),
                })
        }
        _ => Ok(default),
    }
}

/// Settings shared by every service.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub database_url: Secret<String>,
    pub database_max_connections: u32,
    pub nats_url: String,
    /// The plan new accounts get (`LEADSTREAM_DEFAULT_PLAN`, default `unlimited`).
    pub default_plan: Plan,
    /// Plans of particular accounts (`LEADSTREAM_ACCOUNT_PLANS=email=plan,...`).
    pub account_plans: AccountPlans,
    pub plans: PlanTable,
    /// Header and body read timeouts of the service's listener (`HTTP_HEADER_TIMEOUT_MS`,
    /// `HTTP_BODY_TIMEOUT_MS`).
    pub http: crate::http::HttpLimits,
}

impl CommonConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = PlanTable::default();
        Ok(Self {
            database_url: Secret::new(require("DATABASE_URL")?),
            database_max_connections: parse_or("DATABASE_MAX_CONNECTIONS", 16)?,
            nats_url: or_default("NATS_URL", "nats://127.0.0.1:4222"),
            http: crate::http::HttpLimits::from_env()?,
            default_plan: parse_or("LEADSTREAM_DEFAULT_PLAN", Plan::Unlimited)?,
            account_plans: parse_or("LEADSTREAM_ACCOUNT_PLANS", AccountPlans::default())?,
            plans: PlanTable {
                free: plan_from_env(
                    defaults.free,
                    "LEADSTREAM_FREE_MAX_LEADS",
                    "LEADSTREAM_FREE_REQUESTS",
                    "LEADSTREAM_FREE_BATCH",
                )?,
                pro: plan_from_env(
                    defaults.pro,
                    "LEADSTREAM_PRO_MAX_LEADS",
                    "LEADSTREAM_PRO_REQUESTS",
                    "LEADSTREAM_PRO_BATCH",
                )?,
                unlimited: PlanLimits {
                    batch_size: parse_or(
                        "LEADSTREAM_UNLIMITED_BATCH",
                        defaults.unlimited.batch_size,
                    )?,
                    ..defaults.unlimited
                },
            },
        })
    }
}

fn plan_from_env(
    base: PlanLimits,
    leads: &'static str,
    requests: &'static str,
    batch: &'static str,
) -> Result<PlanLimits, ConfigError> {
    Ok(PlanLimits {
        max_leads: Some(parse_or(leads, base.max_leads.unwrap_or(u64::MAX))?),
        requests_per_window: Some(parse_or(
            requests,
            base.requests_per_window.unwrap_or(u64::MAX),
        )?),
        batch_size: parse_or(batch, base.batch_size)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_their_value() {
        let s = Secret::new("postgres://user:hunter2@db/x".to_owned());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_missing_key_is_named_in_the_error() {
        let err = require("LEADSTREAM_SURELY_UNSET_KEY").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing environment variable LEADSTREAM_SURELY_UNSET_KEY"
        );
    }
}

/// A duration as operators write it: `250ms`, `5s`, `30m`, `2h`, `5d`, or a bare number of
/// seconds.
pub fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{raw}' is not a duration (e.g. 500ms, 5s, 30m, 2h, 5d)"))?;
    let ms = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{raw}': use ms, s, m, h or d"
            ))
        }
    };
    n.checked_mul(ms)
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| format!("'{raw}' is too long"))
}

/// An optional duration variable (see [`parse_duration`]) with a default.
pub fn duration_or(
    key: &'static str,
    default: std::time::Duration,
) -> Result<std::time::Duration, ConfigError> {
    match std::env::var(key) {
        Ok(raw) if !raw.trim().is_empty() => {
            parse_duration(&raw).map_err(|reason| ConfigError::Invalid { key, reason })
        }
        _ => Ok(default),
    }
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_operators_write_them() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration(" 5d "), Ok(Duration::from_secs(5 * 86_400)));
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("-5s").is_err());
    }
}
