//! What every service binary does before serving: logging, the database pool, the listener,
//! and a shutdown token cancelled on Ctrl-C or SIGTERM.

use sqlx::PgPool;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct Boot {
    pub pool: PgPool,
    pub listener: TcpListener,
    pub shutdown: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("connecting to Postgres (DATABASE_URL): {0}")]
    Database(#[from] sqlx::Error),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub async fn boot(
    database_url: &str,
    max_connections: u32,
    listen: SocketAddr,
) -> Result<Boot, BootError> {
    let pool = crate::db::connect(database_url, max_connections).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| BootError::Bind {
            addr: listen,
            source,
        })?;
    let shutdown = CancellationToken::new();
    tokio::spawn(crate::shutdown::cancel_on_signal(shutdown.clone()));
    Ok(Boot {
        pool,
        listener,
        shutdown,
    })
}
