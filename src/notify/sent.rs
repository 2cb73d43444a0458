//! What every transport says of a send, and what a log may say of an
//! address: shared by the mailer and the SMTP transport beneath it.

/// How a send failed: a transient failure is retried, a permanent one
/// dead-letters the e-mail at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("transient: {0}")]
    Transient(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

/// The domain of an address, which logs and errors may name (the local
/// part may not).
pub(crate) fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("?")
}
