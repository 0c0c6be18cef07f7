//! Result backends: where task states are read (and, for workers, written). One file per kind.

pub mod amqp_legacy;
pub mod redis;
pub mod rpc;

use crate::protocol::ResultMeta;

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
