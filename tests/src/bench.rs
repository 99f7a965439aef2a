//! What the read-side bench binaries share: `--base URL --key sk_live_... [--<extra> N]`
//! arguments, and a pool on `DATABASE_URL` (with the services' own settings) plus the account
//! behind the key.

use anyhow::{bail, Context};
use shared::auth::KeyResolver;
use shared::plan::AccountPlans;
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

pub struct BenchContext {
    pub base: String,
    pub key: String,
    /// The value of the binary's one extra numeric flag.
    pub extra: u64,
    pub pool: PgPool,
    pub tenant: Uuid,
}

/// Parses the arguments (`extra` names the binary's numeric flag and its default) and
/// connects.
pub async fn bench_context(extra: (&str, u64)) -> anyhow::Result<BenchContext> {
    let (mut base, mut key, mut value) = ("http://127.0.0.1:8080/api/v1".to_owned(), None, extra.1);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let v = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base" => base = v,
            "--key" => key = Some(v),
            f if f == extra.0 => value = v.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    let key = key.context("--key is required")?;
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL")?;
    let pool = shared::db::connect(&url, 2).await?;
    let tenant = KeyResolver::new(
        pool.clone(),
        Duration::from_secs(60),
        AccountPlans::default(),
    )
    .resolve(&key)
    .await?
    .context("unknown key")?
    .account_id;
    Ok(BenchContext {
        base,
        key,
        extra: value,
        pool,
        tenant,
    })
}
