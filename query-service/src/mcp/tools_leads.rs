//! The lead tools: leads, batches, notes and attributes (17 of the 33).

use super::args::*;
use super::bridge::{confirmation_required, data, list_of, seg};
use super::export::list_leads;
use super::Gateway;
use axum::http::Method;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, ErrorData as McpError, RoleServer};
use serde_json::{json, Value};

type Outcome = Result<CallToolResult, McpError>;

/// A lead's tags with `tag` added (unchanged when it is there).
fn with_tag(lead: &Value, tag: &str) -> Option<Vec<Value>> {
    let mut tags = lead["tags"].as_array().cloned().unwrap_or_default();
    if tags.iter().any(|t| t.as_str() == Some(tag)) {
        return None;
    }
    tags.push(json!(tag));
    Some(tags)
}

#[tool_router(router = lead_tools, vis = "pub(super)")]
impl Gateway {
    #[tool(
        description = "List leads with filters, sort and pages; format csv/json/xlsx exports all",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_leads(
        &self,
        Parameters(a): Parameters<ListLeads>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        list_leads(self, &ctx, a).await
    }

    #[tool(
        description = "Get a lead by id",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_lead(
        &self,
        Parameters(a): Parameters<LeadId>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::GET,
            format!("/leads/{}", seg(&a.id)),
            None,
            data,
        )
        .await
    }

    #[tool(
        description = "Create a lead (duplicates are merged automatically)",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_lead(
        &self,
        Parameters(a): Parameters<LeadFields>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a).unwrap_or_default();
        self.run(&ctx, Method::POST, "/leads".into(), Some(body), data)
            .await
    }

    #[tool(
        description = "Update a lead's fields",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_lead(
        &self,
        Parameters(a): Parameters<UpdateLead>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a.fields).unwrap_or_default();
        self.run(
            &ctx,
            Method::PATCH,
            format!("/leads/{}", seg(&a.id)),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "Delete a lead; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_lead(
        &self,
        Parameters(a): Parameters<DeleteById>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.delete(
            &ctx,
            a.confirm,
            format!("/leads/{}", seg(&a.id)),
            a.id.clone(),
        )
        .await
    }

    #[tool(
        description = "Add a tag to a lead (no change when it has it)",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn create_lead_tag(
        &self,
        Parameters(a): Parameters<LeadTag>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let path = format!("/leads/{}", seg(&a.id));
        let current = self.call(&ctx, Method::GET, &path, None).await?;
        if !current.status.is_success() {
            return Ok(super::bridge::result(current, data));
        }
        let lead = current.json();
        match with_tag(&lead, &a.tag) {
            None => Ok(CallToolResult::structured(data(lead))),
            Some(tags) => {
                self.run(&ctx, Method::PATCH, path, Some(json!({"tags": tags})), data)
                    .await
            }
        }
    }

    #[tool(
        description = "Create up to the plan's batch size of leads; each is deduplicated",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn batch_create_leads(
        &self,
        Parameters(a): Parameters<BatchCreate>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = json!({"leads": a.leads});
        self.run(&ctx, Method::POST, "/leads/batch".into(), Some(body), data)
            .await
    }

    #[tool(
        description = "Apply the same field update to many leads",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn batch_update_leads(
        &self,
        Parameters(a): Parameters<BatchUpdate>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = json!({"ids": a.ids, "data": a.data});
        self.run(&ctx, Method::PUT, "/leads/batch".into(), Some(body), data)
            .await
    }

    #[tool(
        description = "Delete many leads; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn batch_delete_leads(
        &self,
        Parameters(a): Parameters<BatchDelete>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        if a.confirm != Some(true) {
            return Ok(confirmation_required());
        }
        let body = json!({"ids": a.ids});
        self.run(
            &ctx,
            Method::DELETE,
            "/leads/batch".into(),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "Add a note to a lead",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_note(
        &self,
        Parameters(a): Parameters<CreateNote>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = json!({"content": a.content});
        self.run(
            &ctx,
            Method::POST,
            format!("/leads/{}/notes", seg(&a.lead_id)),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "List a lead's notes",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_notes(
        &self,
        Parameters(a): Parameters<LeadRef>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::GET,
            format!("/leads/{}/notes", seg(&a.lead_id)),
            None,
            list_of("notes"),
        )
        .await
    }

    #[tool(
        description = "Edit the content of a note",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_note(
        &self,
        Parameters(a): Parameters<UpdateNote>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = json!({"content": a.content});
        self.run(
            &ctx,
            Method::PUT,
            format!("/notes/{}", seg(&a.id)),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "Delete a note; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_note(
        &self,
        Parameters(a): Parameters<DeleteById>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.delete(
            &ctx,
            a.confirm,
            format!("/notes/{}", seg(&a.id)),
            a.id.clone(),
        )
        .await
    }

    #[tool(
        description = "List a lead's custom attributes",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_attributes(
        &self,
        Parameters(a): Parameters<LeadRef>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.run(
            &ctx,
            Method::GET,
            format!("/leads/{}/attributes", seg(&a.lead_id)),
            None,
            list_of("attributes"),
        )
        .await
    }

    #[tool(
        description = "Add a custom attribute (text, number, bool, list, object) to a lead",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_attribute(
        &self,
        Parameters(a): Parameters<CreateAttribute>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let body = serde_json::to_value(&a.attribute).unwrap_or_default();
        self.run(
            &ctx,
            Method::POST,
            format!("/leads/{}/attributes", seg(&a.lead_id)),
            Some(body),
            data,
        )
        .await
    }

    #[tool(
        description = "Update the value of a custom attribute",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_attribute(
        &self,
        Parameters(a): Parameters<UpdateAttribute>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        let path = format!("/leads/{}/attributes/{}", seg(&a.lead_id), seg(&a.id));
        self.run(
            &ctx,
            Method::PUT,
            path,
            Some(json!({"value": a.value})),
            data,
        )
        .await
    }

    #[tool(
        description = "Remove a custom attribute; requires confirm: true",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_attribute(
        &self,
        Parameters(a): Parameters<DeleteAttribute>,
        ctx: RequestContext<RoleServer>,
    ) -> Outcome {
        self.delete(
            &ctx,
            a.confirm,
            format!("/leads/{}/attributes/{}", seg(&a.lead_id), seg(&a.id)),
            a.id.clone(),
        )
        .await
    }
}
