//! Rust errors → JS. napi cannot attach a custom `code` to errors that leave an `async fn`, so
//! the code travels in the message as `[CODE] text` and the JS facade (lib/errors.js) turns it
//! into `error.code`.

use crate::error::CeleryError;

pub fn to_js_error(error: CeleryError) -> napi::Error {
    napi::Error::from_reason(format!("[{}] {}", error.code(), error))
}
