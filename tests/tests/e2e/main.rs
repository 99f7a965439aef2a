//! The end-to-end suite as one test binary (one link instead of one per file): each module is
//! an area, its tests against real Postgres, real NATS and real HTTP.

mod accounts_api;
mod api_keys;
mod attributes_api;
mod bad_input;
mod batch_api;
mod dedup_races;
mod edge;
mod edge_hardening;
mod event_store;
mod export_api;
mod extreme_values;
mod lead_view;
mod leads_api;
mod list_api;
mod mcp_gateway;
mod notes_api;
mod projection_runner;
mod rate_limits;
mod read_side;
mod reads;
mod relay;
mod rescore_jobs;
mod scoring_api;
mod settings;
mod snapshots;
mod stats_api;
mod tail_soak;
mod tenancy;
mod unheld_follower;
mod webhooks_api;
mod webhooks_delivery;
mod webhooks_resilience;
mod webhooks_retries;
