//! The AMQP 0-9-1 (RabbitMQ) broker, publishing side (spec §4): Celery's topology declared once
//! per queue and connection, messages as the Python client writes them, and publisher confirms on
//! one long-lived channel with many publishes in flight.
//!
//! One writer task owns the connection. Each message stays in `unconfirmed` until RabbitMQ
//! confirms it; when the connection is lost, the writer reconnects with backoff, declares again
//! and re-sends everything unconfirmed. Delivery is therefore at least once: a message whose
//! confirm was lost with the connection is sent twice.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::future::maybe_done;
use futures_util::FutureExt;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ExchangeKind};
use lapin::{Confirmation, PublisherConfirm};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::{Broker, Destination, OutcomeSender, Publication, PublishOutcome, WriterCommand, WriterHandle};
use crate::amqp_connection::{declare_reply_queue, AmqpOptions, AmqpTarget};
use crate::error::{CeleryError, Result};
use crate::protocol::control::ControlMessage;
use crate::protocol::delayed_delivery::{delay_until, delayed_routing_key, DELAYED_EXCHANGE};
use crate::protocol::task_message::{CONTENT_ENCODING_UTF8, CONTENT_TYPE_JSON};
use crate::protocol::time::parse_iso8601;
use crate::protocol::TaskMessage;

/// How long the writer keeps trying to reconnect before it fails what it holds.
const RECONNECT_WINDOW: Duration = Duration::from_secs(30);
const MAX_BATCH: usize = 1024;
/// Messages handed to lapin at once (their frames are held until written).
const PUBLISH_WINDOW: usize = 256;

/// Queue declaration settings; they must equal the workers' or RabbitMQ answers 406.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub queue_arguments: FieldTable,
    pub passive: bool,
    /// The client's RPC reply queue, declared before the first publish so that no reply is
    /// dropped (Python's rpc backend does the same in `on_task_call`).
    pub reply_queue: Option<String>,
    pub reply_queue_expires_ms: u64,
    /// Delay countdown / ETA messages to named exchanges in RabbitMQ (spec §4.6).
    pub native_delayed_delivery: bool,
}

impl Topology {
    pub fn from_options(options: &AmqpOptions, reply_to: &str) -> Self {
        Self {
            queue_arguments: options.queue_arguments.as_ref().map(field_table).unwrap_or_default(),
            passive: options.passive.unwrap_or(false),
            reply_queue: options.declare_reply_queue.unwrap_or(false).then(|| reply_to.to_string()),
            native_delayed_delivery: options.native_delayed_delivery.unwrap_or(false),
            reply_queue_expires_ms: options.reply_queue_expires_ms(),
        }
    }
}

// Publications dominate the traffic; boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
enum Command {
    Publish(Publication),
    Flush(oneshot::Sender<()>),
    /// Sent by a confirm task whose channel died; carries the session generation it saw.
    ConnectionLost(u64),
    /// A message to this queue came back unroutable: the queue is gone (deleted behind our
    /// back), so the next message declares it again.
    Undeclare(String),
}

pub struct AmqpBroker {
    target: AmqpTarget,
    topology: Topology,
    outcomes: OutcomeSender,
    writer: WriterHandle<Command>,
}

impl AmqpBroker {
    pub fn new(target: AmqpTarget, topology: Topology, outcomes: OutcomeSender) -> Self {
        Self { target, topology, outcomes, writer: WriterHandle::new() }
    }
}

impl WriterCommand for Command {
    fn publish(publication: Publication) -> Self {
        Command::Publish(publication)
    }

    fn flush(done: oneshot::Sender<()>) -> Self {
        Command::Flush(done)
    }
}

impl AmqpBroker {
    /// With native delayed delivery, a message to a named exchange that is due later goes
    /// through Celery's delay exchanges instead (spec §4.6); others are left as they are.
    fn delayed(&self, mut publication: Publication) -> Publication {
        if !self.topology.native_delayed_delivery {
            return publication;
        }
        let Destination::Exchange { routing_key, .. } = &publication.destination else { return publication };
        let eta = publication.message.headers.get("eta").as_ref().and_then(Value::as_str).and_then(parse_iso8601);
        if let Some(delay) = eta.and_then(|eta| delay_until(eta, std::time::SystemTime::now())) {
            publication.destination = Destination::Exchange {
                name: DELAYED_EXCHANGE.to_string(),
                routing_key: delayed_routing_key(delay, routing_key),
            };
        }
        publication
    }
}

