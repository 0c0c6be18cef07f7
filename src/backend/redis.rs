//! The Celery Redis result backend (spec §5.4): `celery-task-meta-<id>` keys whose value is also
//! PUBLISHed on a channel of the same name.
//!
//! Waiting is push-based: one RESP3 connection carries the GETs and the subscriptions of every
//! waiter of this backend. A waiter subscribes first, then reads the key once (a result stored
//! before the subscription is not missed), then waits for a ready state on the channel. When
//! subscribing is impossible it falls back to polling the key.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, PushInfo, PushKind};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::ready_queue::{Ready, ReadyQueue};
use super::WaitOutcome;
use crate::error::{is_connection_error, CeleryError, Result};
use crate::protocol::result_meta::normalize_result_keyprefix;
use crate::protocol::{task_meta_key, ResultMeta};
use crate::redis_connection::RedisTarget;

/// Celery's `result_expires` default: one day.
pub const DEFAULT_RESULT_EXPIRES: Duration = Duration::from_secs(86_400);

/// How long a worker's claim on publishing a chord body lasts, and how long `.c` says `done`
/// after it (as Celery 5.7 with its default join timeout).
const CHORD_CLAIM_SECS: u64 = 10;
const CHORD_DONE_SECS: u64 = 300;

/// Adds a header result unless this id and index were counted already, refreshes the expiry of
/// the counting keys, and answers `{count, complete}`; `complete` is 1 for the one caller that
/// saw every header task report and took the `.c` claim. A chord already `done` answers -1.
/// The chord scripts, hashed once (a `Script` computes its SHA1 when made).
static CHORD_PART_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CHORD_PART_LUA));
static CHORD_DONE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CHORD_DONE_LUA));

const CHORD_PART_LUA: &str = r"
if redis.call('GET', KEYS[5]) == 'done' then return {-1, 0} end
local seen = ARGV[1] .. ':' .. ARGV[3]
if redis.call('SADD', KEYS[4], seen) == 1 then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
end
local count = redis.call('ZCARD', KEYS[1])
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ttl) end
end
local size = redis.call('GET', KEYS[3])
if not size then return {count, 0} end
local expected = tonumber(size) + tonumber(redis.call('GET', KEYS[2]) or '0')
if count == expected and redis.call('SET', KEYS[5], ARGV[6], 'NX', 'EX', tonumber(ARGV[5])) then
  return {count, 1}
end
return {count, 0}
";

/// Deletes the counting keys and marks the chord `done`, if this caller still holds the claim.
const CHORD_DONE_LUA: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('SET', KEYS[1], 'done', 'EX', tonumber(ARGV[2]))
return 1
";

/// `SETEX`, or a plain `SET` when `expires` is zero (Celery's `result_expires = 0`: kept forever).
fn set_expiring(pipe: &mut redis::Pipeline, key: &str, value: &str, expires: Duration) {
    match expires.as_secs() {
        0 => pipe.set(key, value).ignore(),
        seconds => pipe.set_ex(key, value, seconds).ignore(),
    };
}

/// One finished chord header task.
#[derive(Debug, Clone)]
pub struct ChordPart<'a> {
    pub group_id: &'a str,
    pub group_index: Option<u64>,
    pub task_id: &'a str,
    pub state: &'a str,
    /// The return value, or the exception dict of a failure.
    pub result: &'a serde_json::Value,
}

/// Every header result, in group order, for the one worker that publishes the body.
#[derive(Debug, Clone)]
pub struct ChordJoin {
    token: String,
    pub parts: Vec<ChordMember>,
}

#[derive(Debug, Clone)]
pub struct ChordMember {
    pub task_id: String,
    pub state: String,
    pub result: serde_json::Value,
}

pub struct RedisBackend {
    target: RedisTarget,
    key_prefix: String,
    /// Opened on first use; `close` drops it, which closes the connection once the calls in
    /// flight that still hold it finish.
    hub: Mutex<Option<Arc<Hub>>>,
    connecting: tokio::sync::Mutex<()>,
    closed: AtomicBool,
    /// Celery's `result_expires`: the TTL of saved groups and chord keys, and the default of stores.
    result_expires: Duration,
    /// Ready states of the tasks registered with [`Self::register_ready`], in arrival order.
    pub(super) ready: ReadyQueue,
    ready_sender: mpsc::UnboundedSender<Ready>,
}

