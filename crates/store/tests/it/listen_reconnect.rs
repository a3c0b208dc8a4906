//! The LISTEN loop with the real PostgreSQL client against a server that accepts connections and hangs up at
//! once (a database restarting, a proxy without a backend). The loop must keep trying, with growing waits, and
//! never hammer the server. The exact schedule is tested with paused time in `tochen_store::listen`; here
//! only a generous bound over a fixed window, counted by the server, no timing assertion.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tochen_store::listen::{forward_notifications, subscribe, ReconnectBackoff};

#[tokio::test]
async fn a_server_that_hangs_up_is_retried_with_growing_waits() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("postgres://tochen@{}/tochen", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let server = tokio::spawn({
        let accepted = accepted.clone();
        async move {
            loop {
                let (conn, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        }
    });
    let connected = Arc::new(AtomicUsize::new(0));
    // Waits of 25-50 ms, 50-100, 100-200, then 100-200 ms each: about 10-20 attempts in two seconds.
    let backoff = ReconnectBackoff { base: Duration::from_millis(50), cap: Duration::from_millis(200) };
    let on_connected = {
        let connected = connected.clone();
        move || {
            connected.fetch_add(1, Ordering::SeqCst);
        }
    };
    forward_notifications(
        || subscribe(&url, "tochen_jobs"),
        "tochen_jobs",
        backoff,
        on_connected,
        || {},
        tokio::time::sleep(Duration::from_secs(2)),
    )
    .await;
    server.abort();
    let attempts = accepted.load(Ordering::SeqCst);
    assert_eq!(connected.load(Ordering::SeqCst), 0, "no session was ever established");
    // At least the first attempt and one retry; without waits it would be thousands.
    assert!((2..=60).contains(&attempts), "{attempts} connection attempts in two seconds");
}
