//! Accounts: registration and login (argon2id passwords, hashed at most N at once), API keys
//! (issue, create, revoke), and the login/registration attempt limits.

pub mod key_input;
pub mod keys;
pub mod limits;
mod password;
mod register;

pub use password::{hash_password, verify_password, Hashing};
pub use register::{issue_key_for_login, register, AccountError, IssuedKey};
