//! Celery's RPC result backend (`rpc://`, spec §5.5): workers publish every state change of a task
//! to the client's reply queue (named by the client's oid, the `reply_to` of its messages), with
//! the task id as `correlation_id`. One consumer per client reads them all and dispatches by id.
//!
//! Results are messages, consumed once: the latest state of each task is kept in a bounded map,
//! so `status()` and `get()` can be asked after the reply arrived, as Python's client buffers.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::BasicConsumeOptions;
use lapin::types::FieldTable;
use tokio::sync::{mpsc, oneshot};

use super::ready_queue::{Ready, ReadyQueue};
use super::WaitOutcome;
use crate::amqp_connection::{declare_reply_queue, AmqpTarget};
use crate::error::{CeleryError, Result};
use crate::protocol::ResultMeta;

/// Task states kept for tasks nobody has asked about yet.
const MAX_BUFFERED_TASKS: usize = 10_000;

pub struct RpcBackend {
    target: AmqpTarget,
    reply_to: ReplyQueue,
    state: Arc<Mutex<RpcState>>,
    /// Started on first use and kept running (reconnecting) until `close`.
    consumer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    closed: Arc<AtomicBool>,
    /// Ready states of the tasks registered with [`Self::register_ready`], in arrival order.
    pub(super) ready: ReadyQueue,
}

struct RpcState {
    latest: HashMap<String, ResultMeta>,
    order: VecDeque<String>,
    next_waiter_id: u64,
    waiters: HashMap<String, Vec<(u64, oneshot::Sender<ResultMeta>)>>,
    watchers: HashMap<String, Vec<(u64, mpsc::UnboundedSender<ResultMeta>)>>,
    /// Tasks of batch waiters: their ready state goes to `ready`.
    queued: HashSet<String>,
    ready: mpsc::UnboundedSender<Ready>,
}

impl RpcState {
    fn new(ready: mpsc::UnboundedSender<Ready>) -> Self {
        Self {
            latest: HashMap::new(),
            order: VecDeque::new(),
            next_waiter_id: 0,
            waiters: HashMap::new(),
            watchers: HashMap::new(),
            queued: HashSet::new(),
            ready,
        }
    }

    fn record(&mut self, task_id: String, meta: ResultMeta) {
        if let Some(watchers) = self.watchers.get_mut(&task_id) {
            let ready = meta.is_ready();
            watchers.retain(|(_, tx)| tx.send(meta.clone()).is_ok() && !ready);
            if watchers.is_empty() {
                self.watchers.remove(&task_id);
            }
        }
        if meta.is_ready() {
            for (_, waiter) in self.waiters.remove(&task_id).unwrap_or_default() {
                let _ = waiter.send(meta.clone());
            }
            if self.queued.remove(&task_id) {
                let _ = self.ready.send((task_id.clone(), meta.clone()));
            }
        }
        if self.latest.insert(task_id.clone(), meta).is_none() {
            self.order.push_back(task_id);
            while self.order.len() > MAX_BUFFERED_TASKS {
                if let Some(oldest) = self.order.pop_front() {
                    self.latest.remove(&oldest);
                }
            }
        }
    }
}

impl RpcBackend {
    pub fn new(target: AmqpTarget, reply_to: String, expires_ms: u64) -> Self {
        let (ready_sender, ready) = ReadyQueue::channel();
        Self {
            target,
            reply_to: ReplyQueue { name: reply_to, expires_ms },
            state: Arc::new(Mutex::new(RpcState::new(ready_sender))),
            consumer: tokio::sync::Mutex::new(None),
            closed: Arc::new(AtomicBool::new(false)),
            ready,
        }
    }

