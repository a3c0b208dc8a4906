//! Telegram's text limits, written once for every sender (the bot's replies, the scheduler's notices).
//!
//! Telegram refuses a message whose text is over 4,096 characters, or a caption over 1,024, and the person then
//! gets no answer at all. It counts *after* entity parsing and in UTF-16 code units: with HTML parse mode the
//! tags do not count, `&lt;` counts as one, and an emoji outside the Basic Multilingual Plane counts as two. So
//! the rule here is: measure the visible text (tags stripped, entities decoded) in UTF-16 units.
//!
//! Two tools follow from it. [`clip`] cuts a piece of user or model text (an echoed answer, a topic, a title)
//! to a short length before it is escaped and formatted into a message, so a long input never makes a long
//! reply. [`fit`] is the last guard in the one send/edit path: it shortens a whole HTML message to the limit
//! without breaking it, cutting the visible text (never inside a tag, an entity or a surrogate pair), ending it
//! with "…" and closing the tags left open.

use std::borrow::Cow;

/// Longest message text Telegram takes, in UTF-16 units after entity parsing.
pub const MESSAGE_MAX: usize = 4096;
/// Longest media caption Telegram takes, counted the same way.
pub const CAPTION_MAX: usize = 1024;
/// Longest text of a callback answer (the pop-up after a button press).
pub const CALLBACK_ANSWER_MAX: usize = 200;
/// How much of a person's own input a reply quotes back.
pub const ECHO_MAX: usize = 200;

const ELLIPSIS: char = '…';

/// One piece of HTML as Telegram reads it.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    /// `<name ...>`: the raw tag and its name.
    Open(&'a str, &'a str),
    /// `</name>`.
    Close(&'a str, &'a str),
    /// Visible text: raw source (one character, or one entity) and how many UTF-16 units it shows as.
    Text(&'a str, usize),
}

/// Splits `html` into tags and visible units. A `<` that starts no tag, and an `&` that starts no entity, are
/// text, as Telegram reads them.
fn pieces(html: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = html;
    std::iter::from_fn(move || {
        let c = rest.chars().next()?;
        let (piece, len) = match c {
            '<' => match tag(rest) {
                Some((piece, len)) => (piece, len),
                None => (Piece::Text(&rest[..1], 1), 1),
            },
            '&' => match entity(rest) {
                Some((units, len)) => (Piece::Text(&rest[..len], units), len),
                None => (Piece::Text(&rest[..1], 1), 1),
            },
            c => (Piece::Text(&rest[..c.len_utf8()], c.len_utf16()), c.len_utf8()),
        };
        rest = &rest[len..];
        Some(piece)
    })
}

/// A tag at the start of `s`: the piece and its byte length.
fn tag(s: &str) -> Option<(Piece<'_>, usize)> {
    let end = s.find('>')?;
    let raw = &s[..=end];
    let inner = &s[1..end];
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(i) => (true, i),
        None => (false, inner),
    };
    let name_len = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(inner.len());
    if name_len == 0 || !inner.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let name = &inner[..name_len];
    Some((if closing { Piece::Close(raw, name) } else { Piece::Open(raw, name) }, raw.len()))
}

/// An entity at the start of `s` that Telegram decodes (`&lt;`, `&gt;`, `&amp;`, `&quot;` and numeric ones):
/// the UTF-16 units it shows as and its byte length.
fn entity(s: &str) -> Option<(usize, usize)> {
    // Entities are short; `;` is ASCII, so its byte position is a character boundary.
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let body = &s[1..end];
    let c = match body {
        "lt" | "gt" | "amp" | "quot" => '&',
        _ => {
            let num = body.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c.len_utf16(), end + 1))
}

/// How long Telegram counts `html` (HTML parse mode): the visible text, in UTF-16 code units.
pub fn visible_len(html: &str) -> usize {
    pieces(html).map(|p| if let Piece::Text(_, units) = p { units } else { 0 }).sum()
}

/// Whether `html` is within `max` as Telegram counts it.
pub fn fits(html: &str, max: usize) -> bool {
    visible_len(html) <= max
}

/// `html` shortened to at most `max` visible UTF-16 units: the visible text is cut (never inside a tag, an
/// entity or a character), "…" marks the cut, and the tags still open there are closed. Within the limit it
/// comes back unchanged.
pub fn fit(html: &str, max: usize) -> Cow<'_, str> {
    if fits(html, max) {
        return Cow::Borrowed(html);
    }
    let budget = max.saturating_sub(ELLIPSIS.len_utf16());
    let mut out = String::with_capacity(html.len().min(max * 4));
    let mut open: Vec<&str> = Vec::new();
    let mut used = 0;
    for piece in pieces(html) {
        match piece {
            Piece::Open(raw, name) => {
                open.push(name);
                out.push_str(raw);
            }
            Piece::Close(raw, name) => {
                if let Some(i) = open.iter().rposition(|n| n.eq_ignore_ascii_case(name)) {
                    open.truncate(i);
                }
                out.push_str(raw);
            }
            Piece::Text(raw, units) => {
                if used + units > budget {
                    break;
                }
                used += units;
                out.push_str(raw);
            }
        }
    }
    if max > 0 {
        out.push(ELLIPSIS);
    }
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    Cow::Owned(out)
}

