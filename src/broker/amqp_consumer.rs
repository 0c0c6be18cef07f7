//! The AMQP 0-9-1 (RabbitMQ) transport, consuming side (spec §4.5): Celery's topology declared
//! as a worker declares it, `basic.qos` for the prefetch window, one consumer per queue on one
//! channel, manual acks. A lost connection is replaced with backoff until `close`; what the lost
//! one held is redelivered by RabbitMQ (at least once).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ExchangeKind};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::amqp::{declare_queue, Topology};
use super::{ConsumeSettings, Consumer, Delivery, DeliveryTag};
use crate::amqp_connection::AmqpTarget;
use crate::error::{CeleryError, Result};
use crate::protocol::control::PIDBOX_EXCHANGE;
use crate::protocol::incoming::RawMessage;

const CONTROL_CONSUMER_TAG: &str = "celery-native-pidbox";

pub struct AmqpConsumer {
    target: AmqpTarget,
    topology: Topology,
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    session: Mutex<Option<Session>>,
    /// The configured window (0: unlimited, or not growable) and the ETA deliveries held beyond
    /// it, by tag.
    prefetch: std::sync::atomic::AtomicU32,
    held: Mutex<HashSet<u64>>,
    stop: Mutex<Option<watch::Sender<bool>>>,
    runner: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Clone)]
struct Session {
    connection: Arc<Connection>,
    channel: Channel,
    generation: u64,
    consumer_tags: Vec<String>,
}

impl AmqpConsumer {
    pub fn new(target: AmqpTarget, topology: Topology) -> Self {
        Self { target, topology, inner: Arc::default() }
    }
}

impl Consumer for AmqpConsumer {
    fn start(
        &self,
        settings: ConsumeSettings,
        deliveries: mpsc::UnboundedSender<Delivery>,
        control: mpsc::UnboundedSender<Vec<u8>>,
    ) -> BoxFuture<'_, Result<()>> {
        async move {
            let (stop_tx, stop) = watch::channel(false);
            let (session, streams) = open(&self.target, &self.topology, &settings, 1).await?;
            *self.inner.session.lock().unwrap() = Some(session);
            // Quorum queues: the window cannot change (see `channel_wide_qos`).
            let growable = if is_quorum(&self.topology) { 0 } else { settings.prefetch };
            self.inner.prefetch.store(growable, std::sync::atomic::Ordering::SeqCst);
            *self.inner.stop.lock().unwrap() = Some(stop_tx);
            let runner = Runner {
                target: self.target.clone(),
                topology: self.topology.clone(),
                settings,
                inner: self.inner.clone(),
                deliveries,
                control,
                stop,
            };
            *self.inner.runner.lock().unwrap() = Some(tokio::spawn(runner.run(streams)));
            Ok(())
        }
        .boxed()
    }

    fn ack(&self, tag: DeliveryTag) -> BoxFuture<'_, Result<()>> {
        async move {
            let Some((channel, tag)) = self.inner.channel_for(&tag) else { return Ok(()) };
            self.inner.release(&channel, tag).await;
            channel
                .basic_ack(tag, BasicAckOptions::default())
                .await
                .map_err(|e| CeleryError::PublishFailed(format!("ack failed: {e}")))
        }
        .boxed()
    }

    fn requeue(&self, tag: DeliveryTag) -> BoxFuture<'_, Result<()>> {
        async move {
            let Some((channel, tag)) = self.inner.channel_for(&tag) else { return Ok(()) };
            self.inner.release(&channel, tag).await;
            channel
                .basic_reject(tag, BasicRejectOptions { requeue: true })
                .await
                .map_err(|e| CeleryError::PublishFailed(format!("reject failed: {e}")))
        }
        .boxed()
    }

    fn stop_consuming(&self) -> BoxFuture<'_, ()> {
        async move {
            if let Some(stop) = self.inner.stop.lock().unwrap().as_ref() {
                stop.send_replace(true);
            }
            let runner = self.inner.runner.lock().unwrap().take();
            if let Some(runner) = runner {
                let _ = runner.await;
            }
            let session = self.inner.session.lock().unwrap().clone();
            if let Some(session) = session {
                for tag in &session.consumer_tags {
                    let _ = session.channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()).await;
                }
            }
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            self.stop_consuming().await;
            let session = self.inner.session.lock().unwrap().take();
            if let Some(session) = session {
                let _ = session.channel.close(200, "worker stopped".into()).await;
                let _ = session.connection.close(200, "worker stopped".into()).await;
            }
        }
        .boxed()
    }

    /// As a Celery worker does, the `basic.qos` window grows by one for each ETA task held, so
    /// tasks due later never fill it.
    fn hold(&self, tag: &DeliveryTag) {
        let Some((channel, tag)) = self.inner.channel_for(tag) else { return };
        let prefetch = self.inner.prefetch.load(std::sync::atomic::Ordering::SeqCst);
        if prefetch == 0 {
            return;
        }
        let window = {
            let mut held = self.inner.held.lock().unwrap();
            held.insert(tag);
            prefetch + held.len() as u32
        };
        tokio::spawn(async move {
            let _ = channel.basic_qos(window.min(u32::from(u16::MAX)) as u16, channel_wide_qos()).await;
        });
    }
}

