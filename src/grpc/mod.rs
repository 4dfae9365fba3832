//! The gRPC adapter: generated types, conversions to and from the core's types, the error
//! mapping, and the `ReplyEngine` service. Handlers only convert, validate and call the core.

mod coalesce;
mod convert;
mod server;

pub mod pb {
    //! Code generated from `proto/chatassist/v1/reply_engine.proto`.
    tonic::include_proto!("chatassist.v1");

    /// The encoded file descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("chatassist_descriptor");
}

pub use server::{serve, EngineHandle, ReplyEngineService, ServerConfig};

use crate::error::Error;

/// The one mapping from core errors to gRPC statuses.
impl From<Error> for tonic::Status {
    fn from(error: Error) -> tonic::Status {
        let message = error.to_string();
        match error {
            Error::InvalidArgument { .. } => tonic::Status::invalid_argument(message),
            Error::TooLarge(_) | Error::Overloaded(_) => tonic::Status::resource_exhausted(message),
            Error::Unauthenticated(_) => tonic::Status::unauthenticated(message),
            Error::Corpus { .. } | Error::CorpusInvalid(_) => tonic::Status::failed_precondition(message),
            Error::Io { .. } | Error::Index(_) => tonic::Status::internal(message),
        }
    }
}
