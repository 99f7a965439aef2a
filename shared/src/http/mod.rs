//! Adapters every service's routes use: the JSON body and API-key extractors, request ids,
//! path normalization and the error-shaped fallbacks. No server runs here.

mod auth;
mod body;
mod health;
mod paths;
mod request_id;

pub use auth::{api_key_from_headers, Auth};
pub use body::{nul_path, JsonBody, MAX_BODY_BYTES};
pub use health::health;
pub use paths::{collapse_slashes, fallback_not_found, method_not_allowed};
pub use request_id::{RequestId, REQUEST_ID_HEADER};
