//! reply-engine suggests replies to customer-service agents of cross-border online shops.
//!
//! The core (everything but `grpc` and `cli`) knows nothing of transports: a [`message::Message`]
//! goes into [`engine::Engine`], a [`message::Suggestion`] comes out. See ARCHITECTURE.md.

pub mod config;
pub mod context;
pub mod corpus;
pub mod country;
pub mod engine;
pub mod error;
pub mod escalation;
pub mod index;
pub mod intent;
pub mod language;
pub mod lint;
pub mod message;
pub mod model;
pub mod request;
pub mod rules;
pub mod text;

pub mod cli;
pub mod grpc;

pub use engine::Engine;
pub use error::{Error, Result};
