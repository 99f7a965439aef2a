//! The `Command` extractor: an authenticated write's command context (who, which request, the
//! plan's lead limit), so handlers take one argument instead of repeating the same three.

use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shared::http::{Auth, RequestId};
use shared::ApiError;

pub struct Command(pub CommandContext);

impl FromRequestParts<AppState> for Command {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Auth(auth) = Auth::from_request_parts(parts, state).await?;
        let Ok(RequestId(request_id)) = RequestId::from_request_parts(parts, state).await;
        let max_leads = state.config.common.plans.limits(auth.plan).max_leads;
        let mut ctx = CommandContext::new(&auth, request_id).with_lead_limit(max_leads);
        ctx.metadata.via = parts
            .headers
            .get(shared::http::VIA_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect());
        Ok(Command(ctx))
    }
}
