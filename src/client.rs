//! The client: turns `sendTask` calls into task messages and hands them to the broker. Knows who
//! it is (origin, oid) and which protocol version to speak; knows nothing of JS.

use std::sync::Arc;
use std::time::SystemTime;

use crate::broker::{Broker, Destination, Publication};
use crate::protocol::canvas::{plan_canvas, CanvasPlan};
use crate::protocol::control::{revoke_command, PIDBOX_EXCHANGE};
use crate::protocol::events::{task_sent_event, SentTo, EVENT_EXCHANGE, TASK_SENT_ROUTING_KEY};
use crate::protocol::{encode_task, Producer, ProtocolVersion, TaskRequest};

/// Where the numbers of event messages start: far above any task's (the JS side counts from 1).
const EVENT_SEQS: u64 = 1 << 62;

pub struct Client {
    broker: Arc<dyn Broker>,
    producer: Producer,
    /// The Lamport clock control messages and events carry.
    clock: std::sync::atomic::AtomicU64,
    /// Python's `task_send_sent_event`: a `task-sent` event after each task.
    sent_events: std::sync::atomic::AtomicBool,
}

impl Client {
    pub fn new(broker: Arc<dyn Broker>, producer: Producer) -> Self {
        Self { broker, producer, clock: Default::default(), sent_events: Default::default() }
    }

    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.broker
    }

    /// Sends a `task-sent` event after each task (protocol 2) from now on.
    pub fn send_sent_events(&self, enabled: bool) {
        self.sent_events.store(enabled, std::sync::atomic::Ordering::SeqCst);
    }

    /// Encodes and queues one task message; the outcome for `seq` arrives on the broker's
    /// outcome channel. A `task-sent` event follows it, when asked for, numbered from
    /// [`EVENT_SEQS`] (nobody waits for an event's outcome; a transport tracks each message by
    /// its number, so they must differ).
    pub fn send_task(&self, seq: u64, request: &TaskRequest<'_>, destination: Destination, version: ProtocolVersion) {
        let now = SystemTime::now();
        let message = encode_task(request, &self.producer, version, now);
        let event = self.sent_events.load(std::sync::atomic::Ordering::SeqCst).then(|| {
            let to = match &destination {
                Destination::Exchange { name, routing_key } => {
                    SentTo { queue: routing_key, exchange: name, routing_key }
                }
                Destination::Queue(queue) | Destination::Reply(queue) => {
                    SentTo { queue, exchange: "", routing_key: queue }
                }
                Destination::Event { exchange, routing_key } => SentTo { queue: routing_key, exchange, routing_key },
            };
            let clock = self.clock.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            task_sent_event(&message, to, &self.producer.origin, clock, now).map(|event| (clock, event))
        });
        self.broker.publish(Publication { seq, destination, message });
        if let Some((clock, event)) = event.flatten() {
            let destination =
                Destination::Event { exchange: EVENT_EXCHANGE.into(), routing_key: TASK_SENT_ROUTING_KEY.into() };
            self.broker.publish(Publication { seq: EVENT_SEQS + clock, destination, message: event });
        }
    }

    /// Revokes tasks as Python's `app.control.revoke` does: a broadcast to the workers online.
    pub async fn revoke(&self, task_ids: &[String], terminate: bool, signal: &str) -> crate::error::Result<()> {
        let clock = self.clock.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let message = revoke_command(task_ids, terminate, signal, clock, SystemTime::now());
        self.broker.broadcast(PIDBOX_EXCHANGE, &message).await
    }

    /// Plans a canvas (chain, group, chord) the way the Python client sends it.
    pub fn plan_canvas(&self, signature: &serde_json::Value) -> Result<CanvasPlan, String> {
        plan_canvas(signature, &self.producer.reply_to, &mut || uuid::Uuid::new_v4().to_string())
    }

    /// Publishes a planned canvas, its tasks numbered from `first_seq`, in plan order. Canvas
    /// messages are protocol 2: protocol 1 has no chain field.
    pub fn send_plan(&self, plan: &CanvasPlan, first_seq: u64, default_queue: &str) {
        for (offset, task) in plan.tasks.iter().enumerate() {
            let queue = task.queue.as_deref().unwrap_or(default_queue);
            self.send_task(
                first_seq + offset as u64,
                &task.request(),
                Destination::Queue(queue.to_string()),
                ProtocolVersion::V2,
            );
        }
    }
}

/// `gen<pid>@<hostname>` as Celery names a client, and the oid Celery derives from it
/// (a UUID3 in the OID namespace, spec §5.5), used as `reply_to`.
pub fn producer_for_this_process() -> Producer {
    let pid = std::process::id();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    let origin = format!("gen{pid}@{hostname}");
    let unique = format!("{origin}-{}", uuid::Uuid::new_v4());
    let reply_to = uuid::Uuid::new_v3(&uuid::Uuid::NAMESPACE_OID, unique.as_bytes()).to_string();
    Producer { origin, reply_to, lang: "js" }
}
