//! The end-to-end harness: all four services started in-process on `127.0.0.1:0` against a
//! test's own Postgres database (from `#[sqlx::test]`) and the real NATS server, driven over
//! real HTTP through the public edge.
#![allow(clippy::unwrap_used)]

pub mod bench;
pub mod client;
pub mod gen;
pub mod mcp;
pub mod model;
pub mod receiver;

pub use client::{Answer, Leads, Notes, Rules, Webhooks};

use command_service::accounts::limits::AuthLimits;
use command_service::accounts::Hashing;
use command_service::config::{CommandConfig, RelayConfig};
use query_service::config::EdgeConfig;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use shared::config::{CommonConfig, Secret};
use shared::http::TrustedProxies;
use shared::plan::{Plan, PlanTable};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

#[derive(Debug, Clone)]
pub struct Options {
    pub relay: bool,
    pub default_plan: Plan,
    /// `LEADSTREAM_ACCOUNT_PLANS` as the operator would write it.
    pub account_plans: &'static str,
    /// Run the projector (read models) with the other services.
    pub projector: bool,
    /// The read-your-writes bound.
    pub read_wait: Duration,
    /// Plan limits (requests per window, leads, batch size).
    pub plans: PlanTable,
    /// The sliding window of request limits.
    pub rate_window: Duration,
    /// Run command-service's background rescore worker ...
    pub rescore_worker: bool,
    /// ... with this many workers. One by default: every service of a test app shares the
    /// test's pool of five connections (two workers in their batch transactions, beside the
    /// relay's, the projector's and the listeners' connections, starved the HTTP handlers).
    /// `rescore_jobs.rs` drives parallel workers itself.
    pub rescore_workers: usize,
    /// Header and body read timeouts of the edge's and command-service's listeners.
    pub http: shared::http::HttpLimits,
    /// Failed-login and registration limits. Generous by default: every test client is
    /// 127.0.0.1, and many tests register several accounts.
    pub auth_limits: AuthLimits,
    /// Password hashes computed at once by command-service.
    pub password_hashes: usize,
    /// `EDGE_TRUSTED_PROXIES`: none by default, as in production.
    pub edge_trusted_proxies: &'static str,
    /// Where the edge forwards writes (default: this app's command-service); a dead address
    /// makes every write fail upstream.
    pub edge_command_url: Option<String>,
    /// The NATS server the services use (`None`: `NATS_URL`, the machine's).
    pub nats_url: Option<String>,
    /// Run the webhook dispatcher with the other services ...
    pub dispatcher: bool,
    /// ... configured so (test receivers listen on loopback, which the defaults allow).
    pub dispatcher_config: webhook_dispatcher::DispatcherConfig,
    /// command-service's webhook settings (loopback allowed by default).
    pub webhooks: command_service::app::webhooks::WebhookSettings,
}

/// Loopback, where test receivers listen: allowed by the test apps' network policies.
pub fn loopback_policy() -> shared::webhooks::NetworkPolicy {
    "127.0.0.0/8,::1/128".parse().unwrap()
}

impl Default for Options {
    fn default() -> Self {
        Self {
            relay: true,
            default_plan: Plan::Unlimited,
            account_plans: "",
            projector: true,
            // The production default is 2 s; the suite runs all its apps at once on a small
            // machine, where another test's open transaction can hold a projector back longer.
            // A read past the bound still fails its test (it answers `stale`).
            read_wait: Duration::from_secs(10),
            plans: PlanTable::default(),
            rate_window: Duration::from_secs(600),
            rescore_worker: true,
            rescore_workers: 1,
            http: shared::http::HttpLimits::default(),
            auth_limits: AuthLimits {
                login_failures: 10_000,
                registrations: 10_000,
                ..AuthLimits::default()
            },
            password_hashes: 2,
            edge_trusted_proxies: "",
            edge_command_url: None,
            nats_url: None,
            dispatcher: true,
            dispatcher_config: webhook_dispatcher::DispatcherConfig {
                fanout_poll: Duration::from_millis(100),
                delivery: webhook_dispatcher::deliver::DeliverySettings {
                    networks: std::sync::Arc::new(loopback_policy()),
                    poll: Duration::from_millis(50),
                    ..Default::default()
                },
                ..Default::default()
            },
            webhooks: command_service::app::webhooks::WebhookSettings {
                networks: loopback_policy(),
                ..Default::default()
            },
        }
    }
}

