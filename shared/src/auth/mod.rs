//! API keys, as every service sees them: their format, their hash (only the SHA-256 of a key
//! is stored) and resolving a presented key to its account through a cache. Registration and
//! login are command-service's (`command_service::accounts`).

mod keys;
mod resolver;

pub use keys::{generate_api_key, hash_api_key, looks_like_api_key, API_KEY_PREFIX};
pub use resolver::{AuthContext, KeyResolver};
