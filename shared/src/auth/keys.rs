//! API keys: `sk_live_<32 hex>`, random from the OS, stored as SHA-256 only.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub const API_KEY_PREFIX: &str = "sk_live_";

/// A new raw key. It is shown to its owner once and never stored.
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!("{API_KEY_PREFIX}{}", hex::encode(bytes))
}

pub fn hash_api_key(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}

/// Cheap shape check before any lookup: prefix plus 32 lowercase hex digits.
pub fn looks_like_api_key(raw: &str) -> bool {
    raw.strip_prefix(API_KEY_PREFIX).is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape_and_differ() {
        let a = generate_api_key();
        assert!(looks_like_api_key(&a), "{a}");
        assert_ne!(a, generate_api_key());
    }

    #[test]
    fn malformed_keys_are_recognised() {
        for bad in [
            "",
            "sk_live_",
            "sk_test_0123456789abcdef0123456789abcdef",
            "sk_live_XYZ",
        ] {
            assert!(!looks_like_api_key(bad), "{bad}");
        }
    }
}
