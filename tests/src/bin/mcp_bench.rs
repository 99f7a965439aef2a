//! The MCP gateway's overhead and the statistics, on the read bench's data set:
//! `tools/call list_leads` (a filter and a sort, limit 50) next to the same `GET /leads`, and
//! `GET /stats`, `/stats/categories`, `/stats/cities` — p50/p95 over `--requests` runs each,
//! one client, after a warm-up. `mcp_bench --base URL --key sk_live_... [--requests 200]`.

use leadstream_tests::mcp::{Era, Mcp};
use serde_json::json;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn report(name: &str, mut times: Vec<Duration>) -> (f64, f64) {
    times.sort_unstable();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    println!("{name:<44} p50 {p50:>7.2} ms  p95 {p95:>7.2} ms");
    (p50, p95)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let leadstream_tests::bench::BenchContext {
        base, key, extra, ..
    } = leadstream_tests::bench::bench_context(("--requests", 200)).await?;
    let requests = extra as usize;
    let edge = base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .parse()?;
    let mcp = Mcp::connect_to(edge, &key, Era::Handshake, "mcp-bench").await?;
    let client = reqwest::Client::new();
    let rest_url =
        format!("{base}/leads?filter=and.eq.city.Lyon&sort_by=rating&sort_order=DESC&limit=50");
    let args = json!({"filters": ["and.eq.city.Lyon"], "sort": "rating", "sort_order": "DESC", "limit": 50});
    let (mut rest, mut tool) = (Vec::new(), Vec::new());
    for i in 0..requests + 20 {
        let started = Instant::now();
        let resp = client
            .get(&rest_url)
            .header("x-api-key", &key)
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "GET /leads: {}", resp.status());
        let body: serde_json::Value = resp.json().await?;
        let rest_time = started.elapsed();
        let started = Instant::now();
        let out = mcp.ok("list_leads", args.clone()).await;
        let tool_time = started.elapsed();
        anyhow::ensure!(
            out["data"].as_array().map(Vec::len) == body["leads"].as_array().map(Vec::len),
            "the tool and the route disagree"
        );
        if i >= 20 {
            rest.push(rest_time);
            tool.push(tool_time);
        }
    }
    let (_, rest_p95) = report("GET /leads (city eq, rating desc, 50)", rest);
    let (_, tool_p95) = report("tools/call list_leads (the same)", tool);
    println!(
        "list_leads p95 / REST p95: {:.2}x (target within 1.5x)",
        tool_p95 / rest_p95
    );
    for path in ["/stats", "/stats/categories", "/stats/cities"] {
        let mut times = Vec::new();
        for i in 0..requests + 20 {
            let started = Instant::now();
            let resp = client
                .get(format!("{base}{path}"))
                .header("x-api-key", &key)
                .send()
                .await?;
            anyhow::ensure!(resp.status().is_success(), "GET {path}: {}", resp.status());
            resp.bytes().await?;
            if i >= 20 {
                times.push(started.elapsed());
            }
        }
        report(&format!("GET {path}"), times);
    }
    mcp.close().await;
    Ok(())
}
