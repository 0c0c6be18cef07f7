//! `ClientWrapper`: the publishing half of a client. `publish` is synchronous and only queues;
//! outcomes come back in batches through `nextCompletions`, one Promise per written batch.

use std::borrow::Cow;
use std::sync::Arc;

use napi::bindgen_prelude::within_runtime_if_available;
use napi_derive::napi;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use napi::Result;

use super::errors::to_js_error;
use crate::amqp_connection::{is_amqp_url, AmqpOptions, AmqpTarget};
use crate::broker::amqp::{AmqpBroker, Topology};
use crate::broker::redis::RedisBroker;
use crate::broker::{Broker, Destination, OutcomeSender, PublishOutcomes};
use crate::client::{producer_for_this_process, Client};
use crate::error::CeleryError;
use crate::protocol::canvas::{CanvasPlan, CanvasResult};
use crate::protocol::time::from_unix_millis;
use crate::protocol::{Expiry, ProtocolVersion, RedisKeyLayout, TaskOptions, TaskRequest};
use crate::redis_connection::{RedisOptions, RedisTarget};

/// Per-call options, already normalised by the JS facade (times as numbers).
#[napi(object)]
#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOptions {
    pub countdown: Option<f64>,
    /// Milliseconds since the Unix epoch.
    pub eta: Option<f64>,
    /// Seconds from now.
    pub expires_in: Option<f64>,
    /// Milliseconds since the Unix epoch.
    pub expires_at: Option<f64>,
    pub priority: Option<u32>,
    pub time_limit: Option<f64>,
    pub soft_time_limit: Option<f64>,
    pub shadow: Option<String>,
    pub ignore_result: Option<bool>,
    pub retries: Option<u32>,
    /// Extra message headers as JSON object text.
    pub headers: Option<String>,
    pub reply_to: Option<String>,
    /// A named exchange to publish to (its bindings route the message), with `routing_key`
    /// (default: the queue name).
    pub exchange: Option<String>,
    pub routing_key: Option<String>,
    /// `zlib` or `gzip` (kombu's names for the same zlib stream).
    pub compression: Option<String>,
}

#[napi(object)]
pub struct PublishCompletion {
    pub seqs: Vec<i64>,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[napi]
pub struct ClientWrapper {
    client: Client,
    outcomes: PublishOutcomes,
}

#[napi]
impl ClientWrapper {
    /// Validates the URL and options; connects only on first use.
    #[napi(constructor)]
    pub fn new(broker_url: String, options_json: Option<String>) -> Result<Self> {
        let (outcome_tx, outcomes) = PublishOutcomes::channel();
        let producer = producer_for_this_process();
        let broker = broker_for_url(&broker_url, options_json.as_deref(), &producer.reply_to, outcome_tx)?;
        Ok(Self { client: Client::new(broker, producer), outcomes })
    }

    /// Python's `task_send_sent_event`: a `task-sent` event after each task from now on.
    #[napi]
    pub fn send_sent_events(&self, enabled: bool) {
        self.client.send_sent_events(enabled);
    }

    #[napi(getter)]
    pub fn origin(&self) -> String {
        self.client.producer().origin.clone()
    }

    #[napi(getter)]
    pub fn reply_to(&self) -> String {
        self.client.producer().reply_to.clone()
    }

    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn publish(
        &self,
        seq: i64,
        task_name: String,
        task_id: String,
        args_json: String,
        kwargs_json: Option<String>,
        queue: String,
        protocol: u32,
        options: Option<SendOptions>,
    ) -> Result<()> {
        let outgoing = Outgoing::new(queue, protocol, options)?;
        within_runtime_if_available(|| outgoing.send(&self.client, seq, &task_name, &task_id, &args_json, kwargs_json.as_deref()));
        Ok(())
    }

