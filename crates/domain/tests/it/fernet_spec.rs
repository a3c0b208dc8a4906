//! The Fernet spec's own vectors (github.com/fernet/spec: generate.json, verify.json, invalid.json) and
//! interoperability with Python's `cryptography.fernet`.

use base64::Engine;
use chrono::DateTime;
use fernet::Fernet;
use serde_json::Value;
use tochen_domain::{SecretBox, SecretString};

fn vectors(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/fernet/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unix(v: &Value) -> u64 {
    DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap().timestamp() as u64
}

#[test]
fn generate_vector_has_the_spec_layout_and_decrypts() {
    for v in vectors("generate.json") {
        let token = v["token"].as_str().unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE.decode(token).unwrap();
        assert_eq!(raw[0], 0x80, "version byte");
        assert_eq!(u64::from_be_bytes(raw[1..9].try_into().unwrap()), unix(&v));
        let iv: Vec<u8> = v["iv"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
        assert_eq!(&raw[9..25], iv.as_slice());
        let f = Fernet::new(v["secret"].as_str().unwrap()).unwrap();
        let plain = f.decrypt_at_time(token, None, unix(&v)).unwrap();
        assert_eq!(plain, v["src"].as_str().unwrap().as_bytes());

        // Our own encryption of the same source has the same layout and length.
        let b = SecretBox::from_keys(&[SecretString::new(v["secret"].as_str().unwrap())]).unwrap();
        let ours = base64::engine::general_purpose::URL_SAFE.decode(b.encrypt("hello")).unwrap();
        assert_eq!(ours.len(), raw.len());
        assert_eq!(ours[0], 0x80);
    }
}

#[test]
fn verify_vectors_decrypt_within_ttl() {
    for v in vectors("verify.json") {
        let f = Fernet::new(v["secret"].as_str().unwrap()).unwrap();
        let ttl = v["ttl_sec"].as_u64();
        let plain = f.decrypt_at_time(v["token"].as_str().unwrap(), ttl, unix(&v)).unwrap();
        assert_eq!(plain, v["src"].as_str().unwrap().as_bytes());
    }
}

#[test]
fn all_eight_invalid_vectors_are_refused() {
    let cases = vectors("invalid.json");
    assert_eq!(cases.len(), 8);
    for v in cases {
        let f = Fernet::new(v["secret"].as_str().unwrap()).unwrap();
        let ttl = v["ttl_sec"].as_u64();
        let res = f.decrypt_at_time(v["token"].as_str().unwrap(), ttl, unix(&v));
        assert!(res.is_err(), "accepted invalid token: {}", v["desc"]);
    }
    // Through our own API (no TTL: stored secrets do not expire), every malformed token is refused too.
    for v in vectors("invalid.json").into_iter().filter(|v| !v["desc"].as_str().unwrap().contains("TTL")) {
        let desc = v["desc"].as_str().unwrap();
        if desc.contains("far-future") {
            continue; // clock skew is judged against the real clock, where 1985 is not the future
        }
        let b = SecretBox::from_keys(&[SecretString::new(v["secret"].as_str().unwrap())]).unwrap();
        assert!(b.decrypt(v["token"].as_str().unwrap()).is_err(), "accepted invalid token: {desc}");
    }
}

/// Tokens we write must open with Python's `cryptography.fernet` given the same key, and the other way round.
/// Skipped (with a message) when Python or the `cryptography` package is missing; `.ci/run` installs both.
#[test]
fn tokens_interoperate_with_python_cryptography() {
    let probe = std::process::Command::new("python3").args(["-c", "import cryptography.fernet"]).status();
    if !matches!(probe, Ok(s) if s.success()) {
        assert!(
            std::env::var("TOCHEN_REQUIRE_PYTHON").is_err(),
            "TOCHEN_REQUIRE_PYTHON is set but python3 with `cryptography` is missing"
        );
        eprintln!("skipped: python3 with `cryptography` is not installed");
        return;
    }
    let key = SecretBox::generate_key();
    let b = SecretBox::from_keys(&[SecretString::new(key.clone())]).unwrap();
    let ours = b.encrypt("tiktok-refresh-token-ü");
    let script = "import sys\nfrom cryptography.fernet import Fernet\nf = Fernet(sys.argv[1].encode())\n\
print(f.decrypt(sys.argv[2].encode()).decode())\nprint(f.encrypt('from-python'.encode()).decode())";
    let out = std::process::Command::new("python3").args(["-c", script, &key, &ours]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next().unwrap(), "tiktok-refresh-token-ü");
    assert_eq!(b.decrypt(lines.next().unwrap()).unwrap().expose(), "from-python");
}
