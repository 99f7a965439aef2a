//! The MCP gateway (SPEC §9, issue 14): the 33 tools of the docs over streamable HTTP at
//! `/mcp` (and `/api/v1/mcp`) on the public port. Stateless — any replica answers any request —
//! and answering both the handshake-era revisions (`initialize`, `tools/list`, `tools/call`)
//! and the stateless one. Requests carry an API key like REST (`Authorization: Bearer` or
//! `X-API-Key`); without a valid one the answer is 401 with `WWW-Authenticate` naming the
//! protected-resource document (RFC 9728), served at `/.well-known/oauth-protected-resource`.
//! Each tool call runs as the REST request it stands for (`bridge`).

mod args;
mod bridge;
mod export;
mod tools_account;
mod tools_leads;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
pub use bridge::error_code;
use bridge::{Answer, Caller, TooLarge};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool_handler, ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Value};
use shared::auth::KeyResolver;
use shared::http::api_key_from_headers;
use std::sync::Arc;

/// The tools, in the order `tools/list` gives them (the docs' table).
pub const TOOLS: [&str; 33] = [
    "list_leads",
    "get_lead",
    "create_lead",
    "update_lead",
    "delete_lead",
    "create_lead_tag",
    "batch_create_leads",
    "batch_update_leads",
    "batch_delete_leads",
    "create_note",
    "list_notes",
    "update_note",
    "delete_note",
    "list_attributes",
    "create_attribute",
    "update_attribute",
    "delete_attribute",
    "list_scoring_rules",
    "create_scoring_rule",
    "get_scoring_rule",
    "update_scoring_rule",
    "delete_scoring_rule",
    "update_lead_score",
    "update_all_scores",
    "list_webhooks",
    "create_webhook",
    "delete_webhook",
    "list_api_keys",
    "create_api_key",
    "delete_api_key",
    "get_stats",
    "list_categories",
    "list_cities",
];

/// The largest answer an ordinary tool call reads (a page of 1,000 leads fits many times).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The gateway: the edge's routes to run calls on, and the tools.
#[derive(Clone)]
pub struct Gateway {
    api: Router,
    /// Shared: the service is cloned for every request.
    tool_router: Arc<ToolRouter<Gateway>>,
}

impl Gateway {
    fn new(api: Router) -> Self {
        Self {
            api,
            tool_router: Arc::new(Self::lead_tools() + Self::account_tools()),
        }
    }

    /// Runs `method path` as the caller and answers the route's answer (at most `max` bytes).
    async fn call_limited(
        &self,
        ctx: &RequestContext<RoleServer>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        max: usize,
    ) -> Result<Result<Answer, TooLarge>, McpError> {
        let caller = caller(ctx)?;
        Ok(bridge::send(&self.api, &caller, method, path, body, max).await)
    }

    async fn call(
        &self,
        ctx: &RequestContext<RoleServer>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, McpError> {
        self.call_limited(ctx, method, path, body, MAX_ANSWER_BYTES)
            .await?
            .map_err(|TooLarge| McpError::internal_error("the answer is too large", None))
    }

    /// A delete tool: nothing without `confirm: true`; answers `{"data": {"id", "deleted"}}`.
    async fn delete(
        &self,
        ctx: &RequestContext<RoleServer>,
        confirm: Option<bool>,
        path: String,
        id: String,
    ) -> Result<CallToolResult, McpError> {
        if confirm != Some(true) {
            return Ok(bridge::confirmation_required());
        }
        self.run(
            ctx,
            Method::DELETE,
            path,
            None,
            move |_| json!({"data": {"id": id, "deleted": true}}),
        )
        .await
    }

    /// Runs the call and shapes its answer into the tool's result.
    async fn run(
        &self,
        ctx: &RequestContext<RoleServer>,
        method: Method,
        path: String,
        body: Option<Value>,
        shape: impl FnOnce(Value) -> Value,
    ) -> Result<CallToolResult, McpError> {
        let answer = self.call(ctx, method, &path, body.as_ref()).await?;
        Ok(bridge::result(answer, shape))
    }
}

/// The caller the auth layer let in, and the client it came with: the request's `_meta`
/// client info when it sends one (the stateless revision does, on every request), else
/// what the auth layer found (the `User-Agent`).
fn caller(ctx: &RequestContext<RoleServer>) -> Result<Caller, McpError> {
    let parts = ctx.extensions.get::<axum::http::request::Parts>();
    let mut caller = parts
        .and_then(|p| p.extensions.get::<Caller>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("the request was not authenticated", None))?;
    if let Some(client) = ctx.meta.client_info() {
        caller.via = via(&client.name, &client.version);
    }
    Ok(caller)
}

/// How a command came through the gateway: `mcp <client>/<version>` (printable, bounded).
fn via(name: &str, version: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect::<String>()
    };
    format!("mcp {}/{}", clean(name), clean(version))
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Gateway {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("leadstream", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Leadstream: a lead database. Tools list, create, update and delete leads, \
                 notes, attributes, scoring rules, webhooks and API keys. Deletes need \
                 confirm: true. Errors carry a stable code.",
            )
    }

