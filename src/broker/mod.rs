//! Brokers: where task messages go. Each transport lives in its own file behind [`Broker`].
//!
//! Publishing never waits: [`Broker::publish`] queues the message for the transport's writer,
//! which sends everything queued since its last write in one go and reports each batch's outcome
//! on the [`OutcomeSender`] it was built with.

pub mod amqp;
pub mod amqp_consumer;
pub mod redis;
pub mod redis_consumer;

use std::sync::Mutex;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::batches::Batches;
use crate::error::{CeleryError, Result};
use crate::protocol::control::ControlMessage;
use crate::protocol::TaskMessage;

/// Where a message goes: straight to a queue (Celery's default: the anonymous exchange with the
/// queue's name as routing key), or to a named exchange with a routing key, whose bindings pick
/// the queues.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    Queue(String),
    Exchange {
        name: String,
        routing_key: String,
    },
    /// A reply to a client's own queue (RPC results): the anonymous exchange, nothing declared;
    /// dropped by the broker when the queue is gone, as Celery's replies are.
    Reply(String),
    /// An event for monitors (spec §6.2): AMQP's topic exchange (declared), Redis' fanout
    /// channel `/<db>.<exchange>/<routing key>`; nobody listening is no error.
    Event {
        exchange: String,
        routing_key: String,
    },
}

/// One message on its way. `seq` is the caller's handle for the outcome.
#[derive(Debug, Clone)]
pub struct Publication {
    pub seq: u64,
    pub destination: Destination,
    pub message: TaskMessage,
}

/// The outcome of a batch of publications: all of them are on the broker, or none is known to be.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    pub seqs: Vec<u64>,
    pub error: Option<CeleryError>,
}

pub type OutcomeSender = mpsc::UnboundedSender<PublishOutcome>;

/// How long successful publishes are gathered when nobody is in a hurry for them: one hand-over
/// for a stream of confirms instead of one each.
const GATHER_SUCCESSES: std::time::Duration = std::time::Duration::from_millis(5);

/// The receiving end of the outcome channel, handed over in batches.
pub struct PublishOutcomes(Batches<PublishOutcome>);

impl PublishOutcomes {
    pub fn channel() -> (OutcomeSender, Self) {
        let (sender, outcomes) = Batches::channel();
        (sender, Self(outcomes))
    }

    /// Every outcome since the last call, at least one unless [`Self::hurry`] came first (none
    /// once the channel is closed). Unless `hurry`, successes are gathered for up to
    /// [`GATHER_SUCCESSES`] first; a failure, or [`Self::hurry`], ends the wait at once.
    pub async fn next(&self, hurry: bool) -> Vec<PublishOutcome> {
        self.0.next((!hurry).then_some(GATHER_SUCCESSES), |outcome| outcome.error.is_some()).await
    }

    /// Somebody now waits for an outcome: a gathering [`Self::next`] answers now.
    pub fn hurry(&self) {
        self.0.wake();
    }
}

pub trait Broker: Send + Sync {
    /// Queues a message; its outcome arrives later on the outcome channel. Needs a tokio context.
    fn publish(&self, publication: Publication);
    /// Connects (once) and resolves when the broker answers; rejects within the connect timeout.
    fn ready(&self) -> BoxFuture<'_, Result<()>>;
    /// Sends a remote-control command to every worker listening on the fanout `exchange`
    /// (spec §6.1). Fire and forget: workers that are not connected miss it, as in Celery.
    fn broadcast<'a>(&'a self, exchange: &'a str, message: &'a ControlMessage) -> BoxFuture<'a, Result<()>>;
    /// Sends everything queued so far, then closes the connection. Later publishes fail with
    /// [`CeleryError::Disconnected`].
    fn close(&self) -> BoxFuture<'_, Result<()>>;
}

/// Which message a consumer handed out, for its ack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeliveryTag {
    /// kombu's `delivery_tag` property, the key of the `unacked` hash.
    Redis(String),
    /// The channel's tag; `generation` names the connection it came on (acks on a later
    /// connection are meaningless: RabbitMQ redelivers what the lost one held).
    Amqp { generation: u64, tag: u64 },
}

