//! Where webhooks may deliver: never, by default, into Wheelhouse's own
//! network (loopback, link-local such as the cloud metadata address, private,
//! shared and unspecified addresses), unless an admin allows a network with
//! `--webhook-allow`. Checked on the address actually connected to: names are
//! resolved here, so a name that resolves to a private address is refused too.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Why a destination was refused; found in a failed request's error chain.
#[derive(Debug, thiserror::Error)]
#[error("the destination is not allowed: it is a loopback, link-local, private or unspecified address")]
pub struct Refused;

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// The addresses webhooks may not reach, minus the networks allowed.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub allow: Arc<Vec<IpNet>>,
}

impl Policy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => !forbidden_v4(v4),
            IpAddr::V6(v6) => !forbidden_v6(v6),
        }
    }
}

/// Resolves receiver names and keeps only permitted addresses.
impl reqwest::dns::Resolve for Policy {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> =
                resolved.into_iter().filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let policy = Policy::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!policy.permits(ip(refused)), "{refused}");
        }
        for allowed in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"] {
            assert!(policy.permits(ip(allowed)), "{allowed}");
        }
        let policy = Policy { allow: Arc::new(vec!["10.0.0.0/8".parse().unwrap()]) };
        assert!(policy.permits(ip("10.1.2.3")), "an allowed network");
        assert!(!policy.permits(ip("127.0.0.1")));
    }
}
