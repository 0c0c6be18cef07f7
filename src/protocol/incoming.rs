//! Reading a task message as a worker does (spec §1, §1.7, §1.8): protocol 2 (headers carry the
//! task) or protocol 1 (everything in the body), JSON only. Pickle and other content types are
//! refused before anything is deserialized.

use std::borrow::Cow;
use std::io::Read;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::task_message::{CONTENT_ENCODING_UTF8, CONTENT_TYPE_JSON};
use super::time::parse_iso8601;

/// A message as it came off a transport, before it is understood.
#[derive(Debug, Clone, Default)]
pub struct RawMessage {
    pub headers: Map<String, Value>,
    pub content_type: String,
    pub content_encoding: String,
    pub body: Vec<u8>,
    pub correlation_id: Option<String>,
    pub reply_to: Option<String>,
    pub priority: Option<u8>,
    /// Redis envelopes only: `properties.body_encoding`.
    pub body_encoding: Option<String>,
}

impl RawMessage {
    /// A message read from a kombu Redis list (spec §3.2). A body that is not valid base64 is
    /// left as it is, and [`decode_task`] refuses it as not JSON.
    pub fn from_envelope(envelope: super::RedisEnvelope) -> Self {
        let property = |key: &str| envelope.properties.get(key).and_then(Value::as_str).map(String::from);
        let body_encoding = property("body_encoding");
        let body = match envelope.body_bytes() {
            Ok(body) => body,
            Err(_) => envelope.body.clone().into_bytes(),
        };
        Self {
            correlation_id: property("correlation_id").or_else(|| property("correlationId")),
            reply_to: property("reply_to").or_else(|| property("replyTo")),
            priority: envelope.properties.get("priority").and_then(Value::as_u64).map(|p| p.min(255) as u8),
            body_encoding,
            headers: envelope.headers,
            content_type: envelope.content_type,
            content_encoding: envelope.content_encoding,
            body,
        }
    }
}

/// The signatures a task carries in its body's third element (spec §1.4).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embed {
    pub callbacks: Vec<Value>,
    pub errbacks: Vec<Value>,
    /// The rest of a chain, last task first: the next task is the last element.
    pub chain: Vec<Value>,
    pub chord: Option<Value>,
}

/// One task to run, as the worker's `Request` sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncomingTask {
    pub name: String,
    pub id: String,
    /// JSON array text.
    pub args_json: String,
    /// JSON object text, or `null` as celery-node's `sendTask` without kwargs sends it.
    pub kwargs_json: String,
    pub embed: Embed,
    /// Protocol 2 headers as sent; for protocol 1, the same fields taken from the body.
    pub headers: Map<String, Value>,
    pub retries: u32,
    pub eta: Option<SystemTime>,
    pub expires: Option<SystemTime>,
    pub time_limit: Option<f64>,
    pub soft_time_limit: Option<f64>,
    pub root_id: Option<String>,
    pub parent_id: Option<String>,
    pub group_id: Option<String>,
    pub group_index: Option<u64>,
    pub ignore_result: bool,
    pub reply_to: Option<String>,
    pub correlation_id: Option<String>,
    pub priority: Option<u8>,
    pub protocol: u8,
}

/// Why a message cannot run. The texts are celery-node's where it has one (spec §1.10).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeFailure {
    pub reason: String,
    /// Known when the headers named it: the failure is then stored for that task.
    pub task_id: Option<String>,
}

pub fn decode_task(raw: &RawMessage) -> Result<IncomingTask, DecodeFailure> {
    let header_id = raw.headers.get("id").and_then(Value::as_str).map(String::from);
    let fail = |reason: String| DecodeFailure { reason, task_id: header_id.clone() };
    if raw.content_type != CONTENT_TYPE_JSON {
        return Err(fail(format!("unsupported content type {}", raw.content_type)));
    }
    if let Some(encoding) = raw.body_encoding.as_deref().filter(|e| *e != "base64") {
        return Err(fail(format!("unsupported body encoding {encoding}")));
    }
    if !raw.content_encoding.eq_ignore_ascii_case(CONTENT_ENCODING_UTF8) {
        return Err(fail(format!("unsupported content encoding {}", raw.content_encoding)));
    }
    let body = decompress(&raw.headers, &raw.body).map_err(fail)?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| fail(format!("body is not JSON: {e}")))?;
    let mut task = match raw.headers.get("task").and_then(Value::as_str) {
        Some(name) => from_v2(name.to_string(), raw.headers.clone(), body).map_err(fail)?,
        None => from_v1(body).map_err(fail)?,
    };
    task.reply_to = raw.reply_to.clone().filter(|r| !r.is_empty());
    task.correlation_id = raw.correlation_id.clone();
    task.priority = raw.priority;
    Ok(task)
}

