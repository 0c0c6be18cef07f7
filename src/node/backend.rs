//! `ResultBackendWrapper`: reads (and, for celery-node compatibility, writes) task results, over
//! Redis or over Celery's RPC reply queue.

use std::sync::Arc;
use std::time::Duration;

use napi::Result;
use napi_derive::napi;

use super::client::parse_options;
use super::errors::to_js_error;
use crate::amqp_connection::{is_amqp_url, AmqpOptions, AmqpTarget};
use crate::backend::amqp_legacy::AmqpLegacyBackend;
use crate::backend::redis::{RedisBackend, DEFAULT_RESULT_EXPIRES};
use crate::backend::rpc::RpcBackend;
use crate::backend::{ResultBackend as Backend, WaitOutcome};
use crate::error::CeleryError;
use crate::protocol::ResultMeta;
use crate::redis_connection::{RedisOptions, RedisTarget};

#[napi(object)]
pub struct WaitResult {
    /// `ready`, `timeout` or `cancelled`.
    pub outcome: String,
    /// The stored meta JSON when ready.
    pub meta: Option<String>,
}

#[napi]
pub struct ResultBackendWrapper {
    backend: Arc<Backend>,
}

#[napi]
impl ResultBackendWrapper {
    /// A Redis backend for a Redis `url`, celery-node's per-task-queue backend for an AMQP `url`;
    /// or, with `rpc_reply_to`, Celery's RPC backend consuming that reply queue on the AMQP
    /// broker at `url`.
    #[napi(constructor)]
    pub fn new(url: String, options_json: Option<String>, rpc_reply_to: Option<String>) -> Result<Self> {
        let backend = match rpc_reply_to {
            Some(reply_to) => {
                let options: AmqpOptions = parse_options(options_json.as_deref(), "CELERY_BROKER_OPTIONS")?;
                let target = AmqpTarget::parse(&url, &options).map_err(to_js_error)?;
                let expires_ms = options.reply_queue_expires_ms();
                Backend::Rpc(RpcBackend::new(target, reply_to, expires_ms))
            }
            None if is_amqp_url(&url) => {
                let options: AmqpOptions = parse_options(options_json.as_deref(), "CELERY_BACKEND_OPTIONS")?;
                let target = AmqpTarget::parse(&url, &options).map_err(to_js_error)?;
                Backend::AmqpLegacy(AmqpLegacyBackend::new(target, options.result_expires))
            }
            None => {
                let options: RedisOptions = parse_options(options_json.as_deref(), "CELERY_BACKEND_OPTIONS")?;
                let target = RedisTarget::parse(&url, &options).map_err(to_js_error)?;
                let expires = match options.result_expires_secs {
                    None => DEFAULT_RESULT_EXPIRES,
                    Some(seconds) => Duration::try_from_secs_f64(seconds).map_err(|_| {
                        to_js_error(CeleryError::InvalidOption {
                            name: "RESULT_EXPIRES".into(),
                            reason: format!("{seconds} is not a number of seconds"),
                        })
                    })?,
                };
                Backend::Redis(RedisBackend::new(target, "", expires))
            }
        };
        Ok(Self { backend: Arc::new(backend) })
    }

    /// The backend itself, shared with a worker that stores its results there.
    pub(crate) fn shared(&self) -> Arc<Backend> {
        self.backend.clone()
    }

    /// The Redis backend, or an error naming what needs it.
    fn redis(&self, what: &str) -> Result<&RedisBackend> {
        match self.backend.as_ref() {
            Backend::Redis(redis) => Ok(redis),
            _ => Err(to_js_error(CeleryError::InvalidOption {
                name: "backend".into(),
                reason: format!("{what} needs the Redis result backend"),
            })),
        }
    }