impl RedisBackend {
    pub fn new(target: RedisTarget, key_prefix: &str, result_expires: Duration) -> Self {
        let (ready_sender, ready) = ReadyQueue::channel();
        Self {
            target,
            key_prefix: normalize_result_keyprefix(key_prefix),
            hub: Mutex::default(),
            connecting: Default::default(),
            closed: AtomicBool::default(),
            result_expires,
            ready,
            ready_sender,
        }
    }

    pub fn result_expires(&self) -> Duration {
        self.result_expires
    }

    pub fn key(&self, task_id: &str) -> String {
        task_meta_key(&self.key_prefix, task_id)
    }

    async fn hub(&self) -> Result<Arc<Hub>> {
        let current = || -> Result<Option<Arc<Hub>>> {
            if self.closed.load(Ordering::SeqCst) {
                return Err(CeleryError::Disconnected);
            }
            Ok(self.hub.lock().unwrap().clone())
        };
        if let Some(hub) = current()? {
            return Ok(hub);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(hub) = current()? {
            return Ok(hub);
        }
        let hub = Hub::connect(&self.target, self.ready_sender.clone()).await?;
        *self.hub.lock().unwrap() = Some(hub.clone());
        Ok(hub)
    }

    /// Ends every wait (as cancelled), refuses further calls and lets the connection close.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(hub) = self.hub.lock().unwrap().take() {
            hub.cancel_all();
        }
        self.ready.wake();
    }

    /// Many `get()`s at once, without a future each: the tasks' channels are subscribed (one
    /// SUBSCRIBE for all), and each task's ready state, once published, is queued for
    /// `ready`. What was stored before the subscription must be read after it, so
    /// that no result is missed: with `read`, this answers those stored metas (one MGET, in
    /// order); otherwise the caller reads them itself.
    pub async fn register_ready(&self, task_ids: Vec<String>, read: bool) -> Result<Option<Vec<Option<String>>>> {
        let hub = self.hub().await?;
        let keys: Vec<Key> = task_ids
            .iter()
            .map(|id| {
                let key = self.key(id);
                let id_from = (key.len() - id.len()) as u32;
                hub.add_listener(&key, Listener::Queued(id_from)).1
            })
            .collect();
        drop(task_ids); // not kept while the subscriptions are made
        if hub.subscribe_all(keys.clone()).await {
            if keys.len() >= RELEASE_AFTER_KEYS {
                crate::release_freed_memory(); // the ids, the command and its replies
            }
            return if read { self.mget(&keys).await.map(Some) } else { Ok(None) };
        }
        hub.remove_queued(&keys);
        Err(CeleryError::Backend("waiting for results this way needs Redis pub/sub (RESP3)".into()))
    }

    /// Stops queueing the ready states of these tasks (their waiters gave up).
    pub fn cancel_ready(&self, task_ids: &[String]) {
        if let Some(hub) = self.hub.lock().unwrap().as_ref() {
            let keys: Vec<String> = task_ids.iter().map(|id| self.key(id)).collect();
            hub.remove_queued(&keys);
        }
    }

    /// Many stored metas in one `MGET`, in order; `None` where nothing is stored.
    pub async fn get_task_metas(&self, task_ids: &[String]) -> Result<Vec<Option<String>>> {
        let keys: Vec<String> = task_ids.iter().map(|id| self.key(id)).collect();
        self.mget(&keys).await
    }

    async fn mget<K: AsRef<str>>(&self, keys: &[K]) -> Result<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.hub().await?.connection.clone();
        let names: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        let values: Vec<Option<Vec<u8>>> = connection.mget(&names).await.map_err(|e| self.backend_error(&e))?;
        Ok(values.into_iter().map(|value| value.and_then(|bytes| String::from_utf8(bytes).ok())).collect())
    }

    pub async fn ready(&self) -> Result<()> {
        let mut connection = self.hub().await?.connection.clone();
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(|e| self.backend_error(&e))
    }

    /// The stored meta as JSON text, or `None` when nothing is stored (PENDING).
    pub async fn get_task_meta(&self, task_id: &str) -> Result<Option<String>> {
        let mut connection = self.hub().await?.connection.clone();
        let value: Option<Vec<u8>> = connection.get(self.key(task_id)).await.map_err(|e| self.backend_error(&e))?;
        value
            .map(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|e| CeleryError::Decode { what: "result".into(), reason: e.to_string() })
            })
            .transpose()
    }

    /// Stores a meta as a Celery worker does: `SETEX`, then `PUBLISH` on the key's channel.
    /// Celery wraps the two in MULTI; here they are a plain pipeline (same order, one connection)
    /// because redis-rs drops push messages that arrive inside an EXEC reply on this RESP3
    /// connection, and a waiter of this very backend would miss its own store.
    pub async fn store_task_meta(&self, task_id: &str, meta_json: &str, expires: Duration) -> Result<()> {
        let mut connection = self.hub().await?.connection.clone();
        let key = self.key(task_id);
        let mut pipe = redis::pipe();
        set_expiring(&mut pipe, &key, meta_json, expires);
        pipe.publish(&key, meta_json)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(|e| self.backend_error(&e))
    }

    fn group_key(&self, group_id: &str) -> String {
        format!("{}celery-taskset-meta-{group_id}", self.key_prefix)
    }

    /// Saves a group's member ids as Python's `GroupResult.save()` does (spec §2.4).
    pub async fn save_group(&self, group_id: &str, member_ids: &[String]) -> Result<()> {
        let mut connection = self.hub().await?.connection.clone();
        let meta = serde_json::json!({ "result": crate::protocol::canvas::group_result_tuple(group_id, member_ids) });
        let mut pipe = redis::pipe();
        set_expiring(&mut pipe, &self.group_key(group_id), &meta.to_string(), self.result_expires);
        pipe.query_async::<()>(&mut connection).await.map_err(|e| self.backend_error(&e))
    }

    /// The member ids of a saved group (Python's `GroupResult.restore()`), or `None`.
    pub async fn restore_group(&self, group_id: &str) -> Result<Option<Vec<String>>> {
        let mut connection = self.hub().await?.connection.clone();
        let stored: Option<String> =
            connection.get(self.group_key(group_id)).await.map_err(|e| self.backend_error(&e))?;
        let Some(text) = stored else { return Ok(None) };
        let meta: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| CeleryError::Decode { what: "group".into(), reason: e.to_string() })?;
        crate::protocol::canvas::group_member_ids(&meta["result"])
            .map(Some)
            .ok_or_else(|| CeleryError::Decode { what: "group".into(), reason: "not a GroupResult tuple".into() })
    }

    /// Deletes the stored result (Python's `AsyncResult.forget()`).
    pub async fn forget(&self, task_id: &str) -> Result<()> {
        let mut connection = self.hub().await?.connection.clone();
        connection.del::<_, ()>(self.key(task_id)).await.map_err(|e| self.backend_error(&e))
    }

    /// Tells Celery's chord counting how many header results to wait for (spec §2.5): the
    /// `.s` key must be there before the last header task finishes, or the body never runs.
    pub async fn prepare_chord(&self, group_id: &str, size: usize) -> Result<()> {
        let mut connection = self.hub().await?.connection.clone();
        let key = self.group_key(group_id);
        let mut pipe = redis::pipe();
        pipe.del(format!("{key}.c")).ignore();
        set_expiring(&mut pipe, &format!("{key}.s"), &size.to_string(), self.result_expires);
        pipe.query_async::<()>(&mut connection).await.map_err(|e| self.backend_error(&e))
    }

    /// Counts one finished chord header task, as a Celery 5.7 worker does (spec §2.6): its
    /// `[1, id, state, result]` joins `.j` (once per id and index, recorded in `.d`); when every
    /// header task has reported (`.s` plus `.t`), one worker wins the `.c` claim and gets the
    /// members in group order to call the body with.
    pub async fn chord_part_return(&self, part: &ChordPart<'_>, expires: Duration) -> Result<Option<ChordJoin>> {
        let mut connection = self.hub().await?.connection.clone();
        let group = self.group_key(part.group_id);
        let token = uuid::Uuid::new_v4().simple().to_string();
        let member = serde_json::json!([1, part.task_id, part.state, part.result]).to_string();
        let score = part.group_index.map_or_else(|| "+inf".to_string(), |i| i.to_string());
        let (_, complete): (i64, i64) = CHORD_PART_SCRIPT
            .key(format!("{group}.j"))
            .key(format!("{group}.t"))
            .key(format!("{group}.s"))
            .key(format!("{group}.d"))
            .key(format!("{group}.c"))
            .arg(part.task_id)
            .arg(member)
            .arg(score)
            .arg(expires.as_secs())
            .arg(CHORD_CLAIM_SECS)
            .arg(&token)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| self.backend_error(&e))?;
        if complete == 0 {
            return Ok(None);
        }
        let members: Vec<String> =
            connection.zrange(format!("{group}.j"), 0, -1).await.map_err(|e| self.backend_error(&e))?;
        let parts = members
            .iter()
            .filter_map(|member| serde_json::from_str::<serde_json::Value>(member).ok())
            .map(|member| ChordMember {
                task_id: member[1].as_str().unwrap_or_default().to_string(),
                state: member[2].as_str().unwrap_or_default().to_string(),
                result: member[3].clone(),
            })
            .collect();
        Ok(Some(ChordJoin { token, parts }))
    }

    /// Ends a chord whose body was sent: its counting keys go, and `.c` says `done` for a while so
    /// a redelivered header task cannot count it again.
    pub async fn chord_done(&self, group_id: &str, join: &ChordJoin) -> Result<()> {
        let mut connection = self.hub().await?.connection.clone();
        let group = self.group_key(group_id);
        CHORD_DONE_SCRIPT
            .key(format!("{group}.c"))
            .key(format!("{group}.j"))
            .key(format!("{group}.t"))
            .key(format!("{group}.s"))
            .key(format!("{group}.d"))
            .arg(&join.token)
            .arg(CHORD_DONE_SECS)
            .invoke_async::<()>(&mut connection)
            .await
            .map_err(|e| self.backend_error(&e))
    }

    /// Waits until the task reaches a ready state, `timeout` passes, or [`Self::cancel`] is
    /// called for it. `poll_interval` is used only when pub/sub is unavailable.
    pub async fn wait_for_ready(
        &self,
        task_id: &str,
        timeout: Option<Duration>,
        poll_interval: Duration,
    ) -> Result<WaitOutcome> {
        let hub = self.hub().await?;
        let key = self.key(task_id);
        let wait = async {
            let (waiter_id, shared, notified) = hub.add_waiter(&key);
            let _guard = WaiterGuard { hub: &hub, key: &key, waiter_id };
            if hub.subscribe(&shared).await.is_err() {
                return self.poll_until_ready(&key, poll_interval).await;
            }
            if let Some(meta) = self.read_ready(&key).await? {
                hub.notify(&key, &meta);
                return Ok(WaitOutcome::Ready(meta));
            }
            Ok(notified.await.map(WaitOutcome::Ready).unwrap_or(WaitOutcome::Cancelled))
        };
        match timeout {
            Some(limit) => tokio::time::timeout(limit, wait).await.unwrap_or(Ok(WaitOutcome::TimedOut)),
            None => wait.await,
        }
    }

    /// Every state the task goes through from now on, starting with the stored one (if any),
    /// until a ready state; pushed, never polled. Dropping the receiver ends the watch.
    pub async fn watch(&self, task_id: &str) -> Result<(u64, mpsc::UnboundedReceiver<ResultMeta>)> {
        let hub = self.hub().await?;
        let key = self.key(task_id);
        let (tx, rx) = mpsc::unbounded_channel();
        let initial = tx.clone();
        let (watch_id, shared) = hub.add_listener(&key, Listener::Every(tx));
        let give_up = |error: CeleryError| {
            hub.remove_waiter(&key, watch_id);
            error
        };
        if hub.subscribe(&shared).await.is_err() {
            return Err(give_up(CeleryError::Backend("watching task states needs Redis pub/sub (RESP3)".into())));
        }
        let mut connection = hub.connection.clone();
        let stored: Option<Vec<u8>> = connection.get(&key).await.map_err(|e| give_up(self.backend_error(&e)))?;
        if let Some(meta) = stored.and_then(|bytes| ResultMeta::parse(&bytes).ok()) {
            let _ = initial.send(meta);
        }
        Ok((watch_id, rx))
    }

    pub fn unwatch(&self, task_id: &str, watch_id: u64) {
        if let Some(hub) = self.hub.lock().unwrap().as_ref() {
            hub.remove_waiter(&self.key(task_id), watch_id);
        }
    }

    /// Ends every wait for this task with [`WaitOutcome::Cancelled`].
    pub fn cancel(&self, task_id: &str) {
        if let Some(hub) = self.hub.lock().unwrap().as_ref() {
            hub.cancel(&self.key(task_id));
        }
    }

    async fn read_ready(&self, key: &str) -> Result<Option<ResultMeta>> {
        let mut connection = self.hub().await?.connection.clone();
        let value: Option<Vec<u8>> = connection.get(key).await.map_err(|e| self.backend_error(&e))?;
        Ok(value.and_then(|bytes| ResultMeta::parse(&bytes).ok()).filter(ResultMeta::is_ready))
    }

    async fn poll_until_ready(&self, key: &str, interval: Duration) -> Result<WaitOutcome> {
        loop {
            if let Some(meta) = self.read_ready(key).await? {
                return Ok(WaitOutcome::Ready(meta));
            }
            tokio::time::sleep(interval).await;
        }
    }

    fn backend_error(&self, error: &redis::RedisError) -> CeleryError {
        if is_connection_error(error) {
            CeleryError::BackendUnreachable { url: self.target.display_url.clone(), reason: error.to_string() }
        } else {
            CeleryError::Backend(error.to_string())
        }
    }
}

