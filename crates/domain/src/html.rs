//! Escaping for Telegram's HTML parse mode.

/// Escapes text for Telegram's HTML parse mode. Every piece of user or model text goes through it.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape_html(r#"<b>"Tom & Jerry"</b>"#), "&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;");
    }
}
