//! kombu's Redis transport format (spec §3): the JSON envelope that is LPUSHed, the priority
//! sub-queue key names and the binding-table member.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// The envelope pushed onto the list, as JSON bytes. Key order follows kombu; celery-node's
/// camelCase `correlationId` / `replyTo` are kept beside them for code that reads those. Written
/// piece by piece: the base64 body goes straight into the buffer, as it needs no escaping.
pub fn encode_envelope(message: &TaskMessage, exchange: &str, routing_key: &str, delivery_tag: &str) -> Vec<u8> {
    let props = &message.properties;
    let body_len = base64::encoded_len(message.body.len(), true).expect("a message fits in memory");
    let mut out = Vec::with_capacity(body_len + 1024);
    out.extend_from_slice(b"{\"body\":\"");
    let start = out.len();
    out.resize(start + body_len, 0);
    BASE64.encode_slice(&message.body, &mut out[start..]).expect("sized above");
    out.extend_from_slice(b"\",\"content-encoding\":");
    write_json(&mut out, message.content_encoding());
    out.extend_from_slice(b",\"content-type\":");
    write_json(&mut out, message.content_type());
    out.extend_from_slice(b",\"headers\":");
    write_json(&mut out, &message.headers);
    out.extend_from_slice(b",\"properties\":");
    let properties = EnvelopeProperties {
        correlation_id: &props.correlation_id,
        reply_to: &props.reply_to,
        delivery_mode: props.delivery_mode,
        expiration: props.expiration.as_deref(),
        delivery_info: DeliveryInfo { exchange, routing_key },
        priority: props.priority,
        body_encoding: "base64",
        delivery_tag,
        correlation_id_camel: &props.correlation_id,
        reply_to_camel: "",
    };
    write_json(&mut out, &properties);
    out.push(b'}');
    out
}

fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("writing JSON to memory");
}

#[derive(Serialize)]
struct EnvelopeProperties<'a> {
    correlation_id: &'a str,
    reply_to: &'a str,
    delivery_mode: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<&'a str>,
    delivery_info: DeliveryInfo<'a>,
    priority: u8,
    body_encoding: &'a str,
    delivery_tag: &'a str,
    #[serde(rename = "correlationId")]
    correlation_id_camel: &'a str,
    #[serde(rename = "replyTo")]
    reply_to_camel: &'a str,
}

#[derive(Serialize)]
struct DeliveryInfo<'a> {
    exchange: &'a str,
    routing_key: &'a str,
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
