//! Task messages, protocol 2 (default) and protocol 1, with every field Celery 5.7's Python client
//! writes for the same call (spec §1.2–§1.7). Pure: the caller supplies ids, the clock and the
//! producer's identity.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::repr::{python_repr_of_json, REPR_MAX_CHARS};
use super::task_headers::{CeleryHeaders, HeaderValue, TaskHeaders};
use super::time::{format_iso8601, python_datetime_max};

pub const CONTENT_TYPE_JSON: &str = "application/json";
pub const CONTENT_ENCODING_UTF8: &str = "utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolVersion {
    V1,
    #[default]
    V2,
}

impl ProtocolVersion {
    pub fn from_number(n: u32) -> Option<Self> {
        match n {
            1 => Some(Self::V1),
            2 => Some(Self::V2),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expiry {
    /// Seconds from now, as Python's numeric `expires=`.
    In(f64),
    At(SystemTime),
}

/// Per-call options, as `apply_async` takes them. Everything is optional.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TaskOptions {
    pub countdown: Option<f64>,
    pub eta: Option<SystemTime>,
    pub expires: Option<Expiry>,
    pub priority: Option<u8>,
    /// Hard limit first, as Celery's `timelimit` header (spec §1.3).
    pub time_limit: Option<f64>,
    pub soft_time_limit: Option<f64>,
    pub shadow: Option<String>,
    pub ignore_result: Option<bool>,
    pub retries: u32,
    pub root_id: Option<String>,
    pub parent_id: Option<String>,
    pub group_id: Option<String>,
    pub group_index: Option<u32>,
    /// Extra application headers (`apply_async(headers=...)`), appended after Celery's own.
    pub headers: Map<String, Value>,
    /// Signature dicts (`link=` / `link_error=`), already as JSON values.
    pub callbacks: Option<Vec<Value>>,
    pub errbacks: Option<Vec<Value>>,
    /// The rest of a chain, last task first (spec §2.3).
    pub chain: Option<Vec<Value>>,
    /// The frozen chord body a chord header task carries (spec §2.5).
    pub chord: Option<Value>,
    /// Where RPC results of this task go, instead of the producer's own reply queue.
    pub reply_to: Option<String>,
    /// Compress the body with zlib (kombu's `zlib` / `gzip`).
    pub compress: bool,
}

/// Who publishes: written into `origin` and `reply_to` of every message.
#[derive(Debug, Clone, PartialEq)]
pub struct Producer {
    /// `gen<pid>@<hostname>`, as Celery names a client node.
    pub origin: String,
    /// The client's oid (spec §5.5); the RPC backend listens on a queue of this name.
    pub reply_to: String,
    pub lang: &'static str,
}

/// One `sendTask` call. Arguments arrive as JSON text (the JS side stringified them) and are
/// spliced into the body without being parsed again.
#[derive(Debug, Clone)]
pub struct TaskRequest<'a> {
    pub name: &'a str,
    pub id: &'a str,
    pub args_json: &'a str,
    /// `None` reproduces celery-node's `sendTask(name, args)` without kwargs: `null` in a v2 body,
    /// the key left out of a v1 body.
    pub kwargs_json: Option<&'a str>,
    pub options: &'a TaskOptions,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageProperties {
    pub correlation_id: String,
    pub reply_to: String,
    pub delivery_mode: u8,
    pub priority: u8,
    /// Milliseconds as a decimal string, only when `expires` is set (celery ≥ 5.2).
    pub expiration: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskMessage {
    pub headers: TaskHeaders,
    pub properties: MessageProperties,
    /// The serialized body: JSON text, or its compressed bytes (see [`compress_zlib`]).
    pub body: Vec<u8>,
}

impl TaskMessage {
    pub fn content_type(&self) -> &'static str {
        CONTENT_TYPE_JSON
    }
    pub fn content_encoding(&self) -> &'static str {
        CONTENT_ENCODING_UTF8
    }
}