struct WaiterGuard<'a> {
    hub: &'a Hub,
    key: &'a str,
    waiter_id: u64,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.hub.remove_waiter(self.key, self.waiter_id);
    }
}

/// A result key, shared by the hub's table and the subscription changes that name it.
type Key = Arc<str>;

/// The one subscriber connection of a backend and everyone waiting on it.
struct Hub {
    connection: ConnectionManager,
    state: Mutex<HubState>,
    /// Keys whose subscription may need to change, in batches; the reconciler acts on them in order.
    changes: mpsc::UnboundedSender<Change>,
    /// Where the ready states of queued (batch) listeners go, with their task ids.
    ready: mpsc::UnboundedSender<Ready>,
}

/// Who listens on a key: a `get()` wants the ready state only (for itself, or queued with the
/// task id for a batch of them); a state watcher wants every one.
enum Listener {
    Ready(oneshot::Sender<ResultMeta>),
    /// The task id is the key from this byte on (one string less per pending `get()`).
    Queued(u32),
    Every(mpsc::UnboundedSender<ResultMeta>),
}

/// A key of the table: its listeners, and whether its channel is subscribed. An entry with no
/// listeners stays until the reconciler has unsubscribed it (or knows it never was).
#[derive(Default)]
struct KeyState {
    listeners: Vec<(u64, Listener)>,
    subscribed: bool,
    /// Taken by the reconciler for a SUBSCRIBE or UNSUBSCRIBE in flight.
    changing: bool,
}

