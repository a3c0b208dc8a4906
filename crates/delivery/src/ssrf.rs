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
//! Both resolve through a [`Lookup`], the system resolver in production, so tests can play a rebinding DNS
//! server without any network.
//!
//! IPv6 has several ways of carrying an IPv4 address inside. NAT64's well-known prefix `64:ff9b::/96` reaches
//! the embedded IPv4 address through a translator, so it is judged by that address (public IPv4 receivers stay
//! reachable from IPv6-only hosts). The local-use NAT64 prefix `64:ff9b:1::/48`, 6to4 `2002::/16` and Teredo
//! `2001::/32` are refused outright: the first is a site's own translator (into its own network), and the
//! tunnelling schemes are obsolete and can be steered to internal relays.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
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
/// unspecified, multicast, broadcast, CGNAT (100.64/10), documentation and benchmark ranges, IPv6 unique-local,
/// link-local, site-local and discard-only, 6to4, Teredo, local-use NAT64, and IPv4-mapped, IPv4-compatible,
/// IPv4-translated and NAT64 (64:ff9b::/96) forms of the forbidden IPv4 addresses.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            let embedded = Ipv4Addr::from((u32::from(seg[6]) << 16) | u32::from(seg[7]));
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return forbidden_v4(embedded); // NAT64 well-known prefix: the translator goes to `embedded`
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x2001 && seg[1] == 0) // Teredo 2001::/32
                || seg[0] == 0x2002 // 6to4 2002::/16
                || seg[..3] == [0x64, 0xff9b, 1] // local-use NAT64 64:ff9b:1::/48
                || seg[..4] == [0x100, 0, 0, 0] // discard-only 100::/64
                || seg[..6] == [0, 0, 0, 0, 0xffff, 0] // IPv4-translated ::ffff:0:a.b.c.d
                || seg[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
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

/// Turns a host name into addresses: the system resolver in production ([`SystemLookup`]); tests stand in a
/// rebinding DNS server.
pub trait Lookup: Send + Sync + std::fmt::Debug + 'static {
    fn lookup<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;
}

/// The operating system's resolver (`getaddrinfo`, through Tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// Checks the scheme and resolves the host; every resolved address must be public unless `allow_private`.
pub async fn check_url(url: &Url, allow_private: bool) -> Result<(), SsrfError> {
    check_url_with(url, allow_private, &SystemLookup).await
}

/// [`check_url`] resolving through `lookup`.
pub async fn check_url_with(url: &Url, allow_private: bool, lookup: &dyn Lookup) -> Result<(), SsrfError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SsrfError::BadScheme(url.to_string()));
    }
    let host = url.host().ok_or_else(|| SsrfError::NoHost(url.to_string()))?;
    if allow_private {
        return Ok(());
    }
    let addrs: Vec<IpAddr> = match host {
        Host::Ipv4(ip) => vec![ip.into()],
        Host::Ipv6(ip) => vec![ip.into()],
        Host::Domain(name) => resolve(lookup, name).await?,
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    match addrs.iter().find(|ip| is_forbidden(**ip)) {
        Some(bad) => Err(SsrfError::Forbidden { host, ip: *bad }),
        None => Ok(()),
    }
}

async fn resolve(lookup: &dyn Lookup, name: &str) -> Result<Vec<IpAddr>, SsrfError> {
    let addrs = lookup
        .lookup(name)
        .await
        .map_err(|e| SsrfError::Unresolvable { host: name.to_owned(), reason: e.to_string() })?;
    if addrs.is_empty() {
        return Err(SsrfError::Unresolvable { host: name.to_owned(), reason: "no addresses".into() });
    }
    Ok(addrs)
}

/// A reqwest DNS resolver over a [`Lookup`] that, unless private addresses are allowed, drops internal
/// addresses and fails the connection when none is left.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    allow_private: bool,
}

impl GuardedResolver {
    pub fn new(lookup: Arc<dyn Lookup>, allow_private: bool) -> Self {
        Self { lookup, allow_private }
    }
}

