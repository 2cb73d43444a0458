//! Integration tests: one binary, one module per area.

mod alerts;
mod binary;
mod findings;
mod helpers;
mod indicators;
mod ops;
mod pipeline;
mod smtp;
mod sources;
mod upstream_http;
