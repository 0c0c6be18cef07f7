//! The worker: consumes task messages, decides when each may run (revoked, expired, ETA, the
//! concurrency limit), hands runnable tasks to the JS handlers as jobs, and, when a job
//! finishes, stores its state as a Celery worker does (spec §5.2–§5.5), sends what follows it
//! (link callbacks, errbacks, the rest of a chain, a retry) and acknowledges the message.
//! Knows nothing of JS: jobs and log lines go out on the event channel.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};

use crate::backend::redis::{ChordMember, ChordPart};
use crate::backend::ResultBackend;
use crate::broker::{
    Broker, ConsumeSettings, Consumer, Delivery, DeliveryTag, Destination, Publication, PublishOutcome,
};
use crate::error::{CeleryError, Result};
use crate::protocol::canvas::plan_followup;
use crate::protocol::control::{parse_command, ControlCommand};
use crate::protocol::incoming::{decode_task, IncomingTask};
use crate::protocol::result_meta::{exception_json, StoredMeta};
use crate::protocol::task_message::MessageProperties;
use crate::protocol::{encode_task, Expiry, Producer, ProtocolVersion, TaskMessage, TaskOptions, TaskRequest};

/// Celery's `default_retry_delay`: a retry without a countdown runs three minutes later.
const DEFAULT_RETRY_DELAY: f64 = 180.0;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub queues: Vec<String>,
    /// Handlers running at once; 0 is unlimited (celery-node's behaviour).
    pub concurrency: u32,
    /// Messages held unacknowledged at once; 0 is unlimited.
    pub prefetch: u32,
    /// Acknowledge after the task finished instead of when it starts.
    pub acks_late: bool,
    /// Store STARTED when a task starts (`task_track_started`).
    pub track_started: bool,
    pub visibility_timeout: Duration,
    /// How long stored results live (`result_expires`).
    pub result_expires: Duration,
    /// The node name in STARTED metas and logs, `celery@<host>` style.
    pub hostname: String,
}

/// What the worker tells its host.
// Jobs dominate the traffic; boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum WorkerEvent {
    Run(Job),
    /// A running job was revoked with `terminate`: its result will be ignored.
    Terminated(u64),
    Log {
        level: &'static str,
        message: String,
    },
}

/// A task that may run now.
#[derive(Debug, Clone)]
pub struct Job {
    pub job_id: u64,
    pub task: IncomingTask,
    pub queue: String,
    pub redelivered: bool,
}

/// An exception as Celery stores it: `exc_type`, one message argument, `exc_module`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskException {
    pub exc_type: String,
    pub message: String,
    pub module: String,
    pub traceback: Option<String>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Success {
        result_json: String,
    },
    Failure(TaskException),
    /// Run again after `countdown` seconds, with `retries + 1` (Celery's `Task.retry`).
    Retry {
        exception: TaskException,
        countdown: Option<f64>,
    },
}

