//! Server-side request forgery guard for outgoing webhooks.
//!
//! A tenant types the webhook URL, so without a guard tochen could be told to POST into its own network
//! (metadata services on 169.254.169.254, the database on 127.0.0.1, a router on 192.168.0.1). Two checks close
//! that door:
//!
//! 1. [`check_url`] resolves the host before the request and refuses if ANY address is internal, so the tenant
//!    gets a clear error when adding the destination and at every delivery.
//! 2. [`GuardedResolver`] is installed as reqwest's DNS resolver, so the addresses the connection actually uses
//!    are filtered again at connect time. A name that resolved to a public address during the check and to
//!    127.0.0.1 a moment later (DNS rebinding) still cannot reach the inside.
//!
//! Both are skipped when `TOCHEN_WEBHOOK_ALLOW_PRIVATE=true` (self-hosters whose receivers live on their LAN).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("{0:?} is not a url; expected something like https://example.com/hooks/tochen")]
    NotAUrl(String),
    #[error("webhook url {0:?} must use http or https")]
    BadScheme(String),
    #[error("webhook url {0:?} has no host")]
    NoHost(String),
    #[error("webhook host {host:?} resolves to {ip}, a private, loopback or link-local address; set TOCHEN_WEBHOOK_ALLOW_PRIVATE=true to allow it")]
    Forbidden { host: String, ip: IpAddr },
    #[error("webhook host {host:?} cannot be resolved: {reason}")]
    Unresolvable { host: String, reason: String },
}

/// True for any address a public webhook receiver cannot have: loopback, private (RFC 1918), link-local,
/// unspecified, multicast, broadcast, CGNAT (100.64/10), documentation and benchmark ranges, IPv6 unique-local
/// and link-local, and IPv4-mapped IPv6 forms of all of these.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0)
                || (v6.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (b & 0xc0) == 64) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

/// Checks the scheme and resolves the host; every resolved address must be public unless `allow_private`.
pub async fn check_url(url: &Url, allow_private: bool) -> Result<(), SsrfError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SsrfError::BadScheme(url.to_string()));
    }
    let host = url.host().ok_or_else(|| SsrfError::NoHost(url.to_string()))?;
    if allow_private {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
        Host::Domain(name) => resolve(name, port).await?,
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    match addrs.iter().find(|a| is_forbidden(a.ip())) {
        Some(bad) => Err(SsrfError::Forbidden { host, ip: bad.ip() }),
        None => Ok(()),
    }
}

async fn resolve(name: &str, port: u16) -> Result<Vec<SocketAddr>, SsrfError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
        .await
        .map_err(|e| SsrfError::Unresolvable { host: name.to_owned(), reason: e.to_string() })?
        .collect();
    if addrs.is_empty() {
        return Err(SsrfError::Unresolvable { host: name.to_owned(), reason: "no addresses".into() });
    }
    Ok(addrs)
}

/// A reqwest DNS resolver that drops internal addresses, failing the connection when none is left.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(&name, 0).await?;
            let public: Vec<SocketAddr> = addrs.iter().copied().filter(|a| !is_forbidden(a.ip())).collect();
            if public.is_empty() {
                let ip = addrs[0].ip();
                return Err(
                    Box::new(SsrfError::Forbidden { host: name, ip }) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_forbidden_and_public_ones_are_not() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "ff02::1",
        ] {
            assert!(is_forbidden(bad.parse().unwrap()), "{bad} must be forbidden");
        }
        for good in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_forbidden(good.parse().unwrap()), "{good} must be allowed");
        }
    }

    #[tokio::test]
    async fn literal_and_resolved_internal_hosts_are_refused() {
        for url in ["http://127.0.0.1:8080/hook", "http://[::1]/hook", "https://localhost/hook", "http://10.0.0.5/"] {
            let err = check_url(&Url::parse(url).unwrap(), false).await.unwrap_err();
            assert!(matches!(err, SsrfError::Forbidden { .. }), "{url}: {err}");
        }
        check_url(&Url::parse("http://127.0.0.1/hook").unwrap(), true).await.unwrap();
        let err = check_url(&Url::parse("ftp://example.com/").unwrap(), true).await.unwrap_err();
        assert!(matches!(err, SsrfError::BadScheme(_)));
    }
}
