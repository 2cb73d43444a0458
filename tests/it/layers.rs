//! The house keeps its shape: no import cycle between source files and no
//! import from a lower layer into a higher one, by the layering that
//! ARCHITECTURE.md states (its ```layers block). `.ci/imports.py` reads the
//! `crate::`/`super::`/`self::` paths of every file; this test runs it.
//! Rooms stay small enough to find one's way in: `.ci/sizes.py` holds every
//! source file to 700 lines and every function to 80, except the tables
//! marked `// table-like:`.

use std::process::Command;

#[test]
fn the_import_graph_has_no_cycle_and_no_arrow_up() {
    let out = check("imports.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the import graph breaks the layering of ARCHITECTURE.md:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 cycles, 0 imports up"), "{stdout}");
}

#[test]
fn no_file_or_function_outgrows_its_limit() {
    let out = check("sizes.py");
    assert!(
        out.status.success(),
        "rooms over their size:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs one of the `.ci/` checks with `--check`.
fn check(script: &str) -> std::process::Output {
    let root = env!("CARGO_MANIFEST_DIR");
    Command::new("python3")
        .arg(format!("{root}/.ci/{script}"))
        .arg("--check")
        .output()
        .unwrap_or_else(|e| panic!("python3 runs .ci/{script}: {e}"))
}
