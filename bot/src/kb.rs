//! Keyboards: every inline keyboard is built from (label, `Button`) pairs, so no button bypasses the codec.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_telegram::button::Button;

pub fn kb(rows: Vec<Vec<(String, Button)>>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.into_iter().filter(|r| !r.is_empty()).map(buttons))
}

/// One row of (label, `Button`) pairs as Telegram buttons.
pub fn buttons(row: Vec<(String, Button)>) -> Vec<InlineKeyboardButton> {
    row.into_iter().map(|(label, b)| InlineKeyboardButton::callback(label, b.encode())).collect()
}

/// On/off toggles two to a row: "✅ label" or "▫️ label"; `button` gets the item's index in `items`.
pub fn toggles<T>(
    items: &[T],
    on: impl Fn(&T) -> bool,
    label: impl Fn(&T) -> String,
    button: impl Fn(u8) -> Button,
) -> Vec<Vec<(String, Button)>> {
    let cell = |i: usize, item: &T| {
        let mark = if on(item) { "✅" } else { "▫️" };
        (format!("{mark} {}", label(item)), button(u8::try_from(i).unwrap_or(u8::MAX)))
    };
    let all: Vec<(String, Button)> = items.iter().enumerate().map(|(i, item)| cell(i, item)).collect();
    all.chunks(2).map(<[_]>::to_vec).collect()
}

pub fn one(label: String, b: Button) -> InlineKeyboardMarkup {
    kb(vec![vec![(label, b)]])
}
