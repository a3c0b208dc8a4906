//! The Dockerfile and the compose file keep the deployment promises the code cannot keep by itself: metrics on
//! a private address, and a stop timeout long enough for the scheduler's shutdown grace.

use std::net::SocketAddr;
use std::time::Duration;
use tochen_config::VARIABLES;

fn read(name: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + name)
        .unwrap_or_else(|e| panic!("{name} exists at the repository root: {e}"))
}

/// `NAME=value` pairs of every `ENV` instruction (continuation lines joined).
fn dockerfile_env(text: &str) -> Vec<(String, String)> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(|rest| rest.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|pair| pair.split_once('=').map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned())))
        .collect()
}

#[test]
fn the_image_keeps_metrics_on_a_private_address() {
    let text = read("Dockerfile");
    let env = dockerfile_env(&text);
    let bind = env
        .iter()
        .find(|(k, _)| k == "TOCHEN_METRICS_BIND")
        .map(|(_, v)| v.clone())
        .expect("the Dockerfile sets TOCHEN_METRICS_BIND (the default would do, but say it)");
    let addr: SocketAddr = bind.parse().unwrap_or_else(|_| panic!("{bind:?} is a socket address"));
    assert!(addr.ip().is_loopback(), "metrics bind to {addr}, reachable from outside the container");
    let exposed: Vec<&str> =
        text.lines().filter_map(|l| l.trim().strip_prefix("EXPOSE ")).flat_map(str::split_whitespace).collect();
    let port = addr.port().to_string();
    assert!(
        !exposed.iter().any(|p| p.split('/').next() == Some(port.as_str())),
        "the metrics port {port} is exposed: {exposed:?}"
    );
}

/// A compose duration: `40s`, `1m30s`, `2m`, `500ms`.
fn compose_duration(raw: &str) -> Duration {
    let mut total = Duration::ZERO;
    let mut rest = raw.trim().trim_matches('"');
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let n: u64 = rest[..digits].parse().unwrap_or_else(|_| panic!("{raw:?} is a compose duration"));
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        total += match &rest[..unit] {
            "h" => Duration::from_secs(n * 3600),
            "m" => Duration::from_secs(n * 60),
            "s" => Duration::from_secs(n),
            "ms" => Duration::from_millis(n),
            other => panic!("{raw:?}: unknown unit {other:?}"),
        };
        rest = &rest[unit..];
    }
    total
}

/// The value of `key:` inside the `tochen:` service (two-space indented services, as the file is written).
fn tochen_service_value(compose: &str, key: &str) -> Option<String> {
    let mut in_tochen = false;
    for line in compose.lines() {
        if line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':') {
            in_tochen = line.trim() == "tochen:";
            continue;
        }
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_tochen = false;
        }
        if in_tochen {
            if let Some(v) = line.trim().strip_prefix(&format!("{key}:")) {
                return Some(v.trim().to_owned());
            }
        }
    }
    None
}

#[test]
fn compose_waits_longer_than_the_scheduler_shutdown_grace() {
    let compose = read("docker-compose.yml");
    let grace_default = VARIABLES
        .iter()
        .find(|v| v.name == "SCHEDULER_SHUTDOWN_GRACE_SECS")
        .map(|v| v.default.parse::<u64>().unwrap())
        .unwrap();
    // An override in the service's environment counts instead of the default.
    let grace = Duration::from_secs(
        tochen_service_value(&compose, "SCHEDULER_SHUTDOWN_GRACE_SECS")
            .map(|v| v.trim_matches('"').parse().unwrap())
            .unwrap_or(grace_default),
    );
    let stop = tochen_service_value(&compose, "stop_grace_period")
        .map(|v| compose_duration(&v))
        .expect("the tochen service sets stop_grace_period (Docker's default of 10 s kills running jobs)");
    // Some headroom on top of the grace for the web service and the store to close.
    assert!(stop >= grace + Duration::from_secs(5), "stop_grace_period {stop:?} vs shutdown grace {grace:?}");
}

#[test]
fn compose_durations_are_read_like_docker_reads_them() {
    assert_eq!(compose_duration("40s"), Duration::from_secs(40));
    assert_eq!(compose_duration("1m30s"), Duration::from_secs(90));
    assert_eq!(compose_duration("\"2m\""), Duration::from_secs(120));
    assert_eq!(compose_duration("1500ms"), Duration::from_millis(1500));
}
