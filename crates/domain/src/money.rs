//! Money as tochen shows it. LLM costs are kept in millionths of a US dollar.

/// Dollars with four decimals (`$0.0053`): a month of a small model's calls costs fractions of a cent. The bot's
/// `/admin` and `tochen admin` both print costs this way, so their numbers read the same.
pub fn usd_from_micros(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    format!("{sign}${}.{:04}", m / 1_000_000, (m % 1_000_000) / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_read_as_dollars_with_four_decimals() {
        assert_eq!(usd_from_micros(0), "$0.0000");
        assert_eq!(usd_from_micros(5_300), "$0.0053");
        assert_eq!(usd_from_micros(1_234_567), "$1.2345");
        assert_eq!(usd_from_micros(-5_300), "-$0.0053");
    }
}
