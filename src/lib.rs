//! celery-native: a Celery client and worker for Node.js.
//!
//! `protocol` is pure (Celery's formats); `broker` and `backend` own the transports; `client` and
//! `worker` compose them; `node` is the napi layer and only converts between JS and Rust.

pub mod amqp_connection;
pub mod backend;
pub mod batches;
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
/// Built without transparent huge pages (`no_thp`): a huge page is resident as soon as one of its
/// bytes is touched, which made tens of thousands of small waiters cost whole megabytes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns the memory freed so far to the system now instead of after mimalloc's purge delay
/// (a second): for after a burst of short-lived allocations, such as subscribing 10,000 waiters.
pub(crate) fn release_freed_memory() {
    // SAFETY: mi_collect only walks the allocator's own bookkeeping; any thread may call it.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
