//! `WorkerWrapper`: the worker's native half. Jobs and log lines come out in batches through
//! `nextEvents` (one Promise per batch); the JS side runs the handler and reports with `finish`.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::within_runtime_if_available;
use napi::Result;
use napi_derive::napi;
use tokio::sync::{mpsc, Mutex};

use super::backend::ResultBackendWrapper;
use super::client::{broker_for_url, parse_options};
use super::errors::to_js_error;
use crate::amqp_connection::{is_amqp_url, AmqpOptions, AmqpTarget};
use crate::backend::redis::DEFAULT_RESULT_EXPIRES;
use crate::backend::ResultBackend;
use crate::broker::amqp::Topology;
use crate::broker::amqp_consumer::AmqpConsumer;
use crate::broker::redis_consumer::RedisConsumer;
use crate::broker::Consumer;
use crate::client::producer_for_this_process;
use crate::protocol::RedisKeyLayout;
use crate::redis_connection::{RedisOptions, RedisTarget};
use crate::worker::{Outcome, TaskException, Worker, WorkerEvent, WorkerSettings};

/// kombu's default `visibility_timeout`: one hour.
const DEFAULT_VISIBILITY_TIMEOUT_SECS: f64 = 3600.0;

#[napi(object)]
pub struct WorkerConfig {
    pub queues: Vec<String>,
    pub concurrency: Option<u32>,
    pub prefetch: Option<u32>,
    pub acks_late: Option<bool>,
    pub track_started: Option<bool>,
    /// Seconds.
    pub visibility_timeout: Option<f64>,
    /// Seconds.
    pub result_expires: Option<f64>,
    pub hostname: String,
}

#[napi(object)]
pub struct JobInfo {
    pub job_id: i64,
    pub name: String,
    pub id: String,
    pub args_json: String,
    pub kwargs_json: String,
    pub headers_json: String,
    pub retries: u32,
    /// ISO 8601, as sent.
    pub eta: Option<String>,
    pub expires: Option<String>,
    /// Seconds.
    pub time_limit: Option<f64>,
    pub soft_time_limit: Option<f64>,
    pub root_id: Option<String>,
    pub parent_id: Option<String>,
    pub group_id: Option<String>,
    pub group_index: Option<u32>,
    pub reply_to: Option<String>,
    pub correlation_id: Option<String>,
    pub delivery_queue: String,
    pub redelivered: bool,
    pub protocol: u32,
}

#[napi(object)]
pub struct WorkerEventInfo {
    /// `run`, `terminated` (the job id in `message`) or `log`.
    pub kind: String,
    pub job: Option<JobInfo>,
    pub level: Option<String>,
    pub message: Option<String>,
}

/// How a handler ended: `SUCCESS` with `result_json`; `FAILURE` or `RETRY` with the exception.
#[napi(object)]
pub struct JobOutcome {
    pub status: String,
    pub result_json: Option<String>,
    pub exc_type: Option<String>,
    pub exc_message: Option<String>,
    pub exc_module: Option<String>,
    pub traceback: Option<String>,
    /// Seconds, for `RETRY`.
    pub countdown: Option<f64>,
}

#[napi]
pub struct WorkerWrapper {
    worker: Worker,
    events: Mutex<mpsc::UnboundedReceiver<WorkerEvent>>,
}

#[napi]
impl WorkerWrapper {
    /// Validates the URL and options; connects on `start`. Results go to `backend`.
    #[napi(constructor)]
    pub fn new(
        broker_url: String,
        options_json: Option<String>,
        backend: &ResultBackendWrapper,
        config: WorkerConfig,
    ) -> Result<Self> {
        let producer = producer_for_this_process();
        let consumer: Arc<dyn Consumer> = if is_amqp_url(&broker_url) {
            let options: AmqpOptions = parse_options(options_json.as_deref(), "CELERY_BROKER_OPTIONS")?;
            let target = AmqpTarget::parse(&broker_url, &options).map_err(to_js_error)?;
            Arc::new(AmqpConsumer::new(target, Topology::from_options(&options, &producer.reply_to)))
        } else {
            let options: RedisOptions = parse_options(options_json.as_deref(), "CELERY_BROKER_OPTIONS")?;
            let target = RedisTarget::parse(&broker_url, &options).map_err(to_js_error)?;
            Arc::new(RedisConsumer::new(target, RedisKeyLayout::default()))
        };
        let (outcomes_tx, outcomes) = mpsc::unbounded_channel();
        let publisher = broker_for_url(&broker_url, options_json.as_deref(), &producer.reply_to, outcomes_tx)?;
        let settings = WorkerSettings {
            queues: config.queues,
            concurrency: config.concurrency.unwrap_or(0),
            prefetch: config.prefetch.unwrap_or(0),
            acks_late: config.acks_late.unwrap_or(false),
            track_started: config.track_started.unwrap_or(false),
            visibility_timeout: seconds(config.visibility_timeout.unwrap_or(DEFAULT_VISIBILITY_TIMEOUT_SECS)),
            result_expires: config.result_expires.map(seconds).unwrap_or_else(|| match backend.shared().as_ref() {
                ResultBackend::Redis(redis) => redis.result_expires(),
                _ => DEFAULT_RESULT_EXPIRES,
            }),
            hostname: config.hostname,
        };
        let (events_tx, events) = mpsc::unbounded_channel();
        let backend = backend.shared();
        let worker = within_runtime_if_available(|| {
            Worker::new(consumer, publisher, outcomes, backend, producer, settings, events_tx)
        });
        Ok(Self { worker, events: Mutex::new(events) })
    }