    /// Watches every state of a task (pushed by Redis pub/sub or the RPC reply queue).
    #[napi]
    pub async fn watch(&self, task_id: String) -> Result<StateWatcherWrapper> {
        let (watch_id, states) = match self.backend.as_ref() {
            Backend::Redis(redis) => redis.watch(&task_id).await,
            Backend::Rpc(rpc) => rpc.watch(&task_id).await,
            Backend::AmqpLegacy(_) => Err(CeleryError::InvalidOption {
                name: "backend".into(),
                reason: "watching states needs the Redis or rpc:// backend; celery-node's amqp:// can only be polled"
                    .into(),
            }),
        }
        .map_err(to_js_error)?;
        Ok(StateWatcherWrapper {
            backend: self.backend.clone(),
            task_id,
            watch_id,
            states: tokio::sync::Mutex::new(states),
        })
    }

    #[napi]
    pub async fn ready(&self) -> Result<()> {
        match self.backend.as_ref() {
            Backend::Redis(redis) => redis.ready().await,
            Backend::Rpc(rpc) => rpc.ready().await,
            Backend::AmqpLegacy(amqp) => amqp.ready().await,
        }
        .map_err(to_js_error)
    }

    #[napi]
    pub async fn get_task_meta(&self, task_id: String) -> Result<Option<String>> {
        match self.backend.as_ref() {
            Backend::Redis(redis) => redis.get_task_meta(&task_id).await,
            Backend::Rpc(rpc) => rpc.get_task_meta(&task_id).await,
            Backend::AmqpLegacy(amqp) => amqp.get_task_meta(&task_id).await,
        }
        .map_err(to_js_error)
    }

    #[napi]
    pub async fn store_task_meta(
        &self,
        task_id: String,
        meta_json: String,
        expires_seconds: Option<f64>,
    ) -> Result<()> {
        match self.backend.as_ref() {
            Backend::Redis(redis) => {
                let expires =
                    expires_seconds.and_then(|s| Duration::try_from_secs_f64(s).ok()).unwrap_or(redis.result_expires());
                redis.store_task_meta(&task_id, &meta_json, expires).await
            }
            Backend::AmqpLegacy(amqp) => amqp.store_task_meta(&task_id, &meta_json).await,
            Backend::Rpc(_) => Err(CeleryError::InvalidOption {
                name: "backend".into(),
                reason: "RPC results are sent by workers; this client cannot store them".into(),
            }),
        }
        .map_err(to_js_error)
    }

    /// Forgets the task's result: deletes it where it is stored, drops it where it is buffered.
    #[napi]
    pub async fn forget(&self, task_id: String) -> Result<()> {
        match self.backend.as_ref() {
            Backend::Redis(redis) => return redis.forget(&task_id).await.map_err(to_js_error),
            Backend::Rpc(rpc) => rpc.forget(&task_id),
            Backend::AmqpLegacy(amqp) => amqp.forget(&task_id),
        }
        Ok(())
    }

    /// Saves a group (Python's `GroupResult.save()`; Redis only).
    #[napi]
    pub async fn save_group(&self, group_id: String, member_ids: Vec<String>) -> Result<()> {
        self.redis("saving a group")?.save_group(&group_id, &member_ids).await.map_err(to_js_error)
    }

    /// A saved group's member ids, or null (Python's `GroupResult.restore()`; Redis only).
    #[napi]
    pub async fn restore_group(&self, group_id: String) -> Result<Option<Vec<String>>> {
        self.redis("restoring a group")?.restore_group(&group_id).await.map_err(to_js_error)
    }

    /// Prepares the backend for a chord's header of `size` tasks (Redis only, as in Celery: the
    /// RPC backend has no chord support).
    #[napi]
    pub async fn prepare_chord(&self, group_id: String, size: u32) -> Result<()> {
        self.redis("a chord (Celery's rpc:// has no chord support)")?
            .prepare_chord(&group_id, size as usize)
            .await
            .map_err(to_js_error)
    }

    /// Batch waiting (Redis, rpc://): registers these tasks, whose ready states then arrive
    /// through `nextReady` (Redis subscribes their channels). With `read`, resolves with what is
    /// already stored or received for each (null: nothing). Rejects when Redis cannot push (no
    /// RESP3 pub/sub): wait one by one instead.
    #[napi]
    pub async fn register_ready(&self, task_ids: Vec<String>, read: bool) -> Result<Option<Vec<Option<String>>>> {
        self.backend.register_ready(task_ids, read).await.map_err(to_js_error)
    }

