//! Brokers: where task messages go. Each transport lives in its own file behind [`Broker`].
//!
//! Publishing never waits: [`Broker::publish`] queues the message for the transport's writer,
//! which sends everything queued since its last write in one go and reports each batch's outcome
//! on the [`OutcomeSender`] it was built with.

pub mod amqp;
pub mod redis;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::error::{CeleryError, Result};
use crate::protocol::control::ControlMessage;
use crate::protocol::TaskMessage;

/// One message on its way to a queue. `seq` is the caller's handle for the outcome.
#[derive(Debug, Clone)]
pub struct Publication {
    pub seq: u64,
    pub queue: String,
    pub message: TaskMessage,
}

/// The outcome of a batch of publications: all of them are on the broker, or none is known to be.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    pub seqs: Vec<u64>,
    pub error: Option<CeleryError>,
}

pub type OutcomeSender = mpsc::UnboundedSender<PublishOutcome>;

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
