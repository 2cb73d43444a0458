//! The `par-monitor` binary: parse the command line, run it, exit.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc rather than the system allocator: ingestion allocates on the
/// blocking pool and frees on the async workers and SQLite's threads, which
/// glibc's per-thread arenas handle poorly. The first-sync benchmark went
/// from about 34,000 to 46,000 dossiers/s with it, and peak memory for a
/// million dossiers fell from 169 to 146 MB.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    par_monitor::cli::run(par_monitor::cli::Cli::parse()).await
}
