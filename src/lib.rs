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

/// mimalloc instead of glibc's malloc: messages are built on the JS thread and freed on the
/// writer's, and glibc's arena locks made that hand-over a tenth of the publish path's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
