//! Keyset cursors (SPEC §4): opaque base64url, tamper-evident (HMAC-SHA256 with the
//! deployment's `cursor_secret`), and tied to the sort they were made for. A cursor holds the
//! last row's sort value and id; the next page starts strictly after that pair.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use sqlx::PgPool;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort field the cursor was made for (`rating`, `attr:size`...).
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "d")]
    pub descending: bool,
    /// The last row's sort value (`null` when it had none).
    #[serde(rename = "v")]
    pub value: Value,
    /// The last row's id, the tie-breaker.
    #[serde(rename = "i")]
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the cursor is not one this API issued; start again without 'cursor'")]
    Malformed,
    #[error("the cursor was altered; pass next_cursor back unchanged")]
    Tampered,
    #[error("the cursor was made for sort_by={made_for}; keep sort_by and sort_order the same while paging, or start again without 'cursor'")]
    WrongSort { made_for: String },
}

#[derive(Clone)]
pub struct CursorSigner {
    mac: HmacSha256,
}

impl CursorSigner {
    pub fn new(secret: &[u8]) -> Self {
        // HMAC takes keys of any length; this cannot fail.
        let mac = <HmacSha256 as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        Self { mac }
    }

    /// Reads the deployment's secret (created by migration 0004).
    pub async fn from_database(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let secret: String =
            sqlx::query_scalar("SELECT value FROM settings WHERE name = 'cursor_secret'")
                .fetch_one(pool)
                .await?;
        Ok(Self::new(secret.as_bytes()))
    }

    fn sign(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    pub fn encode(&self, cursor: &Cursor) -> String {
        let payload = serde_json::to_vec(cursor).unwrap_or_default();
        let tag = self.sign(&payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Decodes `raw`, refusing forged or altered cursors and cursors of another sort.
    pub fn decode(&self, raw: &str, sort: &str, descending: bool) -> Result<Cursor, CursorError> {
        let (payload, tag) = raw.trim().split_once('.').ok_or(CursorError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| CursorError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Malformed)?;
        let mut mac = self.mac.clone();
        mac.update(&payload);
        mac.verify_slice(&tag).map_err(|_| CursorError::Tampered)?;
        let cursor: Cursor =
            serde_json::from_slice(&payload).map_err(|_| CursorError::Malformed)?;
        if cursor.sort != sort || cursor.descending != descending {
            let order = if cursor.descending { "DESC" } else { "ASC" };
            return Err(CursorError::WrongSort {
                made_for: format!("{} (sort_order={order})", cursor.sort),
            });
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cursor() -> Cursor {
        Cursor {
            sort: "rating".into(),
            descending: true,
            value: json!(4.5),
            id: Uuid::from_u128(9),
        }
    }

    #[test]
    fn a_cursor_round_trips_for_the_same_sort() {
        let s = CursorSigner::new(b"secret");
        let raw = s.encode(&cursor());
        assert!(
            raw.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{raw}"
        );
        assert_eq!(s.decode(&raw, "rating", true), Ok(cursor()));
    }

    #[test]
    fn a_cursor_for_another_sort_or_order_is_refused() {
        let s = CursorSigner::new(b"secret");
        let raw = s.encode(&cursor());
        assert!(matches!(
            s.decode(&raw, "name", true),
            Err(CursorError::WrongSort { .. })
        ));
        assert!(matches!(
            s.decode(&raw, "rating", false),
            Err(CursorError::WrongSort { .. })
        ));
    }

    #[test]
    fn an_altered_or_foreign_cursor_is_refused() {
        let s = CursorSigner::new(b"secret");
        let raw = s.encode(&cursor());
        let (payload, tag) = raw.split_once('.').unwrap();
        let forged = Cursor {
            value: json!(0.0),
            ..cursor()
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            s.decode(&format!("{forged_payload}.{tag}"), "rating", true),
            Err(CursorError::Tampered)
        );
        assert_eq!(
            CursorSigner::new(b"other").decode(&raw, "rating", true),
            Err(CursorError::Tampered)
        );
        assert_eq!(
            s.decode(payload, "rating", true),
            Err(CursorError::Malformed)
        );
        assert_eq!(
            s.decode("not a cursor", "rating", true),
            Err(CursorError::Malformed)
        );
        assert_eq!(s.decode("", "rating", true), Err(CursorError::Malformed));
    }
}
