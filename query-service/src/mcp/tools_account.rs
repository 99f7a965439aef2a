//! The account tools: scoring rules and scores, webhooks, API keys and statistics (16 of the
//! 33).

use super::args::*;
use super::bridge::{as_is, data, enc, list_of, seg};
use super::Gateway;
use axum::http::Method;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, ErrorData as McpError, RoleServer};

type Outcome = Result<CallToolResult, McpError>;

#[tool_router(router = account_tools, vis = "pub(super)")]
impl Gateway {
    #[tool(
        description = "List scoring rules",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_scoring_rules(
        &self,
        _a: Parameters<NoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::GET,
            "/scoring-rules".into(),
            None,
            list_of("rules"),
        )
        .await
    }

    #[tool(
        description = "Create a scoring rule from an expression",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_scoring_rule(
        &self,
        Parameters(a): Parameters<RuleFields>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a).unwrap_or_default();
        self.run(
            &ctx,
            Method::POST,
            "/scoring-rules".into(),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "Get a scoring rule by id",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_scoring_rule(
        &self,
        Parameters(a): Parameters<ItemId>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::GET,
            format!("/scoring-rules/{}", seg(&a.id)),
            None,
            data,
        )
        .await
    }

    #[tool(
        description = "Update a scoring rule's name, expression, weight or priority",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_scoring_rule(
        &self,
        Parameters(a): Parameters<UpdateRule>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a.fields).unwrap_or_default();
        self.run(
            &ctx,
            Method::PUT,
            format!("/scoring-rules/{}", seg(&a.id)),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "Delete a scoring rule; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_scoring_rule(
        &self,
        Parameters(a): Parameters<DeleteById>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.delete(
            &ctx,
            a.confirm,
            format!("/scoring-rules/{}", seg(&a.id)),
            a.id.clone(),
        )
        .await
    }

    #[tool(
        description = "Recalculate and store one lead's score",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_lead_score(
        &self,
        Parameters(a): Parameters<LeadId>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::POST,
            format!("/leads/{}/score", seg(&a.id)),
            None,
            data,
        )
        .await
    }

    #[tool(
        description = "Recalculate and store the scores of all leads",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_all_scores(
        &self,
        _a: Parameters<NoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(&ctx, Method::POST, "/leads/score/batch".into(), None, data)
            .await
    }

    #[tool(
        description = "List webhook subscriptions",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_webhooks(
        &self,
        _a: Parameters<NoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::GET,
            "/webhooks".into(),
            None,
            list_of("webhooks"),
        )
        .await
    }

    #[tool(
        description = "Create a webhook subscription (its secret is shown once)",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    async fn create_webhook(
        &self,
        Parameters(a): Parameters<CreateWebhook>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a).unwrap_or_default();
        self.run(&ctx, Method::POST, "/webhooks".into(), Some(body), data)
            .await
    }

    #[tool(
        description = "Delete a webhook subscription; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_webhook(
        &self,
        Parameters(a): Parameters<DeleteById>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.delete(
            &ctx,
            a.confirm,
            format!("/webhooks/{}", seg(&a.id)),
            a.id.clone(),
        )
        .await
    }

    #[tool(
        description = "List the account's API keys",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_api_keys(
        &self,
        Parameters(a): Parameters<ListApiKeys>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let query = a
            .status
            .map(|s| format!("?status={}", enc(&s)))
            .unwrap_or_default();
        self.run(&ctx, Method::GET, format!("/api-keys{query}"), None, as_is)
            .await
    }

    #[tool(
        description = "Create a named API key (the key is shown once)",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_api_key(
        &self,
        Parameters(a): Parameters<CreateApiKey>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a).unwrap_or_default();
        self.run(&ctx, Method::POST, "/api-keys".into(), Some(body), as_is)
            .await
    }

    #[tool(
        description = "Revoke an API key; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_api_key(
        &self,
        Parameters(a): Parameters<DeleteById>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.delete(
            &ctx,
            a.confirm,
            format!("/api-keys/{}", seg(&a.id)),
            a.id.clone(),
        )
        .await
    }

    #[tool(
        description = "Get account statistics",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_stats(&self, _a: Parameters<NoArgs>, ctx: RequestContext<RoleServer>) -> Outcome {
        self.run(&ctx, Method::GET, "/stats".into(), None, as_is)
            .await
    }

    #[tool(
        description = "List lead categories, most frequent first",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_categories(
        &self,
        Parameters(a): Parameters<Ranked>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let query = a.limit.map(|n| format!("?limit={n}")).unwrap_or_default();
        self.run(
            &ctx,
            Method::GET,
            format!("/stats/categories{query}"),
            None,
            as_is,
        )
        .await
    }

    #[tool(
        description = "List lead cities, most frequent first",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_cities(
        &self,
        Parameters(a): Parameters<Ranked>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let query = a.limit.map(|n| format!("?limit={n}")).unwrap_or_default();
        self.run(
            &ctx,
            Method::GET,
            format!("/stats/cities{query}"),
            None,
            as_is,
        )
        .await
    }
}