impl KeyState {
    /// Nobody listens and the channel is not (being) subscribed: the entry can go.
    fn is_idle(&self) -> bool {
        self.listeners.is_empty() && !self.subscribed && !self.changing
    }
}

#[derive(Default)]
struct HubState {
    next_waiter_id: u64,
    keys: HashMap<Key, KeyState>,
    /// Connections lost so far: a SUBSCRIBE answered on an earlier connection no longer holds.
    connection_generation: u64,
}

/// Keys to reconcile; `done` hears whether every SUBSCRIBE of the pass that took them succeeded.
struct Change {
    keys: Vec<Key>,
    done: Option<oneshot::Sender<bool>>,
}

/// How long unsubscriptions wait for a registration to share a round trip with.
const UNSUBSCRIBE_LINGER: Duration = Duration::from_millis(20);

/// Channels per SUBSCRIBE / UNSUBSCRIBE: bounds the command and its burst of replies.
const SUBSCRIBE_CHUNK: usize = 10_000;

/// A registration of this many keys is a burst worth returning its freed memory for (a
/// collection walks the allocator's pages: not for every `get()`).
const RELEASE_AFTER_KEYS: usize = 1_000;

impl Hub {
    async fn connect(target: &RedisTarget, ready: mpsc::UnboundedSender<Ready>) -> Result<Arc<Hub>> {
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let connection = target
            .connect_subscriber(push_tx)
            .await
            .map_err(|e| CeleryError::BackendUnreachable { url: target.display_url.clone(), reason: e.to_string() })?;
        let (changes, changes_rx) = mpsc::unbounded_channel();
        let hub = Arc::new(Hub { connection, state: Mutex::default(), changes, ready });
        tokio::spawn(Hub::dispatch_pushes(Arc::downgrade(&hub), push_rx));
        tokio::spawn(Hub::reconcile_subscriptions(Arc::downgrade(&hub), changes_rx));
        Ok(hub)
    }

