//! Where batch waiters' ready states go (Redis, rpc://): one queue per backend, handed to JS in
//! batches by one pending call (`nextReady`) instead of a future and a Promise per `get()`.

use std::time::Duration;

use crate::batches::Batches;
use crate::protocol::ResultMeta;

/// A task id and its ready state.
pub type Ready = (String, ResultMeta);

pub type ReadyQueue = Batches<Ready>;

/// The ready states queued since the last call, gathered for a while first when `waiting`
/// `get()`s wait (see [`gather_window`]).
pub async fn next_ready(queue: &ReadyQueue, waiting: usize) -> Vec<Ready> {
    queue.next(gather_window(waiting), |_| false).await
}

/// How long a handover of ready states gathers more when `waiting` `get()`s wait: nothing for
/// a few (each state goes at once), then [`GATHER_PER_WAITER`] each, up to [`GATHER_AT_MOST`].
/// Many waiters mean a stream of results, where one handover per window instead of one per
/// result spares a wakeup of the JS thread, and what JS does next (publish, register) comes in
/// batches too; the delay stays small beside the time such a backlog takes anyway.
fn gather_window(waiting: usize) -> Option<Duration> {
    let window = GATHER_PER_WAITER.saturating_mul(u32::try_from(waiting).unwrap_or(u32::MAX)).min(GATHER_AT_MOST);
    (window >= GATHER_AT_LEAST).then_some(window)
}

const GATHER_PER_WAITER: Duration = Duration::from_micros(50);
const GATHER_AT_MOST: Duration = Duration::from_millis(10);
/// The timer's resolution: a shorter window would wait this long anyway.
const GATHER_AT_LEAST: Duration = Duration::from_millis(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_waiters_get_each_state_at_once_many_share_a_window() {
        assert_eq!(gather_window(0), None);
        assert_eq!(gather_window(19), None);
        assert_eq!(gather_window(20), Some(Duration::from_millis(1)));
        assert_eq!(gather_window(100), Some(Duration::from_millis(5)));
        assert_eq!(gather_window(200), Some(GATHER_AT_MOST));
        assert_eq!(gather_window(usize::MAX), Some(GATHER_AT_MOST));
    }
}
