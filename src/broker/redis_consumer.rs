//! The kombu Redis transport, consuming side (spec §3.4, §3.6): `BRPOP` over every queue's
//! priority lists in kombu's order, and kombu's ack emulation: each delivered message waits in
//! the `unacked` hash (indexed by time in `unacked_index`) until it is acked, and any consumer
//! puts back messages older than the visibility timeout, so a worker that dies does not lose
//! what it held. Key names and formats are kombu's, so Python workers and ours restore each
//! other's messages.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use redis::aio::ConnectionManager;
use redis::PushKind;
use serde_json::Value;
use tokio::sync::{mpsc, watch, Semaphore};

use super::redis::BindingTable;
use super::{ConsumeSettings, Consumer, Delivery, DeliveryTag};
use crate::error::{CeleryError, Result};
use crate::protocol::control::{fanout_channel, PIDBOX_EXCHANGE};
use crate::protocol::incoming::RawMessage;
use crate::protocol::{RedisEnvelope, RedisKeyLayout};
use crate::redis_connection::RedisTarget;

/// kombu's `brpop_timeout`: how long one BRPOP blocks, so a stop is noticed within it.
const BRPOP_TIMEOUT_SECS: u64 = 1;
/// How long the restore lock is held at most (kombu's `unacked_mutex_expire`).
const RESTORE_LOCK_SECS: u64 = 300;

pub struct RedisConsumer {
    target: RedisTarget,
    layout: RedisKeyLayout,
    inner: Arc<Inner>,
}

struct Inner {
    /// Acks, bookkeeping and restores; BRPOP blocks its own connection.
    ops: tokio::sync::OnceCell<ConnectionManager>,
    /// The messages we hold, by tag: (list key it came from, envelope text).
    held: Mutex<HashMap<String, (String, String)>>,
    /// Tags that count against the prefetch window.
    counted: Mutex<HashSet<String>>,
    /// Prefetch credits; `None` is unlimited.
    window: Mutex<Option<Arc<Semaphore>>>,
    stop: watch::Sender<bool>,
    popper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The remote-control subscription.
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    keys: UnackedKeys,
}

struct UnackedKeys {
    hash: String,
    index: String,
    mutex: String,
}

impl RedisConsumer {
    pub fn new(target: RedisTarget, layout: RedisKeyLayout) -> Self {
        let prefix = &layout.global_keyprefix;
        let keys = UnackedKeys {
            hash: format!("{prefix}unacked"),
            index: format!("{prefix}unacked_index"),
            mutex: format!("{prefix}unacked_mutex"),
        };
        let inner = Arc::new(Inner {
            ops: tokio::sync::OnceCell::new(),
            held: Mutex::default(),
            counted: Mutex::default(),
            window: Mutex::default(),
            stop: watch::channel(false).0,
            popper: Mutex::default(),
            listener: Mutex::default(),
            keys,
        });
        Self { target, layout, inner }
    }

    async fn ops(&self) -> Result<ConnectionManager> {
        self.inner
            .ops
            .get_or_try_init(|| async { self.target.connect(None).await.map_err(|e| self.unreachable(e)) })
            .await
            .cloned()
    }

    /// Broadcasts arrive on the pidbox fanout channel (kombu's `/<db>.celery.pidbox`, spec §3.5)
    /// as envelopes; their bodies go to `control`. The manager subscribes again after a
    /// reconnect; broadcasts sent while it is away are missed, as they are by Python workers.
    async fn listen_for_control(&self, control: mpsc::UnboundedSender<Vec<u8>>) -> Result<()> {
        let (pushes_tx, mut pushes) = mpsc::unbounded_channel();
        let mut listener = self.target.connect(Some(pushes_tx)).await.map_err(|e| self.unreachable(e))?;
        let channel = format!("{}{}", self.layout.global_keyprefix, fanout_channel(self.target.db(), PIDBOX_EXCHANGE));
        listener.subscribe(&channel).await.map_err(|e| self.unreachable(e))?;
        let task = tokio::spawn(async move {
            let _subscribed = listener;
            while let Some(push) = pushes.recv().await {
                if push.kind != PushKind::Message {
                    continue;
                }
                let Some(Ok(payload)) = push.data.get(1).map(redis::from_redis_value_ref::<String>) else { continue };
                if let Some(body) = RedisEnvelope::parse(&payload).ok().and_then(|e| e.body_bytes().ok()) {
                    let _ = control.send(body);
                }
            }
        });
        *self.inner.listener.lock().unwrap() = Some(task);
        Ok(())
    }

