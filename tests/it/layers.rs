//! The house keeps its shape: no import cycle between source files and no
//! import from a lower layer into a higher one, by the layering that
//! ARCHITECTURE.md states (its ```layers block). `.ci/imports.py` reads the
//! `crate::`/`super::`/`self::` paths of every file; this test runs it.

use std::process::Command;

#[test]
fn the_import_graph_has_no_cycle_and_no_arrow_up() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/.ci/imports.py"))
        .arg("--check")
        .output()
        .expect("python3 runs .ci/imports.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the import graph breaks the layering of ARCHITECTURE.md:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 cycles, 0 imports up"), "{stdout}");
}
