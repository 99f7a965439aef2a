//! The list-query bench: for a fixed set of list queries, the latency of `GET /leads` through
//! the public HTTP API and of the very SQL query-service runs for it, run directly against
//! Postgres, side by side (p50/p95 over `--requests` runs each, one client, after a warm-up).
//! `read_bench --base URL --key sk_live_... [--requests 200]`, `DATABASE_URL` for the SQL.

use anyhow::{bail, Context};
use query_service::cursor::{Cursor, CursorSigner};
use serde_json::json;
use shared::query::parse_list_query;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Bench {
    client: reqwest::Client,
    base: String,
    key: String,
    pool: PgPool,
    tenant: Uuid,
    signer: CursorSigner,
    requests: usize,
}

impl Bench {
    async fn http(&self, params: &str) -> anyhow::Result<(Duration, usize)> {
        let started = Instant::now();
        let resp = self
            .client
            .get(format!("{}/leads?{params}", self.base))
            .header("X-API-Key", &self.key)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!("{params}: {status} {}", String::from_utf8_lossy(&body));
        }
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        Ok((elapsed, v["count"].as_u64().unwrap_or(0) as usize))
    }

    async fn sql(&self, params: &str) -> anyhow::Result<(Duration, usize)> {
        let query = parse_list_query(params)?;
        let cursor = match &query.cursor {
            Some(raw) => Some(self.signer.decode(
                raw,
                &query.sort.key.name(),
                query.sort.descending,
            )?),
            None => None,
        };
        let started = Instant::now();
        let mut select = query_service::list::select(
            self.tenant,
            &query,
            cursor.as_ref(),
            Some(i64::from(query.limit) + 1),
        )
        .context("cursor does not fit")?;
        let rows = select
            .build()
            .persistent(false)
            .fetch_all(&self.pool)
            .await?;
        Ok((started.elapsed(), rows.len().min(query.limit as usize)))
    }

    async fn run(&self, name: &str, params: &str) -> anyhow::Result<(f64, f64)> {
        for _ in 0..5 {
            self.http(params).await?;
            self.sql(params).await?;
        }
        let (mut http, mut sql) = (Vec::new(), Vec::new());
        let mut rows = (0, 0);
        // Interleaved, so both see the same cache and machine state.
        for _ in 0..self.requests {
            let (t, n) = self.http(params).await?;
            http.push(t);
            rows.0 = n;
            let (t, n) = self.sql(params).await?;
            sql.push(t);
            rows.1 = n;
        }
        if rows.0 != rows.1 {
            bail!("{name}: HTTP gave {} rows, SQL {}", rows.0, rows.1);
        }
        http.sort();
        sql.sort();
        let (hp50, hp95, sp50, sp95) = (
            percentile(&http, 0.5),
            percentile(&http, 0.95),
            percentile(&sql, 0.5),
            percentile(&sql, 0.95),
        );
        let budget = 2.0 * sp95 + 2.0;
        println!(
            "{name:<34} {:>5} {hp50:>9.2} {hp95:>9.2} {sp50:>9.2} {sp95:>9.2} {budget:>9.2}  {}",
            rows.0,
            if hp95 <= budget { "ok" } else { "MISS" }
        );
        Ok((hp95, budget))
    }

    /// What read-your-writes costs: the freshness check every read makes (one query when the
    /// projector is caught up), and a read right after a write (it waits for the projector)
    /// against the same read with no write before it.
    async fn read_your_writes(&self) -> anyhow::Result<()> {
        let mut check = Vec::new();
        for _ in 0..self.requests {
            let started = Instant::now();
            let freshness = query_service::consistency::wait_for_tenant(
                &self.pool,
                self.tenant,
                shared::read_model::LEAD_VIEW_CHECKPOINT,
                Duration::ZERO,
            )
            .await?;
            check.push(started.elapsed());
            if freshness != query_service::consistency::Freshness::Fresh {
                bail!("the projector is behind");
            }
        }
        // A fresh account, so the data set stays as generated.
        let email = format!("ryw-{}@bench.example", Uuid::new_v4().simple());
        let reg: serde_json::Value = self
            .client
            .post(format!("{}/register", self.base))
            .json(&json!({"email": email, "password": "read your writes"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let key = reg["api_key"].as_str().context("no api_key")?.to_owned();
        let (mut after_write, mut plain) = (Vec::new(), Vec::new());
        for i in 0..self.requests.min(200) {
            let created: serde_json::Value = self
                .client
                .post(format!("{}/leads", self.base))
                .header("X-API-Key", &key)
                .json(&json!({"name": format!("Fresh {i}"), "source": "bench", "city": "Lyon"}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let url = format!(
                "{}/leads/{}",
                self.base,
                created["id"].as_str().unwrap_or("")
            );
            for (samples, label) in [(&mut after_write, "after"), (&mut plain, "plain")] {
                let started = Instant::now();
                let resp = self
                    .client
                    .get(&url)
                    .header("X-API-Key", &key)
                    .send()
                    .await?;
                let fresh = resp
                    .headers()
                    .get("x-read-consistency")
                    .is_some_and(|v| v == "fresh");
                if !resp.status().is_success() || !fresh {
                    bail!("read {label} write: {} fresh={fresh}", resp.status());
                }
                resp.bytes().await?;
                samples.push(started.elapsed());
            }
        }
        for v in [&mut check, &mut after_write, &mut plain] {
            v.sort();
        }
        println!();
        println!("== read-your-writes ==");
        println!(
            "freshness check when caught up (one query per read): p50 {:.2} ms, p95 {:.2} ms",
            percentile(&check, 0.5),
            percentile(&check, 0.95)
        );
        println!(
            "GET /leads/{{id}} right after POST /leads: p50 {:.2} ms, p95 {:.2} ms; the same GET again: p50 {:.2} ms, p95 {:.2} ms ({} pairs, all fresh)",
            percentile(&after_write, 0.5),
            percentile(&after_write, 0.95),
            percentile(&plain, 0.5),
            percentile(&plain, 0.95),
            plain.len()
        );
        Ok(())
    }

    /// A signed cursor positioned `depth` rows into the list sorted by `created_at`.
    async fn deep_cursor(&self, depth: i64) -> anyhow::Result<String> {
        let (created_at, id): (i64, Uuid) = sqlx::query_as(
            "SELECT created_at, lead_id FROM lead_view WHERE tenant_id = $1 AND NOT deleted
             ORDER BY created_at, lead_id OFFSET $2 LIMIT 1",
        )
        .bind(self.tenant)
        .bind(depth)
        .fetch_one(&self.pool)
        .await?;
        Ok(self.signer.encode(&Cursor {
            sort: "created_at".into(),
            descending: false,
            value: json!(created_at),
            id,
        }))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let leadstream_tests::bench::BenchContext {
        base,
        key,
        extra,
        pool,
        tenant,
    } = leadstream_tests::bench::bench_context(("--requests", 200)).await?;
    let requests = extra as usize;
    let bench = Bench {
        client: reqwest::Client::new(),
        base,
        key,
        signer: CursorSigner::from_database(&pool).await?,
        pool,
        tenant,
        requests,
    };
    let deep = bench.deep_cursor(500_000).await?;
    let queries = [
        (
            "city eq + rating gte, rating desc",
            "filter=and.eq.city.Lyon&filter=and.gte.rating.4.5&sort_by=rating&sort_order=desc"
                .to_owned(),
        ),
        ("deep keyset page (500,000 in)", format!("cursor={deep}")),
        (
            "attribute attr:employees >= 1500",
            "filter=and.gte.attr:employees.1500".to_owned(),
        ),
        ("tag vip", "filter=and.array_contains.tags.vip".to_owned()),
        (
            "within 5 km of Lyon",
            "filter=and.within_radius.location.45.764,4.8357,5".to_owned(),
        ),
        (
            "city Lyon or city Bordeaux",
            "filter=and.eq.city.Lyon&filter=or.eq.city.Bordeaux".to_owned(),
        ),
    ];
    println!(
        "{:<34} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "query (limit 50)", "rows", "HTTP p50", "HTTP p95", "SQL p50", "SQL p95", "2xSQL+2"
    );
    let mut missed = 0;
    for (name, params) in &queries {
        let (p95, budget) = bench.run(name, params).await?;
        missed += usize::from(p95 > budget);
    }
    println!("latencies in ms over {requests} runs each; {missed} queries above the 2x SQL + 2 ms budget at p95");
    bench.read_your_writes().await?;
    Ok(())
}