    #[napi]
    pub async fn start(&self) -> Result<()> {
        self.worker.start().await.map_err(to_js_error)
    }

    /// Every event since the last call (at least one); `null` once the worker stopped.
    #[napi]
    pub async fn next_events(&self) -> Option<Vec<WorkerEventInfo>> {
        let mut events = self.events.lock().await;
        let first = events.recv().await?;
        let mut batch = vec![event_info(first)];
        while let Ok(event) = events.try_recv() {
            batch.push(event_info(event));
        }
        Some(batch)
    }

    #[napi]
    pub fn finish(&self, job_id: i64, outcome: JobOutcome) -> Result<()> {
        let JobOutcome { status, result_json, exc_type, exc_message, exc_module, traceback, countdown } = outcome;
        let exception = || TaskException {
            exc_type: exc_type.unwrap_or_else(|| "Error".into()),
            message: exc_message.unwrap_or_default(),
            module: exc_module.unwrap_or_else(|| "builtins".into()),
            traceback,
        };
        let outcome = match status.as_str() {
            "SUCCESS" => Outcome::Success { result_json: result_json.unwrap_or_else(|| "null".into()) },
            "RETRY" => Outcome::Retry { exception: exception(), countdown },
            _ => Outcome::Failure(exception()),
        };
        within_runtime_if_available(|| self.worker.finish(job_id as u64, outcome));
        Ok(())
    }

    #[napi]
    pub async fn update_state(&self, job_id: i64, state: String, meta_json: String) -> Result<()> {
        self.worker.update_state(job_id as u64, &state, &meta_json).await.map_err(to_js_error)
    }

    /// Graceful stop; running jobs get `deadline_ms` to finish.
    #[napi]
    pub async fn stop(&self, deadline_ms: f64) {
        self.worker.stop(seconds(deadline_ms / 1000.0)).await;
    }
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::MAX)
}

fn event_info(event: WorkerEvent) -> WorkerEventInfo {
    match event {
        WorkerEvent::Terminated(job_id) => {
            WorkerEventInfo { kind: "terminated".into(), job: None, level: None, message: Some(job_id.to_string()) }
        }
        WorkerEvent::Log { level, message } => {
            WorkerEventInfo { kind: "log".into(), job: None, level: Some(level.into()), message: Some(message) }
        }
        WorkerEvent::Run(job) => {
            let task = job.task;
            let time = |t: Option<std::time::SystemTime>| t.map(crate::protocol::time::format_iso8601);
            let info = JobInfo {
                job_id: job.job_id as i64,
                headers_json: serde_json::Value::Object(task.headers).to_string(),
                eta: time(task.eta),
                expires: time(task.expires),
                name: task.name,
                id: task.id,
                args_json: task.args_json,
                kwargs_json: task.kwargs_json,
                retries: task.retries,
                time_limit: task.time_limit,
                soft_time_limit: task.soft_time_limit,
                root_id: task.root_id,
                parent_id: task.parent_id,
                group_id: task.group_id,
                group_index: task.group_index.map(|i| i as u32),
                reply_to: task.reply_to,
                correlation_id: task.correlation_id,
                delivery_queue: job.queue,
                redelivered: job.redelivered,
                protocol: u32::from(task.protocol),
            };
            WorkerEventInfo { kind: "run".into(), job: Some(info), level: None, message: None }
        }
    }
}
