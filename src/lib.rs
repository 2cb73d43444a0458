//! par-monitor: continuous monitoring of a Vietnamese provincial People's
//! Committee Office's administrative-reform (CCHC) and procedure-control
//! (TTHC) work. See ARCHITECTURE.md for the map of these modules.

pub mod api;
pub mod app;
pub mod assess;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod digest;
pub mod domain;
pub mod evaluate;
pub mod export;
pub mod findings;
pub mod health;
pub mod http;
pub mod indicators;
pub mod ingest;
pub mod inspections;
pub mod jobs;
pub mod live;
pub mod locale;
pub mod metrics;
pub mod notify;
pub mod overview;
pub mod periods;
pub mod report;
pub mod risk;
pub mod rules;
pub mod score766;
pub mod simulator;
pub mod status;
pub mod storage;
pub mod systemd;
pub mod tables;
pub mod telemetry;
pub mod time;
pub mod unit_report;
pub mod upstream;
pub mod web;
pub mod window;
pub mod workflow;
