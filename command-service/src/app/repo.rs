//! Storage access of the lead commands: tenant and key locks, dedup key lookups, loading lead
//! state from snapshot plus later events, and recording a command's changes.

use super::error::CommandError;
use super::unit::{classify, classify_append, WriteError};
use super::working::Changes;
use shared::dedup::{key_lock_id, lead_count_lock_id, tenant_lock_id, DedupKey, KeyKind};
use shared::events::lead::LeadEvent;
use shared::events::DomainEvent;
use shared::lead::state::SNAPSHOT_FORMAT;
use shared::lead::Lead;
use shared::scoring::rules_table::{compile, from_json, RULES_JSON};
use shared::scoring::Rule;
use shared::store::{append, load_streams, save_snapshots};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// A snapshot is taken once this many events follow the last one.
pub const SNAPSHOT_EVERY: i64 = 16;

/// How a command serializes against concurrent writers of the same tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Single-lead commands: the tenant lock shared, plus each dedup key's lock exclusive.
    #[default]
    Keys,
    /// Batches: the tenant lock exclusive (no other lead write of the tenant runs meanwhile).
    Tenant,
}

pub async fn lock(
    conn: &mut PgConnection,
    tenant: Uuid,
    mode: LockMode,
    keys: &[DedupKey],
) -> Result<(), sqlx::Error> {
    match mode {
        LockMode::Tenant => {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(tenant_lock_id(tenant))
                .execute(&mut *conn)
                .await?;
        }
        LockMode::Keys => {
            let mut ids: Vec<i64> = keys.iter().map(|k| key_lock_id(tenant, k)).collect();
            ids.sort_unstable();
            ids.dedup();
            // One round trip: the tenant lock (shared) first, then the key locks in sorted
            // order, so two commands always take shared keys in the same order.
            sqlx::query(
                "SELECT count(*) FROM (
                    SELECT pg_advisory_xact_lock_shared($1)
                    UNION ALL
                    SELECT pg_advisory_xact_lock(id) FROM unnest($2::bigint[]) AS id
                 ) AS locks",
            )
            .bind(tenant_lock_id(tenant))
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// A row of [`owners_and_rules`]: a key's kind, key and holder, or the rules as JSON.
type OwnerOrRules = (Option<String>, Option<String>, Option<Uuid>, Option<String>);

/// Which live leads hold each of `keys`, and the tenant's scoring rules, compiled: what a
/// lead command reads before it decides, in one round trip.
pub async fn owners_and_rules(
    conn: &mut PgConnection,
    tenant: Uuid,
    keys: &[DedupKey],
) -> Result<(Vec<(DedupKey, Uuid)>, Vec<Rule>), WriteError> {
    let kinds: Vec<&str> = keys.iter().map(|k| k.kind.as_str()).collect();
    let values: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    let rows: Vec<OwnerOrRules> = sqlx::query_as(&format!(
        "SELECT d.kind, d.key, d.lead_id, NULL FROM dedup_keys d
             JOIN unnest($2::text[], $3::text[]) AS q(kind, key)
               ON d.kind = q.kind AND d.key = q.key
             WHERE d.tenant_id = $1
             UNION ALL SELECT NULL, NULL, NULL, {RULES_JSON}"
    ))
    .bind(tenant)
    .bind(&kinds)
    .bind(&values)
    .fetch_all(conn)
    .await?;
    let mut owners = Vec::with_capacity(rows.len());
    let mut rules = Vec::new();
    for row in rows {
        match row {
            (Some(kind), Some(key), Some(id), None) => {
                if let Some(kind) = KeyKind::parse(&kind) {
                    owners.push((DedupKey { kind, key }, id));
                }
            }
            (_, _, _, Some(json)) => {
                rules = compile(&from_json(&json).map_err(CommandError::internal)?);
            }
            _ => {}
        }
    }
    Ok((owners, rules))
}

/// Adds and removes dedup keys of leads (`(lead, key)` pairs).
pub async fn write_keys(
    conn: &mut PgConnection,
    tenant: Uuid,
    removed: &[(Uuid, DedupKey)],
    added: &[(Uuid, DedupKey)],
) -> Result<(), sqlx::Error> {
    let cols = |pairs: &[(Uuid, DedupKey)]| {
        let ids: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
        let kinds: Vec<&'static str> = pairs.iter().map(|p| p.1.kind.as_str()).collect();
        let keys: Vec<String> = pairs.iter().map(|p| p.1.key.clone()).collect();
        (ids, kinds, keys)
    };
    if !removed.is_empty() {
        let (ids, kinds, keys) = cols(removed);
        sqlx::query(
            "DELETE FROM dedup_keys d USING unnest($2::uuid[], $3::text[], $4::text[]) AS r(id, kind, key)
             WHERE d.tenant_id = $1 AND d.lead_id = r.id AND d.kind = r.kind AND d.key = r.key",
        )
        .bind(tenant)
        .bind(&ids)
        .bind(&kinds)
        .bind(&keys)
        .execute(&mut *conn)
        .await?;
    }
    if !added.is_empty() {
        let (ids, kinds, keys) = cols(added);
        sqlx::query(
            "INSERT INTO dedup_keys (tenant_id, lead_id, kind, key)
             SELECT $1, a.id, a.kind, a.key FROM unnest($2::uuid[], $3::text[], $4::text[]) AS a(id, kind, key)
             ON CONFLICT (tenant_id, kind, key, lead_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(&ids)
        .bind(&kinds)
        .bind(&keys)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Loads leads of `tenant` from their latest snapshot plus the events after it. Ids that are
/// not leads of this tenant are absent; deleted leads are returned with `deleted` set.
pub async fn load_leads(
    conn: &mut PgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Lead>, CommandError> {
    let streams = load_streams(conn, tenant, LeadEvent::STREAM_TYPE, ids, SNAPSHOT_FORMAT).await?;
    let mut leads = HashMap::with_capacity(streams.len());
    for (id, stream) in streams {
        let mut state: Option<Lead> = match stream.snapshot {
            Some((version, json)) => {
                let mut lead: Lead =
                    serde_json::from_value(json).map_err(CommandError::internal)?;
                lead.snapshot_version = version;
                Some(lead)
            }
            None => None,
        };
        for stored in &stream.events {
            let event = LeadEvent::decode(stored).map_err(CommandError::internal)?;
            match (&mut state, &event) {
                (None, LeadEvent::Created(created)) => {
                    state = Some(Lead::created(id, tenant, created))
                }
                (Some(lead), _) => lead.apply(&event),
                (None, _) => {
                    return Err(CommandError::internal(format!(
                        "lead stream {id} has no LeadCreated"
                    )))
                }
            }
        }
        if let Some(lead) = state {
            leads.insert(id, lead);
        }
    }
    Ok(leads)
}

/// Records a command's changes in the caller's transaction: appends (compare-and-set), dedup
/// key changes, due snapshots, the note index change.
pub async fn write_changes(conn: &mut PgConnection, changes: &Changes) -> Result<(), WriteError> {
    if let Some((lead, note)) = changes.note {
        write_note_index(conn, changes.tenant, lead, note).await?;
    }
    append(conn, &changes.appends)
        .await
        .map_err(classify_append)?;
    write_keys(
        conn,
        changes.tenant,
        &changes.keys_removed,
        &changes.keys_added,
    )
    .await
    .map_err(classify)?;
    save_snapshots(conn, changes.tenant, SNAPSHOT_FORMAT, &changes.snapshots)
        .await
        .map_err(classify)?;
    Ok(())
}

/// What a note command changes in `note_index`, checked in the command's transaction.
#[derive(Debug, Clone, Copy)]
pub enum NoteIndex {
    Add {
        note_id: Uuid,
        created_at: i64,
    },
    /// The note must exist (and is locked until commit).
    Edit(Uuid),
    Remove(Uuid),
}

async fn write_note_index(
    conn: &mut PgConnection,
    tenant: Uuid,
    lead: Uuid,
    change: NoteIndex,
) -> Result<(), WriteError> {
    let found = match change {
        NoteIndex::Add {
            note_id,
            created_at,
        } => sqlx::query(
            "INSERT INTO note_index (note_id, tenant_id, lead_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(note_id)
        .bind(tenant)
        .bind(lead)
        .bind(created_at)
        .execute(conn)
        .await
        .map_err(classify)?
        .rows_affected(),
        NoteIndex::Edit(note_id) => sqlx::query(
            "SELECT 1 FROM note_index WHERE note_id = $1 AND tenant_id = $2 AND lead_id = $3
               AND NOT deleted FOR UPDATE",
        )
        .bind(note_id)
        .bind(tenant)
        .bind(lead)
        .fetch_all(conn)
        .await
        .map_err(classify)?
        .len() as u64,
        NoteIndex::Remove(note_id) => sqlx::query(
            "UPDATE note_index SET deleted = true
             WHERE note_id = $1 AND tenant_id = $2 AND lead_id = $3 AND NOT deleted",
        )
        .bind(note_id)
        .bind(tenant)
        .bind(lead)
        .execute(conn)
        .await
        .map_err(classify)?
        .rows_affected(),
    };
    if found == 0 {
        return Err(CommandError::NotFound("Note not found").into());
    }
    Ok(())
}

/// How many more leads `tenant` may create under a limit of `max`. Takes the tenant's
/// lead-count lock until commit first, so concurrent creates count one after another (a
/// concurrent delete may make the count briefly too high, never too low).
pub async fn room_for_leads(
    conn: &mut PgConnection,
    tenant: Uuid,
    max: u64,
) -> Result<u64, sqlx::Error> {
    // Its own statement: the count's statement must start (take its snapshot) after the
    // lock is held, to see every create committed before.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lead_count_lock_id(tenant))
        .execute(&mut *conn)
        .await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM streams WHERE tenant_id = $1 AND stream_type = 'lead')
              - (SELECT count(*) FROM events
                 WHERE tenant_id = $1 AND stream_type = 'lead' AND event_type = 'LeadDeleted')",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await?;
    Ok(max.saturating_sub(live.max(0) as u64))
}