struct Running {
    job: Job,
    tag: DeliveryTag,
    acked: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

pub struct Worker {
    shared: Arc<Shared>,
}

struct Shared {
    consumer: Arc<dyn Consumer>,
    publisher: Arc<dyn Broker>,
    backend: Arc<ResultBackend>,
    producer: Producer,
    settings: WorkerSettings,
    events: Mutex<Option<mpsc::UnboundedSender<WorkerEvent>>>,
    concurrency: Option<Arc<Semaphore>>,
    running: Mutex<HashMap<u64, Running>>,
    revoked: Mutex<HashSet<String>>,
    next_job: AtomicU64,
    next_seq: AtomicU64,
    publishes: Mutex<HashMap<u64, oneshot::Sender<Option<CeleryError>>>>,
    /// Becomes true when stopping: tasks that have not started go back to the broker.
    stopping: watch::Sender<bool>,
    /// Told whenever the last running job ends.
    idle: tokio::sync::Notify,
    /// Finishing work (stores, follow-ups, acks) still in flight.
    finishing: Mutex<tokio::task::JoinSet<()>>,
    /// Tasks waiting for their ETA or a concurrency slot.
    waiting: Mutex<tokio::task::JoinSet<()>>,
}

impl Worker {
    /// `outcomes` is the receiving end of the channel `publisher` reports to.
    pub fn new(
        consumer: Arc<dyn Consumer>,
        publisher: Arc<dyn Broker>,
        mut outcomes: mpsc::UnboundedReceiver<PublishOutcome>,
        backend: Arc<ResultBackend>,
        producer: Producer,
        settings: WorkerSettings,
        events: mpsc::UnboundedSender<WorkerEvent>,
    ) -> Self {
        let concurrency = (settings.concurrency > 0).then(|| Arc::new(Semaphore::new(settings.concurrency as usize)));
        let shared = Arc::new(Shared {
            consumer,
            publisher,
            backend,
            producer,
            settings,
            events: Mutex::new(Some(events)),
            concurrency,
            running: Mutex::default(),
            revoked: Mutex::default(),
            next_job: AtomicU64::new(1),
            next_seq: AtomicU64::new(1),
            publishes: Mutex::default(),
            stopping: watch::channel(false).0,
            idle: Default::default(),
            finishing: Default::default(),
            waiting: Default::default(),
        });
        let weak = Arc::downgrade(&shared);
        tokio::spawn(async move {
            while let Some(outcome) = outcomes.recv().await {
                let Some(shared) = weak.upgrade() else { return };
                let mut publishes = shared.publishes.lock().unwrap();
                for seq in outcome.seqs {
                    if let Some(waiter) = publishes.remove(&seq) {
                        let _ = waiter.send(outcome.error.clone());
                    }
                }
            }
        });
        Self { shared }
    }

    /// Connects and starts consuming; rejects when the broker cannot be reached.
    pub async fn start(&self) -> Result<()> {
        let (deliveries_tx, mut deliveries) = mpsc::unbounded_channel();
        let (control_tx, mut control) = mpsc::unbounded_channel();
        let settings = ConsumeSettings {
            queues: self.shared.settings.queues.clone(),
            prefetch: self.shared.settings.prefetch,
            visibility_timeout: self.shared.settings.visibility_timeout,
            node_name: self.shared.settings.hostname.clone(),
        };
        self.shared.consumer.start(settings, deliveries_tx, control_tx).await?;
        let shared = self.shared.clone();
        tokio::spawn(async move {
            while let Some(delivery) = deliveries.recv().await {
                shared.clone().receive(delivery).await;
            }
        });
        let shared = self.shared.clone();
        tokio::spawn(async move {
            while let Some(body) = control.recv().await {
                shared.control(&body).await;
            }
        });
        Ok(())
    }

    /// Ends a job: stores its state, sends what follows, acknowledges. A job already ended
    /// (by its time limit) is ignored.
    pub fn finish(&self, job_id: u64, outcome: Outcome) {
        let Some(running) = self.shared.take_running(|id, _| id == job_id).pop() else { return };
        let shared = self.shared.clone();
        spawn_tracked(&self.shared.finishing, async move { shared.complete(running, outcome).await });
    }

    /// Stores an intermediate state (`update_state`): PROGRESS or any custom state, with meta.
    pub async fn update_state(&self, job_id: u64, state: &str, meta_json: &str) -> Result<()> {
        let task = match self.shared.running.lock().unwrap().get(&job_id) {
            Some(running) => running.job.task.clone(),
            None => return Ok(()),
        };
        self.shared.store(&task, state, meta_json, None).await
    }

    /// Graceful stop: consume nothing more, give back what has not started, let running jobs
    /// finish until `deadline`, then store, send and acknowledge what they produced, and close.
    pub async fn stop(&self, deadline: Duration) {
        self.shared.consumer.stop_consuming().await;
        self.shared.stopping.send_replace(true);
        let mut waiting = std::mem::take(&mut *self.shared.waiting.lock().unwrap());
        while waiting.join_next().await.is_some() {}
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let idle = self.shared.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.shared.running.lock().unwrap().is_empty() {
                break;
            }
            tokio::select! {
                _ = idle => {}
                _ = tokio::time::sleep_until(until) => break,
            }
        }
        let abandoned: Vec<Running> = self.shared.running.lock().unwrap().drain().map(|(_, r)| r).collect();
        for running in abandoned {
            let task = &running.job.task;
            if running.acked {
                self.shared.log("warn", format!("Task {}[{}] did not finish before the stop deadline and is lost (acknowledged on start; acksLate keeps it)", task.name, task.id));
            } else {
                self.shared.log(
                    "warn",
                    format!(
                        "Task {}[{}] did not finish before the stop deadline; it goes back to the queue",
                        task.name, task.id
                    ),
                );
                let _ = self.shared.consumer.requeue(running.tag).await;
            }
        }
        let mut finishing = std::mem::take(&mut *self.shared.finishing.lock().unwrap());
        while finishing.join_next().await.is_some() {}
        self.shared.consumer.close().await;
        let _ = self.shared.publisher.close().await;
        self.shared.events.lock().unwrap().take();
    }
}

