//! The SSRF guard's rules: which addresses a webhook may reach. Loopback, private (RFC 1918),
//! link-local (the cloud metadata address 169.254.169.254 among them), CGNAT, unique-local and
//! link-local IPv6, multicast, unspecified and broadcast addresses are refused — also in their
//! IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms — unless inside an allowed network
//! (`WEBHOOK_ALLOWED_NETWORKS`, a comma-separated CIDR list, empty by default).

use crate::config::ConfigError;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    allowed: Vec<IpNet>,
}

impl std::str::FromStr for NetworkPolicy {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let allowed = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("'{s}' is not a CIDR network (e.g. 10.0.0.0/8)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }
}

impl NetworkPolicy {
    /// `WEBHOOK_ALLOWED_NETWORKS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let raw = std::env::var("WEBHOOK_ALLOWED_NETWORKS").unwrap_or_default();
        raw.parse().map_err(|reason| ConfigError::Invalid {
            key: "WEBHOOK_ALLOWED_NETWORKS",
            reason,
        })
    }

    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Why `ip` may not be reached (`None`: it may).
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        let ip = canonical(ip);
        let reason = forbidden_range(ip)?;
        if self.allowed.iter().any(|net| net.contains(&ip)) {
            return None;
        }
        Some(format!(
            "{ip} is a {reason} address; webhooks may not reach it (an operator can allow it \
             with WEBHOOK_ALLOWED_NETWORKS)"
        ))
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address; any other address as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let compat = s[..6] == [0; 6] && !matches!(u32::from(tail), 0 | 1);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if compat || nat64 {
        IpAddr::V4(tail)
    } else {
        ip
    }
}

/// The kind of forbidden range `ip` falls in.
fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private (RFC 1918)"
    } else if ip.is_link_local() {
        "link-local"
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        "carrier-grade NAT (100.64.0.0/10)"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_broadcast() {
        "broadcast"
    } else if o[0] == 0 {
        "unspecified (0.0.0.0/8)"
    } else if o[0] >= 240 {
        "reserved (240.0.0.0/4)"
    } else {
        return None;
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if first & 0xfe00 == 0xfc00 {
        "unique-local (fc00::/7)"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local (fe80::/10)"
    } else if ip.is_multicast() {
        "multicast"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &NetworkPolicy, ip: &str) -> bool {
        policy.refusal(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn every_forbidden_range_is_refused_and_public_addresses_pass() {
        let p = NetworkPolicy::default();
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(&p, ip), "{ip} should be refused");
        }
        for ip in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(!refused(&p, ip), "{ip} should pass");
        }
    }

    #[test]
    fn allowed_networks_open_their_ranges_only() {
        let p: NetworkPolicy = "127.0.0.0/8, ::1/128".parse().unwrap();
        assert!(!refused(&p, "127.0.0.1"));
        assert!(!refused(&p, "::ffff:127.0.0.1"));
        assert!(!refused(&p, "::1"));
        assert!(refused(&p, "10.0.0.1"));
        assert!("10.0.0.0/33".parse::<NetworkPolicy>().is_err());
        assert!("nope".parse::<NetworkPolicy>().is_err());
    }
}
