//! Celery's formats, and nothing else: no I/O, no JS. Every byte layout that crosses a broker or a
//! result backend is built and read here, and tested against ../shared/fixtures.

pub mod canvas;
pub mod control;
pub mod delayed_delivery;
pub mod events;
pub mod incoming;
pub mod redis_envelope;
pub mod repr;
pub mod result_meta;
pub mod task_headers;
pub mod task_message;
pub mod time;

pub use redis_envelope::{encode_envelope, RedisEnvelope, RedisKeyLayout};
pub use result_meta::{is_ready_state, task_meta_key, ResultMeta};
pub use task_headers::TaskHeaders;
pub use task_message::{encode_task, Expiry, Producer, ProtocolVersion, TaskMessage, TaskOptions, TaskRequest};