    fn add_waiter(&self, key: &str) -> (u64, Key, oneshot::Receiver<ResultMeta>) {
        let (tx, rx) = oneshot::channel();
        let (id, shared) = self.add_listener(key, Listener::Ready(tx));
        (id, shared, rx)
    }

    /// Adds a listener; answers its id and the table's key (for [`Self::subscribe_all`]).
    fn add_listener(&self, key: &str, listener: Listener) -> (u64, Key) {
        let mut guard = self.state.lock().unwrap();
        let state = &mut *guard;
        state.next_waiter_id += 1;
        let id = state.next_waiter_id;
        let shared = match state.keys.get_key_value(key) {
            Some((shared, _)) => shared.clone(),
            None => Key::from(key),
        };
        let entry = state.keys.entry(shared.clone()).or_default();
        if entry.listeners.capacity() == 0 {
            entry.listeners.reserve_exact(1); // most keys have one listener: no room for more
        }
        entry.listeners.push((id, listener));
        (id, shared)
    }

    fn remove_waiter(&self, key: &str, waiter_id: u64) {
        self.remove_listeners(&[key], |id, _| id == waiter_id);
    }

    /// Removes the queued (batch) listeners of these keys.
    fn remove_queued<K: AsRef<str>>(&self, keys: &[K]) {
        self.remove_listeners(keys, |_, listener| matches!(listener, Listener::Queued(..)));
    }