fn decompress<'a>(headers: &Map<String, Value>, body: &'a [u8]) -> Result<Cow<'a, [u8]>, String> {
    match headers.get("compression").and_then(Value::as_str) {
        None => Ok(Cow::Borrowed(body)),
        Some("application/x-gzip" | "application/x-zlib" | "zlib" | "gzip") => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|e| format!("cannot decompress the body: {e}"))?;
            Ok(Cow::Owned(out))
        }
        Some(other) => Err(format!("unsupported compression {other}")),
    }
}

fn from_v2(name: String, headers: Map<String, Value>, body: Value) -> Result<IncomingTask, String> {
    let id = text(&headers, "id").ok_or("the task id header is missing")?;
    let Value::Array(mut parts) = body else { return Err("body is not iterable".into()) };
    if parts.len() != 3 {
        return Err(format!("the body must be [args, kwargs, embed], not {} elements", parts.len()));
    }
    let embed = parts.pop().unwrap_or(Value::Null);
    let kwargs = parts.pop().unwrap_or(Value::Null);
    let args = parts.pop().unwrap_or(Value::Null);
    let (time_limit, soft_time_limit) = time_limits(headers.get("timelimit"));
    Ok(IncomingTask {
        name,
        id,
        args_json: args_text(args)?,
        kwargs_json: kwargs_text(kwargs)?,
        embed: Embed {
            callbacks: signatures(embed.get("callbacks")),
            errbacks: signatures(embed.get("errbacks")),
            chain: signatures(embed.get("chain")),
            chord: embed.get("chord").filter(|c| !c.is_null()).cloned(),
        },
        retries: number(&headers, "retries").unwrap_or(0.0) as u32,
        eta: time(&headers, "eta")?,
        expires: time(&headers, "expires")?,
        time_limit,
        soft_time_limit,
        root_id: text(&headers, "root_id"),
        parent_id: text(&headers, "parent_id"),
        group_id: text(&headers, "group"),
        group_index: headers.get("group_index").and_then(Value::as_u64),
        ignore_result: headers.get("ignore_result").and_then(Value::as_bool).unwrap_or(false),
        headers,
        reply_to: None,
        correlation_id: None,
        priority: None,
        protocol: 2,
    })
}

/// Protocol 1: `{task, id, args, kwargs, eta, expires, retries, callbacks, errbacks, timelimit,
/// taskset, chord, ...}` (spec §1.7), read as Celery's `proto1_to_proto2` does.
fn from_v1(body: Value) -> Result<IncomingTask, String> {
    let Value::Object(mut fields) = body else { return Err("a protocol 1 body must be an object".into()) };
    let name = text(&fields, "task").ok_or("the body names no task")?;
    let id = text(&fields, "id").ok_or("the body has no task id")?;
    let args = fields.remove("args").unwrap_or(Value::Array(vec![]));
    let kwargs = fields.remove("kwargs").unwrap_or(Value::Object(Map::new()));
    let (time_limit, soft_time_limit) = time_limits(fields.get("timelimit"));
    let group_id = text(&fields, "group").or_else(|| text(&fields, "taskset"));
    Ok(IncomingTask {
        args_json: args_text(args)?,
        kwargs_json: kwargs_text(kwargs)?,
        embed: Embed {
            callbacks: signatures(fields.get("callbacks")),
            errbacks: signatures(fields.get("errbacks")),
            chain: Vec::new(),
            chord: fields.get("chord").filter(|c| !c.is_null()).cloned(),
        },
        retries: number(&fields, "retries").unwrap_or(0.0) as u32,
        eta: time(&fields, "eta")?,
        expires: time(&fields, "expires")?,
        time_limit,
        soft_time_limit,
        root_id: None,
        parent_id: None,
        group_index: fields.get("group_index").and_then(Value::as_u64),
        group_id,
        ignore_result: false,
        headers: Map::from_iter([
            ("lang".to_string(), Value::from("py")),
            ("task".to_string(), Value::from(name.clone())),
            ("id".to_string(), Value::from(id.clone())),
        ]),
        name,
        id,
        reply_to: None,
        correlation_id: None,
        priority: None,
        protocol: 1,
    })
}

fn args_text(args: Value) -> Result<String, String> {
    match args {
        Value::Array(_) => Ok(args.to_string()),
        Value::Null => Ok("[]".into()),
        other => Err(format!("args must be a list, not {other}")),
    }
}

fn kwargs_text(kwargs: Value) -> Result<String, String> {
    match kwargs {
        Value::Object(_) | Value::Null => Ok(kwargs.to_string()),
        other => Err(format!("kwargs must be an object, not {other}")),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(String::from)
}

fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key).and_then(Value::as_f64)
}

