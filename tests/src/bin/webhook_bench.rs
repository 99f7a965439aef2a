//! Webhook bench (issue 13), against a running system whose dispatcher may reach loopback:
//!
//! - `webhook_bench drain --dispatcher BIN --tenants T --endpoints E --events N`: with the
//!   dispatcher stopped, N single-lead events (`POST /leads`, spread over T accounts, each
//!   with E/T endpoints on this process's receiver); then it starts the dispatcher `BIN` and
//!   measures deliveries/s from the first receipt to the last, and the dispatcher's RSS
//!   (sampled every 100 ms) while it drains.
//! - `webhook_bench live --endpoints 3 --requests N --clients C`: single pushes as the write
//!   bench makes them, 3 endpoints subscribed; the lag from each push's acknowledgement (its
//!   commit) to each endpoint's receipt, p50/p99.
//!
//! Common flags: `--base URL` (default http://127.0.0.1:8080/api/v1).

use anyhow::{bail, Context};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Args {
    mode: String,
    base: String,
    dispatcher: Option<String>,
    tenants: usize,
    endpoints: usize,
    events: usize,
    clients: usize,
    /// Pushes per second in live mode (0: as fast as the clients go).
    rate: f64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().context("drain or live")?;
    let mut a = Args {
        mode,
        base: "http://127.0.0.1:8080/api/v1".into(),
        dispatcher: None,
        tenants: 1,
        endpoints: 1,
        events: 20_000,
        clients: 8,
        rate: 0.0,
    };
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base" => a.base = value,
            "--dispatcher" => a.dispatcher = Some(value),
            "--tenants" => a.tenants = value.parse()?,
            "--endpoints" => a.endpoints = value.parse()?,
            "--events" | "--requests" => a.events = value.parse()?,
            "--clients" => a.clients = value.parse()?,
            "--rate" => a.rate = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

/// A receipt: endpoint path, webhook-id, the lead's id (live mode), when.
type Receipt = (String, String, Option<String>, Instant);

#[derive(Clone)]
struct Sink {
    log: Arc<Mutex<Vec<Receipt>>>,
    parse: bool,
}

async fn receive(
    State(sink): State<Sink>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let at = Instant::now();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let lead = sink
        .parse
        .then(|| serde_json::from_slice::<Value>(&body).ok())
        .flatten()
        .and_then(|b| b["data"]["id"].as_str().map(str::to_owned));
    sink.log
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), id, lead, at));
    "ok"
}

async fn receiver(parse: bool) -> anyhow::Result<(String, Sink)> {
    let sink = Sink {
        log: Arc::new(Mutex::new(Vec::new())),
        parse,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(receive).with_state(sink.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}"), sink))
}

async fn register(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let reg: Value = client
        .post(format!("{base}/register"))
        .json(
            &json!({"email": format!("wh-{run}@bench.example"), "password": "benchmark password"}),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(reg["api_key"].as_str().context("no api_key")?.to_owned())
}

async fn subscribe(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    url: &str,
) -> anyhow::Result<()> {
    let resp = client
        .post(format!("{base}/webhooks"))
        .header("X-API-Key", key)
        .json(&json!({"url": url, "events": ["lead.created"]}))
        .send()
        .await?;
    if resp.status().as_u16() != 201 {
        bail!(
            "POST /webhooks answered {}: {}",
            resp.status(),
            resp.text().await?
        );
    }
    Ok(())
}

fn lead(i: usize, run: &str) -> Value {
    json!({
        "name": format!("Webhook lead {i} {run}"),
        "source": "webhook-bench",
        "email": format!("wh{i}.{run}@bench.example"),
        "city": "Lyon",
        "rating": (i % 50) as f64 / 10.0,
        "tags": ["bench"],
    })
}

/// Pushes `n` new leads, spread over `keys`, from `clients` workers; answers each lead's id
/// and when its push was acknowledged.
async fn push(
    client: &reqwest::Client,
    base: &str,
    keys: &[String],
    n: usize,
    clients: usize,
    rate: f64,
) -> anyhow::Result<Vec<(String, Instant)>> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let keys = Arc::new(keys.to_vec());
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (client, base, next, keys, run) = (
            client.clone(),
            base.to_owned(),
            next.clone(),
            keys.clone(),
            run.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                if rate > 0.0 {
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let resp = client
                    .post(format!("{base}/leads"))
                    .header("X-API-Key", &keys[i % keys.len()])
                    .json(&lead(i, &run))
                    .send()
                    .await?;
                let at = Instant::now();
                if resp.status().as_u16() != 201 {
                    bail!("push answered {}", resp.status());
                }
                let body: Value = resp.json().await?;
                acked.push((body["id"].as_str().unwrap_or_default().to_owned(), at));
            }
            Ok::<_, anyhow::Error>(acked)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await??);
    }
    Ok(all)
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

async fn drain(a: &Args, client: &reqwest::Client) -> anyhow::Result<()> {
    let bin = a.dispatcher.as_deref().context("--dispatcher BIN")?;
    let (url, sink) = receiver(false).await?;
    let per_tenant = a.endpoints.div_ceil(a.tenants);
    let mut keys = Vec::new();
    for t in 0..a.tenants {
        let key = register(client, &a.base).await?;
        for e in 0..per_tenant {
            subscribe(client, &a.base, &key, &format!("{url}/t{t}/e{e}")).await?;
        }
        keys.push(key);
    }
    let pushing = Instant::now();
    push(client, &a.base, &keys, a.events, 32, 0.0).await?;
    let expected = a.events * per_tenant;
    println!(
        "  backlog: {} single-lead events in {:.1}s, {} endpoints over {} accounts: {expected} deliveries",
        a.events,
        pushing.elapsed().as_secs_f64(),
        per_tenant * a.tenants,
        a.tenants
    );
    let mut child = tokio::process::Command::new(bin)
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("dispatcher pid")?;
    let started = Instant::now();
    let mut rss: Vec<f64> = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(m) = rss_mib(pid) {
            rss.push(m);
        }
        let got = sink.log.lock().unwrap().len();
        if got >= expected {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("only {got} of {expected} deliveries after 10 minutes");
        }
    }
    let log = sink.log.lock().unwrap().clone();
    let distinct: HashSet<(&str, &str)> =
        log.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    let first = log.iter().map(|r| r.3).min().context("no receipt")?;
    let last = log.iter().map(|r| r.3).max().context("no receipt")?;
    let secs = (last - first).as_secs_f64();
    let half = rss.len() / 2;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    println!(
        "  drained {} deliveries ({} distinct) in {:.2}s first to last receipt: {:.0} deliveries/s \
         (dispatcher start to first receipt {:.2}s)",
        log.len(),
        distinct.len(),
        secs,
        log.len() as f64 / secs,
        (first - started).as_secs_f64()
    );
    println!(
        "  dispatcher RSS while draining: peak {:.1} MiB, mean {:.1} MiB in the first half and {:.1} MiB in the second ({} samples)",
        rss.iter().cloned().fold(0.0, f64::max),
        mean(&rss[..half]),
        mean(&rss[half..]),
        rss.len()
    );
    child.kill().await?;
    Ok(())
}

