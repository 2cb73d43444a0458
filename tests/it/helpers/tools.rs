//! The outside programs tests check par-monitor against: Prometheus's
//! `promtool` and a real SMTP server. `.ci/test` installs both.

use super::{free_port, wait_for_listener};

/// Runs `promtool check metrics` on an exposition; panics on any problem.
/// `.ci/test` installs promtool (Debian's `prometheus` package).
pub fn promtool_check_metrics(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (apt-get install prometheus; .ci/test does this)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics reported:\n{report}"
    );
}

/// A real SMTP server (Python's aiosmtpd) on a loopback port, storing what
/// it receives in a maildir. `.ci/test` installs aiosmtpd.
pub struct SmtpServer {
    pub port: u16,
    pub maildir: tempfile::TempDir,
    child: std::process::Child,
}

impl SmtpServer {
    pub async fn start_on(port: u16, maildir: tempfile::TempDir) -> SmtpServer {
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(
                "python3 with aiosmtpd is installed (pip install aiosmtpd; .ci/test does this)",
            );
        wait_for_listener("the SMTP server", port).await;
        SmtpServer {
            port,
            maildir,
            child,
        }
    }

    pub async fn start() -> SmtpServer {
        Self::start_on(free_port(), tempfile::tempdir().unwrap()).await
    }

    /// The raw messages received so far.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir.path().join("mail").join(sub)) {
                for e in rd.flatten() {
                    out.push(std::fs::read(e.path()).unwrap());
                }
            }
        }
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