/// One message taken from a queue, unacknowledged.
#[derive(Debug)]
pub struct Delivery {
    pub tag: DeliveryTag,
    /// The message, or why the transport could not even read it (an envelope that is not JSON).
    pub message: std::result::Result<crate::protocol::incoming::RawMessage, String>,
    pub queue: String,
    pub redelivered: bool,
}

/// What to consume and how much to hold at once.
#[derive(Debug, Clone)]
pub struct ConsumeSettings {
    pub queues: Vec<String>,
    /// Messages delivered but not yet acknowledged; 0 is unlimited.
    pub prefetch: u32,
    /// Redis: how long an unacknowledged message stays with its consumer before any consumer
    /// restores it to the queue (kombu's `visibility_timeout`, spec §3.6).
    pub visibility_timeout: std::time::Duration,
    /// The worker's node name: its remote-control queue on AMQP is `<node_name>.celery.pidbox`.
    pub node_name: String,
}

/// The consuming half of a transport. Deliveries go to the sender given to `start` until
/// `stop_consuming`; each must be acked or requeued.
pub trait Consumer: Send + Sync {
    /// Connects and starts consuming; resolves once the first connection consumes. Connection
    /// losses later are repaired inside, with backoff, until `close`. The bodies of remote
    /// control broadcasts (`celery.pidbox`, spec §6.1) go to `control`.
    fn start(
        &self,
        settings: ConsumeSettings,
        deliveries: mpsc::UnboundedSender<Delivery>,
        control: mpsc::UnboundedSender<Vec<u8>>,
    ) -> BoxFuture<'_, Result<()>>;
    fn ack(&self, tag: DeliveryTag) -> BoxFuture<'_, Result<()>>;
    /// Gives a message back: it becomes the next one delivered.
    fn requeue(&self, tag: DeliveryTag) -> BoxFuture<'_, Result<()>>;
    /// No delivery is sent after this resolves; unacknowledged ones stay with us.
    fn stop_consuming(&self) -> BoxFuture<'_, ()>;
    fn close(&self) -> BoxFuture<'_, ()>;
    /// The delivery is held for a later ETA: it stops counting against the prefetch window (as
    /// Celery raises its QoS for ETA tasks) until it is acked.
    fn hold(&self, tag: &DeliveryTag);
}

/// What a transport's writer task understands: publishing, and flushing (answered once
/// everything queued before it is written, confirmed or failed).
pub(crate) trait WriterCommand: Send + 'static {
    fn publish(publication: Publication) -> Self;
    fn flush(done: oneshot::Sender<()>) -> Self;
}

/// The way to a broker's writer task: started on first use (no connection opens before), closed
/// once by `close`, after which publishes fail with [`CeleryError::Disconnected`].
pub(crate) struct WriterHandle<C> {
    /// `None` before the first use and after `close`.
    sender: Mutex<Option<mpsc::UnboundedSender<C>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl<C: WriterCommand> WriterHandle<C> {
    pub(crate) fn new() -> Self {
        Self { sender: Mutex::new(None), closed: Default::default() }
    }

    /// Queues a publication, starting the writer with `start` if it is not running yet.
    pub(crate) fn publish(
        &self,
        publication: Publication,
        outcomes: &OutcomeSender,
        start: impl FnOnce(mpsc::UnboundedSender<C>, mpsc::UnboundedReceiver<C>),
    ) {
        let seq = publication.seq;
        let sent = self.sender(start).map(|s| s.send(C::publish(publication)).is_ok()).unwrap_or(false);
        if !sent {
            let _ = outcomes.send(PublishOutcome { seqs: vec![seq], error: Some(CeleryError::Disconnected) });
        }
    }

    fn sender(
        &self,
        start: impl FnOnce(mpsc::UnboundedSender<C>, mpsc::UnboundedReceiver<C>),
    ) -> Option<mpsc::UnboundedSender<C>> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let mut sender = self.sender.lock().unwrap();
        if sender.is_none() {
            let (tx, rx) = mpsc::unbounded_channel();
            start(tx.clone(), rx);
            *sender = Some(tx);
        }
        sender.clone()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Flushes the writer and lets it end (it closes its connection when its channel closes).
    pub(crate) async fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        let sender = self.sender.lock().unwrap().take();
        if let Some(sender) = sender {
            let (done, flushed) = oneshot::channel();
            if sender.send(C::flush(done)).is_ok() {
                let _ = flushed.await;
            }
        }
    }
}