    /// Many tasks in one call: `batch_json` is a JSON array of `[name, id, args, kwargs, queue,
    /// protocol, options]`, numbered from `first_seq`. All are checked before any is queued.
    #[napi]
    pub fn publish_batch(&self, first_seq: i64, batch_json: String) -> Result<()> {
        let mut batch: Vec<BatchTask<'_>> = serde_json::from_str(&batch_json).map_err(|e| {
            to_js_error(CeleryError::InvalidOption { name: "tasks".into(), reason: e.to_string() })
        })?;
        let outgoing = batch
            .iter_mut()
            .map(|task| Outgoing::new(task.queue.to_string(), task.protocol, task.options.take()))
            .collect::<Result<Vec<_>>>()?;
        within_runtime_if_available(|| {
            for (offset, (task, outgoing)) in batch.iter().zip(outgoing).enumerate() {
                let kwargs = task.kwargs.map(RawValue::get);
                outgoing.send(&self.client, first_seq + offset as i64, &task.name, &task.id, task.args.get(), kwargs);
            }
        });
        Ok(())
    }

    /// Broadcasts `revoke` for the ids to the workers online (`terminate` kills running ones).
    #[napi]
    pub async fn revoke(&self, task_ids: Vec<String>, terminate: bool, signal: String) -> Result<()> {
        self.client.revoke(&task_ids, terminate, &signal).await.map_err(to_js_error)
    }

    /// Plans a canvas given as Celery's signature dict (JSON); nothing is sent yet, so that the
    /// backend can be told about chords first.
    #[napi]
    pub fn plan_canvas(&self, signature_json: String) -> Result<CanvasPlanWrapper> {
        let signature: Value = serde_json::from_str(&signature_json)
            .map_err(|e| to_js_error(CeleryError::InvalidOption { name: "signature".into(), reason: e.to_string() }))?;
        let plan = self
            .client
            .plan_canvas(&signature)
            .map_err(|reason| to_js_error(CeleryError::InvalidOption { name: "canvas".into(), reason }))?;
        Ok(CanvasPlanWrapper { plan })
    }

    /// Publishes every task of a plan; their outcomes arrive as seqs `first_seq`, `first_seq + 1`, ...
    #[napi]
    pub fn publish_plan(&self, plan: &CanvasPlanWrapper, first_seq: i64, default_queue: String) {
        within_runtime_if_available(|| self.client.send_plan(&plan.plan, first_seq as u64, &default_queue));
    }

    /// Resolves with the outcomes of every batch written since the last call (at least one,
    /// unless `hurry()` came first).
    /// Unless `hurry`, successes are gathered for a few milliseconds first (see
    /// [`PublishOutcomes::next`]).
    #[napi]
    pub async fn next_completions(&self, hurry: bool) -> Result<Vec<PublishCompletion>> {
        Ok(self
            .outcomes
            .next(hurry)
            .await
            .into_iter()
            .map(|outcome| PublishCompletion {
                seqs: outcome.seqs.into_iter().map(|s| s as i64).collect(),
                code: outcome.error.as_ref().map(|e| e.code().to_string()),
                message: outcome.error.map(|e| e.to_string()),
            })
            .collect())
    }

    /// Someone now awaits a `result.sent`: a pending `nextCompletions` answers now.
    #[napi]
    pub fn hurry(&self) {
        self.outcomes.hurry();
    }

    #[napi]
    pub async fn ready(&self) -> Result<()> {
        self.client.broker().ready().await.map_err(to_js_error)
    }

    /// Flushes queued messages, then closes the connection.
    #[napi]
    pub async fn close(&self) -> Result<()> {
        self.client.broker().close().await.map_err(to_js_error)
    }
}

/// One task of a `publish_batch` call, as the JS side writes it.
#[derive(serde::Deserialize)]
struct BatchTask<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    args: &'a RawValue,
    #[serde(borrow)]
    kwargs: Option<&'a RawValue>,
    #[serde(borrow)]
    queue: Cow<'a, str>,
    protocol: u32,
    options: Option<SendOptions>,
}

/// How and where one task goes, checked: the protocol, its options, its destination.
struct Outgoing {
    version: ProtocolVersion,
    options: TaskOptions,
    destination: Destination,
}

impl Outgoing {
    fn new(queue: String, protocol: u32, options: Option<SendOptions>) -> Result<Self> {
        let version = ProtocolVersion::from_number(protocol).ok_or_else(|| {
            to_js_error(CeleryError::InvalidOption {
                name: "TASK_PROTOCOL".into(),
                reason: format!("must be 1 or 2, got {protocol}"),
            })
        })?;
        let mut options = options.unwrap_or_default();
        let (exchange, routing_key) = (options.exchange.take(), options.routing_key.take());
        // As Celery's `send_task_message` with its default direct exchange type: an exchange
        // without a routing key (or a key without an exchange) sends straight to the queue.
        let destination = match (exchange, routing_key) {
            (Some(name), Some(routing_key)) if !name.is_empty() => Destination::Exchange { name, routing_key },
            _ => Destination::Queue(queue),
        };
        Ok(Self { version, options: task_options(options)?, destination })
    }

    /// Encodes the task and queues it. Needs the tokio runtime's context.
    fn send(self, client: &Client, seq: i64, name: &str, id: &str, args_json: &str, kwargs_json: Option<&str>) {
        let request = TaskRequest { name, id, args_json, kwargs_json, options: &self.options };
        client.send_task(seq as u64, &request, self.destination, self.version);
    }
}

