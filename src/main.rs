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
    // Freed memory goes back to the system from jemalloc's background
    // thread. Without it, pages are purged only as a side effect of later
    // allocations in the same arena, so an idle daemon kept what its last
    // evaluation had used: 3.4 GB resident at 3,000 units.
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        eprintln!("warning: jemalloc's background thread is off ({e}); memory is returned late");
    }
    par_monitor::cli::run(par_monitor::cli::Cli::parse()).await
}
