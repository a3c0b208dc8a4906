//! Cursor pagination: a list answers `{"data": [...], "next_cursor": "…"}`; `next_cursor` (absent on the last page)
//! is passed back as `?cursor=` for the next page. A cursor is opaque to callers: it names the last item's place in
//! the list's order, so pages stay right while items are added or removed before them.

use super::Problem;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tochen_domain::PostId;
use tochen_store::LibraryCursor;

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 50;
/// Most items per page.
pub const MAX_LIMIT: i64 = 200;

/// The page size a `limit` parameter asks for.
pub fn limit(asked: Option<i64>) -> Result<i64, Problem> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(Problem::invalid(format!("limit={n} is not between 1 and {MAX_LIMIT}"))),
    }
}

/// The text of a post list's cursor.
pub fn encode(c: LibraryCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.at, c.id))
}

/// A post list's cursor from its text.
pub fn decode(s: &str) -> Result<LibraryCursor, Problem> {
    let bad =
        || Problem::invalid(format!("cursor={s:?} is not a cursor this API gave out: pass next_cursor as it came"));
    let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok(LibraryCursor { at: at.parse().map_err(|_| bad())?, id: PostId::parse(id).ok_or_else(bad)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = LibraryCursor { at: 1_764_000_000_000, id: PostId::new() };
        assert_eq!(decode(&encode(c)).unwrap(), c);
        for s in ["", "x", "bm90IGEgY3Vyc29y", &URL_SAFE_NO_PAD.encode("12:not-a-uuid")] {
            assert_eq!(decode(s).unwrap_err().status, 400, "{s}");
        }
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert!(limit(Some(0)).is_err() && limit(Some(MAX_LIMIT + 1)).is_err());
    }
}