impl Default for GuardedResolver {
    fn default() -> Self {
        Self::new(Arc::new(SystemLookup), false)
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        let (lookup, allow_private) = (self.lookup.clone(), self.allow_private);
        Box::pin(async move {
            let addrs = resolve(lookup.as_ref(), &name).await?;
            let usable: Vec<SocketAddr> = addrs
                .iter()
                .filter(|ip| allow_private || !is_forbidden(**ip))
                .map(|ip| SocketAddr::new(*ip, 0))
                .collect();
            if usable.is_empty() {
                let ip = addrs[0];
                return Err(
                    Box::new(SsrfError::Forbidden { host: name, ip }) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for addresses people typed: no redirects followed by itself (the caller checks each one), no
/// proxy, `timeout` overall and at most 10 s to connect, and every connection resolved through a
/// [`GuardedResolver`]. Webhook deliveries and link imports both use it.
pub fn guarded_client(
    lookup: Arc<dyn Lookup>,
    allow_private: bool,
    timeout: std::time::Duration,
    user_agent: &str,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(10)))
        .no_proxy()
        .user_agent(user_agent)
        .dns_resolver(Arc::new(GuardedResolver::new(lookup, allow_private)))
        .build()
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

    #[test]
    fn nat64_is_judged_by_the_embedded_ipv4_address() {
        for bad in ["64:ff9b::7f00:1", "64:ff9b::127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::"] {
            assert!(is_forbidden(bad.parse().unwrap()), "{bad} reaches an internal IPv4 address");
        }
        for good in ["64:ff9b::8.8.8.8", "64:ff9b::101:101"] {
            assert!(!is_forbidden(good.parse().unwrap()), "{good} is a public IPv4 address behind NAT64");
        }
        // The local-use prefix (RFC 8215) leads into the site's own network, whatever is embedded.
        for bad in ["64:ff9b:1::808:808", "64:ff9b:1:ffff::1"] {
            assert!(is_forbidden(bad.parse().unwrap()), "{bad}");
        }
    }

    #[test]
    fn six_to_four_teredo_and_other_ipv4_carriers_are_refused() {
        for bad in [
            "2002:7f00:1::1",                       // 6to4 of 127.0.0.1
            "2002:a00:1::1",                        // 6to4 of 10.0.0.1
            "2002:808:808::1",                      // 6to4 even of a public address: relays are obsolete
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001::1",
            "::ffff:0:7f00:1", // IPv4-translated 127.0.0.1
            "::7f00:1",        // IPv4-compatible 127.0.0.1
            "100::1",          // discard-only
        ] {
            assert!(is_forbidden(bad.parse().unwrap()), "{bad} must be forbidden");
        }
        for good in ["2001:4860:4860::8888", "2001:470::1", "2003::1", "2a00:1450:4001::1"] {
            assert!(!is_forbidden(good.parse().unwrap()), "{good} must be allowed");
        }
    }

    /// A resolver with a fixed answer.
    #[derive(Debug)]
    struct Fixed(Vec<IpAddr>);

    impl Lookup for Fixed {
        fn lookup<'a>(
            &'a self,
            _host: &'a str,
        ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
            let answer = self.0.clone();
            Box::pin(async move { Ok(answer) })
        }
    }

    #[tokio::test]
    async fn a_name_is_refused_when_any_of_its_addresses_is_internal() {
        let url = Url::parse("https://hooks.example.com/x").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for answer in [vec![ip("93.184.216.34"), ip("10.0.0.1")], vec![ip("64:ff9b::a00:1")], vec![ip("2002:a00:1::")]]
        {
            let err = check_url_with(&url, false, &Fixed(answer.clone())).await.unwrap_err();
            assert!(matches!(err, SsrfError::Forbidden { .. }), "{answer:?}: {err}");
        }
        check_url_with(&url, false, &Fixed(vec![ip("93.184.216.34"), ip("64:ff9b::808:808")])).await.unwrap();
        check_url_with(&url, true, &Fixed(vec![ip("10.0.0.1")])).await.unwrap();
        let err = check_url_with(&url, false, &Fixed(vec![])).await.unwrap_err();
        assert!(matches!(err, SsrfError::Unresolvable { .. }), "{err}");
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