    fn unreachable(&self, error: redis::RedisError) -> CeleryError {
        CeleryError::BrokerUnreachable { url: self.target.display_url.clone(), reason: error.to_string() }
    }
}

impl Consumer for RedisConsumer {
    fn start(
        &self,
        settings: ConsumeSettings,
        deliveries: mpsc::UnboundedSender<Delivery>,
        control: mpsc::UnboundedSender<Vec<u8>>,
    ) -> BoxFuture<'_, Result<()>> {
        async move {
            let mut ops = self.ops().await?;
            let pop = self.target.connect(None).await.map_err(|e| self.unreachable(e))?;
            self.listen_for_control(control).await?;
            restore_visible(&mut ops, &self.inner, &self.layout, settings.visibility_timeout).await;
            let window = (settings.prefetch > 0).then(|| Arc::new(Semaphore::new(settings.prefetch as usize)));
            *self.inner.window.lock().unwrap() = window.clone();
            let popper = Popper {
                pop,
                ops,
                inner: self.inner.clone(),
                layout: self.layout.clone(),
                keys: pop_order(&self.layout, &settings.queues),
                window,
                visibility_timeout: settings.visibility_timeout,
                deliveries,
            };
            *self.inner.popper.lock().unwrap() = Some(tokio::spawn(popper.run()));
            Ok(())
        }
        .boxed()
    }

    fn ack(&self, tag: DeliveryTag) -> BoxFuture<'_, Result<()>> {
        async move {
            let DeliveryTag::Redis(tag) = tag else { return Ok(()) };
            self.inner.uncount(&tag);
            self.inner.held.lock().unwrap().remove(&tag);
            let mut ops = self.ops().await?;
            forget_unacked(&mut ops, &self.inner.keys, &tag).await.map_err(|e| self.unreachable(e))
        }
        .boxed()
    }

    fn requeue(&self, tag: DeliveryTag) -> BoxFuture<'_, Result<()>> {
        async move {
            let DeliveryTag::Redis(tag) = tag else { return Ok(()) };
            self.inner.uncount(&tag);
            let Some((key, envelope)) = self.inner.held.lock().unwrap().remove(&tag) else { return Ok(()) };
            let mut ops = self.ops().await?;
            let mut pipe = redis::pipe();
            pipe.rpush(&key, envelope).ignore();
            pipe.zrem(&self.inner.keys.index, &tag).ignore();
            pipe.hdel(&self.inner.keys.hash, &tag).ignore();
            pipe.query_async::<()>(&mut ops).await.map_err(|e| self.unreachable(e))
        }
        .boxed()
    }

    fn stop_consuming(&self) -> BoxFuture<'_, ()> {
        async move {
            self.inner.stop.send_replace(true);
            let popper = self.inner.popper.lock().unwrap().take();
            if let Some(popper) = popper {
                let _ = popper.await;
            }
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            self.stop_consuming().await;
            if let Some(listener) = self.inner.listener.lock().unwrap().take() {
                listener.abort();
            }
        }
        .boxed()
    }

    fn hold(&self, tag: &DeliveryTag) {
        if let DeliveryTag::Redis(tag) = tag {
            self.inner.uncount(tag);
        }
    }
}

impl Inner {
    fn uncount(&self, tag: &str) {
        if self.counted.lock().unwrap().remove(tag) {
            if let Some(window) = self.window.lock().unwrap().as_ref() {
                window.add_permits(1);
            }
        }
    }
}

/// kombu's BRPOP key order: every queue's bucket 0 first, then bucket 3 of every queue, and so on.
fn pop_order(layout: &RedisKeyLayout, queues: &[String]) -> Vec<String> {
    let mut steps = layout.priority_steps.clone();
    steps.sort_unstable();
    steps.dedup();
    steps.iter().flat_map(|step| queues.iter().map(move |queue| layout.queue_key(queue, *step))).collect()
}

