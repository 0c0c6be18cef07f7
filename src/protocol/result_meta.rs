//! Result metadata as Celery backends store it (spec §5.1–§5.3): only the status is interpreted
//! here; the whole JSON goes to JS untouched, so every field any Celery 5.x writes survives.

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{json, Value};

use super::time::format_iso8601;

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

/// What a worker stores for a task, in the key order of Celery's `_get_result_meta` (spec §5.2).
#[derive(Debug, Clone)]
pub struct StoredMeta<'a> {
    pub task_id: &'a str,
    pub status: &'a str,
    /// JSON text: the return value, or an exception dict (see [`exception_json`]).
    pub result_json: &'a str,
    pub traceback: Option<&'a str>,
    /// Set for ready states only, as Celery does.
    pub date_done: Option<SystemTime>,
    pub group_id: Option<&'a str>,
    pub parent_id: Option<&'a str>,
}

impl StoredMeta<'_> {
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.result_json.len() + 256);
        out.push_str("{\"status\": ");
        out.push_str(&Value::from(self.status).to_string());
        out.push_str(", \"result\": ");
        out.push_str(self.result_json);
        out.push_str(", \"traceback\": ");
        out.push_str(&json!(self.traceback).to_string());
        out.push_str(", \"children\": [], \"date_done\": ");
        out.push_str(&json!(self.date_done.map(format_iso8601)).to_string());
        if let Some(group_id) = self.group_id {
            out.push_str(", \"group_id\": ");
            out.push_str(&Value::from(group_id).to_string());
        }
        if let Some(parent_id) = self.parent_id {
            out.push_str(", \"parent_id\": ");
            out.push_str(&Value::from(parent_id).to_string());
        }
        out.push_str(", \"task_id\": ");
        out.push_str(&Value::from(self.task_id).to_string());
        out.push('}');
        out
    }
}

/// An exception as JSON result backends store it (spec §5.3); Python's `AsyncResult.get()`
/// raises it as `exc_module.exc_type(*exc_message)`.
pub fn exception_json(exc_type: &str, message: &str, module: &str) -> String {
    json!({"exc_type": exc_type, "exc_message": [message], "exc_module": module}).to_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::time::parse_iso8601;

    #[test]
    fn writes_metas_in_celerys_key_order() {
        let meta = StoredMeta {
            task_id: "d382c4a8-3905-4b50-ad39-44a9fd91d1d4",
            status: "SUCCESS",
            result_json: "5",
            traceback: None,
            date_done: parse_iso8601("2026-11-25T11:28:09.741351+00:00"),
            group_id: None,
            parent_id: None,
        };
        // The captured Python meta (spec §5.2), byte for byte.
        assert_eq!(
            meta.to_json(),
            r#"{"status": "SUCCESS", "result": 5, "traceback": null, "children": [], "date_done": "2026-11-25T11:28:09.741351+00:00", "task_id": "d382c4a8-3905-4b50-ad39-44a9fd91d1d4"}"#
        );
        let failed = StoredMeta {
            status: "FAILURE",
            result_json: &exception_json("TypeError", "boom", "builtins"),
            traceback: Some("TypeError: boom\n    at x"),
            group_id: Some("g"),
            parent_id: Some("p"),
            ..meta
        };
        let value: Value = serde_json::from_str(&failed.to_json()).unwrap();
        assert_eq!(
            value["result"],
            json!({"exc_type": "TypeError", "exc_message": ["boom"], "exc_module": "builtins"})
        );
        assert_eq!((value["group_id"].as_str(), value["parent_id"].as_str()), (Some("g"), Some("p")));
        assert_eq!(value["traceback"], "TypeError: boom\n    at x");
    }
}