    /// Removes the listeners `which` picks; a key's last one leaving ends its subscription.
    fn remove_listeners<K: AsRef<str>>(&self, keys: &[K], which: impl Fn(u64, &Listener) -> bool) {
        let mut state = self.state.lock().unwrap();
        let mut unsubscribe = Vec::new();
        for key in keys {
            let key = key.as_ref();
            let Some(entry) = state.keys.get_mut(key) else { continue };
            let before = entry.listeners.len();
            entry.listeners.retain(|(id, listener)| !which(*id, listener));
            if before == entry.listeners.len() || !entry.listeners.is_empty() {
                continue; // nothing left this key, or somebody still listens
            }
            if entry.is_idle() {
                state.keys.remove(key);
            } else if let Some((shared, _)) = state.keys.get_key_value(key) {
                unsubscribe.push(shared.clone());
            }
        }
        self.reconcile(unsubscribe, None);
    }

    fn reconcile(&self, keys: Vec<Key>, done: Option<oneshot::Sender<bool>>) {
        if !keys.is_empty() || done.is_some() {
            let _ = self.changes.send(Change { keys, done });
        }
    }

    /// Resolves once the reconciler has handled every key: true if all are subscribed.
    async fn subscribe_all(&self, keys: Vec<Key>) -> bool {
        let (done, answer) = oneshot::channel();
        self.reconcile(keys, Some(done));
        answer.await.unwrap_or(false)
    }

    /// Resolves when the channel is subscribed (true) or cannot be (false → poll instead).
    async fn subscribe(&self, key: &Key) -> std::result::Result<(), ()> {
        if self.subscribe_all(vec![key.clone()]).await {
            Ok(())
        } else {
            Err(())
        }
    }

    /// Hands a state to the key's listeners: watchers get every state, `get()`s the ready one.
    /// Listeners that are done (after a ready state, or a dropped watcher) are removed.
    fn notify(&self, key: &str, meta: &ResultMeta) {
        let mut state = self.state.lock().unwrap();
        let Some(entry) = state.keys.get_mut(key) else { return };
        let ready = meta.is_ready();
        let listeners = std::mem::take(&mut entry.listeners);
        for (id, listener) in listeners {
            match listener {
                Listener::Ready(tx) if ready => {
                    let _ = tx.send(meta.clone());
                }
                Listener::Queued(id_from) if ready => {
                    let _ = self.ready.send((key[id_from as usize..].to_string(), meta.clone()));
                }
                Listener::Every(tx) => {
                    if tx.send(meta.clone()).is_ok() && !ready {
                        entry.listeners.push((id, Listener::Every(tx)));
                    }
                }
                waiting => entry.listeners.push((id, waiting)),
            }
        }
        if entry.listeners.is_empty() {
            if entry.is_idle() {
                state.keys.remove(key);
            } else if let Some((shared, _)) = state.keys.get_key_value(key) {
                self.reconcile(vec![shared.clone()], None);
            }
        }
    }

    fn cancel_all(&self) {
        let mut state = self.state.lock().unwrap();
        state.keys.retain(|_, entry| {
            entry.listeners.clear();
            !entry.is_idle()
        });
        let keys = state.keys.keys().cloned().collect();
        self.reconcile(keys, None);
    }

