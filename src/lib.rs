//! crunchycone-storage: the storage providers of `crunchycone-lib`, in Rust, for Node.js.
//!
//! Only module wiring lives here. The contract every backend implements is [`provider`]; the
//! backends are in `providers/<backend>`; the napi classes over them (one per concern: the store
//! with a factory per backend, its uploads, its streams) are in [`binding`] and [`stream`].

mod binding;
mod config;
mod content_type;
mod error;
mod http;
mod keys;
mod listing;
mod parts;
mod provider;
mod providers;
mod range;
mod redact;
mod stream;
mod upload;
mod visibility;
mod xml;
