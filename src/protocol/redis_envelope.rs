//! kombu's Redis transport format (spec §3): the JSON envelope that is LPUSHed, the priority
//! sub-queue key names and the binding-table member.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::task_message::TaskMessage;

/// kombu's default `sep` transport option: the bytes 0x06 0x16.
pub const DEFAULT_SEPARATOR: &str = "\x06\x16";
/// kombu's default `priority_steps`.
pub const DEFAULT_PRIORITY_STEPS: [u8; 4] = [0, 3, 6, 9];

/// How the workers lay out their Redis keys; client and workers must agree (spec §3.4, §3.7).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RedisKeyLayout {
    pub separator: String,
    pub priority_steps: Vec<u8>,
    pub global_keyprefix: String,
}

impl Default for RedisKeyLayout {
    fn default() -> Self {
        Self {
            separator: DEFAULT_SEPARATOR.to_string(),
            priority_steps: DEFAULT_PRIORITY_STEPS.to_vec(),
            global_keyprefix: String::new(),
        }
    }
}

impl RedisKeyLayout {
    /// The list a message of this priority goes to: the largest step ≤ priority picks the bucket;
    /// bucket 0 is the bare queue name.
    pub fn queue_key(&self, queue: &str, priority: u8) -> String {
        let priority = priority.min(9);
        let bucket = self.priority_steps.iter().copied().filter(|step| *step <= priority).max().unwrap_or(0);
        if bucket == 0 {
            format!("{}{queue}", self.global_keyprefix)
        } else {
            format!("{}{queue}{}{bucket}", self.global_keyprefix, self.separator)
        }
    }

    /// `_kombu.binding.<queue>` and its member `<routing key><sep><pattern><sep><queue>` for the
    /// default direct binding of a queue to the exchange of the same name.
    pub fn binding(&self, queue: &str) -> (String, String) {
        let sep = &self.separator;
        (format!("{}_kombu.binding.{queue}", self.global_keyprefix), format!("{queue}{sep}{sep}{queue}"))
    }

    /// kombu 5.7's mirror of the binding table for queues without `x-expires`.
    pub fn permanent_binding_key(&self, queue: &str) -> String {
        format!("{}_kombu.binding_permanent.{queue}", self.global_keyprefix)
    }
}

/// The envelope pushed onto the list. Key order follows kombu; celery-node's camelCase
/// `correlationId` / `replyTo` are kept beside them for code that reads those.
pub fn encode_envelope(message: &TaskMessage, exchange: &str, routing_key: &str, delivery_tag: &str) -> String {
    let props = &message.properties;
    let mut properties = Map::new();
    properties.insert("correlation_id".into(), json!(props.correlation_id));
    properties.insert("reply_to".into(), json!(props.reply_to));
    properties.insert("delivery_mode".into(), json!(props.delivery_mode));
    if let Some(expiration) = &props.expiration {
        properties.insert("expiration".into(), json!(expiration));
    }
    properties.insert("delivery_info".into(), json!({ "exchange": exchange, "routing_key": routing_key }));
    properties.insert("priority".into(), json!(props.priority));
    properties.insert("body_encoding".into(), json!("base64"));
    properties.insert("delivery_tag".into(), json!(delivery_tag));
    properties.insert("correlationId".into(), json!(props.correlation_id));
    properties.insert("replyTo".into(), json!(""));
    let mut envelope = Map::new();
    envelope.insert("body".into(), json!(BASE64.encode(&message.body)));
    envelope.insert("content-encoding".into(), json!(message.content_encoding()));
    envelope.insert("content-type".into(), json!(message.content_type()));
    envelope.insert("headers".into(), Value::Object(message.headers.clone()));
    envelope.insert("properties".into(), Value::Object(properties));
    Value::Object(envelope).to_string()
}

/// A decoded envelope: what a consumer (our worker, our tests) needs from one list item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RedisEnvelope {
    pub body: String,
    #[serde(rename = "content-type")]
    pub content_type: String,
    #[serde(rename = "content-encoding")]
    pub content_encoding: String,
    #[serde(default)]
    pub headers: Map<String, Value>,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

impl RedisEnvelope {
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The message body bytes (base64-decoded when `body_encoding` says so).
    pub fn body_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        match self.properties.get("body_encoding").and_then(Value::as_str) {
            Some("base64") => BASE64.decode(&self.body),
            _ => Ok(self.body.clone().into_bytes()),
        }
    }
}
