//! Signing secrets generated for endpoints created or rotated without one:
//! `whsec_<base64 of 24 random bytes>`, as Svix and the Standard Webhooks spec make them.

use base64::Engine;
use rand::RngCore;

pub fn generate() -> String {
    let mut key = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_secrets_carry_24_fresh_bytes() {
        use base64::Engine;
        let (a, b) = (super::generate(), super::generate());
        assert_ne!(a, b);
        let key = base64::engine::general_purpose::STANDARD
            .decode(a.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(key.len(), 24);
    }
}
