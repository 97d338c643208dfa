//! crunchycone-storage: the storage providers of `crunchycone-lib`, in Rust, for Node.js.
//!
//! Only module wiring lives here. Each napi export sits with the code it exposes: the stream
//! handle in [`stream`], each provider's class in `providers/<backend>`.

mod config;
mod content_type;
mod error;
mod http;
mod keys;
mod listing;
mod providers;
mod range;
mod redact;
mod stream;
mod upload;
mod visibility;
mod xml;
