//! The national portal's public evaluation API (`protocol = "dvcqg-evaluation"`).

pub mod protocol;
