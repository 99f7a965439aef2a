//! Delivery workers: claim due deliveries, send each signed attempt, record the outcomes.
//! One slow or dead endpoint never delays the others: an endpoint has at most
//! `per_endpoint` attempts in flight (and `prefetch` claimed), the whole worker at most
//! `max_in_flight`; connections (HTTP/1.1 keep-alive, HTTP/2 over TLS) are reused per host.
//! Replicas share the work through `SKIP LOCKED` claims; without crashes no delivery is sent
//! twice (an attempt whose lease would run out before it could finish is left to the next
//! claim instead of sent).

mod claim;
pub use claim::Claimed;
pub mod health;
mod record;
pub mod schedule;
pub mod send;

use crate::guard::GuardedResolver;
use record::Finished;
use schedule::Schedule;
use shared::store::follow::{Wakeup, Woken};
use shared::webhooks::{NetworkPolicy, DUE_CHANNEL};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// `WEBHOOK_TIMEOUT` (default 5 s): a 2xx must arrive within it.
    pub timeout: Duration,
    /// `WEBHOOK_RETRY_SCHEDULE`.
    pub schedule: Schedule,
    /// `WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT` (default 8).
    pub per_endpoint: usize,
    /// `WEBHOOK_MAX_IN_FLIGHT` (default 128): attempts in flight in this process.
    pub max_in_flight: usize,
    /// `WEBHOOK_DISABLE_AFTER` (default 5 days).
    pub disable_after: Duration,
    /// `WEBHOOK_POLL_MS` (default 250): how often to look for retries that came due.
    pub poll: Duration,
    /// `WEBHOOK_ALLOWED_NETWORKS`.
    pub networks: Arc<NetworkPolicy>,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            schedule: Schedule::default(),
            per_endpoint: 8,
            max_in_flight: 128,
            disable_after: Duration::from_secs(5 * 86_400),
            poll: Duration::from_millis(250),
            networks: Arc::new(NetworkPolicy::default()),
        }
    }
}

/// Claims held per endpoint: enough to keep its attempts in flight busy between claims.
const PREFETCH_FACTOR: usize = 4;
/// How long finished attempts gather before they are recorded, and the most per record.
const RECORD_LINGER: Duration = Duration::from_millis(5);
const RECORD_BATCH: usize = 1000;
/// Time an attempt must have left on its lease to be sent.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

impl DeliverySettings {
    fn prefetch(&self) -> usize {
        self.per_endpoint * PREFETCH_FACTOR
    }

    /// How long a claim holds a delivery: long enough for every claim of its endpoint to be
    /// attempted in turn, with a margin.
    pub fn lease(&self) -> Duration {
        self.timeout * (PREFETCH_FACTOR as u32 + 1) + 2 * LEASE_MARGIN
    }

    pub fn client(&self) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver::new(self.networks.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout)
            .pool_max_idle_per_host(self.per_endpoint)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
    }
}

/// What the claim loop and its attempts share.
struct Shared {
    pool: PgPool,
    client: reqwest::Client,
    settings: DeliverySettings,
    /// Claims held per endpoint (claimed, not yet attempted or finished).
    held: Mutex<HashMap<Uuid, usize>>,
    /// Attempts in flight per endpoint.
    lanes: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
    in_flight: Arc<Semaphore>,
    freed: Notify,
    done: mpsc::UnboundedSender<Finished>,
}

impl Shared {
    fn lane(&self, webhook: Uuid) -> Arc<Semaphore> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        lanes
            .entry(webhook)
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_endpoint)))
            .clone()
    }

    /// One claim of `webhook` is finished. The claim loop is woken when the endpoint's
    /// claims fall to half its prefetch (or none): claims then come in chunks, not one
    /// statement per finished attempt.
    fn release(&self, webhook: Uuid) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let Some(n) = held.get_mut(&webhook) else {
            return;
        };
        *n -= 1;
        let left = *n;
        if left == 0 {
            held.remove(&webhook);
            self.lanes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&webhook);
        }
        if left == 0 || left == self.settings.prefetch() / 2 {
            self.freed.notify_one();
        }
    }
}

async fn attempt(shared: Arc<Shared>, c: claim::Claimed, claimed_at: Instant) {
    let lane = shared.lane(c.webhook_id);
    let Ok(_lane) = lane.acquire_owned().await else {
        return;
    };
    let Ok(_slot) = shared.in_flight.clone().acquire_owned().await else {
        return;
    };
    let s = &shared.settings;
    if claimed_at.elapsed() + s.timeout + LEASE_MARGIN > s.lease() {
        // Its lease would run out mid-attempt: the next claim takes it.
        shared.release(c.webhook_id);
        return;
    }
    let at = chrono::Utc::now();
    let outcome = send::attempt(
        &shared.client,
        &s.networks,
        &c.url,
        &c.message_id.to_string(),
        &c.body,
        &c.secrets,
        s.timeout,
    )
    .await;
    let _ = shared.done.send(Finished {
        delivery_id: c.delivery_id,
        webhook_id: c.webhook_id,
        round_attempts: c.round_attempts,
        at,
        outcome,
    });
    shared.release(c.webhook_id);
}

/// The delivery workers of this process, as the fan-out sees them: it may claim a new
/// delivery for them as it writes it (within the endpoint's budget) and hand it over once
/// its round committed — no claim statement and no wake-up on the live path.
#[derive(Clone)]
pub struct Workers(Arc<Shared>);

