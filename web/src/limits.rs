//! How much traffic the public routes take: per client address for anything unsigned, per route for signed
//! webhooks.
//!
//! Meta and TikTok deliver webhooks from a handful of shared addresses, so a per-address limit in front of the
//! signature check turned a burst of real deliveries into 429s. Signed routes therefore check the signature
//! first (once, in the handler): a valid one skips the per-address limit and takes a token from its route's
//! shared limit instead, which keeps a flood of (possibly replayed) valid requests from swamping the database;
//! a missing or wrong one counts against the sender's address like any unsigned request, so forging is no way
//! around the limit, and forged requests never drain the shared bucket real deliveries need.
//!
//! Memory stays bounded: IPv6 clients are keyed by their /64 (one customer's allocation, so nobody spreads
//! requests over 2^64 addresses, nor fills the table with them), and [`Limits::forget_idle`], run every
//! [`FORGET_EVERY`] by a background task, drops every address whose allowance has refilled (it is then
//! indistinguishable from an address never seen) and gives the table's spare capacity back.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::{NoOpMiddleware, StateInformationMiddleware};
use governor::state::keyed::DashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tochen_config::RateLimits;

/// Requests per second allowed from one client address (an IPv6 /64), and how many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_second: 50, burst: 200 }
    }
}

impl From<&RateLimits> for RateLimit {
    fn from(r: &RateLimits) -> Self {
        Self { per_second: r.per_ip_per_second, burst: r.per_ip_burst }
    }
}

/// Requests per minute one API token may make unless configured (`TOCHEN_API_RATE_LIMIT`).
pub const DEFAULT_API_PER_MINUTE: u32 = 600;

/// How often idle client addresses are forgotten.
pub const FORGET_EVERY: Duration = Duration::from_secs(30);

/// The routes whose requests carry a platform signature or the Telegram secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedRoute {
    Meta,
    TikTok,
    Telegram,
}

impl SignedRoute {
    const ALL: [SignedRoute; 3] = [SignedRoute::Meta, SignedRoute::TikTok, SignedRoute::Telegram];

    /// The route label of the `tochen_web_rate_limited_total` counter.
    pub fn label(self) -> &'static str {
        match self {
            SignedRoute::Meta => "/webhooks/meta",
            SignedRoute::TikTok => "/webhooks/tiktok",
            SignedRoute::Telegram => "/telegram/webhook",
        }
    }
}

type ApiKeyed<C> = RateLimiter<String, DashMapStateStore<String>, C, StateInformationMiddleware>;
type Keyed<C> = RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;
type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The web service's rate limiters. Generic over the clock so tests can move time.
pub struct Limits<C: Clock = DefaultClock> {
    per_client: Keyed<C>,
    /// One per [`SignedRoute`], in `SignedRoute::ALL` order.
    signed: [Direct<C>; 3],
    /// Per HTTP API token (keyed by the hash of the bearer secret, so unknown tokens are limited too).
    api: ApiKeyed<C>,
    api_per_minute: u32,
    clock: C,
}

