//! Who a request comes from, for the per-IP rate limit.
//!
//! Directly on the internet the TCP peer is the client. Behind a reverse proxy the peer is the proxy, and the
//! proxy appends the address it saw to `X-Forwarded-For`. The header is read only when the peer is a trusted
//! proxy (`TOCHEN_TRUSTED_PROXIES`): anyone else could write whatever they like into it. Even then only the part
//! trusted proxies wrote is believed: walking the list from the right, each address a trusted proxy vouched for
//! is either another trusted proxy (a chain: CDN -> load balancer -> Caddy) or the client. Addresses further
//! left were written by the client itself and are ignored, so a client cannot pick its own rate-limit bucket.
//! `Forwarded` (RFC 7239) is not read; proxies that only send it leave the peer address as the key.

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};
use tochen_config::TrustedProxies;

/// The address a request from `peer` is attributed to: `peer` unless it is a trusted proxy, else the right-most
/// `X-Forwarded-For` address that is not a trusted proxy (all header lines read as one list, in order). When
/// every address is a trusted proxy, the left-most one; an entry that is not an address stops the walk at the
/// last address a trusted proxy vouched for.
pub fn client_ip(trusted: &TrustedProxies, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    for line in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(line) = line.to_str() else { return client };
        for entry in line.rsplit(',') {
            let Some(ip) = parse_entry(entry.trim()) else { return client };
            client = ip;
            if !trusted.contains(ip) {
                return ip;
            }
        }
    }
    client
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`, with a port (`192.0.2.1:5000`,
/// `[2001:db8::1]:5000`) or in brackets.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", HeaderValue::from_str(l).unwrap());
        }
        h
    }

    fn proxies(raw: &str) -> TrustedProxies {
        TrustedProxies::parse(raw).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_never_read() {
        let h = forwarded(&["203.0.113.9"]);
        assert_eq!(client_ip(&TrustedProxies::default(), ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        let t = proxies("10.0.0.0/8");
        let h = forwarded(&["203.0.113.9, 10.0.0.2"]);
        assert_eq!(client_ip(&t, ip("198.51.100.7"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let t = proxies("10.0.0.1");
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["203.0.113.9"])), ip("203.0.113.9"));
        // Dual-stack listeners report IPv4 peers as IPv4-mapped IPv6.
        assert_eq!(client_ip(&t, ip("::ffff:10.0.0.1"), &forwarded(&["203.0.113.9"])), ip("203.0.113.9"));
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["2001:db8::7"])), ip("2001:db8::7"));
    }

    #[test]
    fn what_the_client_wrote_left_of_the_proxy_entry_is_ignored() {
        // The client sent `X-Forwarded-For: 1.1.1.1, 10.0.0.5`; the proxy appended the address it saw.
        let t = proxies("10.0.0.1");
        let h = forwarded(&["1.1.1.1, 10.0.0.5, 203.0.113.9"]);
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn a_chain_of_proxies_is_walked_from_the_right() {
        // client -> CDN 192.0.2.10 -> load balancer 10.0.0.2 -> Caddy 10.0.0.1 -> tochen
        let t = proxies("10.0.0.0/8, 192.0.2.0/24");
        let h = forwarded(&["198.51.100.1, 203.0.113.9, 192.0.2.10, 10.0.0.2"]);
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        let h = forwarded(&["198.51.100.1, 203.0.113.9", "192.0.2.10", "10.0.0.2"]);
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn only_trusted_addresses_give_the_left_most() {
        let t = proxies("10.0.0.0/8");
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["10.0.0.9, 10.0.0.2"])), ip("10.0.0.9"));
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"), "no header: the proxy");
    }

    #[test]
    fn entries_with_ports_or_brackets_are_read_and_garbage_stops_the_walk() {
        let t = proxies("10.0.0.0/8");
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["203.0.113.9:5123"])), ip("203.0.113.9"));
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["[2001:db8::7]:443"])), ip("2001:db8::7"));
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["[2001:db8::7]"])), ip("2001:db8::7"));
        // Garbage where a trusted proxy should have written an address: the last address vouched for.
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["unknown, 10.0.0.2"])), ip("10.0.0.2"));
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &forwarded(&["203.0.113.9, "])), ip("10.0.0.1"));
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_bytes(b"203.0.113.9\xff").unwrap());
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }
}