impl Workers {
    pub fn new(pool: PgPool, settings: DeliverySettings) -> anyhow::Result<(Self, Recorder)> {
        let (done, finished) = mpsc::unbounded_channel();
        let recorder = Recorder {
            pool: pool.clone(),
            finished,
            schedule: settings.schedule.clone(),
            disable_after: settings.disable_after,
        };
        let shared = Shared {
            client: settings.client()?,
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            pool,
            settings,
            held: Mutex::new(HashMap::new()),
            lanes: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            done,
        };
        Ok((Self(Arc::new(shared)), recorder))
    }

    pub fn lease(&self) -> Duration {
        self.0.settings.lease()
    }

    /// Takes up to `want` claims of `webhook` for these workers (within its prefetch and
    /// the process's room); answers how many.
    pub fn reserve(&self, webhook: Uuid, want: usize) -> usize {
        let s = &self.0.settings;
        let mut held = self.0.held.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = held.values().sum();
        let room = (s.max_in_flight * PREFETCH_FACTOR).saturating_sub(total);
        let mine = held.get(&webhook).copied().unwrap_or_default();
        let n = want.min(s.prefetch().saturating_sub(mine)).min(room);
        if n > 0 {
            *held.entry(webhook).or_default() += n;
        }
        n
    }

    /// Gives back a claim reserved but not made (its round did not commit it).
    pub fn unreserve(&self, webhook: Uuid) {
        self.0.release(webhook);
    }

    /// Starts the attempts of deliveries claimed (and committed) for these workers.
    pub fn start(&self, claimed: Vec<claim::Claimed>) {
        let claimed_at = Instant::now();
        for c in claimed {
            tokio::spawn(attempt(self.0.clone(), c, claimed_at));
        }
    }
}

/// One claim: due deliveries taken within the budgets, their attempts started.
async fn claim_round(shared: &Arc<Shared>) -> Result<usize, sqlx::Error> {
    let s = &shared.settings;
    let mut held = shared
        .held
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let room = (s.max_in_flight * PREFETCH_FACTOR).saturating_sub(held.values().sum());
    if room == 0 {
        return Ok(0);
    }
    // An endpoint still holding more than half its prefetch is topped up later, in a chunk.
    for n in held.values_mut() {
        if *n > s.prefetch() / 2 {
            *n = s.prefetch();
        }
    }
    let claimed = claim::claim(&shared.pool, &held, s.prefetch(), room, s.lease()).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let claimed_at = Instant::now();
    tracing::debug!(claimed = claimed.len(), "claim");
    {
        let mut held = shared.held.lock().unwrap_or_else(|p| p.into_inner());
        for c in &claimed {
            *held.entry(c.webhook_id).or_default() += 1;
        }
    }
    let n = claimed.len();
    for c in claimed {
        tokio::spawn(attempt(shared.clone(), c, claimed_at));
    }
    Ok(n)
}

/// Records finished attempts in batches until every sender is gone.
pub struct Recorder {
    pool: PgPool,
    finished: mpsc::UnboundedReceiver<Finished>,
    schedule: Schedule,
    disable_after: Duration,
}

async fn recorder(r: Recorder) {
    let Recorder {
        pool,
        finished: mut done,
        schedule,
        disable_after,
    } = r;
    while let Some(first) = done.recv().await {
        // What finishes within a few milliseconds is recorded in one transaction.
        let mut batch = vec![first];
        let linger = tokio::time::sleep(RECORD_LINGER);
        tokio::pin!(linger);
        while batch.len() < RECORD_BATCH {
            tokio::select! {
                f = done.recv() => match f {
                    Some(f) => batch.push(f),
                    None => break,
                },
                _ = &mut linger => break,
            }
        }
        let mut tries = 0;
        loop {
            match record::record(&pool, &batch, &schedule).await {
                Ok(h) => {
                    if let Err(e) = health::apply(&pool, &h, disable_after).await {
                        tracing::warn!(error = %e, "could not update endpoint health");
                    }
                    break;
                }
                Err(e) => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "could not record webhook attempts; retrying");
                    if tries >= 20 {
                        // Left to their leases: they will be attempted again.
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }
}

async fn claim_loop(shared: Arc<Shared>, shutdown: &CancellationToken) -> Result<(), sqlx::Error> {
    let mut wake = Wakeup::listen(&shared.pool, DUE_CHANNEL).await?;
    while !shutdown.is_cancelled() {
        if claim_round(&shared).await? > 0 {
            continue;
        }
        tokio::select! {
            w = wake.wait(shared.settings.poll, shutdown) => {
                if w? == Woken::Notified {
                    wake.drain();
                }
            }
            _ = shared.freed.notified() => {}
        }
    }
    Ok(())
}

/// Delivers until `shutdown`, then lets the attempts in flight finish and records them.
pub async fn run(
    workers: Workers,
    recorder: Recorder,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let recorder = tokio::spawn(self::recorder(recorder));
    let shared = workers.0;
    shared::store::follow::supervise("webhook deliveries", &shutdown, || {
        claim_loop(shared.clone(), &shutdown)
    })
    .await;
    // Attempts in flight finish (each bounded by the timeout) and are recorded.
    let all = shared.settings.max_in_flight as u32;
    let _ = tokio::time::timeout(
        shared.settings.timeout + Duration::from_secs(1),
        shared.in_flight.acquire_many(all),
    )
    .await;
    // Attempts still waiting for a lane are not started; their claims run out.
    shared.in_flight.close();
    for lane in shared
        .lanes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
    {
        lane.close();
    }
    drop(shared);
    let _ = tokio::time::timeout(Duration::from_secs(5), recorder).await;
    Ok(())
}