pub struct TestApp {
    /// The public base URL, `http://127.0.0.1:<edge port>/api/v1`.
    pub base: String,
    pub edge: SocketAddr,
    pub command: SocketAddr,
    pub projector: SocketAddr,
    pub dispatcher: SocketAddr,
    pub pool: PgPool,
    pub client: reqwest::Client,
    /// command-service's password hashing (its bound and the most that ran at once).
    pub hashing: Hashing,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A registered account and its key.
#[derive(Debug, Clone)]
pub struct Account {
    pub api_key: String,
    pub account_id: String,
}

/// A service of a test app, started: what [`TestApp::wait_healthy`] waits for.
struct Service {
    name: &'static str,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// How long [`TestApp::spawn`] waits for each service to answer its health check.
pub const HEALTHY_BOUND: Duration = Duration::from_secs(10);
/// One health check's bound (a listener that is bound but never served would hang it).
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// An error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        line.push_str(&format!(": {s}"));
        source = s.source();
    }
    line
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> TestApp {
        Self::spawn_with(pool, Options::default()).await
    }

    pub async fn spawn_with(pool: PgPool, options: Options) -> TestApp {
        // Service logs (warnings and up unless RUST_LOG says otherwise) show with failing tests.
        if std::env::var("RUST_LOG").is_err() {
            std::env::set_var("RUST_LOG", "warn");
        }
        shared::telemetry::init("tests");
        let common = CommonConfig {
            database_url: Secret::new(String::new()),
            database_max_connections: 16,
            nats_url: options.nats_url.clone().unwrap_or_else(nats_url),
            default_plan: options.default_plan,
            account_plans: options.account_plans.parse().unwrap(),
            plans: options.plans.clone(),
            http: options.http,
        };
        let hashing = Hashing::new(options.password_hashes);
        let shutdown = CancellationToken::new();
        let (command_l, command) = bind().await;
        let (edge_l, edge) = bind().await;
        let (projector_l, projector) = bind().await;
        let (dispatcher_l, dispatcher) = bind().await;
        let command_config = CommandConfig {
            common: common.clone(),
            listen: command,
            key_cache_ttl: Duration::from_secs(60),
            relay: RelayConfig {
                enabled: options.relay,
                poll_interval: Duration::from_millis(100),
                standby_retry: Duration::from_millis(100),
                ..RelayConfig::default()
            },
            rescore_worker: options.rescore_worker,
            rescore_workers: options.rescore_workers,
            trusted_proxies: TrustedProxies::loopback(),
            auth_limits: options.auth_limits,
            hashing: hashing.clone(),
            webhooks: options.webhooks.clone(),
        };
        let edge_config = EdgeConfig {
            common,
            listen: edge,
            command_url: options
                .edge_command_url
                .clone()
                .unwrap_or_else(|| format!("http://{command}")),
            read_wait: options.read_wait,
            key_cache_ttl: Duration::from_secs(60),
            rate_window: options.rate_window,
            trusted_proxies: options.edge_trusted_proxies.parse().unwrap(),
            mcp_allowed_hosts: query_service::config::default_mcp_hosts(edge),
        };
        let mut services = vec![
            Service {
                name: "edge (query-service)",
                addr: edge,
                task: tokio::spawn(query_service::run(
                    edge_config,
                    pool.clone(),
                    edge_l,
                    shutdown.clone(),
                )),
            },
            Service {
                name: "command-service",
                addr: command,
                task: tokio::spawn(command_service::run(
                    command_config,
                    pool.clone(),
                    command_l,
                    shutdown.clone(),
                )),
            },
        ];
        let projection = projector::runner::ProjectionConfig {
            batch_size: 1000,
            poll_interval: Duration::from_millis(100),
        };
        if options.projector {
            services.push(Service {
                name: "projector",
                addr: projector,
                task: tokio::spawn(projector::run(
                    pool.clone(),
                    projection,
                    projector_l,
                    shutdown.clone(),
                )),
            });
        }
        if options.dispatcher {
            // Its own connections, as in production: two listeners, the fan-out's round, the
            // workers' claims and the recorder would starve the others of the test's five.
            services.push(Service {
                name: "webhook-dispatcher",
                addr: dispatcher,
                task: tokio::spawn(webhook_dispatcher::run(
                    wide_pool(&pool, 6).await,
                    options.dispatcher_config.clone(),
                    dispatcher_l,
                    shutdown.clone(),
                )),
            });
        }
        let app = TestApp {
            base: format!("http://{edge}/api/v1"),
            edge,
            command,
            projector,
            dispatcher,
            pool,
            client: reqwest::Client::new(),
            hashing,
            shutdown,
        };
        app.wait_healthy(services).await;
        app
    }

