//! Remote control (spec §6.1): the broadcast commands Python's `app.control` sends through the
//! `celery.pidbox` fanout exchange, here `revoke`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};

/// Celery's control exchange (`<control_exchange>.pidbox`).
pub const PIDBOX_EXCHANGE: &str = "celery.pidbox";

/// A broadcast command: JSON body and its headers.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlMessage {
    pub body: String,
    pub headers: Map<String, Value>,
}

/// `revoke`: every worker online adds the ids to its revoked set; `terminate` also kills a
/// running task with `signal`. `clock` is the sender's Lamport clock; the reply deadline
/// (`expires`) is one second, as Python's broadcast timeout.
pub fn revoke_command(
    task_ids: &[String],
    terminate: bool,
    signal: &str,
    clock: u64,
    now: SystemTime,
) -> ControlMessage {
    let task_id = match task_ids {
        [one] => json!(one),
        many => json!(many),
    };
    let body = json!({
        "method": "revoke",
        "arguments": {"task_id": task_id, "terminate": terminate, "signal": signal},
        "destination": null,
        "pattern": null,
        "matcher": null,
    });
    let expires = (now + Duration::from_secs(1)).duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    let mut headers = Map::new();
    headers.insert("clock".into(), json!(clock));
    headers.insert("expires".into(), json!(expires));
    ControlMessage { body: body.to_string(), headers }
}

/// A broadcast as a worker reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlCommand {
    /// `revoke`: the task ids, and whether running ones are to be terminated.
    Revoke {
        task_ids: Vec<String>,
        terminate: bool,
    },
    Other(String),
}

/// Reads a broadcast body for the worker `node_name`; `None` when it is addressed to other
/// workers (`destination`) or is not a command.
pub fn parse_command(body: &[u8], node_name: &str) -> Option<ControlCommand> {
    let command: Value = serde_json::from_slice(body).ok()?;
    if let Some(destination) = command.get("destination").and_then(Value::as_array) {
        if !destination.iter().any(|d| d.as_str() == Some(node_name)) {
            return None;
        }
    }
    let method = command.get("method")?.as_str()?;
    let arguments = command.get("arguments");
    Some(match method {
        "revoke" => {
            let task_ids = match arguments.and_then(|a| a.get("task_id")) {
                Some(Value::String(id)) => vec![id.clone()],
                Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).map(String::from).collect(),
                _ => Vec::new(),
            };
            let terminate = arguments.and_then(|a| a.get("terminate")).and_then(Value::as_bool).unwrap_or(false);
            ControlCommand::Revoke { task_ids, terminate }
        }
        other => ControlCommand::Other(other.to_string()),
    })
}

/// Redis: broadcasts are PUBLISHed on `/<db>.<exchange>` (kombu's fanout prefix, spec §3.5).
pub fn fanout_channel(db: i64, exchange: &str) -> String {
    format!("/{db}.{exchange}")
}

/// The envelope kombu publishes for a broadcast on Redis: a task envelope whose properties hold
/// only what a fanout message carries.
pub fn broadcast_envelope(message: &ControlMessage, exchange: &str, delivery_tag: &str) -> String {
    json!({
        "body": BASE64.encode(message.body.as_bytes()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": message.headers,
        "properties": {
            "delivery_mode": 2,
            "delivery_info": {"exchange": exchange, "routing_key": ""},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": delivery_tag,
        },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_is_written_as_python_writes_it() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_606_233);
        let one = revoke_command(&["a".into()], false, "SIGTERM", 1, now);
        let body: Value = serde_json::from_str(&one.body).unwrap();
        assert_eq!(
            body,
            json!({"method": "revoke", "arguments": {"task_id": "a", "terminate": false, "signal": "SIGTERM"},
                   "destination": null, "pattern": null, "matcher": null})
        );
        assert_eq!(one.headers["clock"], 1);
        assert_eq!(one.headers["expires"], 1_795_606_234.0);
        let many = revoke_command(&["a".into(), "b".into()], true, "SIGKILL", 2, now);
        assert_eq!(serde_json::from_str::<Value>(&many.body).unwrap()["arguments"]["task_id"], json!(["a", "b"]));
        assert_eq!(fanout_channel(0, PIDBOX_EXCHANGE), "/0.celery.pidbox");
    }

    #[test]
    fn workers_read_revokes_addressed_to_them() {
        let now = UNIX_EPOCH;
        let many = revoke_command(&["a".into(), "b".into()], true, "SIGKILL", 2, now);
        assert_eq!(
            parse_command(many.body.as_bytes(), "w@h"),
            Some(ControlCommand::Revoke { task_ids: vec!["a".into(), "b".into()], terminate: true })
        );
        let elsewhere = br#"{"method": "revoke", "arguments": {"task_id": "a"}, "destination": ["other@h"]}"#;
        assert_eq!(parse_command(elsewhere, "w@h"), None);
        let here = br#"{"method": "ping", "arguments": {}, "destination": ["w@h"]}"#;
        assert_eq!(parse_command(here, "w@h"), Some(ControlCommand::Other("ping".into())));
        assert_eq!(parse_command(b"nope", "w@h"), None);
    }
}