/// What one API request took from its token's allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiAllowance {
    /// Requests per minute the token may make.
    pub limit: u32,
    /// Requests left right now.
    pub remaining: u32,
    /// Seconds until the allowance is full again (or, when refused, until the next request is allowed).
    pub reset_secs: u64,
    pub allowed: bool,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limits<DefaultClock> {
    /// `per_client` for unsigned requests, `webhook_per_second` for each signed route (config makes both >= 1).
    pub fn new(per_client: RateLimit, webhook_per_second: u32) -> Self {
        Self::with_clock(per_client, webhook_per_second, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limits<C> {
    pub fn with_clock(per_client: RateLimit, webhook_per_second: u32, clock: C) -> Self {
        let quota = Quota::per_second(nonzero(per_client.per_second)).allow_burst(nonzero(per_client.burst));
        let signed = SignedRoute::ALL
            .map(|_| RateLimiter::direct_with_clock(Quota::per_second(nonzero(webhook_per_second)), clock.clone()));
        let api_quota = Quota::per_minute(nonzero(DEFAULT_API_PER_MINUTE));
        Self {
            per_client: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            signed,
            api: RateLimiter::dashmap_with_clock(api_quota, clock.clone()).with_middleware(),
            api_per_minute: DEFAULT_API_PER_MINUTE,
            clock,
        }
    }

    /// The same limits with `per_minute` requests per minute for each API token.
    pub fn with_api_per_minute(self, per_minute: u32) -> Self {
        let api = RateLimiter::dashmap_with_clock(Quota::per_minute(nonzero(per_minute)), self.clock.clone());
        Self { api: api.with_middleware(), api_per_minute: per_minute.max(1), ..self }
    }

    /// Takes one request from the allowance of the API token whose key is `key`.
    pub fn api_check(&self, key: &str) -> ApiAllowance {
        let limit = self.api_per_minute;
        let per_request_ms = 60_000 / u64::from(limit);
        match self.api.check_key(&key.to_owned()) {
            Ok(snap) => {
                let remaining = snap.remaining_burst_capacity();
                let used = u64::from(limit.saturating_sub(remaining));
                ApiAllowance { limit, remaining, reset_secs: (used * per_request_ms).div_ceil(1000), allowed: true }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                ApiAllowance { limit, remaining: 0, reset_secs: wait.as_millis().div_ceil(1000) as u64, allowed: false }
            }
        }
    }

    /// Takes one request from the allowance of the client at `ip` (its /64 for IPv6); `false` when it is spent.
    pub fn client_allowed(&self, ip: IpAddr) -> bool {
        self.per_client.check_key(&client_key(ip)).is_ok()
    }

    /// Takes one validly signed request from `route`'s shared allowance; `false` when it is spent.
    pub fn signed_allowed(&self, route: SignedRoute) -> bool {
        let i = SignedRoute::ALL.iter().position(|r| *r == route).unwrap_or(0);
        self.signed[i].check().is_ok()
    }

    /// Forgets every client whose allowance has fully refilled, and frees the table's spare capacity.
    pub fn forget_idle(&self) {
        self.per_client.retain_recent();
        self.per_client.shrink_to_fit();
        self.api.retain_recent();
        self.api.shrink_to_fit();
    }

    /// How many client keys are held (for tests and the `tochen_web_rate_limit_clients` gauge).
    pub fn tracked_clients(&self) -> usize {
        self.per_client.len()
    }
}

/// Runs [`Limits::forget_idle`] every `every` until `limits` is dropped.
pub fn spawn_forgetting(limits: &Arc<Limits>, every: Duration) {
    let weak: Weak<Limits> = Arc::downgrade(limits);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(limits) = weak.upgrade() else { return };
            limits.forget_idle();
            metrics::gauge!("tochen_web_rate_limit_clients").set(limits.tracked_clients() as f64);
        }
    });
}

/// The rate-limit key of a client: an IPv4 address as is, an IPv6 address's /64 (IPv4-mapped IPv6 addresses
/// count as their IPv4 address).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::net::Ipv4Addr;

    fn limits(per_second: u32, burst: u32, webhook: u32) -> (Limits<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (Limits::with_clock(RateLimit { per_second, burst }, webhook, clock.clone()), clock)
    }

    fn v4(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn idle_clients_are_forgotten_and_the_table_shrinks_back() {
        let (l, clock) = limits(50, 200, 10);
        for n in 0..20_000 {
            assert!(l.client_allowed(v4(n)));
        }
        // A busy client that spent its whole burst just now.
        let busy = v4(1_000_000);
        while l.client_allowed(busy) {}
        assert_eq!(l.tracked_clients(), 20_001);

        // 50 ms later the one-off clients' allowances have refilled; the busy one has earned two requests back.
        clock.advance(Duration::from_millis(50));
        l.forget_idle();
        assert_eq!(l.tracked_clients(), 1, "only the client still short of its burst is remembered");
        let mut allowed = 0;
        while l.client_allowed(busy) {
            allowed += 1;
        }
        assert!(allowed <= 3, "the busy client kept its state instead of a fresh burst: {allowed} allowed");

        clock.advance(Duration::from_secs(60));
        l.forget_idle();
        assert_eq!(l.tracked_clients(), 0, "a refilled client is indistinguishable from a new one");
        assert!(l.client_allowed(busy));
    }

    #[test]
    fn ipv6_clients_share_one_allowance_per_64() {
        let (l, _clock) = limits(1, 3, 10);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for host in 1..=3 {
            assert!(l.client_allowed(ip(&format!("2001:db8:1:2::{host}"))));
        }
        assert!(!l.client_allowed(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), "the same /64 is one client");
        assert!(l.client_allowed(ip("2001:db8:1:3::1")), "the next /64 is another client");
        assert_eq!(l.tracked_clients(), 2);
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn each_signed_route_has_its_own_shared_allowance() {
        let (l, clock) = limits(1, 1, 2);
        assert!(l.signed_allowed(SignedRoute::Meta));
        assert!(l.signed_allowed(SignedRoute::Meta));
        assert!(!l.signed_allowed(SignedRoute::Meta));
        assert!(l.signed_allowed(SignedRoute::TikTok), "another route is not affected");
        assert!(l.signed_allowed(SignedRoute::Telegram));
        assert_eq!(l.tracked_clients(), 0, "signed requests are not keyed by address");
        clock.advance(Duration::from_secs(1));
        assert!(l.signed_allowed(SignedRoute::Meta));
    }
}
