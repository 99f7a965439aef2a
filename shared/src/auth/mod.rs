//! Accounts and API keys: registration and login (argon2id passwords), key issue (only the
//! SHA-256 of a key is stored), and resolving a presented key to its account through a cache.

mod accounts;
mod keys;
pub mod limits;
mod password;
mod resolver;

pub use accounts::{issue_key_for_login, register, AccountError, IssuedKey};
pub use keys::{generate_api_key, hash_api_key, looks_like_api_key, API_KEY_PREFIX};
pub use password::{hash_password, verify_password, Hashing};
pub use resolver::{AuthContext, KeyResolver};
