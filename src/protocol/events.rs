//! Celery events (spec §6.2): the `task-sent` event a client sends after each task when
//! `task_send_sent_event` is on, so that monitors such as Flower see tasks sent from Node.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::task_message::MessageProperties;
use super::TaskMessage;

/// The events exchange (`event_exchange`): topic on AMQP, a fanout channel on Redis.
pub const EVENT_EXCHANGE: &str = "celeryev";
/// `task-sent` as a routing key: dashes become dots.
pub const TASK_SENT_ROUTING_KEY: &str = "task.sent";

/// Where the task went, as the event reports it.
#[derive(Debug, Clone, Copy)]
pub struct SentTo<'a> {
    pub queue: &'a str,
    pub exchange: &'a str,
    pub routing_key: &'a str,
}

/// The `task-sent` event of a protocol 2 task message, as Python's `send_task_message` sends it;
/// `None` for a protocol 1 message (no headers to report).
pub fn task_sent_event(
    task: &TaskMessage,
    to: SentTo<'_>,
    hostname: &str,
    clock: u64,
    now: SystemTime,
) -> Option<TaskMessage> {
    let headers = &task.headers;
    let field = |key: &str| headers.get(key).unwrap_or(Value::Null);
    headers.get("task")?;
    let body = json!({
        "hostname": hostname,
        "utcoffset": 0.0,
        "pid": std::process::id(),
        "clock": clock,
        "uuid": field("id"),
        "root_id": field("root_id"),
        "parent_id": field("parent_id"),
        "name": field("task"),
        "args": field("argsrepr"),
        "kwargs": field("kwargsrepr"),
        "retries": field("retries"),
        "eta": field("eta"),
        "expires": field("expires"),
        "queue": to.queue,
        "exchange": to.exchange,
        "routing_key": to.routing_key,
        "timestamp": now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
        "type": "task-sent",
    });
    Some(TaskMessage {
        headers: Map::from_iter([("hostname".to_string(), Value::from(hostname))]).into(),
        properties: MessageProperties {
            correlation_id: String::new(),
            reply_to: String::new(),
            delivery_mode: 1,
            priority: 0,
            expiration: None,
        },
        body: body.to_string().into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{encode_task, Producer, ProtocolVersion, TaskOptions, TaskRequest};

    #[test]
    fn reports_the_task_as_python_does() {
        let producer = Producer { origin: "gen1@h".into(), reply_to: "oid".into(), lang: "js" };
        let options = TaskOptions::default();
        let request =
            TaskRequest { name: "proj.add", id: "i1", args_json: "[1,2]", kwargs_json: Some("{}"), options: &options };
        let now = UNIX_EPOCH;
        let task = encode_task(&request, &producer, ProtocolVersion::V2, now);
        let to = SentTo { queue: "celery", exchange: "", routing_key: "celery" };
        let event = task_sent_event(&task, to, "gen1@h", 3, now).unwrap();
        let body: Value = serde_json::from_slice(&event.body).unwrap();
        assert_eq!(body["type"], "task-sent");
        assert_eq!(
            (body["uuid"].as_str(), body["name"].as_str(), body["root_id"].as_str()),
            (Some("i1"), Some("proj.add"), Some("i1"))
        );
        assert_eq!(
            (body["args"].as_str(), body["kwargs"].as_str(), body["clock"].as_u64()),
            (Some("[1, 2]"), Some("{}"), Some(3))
        );
        assert_eq!((body["queue"].as_str(), body["routing_key"].as_str()), (Some("celery"), Some("celery")));
        assert_eq!(event.headers.get("hostname").unwrap(), "gen1@h");
        assert_eq!(event.properties.delivery_mode, 1);
        let v1 = encode_task(&request, &producer, ProtocolVersion::V1, now);
        assert!(task_sent_event(&v1, to, "gen1@h", 1, now).is_none());
    }
}
