//! Loads a realistic data set through the public API's batch endpoint, with progress:
//! `gen_leads [--base URL] [--count 1000000] [--batch 1000] [--seed 42] [--key sk_live_...]`.
//! Without `--key` it registers a fresh account and prints its key.

use anyhow::{bail, Context};
use leadstream_tests::gen::{lead, Rng};
use serde_json::{json, Value};
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut base, mut count, mut batch, mut seed, mut key) = (
        "http://127.0.0.1:8080/api/v1".to_owned(),
        1_000_000u64,
        1000u64,
        42u64,
        None,
    );
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base" => base = value,
            "--count" => count = value.parse()?,
            "--batch" => batch = value.parse()?,
            "--seed" => seed = value.parse()?,
            "--key" => key = Some(value),
            other => bail!("unknown flag {other}"),
        }
    }
    let client = reqwest::Client::new();
    let key = match key {
        Some(k) => k,
        None => {
            let email = format!("gen-{}@bench.example", uuid::Uuid::new_v4().simple());
            let reg: Value = client
                .post(format!("{base}/register"))
                .json(&json!({"email": email, "password": "generator password"}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let k = reg["api_key"].as_str().context("no api_key")?.to_owned();
            println!("account {email}, key {k}");
            k
        }
    };

    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut sent = 0u64;
    // Build the next batch while the previous one is in flight.
    let mut in_flight: Option<tokio::task::JoinHandle<anyhow::Result<u64>>> = None;
    while sent < count {
        let n = batch.min(count - sent);
        let leads: Vec<Value> = (sent..sent + n).map(|i| lead(&mut rng, i)).collect();
        if let Some(prev) = in_flight.take() {
            prev.await??;
        }
        let (client, url, key) = (client.clone(), format!("{base}/leads/batch"), key.clone());
        in_flight = Some(tokio::spawn(async move {
            let resp = client
                .post(url)
                .header("X-API-Key", key)
                .json(&json!({"leads": leads}))
                .send()
                .await?;
            let status = resp.status();
            let body: Value = resp.json().await?;
            if !status.is_success() || body["failed"].as_u64() != Some(0) {
                bail!("batch answered {status}: {}", body["errors"]);
            }
            Ok(body["success"].as_u64().unwrap_or(0))
        }));
        sent += n;
        if sent % 50_000 < batch || sent == count {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{sent}/{count} leads sent, {:.0} leads/s",
                sent as f64 / secs
            );
        }
    }
    if let Some(prev) = in_flight.take() {
        prev.await??;
    }
    println!(
        "done: {count} leads in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
