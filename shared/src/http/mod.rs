//! Adapters every service's routes use: the JSON body and API-key extractors, request ids,
//! client addresses, path normalization, the error-shaped fallbacks, and the server loop.

mod auth;
mod body;
mod client_addr;
mod health;
mod paths;
mod request_id;
mod serve;
mod transport_errors;

pub use auth::{api_key_from_headers, forbidden, Auth};
pub use body::{nul_path, JsonBody, MAX_BODY_BYTES};
pub use client_addr::{client_ip, TrustedProxies, FORWARDED_FOR};
pub use health::health;
pub use paths::{collapse_slashes, fallback_not_found, method_not_allowed, refuse_dot_segments};
pub use request_id::{accept_request_id, RequestId, REQUEST_ID_HEADER};
pub use serve::{is_body_timeout, serve, BodyTimeout, HttpLimits};

/// Set by the MCP gateway on the requests it makes for a tool call (`mcp <client>/<version>`),
/// recorded as the events' `via`; the edge drops it from every request that arrives from
/// outside.
pub const VIA_HEADER: &str = "x-leadstream-via";
