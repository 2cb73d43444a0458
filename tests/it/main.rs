//! Integration tests: one binary, one module per area.

mod alerts;
mod binary;
mod console_auth;
mod console_browser;
mod console_findings;
mod console_pages;
mod digests;
mod exports;
mod findings;
mod harness;
mod helpers;
mod indicators;
mod install;
mod layers;
mod ops;
mod outbox;
mod pipeline;
mod portal;
mod quality;
mod rules;
mod smtp;
mod sources;
mod upstream_http;
mod windows;
