//! A string that never prints.
//!
//! Bot tokens, app secrets, API keys and decrypted platform tokens travel as `SecretString`. Its `Debug` and
//! `Display` print `[redacted]`, so a stray `{:?}` on a config or a log field cannot leak it; reading the value
//! takes an explicit `expose()`.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call it only where the value leaves the process for its intended receiver.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short hint safe to show an operator: the length and, for long values, the last 4 characters.
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        if n >= 16 {
            let tail: String = self.0.chars().skip(n - 4).collect();
            format!("****{tail} ({n} chars)")
        } else {
            format!("**** ({n} chars)")
        }
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = SecretString::new("123456:ABC-very-secret-token");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert!(!s.masked().contains("very-secret"));
        assert!(s.masked().ends_with("oken (28 chars)"));
    }
}
