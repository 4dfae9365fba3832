//! The one error type of the engine's core. Adapters map it: gRPC in `grpc::status`, the CLI
//! through `anyhow` at the binary's edge.

use std::path::PathBuf;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is malformed or out of its documented limits.
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    /// The request is larger than the documented message-size limit.
    #[error("request too large: {0}")]
    TooLarge(String),
    /// A corpus file could not be parsed or validated.
    #[error("{}:{line}: {message}", path.display())]
    Corpus { path: PathBuf, line: usize, message: String },
    /// Several corpus problems found by validation, one `file:line: message` each.
    #[error("corpus is invalid:\n{}", .0.join("\n"))]
    CorpusInvalid(Vec<String>),
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The full-text index failed.
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The server is at its concurrency limit.
    #[error("server is overloaded: {0}")]
    Overloaded(String),
    /// The admin call lacks a valid token.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidArgument { field, reason: reason.into() }
    }

    /// A stable, short code for logs and metrics.
    pub fn error_code(&self) -> &'static str {
        match self {
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::TooLarge(_) => "too_large",
            Error::Corpus { .. } | Error::CorpusInvalid(_) => "corpus",
            Error::Io { .. } => "io",
            Error::Index(_) => "index",
            Error::Overloaded(_) => "overloaded",
            Error::Unauthenticated(_) => "unauthenticated",
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
