//! The napi layer: JS classes that convert arguments and errors, then call the Rust core.
//! No protocol or transport logic lives here.

mod backend;
mod client;
mod errors;
mod worker;

/// One tokio worker thread instead of one per core: the JS thread and the broker's own I/O
/// threads are busy too, and on a small machine a second worker mostly adds cross-core wakeups
/// (futex, eventfd) to every publish, confirm and result.
#[napi_derive::module_init]
fn init_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
}
