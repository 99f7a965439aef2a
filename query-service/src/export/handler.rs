//! The export handler and its producer task.

use super::encode::{Encoder, Format};
use crate::consistency::{wait_for_tenant, CONSISTENCY_HEADER};
use crate::list::select;
use crate::EdgeState;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, TryStreamExt};
use shared::http::Auth;
use shared::query::{parse_list_query, ListQuery, MAX_LIMIT};
use shared::read_model::{decode_row, LEAD_VIEW_CHECKPOINT};
use shared::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

type Chunk = Result<Bytes, std::io::Error>;

pub async fn export_leads(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let format_param = form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.into_owned());
    let format = Format::parse(format_param.as_deref()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "format '{}' is not supported; use csv, json or xlsx",
            format_param.unwrap_or_default()
        ))
    })?;
    // Export ignores `limit` and `cursor`: it is every matching lead.
    let mut query = parse_list_query(&raw)?;
    query.limit = MAX_LIMIT;
    query.cursor = None;
    let freshness = wait_for_tenant(
        &state.pool,
        auth.account_id,
        LEAD_VIEW_CHECKPOINT,
        state.read_wait,
    )
    .await?;

    let (tx, rx) = mpsc::channel::<Chunk>(4);
    tokio::spawn(produce(
        state.pool.clone(),
        auth.account_id,
        query,
        format,
        tx,
    ));
    let mut response = Body::from_stream(rx).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"leads.{}\"",
        format.extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(CONSISTENCY_HEADER, freshness.header_value());
    Ok(response)
}

/// Rows sent per chunk.
const CHUNK: usize = 500;

/// Streams the whole ordered selection from one query (rows arrive as Postgres sends them)
/// and sends it encoded, chunk by chunk; stops when the client goes away.
async fn produce(
    pool: PgPool,
    tenant: Uuid,
    query: ListQuery,
    format: Format,
    mut tx: mpsc::Sender<Chunk>,
) {
    let mut encoder = Encoder::new(format);
    if !send(&mut tx, encoder.start()).await {
        return;
    }
    let Some(mut select) = select(tenant, &query, None, None) else {
        return;
    };
    let mut rows = select.build().persistent(false).fetch(&pool);
    let mut batch = Vec::with_capacity(CHUNK);
    loop {
        let next = rows
            .try_next()
            .await
            .and_then(|row| row.as_ref().map(decode_row).transpose());
        match next {
            Ok(Some(lead)) => {
                batch.push(lead);
                if batch.len() < CHUNK {
                    continue;
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!(error = %e, "export failed mid-stream");
                let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                return;
            }
        }
        if !send(&mut tx, encoder.rows(&batch)).await {
            return; // the client hung up, or encoding failed
        }
        batch.clear();
    }
    if send(&mut tx, encoder.rows(&batch)).await {
        send(&mut tx, encoder.finish()).await;
    }
}

/// Sends one encoded chunk; false when the client has gone or the chunk failed to encode
/// (the response is then cut short, so the client sees an incomplete download).
async fn send(tx: &mut mpsc::Sender<Chunk>, chunk: std::io::Result<Bytes>) -> bool {
    match chunk {
        Ok(bytes) if bytes.is_empty() => true,
        Ok(bytes) => tx.send(Ok(bytes)).await.is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "export encoding failed");
            let _ = tx.send(Err(e)).await;
            false
        }
    }
}