impl Shared {
    fn log(&self, level: &'static str, message: String) {
        self.emit(WorkerEvent::Log { level, message });
    }

    fn emit(&self, event: WorkerEvent) {
        if let Some(events) = self.events.lock().unwrap().as_ref() {
            let _ = events.send(event);
        }
    }

    async fn control(&self, body: &[u8]) {
        match parse_command(body, &self.settings.hostname) {
            Some(ControlCommand::Revoke { task_ids, terminate }) => self.revoke(&task_ids, terminate).await,
            Some(ControlCommand::Other(method)) => {
                self.log("debug", format!("remote control {method} is not supported"))
            }
            None => {}
        }
    }

    async fn revoke(&self, task_ids: &[String], terminate: bool) {
        self.revoked.lock().unwrap().extend(task_ids.iter().cloned());
        if !terminate {
            return;
        }
        for running in self.take_running(|_, running| task_ids.contains(&running.job.task.id)) {
            self.emit(WorkerEvent::Terminated(running.job.job_id));
            // Acknowledged when it started, unless acksLate: never twice.
            let tag = (!running.acked).then_some(running.tag);
            self.revoke_now(running.job.task, tag, "terminated").await;
        }
    }

    /// Takes the running jobs `pick` chooses out of `running`; wakes a waiting `stop()` when
    /// none is left.
    fn take_running(&self, pick: impl Fn(u64, &Running) -> bool) -> Vec<Running> {
        let mut jobs = self.running.lock().unwrap();
        let ids: Vec<u64> = jobs.iter().filter(|(id, r)| pick(**id, r)).map(|(id, _)| *id).collect();
        let taken: Vec<Running> = ids.into_iter().filter_map(|id| jobs.remove(&id)).collect();
        if !taken.is_empty() && jobs.is_empty() {
            self.idle.notify_waiters();
        }
        taken
    }

