//! Write-side load generator: single `POST /leads` with N concurrent clients (a share of them
//! re-pushes that dedup-merge), then 1,000-lead batches. Talks HTTP to a running system:
//! `push_bench [--base URL] [--clients 8] [--requests 4000] [--dup-share 0.2] [--batches 10]
//! [--batch-size 1000] [--warmup 500]`.

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    base: String,
    clients: usize,
    requests: usize,
    dup_share: f64,
    batches: usize,
    batch_size: usize,
    warmup: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        base: "http://127.0.0.1:8080/api/v1".into(),
        clients: 8,
        requests: 4000,
        dup_share: 0.2,
        batches: 10,
        batch_size: 1000,
        warmup: 500,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base" => a.base = value,
            "--clients" => a.clients = value.parse()?,
            "--requests" => a.requests = value.parse()?,
            "--dup-share" => a.dup_share = value.parse()?,
            "--batches" => a.batches = value.parse()?,
            "--batch-size" => a.batch_size = value.parse()?,
            "--warmup" => a.warmup = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

const CITIES: [&str; 8] = [
    "Paris", "Berlin", "Lyon", "Athens", "Oslo", "Madrid", "Rome", "Vienna",
];

fn lead(i: usize, run: &str) -> Value {
    json!({
        "name": format!("Business {i} {run}"),
        "source": "bench",
        "email": format!("lead{i}.{run}@bench.example"),
        "phone": format!("+33 1 {:08}", i),
        "city": CITIES[i % CITIES.len()],
        "rating": (i % 50) as f64 / 10.0,
        "tags": ["bench", CITIES[i % CITIES.len()].to_lowercase()],
        "attributes": [{"name": "employees", "type": "number", "value": i % 500}]
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let reg: Value = client
        .post(format!("{}/register", args.base))
        .json(&json!({"email": format!("bench-{run}@bench.example"), "password": "benchmark password"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let key = reg["api_key"].as_str().context("no api_key")?.to_owned();

    // Warm up connections, caches and prepared statements; not measured.
    for i in 0..args.warmup {
        client
            .post(format!("{}/leads", args.base))
            .header("X-API-Key", &key)
            .json(&lead(10_000_000 + i, &run))
            .send()
            .await?
            .error_for_status()?;
    }

    // Single pushes: each client takes the next number; every 1/dup_share-th push repeats an
    // earlier lead's e-mail, so it is a dedup merge instead of a create.
    let next = Arc::new(AtomicUsize::new(0));
    let dup_every = if args.dup_share > 0.0 {
        (1.0 / args.dup_share).round() as usize
    } else {
        usize::MAX
    };
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.clients {
        let (client, key, next, base, run) = (
            client.clone(),
            key.clone(),
            next.clone(),
            args.base.clone(),
            run.clone(),
        );
        let total = args.requests;
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let (mut created, mut merged) = (0usize, 0usize);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let body = if n > 0 && n % dup_every == 0 {
                    lead(n / 2, &run)
                } else {
                    lead(n, &run)
                };
                let t = Instant::now();
                let resp = client
                    .post(format!("{base}/leads"))
                    .header("X-API-Key", &key)
                    .json(&body)
                    .send()
                    .await?;
                let status = resp.status();
                resp.bytes().await?;
                samples.push(t.elapsed());
                match status.as_u16() {
                    201 => created += 1,
                    200 => merged += 1,
                    other => bail!("push answered {other}"),
                }
            }
            Ok::<_, anyhow::Error>((samples, created, merged))
        }));
    }
    let (mut samples, mut created, mut merged) = (Vec::new(), 0, 0);
    for w in workers {
        let (s, c, m) = w.await??;
        samples.extend(s);
        created += c;
        merged += m;
    }
    let elapsed = started.elapsed();
    samples.sort_unstable();
    println!("single POST /leads, {} clients, {} requests ({created} created, {merged} merged by dedup):", args.clients, samples.len());
    println!(
        "  p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(percentile(&samples, 1.0))
    );
    println!(
        "  {:.0} requests/s, {:.0} creates/s",
        samples.len() as f64 / elapsed.as_secs_f64(),
        created as f64 / elapsed.as_secs_f64()
    );

    let mut batch_times = Vec::new();
    for b in 0..args.batches {
        let leads: Vec<Value> = (0..args.batch_size)
            .map(|i| lead(1_000_000 + b * args.batch_size + i, &run))
            .collect();
        let body = json!({"leads": leads});
        let t = Instant::now();
        let resp = client
            .post(format!("{}/leads/batch", args.base))
            .header("X-API-Key", &key)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let out: Value = resp.json().await?;
        batch_times.push(t.elapsed());
        if status.as_u16() != 201 || out["success"].as_u64() != Some(args.batch_size as u64) {
            bail!("batch answered {status}: {}", out["errors"]);
        }
    }
    if !batch_times.is_empty() {
        let total: Duration = batch_times.iter().sum();
        batch_times.sort_unstable();
        println!(
            "POST /leads/batch of {} new leads, {} batches, one client:",
            args.batch_size,
            batch_times.len()
        );
        println!(
            "  p50 {:.1} ms   max {:.1} ms   {:.0} leads/s",
            ms(percentile(&batch_times, 0.5)),
            ms(percentile(&batch_times, 1.0)),
            (args.batch_size * batch_times.len()) as f64 / total.as_secs_f64()
        );
    }
    Ok(())
}
