//! The SSRF guard at connect time: every address a host resolves to is checked against the
//! network policy after resolution, inside the HTTP client's connector, so DNS rebinding (a
//! name that resolved to a public address at `POST` and to 127.0.0.1 now) cannot reach
//! inside. Literal addresses never reach a resolver and are checked before the request.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use shared::webhooks::NetworkPolicy;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<NetworkPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<NetworkPolicy>) -> Self {
        Self { policy }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match policy.refusal(a.ip()) {
                    None => true,
                    Some(why) => {
                        refusal.get_or_insert(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.unwrap_or_else(|| format!("{host} resolved to no address"));
                return Err(Box::new(Refused(format!("{host}: {why}"))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Why a URL's literal address may not be reached (`None`: not a literal, or allowed).
pub fn literal_refusal(url: &reqwest::Url, policy: &NetworkPolicy) -> Option<String> {
    let ip: IpAddr = match url.host()? {
        url::Host::Ipv4(ip) => ip.into(),
        url::Host::Ipv6(ip) => ip.into(),
        url::Host::Domain(_) => return None,
    };
    policy.refusal(ip)
}