    async fn receive(self: Arc<Self>, delivery: Delivery) {
        let Delivery { tag, message, queue, redelivered } = delivery;
        if *self.stopping.borrow() {
            // Taken before the stop and not started: back to the broker.
            let _ = self.consumer.requeue(tag).await;
            return;
        }
        let raw = match message {
            Ok(raw) => raw,
            Err(reason) => {
                self.log("error", format!("queue {queue} item: {reason}"));
                let _ = self.consumer.ack(tag).await;
                return;
            }
        };
        let task = match decode_task(&raw) {
            Ok(task) => task,
            Err(failure) => {
                self.log("error", format!("queue {queue} item: {}", failure.reason));
                if let Some(task_id) = &failure.task_id {
                    let meta = exception_json("DecodeError", &failure.reason, "kombu.exceptions");
                    let stub =
                        IncomingTask { id: task_id.clone(), reply_to: raw.reply_to.clone(), ..Default::default() };
                    let _ = self.store(&stub, "FAILURE", &meta, None).await;
                }
                let _ = self.consumer.ack(tag).await;
                return;
            }
        };
        if let Some(reason) = self.refusal(&task) {
            self.revoke_now(task, Some(tag), reason).await;
            return;
        }
        let job = Job { job_id: self.next_job.fetch_add(1, Ordering::SeqCst), task, queue, redelivered };
        let due = job.task.eta.filter(|eta| *eta > SystemTime::now());
        if due.is_some() {
            self.consumer.hold(&tag);
        }
        let shared = self.clone();
        let mut stopping = self.stopping.subscribe();
        let wait = async move {
            if let Some(eta) = due {
                let delay = eta.duration_since(SystemTime::now()).unwrap_or_default();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = until_true(&mut stopping) => {
                        let _ = shared.consumer.requeue(tag).await;
                        return;
                    }
                }
            }
            let permit = match &shared.concurrency {
                None => None,
                Some(slots) => tokio::select! {
                    permit = slots.clone().acquire_owned() => permit.ok(),
                    _ = until_true(&mut stopping) => {
                        let _ = shared.consumer.requeue(tag).await;
                        return;
                    }
                },
            };
            shared.run(job, tag, permit).await;
        };
        if due.is_none() && self.concurrency.as_ref().is_none_or(|s| s.available_permits() > 0) {
            wait.await;
        } else {
            spawn_tracked(&self.waiting, wait);
        }
    }

    /// Why a task must not run: revoked, or past its expiry.
    fn refusal(&self, task: &IncomingTask) -> Option<&'static str> {
        if self.revoked.lock().unwrap().contains(&task.id) {
            return Some("revoked");
        }
        task.expires.filter(|expires| *expires <= SystemTime::now()).map(|_| "expired")
    }

    /// Stores REVOKED for a task, and acknowledges its message if it is not yet (`tag`).
    async fn revoke_now(&self, task: IncomingTask, tag: Option<DeliveryTag>, reason: &str) {
        self.log("info", format!("Discarding revoked task: {}[{}] ({reason})", task.name, task.id));
        let meta = exception_json("TaskRevokedError", reason, "celery.exceptions");
        if let Err(error) = self.store(&task, "REVOKED", &meta, None).await {
            self.log("error", format!("cannot store the state of {}[{}]: {error}", task.name, task.id));
        }
        if let Some(tag) = tag {
            let _ = self.consumer.ack(tag).await;
        }
    }

    async fn run(&self, job: Job, tag: DeliveryTag, permit: Option<OwnedSemaphorePermit>) {
        if let Some(reason) = self.refusal(&job.task) {
            drop(permit);
            self.revoke_now(job.task, Some(tag), reason).await;
            return;
        }
        let acked = !self.settings.acks_late;
        if acked {
            if let Err(error) = self.consumer.ack(tag.clone()).await {
                self.log("error", format!("cannot acknowledge {}[{}]: {error}", job.task.name, job.task.id));
            }
        }
        if self.settings.track_started && !job.task.ignore_result {
            let meta = json!({"pid": std::process::id(), "hostname": self.settings.hostname}).to_string();
            let _ = self.store(&job.task, "STARTED", &meta, None).await;
        }
        self.running.lock().unwrap().insert(job.job_id, Running { job: job.clone(), tag, acked, _permit: permit });
        self.emit(WorkerEvent::Run(job));
    }

    async fn complete(&self, running: Running, outcome: Outcome) {
        let task = &running.job.task;
        let result = match &outcome {
            Outcome::Success { result_json } => self.succeeded(task, result_json).await,
            Outcome::Failure(exception) => self.failed(task, exception).await,
            Outcome::Retry { exception, countdown } => {
                self.retry(task, &running.job.queue, exception, *countdown).await
            }
        };
        if let Err(error) = result {
            self.log("error", format!("Task {}[{}]: {error}", task.name, task.id));
        }
        if !running.acked {
            if let Err(error) = self.consumer.ack(running.tag).await {
                self.log("error", format!("cannot acknowledge {}[{}]: {error}", task.name, task.id));
            }
        }
    }

    async fn succeeded(&self, task: &IncomingTask, result_json: &str) -> Result<()> {
        if !task.ignore_result {
            self.store(task, "SUCCESS", result_json, None).await?;
        }
        self.chord_part(task, "SUCCESS", result_json).await?;
        if task.embed.callbacks.is_empty() && task.embed.chain.is_empty() {
            return Ok(()); // nothing follows: the result text need not be parsed
        }
        let result: Value = serde_json::from_str(result_json).unwrap_or(Value::Null);
        for callback in &task.embed.callbacks {
            self.send_followup(task, callback, &result, Vec::new()).await?;
        }
        let mut chain = task.embed.chain.clone();
        if let Some(next) = chain.pop() {
            self.send_followup(task, &next, &result, chain).await?;
        }
        Ok(())
    }

    async fn failed(&self, task: &IncomingTask, exception: &TaskException) -> Result<()> {
        let meta = exception_json(&exception.exc_type, &exception.message, &exception.module);
        if !task.ignore_result {
            self.store(task, "FAILURE", &meta, exception.traceback.as_deref()).await?;
        }
        self.chord_part(task, "FAILURE", &meta).await?;
        // Errbacks Python cannot call with the request run as tasks given the failed task's id.
        for errback in &task.embed.errbacks {
            self.send_followup(task, errback, &Value::from(task.id.as_str()), Vec::new()).await?;
        }
        Ok(())
    }

    /// A chord header task reports to the Redis chord counting (spec §2.6); the worker that
    /// completes the count sends the body with every header result in group order, or, when a
    /// header task failed, stores the body's failure as a `ChordError`, as Celery does.
    async fn chord_part(&self, task: &IncomingTask, state: &str, result_json: &str) -> Result<()> {
        let (Some(body), Some(group_id)) = (&task.embed.chord, &task.group_id) else { return Ok(()) };
        let result: Value = serde_json::from_str(result_json).unwrap_or(Value::Null);
        let ResultBackend::Redis(redis) = self.backend.as_ref() else {
            self.log(
                "warn",
                format!("Task {}[{}] is part of a chord, which needs the Redis result backend", task.name, task.id),
            );
            return Ok(());
        };
        let part = ChordPart { group_id, group_index: task.group_index, task_id: &task.id, state, result: &result };
        let Some(join) = redis.chord_part_return(&part, self.settings.result_expires).await? else { return Ok(()) };
        let failed = join.parts.iter().find(|member| matches!(member.state.as_str(), "FAILURE" | "REVOKED"));
        let sent = match failed {
            None => {
                let results = Value::Array(join.parts.iter().map(|member| member.result.clone()).collect());
                self.send_followup(task, body, &results, Vec::new()).await
            }
            Some(member) => self.chord_failed(task, body, member).await,
        };
        redis.chord_done(group_id, &join).await?;
        sent
    }

    async fn chord_failed(&self, task: &IncomingTask, body: &Value, member: &ChordMember) -> Result<()> {
        let options = &body["options"];
        let Some(body_id) = options["task_id"].as_str() else { return Ok(()) };
        let cause = &member.result;
        let raised = format!(
            "{}({:?})",
            cause["exc_type"].as_str().unwrap_or("Exception"),
            cause["exc_message"].get(0).and_then(Value::as_str).unwrap_or_default()
        );
        let message = format!("Dependency {} raised {raised}", member.task_id);
        let body_task = IncomingTask {
            id: body_id.to_string(),
            name: body["task"].as_str().unwrap_or_default().to_string(),
            reply_to: options["reply_to"].as_str().map(String::from).or_else(|| task.reply_to.clone()),
            embed: crate::protocol::incoming::Embed {
                errbacks: options["link_error"].as_array().cloned().unwrap_or_default(),
                ..Default::default()
            },
            ..Default::default()
        };
        let exception = TaskException {
            exc_type: "ChordError".into(),
            message,
            module: "celery.exceptions".into(),
            traceback: None,
        };
        // Boxed: `failed` reports chord parts, which lead here (the body itself is no part).
        Box::pin(self.failed(&body_task, &exception)).await
    }

    /// Celery's `Task.retry`: RETRY is stored, and the same task (same id) is sent again with
    /// `retries + 1`, due after the countdown.
    async fn retry(
        &self,
        task: &IncomingTask,
        queue: &str,
        exception: &TaskException,
        countdown: Option<f64>,
    ) -> Result<()> {
        let meta = exception_json(&exception.exc_type, &exception.message, &exception.module);
        self.store(task, "RETRY", &meta, exception.traceback.as_deref()).await?;
        let options = TaskOptions {
            countdown: Some(countdown.unwrap_or(DEFAULT_RETRY_DELAY)),
            expires: task.expires.map(Expiry::At),
            priority: task.priority,
            time_limit: task.time_limit,
            soft_time_limit: task.soft_time_limit,
            ignore_result: Some(task.ignore_result),
            retries: task.retries + 1,
            root_id: task.root_id.clone(),
            parent_id: task.parent_id.clone(),
            group_id: task.group_id.clone(),
            group_index: task.group_index.map(|i| i as u32),
            callbacks: non_empty(&task.embed.callbacks),
            errbacks: non_empty(&task.embed.errbacks),
            chain: non_empty(&task.embed.chain),
            chord: task.embed.chord.clone(),
            reply_to: task.reply_to.clone(),
            ..TaskOptions::default()
        };
        let request = TaskRequest {
            name: &task.name,
            id: &task.id,
            args_json: &task.args_json,
            kwargs_json: Some(&task.kwargs_json),
            options: &options,
        };
        let message = encode_task(&request, &self.producer, ProtocolVersion::V2, SystemTime::now());
        self.publish(Destination::Queue(queue.to_string()), message).await
    }

    async fn send_followup(
        &self,
        parent: &IncomingTask,
        signature: &Value,
        leading: &Value,
        rest: Vec<Value>,
    ) -> Result<()> {
        let root_id = parent.root_id.as_deref().unwrap_or(&parent.id);
        let plan = plan_followup(signature, leading, &parent.id, root_id, rest, &self.producer.reply_to, &mut || {
            uuid::Uuid::new_v4().to_string()
        })
        .map_err(|reason| CeleryError::InvalidOption { name: "link".into(), reason })?;
        // A chord step: Celery's chord counting must know its size before any header task ends.
        for (group_id, size) in &plan.chord_sizes {
            match self.backend.as_ref() {
                ResultBackend::Redis(redis) => redis.prepare_chord(group_id, *size).await?,
                _ => {
                    return Err(CeleryError::InvalidOption {
                        name: "chord".into(),
                        reason: "a chord needs the Redis result backend".into(),
                    })
                }
            }
        }
        for planned in plan.tasks {
            let message = encode_task(&planned.request(), &self.producer, ProtocolVersion::V2, SystemTime::now());
            let queue = planned.queue.unwrap_or_else(|| self.settings.queues[0].clone());
            self.publish(Destination::Queue(queue), message).await?;
        }
        Ok(())
    }

    async fn publish(&self, destination: Destination, message: TaskMessage) -> Result<()> {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let (done, outcome) = oneshot::channel();
        self.publishes.lock().unwrap().insert(seq, done);
        self.publisher.publish(Publication { seq, destination, message });
        match outcome.await {
            Ok(None) => Ok(()),
            Ok(Some(error)) => Err(error),
            Err(_) => Err(CeleryError::Disconnected),
        }
    }

    /// Stores a state where the backend keeps it: Redis `SETEX` + `PUBLISH`, an RPC reply to
    /// the client's queue, or celery-node's per-task queue.
    async fn store(&self, task: &IncomingTask, status: &str, result_json: &str, traceback: Option<&str>) -> Result<()> {
        let ready = crate::protocol::is_ready_state(status);
        let meta = StoredMeta {
            task_id: &task.id,
            status,
            result_json,
            traceback,
            date_done: ready.then(SystemTime::now),
            group_id: task.group_id.as_deref(),
            parent_id: task.parent_id.as_deref(),
        }
        .to_json();
        match self.backend.as_ref() {
            ResultBackend::Redis(redis) => redis.store_task_meta(&task.id, &meta, self.settings.result_expires).await,
            ResultBackend::AmqpLegacy(amqp) => amqp.store_task_meta(&task.id, &meta).await,
            ResultBackend::Rpc(_) => {
                let Some(reply_to) = &task.reply_to else { return Ok(()) };
                let properties = MessageProperties {
                    correlation_id: task.id.clone(),
                    reply_to: String::new(),
                    delivery_mode: 1,
                    priority: 0,
                    expiration: None,
                };
                let reply = TaskMessage { headers: Default::default(), properties, body: meta.into_bytes() };
                self.publish(Destination::Reply(reply_to.clone()), reply).await
            }
        }
    }
}

/// Spawns into a set that `stop` drains; finished entries are let go on the way, so the set
/// holds only what still runs.
fn spawn_tracked(set: &Mutex<tokio::task::JoinSet<()>>, work: impl std::future::Future<Output = ()> + Send + 'static) {
    let mut set = set.lock().unwrap();
    while set.try_join_next().is_some() {}
    set.spawn(work);
}

async fn until_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await;
}

fn non_empty(signatures: &[Value]) -> Option<Vec<Value>> {
    (!signatures.is_empty()).then(|| signatures.to_vec())
}