/// Plain text (not yet escaped) cut to at most `max` UTF-16 units, "…" marking the cut. For pieces of user or
/// model text quoted in a message, so that a long input makes a short reply.
pub fn clip(text: &str, max: usize) -> Cow<'_, str> {
    if text.encode_utf16().count() <= max {
        return Cow::Borrowed(text);
    }
    let budget = max.saturating_sub(ELLIPSIS.len_utf16());
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    if max > 0 {
        out.push(ELLIPSIS);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The tags left open by `html`, or `None` when a close tag matches nothing open.
    fn unclosed(html: &str) -> Option<Vec<String>> {
        let mut open = Vec::new();
        for p in pieces(html) {
            match p {
                Piece::Open(_, n) => open.push(n.to_owned()),
                Piece::Close(_, n) => {
                    if open.pop()? != n {
                        return None;
                    }
                }
                Piece::Text(..) => {}
            }
        }
        Some(open)
    }

    #[test]
    fn tags_do_not_count_and_entities_count_once() {
        // "Hi <3 & 😀 A": the emoji is two units.
        assert_eq!(visible_len("<b>Hi</b> &lt;3 &amp; &#128512; &#x41;"), 12);
        assert_eq!(visible_len("<a href=\"https://x.y/?a=1&amp;b=2\">link</a>"), 4);
    }

    #[test]
    fn emoji_outside_the_basic_plane_count_twice() {
        assert_eq!(visible_len("☕"), 1);
        assert_eq!(visible_len("😀"), 2);
        assert!(!fits(&"😀".repeat(600), CAPTION_MAX), "600 emoji are 1200 units, over a caption");
    }

    #[test]
    fn a_stray_ampersand_or_angle_bracket_is_text() {
        assert_eq!(visible_len("a & b"), 5);
        assert_eq!(visible_len("1 < 2"), 5);
        assert_eq!(visible_len("&nbsp;"), 6);
    }

    #[test]
    fn text_within_the_limit_is_unchanged() {
        let html = "<b>short</b>";
        assert!(matches!(fit(html, 100), Cow::Borrowed(s) if s == html));
        assert!(matches!(clip("short", 5), Cow::Borrowed("short")));
    }

    #[test]
    fn a_long_message_is_cut_in_its_text_and_its_tags_are_closed() {
        let html = format!("<b>Title</b>\n<i>{}</i> &amp; more", "x".repeat(5000));
        let cut = fit(&html, MESSAGE_MAX);
        assert_eq!(visible_len(&cut), MESSAGE_MAX);
        assert!(cut.ends_with("…</i>"), "{}", &cut[cut.len() - 20..]);
        assert!(cut.starts_with("<b>Title</b>\n<i>xxx"));
        assert_eq!(unclosed(&cut), Some(vec![]));
    }

    #[test]
    fn a_cut_never_splits_an_entity_or_a_surrogate_pair() {
        let cut = fit("&amp;&amp;&amp;&amp;", 3);
        assert_eq!(cut, "&amp;&amp;…");
        let cut = fit("a😀😀", 4);
        assert_eq!(cut, "a😀…");
        assert_eq!(visible_len(&cut), 4);
    }

    #[test]
    fn clip_cuts_plain_text_with_an_ellipsis() {
        let long = "é".repeat(5000);
        let c = clip(&long, ECHO_MAX);
        assert_eq!(c.encode_utf16().count(), ECHO_MAX);
        assert!(c.ends_with('…'));
        assert_eq!(clip("😀😀😀", 4), "😀…");
    }

    fn html_strategy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z ]{0,20}",
            Just("😀".to_owned()),
            Just("&lt;".to_owned()),
            Just("&#128512;".to_owned()),
            Just("é".to_owned()),
            Just("\n".to_owned()),
        ];
        let node = piece.prop_recursive(3, 40, 6, |inner| {
            (prop::sample::select(vec!["b", "i", "u", "code", "a"]), prop::collection::vec(inner, 0..6)).prop_map(
                |(tag, kids)| {
                    let open = if tag == "a" {
                        "<a href=\"https://e.x/?q=1&amp;r=2\">".to_owned()
                    } else {
                        format!("<{tag}>")
                    };
                    format!("{open}{}</{tag}>", kids.concat())
                },
            )
        });
        prop::collection::vec(node, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn fitted_html_is_within_the_limit_and_well_formed(html in html_strategy(), max in 1usize..300) {
            let cut = fit(&html, max);
            prop_assert!(visible_len(&cut) <= max);
            prop_assert_eq!(unclosed(&cut), Some(vec![]));
            if visible_len(&html) <= max {
                prop_assert_eq!(cut.as_ref(), html.as_str());
            } else {
                // Nothing is lost before the cut: the visible text is a prefix of the original's.
                let strip = |s: &str| pieces(s).filter_map(|p| match p { Piece::Text(raw, _) => Some(raw.to_owned()), _ => None }).collect::<String>();
                let (before, after) = (strip(&html), strip(&cut));
                let kept = after.trim_end_matches('…');
                prop_assert!(before.starts_with(kept), "{} vs {}", before, kept);
            }
        }

        #[test]
        fn clipped_text_is_within_the_limit(text in "\\PC{0,400}", max in 1usize..300) {
            let c = clip(&text, max);
            prop_assert!(c.encode_utf16().count() <= max);
        }
    }
}
