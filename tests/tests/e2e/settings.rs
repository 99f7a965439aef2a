//! Per-deployment settings created by the migrations.

use query_service::cursor::{Cursor, CursorError, CursorSigner};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn each_deployment_gets_its_own_strong_cursor_secret(pool: PgPool) {
    let secret: String =
        sqlx::query_scalar("SELECT value FROM settings WHERE name = 'cursor_secret'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));

    let signer = CursorSigner::from_database(&pool).await.unwrap();
    let c = Cursor {
        sort: "created_at".into(),
        descending: false,
        value: json!(1_700_000_000),
        id: Uuid::new_v4(),
    };
    let raw = signer.encode(&c);
    assert_eq!(signer.decode(&raw, "created_at", false), Ok(c));
    // A cursor signed with any other secret (another deployment) is refused.
    let other = CursorSigner::new(b"another deployment");
    assert_eq!(
        other.decode(&raw, "created_at", false),
        Err(CursorError::Tampered)
    );
}