impl Inner {
    /// A held ETA delivery is settled: the window shrinks back by one.
    async fn release(&self, channel: &Channel, tag: u64) {
        let window = {
            let mut held = self.held.lock().unwrap();
            if !held.remove(&tag) {
                return;
            }
            self.prefetch.load(std::sync::atomic::Ordering::SeqCst) + held.len() as u32
        };
        let _ = channel.basic_qos(window.min(u32::from(u16::MAX)) as u16, channel_wide_qos()).await;
    }

    /// The channel a delivery came on, if it is still the current one.
    fn channel_for(&self, tag: &DeliveryTag) -> Option<(Channel, u64)> {
        let DeliveryTag::Amqp { generation, tag } = tag else { return None };
        let session = self.session.lock().unwrap();
        let session = session.as_ref().filter(|s| s.generation == *generation)?;
        Some((session.channel.clone(), *tag))
    }
}

/// RabbitMQ's `global` QoS is the channel-wide window, which (unlike the per-consumer one) can
/// be changed while consuming; Celery uses it on RabbitMQ for the same reason. Quorum queues do
/// not support it: there the window stays per consumer and cannot grow for ETA tasks.
fn channel_wide_qos() -> BasicQosOptions {
    BasicQosOptions { global: true }
}

fn is_quorum(topology: &Topology) -> bool {
    topology.queue_arguments.inner().get("x-queue-type").is_some_and(|kind| match kind {
        AMQPValue::LongString(s) => s.as_bytes() == b"quorum",
        AMQPValue::ShortString(s) => s.as_str() == "quorum",
        _ => false,
    })
}

type Streams = futures_util::stream::SelectAll<lapin::Consumer>;

async fn open(
    target: &AmqpTarget,
    topology: &Topology,
    settings: &ConsumeSettings,
    generation: u64,
) -> Result<(Session, Streams)> {
    let unreachable =
        |e: lapin::Error| CeleryError::BrokerUnreachable { url: target.display_url.clone(), reason: e.to_string() };
    let connection = target.connect().await?;
    let channel = connection.create_channel().await.map_err(unreachable)?;
    let prefetch = settings.prefetch.min(u32::from(u16::MAX)) as u16;
    let qos = if is_quorum(topology) { BasicQosOptions::default() } else { channel_wide_qos() };
    channel.basic_qos(prefetch, qos).await.map_err(unreachable)?;
    let mut streams = futures_util::stream::SelectAll::new();
    let mut consumer_tags = Vec::new();
    let mut seen = HashSet::new();
    for queue in settings.queues.iter().filter(|q| seen.insert(q.as_str())) {
        declare_queue(&channel, queue, topology).await.map_err(|e| CeleryError::InvalidOption {
            name: "queue".into(),
            reason: format!("declaring queue {queue} failed: {e}"),
        })?;
        let consumer = channel
            .basic_consume(queue.as_str().into(), "".into(), BasicConsumeOptions::default(), FieldTable::default())
            .await
            .map_err(unreachable)?;
        consumer_tags.push(consumer.tag().to_string());
        streams.push(consumer);
    }
    let control = listen_for_control(&channel, &settings.node_name).await.map_err(unreachable)?;
    consumer_tags.push(control.tag().to_string());
    streams.push(control);
    Ok((Session { connection: Arc::new(connection), channel, generation, consumer_tags }, streams))
}

