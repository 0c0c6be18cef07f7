//! `RedisBackendWrapper`: reads (and, for celery-node compatibility, writes) task results.

use std::time::Duration;

use napi_derive::napi;

use super::client::parse_options;
use napi::Result;

use super::errors::to_js_error;
use crate::backend::redis::{RedisBackend, WaitOutcome, DEFAULT_RESULT_EXPIRES};
use crate::redis_connection::{RedisOptions, RedisTarget};

#[napi(object)]
pub struct WaitResult {
    /// `ready`, `timeout` or `cancelled`.
    pub outcome: String,
    /// The stored meta JSON when ready.
    pub meta: Option<String>,
}

#[napi]
pub struct RedisBackendWrapper {
    backend: RedisBackend,
}

#[napi]
impl RedisBackendWrapper {
    #[napi(constructor)]
    pub fn new(url: String, options_json: Option<String>, key_prefix: Option<String>) -> Result<Self> {
        let options: RedisOptions = parse_options(options_json.as_deref(), "CELERY_BACKEND_OPTIONS")?;
        let target = RedisTarget::parse(&url, &options).map_err(to_js_error)?;
        Ok(Self { backend: RedisBackend::new(target, key_prefix.as_deref().unwrap_or("")) })
    }

    #[napi]
    pub async fn ready(&self) -> Result<()> {
        self.backend.ready().await.map_err(to_js_error)
    }

    #[napi]
    pub async fn get_task_meta(&self, task_id: String) -> Result<Option<String>> {
        self.backend.get_task_meta(&task_id).await.map_err(to_js_error)
    }

    #[napi]
    pub async fn store_task_meta(
        &self,
        task_id: String,
        meta_json: String,
        expires_seconds: Option<f64>,
    ) -> Result<()> {
        let expires = expires_seconds.map(Duration::from_secs_f64).unwrap_or(DEFAULT_RESULT_EXPIRES);
        self.backend.store_task_meta(&task_id, &meta_json, expires).await.map_err(to_js_error)
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
        let outcome = self.backend.wait_for_ready(&task_id, timeout, interval).await.map_err(to_js_error)?;
        Ok(match outcome {
            WaitOutcome::Ready(meta) => WaitResult { outcome: "ready".into(), meta: Some(meta.json) },
            WaitOutcome::TimedOut => WaitResult { outcome: "timeout".into(), meta: None },
            WaitOutcome::Cancelled => WaitResult { outcome: "cancelled".into(), meta: None },
        })
    }

    #[napi]
    pub async fn close(&self) -> Result<()> {
        self.backend.close();
        Ok(())
    }

    #[napi]
    pub fn cancel_wait(&self, task_id: String) {
        self.backend.cancel(&task_id);
    }
}
