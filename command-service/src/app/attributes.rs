//! `POST /leads/{id}/attributes`, `PUT|DELETE /leads/{id}/attributes/{attr_id}`.

use super::context::CommandContext;
use super::error::CommandError;
use super::single::on_lead;
use serde_json::Value;
use shared::lead::decide::{decide_add_attribute, decide_remove_attribute, decide_set_attribute};
use shared::lead::{Attribute, AttributeInput};
use sqlx::PgPool;
use uuid::Uuid;

pub async fn add_attribute(
    pool: &PgPool,
    ctx: &CommandContext,
    lead: Option<Uuid>,
    input: AttributeInput,
) -> Result<Attribute, CommandError> {
    let id = Uuid::new_v4();
    let (attr, _) = on_lead(pool, ctx, lead, None, |l| {
        let (after, event, attr) = decide_add_attribute(l, &input, id, ctx.now)?;
        Ok((Some((after, event)), attr))
    })
    .await?;
    Ok(attr)
}

pub async fn set_attribute(
    pool: &PgPool,
    ctx: &CommandContext,
    lead: Option<Uuid>,
    attr_id: Option<Uuid>,
    value: Value,
) -> Result<Attribute, CommandError> {
    let attr_id = attr_id.ok_or(CommandError::NotFound("Attribute not found"))?;
    let (attr, _) = on_lead(pool, ctx, lead, None, |l| {
        let (after, event, attr) = decide_set_attribute(l, attr_id, value.clone(), ctx.now)?;
        Ok((event.map(|e| (after, e)), attr))
    })
    .await?;
    Ok(attr)
}

pub async fn remove_attribute(
    pool: &PgPool,
    ctx: &CommandContext,
    lead: Option<Uuid>,
    attr_id: Option<Uuid>,
) -> Result<(), CommandError> {
    let attr_id = attr_id.ok_or(CommandError::NotFound("Attribute not found"))?;
    on_lead(pool, ctx, lead, None, |l| {
        let (after, event) = decide_remove_attribute(l, attr_id, ctx.now)?;
        Ok((Some((after, event)), ()))
    })
    .await?;
    Ok(())
}
