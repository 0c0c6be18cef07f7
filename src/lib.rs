//! celery-native: a Celery client and worker for Node.js.
//!
//! `protocol` is pure (Celery's formats); `broker` and `backend` own the transports; `client` and
//! `worker` compose them; `node` is the napi layer and only converts between JS and Rust.

pub mod amqp_connection;
pub mod backend;
pub mod broker;
pub mod client;
pub mod error;
mod node;
pub mod protocol;
pub mod redis_connection;
pub mod url_credentials;
pub mod worker;
