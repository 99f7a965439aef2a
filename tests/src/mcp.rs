//! An MCP client for the tests: the `rmcp` client over real HTTP to the edge's `/mcp`, in
//! either protocol era, with helpers that assert a tool result's shape.

use crate::TestApp;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    ProtocolVersion, Tool,
};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::Value;

/// Which protocol revision the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize` at 2025-06-18, then plain requests.
    Handshake,
    /// The stateless revision: `server/discover`, client info in every request's `_meta`.
    Stateless,
}

pub struct Mcp {
    client: RunningService<RoleClient, ClientConfig>,
}

impl Mcp {
    /// Connects to `app`'s `/mcp` with `key` (as `Authorization: Bearer`), naming itself
    /// `client`/`version`.
    pub async fn connect(app: &TestApp, key: &str, era: Era, client: &str) -> anyhow::Result<Mcp> {
        Self::connect_to(app.edge, key, era, client).await
    }

    /// As [`Mcp::connect`], to an edge at `edge`.
    pub async fn connect_to(
        edge: std::net::SocketAddr,
        key: &str,
        era: Era,
        client: &str,
    ) -> anyhow::Result<Mcp> {
        let url = format!("http://{edge}/mcp");
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url).auth_header(key.to_owned()),
        );
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new(client, "1.2.3"),
        );
        let client = match era {
            Era::Handshake => {
                info.with_protocol_version(ProtocolVersion::V_2025_06_18)
                    .serve(transport)
                    .await?
            }
            Era::Stateless => {
                info.serve_with_lifecycle(
                    transport,
                    ClientLifecycleMode::Discover {
                        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                    },
                )
                .await?
            }
        };
        Ok(Mcp { client })
    }

    /// The protocol revision agreed.
    pub fn protocol(&self) -> String {
        self.client
            .peer_info()
            .map(|p| p.protocol_version.to_string())
            .unwrap_or_default()
    }

    pub async fn tools(&self) -> Vec<Tool> {
        self.client.list_all_tools().await.unwrap()
    }

    /// Calls `name` with `args` (an object).
    pub async fn call(&self, name: &str, args: Value) -> CallToolResult {
        let args = args.as_object().cloned().unwrap_or_default();
        self.client
            .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Calls `name` and answers its structured `data`, asserting success.
    pub async fn ok(&self, name: &str, args: Value) -> Value {
        let out = self.call(name, args.clone()).await;
        let failed = out.is_error == Some(true);
        let structured = out.structured_content.unwrap_or_default();
        assert!(!failed, "{name} {args}: {structured}");
        structured
    }

    /// Calls `name` and answers its error (`code`, `status`, `message`), asserting failure.
    pub async fn err(&self, name: &str, args: Value) -> (String, u64, String) {
        let out = self.call(name, args.clone()).await;
        let structured = out.structured_content.clone().unwrap_or_default();
        assert_eq!(out.is_error, Some(true), "{name} {args}: {structured}");
        let e = &structured["error"];
        (
            e["code"].as_str().unwrap_or_default().to_owned(),
            e["status"].as_u64().unwrap_or_default(),
            e["message"].as_str().unwrap_or_default().to_owned(),
        )
    }

    pub async fn close(self) {
        let _ = self.client.cancel().await;
    }
}
