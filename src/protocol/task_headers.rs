//! A task message's headers: Celery's own (protocol 2) as typed fields, in the order Python writes
//! them, then the application's. Typed so that publishing writes them straight into JSON or an
//! AMQP table, without building a map of owned keys and values per message first.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The headers Celery 5.7's `as_task_v2` writes (spec §1.3), owned by the message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CeleryHeaders {
    pub lang: &'static str,
    pub task: String,
    pub id: String,
    pub shadow: Option<String>,
    pub eta: Option<String>,
    pub expires: Option<String>,
    pub group: Option<String>,
    pub group_index: Option<u32>,
    pub retries: u32,
    /// Hard limit first, in seconds.
    pub timelimit: (Option<f64>, Option<f64>),
    pub root_id: String,
    pub parent_id: Option<String>,
    pub argsrepr: String,
    pub kwargsrepr: String,
    pub origin: String,
    pub ignore_result: Option<bool>,
}

/// One header's value, borrowed from [`CeleryHeaders`].
#[derive(Debug, Clone, Copy)]
pub enum HeaderValue<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    U32(u32),
    OptU32(Option<u32>),
    OptBool(Option<bool>),
    /// `[hard, soft]`: whole seconds as integers (Python writes `30`, not `30.0`), or null.
    Seconds(Option<f64>, Option<f64>),
    Null,
    EmptyObject,
}

impl CeleryHeaders {
    /// Every header in Celery's order.
    pub fn entries(&self) -> [(&'static str, HeaderValue<'_>); 19] {
        use HeaderValue::*;
        [
            ("lang", Str(self.lang)),
            ("task", Str(&self.task)),
            ("id", Str(&self.id)),
            ("shadow", OptStr(self.shadow.as_deref())),
            ("eta", OptStr(self.eta.as_deref())),
            ("expires", OptStr(self.expires.as_deref())),
            ("group", OptStr(self.group.as_deref())),
            ("group_index", OptU32(self.group_index)),
            ("retries", U32(self.retries)),
            ("timelimit", Seconds(self.timelimit.0, self.timelimit.1)),
            ("root_id", Str(&self.root_id)),
            ("parent_id", OptStr(self.parent_id.as_deref())),
            ("argsrepr", Str(&self.argsrepr)),
            ("kwargsrepr", Str(&self.kwargsrepr)),
            ("origin", Str(&self.origin)),
            ("ignore_result", OptBool(self.ignore_result)),
            ("replaced_task_nesting", U32(0)),
            ("stamped_headers", Null),
            ("stamps", EmptyObject),
        ]
    }
}

/// Whole seconds as a JSON integer, fractions as floats.
fn seconds_value(seconds: Option<f64>) -> Value {
    match seconds {
        Some(s) if s.fract() == 0.0 && s.abs() < 9.0e15 => Value::from(s as i64),
        Some(s) => Value::from(s),
        None => Value::Null,
    }
}

impl HeaderValue<'_> {
    pub fn to_value(self) -> Value {
        match self {
            Self::Str(s) => Value::from(s),
            Self::OptStr(s) => s.map_or(Value::Null, Value::from),
            Self::U32(n) => Value::from(n),
            Self::OptU32(n) => n.map_or(Value::Null, Value::from),
            Self::OptBool(b) => b.map_or(Value::Null, Value::from),
            Self::Seconds(hard, soft) => Value::Array(vec![seconds_value(hard), seconds_value(soft)]),
            Self::Null => Value::Null,
            Self::EmptyObject => Value::Object(Map::new()),
        }
    }
}

impl Serialize for HeaderValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Self::Str(s) => serializer.serialize_str(s),
            Self::OptStr(s) => s.serialize(serializer),
            Self::U32(n) => serializer.serialize_u32(n),
            Self::OptU32(n) => n.serialize(serializer),
            Self::OptBool(b) => b.serialize(serializer),
            Self::Seconds(hard, soft) => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(&seconds_value(hard))?;
                seq.serialize_element(&seconds_value(soft))?;
                seq.end()
            }
            Self::Null => serializer.serialize_unit(),
            Self::EmptyObject => serializer.serialize_map(Some(0))?.end(),
        }
    }
}

/// The headers of one message: Celery's (none for protocol 1 and for events), then `extra`. An
/// `extra` key that Celery also writes replaces Celery's value in its place, as a dict update does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskHeaders {
    pub celery: Option<Box<CeleryHeaders>>,
    pub extra: Map<String, Value>,
}

