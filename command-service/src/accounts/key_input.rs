//! `POST /api-keys`'s body: `name` (1–100 characters), `scopes` (a non-empty array of `read`,
//! `write`, `admin`; default all three), `expires_at` (in the future; RFC 3339 or Unix
//! seconds) and `member_id` (null until keys are bound to members). Anything else is refused.

use super::keys::KeySpec;
use chrono::Utc;
use serde_json::Value;
use shared::auth::{Scope, Scopes};

pub const MAX_NAME_CHARS: usize = 100;
const KNOWN: &str = "name, scopes, expires_at, member_id";

pub fn parse_key_spec(body: &Value) -> Result<KeySpec, String> {
    let o = body
        .as_object()
        .ok_or("the body must be a JSON object, e.g. {\"name\": \"claude-agent\"}")?;
    if let Some(other) = o.keys().find(|k| !KNOWN.split(", ").any(|n| n == *k)) {
        return Err(format!("unknown field '{other}': an API key takes {KNOWN}"));
    }
    let name = match o.get("name") {
        None | Some(Value::Null) => {
            return Err("'name' is required, e.g. {\"name\": \"claude-agent\"}".into())
        }
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err("'name' must be a string".into()),
    };
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("'name' must be 1 to {MAX_NAME_CHARS} characters"));
    }
    if name.contains('\0') {
        return Err("'name' must not contain NUL characters".into());
    }
    let scopes = match o.get("scopes") {
        None | Some(Value::Null) => Scopes::FULL,
        Some(Value::Array(items)) => {
            let names = items
                .iter()
                .map(|v| v.as_str().ok_or("'scopes' must be an array of strings"))
                .collect::<Result<Vec<&str>, _>>()?;
            let allowed = || Scope::ALL.map(Scope::as_str).join(", ");
            Scopes::parse(names)
                .map_err(|bad| format!("unknown scope '{bad}': use {}", allowed()))?
                .ok_or_else(|| format!("'scopes' must not be empty: use {}", allowed()))?
        }
        Some(_) => return Err("'scopes' must be an array, e.g. [\"read\"]".into()),
    };
    let expires_at = match o.get("expires_at") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let at = shared::instant::from_json(v).ok_or(
                "'expires_at' must be an RFC 3339 instant or Unix seconds, e.g. \"2027-01-01T00:00:00Z\"",
            )?;
            if at <= Utc::now() {
                return Err("'expires_at' must be in the future".into());
            }
            Some(at)
        }
    };
    match o.get("member_id") {
        None | Some(Value::Null) => {}
        Some(_) => {
            return Err(
                "'member_id' is not supported yet: keys act for the account until members exist"
                    .into(),
            )
        }
    }
    Ok(KeySpec {
        name,
        scopes,
        expires_at,
    })
}
