//! `list_leads`: a page of `GET /leads` (with `query` as free text), or with `format` every
//! matching lead from `GET /leads/export` — CSV and JSON as text up to [`MAX_TEXT_BYTES`],
//! XLSX as an embedded base64 resource up to [`MAX_XLSX_BYTES`]; past that, an error that
//! says to narrow the filters or use the REST export.

use super::args::ListLeads;
use super::bridge::{enc, error, result, TooLarge};
use super::Gateway;
use axum::http::Method;
use base64::Engine;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{json, Value};

/// The largest CSV or JSON export a tool call returns.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// The largest XLSX export a tool call returns (before base64).
pub const MAX_XLSX_BYTES: usize = 4 * 1024 * 1024;
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn common_params(a: &ListLeads) -> Vec<String> {
    let mut params = Vec::new();
    if let Some(q) = &a.query {
        params.push(format!("q={}", enc(q)));
    }
    for f in a.filters.iter().flatten() {
        params.push(format!("filter={}", enc(f)));
    }
    if let Some(s) = &a.sort {
        params.push(format!("sort_by={}", enc(s)));
    }
    if let Some(o) = &a.sort_order {
        params.push(format!("sort_order={}", enc(o)));
    }
    params
}

pub async fn list_leads(
    g: &Gateway,
    ctx: &RequestContext<RoleServer>,
    a: ListLeads,
) -> Result<CallToolResult, McpError> {
    let mut params = common_params(&a);
    let Some(format) = a.format.as_deref() else {
        if let Some(limit) = a.limit {
            params.push(format!("limit={limit}"));
        }
        if let Some(cursor) = &a.cursor {
            params.push(format!("cursor={}", enc(cursor)));
        }
        let path = format!("/leads?{}", params.join("&"));
        return g
            .run(ctx, Method::GET, path, None, |mut body| {
                json!({
                    "data": body["leads"].take(),
                    "meta": {
                        "count": body["count"],
                        "has_more": body["has_more"],
                        "next_cursor": body["next_cursor"],
                    },
                })
            })
            .await;
    };
    let max = match format {
        "csv" | "json" => MAX_TEXT_BYTES,
        "xlsx" => MAX_XLSX_BYTES,
        other => {
            return Ok(error(
                "VALIDATION_ERROR",
                format!("format '{other}' is not one of csv, json, xlsx"),
                400,
            ))
        }
    };
    params.push(format!("format={format}"));
    let path = format!("/leads/export?{}", params.join("&"));
    let answer = match g.call_limited(ctx, Method::GET, &path, None, max).await? {
        Ok(answer) => answer,
        Err(TooLarge) => {
            return Ok(error(
                "VALIDATION_ERROR",
                format!(
                    "the export is larger than {} MiB, too large for a tool result; narrow the \
                     filters, or download it from GET /api/v1/leads/export?format={format}",
                    max / (1024 * 1024)
                ),
                413,
            ))
        }
    };
    if !answer.status.is_success() {
        return Ok(result(answer, |v| v));
    }
    let bytes = answer.body.len();
    Ok(match format {
        "json" => {
            let leads = answer.json();
            let count = leads.as_array().map_or(0, Vec::len);
            CallToolResult::structured(
                json!({"data": leads, "meta": {"count": count, "format": "json"}}),
            )
        }
        "csv" => {
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            let rows = text.lines().count().saturating_sub(1);
            with_structured(
                vec![ContentBlock::text(text)],
                json!({"data": {"format": "csv", "bytes": bytes, "rows": rows}}),
            )
        }
        _ => {
            let blob = base64::engine::general_purpose::STANDARD.encode(&answer.body);
            let uri = "leadstream://exports/leads.xlsx";
            with_structured(
                vec![
                    ContentBlock::text(format!("leads.xlsx, {bytes} bytes")),
                    ContentBlock::resource(
                        ResourceContents::blob(blob, uri).with_mime_type(XLSX_TYPE),
                    ),
                ],
                json!({"data": {"format": "xlsx", "bytes": bytes, "uri": uri}}),
            )
        }
    })
}

fn with_structured(content: Vec<ContentBlock>, structured: Value) -> CallToolResult {
    let mut out = CallToolResult::success(content);
    out.structured_content = Some(structured);
    out
}
