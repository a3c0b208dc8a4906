//! The integration tests of tochen-web, in one test binary so a test build links once.

mod ads_connect;
mod api;
mod api_posts;
mod api_resources;
mod common;
mod miniapp;

mod connect;
mod rate_limit;
mod service;
mod webhooks;
