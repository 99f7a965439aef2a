//! One attempt: the signed POST, bounded by the timeout, redirects not followed, the first
//! KiB of the answer kept.

use super::super::guard::literal_refusal;
use super::super::sign::sign;
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use shared::webhooks::NetworkPolicy;
use std::time::{Duration, Instant};

const RESPONSE_KEPT: usize = 1024;
pub const AGENT: &str = concat!("Leadstream-Webhooks/", env!("CARGO_PKG_VERSION"));

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status_code: Option<u16>,
    pub duration_ms: i32,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// `Retry-After` of a 429 or 503, when given.
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status_code.is_some_and(|c| (200..300).contains(&c))
    }

    pub fn gone(&self) -> bool {
        self.status_code == Some(410)
    }
}

/// An error and its sources, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !line.contains(&s_text) {
            line.push_str(": ");
            line.push_str(&s_text);
        }
        source = s.source();
    }
    line
}

fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let raw = value?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now()).to_std().ok()?;
    Some(wait)
}

#[allow(clippy::too_many_arguments)]
pub async fn attempt(
    client: &reqwest::Client,
    policy: &NetworkPolicy,
    url: &str,
    message_id: &str,
    body: &str,
    secrets: &[String],
    timeout: Duration,
) -> Outcome {
    let started = Instant::now();
    let failed = |error: String, started: Instant| Outcome {
        status_code: None,
        duration_ms: started.elapsed().as_millis() as i32,
        response_body: None,
        error: Some(error),
        retry_after: None,
    };
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return failed(format!("invalid url: {e}"), started),
    };
    if let Some(why) = literal_refusal(&parsed, policy) {
        return failed(format!("refused: {why}"), started);
    }
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(secrets, message_id, timestamp, body.as_bytes());
    let mut req = client
        .post(parsed)
        .timeout(timeout)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, AGENT)
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature.standard);
    if let Some(klozeo) = signature.klozeo {
        req = req.header("X-Klozeo-Signature", klozeo);
    }
    let mut resp = match req.body(body.to_owned()).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return failed(
                format!("timed out after {} ms", timeout.as_millis()),
                started,
            )
        }
        Err(e) => return failed(chain(&e), started),
    };
    let status = resp.status().as_u16();
    let wait = matches!(status, 429 | 503)
        .then(|| retry_after(resp.headers().get(RETRY_AFTER)))
        .flatten();
    let mut kept: Vec<u8> = Vec::new();
    let mut error = None;
    while kept.len() < RESPONSE_KEPT {
        match resp.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                error = Some(format!(
                    "timed out after {} ms reading the answer",
                    timeout.as_millis()
                ));
                break;
            }
            Err(e) => {
                error = Some(chain(&e));
                break;
            }
        }
    }
    kept.truncate(RESPONSE_KEPT);
    // Postgres text holds no NUL.
    let text = String::from_utf8_lossy(&kept).replace('\0', "\u{fffd}");
    let success = (200..300).contains(&status) && error.is_none();
    if error.is_none() && !(200..300).contains(&status) {
        error = Some(format!("answered HTTP {status}"));
    }
    Outcome {
        status_code: Some(status),
        duration_ms: started.elapsed().as_millis() as i32,
        response_body: Some(text),
        error: if success { None } else { error },
        retry_after: wait,
    }
}
