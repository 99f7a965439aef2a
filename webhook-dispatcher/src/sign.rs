//! Signing a message for one attempt: `X-Klozeo-Signature` (hex HMAC-SHA256 of the raw body
//! keyed by the secret's bytes, SPEC §7) and the Standard Webhooks headers — `webhook-id`,
//! `webhook-timestamp` and `webhook-signature`, one `v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">` per live secret (two during a rotation), keyed by the decoded
//! part of a `whsec_` secret and by the raw bytes of any other.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// The Standard Webhooks key of a secret.
pub fn key_bytes(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The headers of one attempt. `secrets` newest first; the newest signs `X-Klozeo-Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub klozeo: Option<String>,
    pub standard: String,
}

pub fn sign(secrets: &[String], id: &str, timestamp: i64, body: &[u8]) -> Signature {
    let klozeo = secrets.first().map(|s| {
        let mut m = mac(s.as_bytes());
        m.update(body);
        hex::encode(m.finalize().into_bytes())
    });
    let standard = secrets
        .iter()
        .map(|s| {
            let mut m = mac(&key_bytes(s));
            m.update(id.as_bytes());
            m.update(b".");
            m.update(timestamp.to_string().as_bytes());
            m.update(b".");
            m.update(body);
            format!("v1,{}", STANDARD.encode(m.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ");
    Signature { klozeo, standard }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_reference_vector_signs_alike() {
        // The test vector of the Standard Webhooks reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(&[secret], id, 1614265330, body);
        assert_eq!(
            sig.standard,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn two_secrets_give_two_signatures_and_the_newest_signs_the_klozeo_header() {
        let sig = sign(&["new".into(), "old".into()], "id", 1, b"{}");
        assert_eq!(sig.standard.split(' ').count(), 2);
        let mut m = mac(b"new");
        m.update(b"{}");
        assert_eq!(sig.klozeo.unwrap(), hex::encode(m.finalize().into_bytes()));
    }
}