    /// Declares the reply queue and starts the consumer (once); resolves when it consumes.
    pub async fn ready(&self) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(CeleryError::Disconnected);
        }
        let mut consumer = self.consumer.lock().await;
        if consumer.as_ref().is_some_and(|task| !task.is_finished()) {
            return Ok(());
        }
        let deliveries = consume(&self.target, &self.reply_to).await?;
        let task = tokio::spawn(run_consumer(
            deliveries,
            self.target.clone(),
            self.reply_to.clone(),
            self.state.clone(),
            self.closed.clone(),
        ));
        *consumer = Some(task);
        Ok(())
    }

    /// The latest state received for the task, or `None` (nothing received: PENDING).
    pub async fn get_task_meta(&self, task_id: &str) -> Result<Option<String>> {
        self.ready().await?;
        Ok(self.state.lock().unwrap().latest.get(task_id).map(|meta| meta.json.clone()))
    }

    pub async fn wait_for_ready(&self, task_id: &str, timeout: Option<Duration>) -> Result<WaitOutcome> {
        self.ready().await?;
        let (waiter_id, notified) = {
            let mut state = self.state.lock().unwrap();
            if let Some(meta) = state.latest.get(task_id).filter(|meta| meta.is_ready()) {
                return Ok(WaitOutcome::Ready(meta.clone()));
            }
            let (tx, rx) = oneshot::channel();
            state.next_waiter_id += 1;
            let id = state.next_waiter_id;
            state.waiters.entry(task_id.to_string()).or_default().push((id, tx));
            (id, rx)
        };
        let wait = async { notified.await.map(WaitOutcome::Ready).unwrap_or(WaitOutcome::Cancelled) };
        let outcome = match timeout {
            Some(limit) => tokio::time::timeout(limit, wait).await.unwrap_or(WaitOutcome::TimedOut),
            None => wait.await,
        };
        let mut state = self.state.lock().unwrap();
        if let Some(waiters) = state.waiters.get_mut(task_id) {
            waiters.retain(|(id, _)| *id != waiter_id);
            if waiters.is_empty() {
                state.waiters.remove(task_id);
            }
        }
        Ok(outcome)
    }

    /// Many `get()`s at once, without a future each: each task's ready state, once it arrives,
    /// is queued on `ready`. With `read`, answers the ready states already
    /// received (those tasks are not registered); otherwise the caller reads them itself.
    pub async fn register_ready(&self, task_ids: Vec<String>, read: bool) -> Result<Option<Vec<Option<String>>>> {
        self.ready().await?;
        let mut state = self.state.lock().unwrap();
        let mut received = Vec::with_capacity(if read { task_ids.len() } else { 0 });
        for task_id in task_ids {
            let ready = state.latest.get(&task_id).filter(|meta| read && meta.is_ready()).map(|meta| meta.json.clone());
            if ready.is_none() {
                state.queued.insert(task_id);
            }
            if read {
                received.push(ready);
            }
        }
        Ok(read.then_some(received))
    }

    /// Stops queueing the ready states of these tasks (their waiters gave up).
    pub fn cancel_ready(&self, task_ids: &[String]) {
        let mut state = self.state.lock().unwrap();
        for task_id in task_ids {
            state.queued.remove(task_id);
        }
    }

    /// Drops the buffered state (Python's `forget()` on the RPC backend).
    pub fn forget(&self, task_id: &str) {
        let mut state = self.state.lock().unwrap();
        state.latest.remove(task_id);
        state.order.retain(|id| id != task_id);
    }

    /// Every state of the task from now on, starting with the latest one received.
    pub async fn watch(&self, task_id: &str) -> Result<(u64, mpsc::UnboundedReceiver<ResultMeta>)> {
        self.ready().await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state.lock().unwrap();
        if let Some(latest) = state.latest.get(task_id) {
            let _ = tx.send(latest.clone());
            if latest.is_ready() {
                return Ok((0, rx));
            }
        }
        state.next_waiter_id += 1;
        let id = state.next_waiter_id;
        state.watchers.entry(task_id.to_string()).or_default().push((id, tx));
        Ok((id, rx))
    }

    pub fn unwatch(&self, task_id: &str, watch_id: u64) {
        let mut state = self.state.lock().unwrap();
        if let Some(watchers) = state.watchers.get_mut(task_id) {
            watchers.retain(|(id, _)| *id != watch_id);
        }
    }

    /// Ends every wait and watch of this task (its publish failed).
    pub fn cancel(&self, task_id: &str) {
        let mut state = self.state.lock().unwrap();
        state.waiters.remove(task_id);
        state.watchers.remove(task_id);
    }

    /// Stops consuming; the reply queue stays (it expires by itself, as Python's does).
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        {
            let mut state = self.state.lock().unwrap();
            state.waiters.clear();
            state.watchers.clear();
            state.queued.clear();
        }
        self.ready.wake();
        if let Some(task) = self.consumer.lock().await.take() {
            task.abort();
        }
    }
}

type Deliveries = (lapin::Connection, lapin::Consumer);

/// The client's reply queue: its name (the oid) and its `x-expires`.
#[derive(Debug, Clone)]
struct ReplyQueue {
    name: String,
    expires_ms: u64,
}

async fn consume(target: &AmqpTarget, reply_to: &ReplyQueue) -> Result<Deliveries> {
    let connection = target.connect().await?;
    let failed =
        |e: lapin::Error| CeleryError::BackendUnreachable { url: target.display_url.clone(), reason: e.to_string() };
    let channel = connection.create_channel().await.map_err(failed)?;
    declare_reply_queue(&channel, &reply_to.name, reply_to.expires_ms).await.map_err(failed)?;
    let options = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
    let consumer = channel
        .basic_consume(reply_to.name.as_str().into(), "".into(), options, FieldTable::default())
        .await
        .map_err(failed)?;
    Ok((connection, consumer))
}

/// Dispatches replies by correlation id; when the connection drops, reconnects with backoff,
/// declares the reply queue again and consumes. The queue is auto-delete, as Celery declares it,
/// so RabbitMQ drops it with its last consumer: replies published while no consumer exists are
/// lost, exactly as for a Python client (waiters then end at their timeout).
async fn run_consumer(
    mut deliveries: Deliveries,
    target: AmqpTarget,
    reply_to: ReplyQueue,
    state: Arc<Mutex<RpcState>>,
    closed: Arc<AtomicBool>,
) {
    loop {
        while let Some(Ok(delivery)) = deliveries.1.next().await {
            let Ok(meta) = ResultMeta::parse(&delivery.data) else { continue };
            let task_id = delivery.properties.correlation_id().as_ref().map(|id| id.to_string()).or_else(|| {
                serde_json::from_str::<serde_json::Value>(&meta.json).ok()?.get("task_id")?.as_str().map(String::from)
            });
            if let Some(task_id) = task_id {
                state.lock().unwrap().record(task_id, meta);
            }
        }
        let mut delay = Duration::from_millis(100);
        loop {
            if closed.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(delay).await;
            match consume(&target, &reply_to).await {
                Ok(fresh) => {
                    deliveries = fresh;
                    break;
                }
                Err(_) => delay = (delay * 2).min(Duration::from_secs(5)),
            }
        }
    }
}