    /// The tool, and arguments that do not fit its schema answered in the tools' error shape
    /// (`VALIDATION_ERROR`) rather than as rmcp's bare text.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let response = self
            .tool_router
            .call(ToolCallContext::new(self, request, context))
            .await?;
        Ok(match response {
            CallToolResponse::Complete(r)
                if r.is_error == Some(true) && r.structured_content.is_none() =>
            {
                let why = r
                    .content
                    .iter()
                    .find_map(|c| c.as_text().map(|t| t.text.clone()))
                    .unwrap_or_default();
                let why = why
                    .trim_start_matches("failed to deserialize parameters:")
                    .trim();
                bridge::error(
                    "VALIDATION_ERROR",
                    format!("the arguments do not fit the tool's input schema: {why}"),
                    400,
                )
                .into()
            }
            other => other,
        })
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(
            TOOLS
                .iter()
                .filter_map(|name| self.tool_router.get(name).cloned())
                .collect(),
        ))
    }
}

/// The gateway's routes: `/mcp` and `/api/v1/mcp` behind the key check, and the
/// protected-resource document. `api` is the edge's routes the tools run on.
pub fn routes(api: Router, keys: KeyResolver, allowed_hosts: Vec<String>) -> Router {
    let gateway = Gateway::new(api);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_origins(allowed_origins(&allowed_hosts))
        .with_allowed_hosts(allowed_hosts);
    let service = StreamableHttpService::new(
        move || Ok(gateway.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let guarded = Router::new()
        .nest_service("/mcp", service.clone())
        .nest_service("/api/v1/mcp", service)
        .layer(axum::middleware::from_fn_with_state(keys, authenticate));
    Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(protected_resource),
        )
        .merge(guarded)
}

/// The `Origin`s a browser-based client may send: pages served from an allowed host, over
/// http or https, any port (a request without `Origin` — not from a browser — passes).
fn allowed_origins(hosts: &[String]) -> Vec<String> {
    hosts
        .iter()
        .flat_map(|host| {
            let (name, port) = match host.parse::<std::net::Ipv6Addr>() {
                Ok(_) => (format!("[{host}]"), "*".to_owned()),
                Err(_) => match host.rsplit_once(':') {
                    Some((name, port)) => (name.to_owned(), port.to_owned()),
                    None => (host.clone(), "*".to_owned()),
                },
            };
            ["http", "https"].map(|scheme| format!("{scheme}://{name}:{port}"))
        })
        .collect()
}

/// The base URL clients reach: the request's `Host` (behind a proxy, the `X-Forwarded-*`
/// headers it sets).
fn base_url(headers: &HeaderMap) -> String {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let proto = get("x-forwarded-proto").unwrap_or("http");
    let host = get("x-forwarded-host")
        .or_else(|| get(header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// RFC 9728: the resource, and no authorization server — the bearer token is an API key.
async fn protected_resource(headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    Json(json!({
        "resource": format!("{base}/mcp"),
        "authorization_servers": [],
        "bearer_methods_supported": ["header"],
        "resource_name": "Leadstream MCP",
        "resource_documentation": "Send an API key as 'Authorization: Bearer sk_live_...' \
            (POST /api/v1/register or /api/v1/login issues one); OAuth is not used.",
    }))
}

/// Lets a request with a valid key in, with its [`Caller`]; else 401 naming the
/// protected-resource document.
async fn authenticate(State(keys): State<KeyResolver>, mut req: Request, next: Next) -> Response {
    let key = api_key_from_headers(req.headers()).map(str::to_owned);
    let known = match &key {
        Some(k) => match keys.resolve(k).await {
            Ok(found) => found.is_some(),
            Err(e) => return shared::ApiError::from(e).into_response(),
        },
        None => false,
    };
    let Some(key) = key.filter(|_| known) else {
        let metadata = format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
            base_url(req.headers())
        );
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "error": "unauthorized",
                "code": "unauthorized",
                "message": "an API key is required: send 'Authorization: Bearer sk_live_...' \
                    (or 'X-API-Key'); POST /api/v1/login issues one",
            })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&metadata) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        return response;
    };
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown client");
    let via = format!("mcp {}", agent.chars().take(120).collect::<String>());
    req.extensions_mut().insert(Caller { key, via });
    next.run(req).await
}