pub fn encode_task(
    request: &TaskRequest<'_>,
    producer: &Producer,
    version: ProtocolVersion,
    now: SystemTime,
) -> TaskMessage {
    let options = request.options;
    // As `as_task_v2` does: a non-zero countdown replaces any eta (`if countdown:`), so a
    // countdown of 0 leaves the eta as given (spec §1.6).
    let eta = match options.countdown {
        Some(seconds) if seconds != 0.0 => Some(offset_by_seconds(now, seconds)),
        _ => options.eta,
    };
    let expires_at = options.expires.as_ref().map(|expiry| match expiry {
        Expiry::In(seconds) => offset_by_seconds(now, *seconds),
        Expiry::At(at) => *at,
    });
    let properties = MessageProperties {
        correlation_id: request.id.to_string(),
        reply_to: options.reply_to.clone().unwrap_or_else(|| producer.reply_to.clone()),
        delivery_mode: 2,
        priority: options.priority.unwrap_or(0),
        expiration: expires_at.map(|at| {
            let remaining = at.duration_since(now).unwrap_or(Duration::ZERO);
            remaining.as_millis().to_string()
        }),
    };
    let eta_text = eta.map(format_iso8601);
    let expires_text = expires_at.map(format_iso8601);
    match version {
        ProtocolVersion::V2 => {
            let celery = CeleryHeaders {
                lang: producer.lang,
                task: request.name.to_string(),
                id: request.id.to_string(),
                shadow: options.shadow.clone(),
                eta: eta_text,
                expires: expires_text,
                group: options.group_id.clone(),
                group_index: options.group_index,
                retries: options.retries,
                timelimit: (options.time_limit, options.soft_time_limit),
                root_id: options.root_id.as_deref().unwrap_or(request.id).to_string(),
                parent_id: options.parent_id.clone(),
                argsrepr: args_repr(request.args_json),
                kwargsrepr: python_repr_of_json(request.kwargs_json.unwrap_or("null"), REPR_MAX_CHARS),
                origin: producer.origin.clone(),
                ignore_result: options.ignore_result,
            };
            let headers = TaskHeaders { celery: Some(Box::new(celery)), extra: options.headers.clone() };
            // `[args, kwargs, embed]`, the argument text spliced as given.
            let kwargs_json = request.kwargs_json.unwrap_or("null");
            let mut body = Vec::with_capacity(request.args_json.len() + kwargs_json.len() + 64);
            body.push(b'[');
            body.extend_from_slice(request.args_json.as_bytes());
            body.push(b',');
            body.extend_from_slice(kwargs_json.as_bytes());
            body.extend_from_slice(b",{");
            push_field(&mut body, "callbacks", &options.callbacks);
            push_field(&mut body, "errbacks", &options.errbacks);
            push_field(&mut body, "chain", &options.chain);
            push_field(&mut body, "chord", &options.chord);
            body.extend_from_slice(b"}]");
            finish(TaskMessage { headers, properties, body }, options)
        }
        ProtocolVersion::V1 => {
            // Protocol 1 keeps everything in the body (spec §1.7); the JSON object is written by
            // hand so the argument text is spliced, not re-parsed.
            let mut body = Vec::with_capacity(request.args_json.len() + 256);
            body.push(b'{');
            push_field(&mut body, "task", &request.name);
            push_field(&mut body, "id", &request.id);
            push_raw_field(&mut body, "args", request.args_json);
            if let Some(kwargs) = request.kwargs_json {
                push_raw_field(&mut body, "kwargs", kwargs);
            }
            push_field(&mut body, "group", &options.group_id);
            push_field(&mut body, "group_index", &options.group_index);
            push_field(&mut body, "retries", &options.retries);
            push_field(&mut body, "eta", &eta_text);
            push_field(&mut body, "expires", &expires_text);
            push_field(&mut body, "utc", &true);
            push_field(&mut body, "callbacks", &options.callbacks);
            push_field(&mut body, "errbacks", &options.errbacks);
            push_field(&mut body, "timelimit", &HeaderValue::Seconds(options.time_limit, options.soft_time_limit));
            push_field(&mut body, "taskset", &options.group_id);
            push_field(&mut body, "chord", &options.chord);
            body.push(b'}');
            finish(TaskMessage { headers: options.headers.clone().into(), properties, body }, options)
        }
    }
}

/// `as_task_v2` begins with `args = args or ()`, so empty arguments are shown as the empty tuple
/// `()` (fixture `no_args`); other arguments keep the list form a JSON array stands for.
fn args_repr(args_json: &str) -> String {
    let repr = python_repr_of_json(args_json, REPR_MAX_CHARS);
    if repr == "[]" {
        "()".to_string()
    } else {
        repr
    }
}

/// `now + timedelta(seconds=…)`: negative offsets reach into the past, as in Python. Offsets no
/// `Duration` can hold (infinite, astronomically large) saturate at Python's `datetime.max`
/// instead of panicking; NaN adds nothing.
fn offset_by_seconds(now: SystemTime, seconds: f64) -> SystemTime {
    match Duration::try_from_secs_f64(seconds.abs()) {
        _ if seconds.is_nan() => now,
        Ok(offset) if seconds >= 0.0 => now.checked_add(offset).unwrap_or_else(python_datetime_max),
        Ok(offset) => now.checked_sub(offset).unwrap_or(UNIX_EPOCH),
        Err(_) if seconds > 0.0 => python_datetime_max(),
        Err(_) => UNIX_EPOCH,
    }
}

fn finish(mut message: TaskMessage, options: &TaskOptions) -> TaskMessage {
    if options.compress {
        compress_zlib(&mut message);
    }
    message
}

