//! `TOCHEN_TRUSTED_PROXIES`: the reverse proxies (Caddy, nginx...) whose word on the client's address is
//! believed.
//!
//! Behind a proxy every request arrives from the proxy's address, so a per-IP limit keyed on the peer would put
//! every client in one bucket. The proxy names the client in `X-Forwarded-For`, but any client can send that
//! header too: it is only read when the peer is one of these addresses (see `tochen-web`'s `client_ip`). The
//! default, empty, trusts nobody.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// IP addresses and CIDR ranges of trusted reverse proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of IP addresses (`10.0.0.7`, `::1`) and CIDR ranges (`10.0.0.0/8`,
    /// `fd00::/8`); blanks between commas are ignored. The error describes the first bad entry.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<IpAddr>() {
                Ok(ip) => IpNet::from(ip.to_canonical()),
                Err(_) => entry.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| {
                    format!(
                        "{entry:?} is not an IP address or a CIDR range; expected a comma-separated list like \
                         127.0.0.1,10.0.0.0/8,fd00::/8"
                    )
                })?,
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// True when no proxy is trusted (the peer address is the client).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies. An IPv4 address seen as IPv4-mapped IPv6 (`::ffff:10.0.0.1`,
    /// from a dual-stack listener) matches its IPv4 entry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&list.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn empty_trusts_nobody() {
        for raw in ["", " ", ",", " , "] {
            let p = TrustedProxies::parse(raw).unwrap();
            assert!(p.is_empty(), "{raw:?}");
            assert!(!p.contains(ip("127.0.0.1")));
        }
    }

    #[test]
    fn addresses_and_ranges_of_both_families_parse() {
        let p = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,::1, 192.168.1.77/24").unwrap();
        assert_eq!(p.to_string(), "127.0.0.1/32,10.0.0.0/8,fd00::/8,::1/128,192.168.1.0/24");
        for yes in ["127.0.0.1", "10.200.3.4", "fd12::5", "::1", "192.168.1.5"] {
            assert!(p.contains(ip(yes)), "{yes}");
        }
        for no in ["127.0.0.2", "11.0.0.1", "fe80::1", "::2", "192.168.2.1", "8.8.8.8"] {
            assert!(!p.contains(ip(no)), "{no}");
        }
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_entries() {
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert!(p.contains(ip("::ffff:10.1.2.3")));
        assert!(!p.contains(ip("::ffff:11.1.2.3")));
        let p = TrustedProxies::parse("::ffff:10.0.0.1").unwrap();
        assert!(p.contains(ip("10.0.0.1")));
    }

    #[test]
    fn bad_entries_are_named() {
        for (raw, bad) in [
            ("10.0.0.1,10.0.0.300", "10.0.0.300"),
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("proxy.internal", "proxy.internal"),
            ("10.0.0.1:8080", "10.0.0.1:8080"),
            ("10.0.0.0/", "10.0.0.0/"),
            ("fd00::/129", "fd00::/129"),
        ] {
            let err = TrustedProxies::parse(raw).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{raw}: {err}");
            assert!(!err.contains('\n'));
        }
    }
}
