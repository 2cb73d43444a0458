//! Integration tests: one binary, one module per area.

mod alerts;
mod binary;
mod digests;
mod findings;
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
