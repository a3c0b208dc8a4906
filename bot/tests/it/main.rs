//! The integration tests of tochen-bot, in one test binary so a test build links once.

#[macro_use]
mod common;

mod admin;
mod ads;
mod api_tokens;
mod automations;
mod bad_input;
mod batches;
mod calendar;
mod campaigns;
mod composer;
mod conversation;
mod creation_policy;
mod destinations;
mod library;
mod media_big;
mod miniapp;
mod no_input_stops_the_bot;
mod photos_and_approvals;
mod profile_language;
mod published;
mod sandbox;
mod slots;
mod stats;
mod story;
mod targets;
mod telegram;
mod tenants;