    /// Waits until every service answers 200 on `/healthz`; panics naming the first one that
    /// does not within [`HEALTHY_BOUND`] (with its address and its last answer or error), or
    /// at once when one has stopped.
    async fn wait_healthy(&self, services: Vec<Service>) {
        for Service {
            name,
            addr,
            mut task,
        } in services
        {
            let url = format!("http://{addr}/healthz");
            eventually(
                &format!("{name} healthy at {url}"),
                HEALTHY_BOUND,
                async || {
                    if task.is_finished() {
                        let why = match (&mut task).await {
                            Ok(Ok(())) => "it returned".to_owned(),
                            Ok(Err(e)) => format!("{e:#}"),
                            Err(e) => e.to_string(),
                        };
                        panic!("{name} at {addr} stopped before it was healthy: {why}");
                    }
                    match self
                        .client
                        .get(&url)
                        .timeout(HEALTH_CHECK_TIMEOUT)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => Ok(()),
                        Ok(r) => Err(format!("answered {}", r.status())),
                        Err(e) => Err(error_chain(&e)),
                    }
                },
            )
            .await;
        }
    }

    /// Registers a fresh account and returns its first key.
    pub async fn register(&self) -> Account {
        let email = format!("{}@example.test", uuid::Uuid::new_v4());
        let (status, body) = self
            .register_as(serde_json::json!({"email": email, "password": "correct horse battery"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Account {
            api_key: body["api_key"].as_str().unwrap().to_owned(),
            account_id: body["account_id"].as_str().unwrap().to_owned(),
        }
    }

    /// One request through the edge; answers status and JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.header("X-API-Key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn lead_event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_type = 'lead'")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// (event type, payload) of every stored event of `stream_type`, in log order.
    pub async fn events_of(&self, stream_type: &str) -> Vec<(String, Value)> {
        sqlx::query_as(
            "SELECT event_type, payload FROM events WHERE stream_type = $1 ORDER BY position",
        )
        .bind(stream_type)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// `LeadScored` events stored, of every account.
    pub async fn scored_events(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'LeadScored'")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Creates a scoring rule (asserting 201) and answers it.
    pub async fn rule(&self, key: &str, body: Value) -> Value {
        let (status, rule) = self.rules(key).create(body).await;
        assert_eq!(status, StatusCode::CREATED, "{rule}");
        rule
    }

    /// Number of distinct live leads of the account, from the dedup-independent store.
    pub async fn lead_streams(&self, account_id: &str) -> i64 {
        let tenant = uuid::Uuid::parse_str(account_id).unwrap();
        sqlx::query_scalar(
            "SELECT count(*) FROM streams WHERE tenant_id = $1 AND stream_type = 'lead'",
        )
        .bind(tenant)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

/// Appends `n` events to a new stream of a new account in one transaction (the store's own
/// append, no service): answers their positions.
pub async fn append_events(pool: &PgPool, n: usize) -> Vec<i64> {
    use shared::events::{EventMetadata, NewEvent};
    use shared::store::{append, ExpectedVersion, StreamAppend};
    let events = (0..n)
        .map(|i| NewEvent {
            event_id: uuid::Uuid::new_v4(),
            event_type: "LeadDeleted",
            schema_version: 1,
            payload: serde_json::json!({"at": i}),
            metadata: EventMetadata::default(),
        })
        .collect();
    let a = StreamAppend {
        tenant_id: uuid::Uuid::new_v4(),
        stream_type: "lead",
        stream_id: uuid::Uuid::new_v4(),
        expected: ExpectedVersion::NoStream,
        events,
    };
    append(&mut pool.acquire().await.unwrap(), &[a])
        .await
        .unwrap()
}

/// A pool of `n` connections to the test's own database, for tests whose services need more
/// at once than `#[sqlx::test]`'s five (concurrent writers, a second projector, a rebuild).
pub async fn wide_pool(pool: &PgPool, n: u32) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(n)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap()
}

/// The URL of the test's own database (for a service run as a separate process).
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/leadstream_test".into());
    let db = pool.connect_options().get_database().unwrap().to_owned();
    match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{db}"),
        None => base,
    }
}

/// A binary of the workspace built beside the test binary (`make test` builds every target).
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p {name}` (make test builds every target)",
        path.display()
    );
    path
}

/// How long a test waits for a follower of the log (the projector, the relay, a tail) to catch
/// up: a follower waits (never skips) while any older transaction in the cluster is open, and
/// other tests' long transactions run beside this one.
pub const FOLLOWER_BOUND: Duration = Duration::from_secs(60);

/// The first pause between two checks of [`eventually`]; each pause doubles, up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_millis(50);
/// How long past the bound one check of [`eventually`] may still run before it fails too.
const CHECK_GRACE: Duration = Duration::from_secs(5);

/// What a check of [`eventually`] answers: `Some(v)` or `Ok(v)` once the awaited state holds
/// (`eventually` answers `v`); `None` when not yet, or `Err(e)` to name what it saw instead
/// (the last `e` is in the panic message).
pub trait Outcome {
    type Value;
    fn settled(self) -> Result<Self::Value, Option<String>>;
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn settled(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: std::fmt::Display> Outcome for Result<T, E> {
    type Value = T;
    fn settled(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(e.to_string()))
    }
}

/// Runs `check` until it answers `Some` (or `Ok`), and answers what it holds. Between checks
/// it pauses 5 ms, then twice as long each time up to 50 ms. When `within` has passed and the
/// check still answers `None` (or `Err`), it panics naming `what`, the time waited and the
/// last `Err`: it never returns on a timeout, and a check that hangs past the bound fails too.
///
/// `check` is an async closure (`async || ...`, which may borrow the test's state mutably) or a
/// closure answering a future (`|| async { ... }`).
pub async fn eventually<O: Outcome>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> O,
) -> O::Value {
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut checks = 0u32;
    loop {
        checks += 1;
        let limit = within.saturating_sub(started.elapsed()) + CHECK_GRACE;
        let last = match tokio::time::timeout(limit, check()).await {
            Ok(outcome) => match outcome.settled() {
                Ok(value) => return value,
                Err(last) => last,
            },
            Err(_) => Some(format!(
                "the check itself still ran {CHECK_GRACE:?} past the bound"
            )),
        };
        let waited = started.elapsed();
        if waited >= within {
            let last = last.map(|l| format!("; last: {l}")).unwrap_or_default();
            panic!(
                "eventually: {what}: still not so after {waited:.1?} \
                 ({checks} checks, bound {within:?}){last}"
            );
        }
        tokio::time::sleep(pause.min(within - waited)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Waits until the lead read model has applied every committed event.
pub async fn wait_for_projection(pool: &PgPool) {
    eventually(
        "the projector catches up with the event store",
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            shared::store::has_passed(&mut conn, projector::lead_view::CHECKPOINT, None)
                .await
                .unwrap()
                .then_some(())
        },
    )
    .await
}

/// Test-only triggers in this test's own database: every transaction that appends events
/// pauses a random time up to `max_secs` after the streams' versions move (when it has its
/// transaction id) and again after the events' insert (when it has its positions), so
/// concurrent writers overlap at the worst points. Connections opened after this see it.
pub async fn pause_inside_transactions(pool: &PgPool, max_secs: f64) {
    for stmt in [
        "CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(random() * current_setting('test.max_pause')::float8); RETURN NULL; END $$",
        "CREATE TRIGGER test_pause_streams AFTER INSERT OR UPDATE ON streams
         FOR EACH STATEMENT EXECUTE FUNCTION test_pause()",
        "CREATE TRIGGER test_pause_events AFTER INSERT ON events
         FOR EACH STATEMENT EXECUTE FUNCTION test_pause()",
    ] {
        sqlx::query(stmt).execute(pool).await.unwrap();
    }
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        "ALTER DATABASE \"{db}\" SET test.max_pause = '{max_secs}'"
    ))
    .execute(pool)
    .await
    .unwrap();
}

/// Asserts the documented error shape and code.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// An answer read off a raw connection: status, head (lowercase) and body.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawAnswer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// Sends `request` as it is (no URL normalization, no header checks) and reads the answer
/// until the server closes the connection (send `Connection: close`). At most 10 s.
pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before it has read everything: ignore write errors.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 10 s");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    RawAnswer {
        status,
        head: head.to_lowercase(),
        body: body.to_owned(),
    }
}
