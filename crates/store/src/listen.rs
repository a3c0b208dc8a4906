//! PostgreSQL LISTEN/NOTIFY turned into in-process wake-ups, with reconnects that back off.
//!
//! Job runners (the scheduler's, and the bot's in webhook mode) listen on `tochen_jobs`. They also find their work
//! on idle timers, so a lost LISTEN connection only costs latency. What it must not cost is the
//! database: the loops used to reconnect at once after a lost connection or a failed LISTEN, so a database that
//! kept dropping or refusing them (restarting, out of connection slots) got a reconnect storm from every
//! instance. Now each failure in a row waits longer, from `base` doubling up to `cap`, with jitter so instances
//! do not come back in step; a session that stayed up for `cap` was healthy, and the next failure starts the
//! schedule over.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long to wait before reconnecting after consecutive failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectBackoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for ReconnectBackoff {
    fn default() -> Self {
        Self { base: Duration::from_secs(1), cap: Duration::from_secs(60) }
    }
}

impl ReconnectBackoff {
    /// The longest wait after `failures` failures in a row (1-based): `base * 2^(failures-1)`, at most `cap`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.clamp(1, 32) - 1;
        self.base.saturating_mul(2u32.saturating_pow(doublings)).min(self.cap)
    }

    /// The wait: between half and all of the ceiling, `jitter` in [0, 1] choosing where.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let ceiling = self.ceiling(failures);
        ceiling / 2 + (ceiling / 2).mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// A live LISTEN session.
pub trait Subscription: Send {
    /// Waits for the next notification; an error means the session is gone.
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

impl Subscription for sqlx::postgres::PgListener {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move { self.recv().await.map(|_| ()).map_err(|e| e.to_string()) })
    }
}

/// Connects to `url` and LISTENs on `channel`.
pub async fn subscribe(url: &str, channel: &str) -> Result<sqlx::postgres::PgListener, String> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await.map_err(|e| e.to_string())?;
    listener.listen(channel).await.map_err(|e| e.to_string())?;
    Ok(listener)
}

/// Forwards notifications on `channel` at `url` to `on_notify` until `stop` completes, reconnecting with the
/// default [`ReconnectBackoff`]. `on_connected` runs after every (re)connection: whatever was announced while
/// disconnected is found by the wake-up it sends.
pub async fn listen(
    url: &str,
    channel: &str,
    on_connected: impl Fn(),
    on_notify: impl Fn(),
    stop: impl Future<Output = ()>,
) {
    let connect = || subscribe(url, channel);
    forward_notifications(connect, channel, ReconnectBackoff::default(), on_connected, on_notify, stop).await
}

