//! Who the client is, for the per-address limits on `/login` and `/register`: the TCP peer,
//! unless the peer is a configured trusted proxy, in which case the rightmost address of
//! `X-Forwarded-For` that is not itself a trusted proxy. The edge is such a proxy for
//! command-service: it sets `X-Forwarded-For` to the client it saw (see query-service's
//! `proxy.rs`), and command-service trusts that header only from the addresses it is told to.

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// Addresses (or CIDR networks) whose `X-Forwarded-For` is believed, written as
/// `127.0.0.1,10.0.0.0/8,::1`. Empty: nobody's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Loopback only: the edge and command-service on one machine.
    pub fn loopback() -> Self {
        "127.0.0.0/8,::1".parse().unwrap_or_default()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("'{s}' is not an IP address or CIDR network"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// The client's address as described in the module comment; `None` without a peer.
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let mut client = peer?.ip().to_canonical();
    if !trusted.contains(client) {
        return Some(client);
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !trusted.contains(client) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(FORWARDED_FOR, xff.parse().unwrap());
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer = Some("203.0.113.9:5000".parse().unwrap());
        let ip = client_ip(peer, &headers("198.51.100.1"), &TrustedProxies::loopback());
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_trusted_peer_names_the_client_rightmost_untrusted_first() {
        let peer = Some("127.0.0.1:5000".parse().unwrap());
        let trusted: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        let ip = client_ip(peer, &headers("6.6.6.6, 198.51.100.1, 10.1.2.3"), &trusted);
        assert_eq!(ip, Some("198.51.100.1".parse().unwrap()));
        assert_eq!(
            client_ip(peer, &HeaderMap::new(), &trusted),
            Some("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn bad_proxy_lists_are_refused() {
        assert!("10.0.0.0/8,nonsense".parse::<TrustedProxies>().is_err());
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
    }
}
