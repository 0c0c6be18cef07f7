//! The client: turns `sendTask` calls into task messages and hands them to the broker. Knows who
//! it is (origin, oid) and which protocol version to speak; knows nothing of JS.

use std::sync::Arc;
use std::time::SystemTime;

use crate::broker::{Broker, Publication};
use crate::protocol::{encode_task, Producer, ProtocolVersion, TaskRequest};

pub struct Client {
    broker: Arc<dyn Broker>,
    producer: Producer,
}

impl Client {
    pub fn new(broker: Arc<dyn Broker>, producer: Producer) -> Self {
        Self { broker, producer }
    }

    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.broker
    }

    /// Encodes and queues one task message; the outcome for `seq` arrives on the broker's
    /// outcome channel.
    pub fn send_task(&self, seq: u64, request: &TaskRequest<'_>, queue: &str, version: ProtocolVersion) {
        let message = encode_task(request, &self.producer, version, SystemTime::now());
        self.broker.publish(Publication { seq, queue: queue.to_string(), message });
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