/// The loop behind [`listen`], over any way of subscribing (tests count and fail the attempts).
pub async fn forward_notifications<C, F, S>(
    mut connect: C,
    channel: &str,
    backoff: ReconnectBackoff,
    on_connected: impl Fn(),
    on_notify: impl Fn(),
    stop: impl Future<Output = ()>,
) where
    C: FnMut() -> F,
    F: Future<Output = Result<S, String>>,
    S: Subscription,
{
    tokio::pin!(stop);
    let mut failures: u32 = 0;
    loop {
        let started = tokio::time::Instant::now();
        let error = tokio::select! {
            _ = &mut stop => return,
            error = session(&mut connect, &on_connected, &on_notify) => error,
        };
        if started.elapsed() >= backoff.cap {
            failures = 0;
        }
        failures = failures.saturating_add(1);
        let wait = backoff.delay(failures, rand::random::<f64>());
        tracing::warn!(%channel, %error, failures, wait_ms = wait.as_millis() as u64,
            "LISTEN connection failed or lost; relying on the idle timer until it is back");
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One session: connect, then forward until it fails; the error.
async fn session<C, F, S>(connect: &mut C, on_connected: &impl Fn(), on_notify: &impl Fn()) -> String
where
    C: FnMut() -> F,
    F: Future<Output = Result<S, String>>,
    S: Subscription,
{
    let mut subscription = match connect().await {
        Ok(s) => s,
        Err(e) => return e,
    };
    on_connected();
    loop {
        if let Err(e) = subscription.next().await {
            return e;
        }
        on_notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_wait_doubles_from_base_to_cap_with_jitter_inside_the_ceiling() {
        let b = ReconnectBackoff::default();
        let ceilings: Vec<u64> = (1..=9).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.ceiling(u32::MAX), b.cap, "no overflow after many failures");
        for n in [1, 5, 40] {
            assert_eq!(b.delay(n, 0.0), b.ceiling(n) / 2);
            assert_eq!(b.delay(n, 1.0), b.ceiling(n));
            let d = b.delay(n, 0.3);
            assert!(d >= b.ceiling(n) / 2 && d <= b.ceiling(n));
        }
    }

    /// A session whose notifications are scripted: `Ok(wait)` is a notification after `wait`, `Err(wait)` the
    /// end of the session after `wait`.
    struct Scripted(std::vec::IntoIter<Result<Duration, Duration>>);

    impl Subscription for Scripted {
        fn next(&mut self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
            let step = self.0.next().unwrap_or(Err(Duration::ZERO));
            Box::pin(async move {
                match step {
                    Ok(wait) => {
                        tokio::time::sleep(wait).await;
                        Ok(())
                    }
                    Err(wait) => {
                        tokio::time::sleep(wait).await;
                        Err("connection lost".into())
                    }
                }
            })
        }
    }

    /// Runs the loop for `window` of (paused, auto-advancing) time; how many times it connected, how many
    /// notifications it forwarded. Panics on a reconnect storm instead of spinning forever.
    async fn run_for(
        window: Duration,
        connect_ok: bool,
        script: fn() -> Vec<Result<Duration, Duration>>,
    ) -> (u32, u32) {
        let attempts = Arc::new(AtomicU32::new(0));
        let notified = Arc::new(AtomicU32::new(0));
        let connect = {
            let attempts = attempts.clone();
            move || {
                let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(n < 1000, "reconnected {n} times without waiting");
                async move {
                    if connect_ok {
                        Ok(Scripted(script().into_iter()))
                    } else {
                        Err("connection refused".to_string())
                    }
                }
            }
        };
        let on_notify = {
            let notified = notified.clone();
            move || {
                notified.fetch_add(1, Ordering::SeqCst);
            }
        };
        forward_notifications(
            connect,
            "test",
            ReconnectBackoff::default(),
            || {},
            on_notify,
            tokio::time::sleep(window),
        )
        .await;
        (attempts.load(Ordering::SeqCst), notified.load(Ordering::SeqCst))
    }

    // Ten minutes with base 1 s and cap 60 s: the waits (at least half their ceiling) add up to between ~63 s
    // and ~32 s for the first six failures and then 30-60 s each, so 15-26 attempts; reconnecting every 5 s
    // (as the old loop did after a refused connection) would be 120, at once (after a lost one) unbounded.

    #[tokio::test(start_paused = true)]
    async fn refused_connections_are_retried_ever_more_slowly() {
        let (attempts, _) = run_for(Duration::from_secs(600), false, Vec::new).await;
        assert!((12..=30).contains(&attempts), "{attempts} attempts in ten minutes");
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_lost_at_once_is_not_reopened_at_once() {
        // Connecting works, but the server drops every session immediately (or LISTEN fails).
        let (attempts, _) = run_for(Duration::from_secs(600), true, Vec::new).await;
        assert!((12..=30).contains(&attempts), "{attempts} sessions in ten minutes");
    }

    #[tokio::test(start_paused = true)]
    async fn notifications_are_forwarded_and_a_healthy_session_restarts_the_schedule() {
        // Each session forwards two notifications, lives two minutes, then drops: it was healthy, so the next
        // connection follows after the base wait (at most 1 s), not after a growing one.
        let script = || vec![Ok(Duration::from_secs(1)), Ok(Duration::from_secs(1)), Err(Duration::from_secs(118))];
        let (attempts, notified) = run_for(Duration::from_secs(600), true, script).await;
        assert_eq!(attempts, 5, "sessions of 120 s plus waits of at most 1 s in 600 s");
        assert_eq!(notified, 10);
    }
}
