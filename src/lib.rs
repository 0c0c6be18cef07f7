//! celery-native: a Celery client for Node.js.
//!
//! `protocol` is pure (Celery's formats); `broker` and `backend` own the transports; `client`
//! composes them; `node` is the napi layer and only converts between JS and Rust.

pub mod error;
pub mod protocol;