    #[napi]
    pub fn cancel_ready(&self, task_ids: Vec<String>) -> Result<()> {
        self.backend.cancel_ready(&task_ids).map_err(to_js_error)
    }

    /// Ready states of registered tasks, as `[taskId, metaJson]` pairs, at least one unless
    /// woken (`wakeReady`, `close`); `waiting`: how many tasks are waited for (more are
    /// gathered first when they are many).
    #[napi]
    pub async fn next_ready(&self, waiting: u32) -> Result<Vec<Vec<String>>> {
        let batch = self.backend.next_ready(waiting as usize).await.map_err(to_js_error)?;
        Ok(batch.into_iter().map(|(id, meta)| vec![id, meta.json]).collect())
    }

    #[napi]
    pub fn wake_ready(&self) -> Result<()> {
        self.backend.wake_ready().map_err(to_js_error)
    }

    /// Redis: many stored metas in one `MGET`, in order; null where nothing is stored.
    #[napi]
    pub async fn get_task_metas(&self, task_ids: Vec<String>) -> Result<Vec<Option<String>>> {
        self.redis("batch reads")?.get_task_metas(&task_ids).await.map_err(to_js_error)
    }

    /// Waits for a ready state. `timeout_ms` absent or 0 waits forever, as celery-node's `get()`.
    #[napi]
    pub async fn wait_for_ready(
        &self,
        task_id: String,
        timeout_ms: Option<f64>,
        poll_interval_ms: Option<f64>,
    ) -> Result<WaitResult> {
        // A timeout too large for a Duration (Infinity, 1e300) is no limit at all.
        let timeout = timeout_ms.filter(|ms| *ms > 0.0).and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok());
        let interval = Duration::from_secs_f64(poll_interval_ms.unwrap_or(500.0).max(1.0) / 1000.0);
        let outcome = match self.backend.as_ref() {
            Backend::Redis(redis) => redis.wait_for_ready(&task_id, timeout, interval).await,
            Backend::Rpc(rpc) => rpc.wait_for_ready(&task_id, timeout).await,
            Backend::AmqpLegacy(amqp) => amqp.wait_for_ready(&task_id, timeout, interval).await,
        }
        .map_err(to_js_error)?;
        Ok(match outcome {
            WaitOutcome::Ready(meta) => WaitResult { outcome: "ready".into(), meta: Some(meta.json) },
            WaitOutcome::TimedOut => WaitResult { outcome: "timeout".into(), meta: None },
            WaitOutcome::Cancelled => WaitResult { outcome: "cancelled".into(), meta: None },
        })
    }

    #[napi]
    pub async fn close(&self) -> Result<()> {
        match self.backend.as_ref() {
            Backend::Redis(redis) => redis.close(),
            Backend::Rpc(rpc) => rpc.close().await,
            Backend::AmqpLegacy(amqp) => amqp.close().await,
        }
        Ok(())
    }

    #[napi]
    pub fn cancel_wait(&self, task_id: String) {
        match self.backend.as_ref() {
            Backend::Redis(redis) => redis.cancel(&task_id),
            Backend::Rpc(rpc) => rpc.cancel(&task_id),
            Backend::AmqpLegacy(amqp) => amqp.cancel(&task_id),
        }
    }
}

/// The states of one task, as they are pushed; `next()` resolves `null` once the watch ended
/// (after a ready state, or `close()`).
#[napi]
pub struct StateWatcherWrapper {
    backend: Arc<Backend>,
    task_id: String,
    watch_id: u64,
    states: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<ResultMeta>>,
}

#[napi]
impl StateWatcherWrapper {
    #[napi]
    pub async fn next(&self) -> Option<String> {
        self.states.lock().await.recv().await.map(|meta| meta.json)
    }

    #[napi]
    pub fn close(&self) {
        match self.backend.as_ref() {
            Backend::Redis(redis) => redis.unwatch(&self.task_id, self.watch_id),
            Backend::Rpc(rpc) => rpc.unwatch(&self.task_id, self.watch_id),
            Backend::AmqpLegacy(_) => {}
        }
    }
}
