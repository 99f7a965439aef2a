//! Webhook request bodies, checked field by field before anything is written: the URL (scheme,
//! host, length, and the SSRF guard on its literal or resolved addresses), `events` patterns,
//! the secret and the description.

use serde_json::Value;
use shared::webhooks::{validate_patterns, NetworkPolicy};
use std::net::IpAddr;
use std::time::Duration;
use url::{Host, Url};

const MAX_URL_BYTES: usize = 2048;
const MAX_SECRET_BYTES: usize = 256;
const MAX_DESCRIPTION_CHARS: usize = 1000;
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq)]
pub struct CreateInput {
    pub url: String,
    pub events: Vec<String>,
    pub secret: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    /// `Some("")`: clear it.
    pub description: Option<String>,
}

fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, String> {
    body.as_object().ok_or_else(|| {
        "the body must be a JSON object, e.g. {\"url\": \"https://example.com/hook\"}".into()
    })
}

fn text(value: &Value, field: &str) -> Result<String, String> {
    let s = value
        .as_str()
        .ok_or_else(|| format!("'{field}' must be a string"))?;
    if s.contains('\0') {
        return Err(format!("'{field}' must not contain NUL characters"));
    }
    Ok(s.to_owned())
}

fn events(value: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let names = items
                .iter()
                .map(|v| text(v, "events[]"))
                .collect::<Result<Vec<_>, _>>()?;
            validate_patterns(&names).map(Some)
        }
        Some(_) => Err("'events' must be an array of event names, e.g. [\"lead.created\"]".into()),
    }
}

fn description(value: Option<&Value>) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(String::new())),
        Some(v) => {
            let s = text(v, "description")?;
            if s.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(format!(
                    "'description' is longer than {MAX_DESCRIPTION_CHARS} characters"
                ));
            }
            Ok(Some(s.trim().to_owned()))
        }
    }
}

/// A secret given by the client: any 1–256 printable characters; a `whsec_` one must carry
/// base64 (its decoded bytes are the Standard Webhooks key).
fn secret(value: Option<&Value>) -> Result<Option<String>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let s = text(value, "secret")?;
    if s.is_empty() || s.len() > MAX_SECRET_BYTES || s.chars().any(char::is_control) {
        return Err(format!(
            "'secret' must be 1 to {MAX_SECRET_BYTES} bytes of printable characters \
             (or leave it out and one is generated)"
        ));
    }
    if let Some(b64) = s.strip_prefix("whsec_") {
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| "'secret' starts with 'whsec_' but the rest is not base64".to_owned())?;
        if key.is_empty() {
            return Err("'secret' starts with 'whsec_' but carries no key bytes".into());
        }
    }
    Ok(Some(s))
}

pub fn parse_create(body: &Value) -> Result<CreateInput, String> {
    let o = object(body)?;
    let url = match o.get("url") {
        None | Some(Value::Null) => {
            return Err("'url' is required, e.g. {\"url\": \"https://example.com/hook\"}".into())
        }
        Some(v) => text(v, "url")?,
    };
    Ok(CreateInput {
        url: check_url_shape(&url)?,
        events: events(o.get("events"))?.unwrap_or_default(),
        secret: secret(o.get("secret"))?,
        description: description(o.get("description"))?.filter(|d| !d.is_empty()),
    })
}

pub fn parse_patch(body: &Value) -> Result<PatchInput, String> {
    let o = object(body)?;
    let url = match o.get("url") {
        None => None,
        Some(v) => Some(check_url_shape(&text(v, "url")?)?),
    };
    let active = match o.get("active") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err("'active' must be true or false".into()),
    };
    Ok(PatchInput {
        url,
        events: events(o.get("events"))?,
        active,
        description: description(o.get("description"))?,
    })
}

