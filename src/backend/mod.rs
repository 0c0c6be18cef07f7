//! Result backends: where task states are read (and, for workers, written). One file per kind.

pub mod amqp_legacy;
pub mod ready_queue;
pub mod redis;
pub mod rpc;

use crate::error::{CeleryError, Result};
use crate::protocol::ResultMeta;
use ready_queue::{Ready, ReadyQueue};

/// How a wait for a task's ready state ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitOutcome {
    Ready(ResultMeta),
    TimedOut,
    Cancelled,
}

/// The result backend a client reads from and a worker writes to.
// One per client, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ResultBackend {
    Redis(redis::RedisBackend),
    Rpc(rpc::RpcBackend),
    AmqpLegacy(amqp_legacy::AmqpLegacyBackend),
}

/// Batch waiting, for the backends that have it (Redis, rpc://): many `get()`s registered at
/// once, their ready states handed over in batches.
impl ResultBackend {
    /// Registers the tasks; with `read`, answers what is already there for each (see the
    /// backends' `register_ready`).
    pub async fn register_ready(&self, task_ids: Vec<String>, read: bool) -> Result<Option<Vec<Option<String>>>> {
        match self {
            Self::Redis(redis) => redis.register_ready(task_ids, read).await,
            Self::Rpc(rpc) => rpc.register_ready(task_ids, read).await,
            Self::AmqpLegacy(_) => Err(no_batch_waits()),
        }
    }

    pub fn cancel_ready(&self, task_ids: &[String]) -> Result<()> {
        match self {
            Self::Redis(redis) => redis.cancel_ready(task_ids),
            Self::Rpc(rpc) => rpc.cancel_ready(task_ids),
            Self::AmqpLegacy(_) => return Err(no_batch_waits()),
        }
        Ok(())
    }

    /// The ready states queued since the last call; `waiting`: how many tasks are waited for.
    pub async fn next_ready(&self, waiting: usize) -> Result<Vec<Ready>> {
        Ok(ready_queue::next_ready(self.ready_queue()?, waiting).await)
    }

    /// Makes a pending [`Self::next_ready`] answer now (with what it has, maybe nothing).
    pub fn wake_ready(&self) -> Result<()> {
        self.ready_queue()?.wake();
        Ok(())
    }

    fn ready_queue(&self) -> Result<&ReadyQueue> {
        match self {
            Self::Redis(redis) => Ok(&redis.ready),
            Self::Rpc(rpc) => Ok(&rpc.ready),
            Self::AmqpLegacy(_) => Err(no_batch_waits()),
        }
    }
}

fn no_batch_waits() -> CeleryError {
    CeleryError::InvalidOption { name: "backend".into(), reason: "batch waiting needs the Redis or rpc:// result backend".into() }
}