    fn cancel(&self, key: &str) {
        self.remove_listeners(&[key], |_, _| true);
    }

    /// Makes the set of subscribed channels follow the set of keys somebody waits for. Changes
    /// are applied in batches (one SUBSCRIBE / UNSUBSCRIBE per chunk of keys), in order.
    async fn reconcile_subscriptions(hub: std::sync::Weak<Hub>, mut changes: mpsc::UnboundedReceiver<Change>) {
        // Keys that changed again while their command was in flight: the next pass takes them.
        let mut again: Vec<Key> = Vec::new();
        // Registrations are answered once no key of theirs still waits for a SUBSCRIBE (one
        // answered on a lost connection is sent again first); `all_ok` since their last answer.
        let mut answers = Vec::new();
        let mut all_ok = true;
        loop {
            let mut keys = std::mem::take(&mut again);
            if keys.is_empty() {
                let Some(first) = changes.recv().await else { return };
                keys = first.keys;
                answers.extend(first.done);
            }
            while let Ok(more) = changes.try_recv() {
                keys.extend(more.keys);
                answers.extend(more.done);
            }
            if answers.is_empty() && !Self::linger(&mut changes, &mut keys, &mut answers).await {
                return;
            }
            let Some(hub) = hub.upgrade() else { return };
            let (to_subscribe, to_unsubscribe, generation) = hub.take_changes(keys);
            let mut subscribing = hub.connection.clone();
            let mut unsubscribing = hub.connection.clone();
            let mut resubscribe_again = Vec::new();
            // Both go out together (one connection, so one write and one read for the two); a
            // key is in one of them only.
            let subscribe = async {
                let mut subscribe_ok = true;
                let mut resubscribe = false;
                for chunk in to_subscribe.chunks(SUBSCRIBE_CHUNK) {
                    let names: Vec<&str> = chunk.iter().map(|key| &**key).collect();
                    let ok = subscribe_ok && subscribing.subscribe(&names).await.is_ok();
                    subscribe_ok &= ok;
                    resubscribe |= hub.changed(chunk, ok.then_some(true), generation, &mut resubscribe_again);
                }
                all_ok &= subscribe_ok;
                if !resubscribe || !subscribe_ok {
                    for answer in answers.drain(..) {
                        let _ = answer.send(all_ok);
                    }
                    all_ok = true;
                }
            };
            let unsubscribe = async {
                for chunk in to_unsubscribe.chunks(SUBSCRIBE_CHUNK) {
                    let names: Vec<&str> = chunk.iter().map(|key| &**key).collect();
                    let ok = unsubscribing.unsubscribe(&names).await.is_ok();
                    hub.changed(chunk, ok.then_some(false), generation, &mut again);
                }
            };
            tokio::join!(subscribe, unsubscribe);
            again.append(&mut resubscribe_again);
        }
    }

    /// Only unsubscriptions are due: nobody waits for them, so they wait up to
    /// [`UNSUBSCRIBE_LINGER`] for a registration to go out with (or for more of their kind).
    /// Answers false once the hub is gone.
    async fn linger(changes: &mut mpsc::UnboundedReceiver<Change>, keys: &mut Vec<Key>, answers: &mut Vec<oneshot::Sender<bool>>) -> bool {
        let until = tokio::time::sleep(UNSUBSCRIBE_LINGER);
        tokio::pin!(until);
        while answers.is_empty() {
            tokio::select! {
                _ = &mut until => break,
                more = changes.recv() => {
                    let Some(more) = more else { return false };
                    keys.extend(more.keys);
                    answers.extend(more.done);
                }
            }
        }
        true
    }

    /// Marks the keys whose channel must change (`changing`): those with listeners and no
    /// subscription, and those subscribed with none; drops entries that need nothing.
    fn take_changes(&self, keys: Vec<Key>) -> (Vec<Key>, Vec<Key>, u64) {
        let mut state = self.state.lock().unwrap();
        let (mut subscribe, mut unsubscribe) = (Vec::new(), Vec::new());
        for key in keys {
            let Some(entry) = state.keys.get_mut(&key) else { continue };
            if entry.changing {
                continue; // named twice in this pass
            }
            if !entry.listeners.is_empty() && !entry.subscribed {
                entry.changing = true;
                subscribe.push(key);
            } else if entry.listeners.is_empty() && entry.subscribed {
                entry.changing = true;
                unsubscribe.push(key);
            } else if entry.is_idle() {
                state.keys.remove(&key);
            }
        }
        (subscribe, unsubscribe, state.connection_generation)
    }