/// `compression='zlib'` (or `'gzip'`, the same thing in kombu): the body becomes a zlib stream
/// (RFC 1950, despite kombu's mime name) and the `compression` header names it (spec §7.2).
pub fn compress_zlib(message: &mut TaskMessage) {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&message.body).expect("writing to memory");
    message.body = encoder.finish().expect("writing to memory");
    message.headers.insert("compression", Value::from("application/x-gzip"));
}

/// `"key":value` into a JSON object being written by hand (a comma first unless it is the first).
fn push_field<T: serde::Serialize + ?Sized>(body: &mut Vec<u8>, key: &str, value: &T) {
    push_key(body, key);
    serde_json::to_writer(body, value).expect("writing JSON to memory");
}

/// `"key":` and JSON text spliced as given (arguments the JS side already stringified).
fn push_raw_field(body: &mut Vec<u8>, key: &str, json: &str) {
    push_key(body, key);
    body.extend_from_slice(json.as_bytes());
}

fn push_key(body: &mut Vec<u8>, key: &str) {
    if body.last() != Some(&b'{') {
        body.push(b',');
    }
    body.push(b'"');
    body.extend_from_slice(key.as_bytes());
    body.extend_from_slice(b"\":");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn producer() -> Producer {
        Producer { origin: "gen1@host".into(), reply_to: "oid".into(), lang: "js" }
    }

    fn encode_v2(args_json: &str, options: &TaskOptions, now: SystemTime) -> TaskMessage {
        let request = TaskRequest { name: "tasks.add", id: "id-1", args_json, kwargs_json: Some("{}"), options };
        encode_task(&request, &producer(), ProtocolVersion::V2, now)
    }

    #[test]
    fn zlib_compression_is_a_zlib_stream_named_as_kombu_names_it() {
        use std::io::Read;
        let options = TaskOptions { compress: true, ..TaskOptions::default() };
        let message = encode_v2("[1,2]", &options, UNIX_EPOCH);
        assert_eq!(message.headers.get("compression").unwrap(), "application/x-gzip");
        assert_eq!(&message.body[..2], &[0x78, 0x9c]);
        let mut plain = String::new();
        flate2::read::ZlibDecoder::new(&message.body[..]).read_to_string(&mut plain).unwrap();
        assert!(plain.starts_with("[[1,2],{}"));
    }

    #[test]
    fn empty_args_are_shown_as_the_empty_tuple() {
        let options = TaskOptions::default();
        assert_eq!(encode_v2("[]", &options, UNIX_EPOCH).headers.get("argsrepr").unwrap(), "()");
        assert_eq!(encode_v2("[2,3]", &options, UNIX_EPOCH).headers.get("argsrepr").unwrap(), "[2, 3]");
    }

    #[test]
    fn a_nonzero_countdown_wins_over_eta_as_in_python() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let eta = UNIX_EPOCH + Duration::from_secs(2_000_000);
        let options = TaskOptions { eta: Some(eta), countdown: Some(10.0), ..TaskOptions::default() };
        assert_eq!(encode_v2("[]", &options, now).headers.get("eta").unwrap(), format_iso8601(now + Duration::from_secs(10)));
        let options = TaskOptions { eta: Some(eta), countdown: Some(0.0), ..TaskOptions::default() };
        assert_eq!(encode_v2("[]", &options, now).headers.get("eta").unwrap(), format_iso8601(eta));
        let options = TaskOptions { countdown: Some(0.0), ..TaskOptions::default() };
        assert_eq!(encode_v2("[]", &options, now).headers.get("eta").unwrap(), Value::Null);
        let options = TaskOptions { countdown: Some(-5.0), ..TaskOptions::default() };
        assert_eq!(encode_v2("[]", &options, now).headers.get("eta").unwrap(), format_iso8601(now - Duration::from_secs(5)));
    }

    #[test]
    fn absurd_offsets_do_not_panic() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        for seconds in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e300, -1e300, f64::MAX] {
            let options =
                TaskOptions { countdown: Some(seconds), expires: Some(Expiry::In(seconds)), ..TaskOptions::default() };
            let message = encode_v2("[]", &options, now);
            assert!(message.headers.get("eta").unwrap().is_string() && message.headers.get("expires").unwrap().is_string(), "{seconds}");
        }
        let options = TaskOptions { countdown: Some(f64::INFINITY), ..TaskOptions::default() };
        assert_eq!(encode_v2("[]", &options, now).headers.get("eta").unwrap(), "9999-12-31T23:59:59.999999+00:00");
        // An expiry already past is sent with a zero TTL (spec §1.2).
        let options = TaskOptions { expires: Some(Expiry::In(-30.0)), ..TaskOptions::default() };
        assert_eq!(encode_v2("[]", &options, now).properties.expiration.as_deref(), Some("0"));
    }
}
