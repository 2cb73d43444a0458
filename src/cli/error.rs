//! What a command fails with: the exit status it asks for and the error,
//! with its causes. `cli::run` turns it into the process's exit status and
//! standard error, in one place.

use std::fmt;
use std::process::ExitCode;

use crate::app::BuildError;
use crate::config::ConfigError;
use crate::storage::StorageError;
use crate::workflow::WorkflowError;

/// Exit status 2: the configuration or the command line is wrong; the
/// operator must fix a file or an argument.
const USAGE: u8 = 2;
/// Exit status 1: the work failed (the database, an upstream, a file).
const FAILURE: u8 = 1;

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    status: u8,
    /// `None` when what failed is already on standard error (a warning per
    /// source that could not be polled).
    error: Option<anyhow::Error>,
}

/// What the commands return.
pub type CliResult = Result<(), CliError>;

impl CliError {
    /// Exit status 2, saying `message`.
    pub fn usage(message: impl fmt::Display + fmt::Debug + Send + Sync + 'static) -> CliError {
        CliError {
            status: USAGE,
            error: Some(anyhow::Error::msg(message)),
        }
    }

    /// Exit status 1, saying the error and its causes.
    pub fn failure(error: impl Into<anyhow::Error>) -> CliError {
        CliError {
            status: FAILURE,
            error: Some(error.into()),
        }
    }

    /// Exit status 1, with nothing more to say: the command has told what
    /// failed as it went.
    pub fn reported() -> CliError {
        CliError {
            status: FAILURE,
            error: None,
        }
    }

    /// Prints the error (if not told already) and gives the exit status.
    pub fn exit(self) -> ExitCode {
        if let Some(error) = &self.error {
            print_error(error);
        }
        ExitCode::from(self.status)
    }
}

/// `error: <message>`, then one `  caused by: <cause>` line per cause that
/// its parent does not already say (a `thiserror` message such as "database
/// error: {0}" prints its source itself).
pub fn print_error(error: &anyhow::Error) {
    eprint!("{}", error_text(error));
}

fn error_text(error: &anyhow::Error) -> String {
    let mut text = format!("error: {error}");
    let mut parent = error.to_string();
    for cause in error.chain().skip(1) {
        let said = cause.to_string();
        if !parent.contains(&said) {
            text = format!("{}\n  caused by: {said}", text.trim_end_matches('\n'));
        }
        parent = said;
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Invalid configuration: exit status 2.
impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> CliError {
        CliError::usage(e)
    }
}

impl From<BuildError> for CliError {
    fn from(e: BuildError) -> CliError {
        match e {
            BuildError::Invalid(message) => CliError::usage(message),
            BuildError::Runtime(e) => CliError::failure(e),
        }
    }
}

impl From<StorageError> for CliError {
    fn from(e: StorageError) -> CliError {
        CliError::failure(e)
    }
}

/// A refused action is the person's to fix (exit status 2); a database
/// failure is not.
impl From<WorkflowError> for CliError {
    fn from(e: WorkflowError) -> CliError {
        match e {
            WorkflowError::Storage(e) => CliError::failure(e),
            refused => CliError::usage(refused),
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> CliError {
        CliError::failure(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_2_for_usage_and_1_for_failures() {
        assert_eq!(CliError::usage("bad").status, 2);
        assert_eq!(CliError::failure(anyhow::anyhow!("down")).status, 1);
        assert_eq!(CliError::reported().status, 1);
        let refused: CliError = WorkflowError::NotFound(7).into();
        assert_eq!(refused.status, 2);
        let invalid: CliError = BuildError::Invalid("no rules".into()).into();
        assert_eq!(invalid.status, 2);
    }

    #[test]
    fn each_cause_gets_a_line_unless_its_parent_says_it() {
        let e = anyhow::anyhow!("connection refused")
            .context("database error: connection refused")
            .context("evaluation failed");
        assert_eq!(
            error_text(&e),
            "error: evaluation failed\n  caused by: database error: connection refused\n"
        );
    }

    #[test]
    fn a_message_that_ends_its_own_line_gets_no_second_one() {
        let e = anyhow::Error::msg("invalid configuration:\n  - a.toml: b: wrong\n");
        assert_eq!(
            error_text(&e),
            "error: invalid configuration:\n  - a.toml: b: wrong\n"
        );
    }
}
