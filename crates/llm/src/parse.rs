//! Finding the JSON in a model's answer.
//!
//! Providers that honour `response_format: json_schema` return bare JSON, but Anthropic's and many local
//! servers' OpenAI compatibility layers ignore it and wrap the object in prose or a ```json fence. Rather than
//! trusting either, every answer goes through `extract_json`, which accepts all three shapes.

use serde_json::Value;

/// The first JSON object or array in `text`: the whole text, a fenced block, or the outermost balanced braces.
pub fn extract_json(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        if v.is_object() || v.is_array() {
            return Some(v);
        }
    }
    let mut rest = trimmed;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map(|i| i + 1).unwrap_or(0);
        let body = &after[body_start..];
        let Some(end) = body.find("```") else { break };
        if let Ok(v) = serde_json::from_str::<Value>(body[..end].trim()) {
            return Some(v);
        }
        rest = &body[end + 3..];
    }
    balanced(trimmed, '{', '}').or_else(|| balanced(trimmed, '[', ']'))
}

/// Scans for a balanced `open..close` span (ignoring brackets inside strings) that parses as JSON.
fn balanced(text: &str, open: char, close: char) -> Option<Value> {
    for (start, _) in text.match_indices(open) {
        let mut depth = 0i32;
        let mut in_str = false;
        let mut escaped = false;
        for (i, c) in text[start..].char_indices() {
            if in_str {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            if c == '"' {
                in_str = true;
            } else if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    if let Ok(v) = serde_json::from_str(&text[start..start + i + 1]) {
                        return Some(v);
                    }
                    break;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_json_is_accepted() {
        assert_eq!(extract_json(r#" {"a": 1} "#), Some(json!({"a": 1})));
    }

    #[test]
    fn fenced_json_is_found() {
        let text = "Sure! Here you go:\n```json\n{\"ideas\": [\"x\"]}\n```\nEnjoy.";
        assert_eq!(extract_json(text), Some(json!({"ideas": ["x"]})));
    }

    #[test]
    fn json_inside_prose_is_found_even_with_braces_in_strings() {
        let text = r#"The answer is {"title": "a } b", "n": {"x": 2}} as requested."#;
        assert_eq!(extract_json(text), Some(json!({"title": "a } b", "n": {"x": 2}})));
    }

    #[test]
    fn malformed_text_yields_nothing() {
        assert_eq!(extract_json("no json here {oops"), None);
        assert_eq!(extract_json("42"), None);
    }
}
