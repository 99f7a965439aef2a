//! The scoring bench: (1) rule evaluation speed — five rules over leads of the data set, in
//! memory, nanoseconds per rule per lead; (2) a full rescore of the account through the API —
//! create the five rules and time until the background jobs have rescored every lead (leads/s,
//! `LeadScored` events written), then until the projector has applied them.
//! `score_bench --base URL --key sk_live_... [--sample 100000]`, `DATABASE_URL` for the data.

use anyhow::bail;
use serde_json::{json, Value};
use shared::read_model::{decode_row, Tables, LEAD_COLUMNS};
use shared::scoring::{score, Expr, LeadSchema, Rule};
use std::hint::black_box;
use std::time::{Duration, Instant};

const RULES: [(&str, &str, f64); 5] = [
    ("has email", "email != nil ? 20 : 0", 1.0),
    ("rating", "rating >= 4.5 ? 25 : rating >= 4 ? 15 : 0", 1.0),
    (
        "reviewed and reachable",
        "review_count > 100 && phone != nil ? 15 : 0",
        1.0,
    ),
    (
        "size",
        "attr_employees >= 500 ? 20 : attr_employees / 50",
        1.0,
    ),
    (
        "paris or verified",
        "city == \"Paris\" || attr_verified ? 10 : 0",
        1.5,
    ),
];

async fn scored_events(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'LeadScored'")
            .fetch_one(pool)
            .await?,
    )
}

struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-API-Key", &self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{path}: {status} {text}");
        }
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// Waits until no rescore job of the account is pending or running; answers the newest.
    async fn wait_for_jobs(&self) -> anyhow::Result<Value> {
        let mut last_report = Instant::now();
        loop {
            let jobs = self
                .call(reqwest::Method::GET, "/scoring-jobs", None)
                .await?;
            let list = jobs["jobs"].as_array().cloned().unwrap_or_default();
            let open: Vec<&Value> = list
                .iter()
                .filter(|j| j["status"] == "pending" || j["status"] == "running")
                .collect();
            if open.is_empty() {
                return Ok(list.first().cloned().unwrap_or(Value::Null));
            }
            if last_report.elapsed() >= Duration::from_secs(10) {
                println!(
                    "  rescore: {} of {} leads",
                    open[0]["done"], open[0]["total"]
                );
                last_report = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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
    } = leadstream_tests::bench::bench_context(("--sample", 100_000)).await?;
    let sample = extra as i64;

    // (1) Evaluation speed, in memory.
    let rows = sqlx::query(&format!(
        "SELECT {LEAD_COLUMNS} FROM {} WHERE v.tenant_id = $1 AND NOT v.deleted LIMIT $2",
        Tables::live().lead_rows()
    ))
    .bind(tenant)
    .bind(sample)
    .fetch_all(&pool)
    .await?;
    let leads = rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?;
    let rules: Vec<Rule> = RULES
        .iter()
        .map(|(_, src, weight)| {
            Ok(Rule {
                expr: Expr::compile(src, &LeadSchema)?,
                weight: *weight,
            })
        })
        .collect::<Result<_, shared::scoring::CompileError>>()?;
    // Over leads in cache (a rescore scores each batch right after loading it), then over the
    // whole sample (mostly cache misses: each lead's fields and attributes live apart).
    let hot = &leads[..leads.len().min(1000)];
    for (label, set, rounds) in [("in cache", hot, 500), ("over the sample", &leads[..], 5)] {
        let mut total = 0.0;
        for lead in set {
            total += score(&rules, lead); // warm-up
        }
        let started = Instant::now();
        for _ in 0..rounds {
            for lead in set {
                total += score(black_box(&rules), black_box(lead));
            }
        }
        let elapsed = started.elapsed();
        let evaluations = (rounds * set.len() * rules.len()) as f64;
        black_box(total);
        println!(
            "rule evaluation {label}: {:.1} ns per rule per lead ({} leads x {} rules x {rounds} rounds in {:.3} s; mean score {:.1})",
            elapsed.as_nanos() as f64 / evaluations,
            set.len(),
            rules.len(),
            elapsed.as_secs_f64(),
            total / ((rounds + 1) * set.len()) as f64
        );
    }

    // (2) A full rescore through the API.
    let api = Api {
        client: reqwest::Client::new(),
        base,
        key,
    };
    let existing = api
        .call(reqwest::Method::GET, "/scoring-rules", None)
        .await?;
    let existing = existing["rules"].as_array().cloned().unwrap_or_default();
    if !existing.is_empty() {
        println!(
            "removing the {} rules of an earlier run (scores back to 0) ...",
            existing.len()
        );
        let started = Instant::now();
        let before = scored_events(&pool).await?;
        for r in &existing {
            let id = r["id"].as_str().unwrap_or_default();
            api.call(
                reqwest::Method::DELETE,
                &format!("/scoring-rules/{id}"),
                None,
            )
            .await?;
        }
        let job = api.wait_for_jobs().await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  reset: {} leads in {secs:.1} s = {:.0} leads/s, {} LeadScored events",
            job["done"],
            job["done"].as_f64().unwrap_or(0.0) / secs,
            scored_events(&pool).await? - before
        );
    }
    let before = scored_events(&pool).await?;
    let started = Instant::now();
    for (name, expression, weight) in RULES {
        api.call(
            reqwest::Method::POST,
            "/scoring-rules",
            Some(json!({"name": name, "expression": expression, "weight": weight})),
        )
        .await?;
    }
    let job = api.wait_for_jobs().await?;
    let secs = started.elapsed().as_secs_f64();
    let written = scored_events(&pool).await? - before;
    println!(
        "full rescore with 5 rules: {} leads in {secs:.1} s = {:.0} leads/s end to end, {written} LeadScored events written",
        job["done"],
        job["done"].as_f64().unwrap_or(0.0) / secs
    );
    while !shared::store::has_passed(&mut *pool.acquire().await?, "lead-view", None).await? {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "  the read model had applied them {:.1} s after the first rule was created",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