fn time(map: &Map<String, Value>, key: &str) -> Result<Option<SystemTime>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => {
            parse_iso8601(text).map(Some).ok_or_else(|| format!("{key} {text:?} is not a date"))
        }
        Some(other) => Err(format!("{key} {other} is not a date")),
    }
}

/// `timelimit: [hard, soft]`, each seconds or null.
fn time_limits(value: Option<&Value>) -> (Option<f64>, Option<f64>) {
    let limit = |i: usize| value.and_then(|v| v.get(i)).and_then(Value::as_f64).filter(|s| *s > 0.0);
    (limit(0), limit(1))
}

/// A list of signature dicts; a single dict counts as a list of one, null as none.
fn signatures(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(list)) => list.clone(),
        Some(Value::Object(_)) => vec![value.cloned().unwrap_or_default()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2(headers: Value, body: &str) -> RawMessage {
        RawMessage {
            headers: headers.as_object().cloned().unwrap(),
            content_type: "application/json".into(),
            content_encoding: "utf-8".into(),
            body: body.as_bytes().to_vec(),
            ..RawMessage::default()
        }
    }

    #[test]
    fn reads_a_minimal_protocol_2_message() {
        let task = decode_task(&v2(json!({"task": "t.add", "id": "i1"}), r#"[[1,2],{},{}]"#)).unwrap();
        assert_eq!((task.name.as_str(), task.id.as_str()), ("t.add", "i1"));
        assert_eq!((task.args_json.as_str(), task.kwargs_json.as_str()), ("[1,2]", "{}"));
        assert_eq!(task.embed, Embed::default());
        assert_eq!((task.retries, task.protocol), (0, 2));
    }

    #[test]
    fn keeps_celery_nodes_null_kwargs() {
        let task = decode_task(&v2(json!({"task": "t", "id": "i"}), r#"[[],null,{}]"#)).unwrap();
        assert_eq!(task.kwargs_json, "null");
    }

    #[test]
    fn reads_protocol_1_from_the_body() {
        let mut raw = v2(
            json!({}),
            r#"{"task":"t.add","id":"i1","args":[3],"kwargs":{"b":4},"retries":2,"eta":"2026-11-25T11:26:40.707956+00:00","timelimit":[10,null],"taskset":"g"}"#,
        );
        raw.reply_to = Some("oid".into());
        let task = decode_task(&raw).unwrap();
        assert_eq!(
            (task.name.as_str(), task.args_json.as_str(), task.kwargs_json.as_str()),
            ("t.add", "[3]", r#"{"b":4}"#)
        );
        assert_eq!((task.retries, task.time_limit, task.group_id.as_deref()), (2, Some(10.0), Some("g")));
        assert!(task.eta.is_some());
        assert_eq!((task.protocol, task.reply_to.as_deref()), (1, Some("oid")));
    }

    #[test]
    fn refuses_other_content_types_before_reading_the_body() {
        let mut raw = v2(json!({"task": "t", "id": "i"}), "\u{80}\u{4}pickle");
        raw.content_type = "application/x-python-serialize".into();
        let failure = decode_task(&raw).unwrap_err();
        assert_eq!(failure.reason, "unsupported content type application/x-python-serialize");
        assert_eq!(failure.task_id.as_deref(), Some("i"));
    }

    #[test]
    fn malformed_bodies_are_named() {
        let failure = decode_task(&v2(json!({"task": "t", "id": "i"}), r#"{"a":1}"#)).unwrap_err();
        assert_eq!(failure.reason, "body is not iterable");
        let failure = decode_task(&v2(json!({"task": "t", "id": "i"}), "nope")).unwrap_err();
        assert!(failure.reason.starts_with("body is not JSON"), "{}", failure.reason);
        let failure = decode_task(&v2(json!({"task": "t", "id": "i", "eta": "soon"}), "[[],{},{}]")).unwrap_err();
        assert!(failure.reason.contains("not a date"));
    }

    #[test]
    fn reads_compressed_bodies() {
        let mut message = crate::protocol::TaskMessage {
            headers: Default::default(),
            properties: crate::protocol::task_message::MessageProperties {
                correlation_id: "i".into(),
                reply_to: String::new(),
                delivery_mode: 2,
                priority: 0,
                expiration: None,
            },
            body: br#"[[7],{},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]"#.to_vec(),
        };
        crate::protocol::task_message::compress_zlib(&mut message);
        let mut headers = message.headers.to_map();
        headers.insert("task".into(), json!("t"));
        headers.insert("id".into(), json!("i"));
        let mut raw = v2(Value::Object(headers), "");
        raw.body = message.body;
        assert_eq!(decode_task(&raw).unwrap().args_json, "[7]");
    }
}
