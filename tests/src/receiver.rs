//! A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every request
//! (headers, exact body, when) and answers as the test scripts — a queue of replies, then a
//! default; replies can hang, carry headers, or fail.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
            body: String::new(),
        }
    }

    pub fn ok() -> Self {
        Self::status(200)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `webhook-id` header.
    pub fn id(&self) -> String {
        self.header("webhook-id").to_owned()
    }

    pub fn event(&self) -> String {
        self.json()["event"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Script {
    queue: VecDeque<Reply>,
    default: Option<Reply>,
    log: Vec<Received>,
    /// Requests being answered now, and the most ever at once.
    open: usize,
    most_open: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    stop: CancellationToken,
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut s = script.lock().unwrap();
        s.log.push(Received {
            headers,
            body,
            at: Instant::now(),
        });
        s.open += 1;
        s.most_open = s.most_open.max(s.open);
        s.queue
            .pop_front()
            .or_else(|| s.default.clone())
            .unwrap_or_else(Reply::ok)
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    script.lock().unwrap().open -= 1;
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    /// Listens on `port` (0: any free one).
    pub async fn start_on(port: u16) -> Receiver {
        Self::serve(port, Arc::new(Mutex::new(Script::default()))).await
    }

    async fn serve(port: u16, script: Arc<Mutex<Script>>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let app = Router::new().fallback(answer).with_state(script.clone());
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await
                .unwrap();
        });
        Receiver { addr, script, stop }
    }

    /// Stops listening (connections are refused) ...
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// ... and listens again on the same port, keeping the log and script.
    pub async fn restart(&self) -> Receiver {
        Self::serve(self.addr.port(), self.script.clone()).await
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Replies for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().queue.extend(replies);
    }

    /// The reply once the script is used up.
    pub fn answer_by_default(&self, reply: Reply) {
        self.script.lock().unwrap().default = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().log.clone()
    }

    /// The most requests this receiver was answering at once.
    pub fn most_at_once(&self) -> usize {
        self.script.lock().unwrap().most_open
    }

    /// Received requests of `event`.
    pub fn of(&self, event: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.event() == event)
            .collect()
    }

    /// Waits (up to `bound`) until `n` requests have arrived; answers them.
    pub async fn wait_for(&self, n: usize, bound: Duration) -> Vec<Received> {
        crate::eventually(
            &format!("{n} webhook requests at {}", self.addr),
            bound,
            async || {
                let got = self.received();
                if got.len() >= n {
                    Ok(got)
                } else {
                    Err(format!("{} so far", got.len()))
                }
            },
        )
        .await
    }

    /// Waits until requests of `n` distinct `webhook-id`s have arrived.
    pub async fn wait_for_distinct(&self, n: usize, bound: Duration) -> Vec<Received> {
        crate::eventually(
            &format!("{n} distinct webhooks at {}", self.addr),
            bound,
            async || {
                let got = self.received();
                let distinct: std::collections::HashSet<String> =
                    got.iter().map(Received::id).collect();
                if distinct.len() >= n {
                    Ok(got)
                } else {
                    Err(format!("{} distinct so far", distinct.len()))
                }
            },
        )
        .await
    }
}