impl Broker for AmqpBroker {
    fn publish(&self, publication: Publication) {
        let publication = self.delayed(publication);
        self.writer.publish(publication, &self.outcomes, |sender, commands| {
            let writer = Writer {
                target: self.target.clone(),
                topology: self.topology.clone(),
                outcomes: self.outcomes.clone(),
                commands: sender.downgrade(),
                session: None,
                generation: 0,
                declared: HashSet::new(),
                unconfirmed: Arc::default(),
                confirm_tasks: Vec::new(),
            };
            tokio::spawn(writer.run(commands));
        });
    }

    fn ready(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            let connection = self.target.connect().await?;
            let _ = connection.close(200, "ready check done".into()).await;
            Ok(())
        }
        .boxed()
    }

    fn broadcast<'a>(&'a self, exchange: &'a str, message: &'a ControlMessage) -> BoxFuture<'a, Result<()>> {
        async move {
            if self.writer.is_closed() {
                return Err(CeleryError::Disconnected);
            }
            let connection = self.target.connect().await?;
            let failed = |e: lapin::Error| CeleryError::PublishFailed(format!("broadcast on {exchange} failed: {e}"));
            let channel = connection.create_channel().await.map_err(failed)?;
            // Declared as kombu's Mailbox declares it: fanout, not durable.
            let options = ExchangeDeclareOptions { durable: false, ..ExchangeDeclareOptions::default() };
            channel
                .exchange_declare(exchange.into(), ExchangeKind::Fanout, options, FieldTable::default())
                .await
                .map_err(failed)?;
            let properties = BasicProperties::default()
                .with_content_type(CONTENT_TYPE_JSON.into())
                .with_content_encoding(CONTENT_ENCODING_UTF8.into())
                .with_delivery_mode(2)
                .with_headers(field_table(&message.headers));
            channel
                .basic_publish(
                    exchange.into(),
                    "".into(),
                    BasicPublishOptions::default(),
                    message.body.as_bytes(),
                    properties,
                )
                .await
                .map_err(failed)?;
            let _ = connection.close(200, "broadcast sent".into()).await;
            Ok(())
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            self.writer.close().await;
            Ok(())
        }
        .boxed()
    }
}

struct Session {
    connection: Connection,
    channel: Channel,
}

type Unconfirmed = Arc<Mutex<BTreeMap<u64, Publication>>>;