struct Popper {
    pop: ConnectionManager,
    ops: ConnectionManager,
    inner: Arc<Inner>,
    layout: RedisKeyLayout,
    keys: Vec<String>,
    window: Option<Arc<Semaphore>>,
    visibility_timeout: Duration,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

impl Popper {
    async fn run(mut self) {
        let mut stop = self.inner.stop.subscribe();
        let restore_every = (self.visibility_timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut last_restore = Instant::now();
        loop {
            if *stop.borrow() {
                return;
            }
            if let Some(window) = &self.window {
                tokio::select! {
                    permit = window.acquire() => match permit {
                        Ok(permit) => permit.forget(),
                        Err(_) => return,
                    },
                    _ = stop.changed() => return,
                }
            }
            let popped: redis::RedisResult<Option<(String, String)>> =
                redis::cmd("BRPOP").arg(&self.keys).arg(BRPOP_TIMEOUT_SECS).query_async(&mut self.pop).await;
            match popped {
                Ok(Some((key, envelope))) => {
                    if *stop.borrow() {
                        // Stopped while waiting: the message goes back to the head, untouched.
                        let _ = redis::cmd("RPUSH").arg(&key).arg(&envelope).query_async::<()>(&mut self.ops).await;
                        self.give_back_credit();
                        return;
                    }
                    self.deliver(key, envelope).await;
                }
                Ok(None) => self.give_back_credit(),
                Err(_) => {
                    self.give_back_credit();
                    // The manager reconnects on the next command; do not spin while it cannot.
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
            if last_restore.elapsed() >= restore_every {
                restore_visible(&mut self.ops, &self.inner, &self.layout, self.visibility_timeout).await;
                last_restore = Instant::now();
            }
        }
    }

    fn give_back_credit(&self) {
        if let Some(window) = &self.window {
            window.add_permits(1);
        }
    }

    /// Records the message as unacked (kombu's `QoS.append`), then hands it out.
    async fn deliver(&mut self, key: String, envelope_text: String) {
        let queue = queue_of_key(&self.layout, &key);
        let Ok(envelope) = RedisEnvelope::parse(&envelope_text) else {
            // Unreadable: nothing to restore it as; it is reported and dropped.
            let tag = uuid::Uuid::new_v4().to_string();
            self.give_back_credit();
            let _ = self.deliveries.send(Delivery {
                tag: DeliveryTag::Redis(tag),
                message: Err("the message is not a kombu envelope (not JSON)".into()),
                queue,
                redelivered: false,
            });
            return;
        };
        let property = |k: &str| envelope.properties.get(k).and_then(Value::as_str).map(String::from);
        let tag = property("delivery_tag").unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let delivery_info = envelope.properties.get("delivery_info");
        let exchange = delivery_info.and_then(|i| i.get("exchange")).and_then(Value::as_str).unwrap_or("");
        let routing_key = delivery_info.and_then(|i| i.get("routing_key")).and_then(Value::as_str).unwrap_or(&queue);
        let record = format!("[{envelope_text}, {}, {}]", Value::from(exchange), Value::from(routing_key));
        let mut pipe = redis::pipe();
        pipe.zadd(&self.inner.keys.index, &tag, unix_now()).ignore();
        pipe.hset(&self.inner.keys.hash, &tag, record).ignore();
        if pipe.query_async::<()>(&mut self.ops).await.is_err() {
            // Without the record a crash would lose it; put it back and try again later.
            let _ = redis::cmd("RPUSH").arg(&key).arg(&envelope_text).query_async::<()>(&mut self.ops).await;
            self.give_back_credit();
            return;
        }
        let redelivered = envelope.headers.get("redelivered").and_then(Value::as_bool).unwrap_or(false);
        self.inner.held.lock().unwrap().insert(tag.clone(), (key, envelope_text));
        if self.window.is_some() {
            self.inner.counted.lock().unwrap().insert(tag.clone());
        }
        let message = Ok(RawMessage::from_envelope(envelope));
        let _ = self.deliveries.send(Delivery { tag: DeliveryTag::Redis(tag), message, queue, redelivered });
    }
}

/// `celery\x06\x163` → `celery` (kombu's `rsplit(sep, 1)` of a priority key).
fn queue_of_key(layout: &RedisKeyLayout, key: &str) -> String {
    let key = key.strip_prefix(layout.global_keyprefix.as_str()).unwrap_or(key);
    match key.rsplit_once(layout.separator.as_str()) {
        Some((queue, bucket)) if bucket.parse::<u8>().is_ok() => queue.to_string(),
        _ => key.to_string(),
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

async fn forget_unacked(ops: &mut ConnectionManager, keys: &UnackedKeys, tag: &str) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.zrem(&keys.index, tag).ignore();
    pipe.hdel(&keys.hash, tag).ignore();
    pipe.query_async(ops).await
}

/// kombu's `restore_visible`: under the `unacked_mutex` lock, every unacked message older than
/// the visibility timeout goes back to the head of its queue, flagged `redelivered`. Messages
/// this consumer still holds are alive and stay. Failures are left for the next round.
async fn restore_visible(ops: &mut ConnectionManager, inner: &Inner, layout: &RedisKeyLayout, timeout: Duration) {
    let token = uuid::Uuid::new_v4().to_string();
    let locked: redis::RedisResult<Option<String>> = redis::cmd("SET")
        .arg(&inner.keys.mutex)
        .arg(&token)
        .arg("NX")
        .arg("EX")
        .arg(RESTORE_LOCK_SECS)
        .query_async(ops)
        .await;
    if !matches!(locked, Ok(Some(_))) {
        return;
    }
    let ceiling = unix_now() - timeout.as_secs_f64();
    let tags: Vec<String> = redis::cmd("ZRANGEBYSCORE")
        .arg(&inner.keys.index)
        .arg("-inf")
        .arg(ceiling)
        .query_async(ops)
        .await
        .unwrap_or_default();
    for tag in tags {
        if inner.held.lock().unwrap().contains_key(&tag) {
            continue;
        }
        let record: Option<String> =
            redis::cmd("HGET").arg(&inner.keys.hash).arg(&tag).query_async(ops).await.unwrap_or(None);
        if let Some(record) = record {
            if restore_one(ops, layout, &record).await.is_err() {
                continue;
            }
        }
        let _ = forget_unacked(ops, &inner.keys, &tag).await;
    }
    let holder: Option<String> = redis::cmd("GET").arg(&inner.keys.mutex).query_async(ops).await.unwrap_or(None);
    if holder.as_deref() == Some(token.as_str()) {
        let _ = redis::cmd("DEL").arg(&inner.keys.mutex).query_async::<()>(ops).await;
    }
}

/// Puts one `[envelope, exchange, routing_key]` record back where the exchange routes it.
async fn restore_one(ops: &mut ConnectionManager, layout: &RedisKeyLayout, record: &str) -> redis::RedisResult<()> {
    let Ok(Value::Array(mut parts)) = serde_json::from_str::<Value>(record) else { return Ok(()) };
    if parts.len() != 3 {
        return Ok(());
    }
    let routing_key = parts[2].as_str().unwrap_or_default().to_string();
    let exchange = parts[1].as_str().unwrap_or_default().to_string();
    let envelope = &mut parts[0];
    if let Some(headers) = envelope.get_mut("headers").and_then(Value::as_object_mut) {
        headers.insert("redelivered".into(), Value::Bool(true));
    }
    if let Some(info) = envelope.pointer_mut("/properties/delivery_info").and_then(Value::as_object_mut) {
        info.insert("redelivered".into(), Value::Bool(true));
    }
    let priority = envelope.pointer("/properties/priority").and_then(Value::as_u64).unwrap_or(0).min(9) as u8;
    let queues = if exchange.is_empty() {
        vec![routing_key]
    } else {
        let members: Vec<String> = redis::cmd("SMEMBERS").arg(layout.binding(&exchange).0).query_async(ops).await?;
        BindingTable::parse(&members, layout).queues_for(&routing_key)
    };
    let text = envelope.to_string();
    let mut pipe = redis::pipe();
    for queue in queues {
        pipe.rpush(layout.queue_key(&queue, priority), &text).ignore();
    }
    pipe.query_async(ops).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_kombus_order_and_names_the_queue_of_a_priority_list() {
        let layout = RedisKeyLayout::default();
        let order = pop_order(&layout, &["a".into(), "b".into()]);
        assert_eq!(
            order,
            ["a", "b", "a\x06\x163", "b\x06\x163", "a\x06\x166", "b\x06\x166", "a\x06\x169", "b\x06\x169"]
        );
        assert_eq!(queue_of_key(&layout, "a\x06\x166"), "a");
        assert_eq!(queue_of_key(&layout, "plain"), "plain");
    }
}
