//! Keyboards: every inline keyboard is built from (label, `Button`) pairs, so no button bypasses the codec.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_telegram::button::Button;

pub fn kb(rows: Vec<Vec<(String, Button)>>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(
        rows.into_iter().filter(|r| !r.is_empty()).map(|r| {
            r.into_iter().map(|(label, b)| InlineKeyboardButton::callback(label, b.encode())).collect::<Vec<_>>()
        }),
    )
}

pub fn one(label: String, b: Button) -> InlineKeyboardMarkup {
    kb(vec![vec![(label, b)]])
}
