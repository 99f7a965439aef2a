//! Error answers made outside our handlers, given the documented error body.
//!
//! [`shape_error`] takes any error answer of the app that is not JSON (axum's rejections in
//! plain text, empty 404/405 fallbacks, tower layers' bare statuses) and gives it the body.
//!
//! Answers hyper writes by itself, before any of our code runs: a request it cannot parse
//! gets 400, a URL over 64 KiB 414, headers over its buffer 431 — each with an empty body and
//! then the connection closes. [`ErrorBodyIo`] sits between hyper and the socket and replaces
//! such an answer (an error status, `content-length: 0`, no `content-type`: our own error
//! answers always have a JSON body) with the same status carrying the documented error body.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct ErrorBodyIo<T> {
    inner: T,
    /// Our replacement answer and how much of it is written.
    pending: Vec<u8>,
    written: usize,
    /// Once hyper's error answer is replaced, anything else it writes is dropped.
    replaced: bool,
}

impl<T> ErrorBodyIo<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
            replaced: false,
        }
    }
}

impl<T: AsyncWrite + Unpin> ErrorBodyIo<T> {
    fn drive_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ErrorBodyIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ErrorBodyIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replaced {
            ready!(this.drive_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        if let Some(answer) = replacement(buf) {
            this.pending = answer;
            this.replaced = true;
            // hyper's answer counts as written; ours goes out now or on flush.
            let _ = this.drive_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then hands each answer's head over in one contiguous write.
}

/// Our answer in place of hyper's bodiless error answer `buf`, if that is what `buf` is.
fn replacement(buf: &[u8]) -> Option<Vec<u8>> {
    if !(buf.starts_with(b"HTTP/1.1 ") || buf.starts_with(b"HTTP/1.0 ")) {
        return None;
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != buf.len() {
        return None; // a body follows: one of our own answers
    }
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.get(9..12)?.parse().ok()?;
    if status < 400 {
        return None;
    }
    let headers: Vec<&str> = lines.collect();
    let has = |prefix: &str| {
        headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with(prefix))
    };
    if !has("content-length: 0") || has("content-type:") {
        return None;
    }
    let (code, message) = describe(status);
    let body = serde_json::json!({"error": code, "code": code, "message": message}).to_string();
    let mut out = format!("{status_line}\r\n");
    for h in &headers {
        let lower = h.to_ascii_lowercase();
        if !lower.starts_with("content-length:") && !lower.starts_with("connection:") {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

/// Gives a non-JSON error answer the documented body, keeping its status and headers; the
/// message is the original text when it is short plain text, else a generic one.
pub(crate) async fn shape_error(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 2048)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !status.is_server_error());
    let (code, generic) = describe_status(status);
    let message = text.unwrap_or_else(|| generic.to_owned());
    let body = serde_json::json!({"error": code, "code": code, "message": message}).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

fn describe_status(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        401 => ("unauthorized", "missing or invalid API key"),
        403 => ("forbidden", "this request is not allowed"),
        404 => ("not_found", "no such resource; check the path"),
        405 => (
            "method_not_allowed",
            "this method is not allowed on this path",
        ),
        408 => (
            "request_timeout",
            "the request did not arrive in time; send it at once",
        ),
        413 => (
            "payload_too_large",
            "the request body is too large; split it",
        ),
        415 => (
            "unsupported_media_type",
            "send the body as application/json",
        ),
        429 => ("rate_limit_exceeded", "too many requests; retry later"),
        503 => (
            "service_unavailable",
            "the service is temporarily unavailable; retry shortly",
        ),
        s if s >= 500 => (
            "internal_error",
            "An internal error occurred; it has been logged.",
        ),
        s => describe(s),
    }
}

fn describe(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => (
            "bad_request",
            "the request is not valid HTTP/1.1: check the request line (method, URL, version) and the header syntax",
        ),
        414 => (
            "uri_too_long",
            "the URL is longer than 64 KiB: send fewer or shorter filters, or page with 'cursor'",
        ),
        431 => (
            "headers_too_large",
            "the request headers are too large or too many: send fewer or shorter headers",
        ),
        _ => (
            "bad_request",
            "the request could not be read: check its syntax and size",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bodiless_error_answer_gets_the_error_body() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 05:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(hyper).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{out}");
        assert!(out.contains("\r\ndate: Wed"), "{out}");
        let body: serde_json::Value =
            serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["code"], "uri_too_long");
        assert!(out.contains(&format!(
            "content-length: {}",
            out.split("\r\n\r\n").nth(1).unwrap().len()
        )));
    }

    #[test]
    fn our_own_answers_pass_untouched() {
        for buf in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"{\"a\": 1}",
        ] {
            assert!(replacement(buf).is_none());
        }
    }
}
