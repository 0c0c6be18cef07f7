//! Result metadata as Celery backends store it (spec §5.1–§5.3): only the status is interpreted
//! here; the whole JSON goes to JS untouched, so every field any Celery 5.x writes survives.

use serde::Deserialize;

/// States that end a task (`celery.states.READY_STATES`).
pub fn is_ready_state(status: &str) -> bool {
    matches!(status, "SUCCESS" | "FAILURE" | "REVOKED")
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResultMeta {
    pub status: String,
    /// The stored JSON text, exactly as read.
    pub json: String,
}

#[derive(Deserialize)]
struct StatusOnly {
    status: String,
}

/// Prefix of a `result_compression` value (celery 5.7, spec §5.4).
const COMPRESSED_MAGIC: &[u8] = b"\x00celery-compressed\x00";

impl ResultMeta {
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.starts_with(COMPRESSED_MAGIC) {
            return Err("the result is compressed (result_compression); only plain JSON results are supported".into());
        }
        let json = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        let StatusOnly { status } = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(Self { status, json: json.to_string() })
    }

    pub fn is_ready(&self) -> bool {
        is_ready_state(&self.status)
    }
}

/// The Redis key (and pub/sub channel) of a task's result.
pub fn task_meta_key(prefix: &str, task_id: &str) -> String {
    format!("{prefix}celery-task-meta-{task_id}")
}

/// `result_backend_transport_options.global_keyprefix`: an `_` is appended unless the prefix
/// already ends in one of `: _ - .` (spec §5.4).
pub fn normalize_result_keyprefix(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with([':', '_', '-', '.']) {
        prefix.to_string()
    } else {
        format!("{prefix}_")
    }
}
