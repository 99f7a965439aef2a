//! API keys, as every service sees them: their format, their hash (only the SHA-256 of a key
//! is stored), their scopes and resolving a presented key to its account through a cache.
//! Registration, login and key management are command-service's.

mod keys;
pub mod records;
mod resolver;
mod scope;

pub use keys::{generate_api_key, hash_api_key, looks_like_api_key, API_KEY_PREFIX};
pub use resolver::{AuthContext, KeyResolver, KEYS_CHANNEL};
pub use scope::{Scope, Scopes};