struct Writer {
    target: AmqpTarget,
    topology: Topology,
    outcomes: OutcomeSender,
    /// Weak, so that the writer ends (and closes its connection) once the broker lets go.
    commands: mpsc::WeakUnboundedSender<Command>,
    session: Option<Session>,
    /// Bumped at every new connection, so stale "connection lost" notices are ignored.
    generation: u64,
    /// Queues declared on the current connection.
    declared: HashSet<String>,
    /// Everything published and not yet confirmed (or failed), by sequence number.
    unconfirmed: Unconfirmed,
    confirm_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writer {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while let Some(first) = commands.recv().await {
            let mut batch = Vec::new();
            let mut flushes = Vec::new();
            let mut lost = false;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Publish(publication) => batch.push(publication),
                    Command::Flush(done) => flushes.push(done),
                    Command::ConnectionLost(generation) => lost |= generation == self.generation,
                    Command::Undeclare(queue) => {
                        self.declared.remove(&queue);
                    }
                }
                if batch.len() < MAX_BATCH {
                    next = commands.try_recv().ok();
                }
            }
            if lost {
                self.session = None;
            }
            if lost || !batch.is_empty() {
                self.send(batch).await;
            }
            if !flushes.is_empty() {
                self.settle_everything().await;
                for done in flushes {
                    let _ = done.send(());
                }
            }
        }
        if let Some(session) = self.session.take() {
            let _ = session.connection.close(200, "client disconnected".into()).await;
        }
    }

    /// Publishes the batch; on a new connection, re-publishes everything still unconfirmed.
    async fn send(&mut self, batch: Vec<Publication>) {
        let mut to_publish: Vec<u64> = batch.iter().map(|p| p.seq).collect();
        self.unconfirmed.lock().unwrap().extend(batch.into_iter().map(|p| (p.seq, p)));
        // A broker that never answered fails fast (the connect timeout); one that was reachable
        // gets time to come back (a restart, a failover).
        let window = if self.generation == 0 { self.target.connect_timeout() } else { RECONNECT_WINDOW };
        let deadline = Instant::now() + window;
        let mut delay = Duration::from_millis(100);
        loop {
            let attempt = async {
                if self.session.is_none() {
                    self.open_session().await?;
                    to_publish = self.unconfirmed.lock().unwrap().keys().copied().collect();
                }
                self.publish_seqs(&to_publish).await
            };
            let error = match attempt.await {
                Ok(()) => return,
                Err(error) => error,
            };
            self.session = None;
            if Instant::now() + delay > deadline {
                let reason = error.to_string();
                self.fail_all_unconfirmed(CeleryError::BrokerUnreachable {
                    url: self.target.display_url.clone(),
                    reason,
                });
                return;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    async fn open_session(&mut self) -> std::result::Result<(), SessionError> {
        let connection = self.target.connect().await.map_err(|e| SessionError(e.to_string()))?;
        let channel = open_confirm_channel(&connection).await?;
        if let Some(reply_queue) = &self.topology.reply_queue {
            declare_reply_queue(&channel, reply_queue, self.topology.reply_queue_expires_ms)
                .await
                .map_err(|e| SessionError(e.to_string()))?;
        }
        self.generation += 1;
        self.declared.clear();
        self.session = Some(Session { connection, channel });
        Ok(())
    }

    /// Publishes each message without waiting for its confirm; one task per call awaits them.
    async fn publish_seqs(&mut self, seqs: &[u64]) -> std::result::Result<(), SessionError> {
        let mut confirms: Vec<(u64, PublisherConfirm)> = Vec::with_capacity(seqs.len());
        let mut staged: Vec<Publication> = Vec::new();
        let mut result = Ok(());
        for seq in seqs {
            let Some(publication) = self.unconfirmed.lock().unwrap().get(seq).cloned() else { continue };
            if let Some(refusal) = refused_expiration(&publication.message) {
                // RabbitMQ would close the channel for it, and the re-send would meet the same.
                self.fail(&[publication.seq], refusal);
                continue;
            }
            let declares = !self.is_declared(&publication.destination);
            if declares || staged.len() == PUBLISH_WINDOW {
                result = self.publish_staged(std::mem::take(&mut staged), &mut confirms).await;
                if result.is_err() {
                    break;
                }
            }
            if declares {
                // A refused declaration closes the channel, and the confirms still to come on it
                // are lost: those messages would be sent twice. Declarations are rare (once per
                // queue and connection), so what was published before one is confirmed first.
                self.spawn_confirms(std::mem::take(&mut confirms));
                self.all_confirmed().await;
            }
            let checked = match &publication.destination {
                Destination::Queue(queue) => self.declare(queue).await,
                Destination::Exchange { name, .. } => self.check_exchange(name).await,
                Destination::Reply(_) => Ok(()),
                Destination::Event { exchange, .. } => self.declare_event_exchange(exchange).await,
            };
            if let Err(refusal) = checked {
                if !self.session.as_ref().is_some_and(|session| session.connection.status().connected()) {
                    // Not a refusal: the connection went away. Reconnect and send it again.
                    result = Err(SessionError(refusal.to_string()));
                    break;
                }
                // RabbitMQ refused the declaration and closed the channel: fail this message,
                // carry on with the others on a new channel.
                self.fail(&[publication.seq], refusal);
                let session = self.session.as_mut().expect("declare needs a session");
                session.channel = open_confirm_channel(&session.connection).await?;
                continue;
            }
            staged.push(publication);
        }
        if result.is_ok() {
            result = self.publish_staged(staged, &mut confirms).await;
        }
        self.spawn_confirms(confirms);
        result
    }

    /// One task awaits these confirms and reports the outcomes.
    fn spawn_confirms(&mut self, confirms: Vec<(u64, PublisherConfirm)>) {
        if confirms.is_empty() {
            return;
        }
        let task = await_confirms(
            confirms,
            self.generation,
            self.unconfirmed.clone(),
            self.outcomes.clone(),
            self.commands.clone(),
        );
        self.confirm_tasks.retain(|t| !t.is_finished());
        self.confirm_tasks.push(tokio::spawn(task));
    }

    /// Waits until every confirm awaited so far has come (or was lost); false if they did not
    /// come within the reconnect window (a broker that blocks publishers).
    async fn all_confirmed(&mut self) -> bool {
        let confirm_tasks = std::mem::take(&mut self.confirm_tasks);
        let all = async {
            for task in confirm_tasks {
                let _ = task.await;
            }
        };
        tokio::time::timeout(RECONNECT_WINDOW, all).await.is_ok()
    }

    /// Hands the messages to lapin all at once: a publish queues its frames when first polled,
    /// so polling every one before awaiting any lets lapin's I/O thread write them in one go
    /// (awaiting each in turn costs two thread switches per message). Stops at the first error;
    /// the messages after it stay unconfirmed and are sent again on the next connection.
    async fn publish_staged(
        &self,
        staged: Vec<Publication>,
        confirms: &mut Vec<(u64, PublisherConfirm)>,
    ) -> std::result::Result<(), SessionError> {
        if staged.is_empty() {
            return Ok(());
        }
        let channel = &self.session.as_ref().expect("publishing needs a session").channel;
        let mut calls: Vec<_> =
            staged.iter().map(|publication| Box::pin(maybe_done(publish(channel, publication)))).collect();
        for call in &mut calls {
            let _ = futures_util::poll!(call.as_mut()); // queues its frames, in order
        }
        for (publication, call) in staged.iter().zip(&mut calls) {
            call.as_mut().await;
            match call.as_mut().take_output().expect("awaited") {
                Ok(confirm) => confirms.push((publication.seq, confirm)),
                Err(error) => return Err(SessionError(error.to_string())),
            }
        }
        Ok(())
    }

    /// Whether publishing there needs no declaration (or check) first.
    fn is_declared(&self, destination: &Destination) -> bool {
        match destination {
            Destination::Queue(queue) => self.declared.contains(queue),
            Destination::Exchange { name, .. } | Destination::Event { exchange: name, .. } => {
                self.declared.contains(&exchange_known(name))
            }
            Destination::Reply(_) => true,
        }
    }

    /// Declares the queue, its direct exchange and the binding, as a Celery 5.7 worker does
    /// (spec §4.1, §4.3); with `passive`, only checks that the queue exists. A refusal (406, 404)
    /// closes the channel and is returned as the message's error.
    async fn declare(&mut self, queue: &str) -> std::result::Result<(), CeleryError> {
        if self.declared.contains(queue) {
            return Ok(());
        }
        let channel = &self.session.as_ref().expect("declaring needs a session").channel;
        declare_queue(channel, queue, &self.topology)
            .await
            .map_err(|e| CeleryError::PublishFailed(format!("declaring queue {queue} failed: {e}")))?;
        self.declared.insert(queue.to_string());
        Ok(())
    }

    /// The events exchange, declared as Celery's event dispatcher declares it (topic, durable).
    async fn declare_event_exchange(&mut self, exchange: &str) -> std::result::Result<(), CeleryError> {
        let options = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
        self.exchange_once(exchange, ExchangeKind::Topic, options, "declaring it failed").await
    }

    /// A named exchange must exist before publishing to it (a publish to a missing exchange
    /// would close the channel with all its unconfirmed messages); checked passively: the
    /// workers own that topology.
    async fn check_exchange(&mut self, exchange: &str) -> std::result::Result<(), CeleryError> {
        let options = ExchangeDeclareOptions { passive: true, ..ExchangeDeclareOptions::default() };
        self.exchange_once(exchange, ExchangeKind::Direct, options, "it is not there").await
    }

    /// Declares (or checks) an exchange once per connection.
    async fn exchange_once(
        &mut self,
        exchange: &str,
        kind: ExchangeKind,
        options: ExchangeDeclareOptions,
        failure: &str,
    ) -> std::result::Result<(), CeleryError> {
        let known = exchange_known(exchange);
        if self.declared.contains(&known) {
            return Ok(());
        }
        let channel = &self.session.as_ref().expect("declaring needs a session").channel;
        channel
            .exchange_declare(exchange.into(), kind, options, FieldTable::default())
            .await
            .map_err(|e| CeleryError::PublishFailed(format!("exchange {exchange}: {failure}: {e}")))?;
        self.declared.insert(known);
        Ok(())
    }

    /// Waits until every message handed to this writer is confirmed or failed. Confirms that do
    /// not come within the reconnect window (a broker that blocks publishers) fail their messages.
    async fn settle_everything(&mut self) {
        loop {
            if !self.all_confirmed().await {
                let reason = format!("RabbitMQ did not confirm the message within {RECONNECT_WINDOW:?}");
                self.fail_all_unconfirmed(CeleryError::PublishFailed(reason));
                return;
            }
            if self.unconfirmed.lock().unwrap().is_empty() {
                return;
            }
            // Confirms were lost with the connection: reconnect and send those messages again.
            self.session = None;
            self.send(Vec::new()).await;
        }
    }

    fn fail(&self, seqs: &[u64], error: CeleryError) {
        let mut unconfirmed = self.unconfirmed.lock().unwrap();
        for seq in seqs {
            unconfirmed.remove(seq);
        }
        let _ = self.outcomes.send(PublishOutcome { seqs: seqs.to_vec(), error: Some(error) });
    }

    fn fail_all_unconfirmed(&self, error: CeleryError) {
        let seqs: Vec<u64> = self.unconfirmed.lock().unwrap().keys().copied().collect();
        if !seqs.is_empty() {
            self.fail(&seqs, error);
        }
    }
}

/// The key under which `declared` remembers an exchange (queues go by their own name).
fn exchange_known(exchange: &str) -> String {
    format!("exchange {exchange}")
}

/// One `basic.publish` of a message, as Celery's client sends it.
async fn publish(channel: &Channel, publication: &Publication) -> lapin::Result<PublisherConfirm> {
    let (properties, body) = amqp_message(&publication.message);
    let options = BasicPublishOptions {
        mandatory: matches!(publication.destination, Destination::Queue(_) | Destination::Exchange { .. }),
        immediate: false,
    };
    let (exchange, routing_key) = match &publication.destination {
        Destination::Queue(queue) | Destination::Reply(queue) => ("", queue.as_str()),
        Destination::Exchange { name, routing_key } => (name.as_str(), routing_key.as_str()),
        Destination::Event { exchange, routing_key } => (exchange.as_str(), routing_key.as_str()),
    };
    channel.basic_publish(exchange.into(), routing_key.into(), options, body, properties).await
}

/// A connection or channel problem: the writer reconnects and re-sends.
#[derive(Debug)]
struct SessionError(String);

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

async fn open_confirm_channel(connection: &Connection) -> std::result::Result<Channel, SessionError> {
    let channel = connection.create_channel().await.map_err(|e| SessionError(e.to_string()))?;
    channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(|e| SessionError(e.to_string()))?;
    Ok(channel)
}

/// Settles one publish call's messages in order: acks are reported together, returns and nacks
/// one by one. A confirm lost with the channel leaves its message unconfirmed and tells the
/// writer, which re-sends it on a new connection.
async fn await_confirms(
    confirms: Vec<(u64, PublisherConfirm)>,
    generation: u64,
    unconfirmed: Unconfirmed,
    outcomes: OutcomeSender,
    commands: mpsc::WeakUnboundedSender<Command>,
) {
    let tell_writer = |command| {
        if let Some(writer) = commands.upgrade() {
            let _ = writer.send(command);
        }
    };
    let mut acked = Vec::with_capacity(confirms.len());
    let mut lost = false;
    for (seq, confirm) in confirms {
        let error = match confirm.await {
            Ok(Confirmation::Ack(None) | Confirmation::NotRequested) => None,
            Ok(Confirmation::Ack(Some(returned))) | Ok(Confirmation::Nack(Some(returned))) => {
                tell_writer(Command::Undeclare(returned.routing_key.to_string()));
                Some(CeleryError::Unroutable {
                    routing_key: returned.routing_key.to_string(),
                    reason: returned.reply_text.to_string(),
                })
            }
            Ok(Confirmation::Nack(None)) => {
                Some(CeleryError::PublishFailed("RabbitMQ refused the message (nack)".into()))
            }
            Err(_) => {
                lost = true;
                continue;
            }
        };
        if unconfirmed.lock().unwrap().remove(&seq).is_none() {
            continue; // already settled through a re-send
        }
        match error {
            None => acked.push(seq),
            Some(error) => {
                let _ = outcomes.send(PublishOutcome { seqs: vec![seq], error: Some(error) });
            }
        }
    }
    if !acked.is_empty() {
        let _ = outcomes.send(PublishOutcome { seqs: acked, error: None });
    }
    if lost {
        tell_writer(Command::ConnectionLost(generation));
    }
}

/// Declares a queue, its direct exchange and the binding, as a Celery 5.7 worker does (spec
/// §4.1, §4.3); with `passive`, only checks that the queue exists. A refusal (406, 404) closes
/// the channel.
pub(crate) async fn declare_queue(channel: &Channel, queue: &str, topology: &Topology) -> lapin::Result<()> {
    let durable = QueueDeclareOptions { durable: true, passive: topology.passive, ..QueueDeclareOptions::default() };
    channel.queue_declare(queue.into(), durable, topology.queue_arguments.clone()).await?;
    if !topology.passive {
        let exchange = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
        channel.exchange_declare(queue.into(), ExchangeKind::Direct, exchange, FieldTable::default()).await?;
        channel
            .queue_bind(queue.into(), queue.into(), queue.into(), QueueBindOptions::default(), FieldTable::default())
            .await?;
    }
    Ok(())
}

/// RabbitMQ refuses a per-message TTL above ten years (`406 PRECONDITION_FAILED invalid
/// expiration`, closing the channel): such an `expires` fails its message instead.
const MAX_EXPIRATION_MS: u64 = 315_360_000_000;

fn refused_expiration(message: &TaskMessage) -> Option<CeleryError> {
    let expiration = message.properties.expiration.as_deref()?;
    let too_far = expiration.parse::<u64>().map_or(true, |ms| ms > MAX_EXPIRATION_MS);
    too_far.then(|| {
        CeleryError::PublishFailed(format!(
            "RabbitMQ refuses an expiration of {expiration} ms (expires); at most {MAX_EXPIRATION_MS} ms (ten years)"
        ))
    })
}

/// Properties and body as py-amqp sends a Celery task (spec §4.2): raw JSON body, persistent.
fn amqp_message(message: &TaskMessage) -> (BasicProperties, &[u8]) {
    let props = &message.properties;
    let mut properties = BasicProperties::default()
        .with_content_type(message.content_type().into())
        .with_content_encoding(message.content_encoding().into())
        .with_delivery_mode(props.delivery_mode)
        .with_priority(props.priority)
        .with_correlation_id(props.correlation_id.as_str().into())
        .with_reply_to(props.reply_to.as_str().into())
        .with_headers(field_table(&message.headers.to_map()));
    if let Some(expiration) = &props.expiration {
        properties = properties.with_expiration(expiration.as_str().into());
    }
    (properties, &message.body)
}

/// JSON → AMQP field table with the types py-amqp writes: strings as long strings (`S`, never
/// the ambiguous `s`), integers as `I` or `l`, floats as `d`, null as `V`.
pub fn field_table(object: &Map<String, Value>) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in object {
        table.insert(ShortString::from(key.as_str()), amqp_value(value));
    }
    table
}

fn amqp_value(value: &Value) -> AMQPValue {
    match value {
        Value::Null => AMQPValue::Void,
        Value::Bool(b) => AMQPValue::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => match i32::try_from(i) {
                Ok(small) => AMQPValue::LongInt(small),
                Err(_) => AMQPValue::LongLongInt(i),
            },
            (None, Some(f)) => AMQPValue::Double(f),
            (None, None) => AMQPValue::LongString(LongString::from(n.to_string())),
        },
        Value::String(s) => AMQPValue::LongString(LongString::from(s.as_str())),
        Value::Array(items) => {
            AMQPValue::FieldArray(FieldArray::from(items.iter().map(amqp_value).collect::<Vec<_>>()))
        }
        Value::Object(object) => AMQPValue::FieldTable(field_table(object)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_use_py_amqp_field_types() {
        let headers = json!({"s": "x", "b": true, "i": 5, "big": 5_000_000_000i64, "f": 1.5, "n": null,
                              "a": [null, null], "o": {}});
        let table = field_table(headers.as_object().unwrap());
        let get = |k: &str| table.inner().get(&ShortString::from(k)).cloned().unwrap();
        assert!(matches!(get("s"), AMQPValue::LongString(_)));
        assert_eq!(get("b"), AMQPValue::Boolean(true));
        assert_eq!(get("i"), AMQPValue::LongInt(5));
        assert_eq!(get("big"), AMQPValue::LongLongInt(5_000_000_000));
        assert_eq!(get("f"), AMQPValue::Double(1.5));
        assert_eq!(get("n"), AMQPValue::Void);
        assert!(matches!(get("a"), AMQPValue::FieldArray(_)));
        assert!(matches!(get("o"), AMQPValue::FieldTable(_)));
    }
}
