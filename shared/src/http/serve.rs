//! The one HTTP/1.1 server loop every service runs (instead of `axum::serve`, which has no
//! timeouts): a header read timeout (also for idle keep-alive connections), a deadline for
//! reading a request body, the TCP peer as `ConnectInfo<SocketAddr>`, and every error answer
//! in the documented error body, whoever made it: hyper's own (400/414/431 for requests it
//! cannot parse), axum's rejections and fallbacks, tower layers (see `transport_errors.rs`).
//! Graceful shutdown on the token.

use super::transport_errors::ErrorBodyIo;
use crate::config::{parse_or, ConfigError};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

/// How long a client may take to send what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// The request line and headers, from the first byte (or from the end of the previous
    /// answer on a kept-alive connection); past it the connection is closed
    /// (`HTTP_HEADER_TIMEOUT_MS`, default 10 000).
    pub header_read: Duration,
    /// The whole request body, from the end of the headers; past it the request fails with
    /// 408 (`HTTP_BODY_TIMEOUT_MS`, default 60 000).
    pub body_read: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(60),
        }
    }
}

impl HttpLimits {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            header_read: Duration::from_millis(parse_or(
                "HTTP_HEADER_TIMEOUT_MS",
                d.header_read.as_millis() as u64,
            )?),
            body_read: Duration::from_millis(parse_or(
                "HTTP_BODY_TIMEOUT_MS",
                d.body_read.as_millis() as u64,
            )?),
        })
    }
}

/// Serves `app` on `listener` until `shutdown`, then lets open requests finish.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: HttpLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()>
where
    S: Service<axum::extract::Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let body_read = limits.body_read;
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let body = Body::new(DeadlineBody::new(body, body_read));
            let answer = app
                .clone()
                .oneshot(axum::extract::Request::from_parts(parts, body));
            async move {
                let response = answer.await?;
                Ok::<_, Infallible>(super::transport_errors::shape_error(response).await)
            }
        });
        let conn = builder.serve_connection(TokioIo::new(ErrorBodyIo::new(stream)), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The error a request body fails with when it is not in by its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within its time limit")]
pub struct BodyTimeout;

/// Whether `err` (an axum rejection or body error) comes from a [`BodyTimeout`].
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<BodyTimeout>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// A request body that fails with [`BodyTimeout`] once its deadline has passed.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, limit: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_limits_are_10_s_for_headers_and_60_s_for_a_body() {
        let d = HttpLimits::default();
        assert_eq!(d.header_read, Duration::from_secs(10));
        assert_eq!(d.body_read, Duration::from_secs(60));
    }
}