/// The URL's form: absolute `http`/`https` with a host, at most 2,048 bytes, no fragment.
fn check_url_shape(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_BYTES {
        return Err(format!("'url' is longer than {MAX_URL_BYTES} bytes"));
    }
    let url = Url::parse(raw).map_err(|e| {
        format!("'url' is not an absolute URL ({e}), e.g. https://example.com/hook")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "'url' must use http or https, not '{}'",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("'url' must name a host".into());
    }
    Ok(url.to_string())
}

/// The SSRF guard at `POST`/`PATCH`: a literal address, or any address the host resolves to
/// now, that the policy refuses is a 400 saying why. (A host that does not resolve yet is
/// accepted; the dispatcher checks again at every connection.)
pub async fn check_reachable(url: &str, policy: &NetworkPolicy) -> Result<(), String> {
    let url = Url::parse(url).map_err(|e| format!("'url' is not an absolute URL ({e})"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(host)) => {
            let lookup = tokio::net::lookup_host((host.to_owned(), port));
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                _ => Vec::new(),
            }
        }
        None => return Err("'url' must name a host".into()),
    };
    for ip in addrs {
        if let Some(why) = policy.refusal(ip) {
            return Err(format!("'url' is refused: {why}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_bodies_are_checked_field_by_field() {
        let ok = parse_create(&json!({"url": "https://example.com/h", "events": ["lead.*"]}));
        assert_eq!(ok.unwrap().events, vec!["lead.*".to_owned()]);
        for (body, needle) in [
            (json!([]), "JSON object"),
            (json!({}), "'url' is required"),
            (json!({"url": 5}), "'url' must be a string"),
            (json!({"url": "ftp://example.com"}), "http or https"),
            (json!({"url": "example.com/h"}), "absolute URL"),
            (json!({"url": "https://e.com/\u{0}"}), "NUL"),
            (
                json!({"url": format!("https://e.com/{}", "a".repeat(2048))}),
                "2048 bytes",
            ),
            (
                json!({"url": "https://e.com", "events": "lead.created"}),
                "array",
            ),
            (json!({"url": "https://e.com", "events": [1]}), "events[]"),
            (
                json!({"url": "https://e.com", "events": ["lead.nope"]}),
                "valid names",
            ),
            (json!({"url": "https://e.com", "secret": ""}), "'secret'"),
            (json!({"url": "https://e.com", "secret": 7}), "'secret'"),
            (
                json!({"url": "https://e.com", "secret": "whsec_!!"}),
                "base64",
            ),
            (
                json!({"url": "https://e.com", "secret": "x".repeat(257)}),
                "'secret'",
            ),
            (
                json!({"url": "https://e.com", "description": "é".repeat(1001)}),
                "description",
            ),
        ] {
            let err = parse_create(&body).unwrap_err();
            assert!(err.contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn patches_take_only_what_they_name() {
        assert_eq!(parse_patch(&json!({})).unwrap(), PatchInput::default());
        let p = parse_patch(&json!({"active": true, "description": null})).unwrap();
        assert_eq!(p.active, Some(true));
        assert_eq!(p.description.as_deref(), Some(""));
        assert!(parse_patch(&json!({"active": "yes"})).is_err());
        assert!(parse_patch(&json!({"url": null})).is_err());
    }

    #[tokio::test]
    async fn forbidden_literal_and_resolved_addresses_are_refused() {
        let none = NetworkPolicy::default();
        for url in [
            "http://127.0.0.1:9/h",
            "http://[::1]/h",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/h",
            "http://[::ffff:127.0.0.1]/h",
            "http://localhost:9/h",
        ] {
            let err = check_reachable(url, &none).await.unwrap_err();
            assert!(err.contains("refused"), "{url}: {err}");
        }
        let local: NetworkPolicy = "127.0.0.0/8,::1/128".parse().unwrap();
        assert!(check_reachable("http://localhost:9/h", &local)
            .await
            .is_ok());
        assert!(check_reachable("http://93.184.216.34/h", &none)
            .await
            .is_ok());
    }
}
