//! Integration tests: one binary, one module per area.

mod binary;
mod findings;
mod helpers;
mod indicators;
mod ops;
mod outbox;
mod pipeline;
mod smtp;
mod sources;
mod upstream_http;
