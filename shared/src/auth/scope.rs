//! API key scopes (SPEC-CRM §2.8): `read` (GET), `write` (data mutations), `admin` (API keys,
//! webhooks — members, pipelines and stages with the CRM). Keys from `/register` and `/login`
//! hold all three. The scope a REST request needs follows from its method and path alone, so
//! every route is covered by the `Auth` extractor without a list to keep in step.

use axum::http::Method;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    /// In their canonical order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The scope a request needs: `admin` under `/api-keys` and `/webhooks` (but
    /// `GET /api-keys/current`, which any key may read), else `read` for GET/HEAD and `write`
    /// for the rest. `path` with or without the `/api/v1` prefix.
    pub fn required(method: &Method, path: &str) -> Scope {
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        let reading = method == Method::GET || method == Method::HEAD;
        if reading && path == "/api-keys/current" {
            return Scope::Read;
        }
        let admin_area = ["/api-keys", "/webhooks"]
            .iter()
            .any(|area| path == *area || path.starts_with(&format!("{area}/")));
        match (admin_area, reading) {
            (true, _) => Scope::Admin,
            (false, true) => Scope::Read,
            (false, false) => Scope::Write,
        }
    }
}

/// A key's scopes: a non-empty, de-duplicated set, listed in the canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    pub const FULL: Scopes = Scopes(0b111);

    fn bit(s: Scope) -> u8 {
        1 << (s as u8)
    }

    pub fn contains(self, s: Scope) -> bool {
        self.0 & Self::bit(s) != 0
    }

    /// The set of `raw` names; `Err` names the first unknown one. Empty → `Ok(None)`.
    pub fn parse<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Option<Scopes>, String> {
        let mut bits = 0;
        for name in raw {
            let s = Scope::parse(name).ok_or_else(|| name.to_owned())?;
            bits |= Self::bit(s);
        }
        Ok((bits != 0).then_some(Scopes(bits)))
    }

    /// From stored names, ignoring unknown ones (none are ever stored).
    pub fn from_stored(names: &[String]) -> Scopes {
        Scopes(
            names
                .iter()
                .filter_map(|n| Scope::parse(n))
                .fold(0, |bits, s| bits | Self::bit(s)),
        )
    }

    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_scopes_follow_method_and_path() {
        let cases = [
            (Method::GET, "/api/v1/leads", Scope::Read),
            (Method::HEAD, "/api/v1/leads/cl_x", Scope::Read),
            (Method::POST, "/api/v1/leads", Scope::Write),
            (Method::DELETE, "/api/v1/leads/cl_x", Scope::Write),
            (Method::GET, "/api/v1/webhooks", Scope::Admin),
            (Method::GET, "/api/v1/webhooks/x/deliveries", Scope::Admin),
            (Method::POST, "/api/v1/api-keys", Scope::Admin),
            (Method::GET, "/api/v1/api-keys", Scope::Admin),
            (Method::GET, "/api/v1/api-keys/current", Scope::Read),
            (Method::DELETE, "/api/v1/api-keys/current", Scope::Admin),
            (Method::GET, "/api/v1/webhooksx", Scope::Read),
            (Method::GET, "/api/v1/stats", Scope::Read),
        ];
        for (method, path, want) in cases {
            assert_eq!(Scope::required(&method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn scopes_parse_deduplicate_and_list_in_order() {
        let s = Scopes::parse(["admin", "read", "admin"]).unwrap().unwrap();
        assert_eq!(s.names(), ["read", "admin"]);
        assert!(!s.contains(Scope::Write));
        assert_eq!(Scopes::parse(["read", "owner"]), Err("owner".into()));
        assert_eq!(Scopes::parse([]), Ok(None));
        assert_eq!(Scopes::FULL.names(), ["read", "write", "admin"]);
    }
}
