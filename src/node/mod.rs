//! The napi layer: JS classes that convert arguments and errors, then call the Rust core.
//! No protocol or transport logic lives here.

mod backend;
mod client;
mod errors;
mod worker;