impl From<Map<String, Value>> for TaskHeaders {
    fn from(extra: Map<String, Value>) -> Self {
        Self { celery: None, extra }
    }
}

impl TaskHeaders {
    /// Each header in order, Celery's first; `visit` gets the value as Celery's or as the caller's.
    fn visit<E>(&self, mut visit: impl FnMut(&str, Either<'_>) -> Result<(), E>) -> Result<(), E> {
        let mut replaced = 0;
        if let Some(celery) = &self.celery {
            for (key, value) in celery.entries() {
                let theirs = if self.extra.is_empty() { None } else { self.extra.get(key) };
                match theirs {
                    Some(theirs) => {
                        replaced += 1;
                        visit(key, Either::Json(theirs))?
                    }
                    None => visit(key, Either::Celery(value))?,
                }
            }
        }
        for (key, value) in &self.extra {
            let written = replaced > 0 && self.celery.as_ref().is_some_and(|c| c.entries().iter().any(|(k, _)| k == key));
            if !written {
                visit(key, Either::Json(value))?;
            }
        }
        Ok(())
    }

    /// One header's value.
    pub fn get(&self, key: &str) -> Option<Value> {
        if let Some(value) = self.extra.get(key) {
            return Some(value.clone());
        }
        let celery = self.celery.as_ref()?;
        celery.entries().into_iter().find(|(k, _)| *k == key).map(|(_, value)| value.to_value())
    }

    /// The headers as one JSON object, in order.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let _ = self.visit::<()>(|key, value| {
            map.insert(key.to_string(), value.to_value());
            Ok(())
        });
        map
    }

    pub fn insert(&mut self, key: &str, value: Value) {
        self.extra.insert(key.to_string(), value);
    }
}

#[derive(Clone, Copy)]
enum Either<'a> {
    Celery(HeaderValue<'a>),
    Json(&'a Value),
}

impl Either<'_> {
    fn to_value(self) -> Value {
        match self {
            Self::Celery(value) => value.to_value(),
            Self::Json(value) => value.clone(),
        }
    }
}

impl Serialize for Either<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Celery(value) => value.serialize(serializer),
            Self::Json(value) => value.serialize(serializer),
        }
    }
}

impl Serialize for TaskHeaders {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.visit(|key, value| map.serialize_entry(key, &value))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(extra: Value) -> TaskHeaders {
        let celery = CeleryHeaders { lang: "js", task: "t".into(), id: "i".into(), ..Default::default() };
        TaskHeaders { celery: Some(Box::new(celery)), extra: extra.as_object().unwrap().clone() }
    }

    #[test]
    fn serialized_in_celerys_order_then_the_callers() {
        let text = serde_json::to_string(&headers(json!({"x-tenant": "acme"}))).unwrap();
        assert!(text.starts_with(r#"{"lang":"js","task":"t","id":"i","shadow":null,"#), "{text}");
        assert!(text.contains(r#""timelimit":[null,null]"#), "{text}");
        assert!(text.ends_with(r#""stamped_headers":null,"stamps":{},"x-tenant":"acme"}"#), "{text}");
        assert_eq!(Value::Object(headers(json!({"x-tenant": "acme"})).to_map()), serde_json::from_str::<Value>(&text).unwrap());
    }

    #[test]
    fn a_callers_header_replaces_celerys_in_place() {
        let h = headers(json!({"retries": 5, "z": 1}));
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(text.matches("\"retries\"").count(), 1);
        assert!(text.contains(r#""group_index":null,"retries":5,"timelimit""#), "{text}");
        assert!(text.ends_with(r#""stamps":{},"z":1}"#), "{text}");
        assert_eq!(h.get("retries"), Some(json!(5)));
        assert_eq!(h.get("task"), Some(json!("t")));
        assert_eq!(h.to_map().keys().filter(|k| *k == "retries").count(), 1);
    }

    #[test]
    fn whole_seconds_are_integers() {
        let mut h = headers(json!({}));
        h.celery.as_mut().unwrap().timelimit = (Some(30.0), Some(2.5));
        assert_eq!(h.get("timelimit"), Some(json!([30, 2.5])));
        assert!(serde_json::to_string(&h).unwrap().contains(r#""timelimit":[30,2.5]"#));
    }
}