    /// Records a finished SUBSCRIBE / UNSUBSCRIBE (`now`: the new state, `None` if it failed);
    /// keys whose listeners changed meanwhile go to `again`. After a lost connection (a newer
    /// `generation`) nothing is subscribed, whatever the command answered. Answers whether a key
    /// somebody waits on went to `again` to be subscribed.
    fn changed(&self, keys: &[Key], now: Option<bool>, generation: u64, again: &mut Vec<Key>) -> bool {
        let mut state = self.state.lock().unwrap();
        let now = if state.connection_generation == generation { now } else { Some(false) };
        let mut resubscribe = false;
        for key in keys {
            let Some(entry) = state.keys.get_mut(key) else { continue };
            entry.changing = false;
            if let Some(subscribed) = now {
                entry.subscribed = subscribed;
                if entry.subscribed == entry.listeners.is_empty() {
                    again.push(key.clone());
                    resubscribe |= !subscribed;
                }
            }
            if entry.is_idle() {
                state.keys.remove(key);
            }
        }
        resubscribe
    }

    /// Reads pushed messages: every state goes to the key's watchers, a ready one settles its
    /// waiters. After a disconnection every key still waited for is subscribed again and read
    /// again, since its result may have been published while nobody listened.
    async fn dispatch_pushes(hub: std::sync::Weak<Hub>, mut pushes: mpsc::UnboundedReceiver<PushInfo>) {
        while let Some(push) = pushes.recv().await {
            let Some(hub) = hub.upgrade() else { return };
            match push.kind {
                PushKind::Message => {
                    let (Some(channel), Some(payload)) = (push.data.first(), push.data.get(1)) else { continue };
                    let (Ok(channel), Ok(payload)) = (
                        redis::from_redis_value_ref::<String>(channel),
                        redis::from_redis_value_ref::<Vec<u8>>(payload),
                    ) else {
                        continue;
                    };
                    if let Ok(meta) = ResultMeta::parse(&payload) {
                        hub.notify(&channel, &meta);
                    }
                }
                PushKind::Disconnection => {
                    hub.disconnected();
                    tokio::spawn(Hub::recover(hub.clone()));
                }
                _ => {}
            }
        }
    }

    /// The connection is gone, and its subscriptions with it.
    fn disconnected(&self) {
        let mut state = self.state.lock().unwrap();
        state.connection_generation += 1;
        state.keys.retain(|_, entry| {
            entry.subscribed = false;
            !entry.is_idle()
        });
    }

    /// The keys somebody waits for whose channel `pick` selects.
    fn waited_keys(&self, pick: impl Fn(&KeyState) -> bool) -> Vec<Key> {
        let state = self.state.lock().unwrap();
        state.keys.iter().filter(|(_, entry)| !entry.listeners.is_empty() && pick(entry)).map(|(key, _)| key.clone()).collect()
    }

    /// After a lost connection: subscribes every waited key again (retrying while the server is
    /// away, for up to five minutes), then reads them all once.
    async fn recover(hub: Arc<Hub>) {
        let started = SystemTime::now();
        let mut delay = Duration::from_millis(50);
        let mut retry = || {
            let wait = delay;
            delay = (delay * 2).min(Duration::from_secs(2));
            (started.elapsed().unwrap_or_default() < Duration::from_secs(300)).then_some(wait)
        };
        loop {
            let unsubscribed = hub.waited_keys(|entry| !entry.subscribed);
            if unsubscribed.is_empty() {
                break;
            }
            if !hub.subscribe_all(unsubscribed).await {
                let Some(wait) = retry() else { return };
                tokio::time::sleep(wait).await;
            }
        }
        loop {
            let keys = hub.waited_keys(|_| true);
            if keys.is_empty() {
                return;
            }
            let mut connection = hub.connection.clone();
            let names: Vec<&str> = keys.iter().map(|key| &**key).collect();
            match connection.mget::<_, Vec<Option<Vec<u8>>>>(&names).await {
                Ok(values) => {
                    for (key, value) in keys.iter().zip(values) {
                        if let Some(meta) =
                            value.and_then(|bytes| ResultMeta::parse(&bytes).ok()).filter(ResultMeta::is_ready)
                        {
                            hub.notify(key, &meta);
                        }
                    }
                    return;
                }
                Err(_) => {
                    let Some(wait) = retry() else { return };
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}
