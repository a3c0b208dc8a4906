//! How a job handler reports failure, and how long the runner waits before the next attempt.
//!
//! Three classes, because they need three different reactions: a retryable error waits (honouring a
//! platform's retry-after) and tries again; a permanent error will fail the same way every time and stops at once;
//! a needs-reconnect error means a person must reconnect an account, so the account is marked and its admins told.

use rand::Rng;
use std::time::Duration;
use tochen_domain::ids::{AccountId, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("{message}")]
    Retryable { message: String, retry_after: Option<Duration> },
    #[error("{0}")]
    Permanent(String),
    #[error("{message}")]
    NeedsReconnect { tenant: TenantId, account: AccountId, message: String },
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        Self::Retryable { message: message.into(), retry_after: None }
    }

    pub fn retry_after(message: impl Into<String>, after: Duration) -> Self {
        Self::Retryable { message: message.into(), retry_after: Some(after) }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }
}

impl From<tochen_store::StoreError> for JobError {
    /// A database hiccup is worth another attempt; a corrupt row or a missing one is not.
    fn from(e: tochen_store::StoreError) -> Self {
        use tochen_store::StoreError as E;
        match e {
            E::NotFound(_) | E::Corrupt(_) | E::Crypto(_) => JobError::Permanent(e.to_string()),
            _ => JobError::retry(e.to_string()),
        }
    }
}

/// Exponential backoff with "equal jitter": attempt `n` waits between half and all of `base * 2^(n-1)`, capped.
/// The jitter spreads the retries of many jobs that failed together (a platform outage) instead of sending them
/// back all at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_secs(10), cap: Duration::from_secs(3600) }
    }
}

impl Backoff {
    /// The ceiling of the wait after failed attempt `attempt` (1-based), before jitter.
    pub fn ceiling(&self, attempt: i64) -> Duration {
        let exp = attempt.clamp(1, 32) as u32 - 1;
        self.base.saturating_mul(2u32.saturating_pow(exp)).min(self.cap)
    }

    /// The wait after failed attempt `attempt`: a retry-after from the platform wins when it is longer.
    pub fn delay(&self, attempt: i64, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
        let backoff = half + Duration::from_millis(jitter);
        match retry_after {
            Some(after) => after.max(backoff.min(after + Duration::from_secs(1))),
            None => backoff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_with_jitter_within_half_and_whole_and_stops_at_the_cap() {
        let b = Backoff { base: Duration::from_secs(10), cap: Duration::from_secs(300) };
        let expected = [10, 20, 40, 80, 160, 300, 300];
        for (i, secs) in expected.iter().enumerate() {
            let attempt = i as i64 + 1;
            assert_eq!(b.ceiling(attempt), Duration::from_secs(*secs));
            for _ in 0..50 {
                let d = b.delay(attempt, None);
                assert!(d >= Duration::from_secs(*secs) / 2 && d <= Duration::from_secs(*secs), "{attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_even_when_longer_than_the_backoff() {
        let b = Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(60) };
        for _ in 0..50 {
            let d = b.delay(1, Some(Duration::from_secs(30)));
            assert!(d >= Duration::from_secs(30) && d <= Duration::from_secs(31), "{d:?}");
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        let b = Backoff::default();
        let delays: std::collections::BTreeSet<_> = (0..50).map(|_| b.delay(3, None)).collect();
        assert!(delays.len() > 10, "{delays:?}");
    }
}