async fn live(a: &Args, client: &reqwest::Client) -> anyhow::Result<()> {
    let (url, sink) = receiver(true).await?;
    let key = register(client, &a.base).await?;
    for e in 0..a.endpoints {
        subscribe(client, &a.base, &key, &format!("{url}/e{e}")).await?;
    }
    let started = Instant::now();
    let acked = push(client, &a.base, &[key], a.events, a.clients, a.rate).await?;
    let pushed = started.elapsed();
    let expected = acked.len() * a.endpoints;
    let deadline = Instant::now() + Duration::from_secs(120);
    while sink.log.lock().unwrap().len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let acks: HashMap<&str, Instant> = acked.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    let log = sink.log.lock().unwrap().clone();
    let mut lags: Vec<Duration> = log
        .iter()
        .filter_map(|(_, _, lead, at)| {
            let acked = acks.get(lead.as_deref()?)?;
            Some(at.saturating_duration_since(*acked))
        })
        .collect();
    lags.sort_unstable();
    println!(
        "  {} single pushes from {} clients in {:.1}s ({:.0}/s), {} endpoints: {} of {expected} deliveries received",
        acked.len(),
        a.clients,
        pushed.as_secs_f64(),
        acked.len() as f64 / pushed.as_secs_f64(),
        a.endpoints,
        lags.len()
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  lag from the push's acknowledgement to receipt: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&lags, 0.5)),
        ms(percentile(&lags, 0.99)),
        ms(percentile(&lags, 1.0))
    );
    Ok(())
}

/// `receive --port P --events N`: a receiver alone (for replaying a drain against a kept
/// database): prints the receipt rate once N requests have arrived.
async fn receive_only(a: &Args) -> anyhow::Result<()> {
    let sink = Sink {
        log: Arc::new(Mutex::new(Vec::new())),
        parse: false,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", a.clients as u16)).await?;
    let app = Router::new().fallback(receive).with_state(sink.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    while sink.log.lock().unwrap().len() < a.events {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = sink.log.lock().unwrap().clone();
    let first = log.iter().map(|r| r.3).min().context("no receipt")?;
    let last = log.iter().map(|r| r.3).max().context("no receipt")?;
    let secs = (last - first).as_secs_f64();
    println!(
        "  received {} in {secs:.2}s: {:.0}/s",
        log.len(),
        log.len() as f64 / secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    match a.mode.as_str() {
        "drain" => drain(&a, &client).await,
        "live" => live(&a, &client).await,
        "receive" => receive_only(&a).await,
        other => bail!("unknown mode {other}: drain or live"),
    }
}