/// The broker a URL names; the first URL decides when several are given for failover.
pub(super) fn broker_for_url(
    url: &str,
    options_json: Option<&str>,
    reply_to: &str,
    outcomes: OutcomeSender,
) -> Result<Arc<dyn Broker>> {
    Ok(if is_amqp_url(url) {
        let options: AmqpOptions = parse_options(options_json, "CELERY_BROKER_OPTIONS")?;
        let target = AmqpTarget::parse(url, &options).map_err(to_js_error)?;
        Arc::new(AmqpBroker::new(target, Topology::from_options(&options, reply_to), outcomes))
    } else {
        let options: RedisOptions = parse_options(options_json, "CELERY_BROKER_OPTIONS")?;
        let target = RedisTarget::parse(url, &options).map_err(to_js_error)?;
        Arc::new(RedisBroker::new(target, RedisKeyLayout::default(), outcomes))
    })
}

pub(super) fn parse_options<T: serde::de::DeserializeOwned + Default>(json: Option<&str>, name: &str) -> Result<T> {
    match json {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| to_js_error(CeleryError::InvalidOption { name: name.into(), reason: e.to_string() })),
    }
}

fn task_options(input: SendOptions) -> Result<TaskOptions> {
    let headers: Map<String, Value> = parse_options(input.headers.as_deref(), "headers")?;
    let priority = input
        .priority
        .map(|p| {
            u8::try_from(p).map_err(|_| {
                to_js_error(CeleryError::InvalidOption {
                    name: "priority".into(),
                    reason: format!("{p} is out of range"),
                })
            })
        })
        .transpose()?;
    Ok(TaskOptions {
        countdown: input.countdown,
        eta: input.eta.map(from_unix_millis),
        expires: input.expires_at.map(|ms| Expiry::At(from_unix_millis(ms))).or(input.expires_in.map(Expiry::In)),
        priority,
        time_limit: input.time_limit,
        soft_time_limit: input.soft_time_limit,
        shadow: input.shadow,
        ignore_result: input.ignore_result,
        retries: input.retries.unwrap_or(0),
        headers,
        reply_to: input.reply_to,
        compress: compression(input.compression.as_deref())?,
        ..TaskOptions::default()
    })
}

/// kombu's compression names we can write; the others (bzip2, lzma, brotli, zstd) are refused
/// rather than sent uncompressed.
fn compression(name: Option<&str>) -> Result<bool> {
    match name {
        None => Ok(false),
        Some("zlib" | "gzip") => Ok(true),
        Some(other) => Err(to_js_error(CeleryError::InvalidOption {
            name: "compression".into(),
            reason: format!("{other} is not supported (zlib and gzip are)"),
        })),
    }
}

/// A planned canvas: the ids of what will be sent, the chord sizes the backend needs first, and
/// which result the caller tracks.
#[napi]
pub struct CanvasPlanWrapper {
    plan: CanvasPlan,
}

#[napi(object)]
pub struct ChordSize {
    pub group_id: String,
    pub size: u32,
}

#[napi]
impl CanvasPlanWrapper {
    /// Ids of the messages, in publishing order.
    #[napi(getter)]
    pub fn task_ids(&self) -> Vec<String> {
        self.plan.tasks.iter().map(|task| task.id.clone()).collect()
    }

    #[napi(getter)]
    pub fn chord_sizes(&self) -> Vec<ChordSize> {
        self.plan
            .chord_sizes
            .iter()
            .map(|(group_id, size)| ChordSize { group_id: group_id.clone(), size: *size as u32 })
            .collect()
    }

    /// `task` (a chain's last task or a chord's body) or `group`.
    #[napi(getter)]
    pub fn result_kind(&self) -> String {
        match &self.plan.result {
            CanvasResult::Task { .. } => "task".into(),
            CanvasResult::Group { .. } => "group".into(),
        }
    }

    /// The tracked task's id, or the group's id.
    #[napi(getter)]
    pub fn result_id(&self) -> String {
        match &self.plan.result {
            CanvasResult::Task { id, .. } | CanvasResult::Group { id, .. } => id.clone(),
        }
    }

    /// A chain's earlier task ids (first first), a chord's header ids, or a group's members.
    #[napi(getter)]
    pub fn result_members(&self) -> Vec<String> {
        match &self.plan.result {
            CanvasResult::Task { parents, .. } => parents.clone(),
            CanvasResult::Group { members, .. } => members.clone(),
        }
    }
}