/// The worker's remote-control queue, as a Celery worker declares it (spec §6.1): bound to the
/// `celery.pidbox` fanout exchange, auto-delete, expiring, consumed without acks.
async fn listen_for_control(channel: &Channel, node_name: &str) -> lapin::Result<lapin::Consumer> {
    let queue = format!("{node_name}.{PIDBOX_EXCHANGE}");
    let exchange = ExchangeDeclareOptions { durable: false, ..ExchangeDeclareOptions::default() };
    channel.exchange_declare(PIDBOX_EXCHANGE.into(), ExchangeKind::Fanout, exchange, FieldTable::default()).await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-expires".into(), AMQPValue::LongInt(10_000));
    arguments.insert("x-message-ttl".into(), AMQPValue::LongInt(300_000));
    let options = QueueDeclareOptions { auto_delete: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(queue.as_str().into(), options, arguments).await?;
    channel
        .queue_bind(
            queue.as_str().into(),
            PIDBOX_EXCHANGE.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let options = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
    channel.basic_consume(queue.as_str().into(), CONTROL_CONSUMER_TAG.into(), options, FieldTable::default()).await
}

struct Runner {
    target: AmqpTarget,
    topology: Topology,
    settings: ConsumeSettings,
    inner: Arc<Inner>,
    deliveries: mpsc::UnboundedSender<Delivery>,
    control: mpsc::UnboundedSender<Vec<u8>>,
    stop: watch::Receiver<bool>,
}

impl Runner {
    async fn run(mut self, mut streams: Streams) {
        let mut generation = 1;
        loop {
            loop {
                let next = tokio::select! {
                    next = streams.next() => next,
                    _ = self.stop.changed() => return,
                };
                match next {
                    Some(Ok(delivery)) if delivery.exchange.as_str() == PIDBOX_EXCHANGE => {
                        let _ = self.control.send(delivery.data);
                    }
                    Some(Ok(delivery)) => self.forward(delivery, generation),
                    _ => break, // the connection or channel is gone
                }
            }
            let mut delay = Duration::from_millis(100);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = self.stop.changed() => return,
                }
                generation += 1;
                match open(&self.target, &self.topology, &self.settings, generation).await {
                    Ok((session, fresh)) => {
                        *self.inner.session.lock().unwrap() = Some(session);
                        // What the lost connection held comes again; the window starts afresh.
                        self.inner.held.lock().unwrap().clear();
                        streams = fresh;
                        break;
                    }
                    Err(_) => delay = (delay * 2).min(Duration::from_secs(5)),
                }
            }
        }
    }

    fn forward(&self, delivery: lapin::message::Delivery, generation: u64) {
        let properties = &delivery.properties;
        let text = |value: &Option<lapin::types::ShortString>| value.as_ref().map(|v| v.to_string());
        let message = RawMessage {
            headers: properties.headers().as_ref().map(json_from_table).unwrap_or_default(),
            content_type: text(properties.content_type()).unwrap_or_default(),
            content_encoding: text(properties.content_encoding()).unwrap_or_default(),
            correlation_id: text(properties.correlation_id()),
            reply_to: text(properties.reply_to()),
            priority: *properties.priority(),
            body_encoding: None,
            body: delivery.data,
        };
        let queue = delivery.routing_key.to_string();
        let _ = self.deliveries.send(Delivery {
            tag: DeliveryTag::Amqp { generation, tag: delivery.delivery_tag },
            message: Ok(message),
            queue,
            redelivered: delivery.redelivered,
        });
    }
}

/// AMQP headers as the JSON a Celery worker sees after py-amqp decodes them.
fn json_from_table(table: &FieldTable) -> Map<String, Value> {
    table.inner().iter().map(|(key, value)| (key.to_string(), json_from_amqp(value))).collect()
}

fn json_from_amqp(value: &AMQPValue) -> Value {
    match value {
        AMQPValue::Boolean(b) => Value::Bool(*b),
        AMQPValue::ShortShortInt(n) => (*n).into(),
        AMQPValue::ShortShortUInt(n) => (*n).into(),
        AMQPValue::ShortInt(n) => (*n).into(),
        AMQPValue::ShortUInt(n) => (*n).into(),
        AMQPValue::LongInt(n) => (*n).into(),
        AMQPValue::LongUInt(n) => (*n).into(),
        AMQPValue::LongLongInt(n) => (*n).into(),
        AMQPValue::Float(f) => serde_json::Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number),
        AMQPValue::Double(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AMQPValue::DecimalValue(d) => {
            let value = f64::from(d.value) / 10f64.powi(i32::from(d.scale));
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
        }
        AMQPValue::ShortString(s) => Value::from(s.as_str()),
        AMQPValue::LongString(s) => Value::from(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::FieldArray(items) => Value::Array(items.as_slice().iter().map(json_from_amqp).collect()),
        AMQPValue::Timestamp(t) => (*t).into(),
        AMQPValue::FieldTable(table) => Value::Object(json_from_table(table)),
        AMQPValue::ByteArray(bytes) => Value::from(String::from_utf8_lossy(bytes.as_slice()).into_owned()),
        AMQPValue::Void => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::amqp::field_table;
    use serde_json::json;

    #[test]
    fn headers_read_back_as_the_json_they_were_written_from() {
        let headers =
            json!({"task": "t", "retries": 2, "timelimit": [null, 1.5], "stamps": {}, "ignore_result": false});
        let table = field_table(headers.as_object().unwrap());
        assert_eq!(Value::Object(json_from_table(&table)), headers);
    }
}
