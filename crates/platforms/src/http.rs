//! The HTTP plumbing every platform client shares: sending with a deadline, telling "never sent" from "sent but
//! unanswered", and polling with a bounded budget.
//!
//! The distinction matters for publishing: a request that never left (connection refused, DNS) is safe to retry,
//! while a POST whose answer was lost may have created a post, so it becomes `OutcomeUnknown` and is never re-sent
//! blindly. The same holds for a 5xx answer to such a POST: the platform's server failed somewhere, perhaps after
//! the post was made. Only a refusal (a 4xx, rate limits included) proves that nothing was created.

use crate::publish::{ErrorClass, PublishError};
use reqwest::{RequestBuilder, StatusCode};
use std::time::Duration;

/// A platform answer: status, headers and body text.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What a request may have changed on the platform if its answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// GETs, status polls, quota reads: a lost answer is simply retried.
    Read,
    /// Creating something nobody sees and that expires or stays unused if the answer is lost (an Instagram
    /// container, an unpublished Facebook photo): sending it again is safe, so a lost answer is retried.
    Prepare,
    /// Creating a post (Facebook `/feed` and `/photos`, Instagram `media_publish`, TikTok init): a lost answer or a
    /// 5xx means the outcome is unknown.
    Create,
}

impl Effect {
    /// An error the platform answered, seen in the light of what the request does: for [`Effect::Create`], a 5xx,
    /// or a code the platform uses for a failure on its side (`server_side`), does not prove that nothing was
    /// created, so it becomes `OutcomeUnknown`. A 4xx refusal keeps its class.
    pub fn answered(self, status: StatusCode, server_side: bool, e: PublishError) -> PublishError {
        if self != Effect::Create || !(status.is_server_error() || server_side) {
            return e;
        }
        let message = format!("the platform failed while creating the post ({status}): {}", e.message);
        PublishError { class: ErrorClass::OutcomeUnknown, message, ..e }
    }
}

/// Sends `req`; maps transport failures into `PublishError` according to `effect`.
pub async fn send(req: RequestBuilder, effect: Effect) -> Result<Answer, PublishError> {
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            match resp.text().await {
                Ok(body) => Ok(Answer { status, headers, body }),
                Err(e) => Err(transport_error(&e, effect, true)),
            }
        }
        Err(e) => Err(transport_error(&e, effect, false)),
    }
}

fn transport_error(e: &reqwest::Error, effect: Effect, got_headers: bool) -> PublishError {
    // A connect failure means nothing reached the platform; anything later may have.
    let sent = got_headers || !(e.is_connect() || e.is_builder());
    let class = if effect == Effect::Create && sent {
        ErrorClass::OutcomeUnknown
    } else {
        ErrorClass::Retryable { retry_after: None }
    };
    let what = if e.is_timeout() { "timed out" } else { "failed" };
    PublishError::new(class, None, format!("the request to the platform {what}: {}", without_url(e)))
}

/// reqwest errors print the URL, which may carry an access token in its query: drop it.
fn without_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(u) => text.replace(u.as_str(), "<url>"),
        None => text,
    }
}

/// How long to wait between status polls and when to give up and report `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    pub first: Duration,
    pub max_interval: Duration,
    pub budget: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self { first: Duration::from_secs(2), max_interval: Duration::from_secs(30), budget: Duration::from_secs(90) }
    }
}

impl PollPolicy {
    /// A fast policy for tests against the local fakes.
    pub fn quick() -> Self {
        Self {
            first: Duration::from_millis(50),
            max_interval: Duration::from_millis(200),
            budget: Duration::from_secs(5),
        }
    }

    /// The delays to sleep between polls, doubling up to `max_interval`, until the budget is spent.
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        let (first, max, budget) = (self.first, self.max_interval, self.budget);
        let mut next = first;
        let mut spent = Duration::ZERO;
        std::iter::from_fn(move || {
            if spent >= budget {
                return None;
            }
            let d = next.min(budget - spent);
            spent += d;
            next = (next * 2).min(max);
            Some(d)
        })
    }
}

/// A client that follows no redirects, as token exchanges require (docs/contracts/README.md, OAuth 2.0 client).
pub fn no_redirect_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_delays_double_and_stop_at_the_budget() {
        let p = PollPolicy {
            first: Duration::from_secs(1),
            max_interval: Duration::from_secs(4),
            budget: Duration::from_secs(12),
        };
        let d: Vec<u64> = p.delays().map(|d| d.as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 4, 1]);
    }
}
