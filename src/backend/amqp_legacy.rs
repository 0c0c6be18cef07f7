//! celery-node's own `amqp://` result backend (celery-node.md §3.6–3.7), so that a celery-node
//! deployment that uses it keeps working: one queue per task, named by the task id without
//! dashes, holding one message with the result meta. Celery 5 has no such backend.
//!
//! A result is a message and can be taken once; this backend acknowledges it and keeps it, so
//! every later read in this process sees it (celery-node leaves it unacknowledged instead).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use lapin::options::{BasicGetOptions, BasicPublishOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection};

use super::WaitOutcome;
use crate::amqp_connection::{x_expires, AmqpTarget};
use crate::error::{CeleryError, Result};
use crate::protocol::task_message::{CONTENT_ENCODING_UTF8, CONTENT_TYPE_JSON};
use crate::protocol::ResultMeta;

/// celery-node's default `CELERY_RESULT_EXPIRES`: one day, in milliseconds.
pub const DEFAULT_EXPIRES_MS: u64 = 86_400_000;

pub struct AmqpLegacyBackend {
    target: AmqpTarget,
    expires_ms: u64,
    session: tokio::sync::Mutex<Option<(Connection, Channel)>>,
    /// Results already taken from their queue.
    taken: Mutex<HashMap<String, ResultMeta>>,
    /// Tasks whose waits must end (their publish failed, or the client disconnects).
    cancelled: Mutex<HashSet<String>>,
}

impl AmqpLegacyBackend {
    pub fn new(target: AmqpTarget, expires_ms: Option<u64>) -> Self {
        Self {
            target,
            expires_ms: expires_ms.unwrap_or(DEFAULT_EXPIRES_MS),
            session: tokio::sync::Mutex::new(None),
            taken: Mutex::default(),
            cancelled: Mutex::default(),
        }
    }

    fn queue_name(task_id: &str) -> String {
        task_id.replace('-', "")
    }

    async fn channel(&self) -> Result<Channel> {
        let mut session = self.session.lock().await;
        if let Some((connection, channel)) = session.as_ref() {
            if connection.status().connected() && channel.status().connected() {
                return Ok(channel.clone());
            }
        }
        let connection = self.target.connect().await?;
        let channel = connection.create_channel().await.map_err(|e| self.unreachable(e))?;
        *session = Some((connection, channel.clone()));
        Ok(channel)
    }

    /// celery-node's `assertQueue(<id without dashes>, {durable, autoDelete, x-expires})`.
    async fn assert_queue(&self, channel: &Channel, task_id: &str) -> Result<String> {
        let name = Self::queue_name(task_id);
        let mut arguments = FieldTable::default();
        arguments.insert("x-expires".into(), x_expires(self.expires_ms));
        let options = QueueDeclareOptions { durable: true, auto_delete: true, ..QueueDeclareOptions::default() };
        channel.queue_declare(name.as_str().into(), options, arguments).await.map_err(|e| self.unreachable(e))?;
        Ok(name)
    }

    pub async fn ready(&self) -> Result<()> {
        self.channel().await.map(|_| ())
    }

    pub async fn get_task_meta(&self, task_id: &str) -> Result<Option<String>> {
        if let Some(meta) = self.taken.lock().unwrap().get(task_id) {
            return Ok(Some(meta.json.clone()));
        }
        let channel = self.channel().await?;
        let queue = self.assert_queue(&channel, task_id).await?;
        let options = BasicGetOptions { no_ack: true };
        let Some(message) = channel.basic_get(queue.as_str().into(), options).await.map_err(|e| self.unreachable(e))?
        else {
            return Ok(None);
        };
        let properties = &message.delivery.properties;
        let content_type = properties.content_type().as_ref().map(|t| t.to_string()).unwrap_or_default();
        let content_encoding = properties.content_encoding().as_ref().map(|e| e.to_string()).unwrap_or_default();
        if content_type != CONTENT_TYPE_JSON {
            return Err(CeleryError::Decode {
                what: "result".into(),
                reason: format!("unsupported content type {content_type}"),
            });
        }
        if content_encoding != CONTENT_ENCODING_UTF8 {
            return Err(CeleryError::Decode {
                what: "result".into(),
                reason: format!("unsupported content encoding {content_encoding}"),
            });
        }
        let meta = ResultMeta::parse(&message.delivery.data)
            .map_err(|reason| CeleryError::Decode { what: "result".into(), reason })?;
        let json = meta.json.clone();
        self.taken.lock().unwrap().insert(task_id.to_string(), meta);
        Ok(Some(json))
    }

    /// Publishes a meta as celery-node's worker does: to the task's queue, JSON, not persistent.
    pub async fn store_task_meta(&self, task_id: &str, meta_json: &str) -> Result<()> {
        let channel = self.channel().await?;
        let queue = self.assert_queue(&channel, task_id).await?;
        let properties = BasicProperties::default()
            .with_content_type(CONTENT_TYPE_JSON.into())
            .with_content_encoding(CONTENT_ENCODING_UTF8.into());
        channel
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                meta_json.as_bytes(),
                properties,
            )
            .await
            .map_err(|e| self.unreachable(e))?;
        Ok(())
    }

    /// Nothing is pushed on this backend: it is asked every `interval`, as celery-node asks.
    pub async fn wait_for_ready(
        &self,
        task_id: &str,
        timeout: Option<Duration>,
        interval: Duration,
    ) -> Result<WaitOutcome> {
        let poll = async {
            loop {
                tokio::time::sleep(interval).await;
                if self.cancelled.lock().unwrap().remove(task_id) {
                    return Ok(WaitOutcome::Cancelled);
                }
                if let Some(json) = self.get_task_meta(task_id).await? {
                    let meta = ResultMeta::parse(json.as_bytes())
                        .map_err(|reason| CeleryError::Decode { what: "result".into(), reason })?;
                    if meta.is_ready() {
                        return Ok(WaitOutcome::Ready(meta));
                    }
                }
            }
        };
        match timeout {
            Some(limit) => tokio::time::timeout(limit, poll).await.unwrap_or(Ok(WaitOutcome::TimedOut)),
            None => poll.await,
        }
    }

    /// Drops the result this process took from its queue.
    pub fn forget(&self, task_id: &str) {
        self.taken.lock().unwrap().remove(task_id);
    }

    pub fn cancel(&self, task_id: &str) {
        self.cancelled.lock().unwrap().insert(task_id.to_string());
    }

    pub async fn close(&self) {
        if let Some((connection, _)) = self.session.lock().await.take() {
            let _ = connection.close(200, "client disconnected".into()).await;
        }
    }

    fn unreachable(&self, error: lapin::Error) -> CeleryError {
        CeleryError::BackendUnreachable { url: self.target.display_url.clone(), reason: error.to_string() }
    }
}
