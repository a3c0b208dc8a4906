//! Keyboards: every inline keyboard is built from (label, `Cb`) pairs, so no button bypasses the codec.

use crate::codec::Cb;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

pub fn kb(rows: Vec<Vec<(String, Cb)>>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.into_iter().filter(|r| !r.is_empty()).map(|r| {
        r.into_iter().map(|(label, cb)| InlineKeyboardButton::callback(label, cb.encode())).collect::<Vec<_>>()
    }))
}

pub fn one(label: String, cb: Cb) -> InlineKeyboardMarkup {
    kb(vec![vec![(label, cb)]])
}
